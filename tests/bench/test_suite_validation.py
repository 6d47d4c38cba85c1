"""Suite and backends files are checked whole before anything runs: every problem at once, as FILE:LINE: FIELD."""

from __future__ import annotations

import re
import sqlite3
import textwrap
from pathlib import Path
from typing import Any

import pytest
from helpers import SCENARIO_DIR
from typer.testing import CliRunner, Result

from privy.bench.suite import SuiteError, load_grid, load_suite
from privy.cli import app
from privy.scenarios.baselines import ScriptedBackend
from privy.simulator.backends import registry
from privy.simulator.backends.base import ChatRequest, Completion
from privy.simulator.modes import Mode

WIDE = {"COLUMNS": "2000"}


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env=WIDE)


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problem_lines(result: Result) -> list[str]:
    """The FILE:LINE: FIELD: message lines of a command's output, the file name cut to its base name."""
    return [re.sub(r"^\S*/", "", line) for line in result.output.splitlines() if re.match(r"^\S+:\d+: ", line)]


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    table: dict[str, Any] = {}
    monkeypatch.setattr(registry, "_FACTORIES", table)
    return table


BAD = """\
    name: bad
    scenarios:
      - family: mutual_friends
        count: 1
    modes: [agents, nomode]
    backends:
      - name: scripted
      - name: nosuch
    seeds: [99999999999999999999999, -1, 0]
    evaluators: [task_success, nosuch_eval]
    """


def test_a_bad_suite_is_refused_whole_with_every_problem_on_its_line_and_no_store(tmp_path: Path) -> None:
    suite, db = write(tmp_path / "bad.suite.yaml", BAD), tmp_path / "r.db"
    result = invoke("bench", suite, "--out", db)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "OverflowError" not in result.output
    lines = problem_lines(result)
    assert lines[0].startswith("bad.suite.yaml:5: modes[1]: ") and "'nomode'" in lines[0]
    assert lines[1].startswith("bad.suite.yaml:8: backends[1].name: unknown backend 'nosuch'")
    assert lines[2].startswith("bad.suite.yaml:9: seeds[0]: Input should be less than 9223372036854775808")
    assert lines[3].startswith("bad.suite.yaml:9: seeds[1]: Input should be greater than or equal to 0")
    assert lines[4].startswith("bad.suite.yaml:10: evaluators[1]: unknown evaluator 'nosuch_eval'")
    assert len(lines) == 5
    assert not db.exists()  # nothing written, not even an empty store
    with pytest.raises(SuiteError) as err:
        load_suite(suite)
    assert [p.line for p in err.value.problems] == [5, 8, 9, 9, 10]


@pytest.mark.parametrize(("seed", "ok"), [(2**63 - 1, True), (2**63, False), (-1, False)])
def test_suite_seeds_are_bounded_to_what_the_store_can_hold(tmp_path: Path, seed: int, ok: bool) -> None:
    suite = write(tmp_path / "s.suite.yaml", f"""\
        name: s
        scenarios: [{{family: mutual_friends, count: 1}}]
        modes: [agents]
        backends: [{{name: scripted}}]
        seeds: [{seed}]
        """)
    db = tmp_path / "r.db"
    result = invoke("bench", suite, "--out", db)
    if ok:
        assert result.exit_code == 0, result.output
        con = sqlite3.connect(db)
        assert list(con.execute("SELECT seed, status FROM episodes")) == [(seed, "done")]
        con.close()
    else:
        assert result.exit_code == 2 and problem_lines(result)[0].startswith("s.suite.yaml:5: seeds[0]: ")
        assert not db.exists()


def test_scenario_sources_are_all_read_and_each_problem_named_once_on_its_own_line(tmp_path: Path) -> None:
    broken = write(tmp_path / "broken.yaml", "id: x\ntitle: 3\n")  # a scenario file with its own problems
    suite = write(tmp_path / "s.suite.yaml", """\
        name: s
        scenarios:
          - family: mutual_friends
            count: 1
          - glob: nowhere/*.yaml
          - path: missing.yaml
          - path: broken.yaml
          - family: mutual_friends
            params: {n_friends: 1}
        backends: [{name: scripted}]
        """)
    result = invoke("bench", suite, "--out", tmp_path / "r.db")
    assert result.exit_code == 2, result.output
    lines = problem_lines(result)
    assert "s.suite.yaml:5: scenarios[1].glob: no file matches 'nowhere/*.yaml'" in "\n".join(lines)
    assert "s.suite.yaml:6: scenarios[2].path: no such file 'missing.yaml'" in "\n".join(lines)
    assert any(line.startswith("broken.yaml:") for line in lines)  # the scenario file's own lines
    family = [line for line in lines if line.startswith("s.suite.yaml:8: scenarios[4].family: ")]
    assert len(family) == 1 and "n_friends" in family[0]  # found by the check and by generating: said once
    assert "scenarios[1]: scenarios[1]" not in result.output  # no doubled prefix
    with pytest.raises(SuiteError) as err:
        load_grid(suite)
    assert {p.file for p in err.value.problems} == {str(suite), str(broken)}


def test_a_suite_of_the_wrong_shapes_is_reported_not_a_crash(tmp_path: Path) -> None:
    suite = write(tmp_path / "s.suite.yaml", """\
        name: [1]
        scenarios: [foo, {family: [x]}, {path: a.yaml, glob: "*.yaml"}]
        modes: [[agents], {a: 1}]
        backends: [3, {name: {}}]
        seeds: [zero]
        evaluators: [{}]
        """)
    result = invoke("validate", suite)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # no traceback
    fields = [line.split(": ")[1] for line in problem_lines(result)]
    for field in ("name", "scenarios[0]", "scenarios[1].family", "scenarios[2]", "modes[0]", "modes[1]",
                  "backends[0]", "backends[1].name", "seeds[0]", "evaluators[0]"):
        assert field in fields, (field, result.output)
    assert write(tmp_path / "list.suite.yaml", "- 1\n").exists()
    result = invoke("validate", tmp_path / "list.suite.yaml")
    assert result.exit_code == 2 and problem_lines(result) == [
        "list.suite.yaml:1: (top level): expected a mapping (the fields of a suite), got a list"]


def test_yaml_syntax_errors_name_the_suite_file_and_line(tmp_path: Path) -> None:
    suite = write(tmp_path / "s.suite.yaml", "name: s\nscenarios: [\n  {family: mutual_friends\n")
    result = invoke("bench", suite, "--out", tmp_path / "r.db")
    assert result.exit_code == 2
    assert problem_lines(result)[0].startswith("s.suite.yaml:4: (yaml): YAML syntax error")
    assert "<unicode string>" not in result.output


def test_a_backend_that_cannot_play_a_mode_is_refused_before_any_model_call(
        tmp_path: Path, registered: dict[str, Any]) -> None:
    calls: list[str] = []

    class Counting(ScriptedBackend):
        modes = frozenset({Mode.AGENTS, Mode.MINDREADERS, Mode.OMNISCIENT})  # declares it cannot write script

        async def complete(self, request: ChatRequest) -> Completion:
            calls.append(request.speaker or "")
            return await super().complete(request)

    registered["counting"] = Counting
    assert registry.modes("counting") == {"agents", "mindreaders", "omniscient"}
    assert registry.modes("mock") is None  # declares nothing: every mode
    assert registry.modes("scripted") is None  # the references write every mode
    suite, db = write(tmp_path / "s.suite.yaml", """\
        name: s
        scenarios: [{family: mutual_friends, count: 2}]
        modes: [agents, script]
        backends: [{name: counting, label: ref}]
        """), tmp_path / "r.db"
    result = invoke("bench", suite, "--out", db)
    assert result.exit_code == 2, result.output
    assert problem_lines(result) == [
        "s.suite.yaml:3: modes[1]: backend 'counting' (backends[0], label 'ref') cannot play mode 'script'; "
        "it plays agents, mindreaders, omniscient: drop the mode or the backend"]
    assert calls == [] and not db.exists()


def test_the_scripted_reference_plays_every_mode(tmp_path: Path) -> None:
    suite = write(tmp_path / "s.suite.yaml", """\
        name: s
        scenarios: [{family: mutual_friends, count: 1}]
        modes: [agents, mindreaders, omniscient, script]
        backends: [{name: scripted}]
        """)
    loaded, _ = load_suite(suite)
    assert [str(m) for m in loaded.modes] == ["agents", "mindreaders", "omniscient", "script"]


def test_validate_checks_suite_files_by_suffix_or_by_their_keys(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.suite.yaml", BAD)
    plain = write(tmp_path / "grid.yaml", BAD.replace("name: bad", "name: plain"))  # scenarios + modes
    result = invoke("validate", bad, plain)
    assert result.exit_code == 2, result.output
    lines = problem_lines(result)
    assert len(lines) == 10 and sum(line.startswith("grid.yaml:") for line in lines) == 5
    assert "10 problem(s) in 2 file(s)" in result.output
    good = write(tmp_path / "good.suite.yaml", """\
        name: good
        scenarios: [{path: mutual_friends.yaml}, {family: tutoring, count: 2}]
        modes: [agents, omniscient]
        backends: [{name: scripted}, {name: mock, label: m}]
        seeds: [0, 9223372036854775807]
        evaluators: [task_success]
        """)
    (tmp_path / "mutual_friends.yaml").write_text((SCENARIO_DIR / "mutual_friends.yaml").read_text())
    result = invoke("validate", good, SCENARIO_DIR / "hidden_profile.yaml")
    assert result.exit_code == 0, result.output
    assert "all valid" in result.output


def test_validate_checks_backends_files(tmp_path: Path) -> None:
    bad = write(tmp_path / "b.yaml", """\
        default: {name: nosuch}
        agents:
          bob: {name: mock, retires: 2}
          al:
            name: mock
            max_concurrent: 0
        """)
    result = invoke("validate", bad)
    assert result.exit_code == 2, result.output
    assert problem_lines(result) == [
        "b.yaml:1: default.name: unknown backend 'nosuch'; expected one of "
        "['human', 'llama', 'mock', 'openai', 'replay', 'scripted']",
        "b.yaml:3: agents.bob.retires: unknown field; check the spelling",
        "b.yaml:6: agents.al.max_concurrent: Input should be greater than or equal to 1, got 0",
    ]
    good = write(tmp_path / "g.yaml", "default: {name: mock}\nagents: {bob: {name: scripted}}\n")
    result = invoke("validate", good)
    assert result.exit_code == 0 and "all valid" in result.output, result.output
