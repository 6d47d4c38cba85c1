"""What a writer may see: an agent's private :class:`Observation`, or the omniscient :class:`State`.

These are the only inputs prompt builders receive, so isolation is a property of the
data, not of the prompt: an Observation holds the agent's own facts and the messages
delivered to it, and nothing else. In ``mindreaders`` mode an agent's writer sees a
:class:`Mindreading` (:func:`mindread` of the State): every agent's facts and every
message, from that agent's seat, but not the task's answer.

Both carry ``dtype = object``. PettingZoo's ``api_test`` compares an observation's
``dtype`` with its space's; a plain ``str`` has none, and gymnasium's ``Text`` space
only admits a fixed charset while model output is any Unicode. So privy's observation
is a typed object with numpy's dtype for Python objects, and its space
(:class:`privy.simulator.spaces.ObservationSpace`) declares the same dtype.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator

from privy.simulator.bus import Action, Message, build_graph
from privy.simulator.scenario import AgentSpec, Commitment, Fact, Scenario
from privy.simulator.trusted import constructor


class PublicTask(BaseModel):
    """The part of the task every participant is told: its kind, how to commit, the options.

    The ground truth (``answer``) and the ids of the facts that determine it
    (``needed_facts``, which name other agents' facts) are not in it; they stay in the
    omniscient :class:`State`. Built from a :class:`~privy.simulator.scenario.Task` by
    ``PublicTask.model_validate(task)`` (or by passing a Task where one is expected).
    """

    model_config = ConfigDict(frozen=True, from_attributes=True)

    kind: Literal["select", "decide", "answer", "deal"]
    commitment: Commitment
    options: list[str] = []
    committers: list[str] = []
    deal_items: dict[str, int] = {}  # public counts only; the values stay private
    ends_when: Literal["all_committed", "any_committed"] = "all_committed"

    @model_validator(mode="before")
    @classmethod
    def _from_task(cls, data: Any) -> Any:
        deal = getattr(data, "deal", None)
        if deal is not None:
            fields = {k: getattr(data, k) for k in ("kind", "commitment", "options", "committers", "ends_when")}
            return {**fields, "deal_items": dict(deal.items)}
        return data


class Observation(BaseModel):
    """One agent's private view at one moment."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    dtype: ClassVar[np.dtype] = np.dtype(object)

    agent: AgentSpec
    turn: int
    family: str = "custom"  # public: the scenario family (baseline policies dispatch on it)
    context: str
    names: dict[str, str]  # public: agent id -> display name
    neighbours: frozenset[str]
    facts: tuple[Fact, ...]  # only the facts this agent holds
    messages: tuple[Message, ...]  # only messages this agent sent or received
    task: PublicTask  # no answer, no needed_facts
    max_turns: int | None = None  # public: the turn limit (messages in total), for the turns left
    commit_after: int = 0  # public: messages a committer sends before it may commit (limits.commit_after)


class State(BaseModel):
    """The omniscient view: every agent's facts and goals, every message."""

    model_config = ConfigDict(frozen=True)
    dtype: ClassVar[np.dtype] = np.dtype(object)

    scenario: Scenario
    turn: int
    messages: tuple[Message, ...]
    commitments: dict[str, Action]


class Mindreading(BaseModel):
    """What one agent's writer sees in ``mindreaders`` mode: its own role, and everyone's information.

    Every agent's persona, goal and facts, and every message (delivered to this agent or
    not), as the mindreader prompt states them; the task as everyone is told it (no
    ``answer``, no ``needed_facts``). Built from the State by :func:`mindread`. The parts an
    Observation also has carry the same names (``agent``, ``names``, ``neighbours``, ``task``),
    so a move is read the same way from either.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    agent: AgentSpec  # the agent whose turns this writer writes
    turn: int
    family: str = "custom"
    context: str
    names: dict[str, str]
    neighbours: frozenset[str]  # whom this agent may write to
    agents: tuple[AgentSpec, ...]  # every agent, in the scenario's order (personas, goals)
    facts: dict[str, tuple[Fact, ...]]  # agent id -> the facts it holds (a shared fact under each holder)
    messages: tuple[Message, ...]  # every message, in order
    task: PublicTask
    max_turns: int | None = None
    commit_after: int = 0  # public: messages a committer sends before it may commit (limits.commit_after)

    def holders(self, fact: Fact) -> list[str]:
        """The agents that hold ``fact``, in the scenario's order."""
        return [a.id for a in self.agents if fact in self.facts[a.id]]

    def delivered(self, m: Message) -> bool:
        """Whether ``m`` reached this agent (its own or addressed to it), not only read over others' shoulders."""
        return m.visible_to(self.agent.id)


_mindreading = constructor(Mindreading)
_PUBLIC: dict[int, tuple[Scenario, PublicTask, dict[str, str], dict[str, frozenset[str]]]] = {}


def public_parts(s: Scenario) -> tuple[PublicTask, dict[str, str], dict[str, frozenset[str]]]:
    """A scenario's public task, names and out-neighbours (memoised per scenario object)."""
    hit = _PUBLIC.get(id(s))
    if hit is None or hit[0] is not s:
        g = build_graph(s)
        if len(_PUBLIC) > 64:
            _PUBLIC.clear()
        hit = _PUBLIC[id(s)] = (s, PublicTask.model_validate(s.task), {a.id: a.name for a in s.agents},
                                {a: frozenset(g.successors(a)) for a in s.agent_ids})
    return hit[1], hit[2], hit[3]


def mindread(state: State, agent: str) -> Mindreading:
    """``agent``'s writer's view in ``mindreaders`` mode, from the omniscient ``state``.

    The one source of the mindreader prompt (:func:`privy.simulator.prompts.mindreader_prompt`)
    and of what a person at that seat is shown.
    """
    return read_by(state.scenario, state.messages, agent, state.turn)


def read_by(scenario: Scenario, messages: tuple[Message, ...], agent: str, turn: int) -> Mindreading:
    """``agent``'s Mindreading when ``messages`` were all there was and turn ``turn`` began (an episode's log)."""
    s = scenario
    task, names, neighbours = public_parts(s)
    # trusted: every part comes from a validated Scenario and the bus's messages
    return _mindreading(
        agent=s.agent(agent), turn=turn, family=s.family, context=s.context, names=dict(names),
        neighbours=neighbours[agent], agents=tuple(s.agents), facts={a.id: tuple(s.facts_of(a.id)) for a in s.agents},
        messages=messages, task=task, max_turns=s.limits.max_turns, commit_after=s.limits.commit_after,
    )


def seen_by(scenario: Scenario, messages: Iterable[Message], agent: str, turn: int | None = None) -> Observation:
    """What ``agent`` had seen when turn ``turn`` began (at the end if None), rebuilt from an episode's log.

    The same Observation the environment gave the agent then: its own spec and facts, the
    public task, and the messages it sent or received before ``turn``; never the outcome,
    another agent's facts or the answer.
    """
    seen = []
    end = 0  # the turn after the last message, where the episode stopped
    for m in messages:
        if turn is not None and m.turn >= turn:
            break
        end = m.turn + 1
        if m.visible_to(agent):
            seen.append(m)
    return Observation(
        agent=scenario.agent(agent), turn=end if turn is None else turn, family=scenario.family,
        context=scenario.context, names={a.id: a.name for a in scenario.agents},
        neighbours=frozenset(build_graph(scenario).successors(agent)), facts=tuple(scenario.facts_of(agent)),
        messages=tuple(seen), task=PublicTask.model_validate(scenario.task), max_turns=scenario.limits.max_turns,
        commit_after=scenario.limits.commit_after,
    )
