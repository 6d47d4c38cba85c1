"""Benchmark 4: a scripted suite of thousands of episodes, wall time and memory by size.

Each size runs in a fresh process (``python -m benchmarks.scale N JOBS``), so its peak
resident memory is its own. It takes the path of ``privy bench``: a streamed
:class:`~privy.bench.suite.Grid` of generated MutualFriends scenarios (its keys first, then
the cells made as the ``-j`` workers pull them), ``run_bench`` with the local executor,
the scripted backend, every deterministic evaluator and the SQLite store.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, Row, fmt_rate, verdict


def _kib(field: str) -> int:
    """``VmHWM`` (peak) or ``VmRSS`` of this process, in KiB. Unlike ``ru_maxrss``, the
    peak is not inherited from the parent that started us."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(n: int, jobs: int) -> dict[str, Any]:
    from privy.bench.run import run_bench
    from privy.bench.store import ResultStore
    from privy.bench.suite import Grid, ScenarioSource, Suite, SuiteBackend

    rss0 = _kib("VmHWM")
    suite = Suite(name="scale", scenarios=[ScenarioSource(family="mutual_friends", count=n, seed=0)],
                  modes=["agents"], backends=[SuiteBackend(name="scripted")], seeds=[0])  # type: ignore[list-item]
    t0, cpu0 = time.perf_counter(), time.process_time()
    grid = Grid(suite, ROOT)
    grid.keys()  # as `privy bench` does before it opens the store: the first pass, keys only
    t_plan = time.perf_counter() - t0
    rss_plan = _kib("VmHWM")
    with tempfile.TemporaryDirectory() as tmp:
        store = ResultStore(Path(tmp) / "scale.sqlite")
        t1 = time.perf_counter()
        progress = run_bench(suite, grid, store, jobs=jobs)
        t_run = time.perf_counter() - t1
        cpu = time.process_time() - cpu0  # every thread's: the store writes in worker threads
        db_bytes = (Path(tmp) / "scale.sqlite").stat().st_size + sum(
            p.stat().st_size for p in Path(tmp).glob("scale.sqlite-*"))
        store.close()
    rss = _kib("VmHWM")
    return {"episodes": n, "done": progress.done, "failed": progress.failed, "plan_s": t_plan,
            "run_s": t_run, "wall_s": t_plan + t_run, "cpu_s": cpu, "peak_rss_kib": rss, "rss_at_start_kib": rss0,
            "rss_after_plan_kib": rss_plan, "db_bytes": db_bytes}


def measure(n: int, jobs: int) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "benchmarks.scale", str(n), str(jobs)], cwd=ROOT,
                          capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"scale child for {n} episodes failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(sizes: list[int], jobs: int) -> tuple[list[Row], dict[str, Any]]:
    rows: list[Row] = []
    res = {n: measure(n, jobs) for n in sizes}
    for n, r in res.items():
        rows.append(Row("4 scale", f"{n:,} scripted episodes (-j {jobs}, evaluators, store)",
                        f"{r['wall_s']:.1f} s ({fmt_rate(r['done'] / r['wall_s'] * 60, 'ep/min')}); "
                        f"peak RSS {r['peak_rss_kib'] / 1024:.0f} MiB",
                        f"{r['failed']} failed"))
    lo, hi = min(sizes), max(sizes)
    a, b = res[lo], res[hi]
    per_ep = (b["wall_s"] / hi) / (a["wall_s"] / lo)
    cpu_per_ep = (b["cpu_s"] / hi) / (a["cpu_s"] / lo)  # less disturbed by other work on the machine
    rows.append(Row("4 scale", f"time per episode, {hi:,} vs {lo:,} episodes",
                    f"{per_ep:.2f}x (CPU time {cpu_per_ep:.2f}x)", "1.00x = linear", "<= 1.2x", verdict(per_ep <= 1.2)))
    grow = (b["peak_rss_kib"] - b["rss_at_start_kib"]) / max(1, a["peak_rss_kib"] - a["rss_at_start_kib"])
    mem_ratio = b["peak_rss_kib"] / a["peak_rss_kib"]
    rows.append(Row("4 scale", f"peak memory, {hi:,} vs {lo:,} episodes",
                    f"{mem_ratio:.2f}x peak RSS ({grow:.1f}x above the idle process)",
                    f"streamed grid: {(b['rss_after_plan_kib'] - b['rss_at_start_kib']) / 1024:.0f} MiB after "
                    f"its keys pass", "<= 1.2x (constant)", verdict(mem_ratio <= 1.2)))
    return rows, {str(k): v for k, v in res.items()}


if __name__ == "__main__":
    print(json.dumps(child(int(sys.argv[1]), int(sys.argv[2]))))
