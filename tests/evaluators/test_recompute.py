"""Every evaluator recomputes from the messages and the scenario: a tampered stored outcome changes nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from helpers.labelled import load_all
from helpers.play import deal_scenario, play

from privy import evaluators
from privy.evaluators.task_success import recomputed_outcome
from privy.simulator.episode import Episode, load_episode
from privy.simulator.task import Outcome


def _all(ep: Episode) -> dict[str, dict]:  # type: ignore[type-arg]
    return {k: v.model_dump() for k, v in asyncio.run(evaluators.evaluate(ep)).items()}


def _tampered(ep: Episode) -> Episode:
    lie = Outcome(ended_by="turn_limit", turns=99, commitments={a: "Nobody" for a in ep.scenario.agent_ids},
                  decision="Nobody", success=not ep.outcome.success, deal=None)
    return ep.model_copy(update={"outcome": lie})


def test_the_recomputed_outcome_is_the_environments_on_every_labelled_episode() -> None:
    for item in load_all():
        ep = item.episode
        o = recomputed_outcome(ep)
        assert (o.success, o.commitments, o.decision, o.deal) == (
            ep.outcome.success, ep.outcome.commitments, ep.outcome.decision, ep.outcome.deal), item.path.name
        if ep.outcome.ended_by == "committed":
            assert o.ended_by == "committed" and o.turns == ep.outcome.turns, item.path.name


def test_a_tampered_outcome_changes_no_score() -> None:
    for item in load_all()[:10]:
        assert _all(_tampered(item.episode)) == _all(item.episode), item.path.name


def test_a_tampered_episode_file_scores_as_the_original(tmp_path: Path) -> None:
    ep = play(deal_scenario(), "I really need the books.", "Hats are what I want.\nDEAL: book=0 hat=1 ball=2",
              "Fine. DEAL: book=2 hat=0 ball=0")
    assert ep.outcome.success
    path = ep.save(tmp_path / "ep.json")
    data = json.loads(path.read_text())
    data["outcome"]["success"] = False
    data["outcome"]["deal"] = None
    data["outcome"]["commitments"] = {}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    original, tampered = load_episode(path), load_episode(bad)
    assert not tampered.outcome.success  # the file does lie
    scores = _all(tampered)
    assert scores == _all(original)
    assert scores["task_success"]["value"] == 1.0 and scores["task_success"]["metrics"]["pareto_optimal"] == 1.0
