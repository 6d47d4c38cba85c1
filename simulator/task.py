"""Task rules: how committed values are compared, when an episode is decided, and how a deal is judged.

The environment calls :func:`outcome` when an episode ends; ``task_success`` reads the
same rules (:func:`normalize`, :func:`agreed`), so a decision is worked out in one place.

Negotiations (Deal or No Deal, Lewis et al. 2017): item counts are public; each agent's
values are private. An agent commits with ``DEAL: book=1 hat=2 ball=0``: what *it*
takes. The deal is valid when every agent committed and, item by item, the takes add up
to the counts. No deal scores zero.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection
from typing import Literal

from pydantic import BaseModel

from privy.simulator.scenario import Task

EndReason = Literal["committed", "turn_limit", "script_exhausted", "error", "running", "transcript_end",
                    "interrupted", "left"]
"""Why an episode ended; ``transcript_end``: an imported transcript ended before every committer committed;
``interrupted``: the person at a human seat pressed Ctrl-C (what was played is kept); ``left``: that person
left the conversation (``/leave``)."""


def normalize(value: str) -> str:
    """Compare committed values loosely: case, spacing, quotes and final punctuation."""
    return re.sub(r"\s+", " ", value.strip().strip("\"'*`.!").casefold()).strip()


def agreed(commitments: dict[str, str], committers: Collection[str]) -> bool:
    """Every committer committed, and all to the same value."""
    return set(commitments) == set(committers) and len({normalize(v) for v in commitments.values()}) == 1


_PAIR = re.compile(r"([A-Za-z_]+)\s*[=:x×]\s*(\d+)")


def parse_allocation(text: str, items: dict[str, int]) -> dict[str, int] | None:
    """``"book=1, hat=2"`` -> ``{"book": 1, "hat": 2, "ball": 0}``; None if unparsable."""
    found: dict[str, int] = {}
    for name, count in _PAIR.findall(text):
        word = name.lower()
        key = word if word in items else word.removesuffix("s")  # "books=1" means book
        if key not in items:  # a take of an item that does not exist: not a valid split
            return None
        found[key] = int(count)
    if not found:
        return None
    return {item: found.get(item, 0) for item in items}


class DealResult(BaseModel):
    valid: bool
    allocations: dict[str, dict[str, int]]
    points: dict[str, int]  # each agent's value of what it takes; 0 without a valid deal
    pareto_optimal: bool


def total(values: dict[str, int], take: dict[str, int]) -> int:
    return sum(values.get(i, 0) * n for i, n in take.items())


def judge_deal(items: dict[str, int], values: dict[str, dict[str, int]],
               commitments: dict[str, str]) -> DealResult:
    """Validity, each side's points and Pareto optimality of the committed split."""
    agents = list(values)
    allocations = {a: alloc for a in agents if a in commitments
                   and (alloc := parse_allocation(commitments[a], items)) is not None}
    valid = len(allocations) == len(agents) and all(
        sum(allocations[a][i] for a in agents) == n for i, n in items.items())
    if not valid:
        return DealResult(valid=False, allocations=allocations, points=dict.fromkeys(agents, 0),
                          pareto_optimal=False)
    points = {a: total(values[a], allocations[a]) for a in agents}
    return DealResult(valid=True, allocations=allocations, points=points,
                      pareto_optimal=not _dominated(items, values, points))


def _dominated(items: dict[str, int], values: dict[str, dict[str, int]], points: dict[str, int]) -> bool:
    """Is some other split at least as good for all and better for one? (two agents)"""
    agents = list(values)
    if len(agents) != 2:
        return False
    a, b = agents
    names = list(items)
    for take in itertools.product(*(range(items[i] + 1) for i in names)):
        mine = dict(zip(names, take, strict=True))
        theirs = {i: items[i] - mine[i] for i in names}
        pa, pb = total(values[a], mine), total(values[b], theirs)
        if pa >= points[a] and pb >= points[b] and (pa, pb) != (points[a], points[b]):
            return True
    return False



class Outcome(BaseModel):
    """How an episode ended and whether the task was solved."""

    ended_by: EndReason
    turns: int
    commitments: dict[str, str]
    decision: str | None
    success: bool
    deal: DealResult | None = None  # for deal tasks: validity, each side's points, Pareto optimality


def outcome(task: Task, committers: Collection[str], commitments: dict[str, str], ended_by: EndReason,
            turns: int) -> Outcome:
    """The outcome of ``commitments`` (the committers' only) under ``task``'s rules."""
    if task.kind == "deal" and task.deal is not None:
        deal = judge_deal(task.deal.items, task.deal.values, commitments)
        return Outcome(ended_by=ended_by, turns=turns, commitments=commitments,
                       decision=None, success=deal.valid, deal=deal)
    any_counts = task.ends_when == "any_committed"
    decision: str | None = None
    if commitments and (any_counts or len({normalize(v) for v in commitments.values()}) == 1):
        decision = next(iter(commitments.values()))
    all_in = any_counts or set(commitments) == set(committers)
    success = (decision is not None and all_in and task.answer is not None
               and normalize(decision) == normalize(task.answer))
    return Outcome(ended_by=ended_by, turns=turns, commitments=commitments, decision=decision, success=success)
