"""Benchmark 8: the quick suite on the embedded model, prefix reuse on vs off, side by side.

Every cell of ``scenarios/suites/quick.suite.yaml`` (or those ``--cells`` picks) runs once per
variant, the variants interleaved cell by cell so that a change of the machine's load
falls on all of them alike:

- ``before``: the backend as it was (``llm.reset()``, then llama-cpp-python evaluates the
  prompt in its own 512-token batches and tests the grammar on the whole vocabulary at
  every generated token);
- ``off``: ``prefix_reuse=false`` (every prompt evaluated whole, in batches cut by content);
- ``on``: the default: a prompt resumes from the context's last prompt or a saved one, at a
  batch end both share, and the grammar is tested on the 256 likeliest tokens first
  (:mod:`privy.simulator.backends.llama_grammar`);
- ``on, whole-vocabulary grammar``: ``grammar_first=0`` (the grammar as llama-cpp-python applies it);
- ``on, no saved``: resumes from the context's last prompt only (``saved_prefixes_mb=0``);
- ``on, 64``: batches of at most 64 tokens;
- ``on, 1 thread``: the default with ``n_threads=1``.

The variants share the process's one loaded model and its context, so before each episode
the context is marked as holding nothing reusable: no variant resumes the prompts another
variant just evaluated (each keeps its own saved prompts, as one run would). The
transcripts (every call's output, every message, the outcome) of each variant are
compared with ``before``'s. ``--probes``: also the ``on`` variant with a probe before every
turn (the belief and one knowledge question per other agent), for the cost of a probe
question against a turn.

    .venv/bin/python -m benchmarks.kv_reuse [--cells 0 2] [--variants on] [--probes]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, Row, verdict
from privy.bench.suite import load_grid
from privy.simulator.backends.llama import LlamaBackend, _prompt_tokens_evaluated
from privy.simulator.backends.llama_blocks import common_prefix, eval_prompt, prompt_tokens, set_held
from privy.simulator.episode import Episode
from privy.simulator.probes import ProbeSettings
from privy.simulator.runner import run_episode

SUITE = ROOT / "scenarios" / "suites" / "quick.suite.yaml"
GOAL = 3.0  # the default backend's speed-up over before, on the quick suite


class Before(LlamaBackend):
    """The ``llama`` backend's call as it was before aligned blocks: reset, then llama-cpp-python's own batches."""

    def _run(self, slot: Any, messages: list[Any], request: Any, temperature: float) -> tuple[dict[str, Any], int]:
        from privy.simulator.backends.llama import _grammar
        from privy.simulator.backends.llama_grammar import set_first
        slot.llm.reset()
        set_first(slot.llm, 0)  # llama-cpp-python's own grammar sampler
        set_held(slot.llm, None)  # what it leaves in the shared context was not batched by content
        before = _prompt_tokens_evaluated(slot.llm)
        out = slot.llm.create_chat_completion(
            messages=messages, max_tokens=request.max_tokens, temperature=temperature, seed=request.seed,
            stop=list(request.stop) or None, response_format=self._grammar_format,
            grammar=_grammar(request.grammar) if self.constrained and request.grammar
            and self._grammar_format is None else None)
        return out, _prompt_tokens_evaluated(slot.llm) - before


VARIANTS: dict[str, Any] = {
    "before": lambda: Before(),
    "off": lambda: LlamaBackend(prefix_reuse=False),
    "on": lambda: LlamaBackend(),
    "on, whole-vocabulary grammar": lambda: LlamaBackend(grammar_first=0),
    "on, no saved": lambda: LlamaBackend(saved_prefixes_mb=0),
    "on, 64": lambda: LlamaBackend(prefix_block=64),
    "on, 1 thread": lambda: LlamaBackend(n_threads=1),
}


def _transcript(ep: Episode) -> list[Any]:
    return [[c.output for c in ep.calls], [m.model_dump() for m in ep.messages], ep.outcome.model_dump()]


def call_prompts(llm: Any, episodes: list[Episode]) -> list[tuple[list[int], str | None]]:
    """Each call's prompt tokens and reply, in run order."""
    return [(prompt_tokens(llm, [m.model_dump() for m in c.input])[0], c.output) for ep in episodes for c in ep.calls]


def unavoidable(llm: Any, calls: list[tuple[list[int], str | None]]) -> tuple[int, int]:
    """The prompt tokens no cache can skip at these transcripts, and all the prompt tokens.

    A call must evaluate at least its prompt's tokens past the longest beginning it shares
    with any earlier prompt of the run, or with an earlier prompt followed by the reply
    generated after it (an oracle that kept every KV state, generated tokens included, and
    ignored batch alignment resumes there). Generated tokens are decoded whatever is cached.
    """
    seen: list[list[int]] = []
    needed = total = 0
    for tokens, output in calls:
        needed += len(tokens) - max((common_prefix(tokens, t) for t in seen), default=0)
        total += len(tokens)
        seen.append(tokens + llm.tokenize((output or "").encode("utf-8"), add_bos=False, special=False))
    return needed, total


def token_costs(llm: Any, calls: list[tuple[list[int], str | None]], budget: int = 4000) -> tuple[float, float]:
    """Seconds per prompt token and per generated token on this machine now, on the run's own prompts.

    Calls spread over the whole run (every k-th, about ``budget`` prompt tokens in all) have
    their prompts evaluated whole from an empty context, once in the backend's batches and
    once in llama.cpp's own (up to 512 tokens), the cheaper counted, then 8 one-token
    decodes (a reply's tokens); the totals divided by the counts.
    """
    stride = max(1, round(sum(len(t) for t, _ in calls) / budget))
    prompt_s = decode_s = 0.0
    n_prompt = n_decode = 0
    for tokens, _ in calls[::stride]:
        best = float("inf")
        for whole in (False, True):
            llm.reset()
            t0 = time.perf_counter()
            if whole:
                llm.eval(tokens)
            else:
                eval_prompt(llm, tokens, 512, None, None)
            best = min(best, time.perf_counter() - t0)
        t1 = time.perf_counter()
        for t in tokens[:8]:
            llm.eval([t])
        prompt_s += best
        decode_s += time.perf_counter() - t1
        n_prompt += len(tokens)
        n_decode += min(8, len(tokens))
    llm.reset()
    set_held(llm, None)
    return prompt_s / max(n_prompt, 1), decode_s / max(n_decode, 1)


def run(cells: list[int] | None, probes: bool, variants: list[str]) -> tuple[list[Row], dict[str, Any]]:
    grid = list(load_grid(SUITE))
    grid = [grid[i] for i in cells] if cells else grid
    made = {k: VARIANTS[k]() for k in ["before", *(v for v in variants if v != "before")]}
    if probes:
        made["on + probes"] = LlamaBackend()  # counters of its own
    names = list(made)
    wall = dict.fromkeys(names, 0.0)
    same = dict.fromkeys(names, 0)
    calls = dict.fromkeys(names, 0)
    probe_s: list[float] = []
    turn_s: list[float] = []
    before_eps: list[Episode] = []
    for cell in grid:
        s = cell.scenario
        ref: list[Any] | None = None
        for name in names:
            b = made[name]
            settings = ProbeSettings(every=1, facts=1) if name == "on + probes" else None
            set_held(b._llm, None)  # the variants share the loaded model's context: none resumes another's prompts
            t0 = time.perf_counter()
            ep = asyncio.run(run_episode(s, cell.mode, b, cell.seed, probes=settings))
            wall[name] += time.perf_counter() - t0
            calls[name] += len(ep.calls)
            if name == "before":
                before_eps.append(ep)
            ref = ref if ref is not None else _transcript(ep)
            same[name] += _transcript(ep) == ref
            if settings is not None:
                probe_s += [p.latency_s for p in ep.probes]
                turn_s += [c.latency_s for c in ep.calls if c.latency_s is not None]
            print(f"{cell.scenario_id} {cell.mode} {name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr,
                  flush=True)
    rows: list[Row] = []
    n = len(grid)
    for name in names:
        b = made[name]
        ratio = wall["before"] / wall[name] if wall[name] else 0.0
        goal, ok = ("transcripts = before's", same[name] == n)
        if name == "on":  # the default: issue 19's goal
            goal, ok = ">= 3x before, transcripts = before's", ok and ratio >= GOAL
        rows.append(Row("8 reuse", f"quick suite, {n} episodes: {name}",
                        f"{wall[name]:.0f} s; prompt tokens evaluated {b.prompt_tokens_evaluated:,} of "
                        f"{b.prompt_tokens_sent:,}; prefix misses {b.prefix_misses}",
                        f"{ratio:.2f}x before", goal, verdict(ok) + f" ({same[name]}/{n} identical)"))
    raw: dict[str, Any] = {"wall_s": wall, "identical": same, "episodes": n, "calls": calls,
                           "evaluated": {k: made[k].prompt_tokens_evaluated for k in made},
                           "sent": {k: made[k].prompt_tokens_sent for k in made}}
    llm = made["before"]._llm
    calls = call_prompts(llm, before_eps)
    needed, total = unavoidable(llm, calls)
    per_prompt, per_decode = token_costs(llm, calls)
    # the first token of a reply comes from the prompt's logits: one decode fewer than tokens
    generated = sum(max((c.completion_tokens or 0) - 1, 0) for ep in before_eps for c in ep.calls)
    bound = needed * per_prompt + generated * per_decode
    rows.append(Row("8 reuse", f"quick suite, {n} episodes: the fastest any cache could be at before's transcripts",
                    f"{needed:,} of {total:,} prompt tokens unavoidable x {per_prompt * 1000:.2f} ms + {generated:,} "
                    f"decodes x {per_decode * 1000:.1f} ms = {bound:.0f} s (no sampling, no Python)",
                    f"{wall['before'] / bound:.2f}x before", "the most reuse can give", "bound"))
    raw |= {"unavoidable_tokens": needed, "prompt_tokens": total, "generated_tokens": generated,
            "s_per_prompt_token": per_prompt, "s_per_generated_token": per_decode, "bound_s": bound}
    if probe_s and turn_s:
        per_probe, per_turn = sum(probe_s) / len(probe_s), sum(turn_s) / len(turn_s)
        raw |= {"probe_s": probe_s, "turn_s": turn_s}
        rows.append(Row("8 reuse", f"a probe question (the belief, or one of the knowledge questions per other "
                        f"agent asked with it) vs a turn ({len(probe_s)} questions, {len(turn_s)} turns)",
                        f"{per_probe * 1000:.0f} ms vs {per_turn * 1000:.0f} ms", f"{per_probe / per_turn:.2f}x a turn",
                        "<= 0.5x", verdict(per_probe <= 0.5 * per_turn)))
    return rows, raw


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cells", type=int, nargs="+", help="only these cells of the quick suite (0-based, in its order)")
    p.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS), help="besides before")
    p.add_argument("--probes", action="store_true", help="also the default with a probe before every turn")
    p.add_argument("--out", type=Path, help="write the rows as a markdown table here")
    args = p.parse_args()
    rows, raw = run(args.cells, args.probes, args.variants)
    lines = ["| Benchmark | Case | Measured | Ratio | Goal | Verdict |", "|---|---|---|---|---|---|"]
    lines += [f"| {r.bench} | {r.case} | {r.value} | {r.ratio} | {r.goal} | {r.verdict} |" for r in rows]
    text = "\n".join(lines)
    print(text)
    print(raw["wall_s"], raw["calls"], file=sys.stderr)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
