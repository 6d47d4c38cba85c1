"""Backend errors: transient ones are retried, permanent ones fail at once.

Backends translate their SDK's exceptions into these, so the retry wrapper needs to
know nothing about any SDK.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class Attempt(BaseModel):
    """One failed try of a model call, as recorded in the episode log."""

    attempt: int
    error: str
    wait_s: float


class BackendError(RuntimeError):
    """A backend is unknown, cannot be imported, or a call failed for good.

    ``attempts`` lists the failed tries that came before, if the call was retried.
    """

    def __init__(self, message: str, attempts: list[Attempt] | None = None) -> None:
        super().__init__(message)
        self.attempts: list[Attempt] = list(attempts or [])


class TransientError(BackendError):
    """Worth retrying: rate limit, server error, timeout, dropped connection, garbage reply."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(BackendError):
    """Not worth retrying: bad request, bad credentials, no such model or endpoint."""


class EpisodeStopped(PermanentError):
    """Not a failure: the writer stopped the episode (a person at a human seat pressed Ctrl-C, or left).

    The runner ends the episode with ``ended_by`` = ``reason`` instead of ``"error"``, keeping what was played.
    """

    def __init__(self, message: str, reason: Literal["interrupted", "left"]) -> None:
        super().__init__(message)
        self.reason: Literal["interrupted", "left"] = reason


def redact(text: str, secrets: list[str]) -> str:
    """Replace every secret (e.g. an API key) in ``text``."""
    for s in secrets:
        if s:
            text = text.replace(s, "[REDACTED]")
    return text
