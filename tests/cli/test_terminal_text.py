"""Text from a model, a scenario or an episode reaches the terminal with its control characters visible.

A reply holding ``ESC ] 0 ; TITLE BEL ESC [ 2 J`` would set the terminal's title and clear
its screen; a bidi override would make text read as something else. Every command that
prints such text writes each of them as an escape (``\\x1b``) instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import SCENARIO_DIR
from typer.testing import CliRunner, Result

from privy.cli import app
from privy.simulator import load_episode

MUTUAL = SCENARIO_DIR / "mutual_friends.yaml"
WIDE = {"COLUMNS": "2000"}
# what a hostile model or file can hold: OSC title, clear screen, C1 CSI, bidi override and isolate, CR
EVIL = "hi \x1b]0;TITLE\x07\x1b[2J \u009b31m \u202eevil\u202c \u2066x\u2069 a\rb"
SHOWN = r"hi \x1b]0;TITLE\x07\x1b[2J \u009b31m \u202eevil\u202c \u2066x\u2069 a\x0db"
RAW = ["\x1b", "\x07", "\x9b", "\u202e", "\u202c", "\u2066", "\u2069", "\r"]


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env=WIDE)


def assert_safe(text: str) -> None:
    assert not [c for c in RAW if c in text], repr(text)


@pytest.fixture(scope="module")
def evil_episode(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    out = tmp_path_factory.mktemp("evil") / "ep.json"
    result = invoke("run", MUTUAL, "--backend", "mock", "--opt", f"outputs={json.dumps([EVIL])}", "--out", out)
    assert result.exit_code == 0, result.output
    assert load_episode(out).messages[0].content == EVIL  # the log keeps the text exactly
    return out, result


def test_run_prints_model_output_with_controls_visible(evil_episode: tuple[Path, Result]) -> None:
    _, result = evil_episode
    assert_safe(result.output)
    assert SHOWN in result.stdout


@pytest.mark.parametrize("args", [[], ["--turn", "2"], ["--as", "alice", "--turn", "2"], ["--as", "bob"]])
def test_show_prints_an_episode_with_controls_visible(evil_episode: tuple[Path, Result], args: list[str]) -> None:
    path, _ = evil_episode
    result = invoke("show", path, *args)
    assert result.exit_code == 0, result.output
    assert_safe(result.output)
    assert SHOWN in result.stdout


def test_evaluate_prints_a_file_name_with_controls_visible(evil_episode: tuple[Path, Result],
                                                           tmp_path: Path) -> None:
    path, _ = evil_episode
    evil = tmp_path / "ep\x1b[2J\u202e.json"  # the table's title names the file
    evil.write_bytes(path.read_bytes())
    broken = tmp_path / "bad\x1b]0;T\x07.json"  # and an unreadable one is named in an error
    broken.write_text("{")
    result = invoke("evaluate", evil, broken)
    assert_safe(result.output)
    assert r"ep\x1b[2J\u202e.json" in result.stdout and r"bad\x1b]0;T\x07.json" in result.stderr
    as_json = invoke("evaluate", evil, "--json")
    assert_safe(as_json.stdout)
    assert json.loads(as_json.stdout)["episodes"][0]["file"] == str(evil)  # still JSON, and the same


def evil_scenario(tmp_path: Path) -> Path:
    """mutual_friends with a title, a name and a fact that hold control characters (YAML escapes)."""
    text = MUTUAL.read_text()
    text = text.replace('title: "', 'title: "\\e]0;TITLE\\a\\e[2J \\u202e', 1)
    text = text.replace("name: Alice", 'name: "Ali\\x9bce"', 1)
    text = text.replace('text: "Maya Chen', 'text: "\\e[31mMaya Chen', 1)
    path = tmp_path / "evil.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_scenario_s_text_is_printed_with_controls_visible(tmp_path: Path) -> None:
    path = evil_scenario(tmp_path)
    assert "\\e[31mMaya Chen" in path.read_text()
    out = tmp_path / "ep.json"
    run = invoke("run", path, "--backend", "scripted", "--out", out)
    assert run.exit_code == 0, run.output
    assert_safe(run.output)
    assert r"\x1b]0;TITLE\x07\x1b[2J \u202e" in run.stdout and r"Ali\u009bce" in run.stdout
    for args in ([], ["--as", "alice", "--turn", "1"]):
        show = invoke("show", out, *args)
        assert_safe(show.output)
        assert r"\x1b[31mMaya Chen" in show.stdout and r"Ali\u009bce" in show.stdout


def test_validate_messages_show_controls_visible(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"  # a raw bidi override in a misspelt key: YAML allows it, the message quotes it
    path.write_text(MUTUAL.read_text() + "ti\u202etle\u2066: x\n", encoding="utf-8")
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert_safe(result.output)
    assert r"ti\u202etle\u2066: unknown field" in result.stderr
    run = invoke("run", path, "--backend", "scripted", "--out", tmp_path / "ep.json")
    assert run.exit_code == 2 and r"ti\u202etle\u2066" in run.stderr
    assert_safe(run.output)


def test_report_prints_stored_text_with_controls_visible(evil_episode: tuple[Path, Result], tmp_path: Path) -> None:
    from privy.bench import ResultStore

    path, _ = evil_episode
    store = ResultStore(tmp_path / "r.db")
    store.put("mutual|agents|mock|0", "suite", "src", "mo\x1b[2Jck", load_episode(path), {})
    store.put_error("mutual|agents|mock|1", "suite", "src", "mo\x1b[2Jck", "mutual_friends_demo", "mutual_friends",
                    "agents", 1, EVIL)
    store.close()
    result = invoke("report", tmp_path / "r.db", "--resamples", "100")
    assert result.exit_code == 0, result.output
    assert_safe(result.output)
    assert SHOWN in result.stdout and r"mo\x1b[2Jck" in result.stdout


def test_bench_prints_a_suite_s_names_and_errors_with_controls_visible(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from privy.simulator.backends import registry

    class Broken:
        name = "broken"

        def settings(self) -> dict[str, str]:
            return {"backend": self.name}

        async def complete(self, request: object) -> object:
            raise RuntimeError(EVIL)

    monkeypatch.setattr(registry, "_FACTORIES", {"broken": Broken})
    suite = tmp_path / "s.suite.yaml"
    suite.write_text(json.dumps({  # JSON is YAML: the escapes are read as control characters
        "name": "su\u202eite\x1b[2J", "scenarios": [{"path": str(MUTUAL)}], "modes": ["agents"],
        "backends": [{"name": "broken", "label": "bro\x1b]0;T\x07ken"}], "seeds": [0]}), encoding="utf-8")
    result = invoke("bench", suite, "--out", tmp_path / "r.db")
    assert result.exit_code == 1, result.output
    assert_safe(result.output)
    assert r"bro\x1b]0;T\x07ken" in result.stderr and SHOWN in result.stderr
