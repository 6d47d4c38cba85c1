"""Negotiation outcomes (Deal or No Deal, Lewis et al. 2017).

Item counts are public; each agent's values are private. An agent commits with
``DEAL: book=1 hat=2 ball=0``: what *it* takes. The deal is valid when every agent
committed and, item by item, the takes add up to the counts. No deal scores zero.
"""

from __future__ import annotations

import itertools
import re

from pydantic import BaseModel

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


def splits_exist(items: dict[str, int]) -> bool:
    """At least one valid split (always, for non-negative counts)."""
    return all(n >= 0 for n in items.values())
