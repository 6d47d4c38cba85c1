"""The command line, through typer's CliRunner (click >= 8.2: ``stdout`` and ``stderr`` apart).

Rich wraps text at the console width, which CliRunner leaves at 80 columns; most tests
set ``COLUMNS`` wide so that long lines (paths, prompts) stay whole and can be matched.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml
from helpers import SCENARIO_DIR
from typer.testing import CliRunner, Result

from privy.cli import app
from privy.simulator import Episode, Scenario, backends, load_episode, load_scenario, run_episode

MUTUAL = SCENARIO_DIR / "mutual_friends.yaml"
WIDE = {"COLUMNS": "2000"}


def invoke(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env=WIDE if env is None else env)


def write_scenario(s: Scenario, path: Path) -> Path:
    path.write_text(yaml.safe_dump(s.model_dump(mode="json", exclude_none=True)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def episode_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "ep.json"
    result = invoke("run", MUTUAL, "--backend", "scripted", "--out", out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def one_way_episode_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Mutual friends where only bob -> alice exists: alice's messages reach no one."""
    d = tmp_path_factory.mktemp("oneway")
    data = load_scenario(MUTUAL).model_dump(mode="json", exclude_none=True)
    data["topology"] = {"kind": "edges", "edges": [["bob", "alice"]], "directed": True}
    path = write_scenario(Scenario.model_validate(data), d / "oneway.yaml")
    out = d / "ep.json"
    result = invoke("run", path, "--backend", "scripted", "--out", out)
    assert result.exit_code == 0, result.output
    return out


def alice_only_texts() -> list[str]:
    """Texts of alice's facts that bob does not hold himself."""
    s = load_scenario(MUTUAL)
    bobs = {f.text for f in s.facts_of("bob")}
    texts = [f.text for f in s.facts_of("alice") if f.text not in bobs]
    assert len(texts) == 4
    return texts


# --------------------------------------------------------------------------- run


def test_run_prints_the_conversation_and_writes_a_loadable_episode(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "ep.json"
    result = invoke("run", MUTUAL, "--backend", "scripted", "--out", out)
    assert result.exit_code == 0, result.output
    assert "Alice → Bob" in result.stdout and "Bob → Alice" in result.stdout
    assert "My friends: Maya Chen" in result.stdout
    assert "SELECT: Tess Moreau" in result.stdout
    assert "ended by committed after 3 turns" in result.stdout
    assert "success: True" in result.stdout
    assert str(out) in result.stdout
    ep = load_episode(out)
    assert ep.outcome.success is True
    assert ep.mode.value == "agents"
    assert ep.backend["backend"] == "scripted"
    assert ep.scenario == load_scenario(MUTUAL)
    assert ep.scenario_path == str(MUTUAL)
    assert [m.content for m in ep.messages][1] == "We both know Tess Moreau.\nSELECT: Tess Moreau"
    assert len(ep.calls) == 3


def test_run_rejects_a_bad_mode(tmp_path: Path) -> None:
    result = invoke("run", MUTUAL, "--backend", "scripted", "--mode", "telepathy",
                    "--out", tmp_path / "ep.json")
    assert result.exit_code == 2
    assert "--mode" in result.stderr and "telepathy" in result.stderr
    assert not (tmp_path / "ep.json").exists()


def test_run_rejects_an_unknown_backend(tmp_path: Path) -> None:
    result = invoke("run", MUTUAL, "--backend", "nonesuch", "--out", tmp_path / "ep.json")
    assert result.exit_code != 0
    assert "nonesuch" in result.stderr and "scripted" in result.stderr


def test_run_reports_a_missing_scenario_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    result = invoke("run", missing, "--backend", "scripted", "--out", tmp_path / "ep.json")
    assert result.exit_code == 2
    assert str(missing) in result.stderr


# --------------------------------------------------------------------------- show


def test_show_prints_everything_without_as(episode_file: Path) -> None:
    result = invoke("show", episode_file)
    assert result.exit_code == 0, result.output
    for text in alice_only_texts():
        assert text in result.stdout
    assert "Ivan Petrov: works at Globex" in result.stdout
    assert "success: True" in result.stdout


def test_show_as_bob_at_turn_0_shows_none_of_alices_facts(episode_file: Path) -> None:
    result = invoke("show", episode_file, "--as", "bob", "--turn", "0")
    assert result.exit_code == 0, result.output
    for f in load_scenario(MUTUAL).facts_of("bob"):
        assert f.text in result.stdout
    for text in alice_only_texts():
        assert text not in result.stdout
    assert "My friends" not in result.stdout
    assert "goal: Find the one friend you and Alice have in common" in result.stdout
    assert "goal: Find the one friend you and Bob" not in result.stdout


def test_show_as_bob_later_shows_alices_list_because_it_was_delivered(episode_file: Path) -> None:
    result = invoke("show", episode_file, "--as", "bob")
    assert result.exit_code == 0, result.output
    assert "My friends: Maya Chen" in result.stdout


def test_show_as_bob_never_shows_what_did_not_reach_him(one_way_episode_file: Path) -> None:
    ep = load_episode(one_way_episode_file)
    assert any(m.sender == "alice" and "Maya Chen" in m.content for m in ep.messages)
    result = invoke("show", one_way_episode_file, "--as", "bob")
    assert result.exit_code == 0, result.output
    for text in alice_only_texts():
        assert text not in result.stdout
    assert "Maya Chen" not in result.stdout
    everyone = invoke("show", one_way_episode_file)
    assert "Maya Chen" in everyone.stdout, "alice's undelivered messages exist in the log"


def test_show_turn_prints_the_exact_prompt_of_that_call(episode_file: Path) -> None:
    ep = load_episode(episode_file)
    (call,) = [c for c in ep.calls if c.turn == 1]
    assert call.speaker == "bob"
    result = invoke("show", episode_file, "--turn", "1")
    assert result.exit_code == 0, result.output
    assert f"model call {call.index} at turn 1 for bob: exact input" in result.stdout
    prompt = "\n".join(f"{m.role}: {m.content}" for m in call.input)
    assert prompt in result.stdout
    assert f"output: {call.output}" in result.stdout
    # messages from turn 1 on are not shown: only alice's first one precedes the prompt
    assert "Bob → Alice" not in result.stdout


def test_show_turn_as_another_agent_shows_no_call(episode_file: Path) -> None:
    result = invoke("show", episode_file, "--turn", "1", "--as", "alice")
    assert result.exit_code == 0, result.output
    assert "exact input" not in result.stdout


def test_show_turn_prompt_is_exact_at_the_default_width(episode_file: Path) -> None:
    ep = load_episode(episode_file)
    (call,) = [c for c in ep.calls if c.turn == 1]
    result = invoke("show", episode_file, "--turn", "1", env={"COLUMNS": "80"})
    prompt = "\n".join(f"{m.role}: {m.content}" for m in call.input)
    assert prompt in result.stdout


def test_show_turn_prompt_keeps_emoji_codes(tmp_path: Path) -> None:
    mock = backends.create("mock", outputs=["Hello :smile: [b]x[/b]", "SELECT: x"])
    ep: Episode = asyncio.run(run_episode(load_scenario(MUTUAL), "agents", mock))
    path = ep.save(tmp_path / "ep.json")
    result = invoke("show", path, "--turn", "1")
    assert "Alice: Hello :smile: [b]x[/b]" in result.stdout


def test_show_rejects_a_file_that_is_not_json(tmp_path: Path) -> None:
    bad = tmp_path / "notes.json"
    bad.write_text("this is { not json", encoding="utf-8")
    result = invoke("show", bad)
    assert result.exit_code != 0
    assert str(bad) in result.stderr
    assert "not a JSON episode file" in result.stderr


def test_show_rejects_a_wrong_format_version(tmp_path: Path, episode_file: Path) -> None:
    data = json.loads(episode_file.read_text(encoding="utf-8"))
    data["format_version"] = "privy.episode/0"
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data), encoding="utf-8")
    result = invoke("show", old)
    assert result.exit_code != 0
    assert str(old) in result.stderr
    assert "privy.episode/0" in result.stderr and "privy.episode/2" in result.stderr


def test_show_reports_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    result = invoke("show", missing)
    assert result.exit_code != 0
    assert str(missing) in result.stderr


def test_show_as_an_unknown_agent_errors_clearly(episode_file: Path) -> None:
    result = invoke("show", episode_file, "--as", "nobody")
    assert result.exit_code == 2
    assert "--as nobody" in result.stderr
    assert "'alice'" in result.stderr and "'bob'" in result.stderr
    assert "Tess Moreau" not in result.stdout


# --------------------------------------------------------------------------- schema, compare, ...


def test_schema_prints_parseable_json_schema() -> None:
    result = invoke("schema", env={"COLUMNS": "40"})  # narrow: the JSON must not be wrapped
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert "agents" in schema["properties"]
    assert "task" in schema["required"]
    assert schema == json.loads(json.dumps(Scenario.model_json_schema()))


def test_compare_runs_every_mode_and_writes_episodes(tmp_path: Path) -> None:
    out_dir = tmp_path / "cmp"
    result = invoke("compare", MUTUAL, "--backend", "scripted",
                    "--modes", "agents,mindreaders,omniscient", "--out-dir", out_dir)
    assert result.exit_code == 0, result.output
    files = sorted(out_dir.glob("*.json"))
    assert len(files) == 3
    episodes = [load_episode(f) for f in files]
    assert {e.mode.value for e in episodes} == {"agents", "mindreaders", "omniscient"}
    assert all(e.outcome.success for e in episodes)
    assert "3 episodes written" in result.stdout


def test_compare_with_two_jobs_writes_the_same_files_and_table_as_with_one(tmp_path: Path) -> None:
    args = (MUTUAL, SCENARIO_DIR / "hidden_profile.yaml", "--backend", "scripted", "--modes", "agents,omniscient",
            "--seeds", "2")
    one = invoke("compare", *args, "--out-dir", tmp_path / "one")
    two = invoke("compare", *args, "--out-dir", tmp_path / "two", "-j", "2")
    assert one.exit_code == 0, one.output
    assert two.exit_code == 0, two.output
    names = sorted(p.name for p in (tmp_path / "one").glob("*.json"))
    assert len(names) == 8 and names == sorted(p.name for p in (tmp_path / "two").glob("*.json"))
    for name in names:
        a, b = load_episode(tmp_path / "one" / name), load_episode(tmp_path / "two" / name)
        assert (a.messages, a.outcome, a.scenario_path) == (b.messages, b.outcome, b.scenario_path)

    def tables(result: Result, out_dir: Path) -> str:
        text = result.stdout[result.stdout.index("mutual_friends_demo · backend scripted"):]
        return text.replace(str(out_dir), "OUT")

    assert tables(one, tmp_path / "one") == tables(two, tmp_path / "two")
    assert "hidden_profile_demo · backend scripted" in two.stdout and "8 episodes written" in two.stdout


def test_compare_rejects_a_bad_mode(tmp_path: Path) -> None:
    result = invoke("compare", MUTUAL, "--backend", "scripted", "--modes", "agents,telepathy",
                    "--out-dir", tmp_path)
    assert result.exit_code != 0
    assert "telepathy" in result.stderr and "mindreaders" in result.stderr
    assert list(tmp_path.glob("*.json")) == []


def test_backends_lists_llama_and_scripted() -> None:
    result = invoke("backends")
    assert result.exit_code == 0, result.output
    names = result.stdout.split()
    assert "llama" in names and "scripted" in names
