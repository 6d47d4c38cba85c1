"""Deal or No Deal (Lewis et al. 2017): split a public pool of items, each side's values private.

Two agents divide ``n_item_types`` kinds of items (1..``max_count`` of each; the counts
are public, in the context and in the task's ``deal.items``). Each agent values each
kind at 0..``max_value`` points per unit, privately, such that all the items together
are worth exactly ``total_value`` points to each of them (Lewis et al.: 10). Each
agent's values are one fact held by it alone, and the ground truth ``deal.values``.
An agent commits with ``DEAL: book=1 hat=0 ball=2``, what *it* takes; the deal is valid
when both committed and the takes add up to the counts, item by item. Each side scores
the value of what it takes; no deal scores zero (``privy.simulator.task.judge_deal``, which
also says whether the split is Pareto optimal). Success in the environment: a valid deal.

Ground truth (``check``): the counts are >= 1; each agent's value fact states exactly
its ground-truth values, which add up to the same total for both agents, and its
mention finds them stated in any item order; a valid split
exists; and a Pareto-optimal split exists in which both agents score > 0 (the
reference split below is one). Values are drawn uniformly among the vectors with the
right total; instances where one side could only score by taking everything are
redrawn.

Baseline (``policy``), needing its own values *and* the partner's: an agent states its
values ("My values per item: book=3 hat=1 ball=2."); once it has read the partner's
values in a message, it computes the reference split from both vectors and commits
``DEAL: <what I take>``. The reference split gives each kind of item to the agent who
values it more; the units of tied kinds are dealt alternately, most valuable first,
starting with the first agent (scenario order), so both sides compute the same split
and the takes add up. It maximises the sum of the two scores, hence is Pareto optimal,
and both score > 0 (equal totals: unless the vectors are equal, each side values some
kind strictly more; if they are equal, the dealt units give both some).

``withhold`` replaces each value fact with a statement without numbers: no agent can
state or learn values, no one commits, no deal.
"""

from __future__ import annotations

import random
import re
from typing import ClassVar

from pydantic import Field, model_validator

from privy.scenarios.families.base import FamilyParams, PolicyInput
from privy.simulator.scenario import Fact, Mention, Scenario
from privy.simulator.task import judge_deal

ITEMS = ("book", "hat", "ball", "pen", "cup", "key")  # plural: + "s" (parse_allocation strips it)
AGENT_NAMES = ("Alice", "Bob", "Carmen", "David", "Elena", "Frank", "Gwen", "Henry", "Iris", "Jack", "Kira", "Liam")
MAX_SPLITS = 200_000  # judge_deal enumerates every split to judge Pareto optimality
MAX_TRIES = 10_000
VALUES_INTRO = "values per item:"
VAGUE = "You care about some of these items more than others, but you have no exact numbers for them."


class DealParams(FamilyParams):
    n_item_types: int = Field(default=3, ge=1, le=len(ITEMS), description="Kinds of items to divide.")
    max_count: int = Field(default=4, ge=1, le=10, description="Most units of one kind (each kind has 1..max_count).")
    max_value: int = Field(default=10, ge=1, description="Most points one unit may be worth to an agent.")
    total_value: int = Field(default=10, ge=1, le=100, description="What all the items are worth to each agent.")
    max_turns: int = Field(default=10, ge=3, description=(
        "Messages in total (the reference protocol needs 3: values, values and commitment, commitment)."))

    @model_validator(mode="after")
    def _possible(self) -> DealParams:
        n, c, m, t = self.n_item_types, self.max_count, self.max_value, self.total_value
        if (c + 1) ** n > MAX_SPLITS:
            raise ValueError(
                f"n_item_types={n} with max_count={c} allows {(c + 1) ** n} splits; Pareto optimality is judged "
                f"by trying every split, expected at most {MAX_SPLITS} (fewer item types or a lower max_count)")
        if n * c < 2:
            raise ValueError("one item type with max_count=1 is a single unit: the two agents cannot both score; "
                             "expected n_item_types >= 2 or max_count >= 2")
        if t > n * c * m:
            raise ValueError(
                f"total_value={t} is unreachable: {n} item type(s) of at most {c} unit(s) worth at most "
                f"max_value={m} each are worth at most {n * c * m}")
        if n == 1 and not _single_kind_counts(c, m, t):
            raise ValueError(
                f"with one item type both agents value it equally, so total_value={t} must be count x value "
                f"for a count in 2..max_count={c} and a value <= max_value={m}; none is")
        if t not in _free_sums(n, c, m, t)[n]:
            raise ValueError(f"no counts (1..{c}) and values (0..{m}) of {n} item types add up to total_value={t}")
        return self


def _single_kind_counts(c: int, m: int, t: int) -> list[int]:
    return [k for k in range(2, c + 1) if t % k == 0 and t // k <= m]


def _free_sums(n: int, c: int, m: int, t: int) -> list[set[int]]:
    """``sums[k]``: totals (<= t) reachable by k item types with any counts 1..c and values 0..m."""
    unit = {k * v for k in range(1, c + 1) for v in range(m + 1) if k * v <= t}
    sums = [{0}]
    for _ in range(n):
        sums.append({s + u for s in sums[-1] for u in unit if s + u <= t})
    return sums


def _draw_counts(rng: random.Random, p: DealParams) -> list[int]:
    """Counts, one kind at a time, keeping the total reachable by some values."""
    n, c, m, t = p.n_item_types, p.max_count, p.max_value, p.total_value
    if n == 1:
        return [rng.choice(_single_kind_counts(c, m, t))]
    free = _free_sums(n, c, m, t)
    prefix, counts = {0}, []
    for i in range(n):
        rest = free[n - i - 1]
        options = []
        for k in range(1, c + 1):
            after = {s + k * v for s in prefix for v in range(m + 1) if s + k * v <= t}
            if any(t - s in rest for s in after):
                options.append((k, after))
        k, prefix = rng.choice(options)
        counts.append(k)
    return counts


def _draw_values(rng: random.Random, counts: list[int], m: int, t: int) -> list[int]:
    """Uniform among the value vectors (0..m per unit) with sum(count * value) == t."""
    n = len(counts)
    ways = [[0] * (t + 1) for _ in range(n + 1)]
    ways[n][0] = 1
    for i in range(n - 1, -1, -1):
        for r in range(t + 1):
            ways[i][r] = sum(ways[i + 1][r - counts[i] * v] for v in range(m + 1) if counts[i] * v <= r)
    values, r = [], t
    for i in range(n):
        x = rng.randrange(ways[i][r])
        for v in range(m + 1):
            if counts[i] * v > r:
                break
            w = ways[i + 1][r - counts[i] * v]
            if x < w:
                values.append(v)
                r -= counts[i] * v
                break
            x -= w
    return values


def both_can_score(counts: list[int], va: list[int], vb: list[int]) -> bool:
    """Is there a split in which both agents get something they value?"""
    pa = [i for i, v in enumerate(va) if v > 0]
    pb = [i for i, v in enumerate(vb) if v > 0]
    return any(i != j or counts[i] >= 2 for i in pa for j in pb)


def reference_split(items: dict[str, int], values: dict[str, dict[str, int]],
                    order: list[str]) -> dict[str, dict[str, int]]:
    """Each kind to whoever values it more; tied units dealt alternately, most valuable first."""
    a, b = order
    take = {a: dict.fromkeys(items, 0), b: dict.fromkeys(items, 0)}
    tied: list[tuple[int, str]] = []
    for item, n in items.items():
        va, vb = values[a][item], values[b][item]
        if va != vb:
            take[a if va > vb else b][item] = n
        else:
            tied += [(va, item)] * n
    tied.sort(key=lambda unit: -unit[0])  # stable: item order among equal values
    for k, (_, item) in enumerate(tied):
        take[order[k % 2]][item] += 1
    return take


def fmt(alloc: dict[str, int]) -> str:
    return " ".join(f"{i}={n}" for i, n in alloc.items())


def _plural(item: str, n: int) -> str:
    return f"{n} {item}" + ("" if n == 1 else "s")


def _listing(items: dict[str, int]) -> str:
    parts = [_plural(i, n) for i, n in items.items()]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def values_mention(values: dict[str, int]) -> Mention:
    """A statement of exactly these values, in any order, on one line that is not a ``DEAL:`` line.

    Each item's value is looked for on its own (a lookahead per item), so the mention does not
    depend on the order of the items: a scenario whose ``deal.items`` come back sorted (from
    sorted-key JSON, as ``privy bench`` stores them) has agents state their values in that order.
    The match is the whole line, so that an evaluator sees it overlap the statement of another
    fact on that line (two agents with equal values state the same line).
    """
    sep = r"[^\d\n]{0,20}?"
    pairs = "".join(rf"(?=[^\n]*?\b{re.escape(i)}s?\b{sep}\b{v}\b(?!\.\d))" for i, v in values.items())
    return Mention(regex=rf"(?m)^(?![\s*]*DEAL[\s*]*:){pairs}[^\n]*")


def parse_values(text: str, items: dict[str, int]) -> dict[str, int] | None:
    """The values after the last ``values per item:`` in ``text``, if every item has one."""
    at = text.lower().rfind(VALUES_INTRO)
    if at < 0:
        return None
    line = text[at + len(VALUES_INTRO):].split("\n", 1)[0]
    found = {name.lower(): int(v) for name, v in re.findall(r"([A-Za-z_]+)\s*=\s*(\d+)", line)}
    if not set(items) <= set(found):
        return None
    return {i: found[i] for i in items}


class DealOrNoDeal:
    name: ClassVar[str] = "deal_or_no_deal"
    description: ClassVar[str] = ("Two agents split public item counts; each one's values are private; a valid "
                                  "deal needs both to agree; points, validity and Pareto optimality are scored "
                                  "(Lewis et al. 2017).")
    Params: ClassVar[type[FamilyParams]] = DealParams

    def generate(self, rng: random.Random, index: int, params: FamilyParams) -> Scenario:
        assert isinstance(params, DealParams)
        p = params
        tag = f"{rng.getrandbits(32):08x}"
        a_name, b_name = rng.sample(AGENT_NAMES, 2)
        ids = [a_name.lower(), b_name.lower()]
        kinds = sorted(rng.sample(ITEMS, p.n_item_types), key=ITEMS.index)
        for _ in range(MAX_TRIES):
            counts = _draw_counts(rng, p)
            va = _draw_values(rng, counts, p.max_value, p.total_value)
            vb = _draw_values(rng, counts, p.max_value, p.total_value)
            if both_can_score(counts, va, vb):
                break
        else:  # pragma: no cover - the parameter checks make a good draw likely
            raise RuntimeError(f"no instance with both sides able to score after {MAX_TRIES} draws: {p}")
        items = dict(zip(kinds, counts, strict=True))
        values = {ids[0]: dict(zip(kinds, va, strict=True)), ids[1]: dict(zip(kinds, vb, strict=True))}
        units = sum(counts)
        facts = [Fact(id=f"{a}_values",
                      text=(f"Your {VALUES_INTRO} {fmt(values[a])} (all {units} items together are worth "
                            f"{p.total_value} points to you)."),
                      holders=[a], mentions=[values_mention(values[a])])
                 for a in ids]
        goal = ("Agree with {} on how to split the items. You score the value to you of what you take; "
                "with no deal you score nothing.")
        data = {
            "id": f"deal_or_no_deal_{index:04d}_{tag}",
            "title": f"Deal or no deal: {a_name} and {b_name} split {_listing(items)}",
            "family": self.name,
            "context": (f"{a_name} and {b_name} must divide {_listing(items)} between them; every item goes to one "
                        f"of them. An item may be worth more to one of them than to the other; each one's values "
                        f"are private. To each of them, all the items together are worth {p.total_value} points. "
                        f"A deal needs both to agree on the same split; with no deal both score zero."),
            "agents": [
                {"id": ids[0], "name": a_name, "goal": goal.format(b_name)},
                {"id": ids[1], "name": b_name, "goal": goal.format(a_name)},
            ],
            "facts": [f.model_dump(exclude_none=True) for f in facts],
            "topology": {"kind": "complete"},
            "limits": {"max_turns": p.max_turns, "max_tokens": 120},
            "task": {
                "kind": "deal",
                "commitment": {"verb": "DEAL"},
                "needed_facts": [f.id for f in facts],
                "deal": {"items": items, "values": values},
                "ends_when": "all_committed",
            },
        }
        return Scenario.model_validate(data)

    def check(self, scenario: Scenario) -> None:
        s, task = scenario, scenario.task
        assert s.family == self.name, f"family is {s.family!r}, expected {self.name!r}"
        assert len(s.agents) == 2, f"expected 2 agents, got {len(s.agents)}"
        assert task.kind == "deal" and task.deal is not None, "expected a deal task with items and values"
        assert task.ends_when == "all_committed", "a deal needs every agent's commitment"
        items, values = task.deal.items, task.deal.values
        assert set(values) == set(s.agent_ids), f"values for {sorted(values)}, expected {sorted(s.agent_ids)}"
        assert all(n >= 1 for n in items.values()), f"expected at least one unit of each item, got {items}"
        totals = {}
        for a in s.agent_ids:
            assert set(values[a]) == set(items), f"{a}: values for {sorted(values[a])}, expected {sorted(items)}"
            assert all(v >= 0 for v in values[a].values()), f"{a}: negative value in {values[a]}"
            totals[a] = sum(values[a][i] * n for i, n in items.items())
            facts = s.facts_of(a)
            assert len(facts) == 1 and facts[0].holders == [a], f"{a}: expected one value fact held by {a} alone"
            fact = facts[0]
            assert parse_values(fact.text, items) == values[a], f"{fact.id}: states other values than {values[a]}"
            assert fact.mentioned_in(f"My {VALUES_INTRO} {fmt(values[a])}."), f"{fact.id}: mention misses"
            backwards = dict(reversed(values[a].items()))  # the same values, stated in another item order
            assert fact.mentioned_in(f"My {VALUES_INTRO} {fmt(backwards)}."), (
                f"{fact.id}: mention misses the values stated in another item order (regenerate the file)")
        assert len(set(totals.values())) == 1 and min(totals.values()) > 0, f"unequal totals {totals}"
        assert sorted(task.needed_facts) == sorted(f"{a}_values" for a in s.agent_ids), task.needed_facts
        first = s.agent_ids[0]
        everything = {a: fmt(items) if a == first else fmt(dict.fromkeys(items, 0)) for a in s.agent_ids}
        assert judge_deal(items, values, everything).valid, "expected at least one valid split"
        split = reference_split(items, values, s.agent_ids)
        result = judge_deal(items, values, {a: fmt(t) for a, t in split.items()})
        assert result.valid and result.pareto_optimal, f"reference split {split} is not a Pareto-optimal deal"
        assert min(result.points.values()) > 0, f"expected a Pareto-optimal split where both score, got {result}"

    def policy(self, inp: PolicyInput) -> str:
        items, verb = inp.task.deal_items, inp.task.commitment.verb
        order = list(inp.names)
        partner = next(a for a in order if a != inp.me)
        mine = next((v for f in inp.facts if (v := parse_values(f.text, items)) is not None), None)
        theirs = None
        for m in inp.messages:
            if m.sender == partner and (v := parse_values(m.content, items)) is not None:
                theirs = v
        if mine is None:
            return "I care about some items more than others, but I cannot put numbers on it. What do you value?"
        said = any(m.sender == inp.me and parse_values(m.content, items) is not None for m in inp.messages)
        statement = f"My {VALUES_INTRO} {fmt(mine)}."
        if theirs is None:
            return f"{statement} What are yours?" if not said else "Please tell me your values per item."
        split = reference_split(items, {inp.me: mine, partner: theirs}, order)
        proposal = (f"Each item to whoever values it more: I take {fmt(split[inp.me])}, "
                    f"you take {fmt(split[partner])}.\n{verb}: {fmt(split[inp.me])}")
        return proposal if said else f"{statement}\n{proposal}"

    def shortcut(self, scenario: Scenario, me: str) -> str | None:
        """Full state: state the partner's private values and commit to the reference split at once."""
        deal, verb, order = scenario.task.deal, scenario.task.commitment.verb, scenario.agent_ids
        if deal is None or len(order) != 2:
            return None
        items = deal.items
        partner = next(a for a in order if a != me)
        values = {a: next((v for f in scenario.facts_of(a) if (v := parse_values(f.text, items)) is not None), None)
                  for a in order}
        mine, theirs = values[me], values[partner]
        if mine is None or theirs is None:
            return None
        split = reference_split(items, {me: mine, partner: theirs}, order)
        return (f"You value the items at {fmt(theirs)}.\n"
                f"Each item to whoever values it more: I take {fmt(split[me])}, you take {fmt(split[partner])}.\n"
                f"{verb}: {fmt(split[me])}")

    def withhold(self, scenario: Scenario) -> Scenario:
        """Each agent's value fact loses its numbers: no one can say or learn what anything is worth."""
        data = scenario.model_dump()
        data["facts"] = [{**f, "text": VAGUE, "mentions": []} for f in data["facts"]]
        return Scenario.model_validate(data)


FAMILY = DealOrNoDeal()
