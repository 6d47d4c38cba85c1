"""A concurrency limit per backend: many episodes in flight share one endpoint."""

from __future__ import annotations

import asyncio
from typing import Any

from privy.simulator.backends.base import Backend, ChatRequest, Completion


class LimitedBackend:
    """At most ``max_concurrent`` calls of ``inner`` at once, across every episode using it."""

    def __init__(self, inner: Backend, max_concurrent: int) -> None:
        if max_concurrent < 1:
            raise ValueError(f"max_concurrent must be at least 1, got {max_concurrent}")
        self.inner = inner
        self.name = inner.name
        self.max_concurrent = max_concurrent
        self._semaphores: dict[int, asyncio.Semaphore] = {}
        self.in_flight = 0
        self.peak = 0

    def settings(self) -> dict[str, Any]:
        return {**self.inner.settings(), "max_concurrent": self.max_concurrent}

    def _semaphore(self) -> asyncio.Semaphore:
        # one per event loop: a semaphore is bound to the loop it is first used in
        loop = id(asyncio.get_running_loop())
        if loop not in self._semaphores:
            self._semaphores = {loop: asyncio.Semaphore(self.max_concurrent)}  # drop finished loops
        return self._semaphores[loop]

    async def complete(self, request: ChatRequest) -> Completion:
        async with self._semaphore():
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            try:
                return await self.inner.complete(request)
            finally:
                self.in_flight -= 1
