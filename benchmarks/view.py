"""Benchmark 5: ``privy view`` on a store of 12,012 episodes, wall time and peak memory.

    .venv/bin/python -m benchmarks.view            # 4,004 scenarios x 3 modes (12,012 episodes)
    .venv/bin/python -m benchmarks.view 400        # 1,200 episodes

The store is made once with the scripted backend through ``run_bench`` (the path of
``privy bench``: generated MutualFriends instances in the three modes the scripted
backend can write (agents, mindreaders, omniscient; not script), every deterministic
evaluator, the SQLite store) and kept in ``benchmarks/.view-store-N.db`` for the next run.
Then ``privy view STORE --out PAGE`` runs as its own process, the way a user runs it: its
wall time, and its peak resident memory as the kernel reports it for that child
(``wait4``), so nothing of this process counts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, Row, verdict

HERE = Path(__file__).resolve().parent
MODES = ["agents", "mindreaders", "omniscient"]
GOAL_S, GOAL_MIB = 10.0, 300.0


def build_store(scenarios: int, path: Path) -> float:
    """Write ``scenarios`` x 3 scripted episodes to ``path`` (kept if it is already complete); the seconds taken."""
    from privy.bench.run import run_bench
    from privy.bench.store import ResultStore
    from privy.bench.suite import Grid, ScenarioSource, Suite, SuiteBackend

    suite = Suite(name=f"view{scenarios}", scenarios=[ScenarioSource(family="mutual_friends", count=scenarios, seed=0)],
                  modes=MODES, backends=[SuiteBackend(name="scripted")], seeds=[0])  # type: ignore[arg-type]
    t0 = time.perf_counter()
    with ResultStore(path) as store:  # resumes: an interrupted build goes on where it stopped
        run_bench(suite, Grid(suite, ROOT), store, jobs=8)
    return time.perf_counter() - t0


def view_once(db: Path, page: Path) -> dict[str, Any]:
    """Run ``privy view`` on ``db`` in a child process: its wall time, peak RSS and what it wrote."""
    privy = Path(sys.executable).parent / "privy"
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(privy), "view", str(db), "--out", str(page)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"privy view failed ({proc.returncode}): {err[-2000:]}")
    size = sum(p.stat().st_size for p in page.parent.iterdir())
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_kib": usage.ru_maxrss,
            "page_bytes": size, "stdout": out.strip(),
            "progress_lines": len([ln for ln in err.splitlines() if ln.startswith("view:")])}


def run(scenarios: int = 4004) -> tuple[list[Row], dict[str, Any]]:
    db = HERE / f".view-store-{scenarios}.db"
    build_s = build_store(scenarios, db)
    with tempfile.TemporaryDirectory() as tmp:
        r = view_once(db, Path(tmp) / "view.html")
    n = scenarios * len(MODES)
    mib = r["peak_rss_kib"] / 1024
    rows = [Row("5 view", f"privy view, {n:,} scripted episodes in one store",
                f"{r['wall_s']:.1f} s (CPU {r['cpu_s']:.1f} s); peak RSS {mib:.0f} MiB; "
                f"page {r['page_bytes'] / 2**20:.0f} MiB",
                f"{n / r['wall_s']:,.0f} episodes/s", f"< {GOAL_S:.0f} s, < {GOAL_MIB:.0f} MiB",
                verdict(r["wall_s"] < GOAL_S and mib < GOAL_MIB))]
    return rows, {"episodes": n, "build_s": build_s, **r}


if __name__ == "__main__":
    rows, raw = run(int(sys.argv[1]) if len(sys.argv) > 1 else 4004)
    for row in rows:
        print(f"{row.case}: {row.value} ({row.ratio}; goal {row.goal}: {row.verdict})", file=sys.stderr)
    print(json.dumps(raw))
