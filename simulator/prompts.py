"""Prompt builders: one per mode, each a pure function of the view it is given.

``agent_prompt`` takes an :class:`Observation` and nothing else, so an ``agents``-mode
prompt cannot contain what the observation does not. The other builders take the
omniscient :class:`State` on purpose.

Each agent's prompt extends its previous one (system text first, then the
conversation in order, then a short cue), so servers with prefix caching can reuse it.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Literal

from privy.simulator.backends.base import ChatMessage
from privy.simulator.bus import Message
from privy.simulator.moves import Moves, cue, describe, observed_moves, state_moves
from privy.simulator.scenario import AgentSpec, Fact, Scenario
from privy.simulator.trusted import constructor
from privy.simulator.views import Observation, State, mindread

_line = constructor(ChatMessage)  # a message's content is a str already: no need to validate it


@functools.lru_cache(maxsize=8192)
def _chat(role: Literal["user", "assistant"], content: str) -> ChatMessage:
    """One conversation line, shared by every prompt that repeats it.

    A prompt repeats the whole conversation so far, so without sharing, the episode log
    would hold every line once per later turn: quadratic in the turns, in time and memory.
    ChatMessage is frozen, so sharing is safe.
    """
    return _line(role=role, content=content)


def _addressed(m: Message, names: dict[str, str], to_all: dict[str, frozenset[str]]) -> str:
    """`` (to A, B)`` unless ``m`` went to everyone else (``to_all[sender]``)."""
    if m.recipients == to_all.get(m.sender):
        return ""
    return " (to " + ", ".join(names[r] for r in sorted(m.recipients)) + ")"


def _agent_system(obs: Observation, moves: Moves) -> ChatMessage:
    me = obs.agent
    facts = "\n".join(f"- {f.text}" for f in obs.facts) or "- (none)"
    return ChatMessage(role="system", content=(
        f"You are {me.name}. {me.persona}\n"
        f"Situation: {obs.context}\n"
        f"Your private goal: {me.goal}\n"
        f"What you know (private; the others cannot see it unless you say it):\n{facts}\n"
        f"{describe(moves)}"
    ))


def _agent_line(obs: Observation, m: Message, to_all: dict[str, frozenset[str]]) -> ChatMessage:
    if m.sender == obs.agent.id:
        return _line(role="assistant", content=_own(m, obs.neighbours, obs.names))
    return _line(role="user", content=f"{obs.names[m.sender]}{_addressed(m, obs.names, to_all)}: {m.content}")


def _own(m: Message, neighbours: frozenset[str], names: dict[str, str]) -> str:
    """An agent's own message as it wrote the move: with its ``TO`` address when it was addressed."""
    if not m.recipients or m.recipients == neighbours:
        return m.content
    return "TO " + ", ".join(names[r] for r in sorted(m.recipients)) + ": " + m.content


def _to_all(obs: Observation) -> dict[str, frozenset[str]]:
    everyone = frozenset(obs.names)
    return {a: everyone - {a} for a in everyone}


@functools.lru_cache(maxsize=1024)
def _cue(text: str) -> ChatMessage:
    return ChatMessage(role="user", content=text)


def agent_prompt(obs: Observation, moves: Moves | None = None) -> list[ChatMessage]:
    """The chat an agent's model sees in ``agents`` mode: its own view only.

    ``moves``: its legal moves (default: :func:`observed_moves` of ``obs``; a caller passes
    them when it has them already).
    """
    moves = moves or observed_moves(obs)
    to_all = _to_all(obs)  # once per prompt, not once per message
    return [_agent_system(obs, moves), *[_agent_line(obs, m, to_all) for m in obs.messages], _cue(cue(moves))]


class AgentPrompts:
    """``agent_prompt``, built incrementally over an episode: equal output, linear cost.

    An agent's inbox only grows, so its next prompt is its previous one plus a line per
    new message. Each agent's built lines are kept with the Observation parts they came
    from; a call whose Observation does not extend them (another agent's data, an edited
    inbox) is built from scratch. Like ``agent_prompt``, it reads the Observation only.
    """

    def __init__(self) -> None:
        self._built: dict[str, _Built] = {}

    def __call__(self, obs: Observation, moves: Moves | None = None) -> tuple[ChatMessage, ...]:
        moves = moves or observed_moves(obs)
        b = self._built.get(obs.agent.id)
        if b is None or not b.extends(obs):
            b = self._built[obs.agent.id] = _Built(obs, moves)
        n = len(b.messages)
        if len(obs.messages) > n:
            lines, to_all = b.lines, b.to_all
            for m in obs.messages[n:]:
                lines.append(_agent_line(obs, m, to_all))
            b.messages = obs.messages
        return (*b.lines, _cue(cue(moves)))


_Head = tuple[ChatMessage, dict[str, frozenset[str]]]
_HEADS: OrderedDict[tuple[object, ...], tuple[tuple[object, ...], _Head]] = OrderedDict()


def _head(obs: Observation, moves: Moves) -> _Head:
    """An agent's system line and ``to_all``: the same for every episode of a scenario.

    Memoised on the Observation's parts (by identity for the environment's shared objects,
    by value for the rest); the entry holds those objects, so no id is reused while it lives.
    """
    parts = (obs.agent, obs.facts, obs.task)
    key = (*map(id, parts), obs.context, obs.neighbours, *obs.names.items())
    hit = _HEADS.get(key)
    if hit is not None:
        _HEADS.move_to_end(key)
        return hit[1]
    head = (_agent_system(obs, moves), _to_all(obs))
    _HEADS[key] = (parts, head)
    if len(_HEADS) > 256:
        _HEADS.popitem(last=False)
    return head


class _Built:
    """One agent's prompt so far and what it was built from."""

    __slots__ = ("agent", "names", "neighbours", "facts", "context", "task", "to_all", "lines", "messages")

    def __init__(self, obs: Observation, moves: Moves) -> None:
        self.agent, self.names, self.facts = obs.agent, obs.names, obs.facts
        self.context, self.task, self.neighbours = obs.context, obs.task, obs.neighbours
        system, self.to_all = _head(obs, moves)
        self.lines = [system]
        self.messages: tuple[Message, ...] = ()

    def extends(self, obs: Observation) -> bool:
        """Same agent, facts, names, context and task, and an inbox that starts with ours."""
        n = len(self.messages)
        return ((obs.agent is self.agent or obs.agent == self.agent)
                and (obs.facts is self.facts or obs.facts == self.facts)
                and (obs.names is self.names or obs.names == self.names)
                and obs.context == self.context and obs.neighbours == self.neighbours
                and (obs.task is self.task or obs.task == self.task)
                and len(obs.messages) >= n and obs.messages[:n] == self.messages)


def _everything(s: Scenario) -> str:
    return _everyone(s.context, s.agents, {a.id: s.facts_of(a.id) for a in s.agents})


def _everyone(context: str, agents: Sequence[AgentSpec], facts: Mapping[str, Sequence[Fact]]) -> str:
    """Every agent's persona, goal and facts, each fact under its holder's name."""
    lines = [f"Situation: {context}"]
    for a in agents:
        lines.append(f"{a.name}: {a.persona} Goal: {a.goal}")
        lines += [f"  - {a.name} knows: {f.text}" for f in facts[a.id]]
    return "\n".join(lines)


def _transcript(s: Scenario, messages: tuple[Message, ...]) -> str:
    names = {a.id: a.name for a in s.agents}
    to_all = {a: frozenset(names) - {a} for a in names}
    return "\n".join(f"{names[m.sender]}{_addressed(m, names, to_all)}: {m.content}" for m in messages) \
        or "(nothing yet)"


def mindreader_prompt(state: State, agent: str, moves: Moves | None = None) -> list[ChatMessage]:
    """One agent's model in ``mindreaders`` mode: its own role, everyone's information.

    Built from :func:`~privy.simulator.views.mindread` of ``state`` alone, the view a person
    at that seat is shown.
    """
    view = mindread(state, agent)
    me = view.agent
    moves = moves or state_moves(state, agent)
    system = (
        f"You are {me.name}. {me.persona}\n"
        f"You know everything below, including what the others know privately.\n"
        f"{_everyone(view.context, view.agents, view.facts)}\n{describe(moves)}"
    )
    names = view.names
    to_all = {a: frozenset(names) - {a} for a in names}
    mine = frozenset(n for n, _ in moves.neighbours)
    chat = [ChatMessage(role="system", content=system)]
    for m in view.messages:
        if m.sender == agent:
            chat.append(_chat("assistant", _own(m, mine, names)))
        else:
            chat.append(_chat("user", f"{names[m.sender]}{_addressed(m, names, to_all)}: {m.content}"))
    chat.append(_cue(cue(moves)))
    return chat


def omniscient_prompt(state: State, agent: str, moves: Moves | None = None) -> list[ChatMessage]:
    """The single controller in ``omniscient`` mode, writing ``agent``'s next turn."""
    s = state.scenario
    moves = moves or state_moves(state, agent)
    system = (
        "You write a conversation between several people. You know everything each of them "
        f"knows.\n{_everything(s)}"
    )
    user = (
        f"Conversation so far:\n{_transcript(s, state.messages)}\n\n"
        f"{describe(moves)}\n{cue(moves)} Write only {moves.name}'s next message, without the name label."
    )
    return [ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)]


def script_prompt(state: State, turns: list[Moves] | None = None) -> list[ChatMessage]:
    """The single generation of ``script`` mode: the whole dialogue at once.

    ``turns``: each turn's moves, in turn order (default: round robin up to the turn limit).
    """
    s = state.scenario
    turns = turns or script_turns(state)
    names = [a.name for a in s.agents]
    system = (
        "You write a whole conversation between several people. You know everything each "
        f"of them knows.\n{_everything(s)}"
    )
    rules: dict[str, str] = {}
    for m in turns:
        rules.setdefault(m.agent, describe(m))
    user = (
        "\n".join(rules.values()) + "\n"
        f"Write the full conversation, at most {s.limits.max_turns} lines, taking turns in "
        f"this order: {', '.join(names)}. Write every line as 'Name: message'. Before the lines run out, "
        "everyone who commits writes their commitment line."
    )
    return [ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)]


def script_turns(state: State, max_tokens: int = 160) -> list[Moves]:
    """Each turn's moves in a script: round robin from the state's turn up to the turn limit.

    A committer's last line must be its commitment, as in the turn-by-turn modes; its
    earlier lines in the script count as sent (``limits.commit_after``).
    """
    s = state.scenario
    ids = s.agent_ids
    out = []
    lines = dict.fromkeys(ids, 0)
    for t in range(state.turn, s.limits.max_turns):
        me = ids[t % len(ids)]
        out.append(state_moves(state, me, turn=t, max_tokens=max_tokens, planned=lines[me]))
        lines[me] += 1
    return out
