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
    ("So that's true for both of us.", {CONFIRM}),
    ("Avery it is, sounds good to me.", {CONFIRM}),
    # aa tokens, sentence-initial
    ("Absolutely, she is the one.", {CONFIRM}),
    ("Sure, let's compare lists.", {CONFIRM}),
    ("Of course.", {CONFIRM}),
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
    assert set(classify("Yeah, I know her.", after_question=True)) == {"answer", CONFIRM}
    assert set(classify("Uh-huh.", after_question=True)) == {"answer", CONFIRM}
    assert set(classify("No, not on my list.", after_question=True)) == {"answer"}
    assert set(classify("Uh-huh.")) == {ACK}  # not after a question: a backchannel
    assert set(classify("Yes, thanks for asking.", after_question=True)) == {"answer", CONFIRM, ACK}
    assert set(classify("mhm, they do", after_question=True)) == {"answer", CONFIRM}


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
    assert kinds[1] == {"answer", CONFIRM}  # Bob answers Ann's question
    assert kinds[2] == {ACK}  # Cy's last message received was Bob's statement: a backchannel
    assert kinds[3] == {CONFIRM, "question"}  # Ann: Cy's uh-huh asked nothing
    assert kinds[4] == {"answer", CONFIRM}  # Bob: the last message delivered to him asked
    assert kinds[5] == {ACK}
    assert score.metrics["answer_per_turn"] == 2 / 6
