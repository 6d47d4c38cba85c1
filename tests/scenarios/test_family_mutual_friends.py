"""The mutual_friends family: parameters, difficulty, ground truth, baseline, examples.

The generic properties (100 valid instances, api_test, baseline success and failure
when withheld, determinism) are in test_families.py; these are the family's own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import SCENARIO_DIR, generate_refused, refusal, regenerated_example, solve

from privy.scenarios import families
from privy.scenarios.families.mutual_friends import FIRST_NAMES, LAST_NAMES, MutualFriendsParams
from privy.simulator import Scenario, load_scenario
from privy.simulator.views import PublicTask

NAME = "mutual_friends"
FAM = families.family(NAME)
EXAMPLES = sorted((SCENARIO_DIR / "examples" / NAME).glob("*.yaml"))


def _names(s: Scenario, agent: str) -> dict[str, str]:
    """Full name -> fact text, for one agent's list."""
    return {f.text.split(":")[0]: f.text for f in s.facts_of(agent)}


# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(("values", "message"), [
    ({"n_friends": 21}, "n_friends: 21 friends per list need 41 different people, but the name pool holds 40; "
                        "expected n_friends <= 20"),
    ({"n_friends": 1}, "n_friends: Input should be greater than or equal to 2"),
    ({"n_attributes": 5}, "n_attributes: Input should be less than or equal to 4"),
    ({"n_attributes": 0}, "n_attributes: Input should be greater than or equal to 1"),
    ({"n_friends": 3, "near_duplicates": 5}, "near_duplicates=5 exceeds the 4 friends who are not shared"),
    ({"n_agents": 3}, "n_agents: Extra inputs are not permitted"),
])
def test_impossible_parameters_are_rejected_clearly(values: dict[str, int], message: str) -> None:
    assert message in refusal(NAME, values)


def test_largest_pool_fits() -> None:
    p = MutualFriendsParams(n_friends=20, near_duplicates=38, n_attributes=4)
    for s in families.generate(NAME, 5, 0, p.model_dump()):
        FAM.check(s)
        assert all(len(s.facts_of(a)) == 20 for a in s.agent_ids)


def test_cli_writes_nothing_for_impossible_parameters(tmp_path: Path) -> None:
    output = generate_refused(NAME, "n_friends=50", tmp_path / "out")
    assert "50 friends per list need 99 different people, but the name pool holds 40" in output


# --------------------------------------------------------------------------- difficulty


@pytest.mark.parametrize("n", [2, 5, 12])
def test_n_friends_sets_list_length(n: int) -> None:
    for s in families.generate(NAME, 10, 1, {"n_friends": n}):
        assert [len(s.facts_of(a)) for a in s.agent_ids] == [n, n]
        assert f"a list of {n} friends" in s.context


def test_more_attributes_make_longer_descriptions() -> None:
    mean_len = []
    for k in (1, 2, 3, 4):
        generated = families.generate(NAME, 20, 2, {"n_attributes": k})
        texts = [f.text for s in generated for f in s.facts]
        assert all(t.count(",") == k - 1 for t in texts)
        mean_len.append(sum(map(len, texts)) / len(texts))
    assert mean_len == sorted(mean_len) and len(set(mean_len)) == 4


def _attributes(text: str) -> list[str]:
    return text.split(": ", 1)[1].rstrip(".").split(", ")


@pytest.mark.parametrize("dups", [0, 1, 3, 8])
def test_near_duplicates_share_first_name_and_all_attributes_but_one(dups: int) -> None:
    for s in families.generate(NAME, 20, 3, {"near_duplicates": dups, "n_friends": 5}):
        assert s.task.answer is not None
        first = s.task.answer.split()[0]
        shared_attrs = _attributes(_names(s, s.agent_ids[0])[s.task.answer])
        near = []
        for agent in s.agent_ids:
            for name, text in _names(s, agent).items():
                if name != s.task.answer and name.split()[0] == first:
                    near.append(name)
                    same = sum(x == y for x, y in zip(_attributes(text), shared_attrs, strict=True))
                    assert same == len(shared_attrs) - 1
        assert len(near) == dups


def test_near_duplicates_land_on_both_lists() -> None:
    sides = set()
    for s in families.generate(NAME, 20, 4, {"near_duplicates": 2}):
        assert s.task.answer is not None
        first = s.task.answer.split()[0]
        for i, agent in enumerate(s.agent_ids):
            if any(n.split()[0] == first and n != s.task.answer for n in _names(s, agent)):
                sides.add(i)
    assert sides == {0, 1}


def test_one_attribute_near_duplicates_differ_only_by_last_name() -> None:
    s = families.generate(NAME, 1, 5, {"n_attributes": 1, "near_duplicates": 2})[0]
    assert s.task.answer is not None
    attrs = {_attributes(t)[0] for a in s.agent_ids for n, t in _names(s, a).items()
             if n.split()[0] == s.task.answer.split()[0]}
    assert len(attrs) == 1


# --------------------------------------------------------------------------- ground truth


def test_name_pools_cannot_hide_one_full_name_in_another() -> None:
    """'F1 L1' is inside 'F2 L2' only if F1 ends F2 and L1 starts L2: the pools rule that out."""
    assert len(set(FIRST_NAMES)) == len(FIRST_NAMES) and len(set(LAST_NAMES)) == len(LAST_NAMES)
    assert not [(a, b) for a in FIRST_NAMES for b in FIRST_NAMES if a != b and b.lower().endswith(a.lower())]
    assert not [(a, b) for a in LAST_NAMES for b in LAST_NAMES if a != b and b.lower().startswith(a.lower())]


def test_exactly_one_shared_full_name() -> None:
    for s in families.generate(NAME, 50, 6, {"near_duplicates": 4}):
        a, b = (set(_names(s, x)) for x in s.agent_ids)
        assert a & b == {s.task.answer}
        assert s.task.kind == "select" and s.task.commitment.verb == "SELECT"
        assert sorted(s.task.needed_facts) == sorted(f.id for f in s.facts if f.text.startswith(f"{s.task.answer}:"))


def _replace_fact(s: Scenario, fact_id: str, name: str) -> Scenario:
    data = s.model_dump()
    for f in data["facts"]:
        if f["id"] == fact_id:
            f["text"] = name + ":" + f["text"].split(":", 1)[1]
            f["mentions"] = [{"literal": name}]
    return Scenario.model_validate(data)


def test_check_catches_two_shared_friends() -> None:
    s = families.generate(NAME, 1, 7)[0]
    a, b = s.agent_ids
    other = next(n for n in _names(s, a) if n != s.task.answer)
    victim = next(f for f in s.facts_of(b) if not f.text.startswith(f"{s.task.answer}:"))
    with pytest.raises(AssertionError, match="exactly one shared friend"):
        FAM.check(_replace_fact(s, victim.id, other))


def test_check_catches_no_shared_friend_and_a_wrong_answer() -> None:
    s = families.generate(NAME, 1, 8)[0]
    with pytest.raises(AssertionError, match="exactly one shared friend"):
        FAM.check(FAM.withhold(s))
    wrong = s.model_copy(update={"task": s.task.model_copy(update={"answer": "Nobody Known"})})
    with pytest.raises(AssertionError, match="exactly one shared friend"):
        FAM.check(wrong)


def test_check_catches_a_mention_hidden_in_another_name() -> None:
    s = families.generate(NAME, 1, 9)[0]
    victim = next(f for f in s.facts_of(s.agent_ids[0]) if not f.text.startswith(f"{s.task.answer}:"))
    # "X Y" inside "X Y-Z" (whole words still: "-" is no word character): a mention found in another person's fact
    inner = victim.text.split(":")[0]
    data = s.model_dump()
    data["facts"].append({"id": "extra", "text": f"{inner}-Lopez: likes chess.", "holders": [s.agent_ids[0]],
                          "mentions": [f"{inner}-Lopez"]})
    with pytest.raises(AssertionError, match="is found in fact extra"):
        FAM.check(Scenario.model_validate(data))
    # "X Y" inside "ZX Y" is no mention any more (whole words): the check lets it pass
    data = s.model_dump()
    data["facts"].append({"id": "extra", "text": f"Z{inner}: likes chess.", "holders": [s.agent_ids[0]],
                          "mentions": [f"Z{inner}"]})
    FAM.check(Scenario.model_validate(data))


# --------------------------------------------------------------------------- baseline


def test_baseline_matches_full_names_not_first_names() -> None:
    """With many near-duplicates a first-name match would be ambiguous; full names are not."""
    for s in families.generate(NAME, 30, 10, {"n_friends": 5, "near_duplicates": 8}):
        ep = solve(s)
        assert ep.outcome.success, [m.content for m in ep.messages]
        assert ep.outcome.turns == 3  # list, select, select
        assert ep.messages[1].content.endswith(f"SELECT: {s.task.answer}")


def test_baseline_says_none_match_when_withheld() -> None:
    s = families.generate(NAME, 1, 11)[0]
    w = FAM.withhold(s)
    assert len(w.facts) == len(s.facts) - 1 and len(w.task.needed_facts) == 1
    ep = solve(w)
    assert ep.outcome.ended_by == "turn_limit" and not ep.outcome.commitments
    assert "None of the friends you named are on my list." in [m.content for m in ep.messages]


def test_first_turn_lists_the_agents_own_friends() -> None:
    s = families.generate(NAME, 1, 12)[0]
    a = s.agent_ids[0]
    inp = families.PolicyInput(me=a, names={x.id: x.name for x in s.agents}, facts=s.facts_of(a), messages=[],
                               task=PublicTask.model_validate(s.task))
    text = FAM.policy(inp)
    assert text.startswith("My friends: ") and "SELECT" not in text
    assert text == "My friends: " + "; ".join(f.text for f in s.facts_of(a)) + "\nWhich of them do you know?"


def test_baseline_solves_the_hand_written_demo_and_fails_when_withheld() -> None:
    demo = load_scenario(SCENARIO_DIR / "mutual_friends.yaml")
    FAM.check(demo)
    assert solve(demo).outcome.success
    assert not solve(FAM.withhold(demo)).outcome.success


# --------------------------------------------------------------------------- examples


def test_three_examples_are_committed() -> None:
    assert len(EXAMPLES) == 3


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_equals_what_the_generator_gives(path: Path, tmp_path: Path) -> None:
    s = regenerated_example(path, NAME, tmp_path)
    FAM.check(s)
    assert solve(s).outcome.success
