"""The optional LLM classifier of grounding_acts: JSON in, acts out; bad replies reported."""

from __future__ import annotations

import asyncio
import json

import pytest
from helpers import ROOT, solve
from helpers.play import play, scenario

from privy.evaluators.grounding import ACTS, GroundingActs, classify
from privy.simulator import Episode, backends, load_scenario

CHAT = """
id: chat
title: two people
agents:
  - {id: ann, name: Ann, goal: chat}
  - {id: bob, name: Bob, goal: chat}
task: {kind: select, answer: x}
"""


@pytest.fixture(scope="module")
def episode() -> Episode:
    return solve(load_scenario(ROOT / "scenarios" / "mutual_friends.yaml"))


def _json(**acts: bool) -> str:
    return json.dumps({a: acts.get(a, False) for a in ACTS})


@pytest.fixture(scope="module")
def asked() -> Episode:
    return play(scenario(CHAT), "Is Tess on your list?", "Yes, she is.", "Great, thanks.")


def test_llm_labels_become_findings_and_rates(asked: Episode) -> None:
    replies = [_json(question=True), "Sure: " + _json(confirmation=True, answer=True), _json(acknowledgement=True)]
    mock = backends.create("mock", outputs=replies)
    score = asyncio.run(GroundingActs(backend=mock).evaluate(asked))
    assert score.error is None and len(mock.requests) == len(asked.messages) == 3
    # the yes answers a question of fact: its confirmation is dropped, as the rules read it
    assert [(f.kind, f.message_id) for f in score.findings] == [
        ("question", 0), ("answer", 1), ("acknowledgement", 2)]
    assert score.metrics["answer_per_turn"] == pytest.approx(1 / 3)
    assert score.value == pytest.approx(3 / 3)
    assert asked.messages[0].content in mock.requests[0].messages[0].content


def test_the_llm_classifier_knows_the_answer_act_as_the_rules_do(asked: Episode) -> None:
    """A yes answering a question is an answer, not an acknowledgement (nor, to a question of fact, a
    confirmation); no answer without a question;
    nothing acknowledged before anything was heard. The prompt shows the message answered."""
    every = _json(question=False, acknowledgement=True, confirmation=True, answer=True)
    mock = backends.create("mock", outputs=[every] * 3)
    score = asyncio.run(GroundingActs(backend=mock).evaluate(asked))
    kinds = {i: {f.kind for f in score.findings if f.message_id == i} for i in range(3)}
    assert kinds == {0: {"confirmation"},  # heard nothing yet, asked nothing: no acknowledgement, no answer
                     1: {"answer"},  # answers Ann's question of fact: no acknowledgement, no confirmation
                     2: {"acknowledgement", "confirmation"}}  # Bob asked nothing: no answer
    assert set(kinds[1]) == set(classify("Yes, she is.", after_question=True))  # as the rules read it
    assert "Previous message: Is Tess on your list?" in mock.requests[1].messages[0].content
    assert "Previous message: (none)" in mock.requests[0].messages[0].content
    assert '"answer": bool' in mock.requests[0].messages[0].content


def test_a_reply_that_is_not_an_object_is_reported(asked: Episode) -> None:
    mock = backends.create("mock", outputs=["[true, false]"])
    score = asyncio.run(GroundingActs(backend=mock).evaluate(asked))
    assert score.value is None and score.error is not None and "not JSON" in score.error


def test_a_reply_that_is_not_json_is_reported_not_scored(episode: Episode) -> None:
    mock = backends.create("mock", outputs=["I think it is a question."])
    score = asyncio.run(GroundingActs(backend=mock).evaluate(episode))
    assert score.value is None and score.error is not None and "not JSON" in score.error


@pytest.mark.llm
def test_llm_classifier_runs_on_the_embedded_model(episode: Episode) -> None:
    score = asyncio.run(GroundingActs(backend=backends.create("llama")).evaluate(episode))
    # SmolLM2 may or may not answer in JSON: either a rate per act, or a reported error
    if score.error is None:
        assert set(score.metrics) == {f"{a}_per_turn" for a in ACTS}
        assert all(v is not None and 0 <= v <= 1 for v in score.metrics.values())
    else:
        assert "not JSON" in score.error and score.value is None


@pytest.mark.llm
def test_the_embedded_models_answers_follow_the_rules_reading(asked: Episode) -> None:
    """On the real model: whatever it says, an answer is found only where a question was asked
    of the sender, and never together with an acknowledgement (nor, to a question of fact, with a
    confirmation)."""
    score = asyncio.run(GroundingActs(backend=backends.create("llama")).evaluate(asked))
    if score.error is not None:
        assert "not JSON" in score.error and score.value is None
        return
    kinds = {i: {f.kind for f in score.findings if f.message_id == i} for i in range(3)}
    assert "answer" not in kinds[0] | kinds[2]
    assert not {"answer", "acknowledgement"} <= kinds[1]
    assert "acknowledgement" not in kinds[0]
    if "answer" in kinds[1] and "question" not in kinds[1]:  # a yes to a question of fact confirms nothing
        assert "confirmation" not in kinds[1]
