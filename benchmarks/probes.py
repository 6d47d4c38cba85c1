"""Benchmark: what belief probes cost a run on the embedded model (goal: at most 1.5x).

The same episodes (a 4-option hidden-profile decision, agents mode, SmolLM2-135M) run
without probes and with probes before every turn (the speaker's belief over the 4
options; with ``facts``, also that many knowledge questions per other agent) and, with
``final``, after the last message (every agent), interleaved seed by seed so that a busy
machine slows both alike. Probing never changes a transcript, so the generation work is
the same in both; the difference is the probes. Each variant has a backend of its own,
so it resumes only from prompts it saved itself (an earlier seed's share their
beginnings), never from the other variant's. Each per-turn probe reuses the turn's prompt
(its KV state) and evaluates only the probe question and the options; a final probe
resumes from its agent's last prompt, saved, and evaluates the messages that came after
it as well.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, Row, verdict
from privy.simulator.backends.llama_blocks import set_held
from privy.simulator.loader import load_scenario
from privy.simulator.modes import Mode
from privy.simulator.probes import ProbeSettings
from privy.simulator.runner import run_episode

SCENARIO = ROOT / "scenarios" / "examples" / "hidden_profile" / "hidden_profile_0000_773a5300.yaml"
GOAL = 1.5


def run(seeds: int, turns: int, path: Path = SCENARIO, final: bool = False,
        facts: int = 0) -> tuple[list[Row], dict[str, Any]]:
    from privy.simulator.backends.llama import LlamaBackend

    s = load_scenario(path)
    s = s.model_copy(update={"limits": s.limits.model_copy(update={"max_turns": turns})})
    # one backend per variant: each keeps its own saved prompts, as one run would (with one, the
    # probed run would resume every turn's prompt from the plain run of the same seed just before)
    backend, plain = LlamaBackend(), LlamaBackend()
    settings = ProbeSettings(every=1, facts=facts, final=final)
    asyncio.run(run_episode(s, Mode.AGENTS, backend, 10_000))  # load and warm the model
    asyncio.run(run_episode(s, Mode.AGENTS, plain, 10_000))
    plain_s = probed_s = probe_s = final_s = 0.0
    probes = identical = 0
    per_seed = []
    for seed in range(seeds):
        set_held(plain._llm, None)  # the variants share the loaded model's context: none resumes the other's
        t0 = time.perf_counter()
        a = asyncio.run(run_episode(s, Mode.AGENTS, plain, seed))
        set_held(backend._llm, None)
        t1 = time.perf_counter()
        b = asyncio.run(run_episode(s, Mode.AGENTS, backend, seed, probes=settings))
        t2 = time.perf_counter()
        plain_s += t1 - t0
        probed_s += t2 - t1
        probe_s += b.timings.probe_s
        final_s += sum(p.latency_s for p in b.probes if p.final)
        probes += len(b.probes)
        identical += [m.content for m in a.messages] == [m.content for m in b.messages]
        per_seed.append({"seed": seed, "messages": len(a.messages), "plain_s": t1 - t0, "probed_s": t2 - t1,
                         "probe_s": b.timings.probe_s, "probes": len(b.probes)})
    ratio = probed_s / plain_s
    n_options = len(s.task.options)
    case = (f"{n_options}-option decide, {len(s.agents)} agents, {turns} turns, {seeds} seed(s), "
            f"{facts} knowledge question(s) per other agent, {'with' if final else 'without'} final probes")
    rows = [Row("7 probes", f"run time with probes every turn / without ({case})",
                f"{plain_s:.1f} s -> {probed_s:.1f} s ({probes} probes, {probe_s:.1f} s in them, {final_s:.1f} s "
                "in the final ones)",
                f"{ratio:.2f}x", f"<= {GOAL}x", verdict(ratio <= GOAL)),
            Row("7 probes", "transcripts identical with and without probes", f"{identical}/{seeds}", "", "all",
                verdict(identical == seeds))]
    return rows, {"seeds": per_seed, "plain_s": plain_s, "probed_s": probed_s, "probe_s": probe_s,
                  "final_probe_s": final_s, "ratio": ratio, "final": final,
                  "scenario": str(path.relative_to(ROOT)), "turns": turns, "facts": facts}
