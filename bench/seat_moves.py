"""What a person types at a human seat, read into a move: the same rules for the terminal and the browser.

A plain line is a message to every neighbour. ``TO Bob, Carol: text`` (or ``/to Bob,
Carol: text``) addresses it to some neighbours; ``/commit VALUE`` writes the task's
commitment line (``SELECT: VALUE``); ``/leave`` leaves the conversation. ``/help``,
``/history`` and ``/brief`` only show something. Bad input (an unknown command, a
name that is not a neighbour, an option the task does not have) raises
:class:`BadInput` with a message for the person, who is asked again.

The text of a move is privy's plain text protocol: the runner reads ``TO ...:`` and
``VERB: value`` from it exactly as from a model's output. Only the seat's view is read (the
agent's Observation, or its Mindreading in ``mindreaders`` mode: the same parts either way).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from privy.simulator.moves import mindread_moves, observed_moves
from privy.simulator.scenario import Fact
from privy.simulator.seat import SeatView
from privy.simulator.task import normalize, parse_allocation
from privy.simulator.views import Mindreading, Observation

HELP = """\
Type a message and press Enter: it goes to everyone you can write to.
  TO Name, Name: message    a message only to those (also /to Name: message)
  /commit VALUE             commit (writes the task's line, e.g. SELECT: VALUE)
  /history                  the whole conversation you have seen
  /brief                    your goal, what you know, whom you can write to
  /leave                    leave the conversation (ends the game, saves it)
  /help                     this help
Ctrl-C stops the game and saves what was played."""


class BadInput(ValueError):
    """The line is not a move; the message says why and what is expected."""


@dataclass(frozen=True)
class Say:
    """A turn: ``text`` in the plain text protocol."""

    text: str


@dataclass(frozen=True)
class Show:
    """Show something; the person then types again."""

    what: Literal["help", "history", "brief"]


@dataclass(frozen=True)
class Leave:
    """Leave the conversation."""


Move = Say | Show | Leave

# "TO" in capitals as the protocol writes it ("To be honest: ..." is a message), "/to" in any case
_TO = re.compile(r"^\s*(?:/[tT][oO]|TO)\s+([^:\n]+):\s*(.*)$", re.DOTALL)


def commit_rule(view: SeatView) -> str:
    """How this agent commits, in words, with the command that does it."""
    t = view.task
    verb = t.commitment.verb
    if t.kind == "decide":
        return f"/commit OPTION writes '{verb}: OPTION'; options: {', '.join(t.options)}"
    if t.kind == "deal":
        example = " ".join(f"{i}=N" for i in t.deal_items)
        counts = ", ".join(f"{n} {i}" for i, n in t.deal_items.items())
        return f"/commit {example} writes '{verb}: {example}' with what YOU take (items: {counts})"
    return f"/commit ANSWER writes '{verb}: ANSWER'"


def also_known(view: Mindreading, holder: str, fact: Fact) -> str:
    """Who else holds ``holder``'s ``fact``, in words ("" if no one else): "also known to Ben, you"."""
    others = ["you" if a == view.agent.id else view.names[a] for a in view.holders(fact) if a != holder]
    return f"also known to {', '.join(others)}" if others else ""


def read_move(line: str, view: SeatView) -> Move:
    """The move ``line`` makes for the agent of ``view``.

    Raises:
        BadInput: an unknown command, an address that is not a neighbour, an illegal commitment, an empty line.
    """
    text = line.strip()
    if not text:
        raise BadInput("empty message; type a message, or /help")
    if text.startswith("/") and not _TO.match(text):
        command, _, arg = text[1:].partition(" ")
        command, arg = command.casefold(), arg.strip()
        if command in ("help", "?", "history", "brief"):
            return Show("help" if command == "?" else command)  # type: ignore[arg-type]
        if command == "leave":
            return Leave()
        if command == "commit":
            if not arg:
                raise BadInput(f"/commit needs a value: {commit_rule(view)}")
            line = f"{view.task.commitment.verb}: {arg}"
            _check_commitments(line, view)
            return Say(line)
        raise BadInput(f"unknown command /{command}; commands: /to, /commit, /history, /brief, /leave, /help")
    m = _TO.match(text)
    if m:
        names = _recipients(m.group(1), view)
        body = m.group(2).strip()
        if not body:
            raise BadInput("empty message after the address; expected TO Name: message")
        _check_commitments(body, view)
        return Say(f"TO {', '.join(names)}: {body}")
    _check_commitments(text, view)
    return Say(text)


def _recipients(names: str, view: SeatView) -> list[str]:
    """The neighbours' display names that ``names`` (comma-separated names or ids) refers to."""
    by_key = {}
    for a in view.neighbours:
        by_key[a.casefold()] = view.names[a]
        by_key[view.names[a].casefold()] = view.names[a]
    out: list[str] = []
    for raw in names.split(","):
        key = raw.strip().casefold()
        if not key:
            continue
        if key not in by_key:
            can = ", ".join(sorted(view.names[a] for a in view.neighbours)) or "no one"
            raise BadInput(f"you cannot write to {raw.strip()!r}; you can write to: {can}")
        if by_key[key] not in out:
            out.append(by_key[key])
    if not out:
        raise BadInput("no name after TO; expected TO Name: message")
    return out


def _check_commitments(text: str, view: SeatView) -> None:
    """Refuse a commitment the task does not allow (an option it has not, a split it cannot make)."""
    t = view.task
    values = t.commitment.values(text)
    if values and t.committers and view.agent.id not in t.committers:
        who = ", ".join(view.names[c] for c in t.committers)
        raise BadInput(f"only {who} commit in this task; write your message without '{t.commitment.verb}:'")
    moves = (observed_moves(view) if isinstance(view, Observation) else mindread_moves(view)) if values else None
    if moves is not None and not moves.may_commit and moves.held:
        held = moves.held
        raise BadInput(f"you may commit only after sending {held} more message{'s' * (held != 1)} "
                       f"(this scenario's limits.commit_after is {view.commit_after}); write a message first")
    for value in values:
        if t.options and normalize(value) not in {normalize(o) for o in t.options}:
            raise BadInput(f"{value!r} is not an option; expected one of: {', '.join(t.options)}")
        if t.kind == "deal":
            take = parse_allocation(value, t.deal_items)
            if take is None or any(n > t.deal_items[i] for i, n in take.items()):
                raise BadInput(f"{value!r} is not a split of the items; {commit_rule(view)}")
