"""twenty_questions: parameters, the candidate table, a truthful answerer, a guesser that only
guesses what the answers determine, withholding, and the example files."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from helpers import SCENARIO_DIR, generate_refused, refusal, seeded_examples, solve

from privy.scenarios import families
from privy.scenarios.families.base import PolicyInput
from privy.scenarios.families.twenty_questions import (
    FAMILY,
    FORGOTTEN,
    POOL,
    QUESTIONS,
    SECRET_INTRO,
    UNKNOWN,
    parse_table,
    secret_mention,
    strategy_depth,
)
from privy.simulator import Scenario
from privy.simulator.bus import Message
from privy.simulator.views import PublicTask

NAME = "twenty_questions"
EXAMPLES = SCENARIO_DIR / "examples" / NAME
EXAMPLE_SEED = 2017


def roles(s: Scenario) -> tuple[str, str]:
    guesser = s.task.committers[0]
    return guesser, next(a for a in s.agent_ids if a != guesser)


def with_secret(s: Scenario, item: str) -> Scenario:
    """The same instance with another candidate as the secret."""
    data = s.model_dump(mode="json")
    for f in data["facts"]:
        if f["id"] == "secret":
            f["text"] = f"{SECRET_INTRO}{item}."
            f["mentions"] = [secret_mention(item).model_dump(exclude_none=True)]
    data["task"]["answer"] = item
    return Scenario.model_validate(data)


def _input(s: Scenario, me: str, messages: list[tuple[str, str]]) -> PolicyInput:
    everyone = frozenset(s.agent_ids)
    msgs = [Message(id=i, turn=i, sender=who, recipients=everyone - {who}, content=text)
            for i, (who, text) in enumerate(messages)]
    return PolicyInput(me=me, names={a.id: a.name for a in s.agents}, facts=s.facts_of(me), messages=msgs,
                       task=PublicTask.model_validate(s.task))


def table_of(s: Scenario) -> tuple[list[str], dict[str, dict[str, bool]]]:
    parsed = parse_table(s.fact("candidates").text)
    assert parsed is not None
    return parsed


# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(("values", "message"), [
    ({"n_candidates": 1}, "n_candidates: Input should be greater than or equal to 2"),
    ({"n_candidates": 24}, f"n_candidates: Input should be less than or equal to {len(POOL)}"),
    ({"n_attributes": 0}, "n_attributes: Input should be greater than or equal to 1"),
    ({"n_attributes": 13}, f"n_attributes: Input should be less than or equal to {len(QUESTIONS)}"),
    ({"extra_questions": -1}, "extra_questions: Input should be greater than or equal to 0"),
    ({"n_candidates": 9, "n_attributes": 3}, "n_attributes=3 yes/no questions tell at most 8 items apart; "
                                             "n_candidates=9 needs n_attributes >= 4"),
    ({"n_candidates": 8, "n_attributes": 3}, "no 3 of the 12 questions tell more than 7 of the pool's items apart"),
    ({"n_candidates": 23, "n_attributes": 10}, "tell more than 22"),
    ({"secret": "cat"}, "secret: Extra inputs are not permitted"),
])
def test_impossible_parameters_are_refused_clearly(values: dict[str, int], message: str) -> None:
    assert message in refusal(NAME, values)


def test_impossible_parameters_write_nothing(tmp_path: Path) -> None:
    assert "n_candidates" in generate_refused(NAME, "n_candidates=99", tmp_path / "out")


@pytest.mark.parametrize("values", [
    {"n_candidates": 2, "n_attributes": 1},
    {"n_candidates": 7, "n_attributes": 3, "extra_questions": 0},
    {"n_candidates": 23, "n_attributes": 11},
    {"n_candidates": 4, "n_attributes": 12},
])
def test_edge_parameters_generate_checked_instances_the_baseline_solves(values: dict[str, int]) -> None:
    for s in families.generate(NAME, 10, 1, values):
        FAMILY.check(s)
        questions, table = table_of(s)
        assert len(table) == values["n_candidates"] and len(questions) == values["n_attributes"]
        ep = solve(s)
        assert ep.outcome.success
        if values.get("extra_questions") == 0:
            assert ep.outcome.turns <= s.limits.max_turns


# --------------------------------------------------------------------------- the table


def test_the_pool_tells_every_item_apart_and_every_question_matters() -> None:
    assert len(set(POOL.values())) == len(POOL)
    assert all(len(row) == len(QUESTIONS) and set(row) <= {"0", "1"} for row in POOL.values())
    for j in range(len(QUESTIONS)):
        assert 0 < sum(row[j] == "1" for row in POOL.values()) < len(POOL), QUESTIONS[j]


def test_the_table_is_public_and_the_secret_private() -> None:
    for s in families.generate(NAME, 20, 3):
        guesser, answerer = roles(s)
        assert [f.id for f in s.facts_of(guesser)] == ["candidates"]
        assert {f.id for f in s.facts_of(answerer)} == {"candidates", "secret"}
        assert s.task.answer is not None and s.task.answer not in s.context


def test_max_turns_leave_room_for_the_strategy_and_the_extra_questions() -> None:
    for extra in (0, 3):
        for s in families.generate(NAME, 20, 4, {"extra_questions": extra}):
            depth = strategy_depth(list(table_of(s)[1]), *table_of(s))
            assert s.limits.max_turns == 2 * (depth + 1 + extra) + 1


# --------------------------------------------------------------------------- the answerer


def test_answerer_is_truthful_for_every_secret_and_question() -> None:
    for s in families.generate(NAME, 10, 5, {"n_candidates": 10, "n_attributes": 8}):
        guesser, answerer = roles(s)
        questions, table = table_of(s)
        for secret in table:
            t = with_secret(s, secret)
            for q in questions:
                reply = FAMILY.policy(_input(t, answerer, [(guesser, q)]))
                truth = POOL[secret][QUESTIONS.index(q)] == "1"
                assert reply == ("Yes." if truth else "No."), (secret, q, reply)
                assert table[secret][q] == truth
                assert secret not in reply
            for item in table:
                reply = FAMILY.policy(_input(t, answerer, [(guesser, f"Is it the {item}?")]))
                expected = f"Yes, it is the {item}." if item == secret else f"No, it is not the {item}."
                assert reply == expected
                assert t.fact("secret").mentioned_in(reply) == (item == secret)


def test_answerer_answers_the_last_question_only() -> None:
    s = families.generate(NAME, 1, 6)[0]
    guesser, answerer = roles(s)
    questions, table = table_of(s)
    secret = s.task.answer or ""
    q = next(q for q in questions if not table[secret][q])
    history = [(guesser, q), (answerer, "No."), (guesser, "Hmm, tell me anything.")]
    reply = FAMILY.policy(_input(s, answerer, history))
    assert not reply.startswith(("Yes", "No")) and secret not in reply


def test_forgetful_answerer_only_says_it_does_not_know() -> None:
    s = FAMILY.withhold(families.generate(NAME, 1, 6)[0])
    guesser, answerer = roles(s)
    assert s.fact("secret").text == FORGOTTEN and not s.fact("secret").mentions
    questions, table = table_of(s)
    for text in [*questions, *(f"Is it the {item}?" for item in table)]:
        assert FAMILY.policy(_input(s, answerer, [(guesser, text)])) == UNKNOWN


# --------------------------------------------------------------------------- the guesser


def test_guesser_finds_every_candidate_within_the_strategys_depth() -> None:
    for s in families.generate(NAME, 5, 7, {"n_candidates": 12, "n_attributes": 7}):
        questions, table = table_of(s)
        depth = strategy_depth(list(table), questions, table)
        for secret in table:
            ep = solve(with_secret(s, secret))
            assert ep.outcome.success and ep.outcome.decision == secret
            asked = [m.content for m in ep.messages if m.content in questions]
            assert len(asked) <= depth and len(set(asked)) == len(asked)


def test_guesser_guesses_only_after_the_secret_is_confirmed() -> None:
    s = families.generate(NAME, 1, 8)[0]
    guesser, answerer = roles(s)
    questions, table = table_of(s)
    history: list[tuple[str, str]] = []
    for _ in range(40):  # the answerer never helps: no guess, ever
        text = FAMILY.policy(_input(s, guesser, history))
        assert "GUESS" not in text and text in questions
        history += [(guesser, text), (answerer, "Maybe.")]
    # a candidate confirmed by "Yes, it is the X." is guessed, even before any question
    item = list(table)[-1]
    text = FAMILY.policy(_input(s, guesser, [(guesser, f"Is it the {item}?"), (answerer, f"Yes, it is the {item}.")]))
    assert text.endswith(f"GUESS: {item}")


def test_guesser_does_not_guess_when_answers_fit_no_candidate() -> None:
    s = families.generate(NAME, 1, 9)[0]
    guesser, answerer = roles(s)
    questions, table = table_of(s)
    rows = {tuple(row[q] for q in questions) for row in table.values()}
    misfit = next(r for r in itertools.product([False, True], repeat=len(questions)) if r not in rows)
    history = [m for q, yes in zip(questions, misfit, strict=True)
               for m in ((guesser, q), (answerer, "Yes." if yes else "No."))]
    text = FAMILY.policy(_input(s, guesser, history))
    assert "GUESS" not in text and "Is it the" not in text


def test_withheld_secret_ends_without_a_guess() -> None:
    for s in families.generate(NAME, 10, 10):
        ep = solve(FAMILY.withhold(s))
        assert ep.outcome.ended_by == "turn_limit" and ep.outcome.commitments == {}
        assert not ep.outcome.success


# --------------------------------------------------------------------------- example files


def test_example_files_are_what_the_generator_gives() -> None:
    generated = seeded_examples(NAME, EXAMPLES, EXAMPLE_SEED)
    assert len(generated) == 3
    for s in generated:
        FAMILY.check(s)
