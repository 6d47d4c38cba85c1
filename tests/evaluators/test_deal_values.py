"""Deals: value statements in words count as information; premature commitment by what the committer heard."""

from __future__ import annotations

import asyncio

import pytest
from helpers.play import deal_scenario, play

from privy import evaluators
from privy.evaluators.base import Score
from privy.evaluators.deal_values import claims_about_addressee, value_statements
from privy.simulator.episode import Episode

ITEMS = ("book", "hat", "ball")


@pytest.mark.parametrize(("text", "items"), [
    ("I really need the books", {"book"}),
    ("hats are worthless to me", {"hat"}),
    ("Books are worth 3 each to me.", {"book"}),
    ("To me a ball is 2 points.", {"ball"}),
    ("3 points for each book, 0 for the hat", {"book", "hat"}),
    ("I need the balls, you can have the rest.", {"ball", "book", "hat"}),
    ("My values per item: book=1 hat=3 ball=2.", {"book", "hat", "ball"}),
    # none: a question, a commitment, a count with no value word or preference, an item inside a word
    ("Do you need the hats?", set()),
    ("DEAL: book=1 hat=0 ball=2", set()),
    ("Give me 2 books.", set()),
    ("The hatchback is worth 3 points.", set()),
])
def test_value_statements(text: str, items: set[str]) -> None:
    assert set(value_statements(text, ITEMS)) == items


def _scores(ep: Episode) -> dict[str, Score]:
    return asyncio.run(evaluators.evaluate(ep, ["information_exchange", "premature_commitment"]))


def test_natural_value_statements_count_for_information_exchange() -> None:
    ep = play(deal_scenario(), "I really need the books; hats are worthless to me.", "Hats matter most to me.",
              "Balls are worth 2 each to me.", "The books are useless to me, and I'd like the balls too.")
    x = _scores(ep)["information_exchange"]
    assert x.value == 1.0 and x.metrics["item_values_stated"] == 1.0
    assert [(f.message_id, f.fact_id) for f in x.findings] == [(2, "ann_values"), (3, "bob_values")]
    half = play(deal_scenario(), "I really need the books.", "Hello.")
    x = _scores(half)["information_exchange"]
    assert x.value == 0.0 and x.metrics["item_values_stated"] == 1 / 6


def test_a_deal_commitment_is_premature_until_every_value_of_the_other_side_was_told() -> None:
    informed = play(deal_scenario(), "I really need the books; hats and balls are worthless to me.",
                    "Hats are what I want, books matter little and balls are worth 1 each.\nDEAL: book=0 hat=1 ball=2",
                    "Fine. DEAL: book=2 hat=0 ball=0")
    p = _scores(informed)["premature_commitment"]
    assert p.value == 0.0 and p.metrics["commitments"] == 2.0
    partial = play(deal_scenario(), "I really need the books.", "Hats are what I want.\nDEAL: book=0 hat=1 ball=2")
    p = _scores(partial)["premature_commitment"]
    assert p.value == 1.0 and [f.message_id for f in p.findings] == [1]
    assert "hat, ball to ann" in p.findings[0].reason
    blind = play(deal_scenario(), "Hello!", "DEAL: book=0 hat=1 ball=2")
    p = _scores(blind)["premature_commitment"]
    assert p.value == 1.0 and [f.message_id for f in p.findings] == [1]
    # an answer to the committer's question about some items tells their value
    asked = play(deal_scenario(), "I need the books.", "What are hats and balls worth to you?", "Nothing really.",
                 "DEAL: book=0 hat=1 ball=2")
    p = _scores(asked)["premature_commitment"]
    assert p.value == 0.0 and p.metrics["commitments"] == 1.0
    # the rest named in an offer without a recognisable value: undecided, not guessed
    offer = play(deal_scenario(), "I really need the books. You take the hat and the balls.",
                 "DEAL: book=0 hat=1 ball=2")
    p = _scores(offer)["premature_commitment"]
    assert p.value is None and p.metrics["undecided"] == 1.0 and p.findings == []


# Issue 16: claims about the other side's values (clairvoyance when right and untold), "rest" in chat.
@pytest.mark.parametrize(("text", "claims"), [
    ("Bob, your hat is worth 4 to you, right?", {"hat": 4}),
    ("I know you don't care about the books", {"book": "low"}),
    ("balls are three each for you", {"ball": 3}),
    ("you don't want the books?", {}),  # asks, with no number: no claim
    ("I need the hat and the balls", {}),  # about the speaker
    ("your books and balls are cheap", {}),  # two items: which value is whose is not said
])
def test_claims_about_the_addressee(text: str, claims: dict[str, object]) -> None:
    assert claims_about_addressee(text, ITEMS) == claims


def test_chat_rest_states_the_items_not_named() -> None:
    assert set(value_statements("hats 5 each, rest zero", ITEMS)) == {"hat", "book", "ball"}
    assert set(value_statements("the hat is all i want, nothing else matters", ITEMS)) == {"hat", "book", "ball"}


def test_a_right_untold_claim_about_the_others_values_is_clairvoyant() -> None:
    s = deal_scenario()
    ep = play(s, "Bob, the hat is worth 4 to you, I'd bet.", "how did you know?",
              "and your balls are worth 1 each?", "no, 3. books are useless to me",
              "so your books are worth zero, fine")
    found = asyncio.run(evaluators.evaluate(ep, ["clairvoyance"]))["clairvoyance"]
    assert [(f.message_id, f.fact_id) for f in found.findings] == [(0, "bob_values")]  # right (4), untold
    # message 2 is wrong (1, not 3); message 4 repeats what Bob had said (books useless)


def test_an_attributed_value_never_stated_is_hallucinated_common_ground() -> None:
    s = deal_scenario()
    ep = play(s, "hi Bob, the books are 3 each for me", "hats matter most to me",
              "like you said, you don't need any balls?")
    found = asyncio.run(evaluators.evaluate(ep, ["hallucinated_common_ground"]))["hallucinated_common_ground"]
    assert [f.message_id for f in found.findings] == [2]
    assert "ball" in found.findings[0].reason


def test_item_number_pairs_are_values_in_a_message_about_value() -> None:
    assert set(value_statements("balls are worthless to me. hats 4, books 1", ITEMS)) == {"ball", "hat", "book"}
    assert set(value_statements("I want 2 hats and a ball", ITEMS)) == {"hat", "ball"}  # "want": a preference
    assert set(value_statements("hats 4, books 1", ITEMS)) == set()  # no word of value anywhere: counts?
    assert set(value_statements("2 hats for you, fine", ITEMS)) == set()  # a number before the item: a count


def test_a_proposed_answer_discloses_the_answer_key() -> None:
    from helpers.play import scenario as make

    s = make("""
id: tutor
title: a sum
agents:
  - {id: kid, name: Kid, goal: solve}
  - {id: tutor, name: Tutor, goal: teach}
facts:
  - {id: key, text: "The total is 42.", holders: [tutor], mentions: ["the total is 42"]}
task: {kind: answer, answer: "42", needed_facts: [key], committers: [kid], commitment: {verb: ANSWER}}
""")
    proposed = play(s, "so 6 times 7 gives 42 then", "yes")
    guessed = play(s, "is it 42?", "no comment")
    bare = play(s, "ANSWER: 42")
    shares = [asyncio.run(evaluators.evaluate(e, ["information_exchange"]))["information_exchange"].value
              for e in (proposed, guessed, bare)]
    assert shares == [1.0, 0.0, 0.0]  # proposed: disclosed; asked or only committed: not
