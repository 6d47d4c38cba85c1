"""Mentions: a literal is a whole word, case-insensitively, unless it says ``match: substring``."""

from __future__ import annotations

import asyncio

import pytest
from helpers.play import play, scenario
from hypothesis import given, settings
from hypothesis import strategies as st

from privy import evaluators
from privy.evaluators.exchange import answer_first_named_at
from privy.evaluators.ledger import Ledger, find_all, mention_needs
from privy.evaluators.prefilter import lowered
from privy.simulator.scenario import Mention


@pytest.mark.parametrize("text", ["Ann", "ann", "ANN said so", "ask Ann.", "Ann's friend", "(Ann)", "Ann-Marie",
                                  "I met ann, yes"])
def test_a_literal_is_found_as_a_whole_word_in_any_case(text: str) -> None:
    assert Mention(literal="Ann").found_in(text)


@pytest.mark.parametrize("text", ["I am annoyed", "Annabel", "Joanne", "the annual report", "banner", "Ann_x",
                                  "Ann2", "planning"])
def test_a_short_name_inside_an_ordinary_word_is_no_mention(text: str) -> None:
    assert not Mention(literal="Ann").found_in(text)
    assert Mention(literal="ann", match="substring").found_in(text)  # what a substring literal would have found


def test_substring_matching_is_asked_for_explicitly() -> None:
    m = Mention.model_validate({"literal": "chess", "match": "substring"})
    assert m.found_in("she plays chessboxing") and not Mention(literal="chess").found_in("she plays chessboxing")
    assert m.model_dump(exclude_none=True) == {"literal": "chess", "match": "substring"}
    # the default is left out of a written file: files written before the field are unchanged
    assert Mention(literal="Ann").model_dump(exclude_none=True) == {"literal": "Ann"}
    with pytest.raises(ValueError, match="match"):
        Mention.model_validate({"literal": "x", "match": "fuzzy"})


def test_a_literal_with_punctuation_at_an_end_is_guarded_only_at_its_word_ends() -> None:
    assert Mention(literal="Dr. Ng").found_in("ask Dr. Ng!") and not Mention(literal="Dr. Ng").found_in("Dr. Nguyen")
    assert Mention(literal="$5").found_in("it costs x$5") is True  # "$" is no word character: no guard before it
    assert not Mention(literal="$5").found_in("it costs $50")


def test_a_regex_is_searched_as_written() -> None:
    assert Mention(regex="ann").found_in("annoyed")


@settings(max_examples=400, derandomize=True, deadline=None)
@given(st.text("abAB _.-1\n", max_size=30), st.text("abAB _.-1", min_size=1, max_size=4))
def test_find_all_whole_words_is_the_pattern(text: str, lit: str) -> None:
    expected = [m.span() for m in Mention(literal=lit).pattern.finditer(text)]
    assert find_all(text.lower(), lit.lower(), whole=True) == expected


SCENARIO = """
id: words
title: a name inside other words
agents:
  - {id: ann, name: Ann, goal: find the friend}
  - {id: bob, name: Bob, goal: find the friend}
facts:
  - {id: b_al, text: "Al: a chef.", holders: [bob], mentions: [Al]}
  - {id: b_ed, text: "Ed: a pilot.", holders: [bob], mentions: [{literal: Ed}]}
task: {kind: select, answer: Al, needed_facts: [b_al]}
"""


def test_clairvoyance_ignores_a_name_inside_ordinary_words() -> None:
    ep = play(scenario(SCENARIO), "I finally found it: totally normal, and I was excited about the edition.",
              "Is it Al? Or Ed?")
    led = Ledger.of(ep)
    assert led.mentioned[0] == {} and set(led.mentioned[1]) == {"b_al", "b_ed"}
    score = asyncio.run(evaluators.create("clairvoyance").evaluate(ep))
    assert score.findings == []  # message 1 is Bob's own: he holds both
    ep = play(scenario(SCENARIO), "I finally found it: totally normal, and I was excited about the edition.",
              "Hello.", "Is it Al? Or Ed?")
    score = asyncio.run(evaluators.create("clairvoyance").evaluate(ep))
    assert [(f.message_id, f.fact_id) for f in score.findings] == [(2, "b_al"), (2, "b_ed")]
    assert answer_first_named_at(ep) == 2 / 3  # "finally", "totally" do not name Al


# --- several mentions, co-occurrence ---------------------------------------------------------

DETAILS = """
id: details
title: a friend's details
agents:
  - {id: ann, name: Ann, goal: find the friend}
  - {id: bob, name: Bob, goal: find the friend}
facts:
  - id: b_tess
    text: "Tess Moreau: works at Acme, likes jazz."
    holders: [bob]
    mentions: ["Tess Moreau", {literal: Tess, near: [jazz, Acme], within: 40}]
task: {kind: select, answer: Tess Moreau, needed_facts: [b_tess]}
"""


@pytest.mark.parametrize(("text", "found"), [
    ("Tess Moreau is on my list.", True),
    ("My Tess loves jazz.", True),
    ("Someone at Acme, Tess I think.", True),
    ("Tess is on my list.", False),  # a first name alone identifies no one
    ("I like jazz.", False),
    ("Tessa loves jazz.", False),
    ("Tess is nice, and much later, after a very long digression, someone mentions jazz.", False),  # too far apart
])
def test_a_fact_is_found_by_any_of_its_mentions_and_by_a_name_with_an_attribute(text: str, found: bool) -> None:
    fact = scenario(DETAILS).fact("b_tess")
    assert fact.mentioned_in(text) is found
    for m in fact.mentions:  # the prefilter never hides a match
        if m.found_in(text):
            assert mention_needs(m).may_match(lowered(text))


def test_a_claim_about_a_facts_details_is_clairvoyant() -> None:
    ep = play(scenario(DETAILS), "Is your Tess the one who loves jazz?", "Yes.")
    score = asyncio.run(evaluators.create("clairvoyance").evaluate(ep))
    assert [(f.message_id, f.fact_id) for f in score.findings] == [(0, "b_tess")]


def test_near_round_trips_and_is_left_out_when_unused() -> None:
    m = Mention.model_validate({"literal": "Tess", "near": ["jazz"]})
    assert Mention.model_validate(m.model_dump()) == m
    assert m.model_dump(exclude_none=True) == {"literal": "Tess", "near": ["jazz"], "within": 60}
    with pytest.raises(ValueError, match="near"):
        Mention.model_validate({"regex": "(?m)^x", "near": ["jazz"]})
