"""Retries with exponential backoff and jitter (tenacity), honouring ``Retry-After``.

Only :class:`~privy.simulator.backends.errors.TransientError` is retried. Every failed try
is kept (attempt, error, wait) and handed to the episode log with the completion, or
with the final :class:`BackendError` when the call gives up.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, Field
from tenacity import AsyncRetrying, RetryCallState, RetryError, retry_if_exception_type

from privy.simulator.backends.base import Backend, ChatRequest, Completion
from privy.simulator.backends.errors import Attempt, BackendError, TransientError


class RetryPolicy(BaseModel):
    """How hard to try. Waits grow as ``initial_wait_s * 2**n`` plus jitter, capped."""

    max_attempts: int = Field(default=6, ge=1)
    max_total_s: float = Field(default=300.0, gt=0, description="Give up after this long in all.")
    initial_wait_s: float = Field(default=0.5, ge=0)
    max_wait_s: float = Field(default=30.0, ge=0)
    jitter_s: float = Field(default=0.5, ge=0, description="Uniform random extra wait, 0..jitter_s.")


class RetryingBackend:
    """Wraps a backend so transient failures are retried under ``policy``.

    ``clock`` (seconds) is what ``max_total_s`` is measured on and ``sleep`` how a wait is
    waited; tests pass a fake pair, to count attempts and waits exactly without waiting.
    """

    def __init__(
        self,
        inner: Backend,
        policy: RetryPolicy | None = None,
        seed: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.policy = policy or RetryPolicy()
        self._rng = random.Random(seed)
        self._clock = clock
        self._sleep = sleep

    def settings(self) -> dict[str, Any]:
        return {**self.inner.settings(), "retry": self.policy.model_dump()}

    def _wait(self, state: RetryCallState) -> float:
        p = self.policy
        backoff = min(p.max_wait_s, p.initial_wait_s * 2 ** (state.attempt_number - 1))
        wait = backoff + self._rng.uniform(0, p.jitter_s)
        err = state.outcome.exception() if state.outcome else None
        if isinstance(err, TransientError) and err.retry_after is not None:
            wait = max(wait, err.retry_after)  # the server said when; never come back sooner
        return wait

    async def complete(self, request: ChatRequest) -> Completion:
        attempts: list[Attempt] = []
        p = self.policy
        started = self._clock()

        def stop(state: RetryCallState) -> bool:
            # after max_attempts, or *before* a wait that would end past max_total_s (a long
            # Retry-After included), not after it: the budget is a bound on the whole call.
            # tenacity's stop_before_delay, on this backend's clock.
            return (state.attempt_number >= p.max_attempts
                    or self._clock() - started + state.upcoming_sleep >= p.max_total_s)

        def record(state: RetryCallState) -> None:
            err = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            attempts.append(Attempt(attempt=state.attempt_number, error=str(err), wait_s=round(wait, 3)))

        retrying = AsyncRetrying(
            sleep=self._sleep,
            stop=stop,
            wait=self._wait,
            retry=retry_if_exception_type(TransientError),
            before_sleep=record,
            reraise=False,
        )
        try:
            out: Completion = await retrying(self.inner.complete, request)
        except RetryError as gave_up:
            last = gave_up.last_attempt.exception()
            attempts.append(Attempt(attempt=gave_up.last_attempt.attempt_number, error=str(last), wait_s=0.0))
            spent = self._clock() - started
            raise BackendError(
                f"gave up after {len(attempts)} attempts in {spent:.1f}s; last error: {last}", attempts
            ) from last
        except BackendError as err:  # permanent: at once, with what came before
            err.attempts = attempts + err.attempts
            raise
        return out.model_copy(update={"attempts": attempts + out.attempts})
