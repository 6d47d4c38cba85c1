"""A fake model for fast offline tests: scripted outputs, a callable, or a fixed reply.

Every request it receives is kept in ``requests``, so tests can check exactly what a
model would have been sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from privy.simulator.backends.base import ChatRequest, Completion


class MockBackend:
    """Replies from ``outputs`` in order (then repeats the last), or from ``respond(request)``."""

    name = "mock"

    def __init__(
        self,
        outputs: Iterable[str] | None = None,
        respond: Callable[[ChatRequest], str] | None = None,
    ) -> None:
        self._outputs = list(outputs) if outputs is not None else ["Hello."]
        self._respond = respond
        self.requests: list[ChatRequest] = []

    def settings(self) -> dict[str, Any]:
        return {"backend": self.name}

    async def complete(self, request: ChatRequest) -> Completion:
        self.requests.append(request)
        if self._respond is not None:
            text = self._respond(request)
        else:
            i = min(len(self.requests) - 1, len(self._outputs) - 1)
            text = self._outputs[i]
        return Completion(text=text, prompt_tokens=len(request.prompt_text().split()),
                          completion_tokens=len(text.split()), finish_reason="stop")
