"""The hypotheses a belief probe asks an agent about, read from the scenario's task.

Never a hand list per family: each set comes from what the scenario already defines.

- ``decide``: ``task.options``; truth ``task.answer``.
- ``select``: the names the agent's own facts are detected by (their literal mentions:
  MutualFriends' friend list); truth ``task.answer``.
- ``answer``: ``task.options`` if any, else a candidate list the agent holds, written as
  ``- <item>: ...`` lines in one of its facts (Twenty Questions' table), when the answer is
  one of them; truth ``task.answer``.
- ``deal``: up to ``MAX_SPLITS`` splits (what the probed agent takes), one per pair of
  points: the Pareto frontier first, then dominated ones, each by joint points; truth: the
  frontier's split with the largest joint points (ties: the most even, then the first).

A task with no such set (a tutoring answer with no candidates) has no hypotheses and is
not probed. The set is worded from the probed agent's side only where the scenario makes it
so (its own list, its own take); it never names another agent's private fact. A deal's
set is chosen with both agents' values (the frontier), so which splits are listed says
something about the other side's values; they are listed in a fixed order (by the counts
taken), never by rank.
"""

from __future__ import annotations

import itertools
import re

from pydantic import BaseModel, ConfigDict, Field

from privy.simulator.scenario import Scenario
from privy.simulator.task import normalize, total

MAX_SPLITS = 8
_BULLET = re.compile(r"^\s*-\s+([^:\n]{1,60}?)\s*:", re.MULTILINE)


class Hypotheses(BaseModel):
    """What one agent is asked to weigh, and which of it is true."""

    model_config = ConfigDict(frozen=True)

    question: str = Field(description="The probe question, asked of the agent by name.")
    options: list[str] = Field(min_length=2, description="The hypotheses, in a fixed order.")
    truth: int | None = Field(description="Index of the true hypothesis; None if the task gives none.")


def hypotheses_for(scenario: Scenario, agent: str) -> Hypotheses | None:
    """The hypotheses ``agent`` is probed on in ``scenario``, or None if its task defines none."""
    task = scenario.task
    name = scenario.agent(agent).name
    options: list[str] = []
    if task.kind == "decide":
        options = list(task.options)
        question = f"{name}, which option is the right decision?"
    elif task.kind == "select":
        options = _own_names(scenario, agent)
        question = f"{name}, which of these is the answer you are looking for?"
    elif task.kind == "answer":
        options = list(task.options) or _candidate_list(scenario, agent, task.answer)
        question = f"{name}, which of these is the answer?"
    elif task.kind == "deal":
        return _deal(scenario, agent)
    options = _unique(options)
    if len(options) < 2:
        return None
    truth = _index(options, task.answer)
    return Hypotheses(question=question, options=options, truth=truth)


def _unique(options: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for o in options:
        key = normalize(o)
        if key and key not in seen:
            seen.add(key)
            out.append(o)
    return out


def _index(options: list[str], answer: str | None) -> int | None:
    if answer is None:
        return None
    key = normalize(answer)
    return next((i for i, o in enumerate(options) if normalize(o) == key), None)


def _own_names(scenario: Scenario, agent: str) -> list[str]:
    """The literal mentions of the facts ``agent`` holds (each a name it could select)."""
    return [m.literal for f in scenario.facts_of(agent) for m in f.mentions if m.literal]


def _candidate_list(scenario: Scenario, agent: str, answer: str | None) -> list[str]:
    """The ``- item: ...`` labels of a fact ``agent`` holds, if the answer is one of them."""
    for f in scenario.facts_of(agent):
        labels = _BULLET.findall(f.text)
        if len(labels) >= 2 and _index(labels, answer) is not None:
            return labels
    return []


def split_text(take: dict[str, int]) -> str:
    """A split as the deal commitment writes it: ``book=1 hat=0``."""
    return " ".join(f"{i}={n}" for i, n in take.items())


def _deal(scenario: Scenario, agent: str) -> Hypotheses | None:
    deal = scenario.task.deal
    if deal is None or len(deal.values) != 2 or agent not in deal.values:
        return None
    other = next(a for a in deal.values if a != agent)
    items = list(deal.items)
    splits = []
    for counts in itertools.product(*(range(deal.items[i] + 1) for i in items)):
        mine = dict(zip(items, counts, strict=True))
        theirs = {i: deal.items[i] - mine[i] for i in items}
        splits.append((mine, total(deal.values[agent], mine), total(deal.values[other], theirs)))
    def dominated(s: tuple[dict[str, int], int, int]) -> bool:
        return any(a >= s[1] and b >= s[2] and (a, b) != (s[1], s[2]) for _, a, b in splits)

    # one split per pair of points: the Pareto frontier first, the best joint ones first
    # (ties: the most even), then dominated splits the same way, to fill MAX_SPLITS
    by_points: dict[tuple[int, int], tuple[bool, dict[str, int]]] = {}
    for s in splits:
        by_points.setdefault((s[1], s[2]), (dominated(s), s[0]))
    ranked = sorted(by_points.items(),
                    key=lambda kv: (kv[1][0], -(kv[0][0] + kv[0][1]), abs(kv[0][0] - kv[0][1])))
    kept = [(pts, mine) for pts, (_, mine) in ranked[:MAX_SPLITS]]
    if len(kept) < 2:
        return None
    options = [split_text(mine) for _, mine in sorted(kept, key=lambda kv: list(kv[1].values()))]
    truth = options.index(split_text(kept[0][1]))
    name = scenario.agent(agent).name
    return Hypotheses(question=f"{name}, which split should you agree on (what {name} takes)?",
                      options=options, truth=truth)
