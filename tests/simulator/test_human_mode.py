"""The human mode: imported transcripts are replayed, never run; episodes carry their source."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from helpers import DATA, SCENARIO_DIR

from privy.simulator import Mode, TopologyError, backends, load_episode, load_scenario, run_episode
from privy.simulator.episode import Source
from privy.simulator.modes import RUNNABLE, NotRunnableError, runnable
from privy.simulator.transcript import HUMAN_BACKEND, Line, replay

HIDDEN = SCENARIO_DIR / "hidden_profile.yaml"
SOURCE = Source(format="transcript", file="chat.jsonl", record="chat.jsonl", line=1)


def test_the_runner_refuses_the_human_mode() -> None:
    s = load_scenario(HIDDEN)
    with pytest.raises(NotRunnableError, match="mode 'human' is an imported transcript"):
        asyncio.run(run_episode(s, "human", backends.create("scripted")))
    assert Mode.HUMAN not in RUNNABLE and set(RUNNABLE) == set(Mode) - {Mode.HUMAN}
    assert runnable("agents") is Mode.AGENTS


def test_replay_keeps_irregular_order_dms_and_recomputes_the_outcome() -> None:
    s = load_scenario(HIDDEN)
    lines = [Line("ana", "Avery led a team of twelve."), Line("ana", "And Blake handles conflict badly."),
             Line("cleo", "Just for you: DECIDE: Blake is what I thought", frozenset({"ana"})),
             Line("ben", "DECIDE: Avery"), Line("ana", "DECIDE: Avery"), Line("cleo", "Fine.\nDECIDE: Avery"),
             Line("ana", "Thanks!", time="10:04")]
    ep = replay(s, lines, SOURCE)
    assert ep.mode is Mode.HUMAN and ep.calls == [] and ep.backend == HUMAN_BACKEND and ep.source is not None
    assert [m.turn for m in ep.messages] == list(range(7))  # turn = index, no round robin
    assert [m.sender for m in ep.messages] == ["ana", "ana", "cleo", "ben", "ana", "cleo", "ana"]
    assert ep.messages[2].recipients == {"ana"} and ep.messages[0].recipients == {"ben", "cleo"}
    # inline: privy's own rule sees it (cleo's later line replaces it)
    assert [a.value for a in ep.messages[2].actions] == ["Blake is what I thought"]
    assert ep.outcome.ended_by == "committed" and ep.outcome.success and ep.outcome.decision == "Avery"
    assert ep.source.times == [None] * 6 + ["10:04"]


def test_replay_without_every_commitment_ends_at_the_transcript_end() -> None:
    s = load_scenario(HIDDEN)
    ep = replay(s, [Line("ana", "DECIDE: Blake"), Line("ben", "DECIDE: Blake")], SOURCE)
    assert ep.outcome.ended_by == "transcript_end" and not ep.outcome.success and ep.outcome.turns == 2


def test_replay_refuses_a_message_the_topology_forbids() -> None:
    s = load_scenario(HIDDEN)
    with pytest.raises(TopologyError):
        replay(s, [Line("ana", "hello", frozenset({"ana"}))], SOURCE)


def test_a_human_episode_round_trips_with_its_source(tmp_path: Path) -> None:
    ep = replay(load_scenario(HIDDEN), [Line("ana", "hi", time="t0")], SOURCE)
    back = load_episode(ep.save(tmp_path / "ep.json"))
    assert back.mode is Mode.HUMAN and back.source == ep.source and back.calls == []


def test_an_episode_file_from_before_source_still_loads(tmp_path: Path) -> None:
    old = DATA / "episodes" / "deal_scripted_before_source.json"
    assert "source" not in json.loads(old.read_text(encoding="utf-8"))
    ep = load_episode(old)
    assert ep.source is None and ep.mode is Mode.AGENTS and ep.outcome.success
    # written again, a run's log says it has no source
    assert json.loads(ep.save(tmp_path / "again.json").read_text(encoding="utf-8"))["source"] is None
