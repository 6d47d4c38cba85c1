"""The fourth round of rules (issue 16): the forms kept, on sentences written here, with near-misses.

None of these sentences comes from the labelled sets. The round kept a form only if it helped on
at least two of the five labelled sets and lowered no precision by more than 0.02 (README,
"Fourth round of rules").
"""

from __future__ import annotations

import asyncio

import pytest
from helpers.play import deal_scenario, play, scenario

from privy import evaluators
from privy.evaluators.deal_values import divided_items
from privy.evaluators.grounding import Context, accepts_offer, classify
from privy.simulator.episode import Episode


def _acts(text: str, previous: str) -> set[str]:
    return set(classify(text, ctx=Context(after_question=previous.rstrip().endswith("?"), heard=True,
                                          previous=previous)))


@pytest.mark.parametrize(("previous", "text"), [
    ("I'll take the lamp, you keep both rugs.", "Works for me.\nDEAL: lamp=0 rug=2"),
    ("How about the lamp for you and the rugs for me?", "I accept. DEAL: lamp=1 rug=0"),
    ("Let's go with Quill, she chaired the audit.", "fine by me. DECIDE: Quill"),
    ("Quill for the post? DECIDE: Quill", "+1. DECIDE: Quill"),
    ("you get the rugs, i get the lamp", "sounds fair!! DEAL: lamp=0 rug=2"),
    ("My offer: the lamp to you, both rugs to me.", "Very well.\nDEAL: lamp=1 rug=0"),
    ("Let's settle on Orrin.", "lgtm. SELECT: Orrin Vale"),
])
def test_an_acceptance_committing_to_an_offer_just_heard_is_a_confirmation(previous: str, text: str) -> None:
    assert accepts_offer(text, previous)
    assert "confirmation" in _acts(text, previous)


@pytest.mark.parametrize(("previous", "text"), [
    # a receipt (SWBD-DAMSL bk), not an acceptance: the sets disagree on these, left as they were
    ("I'll take the lamp, you keep both rugs.", "Okay.\nDEAL: lamp=0 rug=2"),
    ("Let's go with Quill.", "Got it.\nDECIDE: Quill"),
    # an acceptance with no offer heard: it opens a negotiation
    ("My list is Orrin Vale and Tamsin Roe.", "Works for me. SELECT: Orrin Vale"),
    # an acceptance without a commitment in the message
    ("How about the lamp for you?", "Works for me, but what about the rugs?"),
    # negated, or asked
    ("I'll take the lamp, you keep both rugs.", "That doesn't work for me. DEAL: lamp=1 rug=0"),
    ("Let's go with Quill.", "Fine by me? DECIDE: Quill"),
    # a bare "fine" and a "yes" before a commitment: measured, not kept (they lowered precision elsewhere)
    ("How about the lamp for you?", "fine. DEAL: lamp=1 rug=0"),
    ("Is Orrin on your list?", "yes. SELECT: Orrin Vale"),
])
def test_near_misses_are_no_accepted_offer(previous: str, text: str) -> None:
    assert not accepts_offer(text, previous)


def test_no_previous_message_no_acceptance() -> None:
    assert not accepts_offer("Works for me. DEAL: lamp=0 rug=2", "")
    assert "confirmation" not in _acts("Works for me. DEAL: lamp=0 rug=2", "")


def _hcg(ep: Episode) -> list[int | None]:
    return [f.message_id for f in asyncio.run(evaluators.evaluate(ep))["hallucinated_common_ground"].findings]


@pytest.mark.parametrize(("text", "items"), [
    ("you'd give me both hats", {"hat"}),
    ("I'll take the books and you keep the balls", {"book", "ball"}),
    ("balls split 1-1", {"ball"}),
    ("all 2 books to me", {"book"}),
    ("DEAL: book=2 hat=0 ball=0", {"book", "hat", "ball"}),
    # values, not a division
    ("books 3 each for me, hats nothing", set()),
    ("the ball matters to you", set()),
])
def test_divided_items(text: str, items: set[str]) -> None:
    assert divided_items(text, ("book", "hat", "ball")) == items


def test_an_attributed_division_no_one_proposed_is_hallucinated_common_ground() -> None:
    """ "since you said you'd let me have the hat" when Bob had only stated values."""
    s = deal_scenario()
    ep = play(s, "books are 3 each to me, hat 0, balls 2. you?", "hat 4, balls 3 each, books 0 for me",
              "since you said you'd let me have the hat, I'll take it with the books")
    assert _hcg(ep) == [2]
    # "as we said": the speaker's own proposal counts too, and Bob's; here no one had divided the balls
    we = play(s, "I take the books, you take the hat?", "hat 4, balls 3 each, books 0 for me",
              "as we said, balls split 1-1, right?")
    assert _hcg(we) == [2]


def test_near_misses_of_an_attributed_division_stay_clean() -> None:
    s = deal_scenario()
    # Bob did propose giving the hat away
    offered = play(s, "books are 3 each to me. you?", "books 0 for me. I'll give you the hat if I keep the balls",
                   "since you said you'd let me have the hat, I'll take it")
    assert _hcg(offered) == []
    # the division is the speaker's own consequence, after "so": only the values are attributed
    own = play(s, "books are 3 each to me, hat 0. you?", "balls matter to me, 3 each. books zero",
               "as you said, balls matter to you, so keep them and I'll take the books")
    assert _hcg(own) == []
    # "as we said" over a division the speaker had proposed
    mine = play(s, "I'll take the books, you keep the hat and the balls?", "hat 4, balls 3 each, books 0 for me",
                "as we said, I take the books")
    assert _hcg(mine) == []


FRIENDS = """
id: friends
title: friends
context: Ann and Bob look for the one friend they share.
agents:
  - {id: ann, name: Ann, goal: find the shared friend}
  - {id: bob, name: Bob, goal: find the shared friend}
facts:
  - {id: ann_noor, text: "Noor Adler studied at Leiden and works at Initech; she climbs.", holders: [ann],
     mentions: [{literal: Noor Adler}]}
  - {id: bob_noor, text: "Noor Adler studied at Leiden and works at Initech; she climbs.", holders: [bob],
     mentions: [{literal: Noor Adler}]}
  - {id: bob_pim, text: "Pim Varga studied at Porto and works at Globex; he sails.", holders: [bob],
     mentions: [{literal: Pim Varga}]}
task:
  kind: select
  commitment: {verb: SELECT}
  answer: Noor Adler
  needed_facts: [ann_noor, bob_noor]
"""


def _clarifications(*texts: str) -> list[int | None]:
    ep = play(scenario(FRIENDS), *texts)
    return [f.message_id for f in asyncio.run(evaluators.evaluate(ep))["grounding_acts"].findings
            if f.kind == "clarification"]


@pytest.mark.parametrize("check", ["leiden grad?", "oh nice, the one at Initech?", "The climbing one, right?"])
def test_a_check_of_a_name_just_heard_by_a_detail_is_a_clarification(check: str) -> None:
    assert _clarifications("Noor Adler is on my list", check) == [1]


@pytest.mark.parametrize(("first", "check"), [
    ("my list is short", "leiden grad?"),  # no name heard before it
    ("Noor Adler is on my list", "did she study at Leiden?"),  # a yes/no question of its own
    ("Noor Adler is on my list", "Noor Adler from Leiden?"),  # names the person: an echo's business
    ("Noor Adler is on my list", "i never said anything about leiden??"),  # a clause with a subject
    ("Noor Adler is on my list", "so the Leiden one?"),  # an inference, a proposal
    ("Noor Adler is on my list", "funny how Leiden keeps turning up in all of these lists?"),  # too long
])
def test_near_misses_of_a_check_by_detail_stay_clean(first: str, check: str) -> None:
    assert _clarifications(first, check) == []


GAME = """
id: game
title: twenty questions
context: Oda picked one item; Ren asks yes/no questions and guesses.
agents:
  - {id: ren, name: Ren, goal: guess}
  - {id: oda, name: Oda, goal: answer}
facts:
  - {id: items, text: "lantern, otter, tuba", holders: [ren, oda], mentions: []}
  - {id: secret, text: "The secret item is the otter.", holders: [oda],
     mentions: [{regex: '\\\\bit is the otter\\\\b'}]}
task:
  kind: answer
  commitment: {verb: GUESS}
  answer: otter
  needed_facts: [secret]
  committers: [ren]
"""


def _questions(*texts: str) -> list[int | None]:
    ep = play(scenario(GAME), *texts)
    return [f.message_id for f in asyncio.run(evaluators.evaluate(ep))["grounding_acts"].findings
            if f.kind == "question"]


def test_the_askers_bare_fragment_is_a_question() -> None:
    """ "fur" from the side that asks, after a plain answer: a yes/no question with its "?" dropped."""
    assert _questions("metal?", "no", "fur", "yes") == [0, 2]


@pytest.mark.parametrize("third", ["ok", "hmm", "lol", "yes", "exactly", "42"])
def test_near_misses_of_a_bare_fragment(third: str) -> None:
    """An acknowledgement, an interjection, a yes, an agreement, a number: no fragment question."""
    assert 2 not in _questions("metal?", "nope", third, "yes")


def test_the_answerers_one_word_and_an_answer_to_a_question_are_no_fragment_questions() -> None:
    # "fur?" asks; Oda's one-word answer "whiskers" holds the answer fact's side: not a question
    assert _questions("fur?", "whiskers", "GUESS: otter") == [0]
    # Ren's "actual fur" answers Oda's clarification question: an answer, not a question
    assert _questions("fur", "fur as in real fur?", "actual", "yes") == [0, 1]
