"""What every evaluator returns: a typed score with per-message evidence.

An evaluator reads an :class:`~privy.simulator.episode.Episode` and returns a :class:`Score`.
Each :class:`Finding` names the message, the fact and the reason, so every number can
be checked against the transcript.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pydantic import BaseModel, Field

from privy.simulator.episode import Episode


class Finding(BaseModel):
    """One piece of evidence: what was found, where, and why."""

    kind: str = Field(description="e.g. clairvoyance, hallucinated_common_ground, question")
    message_id: int | None = Field(default=None, description="Index of the message in the episode.")
    agent: str | None = None
    fact_id: str | None = None
    reason: str


class Score(BaseModel):
    """An evaluator's result for one episode."""

    evaluator: str
    value: float | None = Field(description="The headline number (see ``metrics`` for the rest).")
    metrics: dict[str, float | None] = Field(default_factory=dict)
    findings: list[Finding] = Field(default_factory=list)
    error: str | None = Field(default=None, description="Why no value could be computed, if so.")


@runtime_checkable
class Evaluator(Protocol):
    """Anything with a name and an async ``evaluate``."""

    name: str

    async def evaluate(self, episode: Episode) -> Score: ...
