"""`privy bench`: the whole grid once, resumable, failures recorded, kill -9 safe, -j concurrent."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import ROOT
from typer.testing import CliRunner, Result

from privy.bench import execute
from privy.bench.run import Progress, run_suite
from privy.bench.store import ResultStore
from privy.bench.suite import Cell, Grid, Suite, SuiteError, expand, load_suite
from privy.cli import app
from privy.scenarios.baselines import ScriptedBackend
from privy.simulator.backends import registry
from privy.simulator.backends.base import ChatRequest, Completion

WIDE = {"COLUMNS": "2000"}


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env=WIDE)


def write_suite(path: Path, backend: str = "scripted", count: int = 3, seeds: tuple[int, ...] = (0, 1),
                modes: tuple[str, ...] = ("agents", "omniscient")) -> Path:
    path.write_text(yaml.safe_dump({
        "name": "t", "scenarios": [{"family": "mutual_friends", "count": count, "seed": 1}],
        "modes": list(modes), "backends": [{"name": backend}], "seeds": list(seeds)}), encoding="utf-8")
    return path


def planned(suite: Path) -> set[str]:
    """The grid's keys (the suite's fields only: its backends may be registered in another process)."""
    s = Suite.model_validate(yaml.safe_load(suite.read_text(encoding="utf-8")))
    return {c.key for c in expand(s, suite.parent)}


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(db)
    try:
        return list(con.execute(sql))
    finally:
        con.close()


def assert_consistent(db: Path) -> None:
    """No orphan rows; each episode's messages and calls match its own counts."""
    for table in ("messages", "model_calls", "scores"):
        assert rows(db, f"SELECT count(*) FROM {table} WHERE episode_key NOT IN (SELECT key FROM episodes)") == [(0,)]
    bad = rows(db, "SELECT key FROM episodes e WHERE status = 'done' AND ("
                   "turns != (SELECT count(*) FROM messages m WHERE m.episode_key = e.key) OR "
                   "calls != (SELECT count(*) FROM model_calls c WHERE c.episode_key = e.key) OR "
                   "(SELECT count(*) FROM scores s WHERE s.episode_key = e.key AND s.metric = '') != 6)")
    assert bad == []


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A fresh backend table for register(), dropped after the test."""
    table: dict[str, Any] = {}
    monkeypatch.setattr(registry, "_FACTORIES", table)
    return table


def test_runs_every_cell_once_and_a_rerun_skips_them_all(tmp_path: Path) -> None:
    suite, db = write_suite(tmp_path / "s.suite.yaml"), tmp_path / "r.db"
    first = invoke("bench", suite, "--out", db, "-j", "3")
    assert first.exit_code == 0, first.output
    assert "12 episodes run, 0 failed, 0 already done" in first.output
    keys = planned(suite)
    assert len(keys) == 12
    assert {r[0] for r in rows(db, "SELECT key FROM episodes WHERE status = 'done'")} == keys
    assert_consistent(db)
    stamps = rows(db, "SELECT key, finished_at, episode_json FROM episodes ORDER BY key")
    second = invoke("bench", suite, "--out", db)
    assert second.exit_code == 0, second.output
    assert "0 episodes run, 0 failed, 12 already done" in second.output
    assert rows(db, "SELECT key, finished_at, episode_json FROM episodes ORDER BY key") == stamps
    assert rows(db, "SELECT value FROM meta WHERE key = 'suite'") == [("t",)]


class Flaky(ScriptedBackend):
    """The scripted protocol, except that writing for agent ``kira`` raises while ``fail`` is set."""

    name = "flaky"
    fail = True
    speakers: list[str] = []

    async def complete(self, request: ChatRequest) -> Completion:
        Flaky.speakers.append(request.speaker or "")
        if Flaky.fail and request.speaker == "kira":
            raise RuntimeError("kira's model is down")
        return await super().complete(request)


def test_a_failing_episode_is_recorded_and_only_it_is_retried(tmp_path: Path, registered: dict[str, Any]) -> None:
    registered["flaky"] = Flaky
    Flaky.fail, Flaky.speakers = True, []
    suite, db = write_suite(tmp_path / "s.suite.yaml", backend="flaky"), tmp_path / "r.db"
    first = invoke("bench", suite, "--out", db, "-j", "2")
    assert first.exit_code == 1, first.output  # failures make the exit status non-zero
    assert "8 episodes run, 4 failed, 0 already done" in first.output
    failed = rows(db, "SELECT key, error FROM episodes WHERE status = 'error' ORDER BY key")
    assert len(failed) == 4  # the instance with agent kira, in 2 modes x 2 seeds
    assert all(k.startswith("mutual_friends_0000") and "kira's model is down" in e for k, e in failed)
    assert rows(db, "SELECT count(*) FROM episodes WHERE status = 'done'") == [(8,)]
    done_before = rows(db, "SELECT key, finished_at FROM episodes WHERE status = 'done' ORDER BY key")

    Flaky.fail, Flaky.speakers = False, []
    second = invoke("bench", suite, "--out", db)
    assert second.exit_code == 0, second.output
    assert "4 episodes run, 0 failed, 8 already done" in second.output
    assert set(Flaky.speakers) == {"kira", "carmen"}  # only the failed instance's agents were called
    assert rows(db, "SELECT key, finished_at FROM episodes WHERE status = 'done' AND key NOT LIKE "
                    "'mutual_friends_0000%' ORDER BY key") == done_before
    assert {r[0] for r in rows(db, "SELECT key FROM episodes WHERE status = 'done'")} == planned(suite)
    assert rows(db, "SELECT count(*) FROM episodes WHERE error IS NOT NULL") == [(0,)]
    assert_consistent(db)


def test_jobs_run_episodes_concurrently(tmp_path: Path, registered: dict[str, Any]) -> None:
    state = {"now": 0, "peak": 0}

    class Slow(ScriptedBackend):
        name = "slow"

        async def complete(self, request: ChatRequest) -> Completion:
            state["now"] += 1  # one call at a time per episode: calls in flight = episodes in flight
            state["peak"] = max(state["peak"], state["now"])
            await asyncio.sleep(0.02)
            state["now"] -= 1
            return await super().complete(request)

    registered["slow"] = Slow
    suite = write_suite(tmp_path / "s.suite.yaml", backend="slow")
    result = invoke("bench", suite, "--out", tmp_path / "j4.db", "-j", "4")
    assert result.exit_code == 0, result.output
    assert state["peak"] == 4
    state["peak"] = 0
    result = invoke("bench", suite, "--out", tmp_path / "j1.db", "-j", "1")
    assert result.exit_code == 0, result.output
    assert state["peak"] == 1


SLOW_BENCH = textwrap.dedent("""\
    import asyncio, sys
    sys.path.insert(0, {root!r})
    from privy.simulator import backends
    from privy.scenarios.baselines import ScriptedBackend

    class Slow(ScriptedBackend):
        name = "slow"

        async def complete(self, request):
            await asyncio.sleep(0.05)
            return await super().complete(request)

    backends.register("slow", Slow)
    from privy import cli
    cli.app(sys.argv[1:])
""")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_a_killed_run_loses_nothing_and_a_rerun_completes_it(tmp_path: Path, sig: signal.Signals) -> None:
    script = tmp_path / "slow_bench.py"
    script.write_text(SLOW_BENCH.format(root=str(ROOT)), encoding="utf-8")
    suite = write_suite(tmp_path / "s.suite.yaml", backend="slow", count=6)
    db = tmp_path / "r.db"
    cmd = [sys.executable, str(script), "bench", str(suite), "--out", str(db), "-j", "2"]
    env = {**os.environ, "COLUMNS": "2000"}
    # SIGINT as a terminal delivers it: a shell that starts a job in the background (as a CI
    # runner may have started this test) makes its children ignore SIGINT, and Python then
    # keeps ignoring it; Ctrl-C in a terminal is never ignored
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                if rows(db, "SELECT count(*) FROM episodes WHERE status = 'done'")[0][0] >= 4:
                    break
            except sqlite3.OperationalError:  # tables not created yet
                pass
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be killed"
    proc.send_signal(sig)
    output = proc.communicate(timeout=60)[0].decode(errors="replace")
    assert proc.returncode != 0, f"exit code {proc.returncode} after {sig.name}:\n{output[-3000:]}"

    store = ResultStore(db)  # opens after the kill, and reads
    kept = store.done_keys()
    store.close()
    total = len(planned(suite))
    assert total == 24 and 4 <= len(kept) < total
    assert_consistent(db)

    again = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{total - len(kept)} episodes run, 0 failed, {len(kept)} already done" in again.stdout
    keys = [r[0] for r in rows(db, "SELECT key FROM episodes WHERE status = 'done'")]
    assert len(keys) == total and set(keys) == planned(suite)
    assert rows(db, "SELECT count(*) FROM episodes") == [(total,)]
    assert_consistent(db)


class Pulls(Grid):
    """A grid that counts the passes over it and the cells taken from them."""

    def __init__(self, suite_file: Path) -> None:
        super().__init__(*load_suite(suite_file))
        self.passes = 0
        self.pulled = 0

    def __iter__(self) -> Iterator[Cell]:
        self.passes += 1
        for cell in super().__iter__():
            self.pulled += 1
            yield cell


def run_grid(grid: Grid, db: Path, jobs: int = 1, on_progress: Any = None) -> Progress:
    store = ResultStore(db)
    try:
        return asyncio.run(run_suite(grid.suite, grid, store, jobs, on_progress))
    finally:
        store.close()


@pytest.mark.parametrize(("read_ahead", "most"), [(1, 3), (5, 3 - 1 + 5)])
def test_the_runner_streams_the_grid_making_cells_only_as_workers_free_up(
        tmp_path: Path, registered: dict[str, Any], monkeypatch: pytest.MonkeyPatch, read_ahead: int,
        most: int) -> None:
    monkeypatch.setattr(execute, "READ_AHEAD", read_ahead)
    ahead: list[int] = []  # at each model call: cells made but not finished
    finished = [0]

    class Watched(ScriptedBackend):
        name = "watched"

        async def complete(self, request: ChatRequest) -> Completion:
            ahead.append(grid.pulled - finished[0])
            await asyncio.sleep(0.002)
            return await super().complete(request)

    def tick(p: Progress, cell: Cell, error: str | None) -> None:
        finished[0] += 1

    registered["watched"] = Watched
    grid = Pulls(write_suite(tmp_path / "s.suite.yaml", backend="watched", count=10))  # 40 cells
    progress = run_grid(grid, tmp_path / "r.db", jobs=3, on_progress=tick)
    assert (progress.done, progress.failed, progress.skipped, progress.total) == (40, 0, 0, 40)
    assert grid.passes == 1 and grid.pulled == 40  # one pass for the episodes (the keys pass makes no cells)
    # -j 3: never more cells made than the episodes in flight and one read-ahead batch
    assert max(ahead) == most


def test_a_resumed_run_streams_past_the_done_cells_and_plans_the_whole_grid(tmp_path: Path) -> None:
    suite_file, db = write_suite(tmp_path / "s.suite.yaml"), tmp_path / "r.db"
    first = Pulls(suite_file)
    keys = first.keys()
    assert keys == [c.key for c in expand(*load_suite(suite_file))] and len(first) == 12
    assert run_grid(first, db, jobs=2).done == 12
    con = sqlite3.connect(db)
    with con:  # as if the run had been killed before these 5 finished
        for k in keys[3:8]:
            for table, col in (("episodes", "key"), ("scores", "episode_key")):
                con.execute(f"DELETE FROM {table} WHERE {col} = ?", (k,))
    con.close()

    ran: list[str] = []
    again = Pulls(suite_file)
    progress = run_grid(again, db, jobs=2, on_progress=lambda p, c, e: ran.append(c.key))
    assert (progress.done, progress.failed, progress.skipped, progress.total) == (5, 0, 7, 12)
    assert sorted(ran) == sorted(keys[3:8]) and again.passes == 1
    assert json.loads(dict(rows(db, "SELECT key, value FROM meta"))["planned"]) == keys  # the whole grid, in order
    assert_consistent(db)

    done = Pulls(suite_file)
    progress = run_grid(done, db, jobs=2)
    assert (progress.done, progress.skipped, progress.total) == (0, 12, 12)
    assert done.passes == 0  # nothing to run: no pass over the scenarios at all


def test_a_grid_streams_the_same_cells_as_expand(tmp_path: Path) -> None:
    (tmp_path / "more").mkdir()
    for name in ("mutual_friends", "hidden_profile"):
        (tmp_path / "more" / f"{name}.yaml").write_text((ROOT / "scenarios" / f"{name}.yaml").read_text())
    suite_file = tmp_path / "s.suite.yaml"
    suite_file.write_text(yaml.safe_dump({
        "name": "mixed", "scenarios": [{"path": "more/mutual_friends.yaml"}, {"glob": "more/*.yaml"},
                                       {"family": "hidden_profile", "count": 2, "seed": 4}],
        "modes": ["agents", "mindreaders"], "backends": [{"name": "scripted"}, {"name": "scripted", "label": "b"}],
        "seeds": [0, 7], "limits": {"max_turns": 4}}), encoding="utf-8")
    grid, cells = Grid(*load_suite(suite_file)), expand(*load_suite(suite_file))
    assert list(grid) == cells and list(grid) == cells  # iterable again, the same each time
    assert grid.keys() == [c.key for c in cells] and len(grid) == len(cells) == 5 * 2 * 2 * 2
    assert len(set(grid.keys())) == 4 * 2 * 2 * 2  # the same file by path and by glob: one instance
    assert all(c.scenario.limits.max_turns == 4 for c in cells)


def test_the_runner_refuses_a_one_shot_iterator(tmp_path: Path) -> None:
    suite, base = load_suite(write_suite(tmp_path / "s.suite.yaml"))
    store = ResultStore(tmp_path / "r.db")
    try:
        with pytest.raises(TypeError, match="not an iterator"):
            asyncio.run(run_suite(suite, iter(expand(suite, base)), store))
    finally:
        store.close()


def test_a_scenario_that_cannot_load_fails_the_bench_before_anything_runs(tmp_path: Path) -> None:
    suite_file, db = tmp_path / "s.suite.yaml", tmp_path / "r.db"
    suite_file.write_text(yaml.safe_dump({
        "name": "bad", "scenarios": [{"family": "mutual_friends", "count": 2}, {"glob": "nowhere/*.yaml"}],
        "backends": [{"name": "scripted"}]}), encoding="utf-8")
    result = invoke("bench", suite_file, "--out", db)
    assert result.exit_code == 2
    assert "scenarios[1]" in result.output and "no file matches" in result.output
    assert not db.exists()
    with pytest.raises(SuiteError, match="no file matches"):
        Grid(*load_suite(suite_file)).keys()


def test_progress_line_says_count_failures_rate_and_eta_every_few_seconds() -> None:
    now = [100.0]
    lines: list[str] = []
    line = execute.ProgressLine("bench", 400, lines.append, start=100, every=5.0, clock=lambda: now[0])
    for n in range(101, 131):  # 30 episodes, one every 0.5 s: a line every 10 of them
        now[0] += 0.5
        line.update(n, failed=3 if n > 120 else 0)
    assert lines == ["bench: 110/400 episodes, 2.0/s, ETA 2m25s", "bench: 120/400 episodes, 2.0/s, ETA 2m20s",
                     "bench: 130/400 episodes, 3 failed, 2.0/s, ETA 2m15s"]
    line.update(130, 3, force=True)  # the last line is not repeated
    line.update(131, 3, force=True)
    assert lines[3:] == ["bench: 131/400 episodes, 3 failed, 2.1/s, ETA 2m10s"]
    assert [execute.duration(s) for s in (0, 59.4, 130, 3600 * 2 + 300)] == ["0s", "59s", "2m10s", "2h05m"]


def test_bench_writes_progress_lines_to_stderr_when_it_is_not_a_terminal(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = iter(range(0, 10_000, 2))  # the clock moves 2 s each time it is read
    monkeypatch.setattr(execute, "CLOCK", lambda: float(next(ticks)))
    suite, db = write_suite(tmp_path / "s.suite.yaml"), tmp_path / "r.db"
    result = CliRunner().invoke(app, ["bench", str(suite), "--out", str(db)], env=WIDE)  # -j 1: in order
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [  # a line when 5 s have passed, and the last one
        "bench: 3/12 episodes, 0.5/s, ETA 18s", "bench: 6/12 episodes, 0.5/s, ETA 12s",
        "bench: 9/12 episodes, 0.5/s, ETA 6s", "bench: 12/12 episodes, 0.5/s"]
    assert "12 episodes run" in result.stdout and "bench:" not in result.stdout


def test_bench_says_on_stderr_that_the_embedded_model_is_loading(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("llama_cpp")
    from privy.simulator.backends import llama

    model = tmp_path / "big.gguf"
    model.write_bytes(b"GGUF" + bytes(3 * 2**20))  # 3 MB

    def no_load(*args: Any) -> None:
        raise registry.BackendError("not in a test")

    monkeypatch.setattr(llama, "_load", no_load)
    suite = tmp_path / "s.suite.yaml"
    suite.write_text(yaml.safe_dump({"name": "t", "scenarios": [{"family": "mutual_friends", "count": 1}],
                                     "backends": [{"name": "llama", "options": {"model": str(model)}}]}))
    result = invoke("bench", suite, "--out", tmp_path / "r.db")
    assert f"loading model {model} (3 MB)..." in result.stderr.splitlines()
    assert "not in a test" in result.stderr
