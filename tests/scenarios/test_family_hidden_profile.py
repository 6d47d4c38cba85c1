"""The hidden_profile family: parameters, difficulty, ground truth, baseline, examples.

The generic properties (100 valid instances, api_test, baseline success and failure
when withheld, determinism) are in test_families.py; these are the family's own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import SCENARIO_DIR, generate_refused, refusal, regenerated_example, solve

from privy.scenarios import families
from privy.scenarios.families.hidden_profile import CANDIDATES, CONS, PROS, favourite, mention, parse_fact, scores
from privy.simulator import Scenario, load_scenario
from privy.simulator.scenario import Fact

NAME = "hidden_profile"
FAM = families.family(NAME)
EXAMPLES = sorted((SCENARIO_DIR / "examples" / NAME).glob("*.yaml"))


def _fav(s: Scenario, facts: list[Fact]) -> str | None:
    return favourite(scores((f.text for f in facts), s.task.options))


def _shared(s: Scenario) -> list[Fact]:
    return [f for f in s.facts if len(f.holders) == len(s.agents)]


# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(("values", "message"), [
    ({"n_agents": 1}, "n_agents: a hidden profile needs at least two agents to pool their facts, got 1"),
    ({"n_agents": 0}, "n_agents: a hidden profile needs at least two agents to pool their facts, got 0"),
    ({"n_agents": 6}, "n_agents: at most 5 agents are supported, got 6"),
    ({"n_agents": 2, "unique_facts": 1}, "expected unique_facts >= 2 with 2 agents"),
    ({"n_options": 2, "distractors": 1}, "expected n_options >= 3"),
    ({"n_options": 1}, "n_options: Input should be greater than or equal to 2"),
    ({"n_options": 5}, "n_options: Input should be less than or equal to 4"),
    ({"unique_facts": 4}, "unique_facts: Input should be less than or equal to 3"),
    ({"colour": "red"}, "colour: Extra inputs are not permitted"),
])
def test_impossible_parameters_are_rejected_clearly(values: dict[str, int], message: str) -> None:
    assert message in refusal(NAME, values)


def test_cli_writes_nothing_for_impossible_parameters(tmp_path: Path) -> None:
    assert "needs at least two agents" in generate_refused(NAME, "n_agents=1", tmp_path / "out")


# --------------------------------------------------------------------------- difficulty


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_n_agents_sets_the_committee(n: int) -> None:
    for s in families.generate(NAME, 10, 1, {"n_agents": n}):
        assert len(s.agents) == n
        assert s.limits.max_turns >= 2 * n  # one round to share, one to decide
        assert all(a.name in s.context for a in s.agents)


@pytest.mark.parametrize(("k", "m", "d"), [(2, 2, 0), (3, 1, 2), (4, 3, 1)])
def test_options_unique_facts_and_distractors(k: int, m: int, d: int) -> None:
    for s in families.generate(NAME, 10, 2, {"n_options": k, "unique_facts": m, "distractors": d}):
        assert len(s.task.options) == k and all(o in CANDIDATES and o in s.context for o in s.task.options)
        for a in s.agent_ids:
            own = [f for f in s.facts_of(a) if f.holders == [a]]
            assert len(own) == m + d
            assert len([f for f in own if f.id in s.task.needed_facts]) == m
        assert len(s.task.needed_facts) == m * len(s.agents)


def test_distractors_are_about_the_other_candidates() -> None:
    for s in families.generate(NAME, 20, 3, {"n_options": 4, "distractors": 2}):
        wrong = _fav(s, _shared(s))
        for f in s.facts:
            if len(f.holders) == 1 and f.id not in s.task.needed_facts:  # a distractor
                parsed = parse_fact(f.text, s.task.options)
                assert parsed is not None and parsed[1] == -1 and parsed[0] not in (s.task.answer, wrong)


def test_fact_ids_and_order_tell_nothing() -> None:
    """An agent sees its facts' ids (`privy show --as`) and their order (its prompt): neither may tell which
    facts are shared, which are its own, or whom they favour. Ids are f01, f02... over a shuffled list."""
    own_first = 0
    instances = families.generate(NAME, 50, 6, {"n_agents": 3, "distractors": 1, "n_options": 3})
    for s in instances:
        assert [f.id for f in s.facts] == [f"f{i:02d}" for i in range(1, len(s.facts) + 1)]
        names = {o.lower() for o in s.task.options} | set(s.agent_ids)
        assert not any(n in f.id for f in s.facts for n in names)
        first = s.facts_of(s.agent_ids[0])[0]
        own_first += len(first.holders) == 1
    # with facts in generation order, every agent's list would start with the shared ones
    assert 0 < own_first < len(instances)


# --------------------------------------------------------------------------- ground truth


def test_every_template_parses_and_its_mention_finds_only_itself() -> None:
    options = ["Avery", "Blake"]
    texts = [(o, sign, t.format(o=o)) for o in options for sign, pool in ((1, PROS), (-1, CONS)) for _, t, _ in pool]
    assert len({k for k, _, _ in PROS + CONS}) == len(PROS) + len(CONS)
    for (o, sign, text), (_, _, kw) in zip(texts, [x for _ in options for x in PROS + CONS], strict=True):
        assert parse_fact(text, options) == (o, sign)
        fact = Fact(id="f", text=text, holders=["x"], mentions=[mention(o, kw)])
        assert [t for _, _, t in texts if fact.mentioned_in(t)] == [text]


def test_a_hidden_profile_in_every_instance() -> None:
    """Shared facts favour a wrong option; each member alone still does; all pooled favour the answer."""
    for s in families.generate(NAME, 50, 4, {"n_agents": 4, "distractors": 1, "n_options": 4}):
        wrong, right = _fav(s, _shared(s)), _fav(s, list(s.facts))
        assert wrong is not None and right == s.task.answer != wrong
        for a in s.agent_ids:
            assert _fav(s, s.facts_of(a)) == wrong
        for f in s.facts:
            assert len(f.holders) in (1, len(s.agents))
            assert f.mentioned_in(f.text)


def _with(s: Scenario, **task: object) -> Scenario:
    data = s.model_dump()
    data["task"].update(task)
    return Scenario.model_validate(data)


def test_check_catches_broken_instances() -> None:
    s = families.generate(NAME, 1, 5)[0]
    FAM.check(s)
    wrong = _fav(s, _shared(s))
    with pytest.raises(AssertionError, match="but the answer is"):
        FAM.check(_with(s, answer=wrong))
    with pytest.raises(AssertionError, match="needed_facts"):
        FAM.check(_with(s, needed_facts=s.task.needed_facts[1:]))
    with pytest.raises(AssertionError):
        FAM.check(FAM.withhold(s))
    # a shared fact that tips the shared facts towards the answer: no hidden profile any more
    data = s.model_dump()
    used = {f.text for f in s.facts}
    answer = str(s.task.answer)
    extra = [(t.format(o=answer), kw) for _, t, kw in PROS if t.format(o=answer) not in used]
    data["facts"] += [{"id": f"extra{i}", "text": t, "holders": s.agent_ids, "mentions": [mention(answer, kw)]}
                      for i, (t, kw) in enumerate(extra)]
    with pytest.raises(AssertionError, match="the shared facts already favour the answer"):
        FAM.check(Scenario.model_validate(data))


def test_check_catches_a_fact_held_by_some_but_not_all() -> None:
    s = families.generate(NAME, 1, 6, {"n_agents": 3})[0]
    data = s.model_dump()
    data["facts"][0]["holders"] = s.agent_ids[:2]
    with pytest.raises(AssertionError, match="held by some but not all"):
        FAM.check(Scenario.model_validate(data))


# --------------------------------------------------------------------------- baseline


@pytest.mark.parametrize("n", [2, 3, 5])
def test_baseline_shares_then_decides(n: int) -> None:
    for s in families.generate(NAME, 10, 7, {"n_agents": n, "unique_facts": 2}):
        ep = solve(s)
        assert ep.outcome.success and ep.outcome.turns == 2 * n - 1
        assert all(m.content.startswith("My facts:") for m in ep.messages[:n])
        assert all(m.content.endswith(f"DECIDE: {s.task.answer}") for m in ep.messages[n - 1:])


def test_baseline_follows_the_shared_bias_without_the_unique_facts() -> None:
    for s in families.generate(NAME, 20, 8, {"distractors": 1}):
        wrong = _fav(s, _shared(s))
        w = FAM.withhold(s)
        assert not w.task.needed_facts and len(w.facts) == len(s.facts) - len(s.task.needed_facts)
        out = solve(w).outcome
        assert out.decision == wrong and not out.success


def test_policy_waits_until_everyone_has_spoken() -> None:
    s = families.generate(NAME, 1, 9, {"n_agents": 3})[0]
    ep = solve(s)
    first = ep.messages[0]
    assert "DECIDE" not in first.content
    assert [f"- {f.text}" for f in s.facts_of(first.sender)] == first.content.splitlines()[1:-1]
    assert first.content.splitlines()[-1] == "What do the rest of you know?"  # it has not heard the others yet


def test_baseline_solves_the_hand_written_demo_and_fails_without_its_unique_facts() -> None:
    """scenarios/hidden_profile.yaml is not written from the templates; the baseline scores it by word list."""
    demo = load_scenario(SCENARIO_DIR / "hidden_profile.yaml")
    assert solve(demo).outcome.success
    assert solve(FAM.withhold(demo)).outcome.decision == "Blake"


# --------------------------------------------------------------------------- examples


def test_three_examples_are_committed() -> None:
    assert len(EXAMPLES) == 3


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_equals_what_the_generator_gives(path: Path, tmp_path: Path) -> None:
    s = regenerated_example(path, NAME, tmp_path)
    FAM.check(s)
    assert solve(s).outcome.success
