"""The optional LLM classifier of grounding_acts: JSON in, acts out; bad replies reported."""

from __future__ import annotations

import asyncio

import pytest
from helpers import ROOT, solve

from privy.evaluators.grounding import ACTS, GroundingActs
from privy.simulator import Episode, backends, load_scenario


@pytest.fixture(scope="module")
def episode() -> Episode:
    return solve(load_scenario(ROOT / "scenarios" / "mutual_friends.yaml"))


def test_llm_labels_become_findings_and_rates(episode: Episode) -> None:
    replies = ['{"question": true, "clarification": false, "acknowledgement": true, "confirmation": false}',
               'Sure: {"question": false, "clarification": false, "acknowledgement": false, "confirmation": true}',
               '{"question": false, "clarification": false, "acknowledgement": false, "confirmation": false}']
    mock = backends.create("mock", outputs=replies)
    score = asyncio.run(GroundingActs(backend=mock).evaluate(episode))
    assert score.error is None and len(mock.requests) == len(episode.messages) == 3
    assert [(f.kind, f.message_id) for f in score.findings] == [
        ("question", 0), ("acknowledgement", 0), ("confirmation", 1)]
    assert score.metrics["question_per_turn"] == pytest.approx(1 / 3)
    assert score.value == pytest.approx(3 / 3)
    assert episode.messages[0].content in mock.requests[0].messages[0].content


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
