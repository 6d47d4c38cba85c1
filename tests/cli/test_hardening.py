"""Issue 15, the command line: failed episodes fail the command, outputs are checked before any model call
and never overwritten without --force, bounded seeds, one-line errors for bad caches and models, -h and --version.
"""

from __future__ import annotations

import http.client
import importlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from helpers import NO_SCRIPT_ERROR, SCENARIO_DIR, no_script_backend
from typer.testing import CliRunner, Result

from privy.bench.compare import episode_path
from privy.cli import app
from privy.simulator import backends, load_episode

MUTUAL = SCENARIO_DIR / "mutual_friends.yaml"
WIDE = {"COLUMNS": "2000"}


def invoke(*args: str | Path, cwd: Path | None = None) -> Result:
    if cwd is None:
        return CliRunner().invoke(app, [str(a) for a in args], env=WIDE)
    with pytest.MonkeyPatch.context() as m:
        m.chdir(cwd)
        return CliRunner().invoke(app, [str(a) for a in args], env=WIDE)


def one_line_error(result: Result) -> str:
    """The stderr of a refused command: exit 2, one ``error:`` line, nothing on stdout."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert result.stdout == "", "refused before anything ran"
    return lines[0]


def suite(tmp_path: Path, backend: str = "scripted") -> Path:
    path = tmp_path / "s.suite.yaml"
    path.write_text(yaml.safe_dump({"name": "t", "scenarios": [{"path": str(MUTUAL)}], "modes": ["agents"],
                                    "backends": [{"name": backend}], "seeds": [0]}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("store")
    result = invoke("bench", suite(d), "--out", d / "r.db")
    assert result.exit_code == 0, result.output
    return d / "r.db"


# ------------------------------------------------------------------ 1. a failed episode fails the command


@pytest.fixture
def no_script() -> Iterator[str]:
    """A backend whose script-mode call fails (registered for the test)."""
    backends.register("no-script", no_script_backend())
    try:
        yield "no-script"
    finally:
        del backends.registry._FACTORIES["no-script"]


def test_run_exits_1_when_the_episode_ended_in_error_and_still_writes_it(tmp_path: Path, no_script: str) -> None:
    out = tmp_path / "ep.json"
    result = invoke("run", MUTUAL, "--backend", no_script, "--mode", "script", "--out", out)
    assert result.exit_code == 1, result.output
    assert "the episode ended in error" in result.stderr and NO_SCRIPT_ERROR in result.stderr
    assert load_episode(out).outcome.ended_by == "error"


def test_compare_exits_1_when_any_episode_ended_in_error(tmp_path: Path, no_script: str) -> None:
    result = invoke("compare", MUTUAL, "--backend", no_script, "--modes", "agents,script", "--out-dir", tmp_path)
    assert result.exit_code == 1, result.output
    assert "1 of 2 episode(s) ended in error" in result.stderr and "script" in result.stderr
    assert len(list(tmp_path.glob("*.json"))) == 2, "every episode is still written"


def test_a_finished_episode_still_exits_0(tmp_path: Path) -> None:
    assert invoke("run", MUTUAL, "--backend", "scripted", "--out", tmp_path / "ep.json").exit_code == 0


# ------------------------------------------------------------------ 2. backend in the name; no overwrite, no --force


def test_the_default_episode_path_names_the_backend(tmp_path: Path) -> None:
    result = invoke("run", MUTUAL, "--backend", "scripted", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    expected = episode_path("runs", "mutual_friends_demo", "agents", "scripted", 0)
    assert expected.name == "mutual_friends_demo.agents.scripted.seed0.json"
    assert (tmp_path / expected).is_file()
    compared = invoke("compare", MUTUAL, "--backend", "mock", "--modes", "agents", "--out-dir", tmp_path / "runs")
    assert compared.exit_code == 0, compared.output
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [
        "mutual_friends_demo.agents.mock.seed0.json", "mutual_friends_demo.agents.scripted.seed0.json"]


def test_run_refuses_to_overwrite_an_episode_without_force(tmp_path: Path) -> None:
    out = tmp_path / "ep.json"
    out.write_text("precious", encoding="utf-8")
    line = one_line_error(invoke("run", MUTUAL, "--backend", "scripted", "--out", out))
    assert str(out) in line and "--force" in line
    assert out.read_text(encoding="utf-8") == "precious"
    assert invoke("run", MUTUAL, "--backend", "scripted", "--out", out, "--force").exit_code == 0
    assert load_episode(out).outcome.success is True


def test_run_refuses_the_default_path_too(tmp_path: Path) -> None:
    assert invoke("run", MUTUAL, "--backend", "scripted", cwd=tmp_path).exit_code == 0
    line = one_line_error(invoke("run", MUTUAL, "--backend", "scripted", cwd=tmp_path))
    assert "runs/mutual_friends_demo.agents.scripted.seed0.json" in line and "--force" in line


def test_compare_refuses_before_running_anything(tmp_path: Path) -> None:
    existing = episode_path(tmp_path, "mutual_friends_demo", "omniscient", "scripted", 0)
    existing.write_text("precious", encoding="utf-8")
    result = invoke("compare", MUTUAL, "--backend", "scripted", "--modes", "agents,omniscient",
                    "--out-dir", tmp_path)
    line = one_line_error(result)
    assert str(existing) in line and "--force" in line
    assert [p.name for p in tmp_path.iterdir()] == [existing.name], "the agents episode did not run either"
    assert existing.read_text(encoding="utf-8") == "precious"
    forced = invoke("compare", MUTUAL, "--backend", "scripted", "--modes", "agents,omniscient",
                    "--out-dir", tmp_path, "--force")
    assert forced.exit_code == 0, forced.output
    assert load_episode(existing).mode.value == "omniscient"


@pytest.mark.parametrize("flag", ["--md", "--html"])
def test_report_refuses_to_overwrite(store: Path, tmp_path: Path, flag: str) -> None:
    out = tmp_path / "report.out"
    out.write_text("precious", encoding="utf-8")
    line = one_line_error(invoke("report", store, flag, out))
    assert str(out) in line and flag in line and "--force" in line
    assert out.read_text(encoding="utf-8") == "precious"
    assert invoke("report", store, flag, out, "--force").exit_code == 0
    assert out.read_text(encoding="utf-8") != "precious"


def test_view_refuses_to_overwrite(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "v.html"
    out.write_text("precious", encoding="utf-8")
    line = one_line_error(invoke("view", store, "--out", out))
    assert str(out) in line and "--force" in line
    assert out.read_text(encoding="utf-8") == "precious"
    assert invoke("view", store, "--out", out, "--force").exit_code == 0


def test_export_refuses_to_overwrite_and_writes_nothing(store: Path, tmp_path: Path) -> None:
    (tmp_path / "scores.csv").write_text("precious", encoding="utf-8")
    line = one_line_error(invoke("export", store, "--out", tmp_path))
    assert str(tmp_path / "scores.csv") in line and "--force" in line
    assert [p.name for p in tmp_path.iterdir()] == ["scores.csv"], "no table written when one would be overwritten"
    result = invoke("export", store, "--out", tmp_path, "--force")
    assert result.exit_code == 0, result.output
    assert len(list(tmp_path.iterdir())) == 5 and (tmp_path / "scores.csv").read_text() != "precious"
    # five tables: episodes, scores, messages, model_calls and probes


def test_scenarios_generate_refuses_to_overwrite(tmp_path: Path) -> None:
    assert invoke("scenarios", "generate", "mutual_friends", "--count", "2", "--out", tmp_path).exit_code == 0
    before = {p: p.read_text() for p in tmp_path.iterdir()}
    first = sorted(before)[0]
    first.write_text("precious", encoding="utf-8")
    line = one_line_error(invoke("scenarios", "generate", "mutual_friends", "--count", "2", "--out", tmp_path))
    assert str(first) in line and "--force" in line
    assert first.read_text() == "precious"
    assert invoke("scenarios", "generate", "mutual_friends", "--count", "2", "--out", tmp_path,
                  "--force").exit_code == 0
    assert first.read_text() == before[first]


# ------------------------------------------------------------------ 3. output paths checked before any model call


def test_run_out_a_folder_fails_before_the_episode(tmp_path: Path) -> None:
    line = one_line_error(invoke("run", MUTUAL, "--backend", "scripted", "--out", tmp_path))
    assert f"--out {tmp_path}: is a folder" in line
    assert list(tmp_path.iterdir()) == [] and not tmp_path.with_name(tmp_path.name + ".tmp").exists()


def test_run_out_under_a_file_fails_before_the_episode(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    line = one_line_error(invoke("run", MUTUAL, "--backend", "scripted", "--out", blocker / "ep.json"))
    assert f"{blocker} is a file, not a folder" in line


def test_run_out_in_a_folder_without_write_permission_fails_before_the_episode(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import privy.cli

    denied = tmp_path / "locked"
    denied.mkdir()
    real = privy.cli.os.access
    monkeypatch.setattr(privy.cli.os, "access", lambda p, mode: False if Path(p) == denied else real(p, mode))
    line = one_line_error(invoke("run", MUTUAL, "--backend", "scripted", "--out", denied / "sub" / "ep.json"))
    assert f"cannot write in {denied} (permission denied)" in line  # (tests run as root, which chmod cannot stop)
    assert list(denied.iterdir()) == []


def test_compare_out_dir_that_is_a_file_fails_before_any_episode(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    line = one_line_error(invoke("compare", MUTUAL, "--backend", "scripted", "--modes", "agents",
                                 "--out-dir", blocker))
    assert "--out-dir" in line and "is a file, not a folder" in line


# ------------------------------------------------------------------ 4. seeds


@pytest.mark.parametrize("seed", ["-1", str(2**63)])
def test_run_refuses_a_seed_out_of_range(tmp_path: Path, seed: str) -> None:
    result = invoke("run", MUTUAL, "--backend", "scripted", "--seed", seed, "--out", tmp_path / "ep.json")
    assert result.exit_code == 2 and "--seed" in result.stderr
    assert not (tmp_path / "ep.json").exists()


def test_run_takes_the_largest_seed(tmp_path: Path) -> None:
    result = invoke("run", MUTUAL, "--backend", "scripted", "--seed", str(2**63 - 1), "--out", tmp_path / "ep.json")
    assert result.exit_code == 0, result.output
    assert load_episode(tmp_path / "ep.json").seed == 2**63 - 1


def test_compare_refuses_zero_seeds(tmp_path: Path) -> None:
    result = invoke("compare", MUTUAL, "--backend", "scripted", "--seeds", "0", "--out-dir", tmp_path)
    assert result.exit_code == 2 and "--seeds" in result.stderr
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ 5. bad cache, bad model


def test_a_cache_that_is_not_sqlite_is_one_clear_line(tmp_path: Path) -> None:
    cache = tmp_path / "notes.txt"
    cache.write_text("not a database", encoding="utf-8")
    line = one_line_error(invoke("run", MUTUAL, "--backend", "scripted", "--cache", cache,
                                 "--out", tmp_path / "ep.json"))
    assert f"cache {cache}" in line and "SQLite" in line
    assert cache.read_text(encoding="utf-8") == "not a database" and not (tmp_path / "ep.json").exists()


def test_a_cache_that_cannot_be_created_is_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    line = one_line_error(invoke("run", MUTUAL, "--backend", "scripted", "--cache", blocker / "c.db",
                                 "--out", tmp_path / "ep.json"))
    assert f"cache {blocker / 'c.db'}: cannot create its folder" in line


def test_a_model_that_is_not_gguf_is_one_clear_line(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    model = tmp_path / "model.gguf"
    model.write_bytes(b"PK\x03\x04 a zip, not a model")
    line = one_line_error(invoke("run", MUTUAL, "--model", model, "--out", tmp_path / "ep.json"))
    assert f"model file {model}: not a GGUF file" in line


# ------------------------------------------------------------------ 6. bad options blame only the bad ones


def test_bad_backend_option_names_only_itself_and_lists_the_valid_ones(tmp_path: Path) -> None:
    line = one_line_error(invoke("run", MUTUAL, "--backend", "mock", "--opt", "bogus=1", "--opt", "outputs=[hi]",
                                 "--out", tmp_path / "ep.json"))
    assert "bad options ['bogus']" in line and "valid options: ['outputs', 'respond'" in line


def test_a_missing_required_option_is_named(tmp_path: Path) -> None:
    line = one_line_error(invoke("run", MUTUAL, "--backend", "replay", "--out", tmp_path / "ep.json"))
    assert "['episode'] required but not given" in line


# ------------------------------------------------------------------ 7. small ones


def test_version_and_h_everywhere() -> None:
    version = invoke("--version")
    assert version.exit_code == 0 and version.stdout.startswith("privy ") and version.stdout.split()[1][0].isdigit()
    for args in (["-h"], ["run", "-h"], ["compare", "-h"], ["scenarios", "generate", "-h"], ["export", "-h"]):
        result = invoke(*args)
        assert result.exit_code == 0, (args, result.output)
        assert "Usage: " in result.stdout and " ".join(args[:-1]) in result.stdout and "--help" in result.stdout


def test_run_help_lists_every_registered_backend() -> None:
    result = invoke("run", "--help")
    for name in backends.available():
        assert name in result.stdout
    assert "scripted" in backends.available() and "mock" in backends.available()


@pytest.mark.parametrize("turn", ["99", "-1"])
def test_show_turn_out_of_range_names_the_range(tmp_path: Path, turn: str) -> None:
    ep = tmp_path / "ep.json"
    assert invoke("run", MUTUAL, "--backend", "scripted", "--out", ep).exit_code == 0
    line = one_line_error(invoke("show", ep, "--turn", turn))
    assert f"--turn {turn}: {ep} has turns 0 to 3" in line


def test_export_of_one_table_to_a_file_name_is_a_file(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "episodes.csv"
    assert invoke("export", store, "-t", "episodes", "--out", out).exit_code == 0
    assert out.is_file() and out.read_text().startswith("key,")
    into = tmp_path / "folder"
    into.mkdir()
    assert invoke("export", store, "-t", "scores", "-f", "jsonl", "--out", into).exit_code == 0
    assert [p.name for p in into.iterdir()] == ["scores.jsonl"], "one table into a folder: TABLE.FORMAT in it"


def test_export_of_every_table_to_a_file_name_is_refused(store: Path, tmp_path: Path) -> None:
    line = one_line_error(invoke("export", store, "--out", tmp_path / "file.csv"))
    assert "file.csv" in line and "--table" in line
    assert list(tmp_path.iterdir()) == []
    existing = tmp_path / "results"
    existing.write_text("x", encoding="utf-8")
    assert "names a file" in one_line_error(invoke("export", store, "--out", existing, "--force"))


def test_export_is_all_or_nothing(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    export_module = importlib.import_module("privy.bench.export")

    real = export_module._write

    def failing(store: object, table: str, *args: object, **kwargs: object) -> int:
        if table == "messages":  # the third of four tables
            raise OSError("disk full")
        return real(store, table, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(export_module, "_write", failing)
    with pytest.raises(OSError, match="disk full"):
        export_module.export(store, "csv", list(export_module.TABLES), tmp_path / "new" / "deeper")
    assert list(tmp_path.iterdir()) == [], "no table, no temporary file, no folder left behind"


def test_report_on_an_empty_store_says_there_is_nothing_finished(tmp_path: Path) -> None:
    from privy.bench import ResultStore

    ResultStore(tmp_path / "empty.db").close()
    result = invoke("report", tmp_path / "empty.db")
    assert result.exit_code == 0, result.output
    assert "No finished episodes in this store" in result.stdout
    assert "Only 0 seed(s)" not in result.stdout


def test_serve_answers_head_like_get_without_the_body() -> None:
    from privy.bench.view_html import serve

    server = serve("<html>hi</html>", 0)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        port = server.server_address[1]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("HEAD", "/")
        head = conn.getresponse()
        assert head.status == 200 and head.read() == b""
        assert head.getheader("Content-Length") == str(len(b"<html>hi</html>"))
        assert head.getheader("Content-Type") == "text/html; charset=utf-8"
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("HEAD", "/elsewhere")
        assert conn.getresponse().status == 404
        conn.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# ------------------------------------------------------------------ 8. bench checks backends before the store


def test_bench_with_an_unknown_backend_creates_no_store(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    result = invoke("bench", suite(tmp_path, "nonesuch"), "--out", db)
    assert result.exit_code == 2 and result.stdout == "", result.output
    assert "s.suite.yaml:2: backends[0].name: unknown backend 'nonesuch'; expected one of [" in result.stderr
    assert "'scripted'" in result.stderr
    assert not db.exists()


def test_bench_still_resumes_an_existing_store(store: Path) -> None:
    result = invoke("bench", store.parent / "s.suite.yaml", "--out", store)
    assert result.exit_code == 0 and "1 already done" in result.stdout
    assert sqlite3.connect(store).execute("SELECT count(*) FROM episodes").fetchone() == (1,)
