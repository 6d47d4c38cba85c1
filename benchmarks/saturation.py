"""Benchmark 2: does ``privy bench -j N`` keep a slow backend as busy as N raw clients do?

Two backends, each in its own process on 127.0.0.1: a fake OpenAI-compatible server that
answers after a fixed delay, and llama-cpp-python's own server with the embedded model.
For each, the runner (``run_suite``, ``jobs=N``, evaluators and store included) runs 2-agent
episodes; then N concurrent raw clients (``AsyncOpenAI``, no privy at all) send the very
same requests, twice: with ``chat.completions.create`` (the usual call) and with
``client.post`` (the same body, as privy's backend sends it). Throughput is model calls
per second; the figure is runner / the faster of the two raw loads.
ChatArena's sequential loop runs against the same fixed-delay server.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, Row, fmt_rate, two_agents, verdict
from privy.bench.run import run_suite
from privy.bench.store import ResultStore
from privy.bench.suite import Cell, ScenarioSource, Suite, SuiteBackend
from privy.simulator.episode import Episode
from privy.simulator.modes import Mode
from privy.simulator.scenario import Scenario

KEY_ENV = "PRIVY_BENCH_KEY"  # a made-up key for the local llama server, not a credential
LOCAL_KEY = "bench-local-key"


class LatencyServer:
    """``latency_server.py`` in a subprocess on a free port."""

    def __init__(self, delay_s: float) -> None:
        from tests.servers import free_port

        self.delay_s = delay_s
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> LatencyServer:
        self._proc = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "latency_server.py"),
                                       str(self.port), str(self.delay_s)])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        self._proc.kill()
        raise RuntimeError("the latency server did not start")

    def __exit__(self, *exc: object) -> None:
        self._proc.terminate()
        self._proc.wait(timeout=10)


def run_runner(scenario: Scenario, base_url: str, api_key_env: str | None, jobs: int, episodes: int,
               tmp: Path) -> tuple[int, float, list[Episode]]:
    """``run_suite`` with the openai backend: (model calls, wall seconds, episodes)."""
    backend = SuiteBackend(name="openai", label="server",
                           options={"model": "bench", "base_url": base_url, "api_key_env": api_key_env,
                                    "timeout_s": 300})
    suite = Suite(name="saturation", scenarios=[ScenarioSource(family="mutual_friends")], modes=[Mode.AGENTS],
                  backends=[backend], seeds=list(range(episodes)))
    cells = [Cell.of(scenario, "bench", Mode.AGENTS, backend, s) for s in suite.seeds]
    store = ResultStore(tmp / f"saturation-{time.monotonic_ns()}.sqlite")
    import openai  # noqa: F401  # imported once per process (~1 s here): not part of the throughput, as for raw
    t0 = time.perf_counter()
    progress = asyncio.run(run_suite(suite, cells, store, jobs=jobs))
    wall = time.perf_counter() - t0
    eps = [Episode.model_validate_json(r[0]) for r in store.query("SELECT episode_json FROM episodes")]
    store.close()
    if progress.failed:
        raise RuntimeError(f"{progress.failed} episodes failed against {base_url}")
    return sum(len(e.calls) for e in eps), wall, eps


def requests_of(episodes: list[Episode]) -> list[dict[str, Any]]:
    """The exact chat requests the runner sent (the stop strings rebuilt as the modes build them)."""
    out = []
    # in the order the runner sent them (its N episodes advance in step), so that the
    # server's own prefix cache sees the same sequence of prompts
    calls = sorted(((c.turn, i, c, ep) for i, ep in enumerate(episodes) for c in ep.calls), key=lambda x: x[:2])
    for _, _, c, ep in calls:
        names = {a.id: a.name for a in ep.scenario.agents}
        stop = [f"\n{n}:" for a, n in names.items() if a != c.speaker][:4]
        params: dict[str, Any] = {"model": "bench", "messages": [m.model_dump() for m in c.input],
                                  "max_tokens": c.max_tokens, "temperature": c.temperature, "stop": stop}
        if c.seed is not None:
            params["seed"] = c.seed
        out.append(params)
    return out


def run_raw(base_url: str, api_key: str, requests: list[dict[str, Any]], n: int,
            how: str = "create") -> tuple[int, float, int]:
    """N concurrent raw clients send ``requests``: (calls, wall seconds, completion tokens).

    ``how``: ``create`` is the usual ``client.chat.completions.create(**params)``;
    ``post`` sends the same body with ``client.post`` as privy's openai backend does
    (without the SDK's per-call walk of the params).
    """
    from openai import AsyncOpenAI
    from openai.types.chat import ChatCompletion

    async def go() -> tuple[int, float, int]:
        client = AsyncOpenAI(api_key=api_key, base_url=base_url, timeout=300, max_retries=3)  # as the runner retries
        queue = list(reversed(requests))
        tokens = 0

        async def worker() -> None:
            nonlocal tokens
            while queue:
                params = queue.pop()
                if how == "post":
                    out = await client.post("/chat/completions", body=params, cast_to=ChatCompletion)
                else:
                    out = await client.chat.completions.create(**params)
                tokens += out.usage.completion_tokens if out.usage else 0

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(n)))
        wall = time.perf_counter() - t0
        await client.close()
        return len(requests), wall, tokens

    return asyncio.run(go())


def _compare(label: str, scenario: Scenario, base_url: str, api_key_env: str | None, api_key: str,
             jobs: int, episodes: int, tmp: Path, raw: dict[str, Any]) -> Row:
    calls, wall, eps = run_runner(scenario, base_url, api_key_env, jobs, episodes, tmp)
    reqs = requests_of(eps)
    rcalls, rwall, rtokens = run_raw(base_url, api_key, reqs, jobs, "create")
    pcalls, pwall, _ = run_raw(base_url, api_key, reqs, jobs, "post")
    ours, create, post = calls / wall, rcalls / rwall, pcalls / pwall
    theirs = max(create, post)  # the goal is judged against the faster plain load
    tokens = sum(c.completion_tokens or 0 for e in eps for c in e.calls)
    raw[f"{label} -j {jobs}"] = {"runner_calls": calls, "runner_wall_s": wall, "runner_calls_per_s": ours,
                                 "raw_calls": rcalls, "raw_wall_s": rwall, "raw_calls_per_s": create,
                                 "raw_post_wall_s": pwall, "raw_post_calls_per_s": post,
                                 "runner_completion_tokens": tokens, "raw_completion_tokens": rtokens}
    return Row("2 saturation", f"{label}: runner -j {jobs} vs {jobs} raw clients ({calls} calls each)",
               f"{fmt_rate(ours, 'calls/s')} vs {fmt_rate(create, 'calls/s')} (create) / "
               f"{fmt_rate(post, 'calls/s')} (post)",
               f"{ours / theirs:.0%} of the faster raw", ">= 90%", verdict(ours / theirs >= 0.9))


def run(delay_s: float, jobs: list[int], episodes_per_job: int, llama_jobs: int, llama_episodes: int,
        llama_turns: int, peer_seconds: float, with_peer: bool) -> tuple[list[Row], dict[str, Any]]:
    rows: list[Row] = []
    raw: dict[str, Any] = {}
    scenario = two_agents(20)
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        with LatencyServer(delay_s) as server:
            label = f"{delay_s * 1000:.0f} ms server"
            best = 0.0
            for n in jobs:
                rows.append(_compare(label, scenario, server.base_url, None, "none", n, n * episodes_per_job,
                                     tmp, raw))
                best = max(best, raw[f"{label} -j {n}"]["runner_calls_per_s"])
            if with_peer:
                from benchmarks import peer

                p = peer.run("latency", server.base_url, str(peer_seconds))
                raw["chatarena_latency"] = p
                if "error" in p:
                    rows.append(Row("2 saturation", f"ChatArena sequential loop, {label}",
                                    f"not measured: {p['error']}"))
                else:
                    rows.append(Row("2 saturation", f"ChatArena sequential loop, {label} ({p['messages']} calls)",
                                    fmt_rate(p["calls_per_s"], "calls/s"),
                                    f"privy -j {max(jobs)}: {best / p['calls_per_s']:.0f}x"))
        if llama_jobs:
            from tests.servers import LlamaServer

            os.environ[KEY_ENV] = LOCAL_KEY
            with LlamaServer(LOCAL_KEY, tmp / "llama-server.log") as server:
                small = two_agents(llama_turns, max_tokens=16)
                # one untimed episode: the server loads and warms the model
                run_runner(small, server.base_url, KEY_ENV, 1, 1, tmp)
                rows.append(_compare("llama-cpp-python server", small, server.base_url, KEY_ENV, LOCAL_KEY,
                                     llama_jobs, llama_episodes, tmp, raw))
    return rows, raw


if __name__ == "__main__":  # a quick look: python -m benchmarks.saturation
    r, d = run(0.2, [8], 2, 0, 0, 4, 5, False)
    print(json.dumps(d, indent=1))
