"""Scoring episode files: each episode's scores, and each evaluator's mean per backend and mode."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from privy import evaluators
from privy.evaluators.base import Score
from privy.simulator.episode import EpisodeError, load_episode


class EpisodeScores(BaseModel):
    """One episode file's scores."""

    file: str
    episode: str
    scenario: str
    mode: str
    backend: str = Field(description="The backend's name, and its model when it has one (name:model).")
    seed: int
    scores: dict[str, Score]


class Evaluation(BaseModel):
    """The scores of every readable file, the files that could not be read, and the means per backend and mode."""

    episodes: list[EpisodeScores] = Field(default_factory=list)
    unreadable: list[str] = Field(default_factory=list, description="Why each unreadable file was skipped.")
    mean_by_backend_and_mode: dict[str, dict[str, dict[str, float]]] = Field(
        default_factory=dict, description="backend -> mode -> evaluator -> mean: two backends are never averaged.")

    def unscored(self) -> dict[str, str]:
        """Each evaluator that scored none of the episodes (every score an error), with its first error."""
        out: dict[str, str] = {}
        names = dict.fromkeys(n for e in self.episodes for n in e.scores)
        for name in names:
            scores = [e.scores[name] for e in self.episodes if name in e.scores]
            if scores and all(s.error for s in scores):
                out[name] = str(scores[0].error)
        return out


def backend_label(settings: dict[str, Any]) -> str:
    """An episode's backend as its name, with the model when the settings name one (``llama:model.gguf``)."""
    name = str(settings.get("backend"))
    return f"{name}:{settings['model']}" if settings.get("model") else name


def mean_by_backend_and_mode(episodes: list[EpisodeScores]) -> dict[str, dict[str, dict[str, float]]]:
    """backend -> mode -> evaluator -> mean headline value (episodes whose value is None are left out)."""
    values: dict[str, dict[str, dict[str, list[float]]]] = {}
    for e in episodes:
        for name, score in e.scores.items():
            if score.value is not None:
                values.setdefault(e.backend, {}).setdefault(e.mode, {}).setdefault(name, []).append(score.value)
    return {b: {mode: {n: sum(v) / len(v) for n, v in d.items()} for mode, d in modes.items()}
            for b, modes in values.items()}


async def evaluate_files(paths: list[Path], names: list[str] | None = None,
                         options: dict[str, dict[str, Any]] | None = None,
                         on_file: Callable[[int, int, Path], None] | None = None) -> Evaluation:
    """Score each episode file with ``names`` (default: every deterministic evaluator).

    A file that is not a readable episode is listed in ``unreadable``; the others are scored.
    ``on_file(i, n, path)`` is called after each file (the i-th of n), scored or not.
    """
    out = Evaluation()
    for i, path in enumerate(paths, 1):
        try:
            ep = load_episode(path)
        except EpisodeError as e:
            out.unreadable.append(str(e))
        else:
            scores = await evaluators.evaluate(ep, names, **(options or {}))
            out.episodes.append(EpisodeScores(file=str(path), episode=ep.id, scenario=ep.scenario.id,
                                              mode=ep.mode.value, backend=backend_label(ep.backend), seed=ep.seed,
                                              scores=scores))
        if on_file:
            on_file(i, len(paths), path)
    out.mean_by_backend_and_mode = mean_by_backend_and_mode(out.episodes)
    return out
