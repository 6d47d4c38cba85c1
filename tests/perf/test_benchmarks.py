"""The benchmark script's machinery (not its timings: those are published, never asserted).

Its variants must measure what they say: the "log off" loop plays the same conversation
as ``run_episode``; a verdict follows the figures it is given; and the script runs end to
end and writes its table.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

from benchmarks import overhead
from benchmarks.common import InstantBackend, five_agents, two_agents
from privy.simulator.loader import load_scenario, validate_files
from privy.simulator.modes import Mode
from privy.simulator.runner import run_episode


@pytest.mark.parametrize("make", [two_agents, five_agents])
def test_the_log_off_loop_plays_the_conversation_run_episode_plays(make: object) -> None:
    scenario = make(turns=12)  # type: ignore[operator]
    seen: list[str] = []

    class Recording(InstantBackend):
        async def complete(self, request):  # type: ignore[no-untyped-def]
            seen.append(request.prompt_text())
            return await super().complete(request)

    sent = asyncio.run(overhead.bare_loop(scenario, Recording(), seed=3))
    bare_prompts = list(seen)
    seen.clear()
    ep = asyncio.run(run_episode(scenario, Mode.AGENTS, Recording(), 3))
    assert sent == len(ep.messages) == 12
    assert bare_prompts == seen  # the same prompts, call for call: the same work minus the log


def _peer(us: float) -> dict[str, object]:
    figures = {"us_per_message": us, "episodes_per_min": 1.0, "bytes_per_episode": 1000.0}
    return {"trivial": figures, "prompt": figures}


@pytest.mark.parametrize(("peer_us", "verdict"), [(1e9, "met"), (1e-3, "NOT met")])
def test_the_overhead_verdicts_follow_the_peer_figures(peer_us: float, verdict: str) -> None:
    rows, raw = overhead.run(0.05, runner_episodes=4, in_flight=4, embedded_episodes=0, peer=_peer(peer_us))
    judged = {r.case: r.verdict for r in rows if r.goal}
    assert judged == {"privy 2 agents, 20 turns, log off": verdict,
                      "privy 2 agents, 20 turns, log + store": verdict}
    assert raw["2 agents/log off"]["messages"] > 0 and raw["5 agents/bench runner"]["episodes"] == 4


def test_the_script_runs_and_writes_its_table(tmp_path: Path) -> None:
    out = tmp_path / "bench" / "results.md"
    done = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--only", "overhead", "scale", "--no-peer", "--no-model",
         "--seconds", "0.1", "--scale-sizes", "20", "40", "--scale-jobs", "2", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    table = out.read_text(encoding="utf-8")
    assert "| 1 overhead | privy 2 agents, 20 turns, log off |" in table
    assert "| 4 scale | 40 scripted episodes (-j 2, evaluators, store) |" in table  # the sizes asked for
    assert "| 4 scale | time per episode, 40 vs 20 episodes |" in table
    raw = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert {r["verdict"] for r in raw["rows"]} <= {"met", "NOT met", ""}
    assert raw["scale"] and raw["overhead"]


def test_the_yaml_benchmark_loads_a_valid_scenario_of_the_size_asked_both_ways(tmp_path: Path) -> None:
    from benchmarks import yaml_load

    path = tmp_path / "big.yaml"
    path.write_text(yaml_load.big_scenario(300_000), encoding="utf-8")
    assert 299_000 <= path.stat().st_size <= 301_000
    assert validate_files([path]) == []
    assert yaml_load.previous_load(path) == load_scenario(path)  # the reference loads the same scenario
    rows, raw = yaml_load.run(0.05, rounds=1, ref_rounds=1)
    assert [r.case.split(": ")[1] for r in rows] == ["previous loader (2 pure-Python parses)",
                                                     "privy's loader (one libyaml parse)"]
    assert rows[1].verdict == ("met" if raw["previous"]["cpu_s"] / raw["privy"]["cpu_s"] >= 20 else "NOT met")
