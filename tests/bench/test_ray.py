"""`privy bench --executor ray`: the same grid as Ray tasks writes the same store as the local executor.

Ray binds its head to the machine's address, not just loopback, when it can find one. So the
Ray runs here happen inside a network namespace the test makes (``unshare --net``) in which
the only interface is loopback: the head is started by the test on 127.0.0.1 and no traffic
can reach any other address. That needs root (CI runs as root); elsewhere the test skips and
says why.
"""

from __future__ import annotations

import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from privy.bench.ray_executor import RayConnectError, cell_payload, record, run_cell
from privy.bench.run import run_bench
from privy.bench.store import ResultStore
from privy.bench.suite import expand, load_suite

ray = pytest.importorskip("ray")

BIN = Path(sys.executable).parent


def loopback_namespace_available() -> str | None:
    """None if ``unshare --net`` works here, else the reason it does not."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "needs unshare and ip (util-linux, iproute2)"
    probe = subprocess.run(["unshare", "--net", "--fork", "ip", "link", "set", "lo", "up"],
                           capture_output=True, text=True)
    return None if probe.returncode == 0 else f"cannot make a network namespace: {probe.stderr.strip()}"


def in_loopback_namespace(script: str, cwd: Path, timeout: float = 420) -> subprocess.CompletedProcess[str]:
    """Run a bash script in a fresh network namespace whose only interface is loopback."""
    # Ray >= 2.59 turns token authentication on for local clusters and keeps a token in
    # ~/.ray; one token in the environment for head, driver and workers makes every run agree
    token = secrets.token_hex(16)
    body = (f"set -euo pipefail\nip link set lo up\nexport RAY_USAGE_STATS_ENABLED=0 RAY_AUTH_MODE=token"
            f" RAY_AUTH_TOKEN={token}\n" + textwrap.dedent(script))
    return subprocess.run(["unshare", "--net", "--fork", "bash", "-c", body], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def suite_file(path: Path) -> Path:
    path.write_text(yaml.safe_dump({
        "name": "ray-vs-local",
        "scenarios": [{"family": "mutual_friends", "count": 2, "seed": 3},
                      {"family": "hidden_profile", "count": 1, "seed": 3}],
        "modes": ["agents", "mindreaders", "omniscient"],
        "backends": [{"name": "scripted", "label": "scripted"}],
        "seeds": [0, 1]}), encoding="utf-8")
    return path


def contents(db: Path) -> dict[str, Any]:
    """What two runs of the same suite must agree on: every table but times and ids."""
    con = sqlite3.connect(db)
    try:
        return {
            "episodes": sorted(con.execute(
                "SELECT key, scenario_id, family, source, mode, backend, seed, status, error, success, ended_by,"
                " turns, calls, prompt_tokens, completion_tokens, retries, cached_calls FROM episodes")),
            "messages": sorted(con.execute(
                "SELECT episode_key, idx, turn, sender, recipients, content, actions FROM messages")),
            "calls": sorted(con.execute(
                "SELECT episode_key, idx, speaker, turn, prompt_tokens, completion_tokens, retries, cached, error"
                " FROM model_calls")),
            "scores": sorted(con.execute("SELECT episode_key, evaluator, metric, value FROM scores")),
        }
    finally:
        con.close()


def test_a_cell_payload_is_json_and_runs_the_same_episode_in_process(tmp_path: Path) -> None:
    suite, base = load_suite(suite_file(tmp_path / "s.suite.yaml"))
    cell = expand(suite, base)[0]
    import json

    payload = json.loads(json.dumps(cell_payload(cell, ["task_success"])))  # survives the wire
    first, second = run_cell(payload), run_cell(payload)
    assert "error" not in first, first
    assert json.loads(first["scores"]) == json.loads(second["scores"])
    assert json.loads(first["episode"])["messages"] == json.loads(second["episode"])["messages"]


def test_a_worker_error_is_returned_not_raised() -> None:
    result = run_cell({"scenario": {"id": "x"}, "source": "s", "mode": "agents",
                       "backend": {"name": "scripted"}, "seed": 0, "evaluators": []})
    assert result["error"].startswith("ValidationError")


def test_a_workers_unreadable_result_is_recorded_as_a_failed_episode(tmp_path: Path) -> None:
    suite, base = load_suite(suite_file(tmp_path / "s.suite.yaml"))
    cells = expand(suite, base)
    good = run_cell(cell_payload(cells[0], ["task_success"]))
    store = ResultStore(tmp_path / "r.db")
    try:
        assert record(store, suite.name, cells[0], good) is None
        error = record(store, suite.name, cells[1], {"episode": "{not json", "scores": "{}"})
        assert error is not None and error.startswith("unreadable result from the Ray worker")
        died = "RayTaskError: worker died"
        assert record(store, suite.name, cells[2], {"error": died}) == died
        rows = dict(store.query("SELECT key, status FROM episodes"))
        assert rows == {cells[0].key: "done", cells[1].key: "error", cells[2].key: "error"}
    finally:
        store.close()


def test_unknown_executor_is_refused(tmp_path: Path) -> None:
    suite, base = load_suite(suite_file(tmp_path / "s.suite.yaml"))
    store = ResultStore(tmp_path / "r.db")
    try:
        with pytest.raises(ValueError, match="unknown executor 'dask'"):
            run_bench(suite, expand(suite, base), store, executor="dask")
    finally:
        store.close()


def test_a_local_ray_that_does_not_come_up_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray")

    def timed_out(**kwargs: Any) -> None:  # what Ray raises when its node is not up after 30 s
        raise Exception("The current node timed out during startup.")

    monkeypatch.setattr(ray, "init", timed_out)
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    suite, base = load_suite(suite_file(tmp_path / "s.suite.yaml"))
    store = ResultStore(tmp_path / "r.db")
    try:
        with pytest.raises(RayConnectError, match=r"could not start a local Ray .*timed out.*--address 127.0.0.1:PORT"):
            run_bench(suite, expand(suite, base), store, executor="ray")
    finally:
        store.close()


def test_ray_head_on_loopback_writes_the_same_store_as_the_local_executor(tmp_path: Path) -> None:
    why = loopback_namespace_available()
    if why:
        pytest.skip(why)
    suite = suite_file(tmp_path / "s.suite.yaml")
    planned = {c.key for c in expand(*load_suite(suite))}

    local = subprocess.run([BIN / "privy", "bench", suite, "--out", tmp_path / "local.db", "-j", "2"],
                           capture_output=True, text=True, timeout=300)
    assert local.returncode == 0, local.stdout + local.stderr

    ray_tmp = tempfile.mkdtemp(prefix="privy-ray-", dir="/tmp")  # short: Ray's socket paths have a length limit
    try:
        done = in_loopback_namespace(f"""
            {BIN}/ray start --head --node-ip-address=127.0.0.1 --port=6390 --num-cpus=2 \\
                --include-dashboard=false --disable-usage-stats --temp-dir={ray_tmp} > ray-start.log 2>&1
            trap '{BIN}/ray stop --force > /dev/null 2>&1' EXIT
            {BIN}/privy bench {suite} --out ray.db -j 2 --executor ray --address 127.0.0.1:6390
            echo '--- resumed:'
            {BIN}/privy bench {suite} --out ray.db -j 2 --executor ray --address 127.0.0.1:6390
            echo '--- nobody there:' >&2
            {BIN}/privy bench {suite} --out none.db --executor ray --address 127.0.0.1:1 >&2 || echo "exit $?" >&2
            {BIN}/ray stop --force > /dev/null 2>&1  # the head goes first: a loaded machine starts one Ray sooner
            echo '--- own ray:'
            {BIN}/privy bench {suite} --out own.db -j 2 --executor ray
            """, cwd=tmp_path)
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log + (tmp_path / "ray-start.log").read_text()

    nobody = done.stderr.split("--- nobody there:")[1]
    first, rest = done.stdout.split("--- resumed:")
    resumed, own = rest.split("--- own ray:")
    n = len(planned)
    assert f"{n} episodes run, 0 failed, 0 already done" in first
    assert f"0 episodes run, 0 failed, {n} already done" in resumed
    assert f"{n} episodes run, 0 failed, 0 already done" in own

    assert "--address 127.0.0.1:1: nothing answers there" in nobody and "exit 2" in nobody, nobody

    expected = contents(tmp_path / "local.db")
    assert {row[0] for row in expected["episodes"]} == planned
    assert len(expected["messages"]) > n  # the comparison is over real conversations
    assert contents(tmp_path / "ray.db") == expected
    assert contents(tmp_path / "own.db") == expected
