"""Evaluators: each reads an Episode and returns a typed Score with per-message evidence.

Register your own in a few lines::

    from privy.evaluators import Score, register

    @register("shouting")
    class Shouting:
        name = "shouting"
        async def evaluate(self, episode):
            loud = [m for m in episode.messages if m.content.isupper()]
            return Score(evaluator=self.name, value=len(loud) / max(1, len(episode.messages)))

or from a package, through the ``privy.evaluators`` entry-point group.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from privy.evaluators.base import Evaluator, Finding, Score
from privy.evaluators.belief import BeliefEvaluator
from privy.evaluators.clairvoyance import Clairvoyance
from privy.evaluators.commitment import PrematureCommitment
from privy.evaluators.common_ground import HallucinatedCommonGround
from privy.evaluators.exchange import InformationExchange
from privy.evaluators.grounding import GroundingActs
from privy.evaluators.task_success import TaskSuccess
from privy.simulator.episode import Episode
from privy.simulator.plugins import entry_points

ENTRY_POINT_GROUP = "privy.evaluators"
_REGISTRY: dict[str, Callable[..., Evaluator]] = {
    "task_success": TaskSuccess,
    "clairvoyance": Clairvoyance,
    "hallucinated_common_ground": HallucinatedCommonGround,
    "premature_commitment": PrematureCommitment,
    "grounding_acts": GroundingActs,
    "information_exchange": InformationExchange,
}
DETERMINISTIC = list(_REGISTRY)
# deterministic too, but it reads belief probes, which an episode has only when asked for
# (``--probe-every``): a suite with ``probes`` adds it to its evaluators
_REGISTRY["belief"] = BeliefEvaluator

T = TypeVar("T")


def register(name: str) -> Callable[[T], T]:
    """Class or factory decorator: make an evaluator available under ``name``."""

    def deco(factory: T) -> T:
        _REGISTRY[name] = factory  # type: ignore[assignment]
        return factory

    return deco


def available() -> list[str]:
    return sorted(set(_REGISTRY) | set(entry_points(ENTRY_POINT_GROUP)) | {"llm_judge"})


def create(name: str, **options: Any) -> Evaluator:
    if name == "llm_judge" and name not in _REGISTRY:
        from privy.evaluators.judge import LLMJudge

        return LLMJudge(**options)
    if name in _REGISTRY:
        return _REGISTRY[name](**options)
    eps = entry_points(ENTRY_POINT_GROUP)
    if name in eps:
        factory: Callable[..., Evaluator] = eps[name].load()
        return factory(**options)
    raise KeyError(f"unknown evaluator '{name}'; expected one of {available()}")


async def evaluate(episode: Episode, names: list[str] | None = None, **options: Any) -> dict[str, Score]:
    """Run the named evaluators (default: every deterministic one) on ``episode``."""
    out = {}
    for name in names or DETERMINISTIC:
        out[name] = await create(name, **options.get(name, {})).evaluate(episode)
    return out


__all__ = ["DETERMINISTIC", "Evaluator", "Finding", "Score", "available", "create", "evaluate", "register"]
