"""What a writer may see: an agent's private :class:`Observation`, or the omniscient :class:`State`.

These are the only inputs prompt builders receive, so isolation is a property of the
data, not of the prompt: an Observation holds the agent's own facts and the messages
delivered to it, and nothing else.

Both carry ``dtype = object``. PettingZoo's ``api_test`` compares an observation's
``dtype`` with its space's; a plain ``str`` has none, and gymnasium's ``Text`` space
only admits a fixed charset while model output is any Unicode. So privy's observation
is a typed object with numpy's dtype for Python objects, and its space
(:class:`simulator.spaces.ObservationSpace`) declares the same dtype.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from simulator.bus import Action, Message
from simulator.scenario import AgentSpec, Fact, Scenario, Task


class Observation(BaseModel):
    """One agent's private view at one moment."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    dtype: ClassVar[np.dtype] = np.dtype(object)

    agent: AgentSpec
    turn: int
    context: str
    names: dict[str, str]  # public: agent id -> display name
    neighbours: frozenset[str]
    facts: tuple[Fact, ...]  # only the facts this agent holds
    messages: tuple[Message, ...]  # only messages this agent sent or received
    task: Task


class State(BaseModel):
    """The omniscient view: every agent's facts and goals, every message."""

    model_config = ConfigDict(frozen=True)
    dtype: ClassVar[np.dtype] = np.dtype(object)

    scenario: Scenario
    turn: int
    messages: tuple[Message, ...]
    commitments: dict[str, Action]
