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
from typing import Literal

from privy.simulator.backends.base import ChatMessage
from privy.simulator.bus import Message
from privy.simulator.scenario import Scenario, Task
from privy.simulator.trusted import constructor
from privy.simulator.views import Observation, PublicTask, State


def _commit_rule(task: Task | PublicTask) -> str:
    verb = task.commitment.verb
    if task.kind == "decide":
        opts = ", ".join(task.options)
        return f"When the group is ready to decide, write a line '{verb}: <option>' (options: {opts})."
    if task.kind == "deal":
        items = task.deal.items if isinstance(task, Task) and task.deal else getattr(task, "deal_items", {})
        example = " ".join(f"{i}=<n>" for i in items)
        return (f"When you agree on a split, write a line '{verb}: {example}' with what YOU take "
                f"(items: {', '.join(f'{n} {i}' for i, n in items.items())}).")
    return f"When you are sure of the answer, write a line '{verb}: <answer>'."


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


def _agent_system(obs: Observation) -> ChatMessage:
    me = obs.agent
    others = ", ".join(n for a, n in obs.names.items() if a != me.id)
    facts = "\n".join(f"- {f.text}" for f in obs.facts) or "- (none)"
    return ChatMessage(role="system", content=(
        f"You are {me.name}. {me.persona}\n"
        f"You are talking with {others}. They cannot see your information unless you say it.\n"
        f"Situation: {obs.context}\n"
        f"Your private goal: {me.goal}\n"
        f"What you know (private):\n{facts}\n"
        f"{_commit_rule(obs.task)} Keep each message short."
    ))


def _agent_line(obs: Observation, m: Message, to_all: dict[str, frozenset[str]]) -> ChatMessage:
    if m.sender == obs.agent.id:
        return _line(role="assistant", content=m.content)
    return _line(role="user", content=f"{obs.names[m.sender]}{_addressed(m, obs.names, to_all)}: {m.content}")


def _to_all(obs: Observation) -> dict[str, frozenset[str]]:
    everyone = frozenset(obs.names)
    return {a: everyone - {a} for a in everyone}


def _cue(obs: Observation) -> ChatMessage:
    return ChatMessage(role="user", content=f"(Your turn, {obs.agent.name}. Write your message.)")


def agent_prompt(obs: Observation) -> list[ChatMessage]:
    """The chat an agent's model sees in ``agents`` mode: its own view only."""
    to_all = _to_all(obs)  # once per prompt, not once per message
    return [_agent_system(obs), *[_agent_line(obs, m, to_all) for m in obs.messages], _cue(obs)]


class AgentPrompts:
    """``agent_prompt``, built incrementally over an episode: equal output, linear cost.

    An agent's inbox only grows, so its next prompt is its previous one plus a line per
    new message. Each agent's built lines are kept with the Observation parts they came
    from; a call whose Observation does not extend them (another agent's data, an edited
    inbox) is built from scratch. Like ``agent_prompt``, it reads the Observation only.
    """

    def __init__(self) -> None:
        self._built: dict[str, _Built] = {}

    def __call__(self, obs: Observation) -> tuple[ChatMessage, ...]:
        b = self._built.get(obs.agent.id)
        if b is None or not b.extends(obs):
            b = self._built[obs.agent.id] = _Built(obs)
        n = len(b.messages)
        if len(obs.messages) > n:
            lines, to_all = b.lines, b.to_all
            for m in obs.messages[n:]:
                lines.append(_agent_line(obs, m, to_all))
            b.messages = obs.messages
        return (*b.lines, b.cue)


_Head = tuple[ChatMessage, ChatMessage, dict[str, frozenset[str]]]
_HEADS: OrderedDict[tuple[object, ...], tuple[tuple[object, ...], _Head]] = OrderedDict()


def _head(obs: Observation) -> _Head:
    """An agent's system line, turn cue and ``to_all``: the same for every episode of a scenario.

    Memoised on the Observation's parts (by identity for the environment's shared objects,
    by value for the rest); the entry holds those objects, so no id is reused while it lives.
    """
    parts = (obs.agent, obs.facts, obs.task)
    key = (*map(id, parts), obs.context, *obs.names.items())
    hit = _HEADS.get(key)
    if hit is not None:
        _HEADS.move_to_end(key)
        return hit[1]
    head = (_agent_system(obs), _cue(obs), _to_all(obs))
    _HEADS[key] = (parts, head)
    if len(_HEADS) > 256:
        _HEADS.popitem(last=False)
    return head


class _Built:
    """One agent's prompt so far and what it was built from."""

    __slots__ = ("agent", "names", "facts", "context", "task", "to_all", "lines", "cue", "messages")

    def __init__(self, obs: Observation) -> None:
        self.agent, self.names, self.facts = obs.agent, obs.names, obs.facts
        self.context, self.task = obs.context, obs.task
        system, self.cue, self.to_all = _head(obs)
        self.lines = [system]
        self.messages: tuple[Message, ...] = ()

    def extends(self, obs: Observation) -> bool:
        """Same agent, facts, names, context and task, and an inbox that starts with ours."""
        n = len(self.messages)
        return ((obs.agent is self.agent or obs.agent == self.agent)
                and (obs.facts is self.facts or obs.facts == self.facts)
                and (obs.names is self.names or obs.names == self.names)
                and obs.context == self.context
                and (obs.task is self.task or obs.task == self.task)
                and len(obs.messages) >= n and obs.messages[:n] == self.messages)


def _everything(s: Scenario) -> str:
    lines = [f"Situation: {s.context}"]
    for a in s.agents:
        lines.append(f"{a.name}: {a.persona} Goal: {a.goal}")
        lines += [f"  - {a.name} knows: {f.text}" for f in s.facts_of(a.id)]
    return "\n".join(lines)


def _transcript(s: Scenario, messages: tuple[Message, ...]) -> str:
    names = {a.id: a.name for a in s.agents}
    return "\n".join(f"{names[m.sender]}: {m.content}" for m in messages) or "(nothing yet)"


def mindreader_prompt(state: State, agent: str) -> list[ChatMessage]:
    """One agent's model in ``mindreaders`` mode: its own role, everyone's information."""
    s = state.scenario
    me = s.agent(agent)
    system = (
        f"You are {me.name}. {me.persona}\n"
        f"You know everything below, including what the others know privately.\n"
        f"{_everything(s)}\n{_commit_rule(s.task)} Keep each message short."
    )
    names = {a.id: a.name for a in s.agents}
    chat = [ChatMessage(role="system", content=system)]
    for m in state.messages:
        if m.sender == agent:
            chat.append(_chat("assistant", m.content))
        else:
            chat.append(_chat("user", f"{names[m.sender]}: {m.content}"))
    chat.append(ChatMessage(role="user", content=f"(Your turn, {me.name}. Write your message.)"))
    return chat


def omniscient_prompt(state: State, agent: str) -> list[ChatMessage]:
    """The single controller in ``omniscient`` mode, writing ``agent``'s next turn."""
    s = state.scenario
    system = (
        "You write a conversation between several people. You know everything each of them "
        f"knows.\n{_everything(s)}\nEach of them: {_commit_rule(s.task)}"
    )
    name = s.agent(agent).name
    user = (
        f"Conversation so far:\n{_transcript(s, state.messages)}\n\n"
        f"Write only {name}'s next message, without the name label."
    )
    return [ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)]


def script_prompt(state: State) -> list[ChatMessage]:
    """The single generation of ``script`` mode: the whole dialogue at once."""
    s = state.scenario
    names = [a.name for a in s.agents]
    system = (
        "You write a whole conversation between several people. You know everything each "
        f"of them knows.\n{_everything(s)}\nEach of them: {_commit_rule(s.task)}"
    )
    example = "\n".join(f"{n}: <what {n} says>" for n in names)
    user = (
        f"Write the full conversation, at most {s.limits.max_turns} lines, taking turns in "
        f"this order: {', '.join(names)}. Write every line as 'Name: message', like this:\n"
        f"{example}"
    )
    return [ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)]
