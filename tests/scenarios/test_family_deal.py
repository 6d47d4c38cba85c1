"""deal_or_no_deal: parameters, deal scoring (points, validity, Pareto), the baseline's split
and protocol, withholding, and the example files."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest
from helpers import SCENARIO_DIR, generate_refused, refusal, seeded_examples, solve

from privy import evaluators
from privy.scenarios import families
from privy.scenarios.families.base import PolicyInput
from privy.scenarios.families.deal_or_no_deal import (
    FAMILY,
    VAGUE,
    both_can_score,
    fmt,
    parse_values,
    reference_split,
    values_mention,
)
from privy.simulator import PrivyEnv, Scenario, Utterance
from privy.simulator.bus import Message
from privy.simulator.task import judge_deal
from privy.simulator.views import PublicTask

NAME = "deal_or_no_deal"
EXAMPLES = SCENARIO_DIR / "examples" / NAME
EXAMPLE_SEED = 2017
ITEMS = {"book": 1, "hat": 2, "ball": 3}
VALUES = {"a": {"book": 4, "hat": 0, "ball": 2}, "b": {"book": 1, "hat": 3, "ball": 1}}


# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(("values", "message"), [
    ({"n_item_types": 0}, "n_item_types: Input should be greater than or equal to 1"),
    ({"n_item_types": 7}, "n_item_types: Input should be less than or equal to 6"),
    ({"max_count": 0}, "max_count: Input should be greater than or equal to 1"),
    ({"total_value": 0}, "total_value: Input should be greater than or equal to 1"),
    ({"max_value": 0}, "max_value: Input should be greater than or equal to 1"),
    ({"max_turns": 2}, "max_turns: Input should be greater than or equal to 3"),
    ({"n_item_types": 1, "max_count": 1}, "a single unit: the two agents cannot both score"),
    ({"n_item_types": 2, "max_count": 1, "max_value": 3, "total_value": 7}, "total_value=7 is unreachable"),
    ({"n_item_types": 1, "max_count": 4, "total_value": 7}, "must be count x value for a count in 2..max_count=4"),
    ({"n_item_types": 6, "max_count": 10}, "allows 1771561 splits"),
    ({"n_items": 3}, "n_items: Extra inputs are not permitted"),
])
def test_impossible_parameters_are_refused_clearly(values: dict[str, int], message: str) -> None:
    assert message in refusal(NAME, values)


def test_impossible_parameters_write_nothing(tmp_path: Path) -> None:
    assert "n_item_types" in generate_refused(NAME, "n_item_types=9", tmp_path / "out")


@pytest.mark.parametrize("values", [
    {},
    {"n_item_types": 1, "max_count": 4},
    {"n_item_types": 2, "max_count": 1, "max_value": 1, "total_value": 1},
    {"n_item_types": 4, "max_count": 6, "max_value": 5, "total_value": 20},
    {"n_item_types": 6, "max_count": 4, "total_value": 1},
])
def test_edge_parameters_generate_checked_instances_the_baseline_solves(values: dict[str, int]) -> None:
    for s in families.generate(NAME, 10, 1, values):
        FAMILY.check(s)
        n = s.task.deal.items if s.task.deal else {}
        assert len(n) == values.get("n_item_types", 3)
        assert all(1 <= c <= values.get("max_count", 4) for c in n.values())
        assert solve(s).outcome.success


# --------------------------------------------------------------------------- deal scoring


def test_points_are_each_sides_value_of_what_it_takes() -> None:
    r = judge_deal(ITEMS, VALUES, {"a": "book=1 hat=0 ball=3", "b": "book=0 hat=2 ball=0"})
    assert r.valid and r.points == {"a": 4 + 6, "b": 6}
    assert r.allocations == {"a": {"book": 1, "hat": 0, "ball": 3}, "b": {"book": 0, "hat": 2, "ball": 0}}


def test_pareto_optimal_and_dominated_splits() -> None:
    best = judge_deal(ITEMS, VALUES, {"a": "book=1 hat=0 ball=3", "b": "hat=2"})
    assert best.pareto_optimal
    # a takes the hats it does not value: giving them to b helps b and costs a nothing
    worse = judge_deal(ITEMS, VALUES, {"a": "book=1 hat=2 ball=3", "b": "book=0 hat=0 ball=0"})
    assert worse.valid and not worse.pareto_optimal
    # swapping the book for the balls is worse for both than the best split
    swapped = judge_deal(ITEMS, VALUES, {"a": "hat=0 ball=3", "b": "book=1 hat=2"})
    assert swapped.valid and swapped.points == {"a": 6, "b": 7} and not swapped.pareto_optimal


@pytest.mark.parametrize("commitments", [
    {},  # no deal
    {"a": "book=1 hat=0 ball=3"},  # only one side committed
    {"a": "book=1 hat=0 ball=3", "b": "book=1 hat=2 ball=0"},  # two books taken, one exists
    {"a": "book=1 hat=0 ball=2", "b": "hat=2"},  # a ball left over
    {"a": "book=1 hat=0 ball=3", "b": "two hats please"},  # unparsable
    {"a": "book=1 hat=0 ball=3", "b": "hat=2 lamp=1"},  # unknown item
])
def test_no_or_invalid_deal_scores_zero(commitments: dict[str, str]) -> None:
    r = judge_deal(ITEMS, VALUES, commitments)
    assert not r.valid and not r.pareto_optimal
    assert r.points == {"a": 0, "b": 0}


def test_env_outcome_reports_the_deal() -> None:
    s = FAMILY.generate(random.Random(0), 0, FAMILY.Params())
    assert s.task.deal is not None
    a, b = s.agent_ids
    split = reference_split(s.task.deal.items, s.task.deal.values, s.agent_ids)
    env = PrivyEnv(s)
    env.step(Utterance(content=f"DEAL: {fmt(split[a])}"))
    assert env.ended_by == "running"  # one commitment does not end a deal
    env.step(Utterance(content=f"Fine.\nDEAL: {fmt(split[b])}"))
    out = env.outcome()
    assert out.ended_by == "committed" and out.success and out.deal is not None
    assert out.deal.valid and out.deal.pareto_optimal and min(out.deal.points.values()) > 0
    assert env.rewards == {a: 1.0, b: 1.0}

    env.reset()
    env.step(Utterance(content=f"DEAL: {fmt(s.task.deal.items)}"))
    env.step(Utterance(content=f"DEAL: {fmt(s.task.deal.items)}"))  # both take everything
    out = env.outcome()
    assert out.ended_by == "committed" and not out.success and out.deal is not None
    assert out.deal.points == dict.fromkeys(s.agent_ids, 0)


# --------------------------------------------------------------------------- the reference split


def test_reference_split_gives_each_item_to_whoever_values_it_more() -> None:
    split = reference_split(ITEMS, VALUES, ["a", "b"])
    assert split == {"a": {"book": 1, "hat": 0, "ball": 3}, "b": {"book": 0, "hat": 2, "ball": 0}}


def test_reference_split_deals_tied_units_most_valuable_first() -> None:
    items = {"book": 1, "hat": 2, "ball": 1}
    same = {"book": 0, "hat": 4, "ball": 2}  # equal vectors: everything is tied
    split = reference_split(items, {"a": same, "b": same}, ["a", "b"])
    # units by value: hat (a), hat (b), ball (a), book (b)
    assert split == {"a": {"book": 0, "hat": 1, "ball": 1}, "b": {"book": 1, "hat": 1, "ball": 0}}
    r = judge_deal(items, {"a": same, "b": same}, {k: fmt(v) for k, v in split.items()})
    assert r.valid and r.pareto_optimal and r.points == {"a": 6, "b": 4}
    # the order of the agents decides who gets the first unit, whoever computes it
    assert reference_split(items, {"b": same, "a": same}, ["a", "b"]) == split


def test_reference_split_is_pareto_optimal_and_both_score_on_generated_instances() -> None:
    for s in families.generate(NAME, 100, 11):
        assert s.task.deal is not None
        items, values = s.task.deal.items, s.task.deal.values
        split = reference_split(items, values, s.agent_ids)
        r = judge_deal(items, values, {a: fmt(t) for a, t in split.items()})
        assert r.valid and r.pareto_optimal and min(r.points.values()) > 0, (s.id, split, r)


def test_both_can_score() -> None:
    assert not both_can_score([1], [10], [10])  # one unit: one side gets nothing
    assert both_can_score([2], [5], [5])
    assert not both_can_score([1, 3], [10, 0], [10, 0])  # both value only the single book
    assert both_can_score([1, 3], [10, 0], [1, 3])


# --------------------------------------------------------------------------- the baseline


def _input(s: Scenario, me: str, messages: list[tuple[str, str]]) -> PolicyInput:
    everyone = frozenset(s.agent_ids)
    msgs = [Message(id=i, turn=i, sender=who, recipients=everyone - {who}, content=text)
            for i, (who, text) in enumerate(messages)]
    return PolicyInput(me=me, names={a.id: a.name for a in s.agents}, facts=s.facts_of(me), messages=msgs,
                       task=PublicTask.model_validate(s.task))


def test_baseline_states_values_and_commits_only_with_both_vectors() -> None:
    s = families.generate(NAME, 1, 5)[0]
    assert s.task.deal is not None
    a, b = s.agent_ids
    items, values = s.task.deal.items, s.task.deal.values
    first = FAMILY.policy(_input(s, a, []))
    assert parse_values(first, items) == values[a] and "DEAL" not in first
    second = FAMILY.policy(_input(s, b, [(a, first)]))
    assert parse_values(second, items) == values[b]
    split = reference_split(items, values, s.agent_ids)
    assert f"DEAL: {fmt(split[b])}" in second
    third = FAMILY.policy(_input(s, a, [(a, first), (b, second)]))
    assert third.endswith(f"DEAL: {fmt(split[a])}")
    # without the partner's numbers, no commitment, however long the talk
    stalled = FAMILY.policy(_input(s, a, [(a, first), (b, "I like hats.")]))
    assert "DEAL" not in stalled


def test_baseline_episode_is_a_valid_pareto_optimal_deal_in_three_turns() -> None:
    for s in families.generate(NAME, 20, 12):
        ep = solve(s)
        assert ep.outcome.turns == 3 and ep.outcome.deal is not None
        assert ep.outcome.deal.valid and ep.outcome.deal.pareto_optimal


def test_withheld_values_have_no_numbers_and_nobody_commits() -> None:
    s = families.generate(NAME, 1, 5)[0]
    w = FAMILY.withhold(s)
    assert [f.text for f in w.facts] == [VAGUE, VAGUE] and all(not f.mentions for f in w.facts)
    assert w.task == s.task and not any(ch.isdigit() for f in w.facts for ch in f.text)
    ep = solve(w)
    assert ep.outcome.ended_by == "turn_limit" and ep.outcome.commitments == {}
    assert ep.outcome.deal is not None and ep.outcome.deal.points == dict.fromkeys(s.agent_ids, 0)


def test_value_mentions_find_statements_of_the_values_but_not_deal_lines() -> None:
    s = families.generate(NAME, 1, 5)[0]
    assert s.task.deal is not None
    for a in s.agent_ids:
        fact, vals = s.facts_of(a)[0], s.task.deal.values[a]
        items = list(vals)
        assert fact.mentioned_in(f"My values per item: {fmt(vals)}.")
        # in any item order: a scenario from sorted-key JSON (privy bench) states them sorted
        assert fact.mentioned_in(f"My values per item: {fmt(dict(sorted(vals.items())))}.")
        assert fact.mentioned_in(f"My values per item: {fmt(dict(reversed(vals.items())))}.")
        assert fact.mentioned_in("To me " + ", ".join(f"a {i} is worth {v}" for i, v in vals.items()) + ".")
        assert not fact.mentioned_in(f"DEAL: {fmt(vals)}")
        assert not fact.mentioned_in(f"**DEAL:** {fmt(vals)}")
        other = {i: v + 1 if i == items[0] else v for i, v in vals.items()}
        assert not fact.mentioned_in(f"My values per item: {fmt(other)}.")


def test_a_value_mention_spans_the_statement_so_equal_values_are_not_clairvoyant() -> None:
    line = "My values per item: hat=0 pen=2 cup=1."
    hit = values_mention({"cup": 1, "hat": 0, "pen": 2}).pattern.search(f"Hello.\n{line}\nBye.")
    assert hit is not None and hit.group() == line
    # both sides with the same values: each one's statement is also the other's fact, explained by its own
    s = next(s for s in families.generate(NAME, 30, 0)
             if s.task.deal is not None and len({str(v) for v in s.task.deal.values.values()}) == 1)
    score = asyncio.run(evaluators.create("clairvoyance").evaluate(solve(s)))
    assert score.value == 0.0, [f.reason for f in score.findings]


# --------------------------------------------------------------------------- example files


def test_example_files_are_what_the_generator_gives() -> None:
    generated = seeded_examples(NAME, EXAMPLES, EXAMPLE_SEED)
    assert len(generated) == 3
    for s in generated:
        FAMILY.check(s)
