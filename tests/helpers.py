"""Small helpers shared by test modules."""

from __future__ import annotations

from pathlib import Path

from simulator import Scenario, load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def short(path: Path | str, turns: int = 4, tokens: int = 40) -> Scenario:
    """A scenario file with lower turn and token limits, to keep real-model tests quick."""
    s = load_scenario(SCENARIOS / path if isinstance(path, str) else path)
    limits = s.limits.model_copy(update={"max_turns": turns, "max_tokens": tokens})
    return s.model_copy(update={"limits": limits})
