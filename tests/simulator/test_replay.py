"""ReplayBackend: a recorded episode replays identically; a run that asks for other calls fails clearly."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import SCENARIO_DIR
from typer.testing import CliRunner, Result

from privy.cli import app
from privy.simulator import Episode, Scenario, backends, load_episode, load_scenario, run_episode
from privy.simulator.backends.errors import BackendError, PermanentError
from privy.simulator.backends.mock import MockBackend
from privy.simulator.backends.replay import ReplayBackend

MUTUAL = SCENARIO_DIR / "mutual_friends.yaml"
HIDDEN = SCENARIO_DIR / "hidden_profile.yaml"
WINNING = ["My friends: Maya Chen; Tess Moreau.", "We both know Tess Moreau.\nSELECT: Tess Moreau",
           "SELECT: Tess Moreau"]


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "2000"})


def run(s: Scenario, backend: Any, mode: str = "agents", seed: int = 0) -> Episode:
    return asyncio.run(run_episode(s, mode, backend, seed=seed))


def dump(messages: list[Any]) -> list[dict[str, Any]]:
    return [m.model_dump(mode="json") for m in messages]


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[Episode, Path]:
    ep = run(load_scenario(MUTUAL), MockBackend(WINNING), seed=5)
    return ep, ep.save(tmp_path / "recorded.json")


def variant(s: Scenario, **changes: Any) -> Scenario:
    data = s.model_dump(mode="json", exclude_none=True)
    data.update(changes)
    return Scenario.model_validate(data)


def test_replay_reproduces_the_episode(recorded: tuple[Episode, Path]) -> None:
    ep, path = recorded
    assert ep.outcome.ended_by == "committed"
    replay = ReplayBackend(path)
    again = run(ep.scenario, replay, seed=5)
    assert dump(again.messages) == dump(ep.messages)
    assert again.outcome == ep.outcome
    assert [c.output for c in again.calls] == [c.output for c in ep.calls]
    assert [c.input for c in again.calls] == [c.input for c in ep.calls]
    assert [(c.prompt_tokens, c.completion_tokens) for c in again.calls] == \
        [(c.prompt_tokens, c.completion_tokens) for c in ep.calls]
    assert all(c.error is None for c in again.calls)
    assert again.backend == {"backend": "replay", "episode": "recorded.json", "recorded": {"backend": "mock"}}


@pytest.mark.parametrize("mode", ["agents", "mindreaders", "omniscient"])
def test_replay_of_scripted_runs_in_every_per_turn_mode(tmp_path: Path, mode: str) -> None:
    s = load_scenario(MUTUAL)
    ep = run(s, backends.create("scripted"), mode)
    again = run(s, backends.create("replay", episode=ep.save(tmp_path / "ep.json")), mode)
    assert dump(again.messages) == dump(ep.messages)
    assert again.outcome == ep.outcome and again.outcome.success is True


def test_replay_of_a_script_mode_run(tmp_path: Path) -> None:
    s = load_scenario(MUTUAL)
    script = "Alice: My friends include Tess Moreau.\nBob: Tess too!\nSELECT: Tess Moreau\nAlice: SELECT: Tess Moreau"
    ep = run(s, MockBackend([script]), "script")
    assert len(ep.calls) == 1 and ep.calls[0].speaker is None
    again = run(s, ReplayBackend(ep.save(tmp_path / "ep.json")), "script")
    assert dump(again.messages) == dump(ep.messages)
    assert again.outcome == ep.outcome


def assert_diverged(ep: Episode, at: int, *details: str) -> None:
    assert ep.outcome.ended_by == "error"
    err = ep.calls[-1].error
    assert err is not None and f"diverged at call {at}" in err, err
    for d in details:
        assert d in err, err
    assert ep.calls[-1].output is None
    assert len(ep.calls) == at + 1
    assert len(ep.messages) == at


def test_replay_in_script_mode_diverges_at_call_0(recorded: tuple[Episode, Path]) -> None:
    ep, path = recorded
    again = run(ep.scenario, ReplayBackend(path), "script", seed=5)
    assert_diverged(again, 0, "recorded for 'alice'", "asked for None")


def test_replay_with_another_speaker_order_diverges(tmp_path: Path) -> None:
    hp = load_scenario(HIDDEN)
    ep = run(hp, MockBackend(["I lean towards Avery.", "Blake gave a great talk."]))
    assert [c.speaker for c in ep.calls[:3]] == ["ana", "ben", "cleo"]
    agents = hp.model_dump(mode="json")["agents"]
    reordered = variant(hp, agents=[agents[1], agents[0], agents[2]])
    again = run(reordered, ReplayBackend(ep.save(tmp_path / "hp.json")))
    assert_diverged(again, 0, "recorded for 'ana'", "asked for 'ben'")


def test_replay_of_another_scenario_with_the_same_speakers_diverges_where_the_prompt_does(
        recorded: tuple[Episode, Path]) -> None:
    """Bob's list differs: Alice's first prompt is the same, Bob's is not."""
    ep, path = recorded
    data = ep.scenario.model_dump(mode="json", exclude_none=True)
    for f in data["facts"]:
        if f["id"] == "b_nora":
            f["text"] = "Nora Walsh: works at Hooli, studied at Oxford, likes sailing."
    other = Scenario.model_validate(data)
    again = run(other, ReplayBackend(path), seed=5)
    assert_diverged(again, 1, "the prompt for 'bob' differs")
    assert dump(again.messages) == dump(ep.messages[:1])


def test_replay_in_another_mode_with_the_same_speakers_diverges(recorded: tuple[Episode, Path]) -> None:
    ep, path = recorded
    again = run(ep.scenario, ReplayBackend(path), "mindreaders", seed=5)
    assert_diverged(again, 0, "the prompt for 'alice' differs")


def test_replay_with_another_seed_diverges(recorded: tuple[Episode, Path]) -> None:
    ep, path = recorded
    again = run(ep.scenario, ReplayBackend(path), seed=6)
    assert_diverged(again, 0, f"recorded {ep.calls[0].seed}")


def test_running_out_of_recorded_calls_is_a_clear_error(recorded: tuple[Episode, Path], tmp_path: Path) -> None:
    ep, path = recorded
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["calls"] = raw["calls"][:2]
    short = tmp_path / "short.json"
    short.write_text(json.dumps(raw), encoding="utf-8")
    again = run(ep.scenario, ReplayBackend(short), seed=5)
    assert again.outcome.ended_by == "error"
    assert dump(again.messages) == dump(ep.messages[:2])
    err = again.calls[-1].error
    assert err is not None and "no recorded call left (asked for call 2)" in err and str(short) in err


def test_a_recorded_failure_is_replayed_as_a_failure(tmp_path: Path) -> None:
    class DiesAtThree(MockBackend):
        async def complete(self, request: Any) -> Any:
            if len(self.requests) == 2:
                raise PermanentError("401 bad key")
            return await super().complete(request)

    s = load_scenario(MUTUAL)
    ep = run(s, DiesAtThree(["Hello.", "Hi."]))
    assert ep.outcome.ended_by == "error" and ep.calls[-1].error == "401 bad key"
    again = run(s, ReplayBackend(ep.save(tmp_path / "ep.json")))
    assert again.outcome.ended_by == "error"
    assert dump(again.messages) == dump(ep.messages)
    assert "call 2 had failed: 401 bad key" in str(again.calls[-1].error)


def test_a_replay_backend_is_used_up_by_one_episode(recorded: tuple[Episode, Path]) -> None:
    ep, path = recorded
    replay = ReplayBackend(path)
    run(ep.scenario, replay, seed=5)
    second = run(ep.scenario, replay, seed=5)
    assert second.outcome.ended_by == "error"
    assert "no recorded call left (asked for call 3)" in str(second.calls[0].error)


def test_a_missing_or_bad_episode_file_is_a_backend_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(BackendError) as err:
        backends.create("replay", episode=missing)
    assert str(missing) in str(err.value) and "cannot read" in str(err.value)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(BackendError, match="not a JSON episode file"):
        ReplayBackend(bad)
    with pytest.raises(BackendError, match="backend 'replay': bad options"):
        backends.create("replay")


def test_cli_run_with_the_replay_backend(tmp_path: Path) -> None:
    rec, rep = tmp_path / "rec.json", tmp_path / "rep.json"
    assert invoke("run", MUTUAL, "--backend", "scripted", "--seed", "2", "--out", rec).exit_code == 0
    result = invoke("run", MUTUAL, "--backend", "replay", "--opt", f"episode={rec}", "--seed", "2", "--out", rep)
    assert result.exit_code == 0, result.output
    assert "ended by committed" in result.stdout
    assert result.stderr == ""
    original, replayed = load_episode(rec), load_episode(rep)
    assert dump(replayed.messages) == dump(original.messages)
    assert replayed.outcome == original.outcome
    assert replayed.backend["backend"] == "replay" and replayed.backend["recorded"]["backend"] == "scripted"


def test_cli_replay_that_diverges_reports_it(tmp_path: Path) -> None:
    rec = tmp_path / "rec.json"
    assert invoke("run", MUTUAL, "--backend", "scripted", "--out", rec).exit_code == 0
    result = invoke("run", MUTUAL, "--mode", "omniscient", "--backend", "replay", "--opt", f"episode={rec}",
                    "--out", tmp_path / "rep.json")
    assert result.exit_code == 1, result.output  # a failed episode fails the command
    assert "ended by error" in result.stdout
    assert "diverged at call 0" in result.stderr


def test_cli_replay_of_a_missing_file_fails_cleanly(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    result = invoke("run", MUTUAL, "--backend", "replay", "--opt", f"episode={missing}", "--out", tmp_path / "o.json")
    assert result.exit_code == 2
    assert str(missing) in result.stderr and "cannot read episode file" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
