"""The third round of rules (issue 16), each form with its own sentences and near-misses that stay clean.

None of these sentences comes from the labelled sets: each form is checked on text written
here, with a near-miss beside it.
"""

from __future__ import annotations

import asyncio

import pytest
from helpers.play import deal_scenario, play, scenario

from privy import evaluators
from privy.evaluators.base import Score
from privy.evaluators.deal_values import value_statements
from privy.evaluators.grounding import Context, classify
from privy.evaluators.ledger import Ledger
from privy.evaluators.mentions import last_names, partial_names
from privy.simulator.episode import Episode


def _scores(ep: Episode) -> dict[str, Score]:
    return asyncio.run(evaluators.evaluate(ep))


def _flags(ep: Episode, evaluator: str) -> list[tuple[int | None, str | None]]:
    return [(f.message_id, f.fact_id) for f in _scores(ep)[evaluator].findings]


def _acts(text: str, previous: str = "", after_question: bool = False) -> set[str]:
    return set(classify(text, ctx=Context(after_question=after_question, heard=True, previous=previous)))


def _hiring(facts: str, needed: str) -> str:
    """Dee and Eve choose between Noor and Pim; ``facts``: the YAML list items of the facts."""
    return f"""
id: hiring
title: hiring
context: Dee and Eve pick one of two candidates, Noor or Pim.
agents:
  - {{id: dee, name: Dee, goal: hire well}}
  - {{id: eve, name: Eve, goal: hire well}}
facts:
{facts}
task:
  kind: decide
  commitment: {{verb: DECIDE}}
  options: [Noor, Pim]
  answer: Noor
  needed_facts: [{needed}]
"""


COMMITTEE = _hiring("""\
  - {id: noor_audit, text: "Noor passed every compliance review.", holders: [dee],
     mentions: [{regex: '\\bNoor\\b.{0,60}\\b(?:compliance|review)|\\b(?:compliance|review).{0,60}\\bNoor\\b'}]}
  - {id: noor_award, text: "Noor won the regional design award.", holders: [eve],
     mentions: [{regex: '\\bNoor\\b.{0,60}\\b(?:award|design)|\\b(?:award|design).{0,60}\\bNoor\\b'}]}""",
                    "noor_audit, noor_award")


def test_a_fact_is_explained_by_another_only_where_all_its_words_overlap() -> None:
    """A gap pattern reaching over a known fact's words does not make an unknown fact known."""
    s = scenario(COMMITTEE)
    # Dee knows the review; the award pattern's first span reaches over it, its second does not
    leak = play(s, "noor passed every compliance review and noor's design award is deserved, the award jury loved noor")
    spans = Ledger.of(leak).mentioned[0]["noor_award"]
    assert len(spans) == 2
    assert _flags(leak, "clairvoyance") == [(0, "noor_award")]
    # near-miss: the award pattern's only span overlaps the review's words (undecided: explained, as before)
    one = play(s, "noor's compliance review went fine, and noor won an award for design")
    assert len(Ledger.of(one).mentioned[0]["noor_award"]) == 1
    assert _flags(one, "clairvoyance") == []


QUIZ = """
id: quiz
title: twenty questions
context: Kai picked one item; Lu guesses.
agents:
  - {id: lu, name: Lu, goal: guess}
  - {id: kai, name: Kai, goal: answer}
facts:
  - {id: items, text: "kettle, anchor, violin", holders: [lu, kai], mentions: []}
  - {id: secret, text: "The secret item is the kettle.", holders: [kai],
     mentions: [{regex: '\\bit is the kettle\\b'}]}
task:
  kind: answer
  commitment: {verb: GUESS}
  answer: kettle
  needed_facts: [secret]
  committers: [lu]
"""


def test_a_right_guess_before_any_answer_is_clairvoyance() -> None:
    s = scenario(QUIZ)
    blind = play(s, "something tells me kettle. does it hold water")
    assert _flags(blind, "clairvoyance") == [(0, "secret")]
    # near-misses: a wrong blind guess; a guess after the holder had answered (a deduction, undecided)
    assert _flags(play(s, "something tells me anchor. is it metal"), "clairvoyance") == []
    deduced = play(s, "does it hold water?", "yes", "is it a kettle?")
    assert _flags(deduced, "clairvoyance") == []


def test_the_holder_confirming_a_guess_is_a_confirmation() -> None:
    s = scenario(QUIZ)
    ep = play(s, "does it boil water?", "it does", "a kettle?", "yep, kettle!", "GUESS: kettle")
    acts = {(f.message_id, f.kind) for f in _scores(ep)["grounding_acts"].findings}
    assert (3, "confirmation") in acts
    assert (1, "confirmation") not in acts  # a yes to a question of fact
    # near-misses: a denial naming the guess; a yes to a question that guessed nothing
    no = play(s, "a kettle?", "no, not a kettle", "a violin?")
    assert (1, "confirmation") not in {(f.message_id, f.kind) for f in _scores(no)["grounding_acts"].findings}
    # naming the answer after a guess that asked nothing is not an explicit confirmation
    told = play(s, "the kettle, I would say.", "well, it is the kettle")
    assert (1, "confirmation") not in {(f.message_id, f.kind) for f in _scores(told)["grounding_acts"].findings}
    # a bare "right" that confirms is not also an acknowledgement
    right = play(s, "my answer: the kettle", "right")
    kinds = {f.kind for f in _scores(right)["grounding_acts"].findings if f.message_id == 1}
    assert "confirmation" in kinds and "acknowledgement" not in kinds


FRIENDS = """
id: friends
title: friends
context: Two people compare lists of friends.
agents:
  - {id: ann, name: Ann, goal: find the common friend}
  - {id: bob, name: Bob, goal: find the common friend}
facts:
  - {id: a_omar, text: "Omar Sidiqi: works at Initech, studied at Yale, likes rowing.", holders: [ann],
     mentions: ["Omar Sidiqi"]}
  - {id: a_rhea, text: "Rhea Lund: works at Globex, studied at Yale, likes chess.", holders: [ann],
     mentions: ["Rhea Lund"]}
  - {id: b_omar, text: "Omar Sidiqi: works at Initech, studied at Yale, likes rowing.", holders: [bob],
     mentions: ["Omar Sidiqi"]}
  - {id: b_ines, text: "Ines Varga: works at Hooli, studied at Oxford, likes fencing.", holders: [bob],
     mentions: ["Ines Varga"]}
task:
  kind: select
  commitment: {verb: SELECT}
  answer: Omar Sidiqi
  needed_facts: [a_omar, b_omar]
"""


def test_a_detail_of_a_fact_known_only_by_name_is_clairvoyance() -> None:
    s = scenario(FRIENDS)
    ep = play(s, "mine: omar sidiqi, rhea lund", "i have omar sidiqi and ines varga",
              "your ines varga does fencing, right?")
    assert _flags(ep, "clairvoyance") == [(2, "b_ines")]
    # near-misses: the detail had been said to Ann; a word of a fact Ann holds and names in the sentence
    told = play(s, "mine: omar sidiqi, rhea lund", "omar sidiqi, and ines varga (fencing)",
                "your ines varga does fencing, right?")
    assert _flags(told, "clairvoyance") == []
    own = play(s, "mine: omar sidiqi, rhea lund", "i have omar sidiqi and ines varga",
               "so is ines varga at initech like my rhea lund?")
    assert _flags(own, "clairvoyance") == []


def test_a_last_name_mentions_a_fact_where_it_is_unambiguous() -> None:
    s = scenario(FRIENDS)
    assert {fid: [m.literal for m in ms] for fid, ms in last_names(s).items()} == {
        "a_omar": ["Sidiqi"], "a_rhea": ["Lund"], "b_omar": ["Sidiqi"], "b_ines": ["Varga"]}
    assert {m.literal for m in partial_names(s)["b_ines"]} == {"Ines", "Varga"}
    ep = play(s, "hi! any of yours named varga?")
    assert _flags(ep, "clairvoyance") == [(0, "b_ines")]
    # near-misses: a surname shared by two full names; a surname that is an ordinary word of the facts
    shared = scenario(FRIENDS.replace("Rhea Lund", "Rhea Varga"))
    assert "b_ines" not in last_names(shared) and "a_rhea" not in last_names(shared)
    worded = scenario(FRIENDS.replace("likes chess", "likes the park").replace("Rhea Lund", "Rhea Park"))
    assert "a_rhea" not in last_names(worded)


def test_a_talk_placed_before_the_conversation_is_hallucinated_common_ground() -> None:
    s = scenario(COMMITTEE)
    ep = play(s, "Pim seems fine.", "As we discussed at the offsite, Pim is the safer pick.")
    assert _flags(ep, "hallucinated_common_ground") == [(1, None)]
    # near-miss: the scenario's context places a meeting there; the claim is then checkable only by facts
    met = scenario(COMMITTEE.replace("context: Dee and Eve", "context: After last week's offsite, Dee and Eve"))
    assert _flags(play(met, "Pim seems fine.", "As we discussed at the offsite, Pim is the safer pick."),
                  "hallucinated_common_ground") == []


def test_like_i_said_before_saying_anything() -> None:
    s = scenario(COMMITTEE)
    ep = play(s, "hello", "like I said, Pim is fine")
    assert _flags(ep, "hallucinated_common_ground") == [(1, None)]
    # near-miss: Eve had spoken before
    s3 = scenario(COMMITTEE.replace("  - {id: eve, name: Eve, goal: hire well}\n",
                                    "  - {id: eve, name: Eve, goal: hire well}\n  - {id: fay, name: Fay, goal: x}\n"))
    ok = play(s3, "hello", "Pim is fine", "hm", "ok", "like I said, Pim")
    assert _flags(ok, "hallucinated_common_ground") == []


def test_we_agreed_when_no_one_had_accepted_anything() -> None:
    s = scenario(COMMITTEE)
    invented = play(s, "Pim has a long commute.", "gotcha", "so as we agreed, Pim it is")
    assert _flags(invented, "hallucinated_common_ground") == [(2, None)]  # "gotcha" signals receipt only
    accepted = play(s, "Pim has a long commute.", "sounds good, Pim then", "so as we agreed, Pim it is")
    assert _flags(accepted, "hallucinated_common_ground") == []
    asked = play(s, "Pim has a long commute.", "hm", "so Pim, we all agree?")
    assert _flags(asked, "hallucinated_common_ground") == []  # a question claims nothing


def test_we_both_know_a_value_no_one_stated() -> None:
    s = deal_scenario()
    ep = play(s, "we both know the hat is the most valuable thing here")
    assert _flags(ep, "hallucinated_common_ground") == [(0, None)]
    # near-miss: the hat's value had been stated between them
    said = play(s, "the hat is worth 4 to me. what about you?", "zero for me. balls 2 each",
                "ok we both know the hat is the most valuable thing here for me")
    assert _flags(said, "hallucinated_common_ground") == []


@pytest.mark.parametrize(("text", "confirms"), [
    ("Pim. Everyone ok with that?", True),
    ("so Pim for everyone?", True),
    ("we're both on Pim?", True),
    ("Sound right?", True),
    ("Shall we decide on Pim?", True),
    ("Shall we decide?", False),  # proposes nothing
    ("is Pim ok with travel?", False),  # a question of fact
    ("Pim works for me, for all I know?", False),
])
def test_agreement_checks(text: str, confirms: bool) -> None:
    assert ("confirmation" in _acts(text)) is confirms


def test_accepting_an_agreement_check_or_saying_yes_while_committing_confirms() -> None:
    assert "confirmation" in _acts("ok with it. DECIDE: Pim", "Pim. everyone ok with that?", after_question=True)
    assert "confirmation" not in _acts("ok with it", "what do you think of Pim?", after_question=True)
    assert "confirmation" in _acts("yep. DECIDE: Pim", "DECIDE: Pim")
    assert "confirmation" in _acts("Pim. DECIDE: Pim", "so... Pim?", after_question=True)
    assert "confirmation" in _acts("so Pim for everyone. DECIDE: Pim", "Pim has it")
    # near-misses: "ok cool" accepts, it does not confirm; a bare name after a statement; a value no one named
    assert _acts("ok cool. DECIDE: Pim", "DECIDE: Pim") == {"acknowledgement"}
    assert "confirmation" not in _acts("Pim. DECIDE: Pim", "I like Pim")
    assert "confirmation" not in _acts("yep. DECIDE: Noor", "DECIDE: Pim")


@pytest.mark.parametrize(("text", "ack"), [
    ("that suits me", True),
    ("I'm with Dana.", True),
    ("Pim makes sense", True),
    ("whoa ok, did not expect that", True),
    ("we never discussed it but that works for me", True),
    ("oh that's helpful", True),
    ("that helps a lot", True),
    ("that's good value for money", False),  # "that's good" as a predicate, not appreciation
    ("that sounds sensible", False),  # "sensible" opens a clause only
    ("I'm with the sales team", False),
    ("that doesn't work for me", False),
])
def test_acknowledgement_forms(text: str, ack: bool) -> None:
    assert ("acknowledgement" in _acts(text, "Pim then?")) is ack


@pytest.mark.parametrize(("text", "previous", "clarifies"), [
    ("Yale, or Oxford?", "she studied in England", True),  # an alternative question, with a comma
    ("too pricey meaning I should bid lower?", "that is too pricey", True),  # a reprise, reformulated
    ("Kim = Kim Lee?", "Kim is on mine", True),
    ("3 + 4 = 7?", "add them up", False),  # a sum, not a reformulation
    ("so... Pim?", "Pim has the award", False),  # a proposal after "so"
    ("2 hats each?", "I want hats", False),  # a number no one said: a proposal, no reprise
])
def test_clarification_forms(text: str, previous: str, clarifies: bool) -> None:
    assert ("clarification" in _acts(text, previous)) is clarifies


@pytest.mark.parametrize(("text", "asks"), [
    ("hey sam what did you get", True),  # a vocative after a greeting
    ("ok my list: kim, pim. any ring a bell", True),
    ("hey sam, nice to meet you", False),
])
def test_question_forms(text: str, asks: bool) -> None:
    assert ("question" in _acts(text)) is asks


@pytest.mark.parametrize(("text", "items"), [
    ("books are 1 pt each to me", {"book"}),  # "pt", chat's point
    ("the ball is worth zilch to me", {"ball"}),
    ("books matter most, 4 each. hats n balls 0", {"book", "hat", "ball"}),  # items sharing a number
    ("I love the hat, the others are worthless", {"hat", "book", "ball"}),
    # near-misses: a count, and items sharing a count with no value anywhere
    ("give me 2 books", set()),
    ("I take hats and balls 2", set()),
])
def test_value_statements_in_chat_shorthand(text: str, items: set[str]) -> None:
    assert set(value_statements(text, ("book", "hat", "ball"))) == items


def test_more_attribution_forms_are_checked_like_as_you_said() -> None:
    s = scenario(COMMITTEE)
    # Eve holds the award; Dee never said it, so these claims attribute it wrongly
    for claim in ["like we said, Noor won the design award", "per Dee, Noor won the design award",
                  "you'd said Noor won the design award", "per our chat, Noor won the design award"]:
        ep = play(s, "Pim is fine.", claim)
        assert _flags(ep, "hallucinated_common_ground") == [(1, "noor_award")], claim
    # near-miss: Dee had said it (she may, once told; here she guesses it, and Eve's attribution is right)
    said = play(s, "Noor won the design award, I heard.", "per Dee, Noor won the design award")
    assert _flags(said, "hallucinated_common_ground") == []
    # "I already said" before saying anything
    assert _flags(play(s, "hi", "I already said Pim"), "hallucinated_common_ground") == [(1, None)]


TEAM = _hiring("""\
  - {id: noor_team, text: "Noor led a team of twelve.", holders: [eve],
     mentions: [{regex: '\\bNoor\\b.{0,40}\\btwelve\\b'}]}""", "noor_team")


def test_a_small_number_in_digits_mentions_a_fact_written_in_words() -> None:
    s = scenario(TEAM)
    ep = play(s, "Noor led a 12-person team, I hear")
    found = Ledger.of(ep).mentioned[0]["noor_team"]
    assert [ep.messages[0].content[a:b] for a, b in found] == ["Noor led a 12"]  # the span of the digits
    # near-misses: another number, a decimal, a number too large to be written out here
    for text in ["Noor led a 13-person team", "Noor scored 12.5 on the test", "Noor led a team of 120"]:
        assert "noor_team" not in Ledger.of(play(s, text)).mentioned[0], text
