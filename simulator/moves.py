"""The move protocol: what an agent may do at a turn, as a grammar, a prompt line and a parser.

An agent's legal moves are generated from the scenario, never written per family:

- **say** something (one line of text), to all its neighbours (the default) or
- **address** some of them: a leading ``TO <Name>[, <Name>]: `` delivers the message to
  those neighbours only;
- **commit** (committers only): a line ``VERB: value``, the value one of the task's
  options (``decide``), a name the writer's facts mention (``select``, when they mention
  any), a well-formed split of the deal's items (``deal``: ``book=1 hat=0 ...``, counts up
  to the public ones), or free text (``answer``: the task's verb for free answers, e.g.
  ``ANSWER``, ``GUESS`` or Sotopia's ``LEAVE``);
- a scenario may hold commitments back: with ``limits.commit_after: k`` a committer may
  commit only once it has sent ``k`` messages (0, the default: at once); the same rule in
  every mode;
- on a committer's **last turn** before the turn limit, when it has not committed yet,
  the only legal move is a commitment (the prompt says so), whatever ``commit_after`` says.

The text form stays plain text, so every backend, a human seat and the evaluators read
the same thing: :func:`parse_move` turns a completion into the :class:`Utterance` the
environment steps with, and notes (never an exception) for what was not a legal move.
:func:`grammar` is the same set of moves as a llama.cpp GBNF grammar, which the ``llama``
backend uses to constrain generation; :func:`script_grammar` constrains script mode's
single generation to ``Name: move`` lines in turn order.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from privy.simulator.bus import Message
from privy.simulator.scenario import Commitment, Fact
from privy.simulator.spaces import Utterance
from privy.simulator.views import Mindreading, Observation, PublicTask, State, public_parts


@dataclass(frozen=True)
class Moves:
    """One agent's legal moves at one turn.

    ``neighbours``: (id, display name) pairs it may address, in scenario order.
    ``verb``: its commitment verb, or None if it is not a committer. ``values``: the legal
    committed values, or None for free text (and for a deal, whose form is ``deal_items``).
    ``held``: a committer whose commitment is not legal yet (``limits.commit_after``): the
    messages it must still send first (0: it may commit now).
    """

    agent: str
    name: str
    neighbours: tuple[tuple[str, str], ...]
    verb: str | None
    kind: str
    values: tuple[str, ...] | None
    deal_items: tuple[tuple[str, int], ...] = ()
    must_commit: bool = False
    turns_left: int | None = None
    say_chars: int = 200
    commit_after: int = 0
    held: int = 0

    @property
    def can_commit(self) -> bool:
        """A committer (whether or not it may commit at this turn)."""
        return self.verb is not None

    @property
    def may_commit(self) -> bool:
        """Is a commitment a legal move at this turn?"""
        return self.verb is not None and (self.must_commit or not self.held)


# ------------------------------------------------------------------------------------
# Generating the moves
# ------------------------------------------------------------------------------------


def candidates(facts: Iterable[Fact]) -> tuple[str, ...]:
    """The names a ``select`` task's writer may commit to: the literal mentions of the facts it sees."""
    out: dict[str, None] = {}
    for f in facts:
        for m in f.mentions:
            if m.literal is not None and not m.near:
                out.setdefault(m.literal.strip(), None)
    return tuple(v for v in out if v)


def legal_moves(
    *,
    agent: str,
    names: dict[str, str],
    neighbours: Iterable[str],
    task: PublicTask,
    facts: Iterable[Fact],
    own_messages: Sequence[Message],
    turn: int,
    max_turns: int | None,
    max_tokens: int = 160,
    commit_after: int = 0,
    planned: int = 0,
) -> Moves:
    """``agent``'s legal moves at ``turn``, from public parts of the scenario and what its writer sees.

    ``facts``: the facts the writer sees (its own in ``agents`` mode, every fact in the
    others); only a ``select`` task reads them (its candidate names). ``own_messages``: what
    ``agent`` sent so far (has it committed? how many has it sent?). ``commit_after``: the
    scenario's ``limits.commit_after``. ``planned``: lines of ``agent`` a script writes
    before this one (they count as sent).
    """
    order = list(names)
    nbrs = tuple((a, names[a]) for a in order if a in set(neighbours))
    committers = task.committers or order
    verb = task.commitment.verb if agent in committers else None
    values: tuple[str, ...] | None = None
    if task.kind == "decide":
        values = tuple(task.options)
    elif task.kind == "select":
        values = candidates(facts) or None
    committed = any(m.sender == agent and m.actions for m in own_messages)
    sent = planned + sum(1 for m in own_messages if m.sender == agent)
    turns_left = None if max_turns is None else max(0, max_turns - turn)
    last = turns_left is not None and turns_left <= len(order)
    return Moves(
        agent=agent, name=names[agent], neighbours=nbrs, verb=verb, kind=task.kind, values=values,
        deal_items=tuple(task.deal_items.items()) if task.kind == "deal" else (),
        must_commit=verb is not None and last and not committed, turns_left=turns_left,
        say_chars=max(24, min(400, max_tokens * 2)),  # a say line and a commit line fit in max_tokens
        commit_after=commit_after if verb is not None else 0,
        held=max(0, commit_after - sent) if verb is not None else 0,
    )


def observed_moves(obs: Observation, max_tokens: int = 160) -> Moves:
    """The legal moves of ``obs.agent``, from its Observation alone (``agents`` mode)."""
    return legal_moves(agent=obs.agent.id, names=obs.names, neighbours=obs.neighbours, task=obs.task,
                       facts=obs.facts, own_messages=obs.messages, turn=obs.turn, max_turns=obs.max_turns,
                       max_tokens=max_tokens, commit_after=obs.commit_after)


def mindread_moves(view: Mindreading, *, max_tokens: int = 160) -> Moves:
    """The legal moves of ``view.agent`` from its Mindreading (``mindreaders`` mode: every fact is seen)."""
    return legal_moves(agent=view.agent.id, names=view.names, neighbours=view.neighbours, task=view.task,
                       facts=[f for fs in view.facts.values() for f in fs], own_messages=view.messages,
                       turn=view.turn, max_turns=view.max_turns, max_tokens=max_tokens,
                       commit_after=view.commit_after)


def state_moves(state: State, agent: str, *, turn: int | None = None, max_tokens: int | None = None,
                planned: int = 0) -> Moves:
    """The legal moves of ``agent`` for a writer that sees the whole state (every other mode).

    ``planned``: lines of ``agent`` a script writes before this one (see :func:`legal_moves`).
    """
    s = state.scenario
    task, names, neighbours = public_parts(s)
    return legal_moves(agent=agent, names=names, neighbours=neighbours[agent], task=task, facts=s.facts,
                       own_messages=[m for m in state.messages if m.sender == agent],
                       turn=state.turn if turn is None else turn, max_turns=s.limits.max_turns,
                       max_tokens=s.limits.max_tokens if max_tokens is None else max_tokens,
                       commit_after=s.limits.commit_after, planned=planned)


# ------------------------------------------------------------------------------------
# The moves as prompt text
# ------------------------------------------------------------------------------------


def commit_form(m: Moves) -> str:
    """``SELECT: <name>`` or ``DEAL: hat=<n> ...``: how a commitment line looks."""
    if m.verb is None:
        return ""
    if m.kind == "deal":
        return f"{m.verb}: " + " ".join(f"{i}=<n>" for i, _ in m.deal_items)
    what = {"decide": "option", "select": "name"}.get(m.kind, "answer")
    return f"{m.verb}: <{what}>"


def describe(m: Moves) -> str:
    """The rules of the moves, as the prompt states them (the same text in every mode)."""
    to = ", ".join(n for _, n in m.neighbours)
    if m.neighbours:
        lines = [f"{m.name} can send messages to: {to}. A message goes to all of them; to send it only to "
                 f"some, start it with 'TO <Name>: ' (for example 'TO {m.neighbours[0][1]}: ...')."]
    else:
        lines = [f"{m.name} can send messages to no one (nobody receives them)."]
    if m.verb is None:
        lines.append(f"{m.name} does not commit: others decide.")
    elif m.kind == "deal":
        items = ", ".join(f"{n} {i}" for i, n in m.deal_items)
        lines.append(f"To commit to a split, {m.name} writes a line '{commit_form(m)}' with what {m.name} "
                     f"takes (items: {items}).")
    else:
        choices = f" ({'one of: ' + ', '.join(m.values)})" if m.values else ""
        lines.append(f"To commit, {m.name} writes a line '{commit_form(m)}'{choices}.")
    if m.commit_after:
        k = m.commit_after
        lines.append(f"{m.name} may commit only after sending {k} message{'s' * (k != 1)}.")
    lines.append("Each message is one short line.")
    return " ".join(lines)


def cue(m: Moves) -> str:
    """The turn cue: whose turn it is, how many messages are left, and whether it must commit now."""
    left = "" if m.turns_left is None else f" {m.turns_left} message{'s' * (m.turns_left != 1)} left."
    if m.must_commit:
        return f"(Your turn, {m.name}.{left} This is your last message: commit now with '{commit_form(m)}'.)"
    if m.verb is not None and m.held:
        return f"(Your turn, {m.name}.{left} Write your message; it cannot be a commitment yet.)"
    return f"(Your turn, {m.name}.{left} Write your message.)"


# ------------------------------------------------------------------------------------
# The moves as a GBNF grammar (llama.cpp)
# ------------------------------------------------------------------------------------


def _lit(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a GBNF string literal: JSON's escapes


def _alts(values: Iterable[str]) -> str:
    return " | ".join(_lit(v) for v in values)


def _rules(m: Moves, p: str) -> dict[str, str]:
    """Rules for ``m``'s moves, named with prefix ``p``; ``{p}move`` is one whole move."""
    r: dict[str, str] = {}
    if not m.must_commit:
        r[f"{p}say"] = f"[^\\n: ] [^\\n:]{{0,{m.say_chars - 1}}}"
    body = [f"{p}say"]
    if m.may_commit:
        assert m.verb is not None
        if m.kind == "deal":
            parts = [f"{_lit(f'{i}=')} ({_alts(str(k) for k in range(n + 1))})" for i, n in m.deal_items]
            value = ' " " '.join(parts)
        elif m.values:
            value = _alts(m.values)
        else:
            value = "[^\\n ] [^\\n]{0,59}"
        r[f"{p}commit"] = f"{_lit(m.verb + ': ')} ({value})"
        body = [f"{p}commit"] if m.must_commit else [f'{p}say ("\\n" {p}commit)?', f"{p}commit"]
    if m.neighbours:
        r[f"{p}name"] = _alts(n for _, n in m.neighbours)
        more = f' (", " {p}name){{0,{len(m.neighbours) - 1}}}' if len(m.neighbours) > 1 else ""
        r[f"{p}addr"] = f'"TO " {p}name{more} ": "'
        r[f"{p}move"] = f"{p}addr? ({' | '.join(body)})"
    else:
        r[f"{p}move"] = " | ".join(body)
    return r


def _render(rules: dict[str, str]) -> str:
    return "\n".join(f"{k} ::= {v}" for k, v in rules.items()) + "\n"


def grammar(m: Moves) -> str:
    """``m`` as a GBNF grammar: a completion it accepts is one legal move."""
    return _grammar(_shape(m))


def _shape(m: Moves) -> Moves:
    """``m`` without what the grammar does not depend on (the turns left: only the prompt says them)."""
    return replace(m, turns_left=None) if m.turns_left is not None else m


@functools.lru_cache(maxsize=1024)
def _grammar(m: Moves) -> str:
    return _render({"root": "move", **_rules(m, "")})


def script_grammar(turns: Sequence[Moves]) -> str:
    """Script mode's single generation: one ``Name: move`` line per turn, in turn order."""
    rules: dict[str, str] = {"root": " ".join(f"t{i}" for i in range(len(turns)))}
    made: dict[Moves, str] = {}
    for i, m in enumerate(turns):
        p = made.get(_shape(m))
        if p is None:
            p = made[_shape(m)] = f"a{len(made)}"
            rules.update(_rules(m, p))
        rules[f"t{i}"] = f'{_lit(m.name + ": ")} {p}move "\\n"'
    return _render(rules)


# ------------------------------------------------------------------------------------
# Parsing a completion into a move
# ------------------------------------------------------------------------------------

EMPTY = "move: empty message"
_ADDRESS = re.compile(r"^\s*\**TO\**\s+([^:\n]{1,200}?)\s*:[ \t]*")


def parse_move(text: str, m: Moves, names: dict[str, str] | None = None) -> tuple[Utterance, list[str]]:
    """The Utterance ``text`` is, and a note (``move: ...``) for each way it is not a legal move.

    A leading ``TO <Name>[, <Name>]: `` (display names or ids, any case) addresses the message
    to those neighbours and is taken off the content. An address that names no agent, or an
    agent ``m.agent`` cannot reach, is noted and left out; if no addressee is left, the whole
    text goes to every neighbour as written (the default), with the note. Commitments stay in
    the text (the environment parses them); a value that is not legal is noted. ``names``: every
    agent's id -> display name (default: the neighbours), to tell "unknown" from "unreachable".
    """
    notes: list[str] = []
    content, to = text.strip(), None
    hit = _ADDRESS.match(content)
    if hit:
        # display names first: an id that is also another agent's name means that agent
        reachable = {a.casefold(): a for a, _ in m.neighbours} | {n.casefold(): a for a, n in m.neighbours}
        everyone = {a.casefold(): a for a in names or {}} | {n.casefold(): a for a, n in (names or {}).items()}
        chosen: set[str] = set()
        for raw in hit.group(1).split(","):
            who = raw.strip().strip("*").strip()
            if not who:
                continue
            key = who.casefold()
            if key in reachable:
                chosen.add(reachable[key])
            elif key in everyone:
                notes.append(f"move: {m.name} cannot send to {who}: not a neighbour "
                             f"(neighbours: {', '.join(n for _, n in m.neighbours) or 'none'})")
            else:
                notes.append(f"move: address {who!r} names no agent; "
                             f"expected one of {', '.join(n for _, n in m.neighbours) or 'no one'}")
        if chosen:
            to = frozenset(chosen)
            content = content[hit.end():].strip()
        else:
            notes.append("move: no reachable addressee; sent to every neighbour as written")
    if not content:
        notes.append(EMPTY)
    notes += _commit_notes(content, m)
    return Utterance(content=content, to=to), notes


def _commit_notes(content: str, m: Moves) -> list[str]:
    if m.verb is None:
        return []
    values = Commitment(verb=m.verb).values(content)
    if m.must_commit and not values:
        return [f"move: {m.name}'s last turn had no commitment ('{commit_form(m)}')"]
    notes = []
    if values and not m.may_commit:
        notes.append(f"move: {m.name} may not commit yet: {m.held} more message{'s' * (m.held != 1)} first "
                     f"(limits.commit_after: {m.commit_after})")
    for v in values:
        if m.kind == "deal":
            if not _deal_ok(v, dict(m.deal_items)):
                notes.append(f"move: {m.verb} value {v!r} is not a split of "
                             f"{', '.join(f'{n} {i}' for i, n in m.deal_items)}")
        elif m.values is not None and v.casefold() not in {x.casefold() for x in m.values}:
            notes.append(f"move: {m.verb} value {v!r} is not one of {', '.join(m.values)}")
    return notes


_PAIR = re.compile(r"([A-Za-z_]+)\s*=\s*(\d+)")


def _deal_ok(value: str, items: dict[str, int]) -> bool:
    pairs = _PAIR.findall(value)
    got = {k.lower(): int(n) for k, n in pairs}
    return bool(pairs) and set(got) <= set(items) and all(0 <= n <= items[k] for k, n in got.items())
