"""`privy evaluate` and the evaluator registry."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from helpers import ROOT
from typer.testing import CliRunner

from privy import evaluators
from privy.cli import app
from privy.evaluators import Score, register
from privy.simulator import Episode, backends, load_scenario, run_episode


@pytest.fixture
def episode_file(tmp_path: Path) -> Path:
    s = load_scenario(ROOT / "scenarios" / "mutual_friends.yaml")
    ep = asyncio.run(run_episode(s, "agents", backends.create("scripted")))
    return ep.save(tmp_path / "ep.json")


def invoke(*args: str | Path) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, ["evaluate", *map(str, args)], env={"COLUMNS": "200"})
    return r.exit_code, r.stdout, r.stderr


def test_tables_name_every_deterministic_evaluator(episode_file: Path) -> None:
    code, out, _ = invoke(episode_file)
    assert code == 0
    for name in evaluators.DETERMINISTIC:
        assert name in out
    assert "success=1, agreed=1" in out


def test_json_has_scores_and_mean_by_backend_and_mode(episode_file: Path) -> None:
    code, out, _ = invoke(episode_file, episode_file, "--json")
    assert code == 0
    doc = json.loads(out)
    assert len(doc["episodes"]) == 2
    scores = doc["episodes"][0]["scores"]
    assert set(scores) == set(evaluators.DETERMINISTIC)
    assert scores["task_success"]["value"] == 1.0
    assert scores["premature_commitment"]["value"] == 0.0
    values = {name: score["value"] for name, score in scores.items() if score["value"] is not None}
    assert doc["mean_by_backend_and_mode"] == {"scripted": {"agents": values}}  # the same file twice: its values
    assert doc["mean_by_backend_and_mode"]["scripted"]["agents"]["task_success"] == 1.0
    assert doc["episodes"][0]["backend"] == "scripted"


def test_means_are_per_backend_and_mode_and_numbers_are_never_broken(episode_file: Path, tmp_path: Path) -> None:
    s = load_scenario(ROOT / "scenarios" / "mutual_friends.yaml")
    mock = asyncio.run(run_episode(s, "agents", backends.create("mock", outputs=["Hello there, Bob."])))
    mock_file = mock.save(tmp_path / "mock.json")
    code, out, _ = invoke(episode_file, mock_file, "--json")
    assert code == 0
    doc = json.loads(out)
    means = doc["mean_by_backend_and_mode"]
    assert set(means) == {"scripted", "mock"}, "two backends in one mode are never averaged together"
    assert means["scripted"]["agents"]["task_success"] == 1.0 and means["mock"]["agents"]["task_success"] == 0.0
    narrow = CliRunner().invoke(app, ["evaluate", str(episode_file), str(mock_file)], env={"COLUMNS": "30"})
    assert narrow.exit_code == 0
    assert "mean value per backend and mode" in narrow.stdout
    for ep in doc["episodes"]:  # every number of every table is printed whole, on one line
        for score in ep["scores"].values():
            for k, v in score["metrics"].items():
                assert f"{k}={evaluators_fmt(v)}" in narrow.stdout, (k, v)
    header = next(line for line in narrow.stdout.splitlines() if "scripted" in line and "mock" in line)
    assert header.index("mock") < header.index("scripted")


def evaluators_fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.3g}"


def test_findings_flag_lists_evidence(episode_file: Path) -> None:
    code, out, _ = invoke(episode_file, "--findings", "-e", "task_success")
    assert code == 0
    assert "commitment · message 1 · bob: committed to 'Tess Moreau'" in out


def test_bad_files_are_named_and_good_ones_still_scored(episode_file: Path, tmp_path: Path) -> None:
    not_json = tmp_path / "broken.json"
    not_json.write_text("{ not json")
    old = tmp_path / "old.json"
    doc = json.loads(episode_file.read_text())
    doc["format_version"] = "privy.episode/0"
    old.write_text(json.dumps(doc))
    code, out, err = invoke(not_json, episode_file, old, "--json")
    assert code == 2
    assert f"{not_json}: not a JSON episode file" in err
    assert f"{old}: format_version is 'privy.episode/0'; expected 'privy.episode/2' (or 'privy.episode/1')" in err
    assert [e["file"] for e in json.loads(out)["episodes"]] == [str(episode_file)]


def test_unknown_evaluator_is_refused(episode_file: Path) -> None:
    code, _, err = invoke(episode_file, "-e", "task_success,nope")
    assert code == 2 and "unknown ['nope']" in err


def test_a_user_evaluator_in_a_few_lines(episode_file: Path) -> None:
    @register("shouting")
    class Shouting:
        name = "shouting"

        async def evaluate(self, episode: Episode) -> Score:
            loud = [m for m in episode.messages if m.content.isupper()]
            return Score(evaluator=self.name, value=len(loud) / max(1, len(episode.messages)))

    assert "shouting" in evaluators.available()
    code, out, _ = invoke(episode_file, "-e", "shouting", "--json")
    assert code == 0
    assert json.loads(out)["episodes"][0]["scores"]["shouting"]["value"] == 0.0
