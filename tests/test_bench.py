"""`privy bench`: the whole grid once, resumable, failures recorded, kill -9 safe, -j concurrent."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from cli import app
from simulator.backends import registry
from simulator.backends.base import ChatRequest, Completion
from simulator.backends.scripted import ScriptedBackend
from simulator.store import ResultStore
from simulator.suite import expand, load_suite

ROOT = Path(__file__).resolve().parent.parent
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
    s, base = load_suite(suite)
    return {c.key for c in expand(s, base)}


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
    from simulator import backends
    from simulator.backends.scripted import ScriptedBackend

    class Slow(ScriptedBackend):
        name = "slow"

        async def complete(self, request):
            await asyncio.sleep(0.05)
            return await super().complete(request)

    backends.register("slow", Slow)
    import cli
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
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
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
    proc.communicate(timeout=60)
    assert proc.returncode != 0

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
