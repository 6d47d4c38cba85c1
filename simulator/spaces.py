"""Gymnasium spaces for privy's text observations and message actions.

An action is an :class:`Utterance`: the text an agent sends and, optionally, to whom.
Sampling draws printable Unicode (not only ASCII) so that ``api_test``'s random play
exercises the same paths as model output.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.spaces import Space
from pydantic import BaseModel, ConfigDict

from privy.simulator.views import Observation

_SAMPLE_CHARS = list("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ0123456789.,?!:éßçøñ中文ü😀")


class Utterance(BaseModel):
    """An agent's action: a message, to its neighbours (``to=None``) or to some of them."""

    model_config = ConfigDict(frozen=True)
    content: str
    to: frozenset[str] | None = None


class UtteranceSpace(Space[Utterance]):
    """Any Unicode text, optionally addressed to a subset of the agent's neighbours."""

    _lazy_seed: int | None = None

    def __init__(self, neighbours: frozenset[str], max_length: int = 2_000, seed: int | None = None):
        self.neighbours = neighbours
        self.max_length = max_length
        super().__init__(shape=None, dtype=object, seed=seed)

    def seed(self, seed: int | None = None) -> int | Any:
        """Seed the sampler lazily: ``reset(seed=...)`` runs for every episode, sampling almost never.

        Making numpy's generator costs more than a whole turn of the environment; it is made
        from the same seed, so the samples are the same, when :attr:`np_random` is first read.
        """
        if isinstance(seed, int) and seed >= 0:
            self._np_random = None  # type: ignore[assignment]  # Space's own lazy state
            self._lazy_seed = seed
            return seed
        self._lazy_seed = None
        return super().seed(seed)

    @property
    def np_random(self) -> np.random.Generator:
        if self._np_random is None and self._lazy_seed is not None:
            super().seed(self._lazy_seed)
        return super().np_random

    def sample(self, mask: Any = None, probability: Any = None) -> Utterance:
        n = int(self.np_random.integers(1, 40))
        text = "".join(self.np_random.choice(np.array(_SAMPLE_CHARS, dtype=object), size=n))
        return Utterance(content=text)

    def contains(self, x: Any) -> bool:
        return (
            isinstance(x, Utterance)
            and len(x.content) <= self.max_length
            and (x.to is None or (bool(x.to) and x.to <= self.neighbours))
        )

    @property
    def is_np_flattenable(self) -> bool:
        return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UtteranceSpace) and other.neighbours == self.neighbours

    def __repr__(self) -> str:
        return f"UtteranceSpace(neighbours={sorted(self.neighbours)})"


class ObservationSpace(Space[Observation]):
    """The set of :class:`Observation` objects for one agent."""

    def __init__(self, agent: str, seed: int | None = None):
        self.agent = agent
        super().__init__(shape=None, dtype=object, seed=seed)

    def sample(self, mask: Any = None, probability: Any = None) -> Observation:
        raise NotImplementedError("observations are produced by the environment, not sampled")

    def contains(self, x: Any) -> bool:
        return isinstance(x, Observation) and x.agent.id == self.agent

    @property
    def is_np_flattenable(self) -> bool:
        return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ObservationSpace)

    def __repr__(self) -> str:
        return f"ObservationSpace(agent={self.agent!r})"
