"""grounding_acts' rule classifier: SWBD-DAMSL response lexicons, clausal forms anywhere, answers."""

from __future__ import annotations

import asyncio

import pytest
from helpers.play import play, scenario

from privy import evaluators
from privy.evaluators.grounding import Context, classify

ACK, CONFIRM = "acknowledgement", "confirmation"


@pytest.mark.parametrize(("text", "acts"), [
    # b / bk: backchannels and response acknowledgements, sentence-initial
    ("Uh-huh. Go on.", {ACK}),
    ("Mm-hmm, and then?", {ACK, "question"}),
    ("Oh, okay. Then it's Tess.", {ACK}),
    ("Gotcha.", {ACK}),
    # clausal forms anywhere in a sentence
    ("Hmm, that makes sense now.", {ACK}),
    ("Great, thanks for the list.", {ACK}),
    ("Tess, I agree.", {CONFIRM}),
    ("Well, I think you're right about Avery.", {CONFIRM}),
    # accepting what was said (LABELLING.md lists "sure", "sounds good" as acknowledgements)
    ("So that's true for both of us.", {ACK}),
    ("Avery it is, sounds good to me.", {ACK}),
    ("Sure, let's compare lists.", {ACK}),
    # a yes-word not answering anything confirms nothing
    ("Absolutely, she is the one.", set()),
    ("Of course.", set()),
    # hard negatives: ordinary words, negated or conditional clauses, questions
    ("Pick the right one from your list.", set()),
    ("Right now I have only Ivan.", set()),
    ("I'm not sure that's right.", set()),
    ("I don't think you're right.", set()),
    ("If that's true, we are done.", set()),
    ("Are you sure that's right?", {"question"}),
    ("Right?", {"question"}),
    ("Okay?", {"question"}),
    ("I see two people on my list.", set()),
    ("Is that ok with you?", {"question"}),
    ("Sure enough, she was there.", set()),
    ("The list is ok.", set()),
])
def test_classify(text: str, acts: set[str]) -> None:
    assert set(classify(text)) == acts


@pytest.mark.parametrize(("text", "acts"), [
    # questions without a "?" (SWBD-DAMSL qy, qw, qo; requests for information)
    ("so do you know anyone at Hooli", {"question"}),
    ("is it bigger than a person", {"question"}),
    ("hi! is Maya on your list by any chance", {"question"}),
    ("Ravi works there. and you", {"question"}),
    ("what about Acme then", {"question"}),
    ("tell me your values", {"question"}),
    ("what I know is that she left", set()),  # a free relative, not a wh-question
    ("was afk, sorry", set()),
    ("I don't know anyone at Hooli.", set()),
    # clarification forms
    ("did u say Berkeley or Harvard?", {"question", "clarification"}),
    ("wrong as in the whole thing?", {"question", "clarification"}),
    ("round things = the balls?", {"question", "clarification"}),
    ("Which of them do you know?", {"question"}),  # asks for a choice, not about what was meant
    # ba appreciation and ft thanking, at any clause's opening
    ("oh interesting, thx!", {ACK}),
    ("I didn't say that, but ok.", {ACK}),
    ("sweet, so that's our match.", {ACK}),
    # aa agreement; a commitment line and a tag question carry no act
    ("you got it, it's the sailboat", {CONFIRM}),
    ("deal!", {CONFIRM}),
    ("same. DECIDE: Avery", {CONFIRM}),
    ("DEAL: hat=2 pen=0 cup=0", set()),
    ("Avery led the team, right?", {"question"}),
])
def test_classify_forms_from_the_label_definitions(text: str, acts: set[str]) -> None:
    assert set(classify(text)) == acts


def test_nothing_is_acknowledged_before_anything_was_heard() -> None:
    assert set(classify("ok so, first question: is it alive?", ctx=Context(heard=False))) == {"question"}
    assert set(classify("ok so, first question: is it alive?")) == {ACK, "question"}


def test_an_echo_of_the_last_message_heard_is_a_clarification() -> None:
    assert set(classify("Maya Chen?", ctx=Context(previous="is Maya on your list"))) == {"question", "clarification"}
    assert set(classify("Maya Chen?", ctx=Context(previous="hello"))) == {"question"}
    assert set(classify("why Maya?", ctx=Context(previous="is Maya on your list"))) == {"question"}


def test_a_yes_after_a_question_is_an_answer_not_an_acknowledgement() -> None:
    # a yes to a question of fact is an answer only (LABELLING.md: a confirmation is of a conclusion)
    assert set(classify("Yeah, I know her.", after_question=True)) == {"answer"}
    assert set(classify("Uh-huh.", after_question=True)) == {"answer"}
    assert set(classify("No, not on my list.", after_question=True)) == {"answer"}
    assert set(classify("Uh-huh.")) == {ACK}  # not after a question: a backchannel
    assert set(classify("Yes, thanks for asking.", after_question=True)) == {"answer", ACK}
    assert set(classify("mhm, they do", after_question=True)) == {"answer"}


SCENARIO = """
id: chat
title: three people
agents:
  - {id: ann, name: Ann, goal: chat}
  - {id: bob, name: Bob, goal: chat}
  - {id: cy, name: Cy, goal: chat}
task: {kind: select, answer: x}
"""


def test_answer_position_is_read_from_the_conversation() -> None:
    ep = play(scenario(SCENARIO), "Bob, do you know Tess?", "Uh-huh, I do.", "Uh-huh.", "Yeah. Cy, any news?",
              "Yes, some.", "Uh-huh.")
    score = asyncio.run(evaluators.create("grounding_acts").evaluate(ep))
    kinds = {i: {f.kind for f in score.findings if f.message_id == i} for i in range(len(ep.messages))}
    assert kinds[1] == {"answer"}  # Bob answers Ann's question (of fact: no confirmation)
    assert kinds[2] == {ACK}  # Cy's last message received was Bob's statement: a backchannel
    assert kinds[3] == {"question"}  # Ann: Cy's uh-huh asked nothing; her "yeah" answers nothing
    assert kinds[4] == {"answer"}  # Bob: the last message delivered to him asked
    assert kinds[5] == {ACK}
    assert score.metrics["answer_per_turn"] == 2 / 6


# Issue 16: forms from the label definitions and SWBD-DAMSL, in wording unlike the labelled sets.
@pytest.mark.parametrize(("text", "previous", "acts"), [
    # acceptance tokens are acknowledgements (LABELLING.md: "sure", "sounds good"), chat spellings too
    ("meh, fiiine. PICK: Dana", "take Dana then", {ACK}),
    ("+1, the orange team works", "orange team?", {ACK}),
    ("sick. COMMIT: 7", "seven is right", {ACK}),
    ("welp ok", "I can't go lower", {ACK}),
    # agreeing with a person accepts what they said; agreeing to the choice confirms it
    ("agree w marco, the venue is too far", "the venue is too far", {ACK}),
    ("We agree on the lighthouse.\nPICK: lighthouse", "lighthouse?", {CONFIRM}),
    ("I confirm the blue route.", "blue route it is?", {CONFIRM}),
    # agreement checks are questions and confirmations
    ("So the lighthouse wins. Does everybody agree?", "", {"question", CONFIRM}),
    ("That gives us Thursday. Please confirm.", "", {"question", CONFIRM}),
    ("shall we go with the blue route?", "", {"question", CONFIRM}),
    # the choice restated as settled while committing, after someone else named it
    ("Thursday it is. PICK: Thursday", "what about Thursday?", {CONFIRM}),
    ("Thursday it is. PICK: Thursday", "no idea", set()),  # nobody else named it: a guess, not agreed
    ("yeah the lighthouse. PICK: lighthouse", "so the lighthouse?", {CONFIRM}),
    # requests and questions written without "?"
    ("pls send ur list", "", {"question"}),
    ("anybody free on monday", "", {"question"}),
    ("how'd you find out", "", {"question"}),
    ("we meet at noon right", "", {"question"}),
    ("That is not right.", "", set()),  # not a tag question
    # clarifications beyond the cue phrases
    ("did i?", "you said noon", {"question", "clarification"}),
    ("hang on, the red one?", "take the red one", {"question", "clarification"}),
    ("hold on marco, isn't that late?", "noon", {"question"}),  # a question about it, not about what it meant
    ("north gate or south gate?", "meet me at the gate", {"question", "clarification"}),
    ("late like after nine?", "I'll be late", {"question", "clarification"}),
    ("which gate?", "meet me at the gate", {"question", "clarification"}),
    ("who's dana", "ask dana", {"question", "clarification"}),
    ("is that the same lighthouse?", "the lighthouse on the cape", {"question", "clarification"}),
    ("Dana then?", "Dana can drive", {"question"}),  # a proposal, not a reprise
])
def test_issue16_forms(text: str, previous: str, acts: set[str]) -> None:
    assert set(classify(text, ctx=Context(previous=previous))) == acts


@pytest.mark.parametrize(("question", "answer", "acts"), [
    ("Is it the lighthouse?", "Yes.", {"answer", CONFIRM}),  # a guess at the answer, confirmed
    ("the red one then?", "yep", {"answer", CONFIRM}),
    ("so we meet thursday?", "yes", {"answer", CONFIRM}),
    ("that makes 40, right?", "yes!", {"answer", CONFIRM}),
    ("Does it float?", "Yes.", {"answer"}),  # a question of fact: an answer only
    ("is dana coming", "yeah", {"answer"}),
])
def test_a_yes_confirms_only_a_proposed_conclusion(question: str, answer: str, acts: set[str]) -> None:
    assert set(classify(answer, ctx=Context(after_question=True, previous=question))) == acts


def test_a_yes_after_an_interjection_still_affirms() -> None:
    from privy.evaluators.grounding import affirms
    assert affirms("...how. yes") and affirms("omg. yes it is")
    assert not affirms("I was at the lake all day. yes") and not affirms("hm. no")


@pytest.mark.parametrize(("text", "acts"), [
    ("we never met there but fine, take the van", {ACK}),  # "but" opens a clause: the negation is before it
    ("yesss ty", {ACK}),
    ("My numbers fit, so I accept.", {ACK}),
    ("Dana Ruiz! got her.", {ACK}),
])
def test_acceptance_anywhere(text: str, acts: set[str]) -> None:
    assert set(classify(text)) == acts


def test_agreeing_with_someone_while_committing_confirms() -> None:
    assert set(classify("Good arguments all round. I agree with Dana.\nPICK: Dana")) == {ACK, CONFIRM}
    assert set(classify("agree with dana, the van is cheaper")) == {ACK}  # no commitment: accepts what was said


def test_an_answer_may_open_after_an_interjection() -> None:
    ctx = Context(after_question=True, previous="Is it the lighthouse?")
    assert set(classify("hmm. yes", ctx=ctx)) == {"answer", CONFIRM}
    assert set(classify("I was out all day. yes", ctx=ctx)) == set()  # a statement first: no answer opens it
