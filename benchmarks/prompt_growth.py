"""Benchmark 3: how prompts grow with the turns, and what reusing their prefix saves.

Each ``agents``-mode prompt is: the agent's system text, the conversation so far, and a
short cue (``(Your turn, Ana. Write your message.)``). The next prompt of the same agent
keeps everything before the cue and adds the new messages, so a server that keeps that
agent's KV cache recomputes only the cue and what is new. Tokens are counted with
SmolLM2's own tokenizer and chat template, exactly as llama.cpp sees them.

Then the same requests go through the embedded model three ways: KV state reset before
every call (privy's llama backend, for reproducibility), one shared KV state that is not
reset (llama.cpp reuses the longest common prefix with the *previous call*, which belongs
to the other agent), and one KV state per agent (each agent's prompt extends its own).
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import numpy as np

from benchmarks.common import ChattyBackend, Row, two_agents, verdict
from privy.simulator.backends.base import ChatRequest
from privy.simulator.episode import Episode
from privy.simulator.modes import Mode
from privy.simulator.runner import run_episode


def _episode(turns: int, mode: Mode = Mode.AGENTS) -> Episode:
    return asyncio.run(run_episode(two_agents(turns, max_tokens=24), mode, ChattyBackend(), 0))


class Tokenizer:
    """SmolLM2's tokenizer and chat template (vocabulary only, no weights)."""

    def __init__(self) -> None:
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        from privy.simulator.backends.llama import default_model_path

        self._llm = Llama(model_path=str(default_model_path()), vocab_only=True, verbose=False)
        eos, bos = self._llm.token_eos(), self._llm.token_bos()
        self._fmt = Jinja2ChatFormatter(
            template=self._llm.metadata["tokenizer.chat_template"],
            eos_token=self._llm._model.token_get_text(eos), bos_token=self._llm._model.token_get_text(bos),
            stop_token_ids=[eos])

    def tokens(self, messages: list[Any]) -> list[int]:
        prompt = self._fmt(messages=[m.model_dump() for m in messages]).prompt
        return list(self._llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))


def _common(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def token_counts(ep: Episode, tok: Tokenizer) -> dict[str, float]:
    """Tokens sent, and tokens left to compute with a per-agent or a single shared prefix cache."""
    sent = own_new = shared_new = 0
    kept = prev_total = 0
    last: dict[str | None, list[int]] = {}
    previous: list[int] = []
    for c in ep.calls:
        t = tok.tokens(c.input)
        sent += len(t)
        mine = last.get(c.speaker)
        if mine is not None:
            common = _common(mine, t)
            kept += common
            prev_total += len(mine)
        own_new += len(t) - (_common(mine, t) if mine is not None else 0)
        shared_new += len(t) - _common(previous, t)
        last[c.speaker], previous = t, t
    return {"calls": len(ep.calls), "tokens_sent": sent, "new_per_agent_cache": own_new,
            "new_shared_cache": shared_new, "prefix_kept": kept / prev_total if prev_total else 1.0}


def block_counts(ep: Episode, tok: Tokenizer) -> dict[str, int]:
    """One controller's prompts (omniscient mode) in one context: tokens sent, and evaluated when each prompt
    resumes from the previous one at their last shared batch end (the ``llama`` backend's prefix reuse)."""
    from privy.simulator.backends.llama_blocks import Prefix, batch_ends, breaks

    brk = breaks(tok._llm)
    sent = evaluated = 0
    previous: Prefix | None = None
    for c in ep.calls:
        t = tok.tokens(c.input)
        ends = frozenset(batch_ends(t, brk, 512))
        keep = previous.resumable(t, ends, 512) if previous is not None else 0
        sent += len(t)
        evaluated += len(t) - keep
        previous = Prefix(tokens=np.asarray(t), ends=ends, block=512)
    return {"calls": len(ep.calls), "tokens_sent": sent, "evaluated_blocks": evaluated}


def model_turns(ep: Episode, variants: list[str]) -> dict[str, dict[str, Any]]:
    """Replay ``ep``'s requests through the embedded model: seconds per call, per variant.

    ``reset``: ``prefix_reuse=false``, every prompt evaluated whole;
    ``shared``: the default: one context, the two agents' prompts alternating in it, each resuming from the
    saved state of the agent's previous prompt;
    ``per_agent``: ``kv_slots=2``, a context per agent, each resuming from its own previous prompt.
    """
    from privy.simulator.backends.llama import LlamaBackend

    names = {a.id: a.name for a in ep.scenario.agents}
    requests = [ChatRequest(messages=tuple(c.input), max_tokens=c.max_tokens, temperature=c.temperature,
                            seed=c.seed, speaker=c.speaker,
                            stop=tuple(f"\n{n}:" for a, n in names.items() if a != c.speaker)) for c in ep.calls]
    reset = LlamaBackend(prefix_reuse=False)
    shared = LlamaBackend()  # the one context, each agent's prompt resumed from its saved previous one
    per_agent = LlamaBackend(kv_slots=2, saved_prefixes_mb=0)
    backends = {"reset": reset, "shared": shared, "per_agent": per_agent}
    out: dict[str, dict[str, Any]] = {}
    reset._complete(requests[0])  # warm up
    for variant in variants:
        b = backends[variant]
        times, tokens = [], 0
        sent, evaluated = b.prompt_tokens_sent, b.prompt_tokens_evaluated
        for r in requests:
            t0 = time.perf_counter()
            c = b._complete(r)
            times.append(time.perf_counter() - t0)
            tokens += c.completion_tokens or 0
        third = max(1, len(times) // 3)
        out[variant] = {"s_per_turn": sum(times) / len(times), "last_third_s_per_turn": sum(times[-third:]) / third,
                        "first_third_s_per_turn": sum(times[:third]) / third, "completion_tokens": tokens,
                        "prompt_tokens_sent": b.prompt_tokens_sent - sent,
                        "prompt_tokens_evaluated": b.prompt_tokens_evaluated - evaluated, "times": times}
    per_agent.close()
    return out


VARIANT_LABEL = {"reset": "prefix_reuse=false (every prompt evaluated whole)",
                 "shared": "the default: one context, each agent resumed from its saved last prompt",
                 "per_agent": "kv_slots=2, a context per agent, resumed from its last prompt"}


def run(turns_list: list[int], model_turns_n: int) -> tuple[list[Row], dict[str, Any]]:
    rows: list[Row] = []
    raw: dict[str, Any] = {}
    tok = Tokenizer()
    counts = {t: token_counts(_episode(t), tok) for t in turns_list}
    raw["tokens"] = counts
    lo, hi = min(turns_list), max(turns_list)
    for t in turns_list:
        c = counts[t]
        rows.append(Row("3 prompts", f"{t} turns, 2 agents: tokens sent per episode",
                        f"{c['tokens_sent']:,} sent; {c['new_per_agent_cache']:,} new with a per-agent cache",
                        f"{c['new_per_agent_cache'] / c['tokens_sent']:.0%} of sent"))

    def exponent(key: str) -> float:
        return math.log(counts[hi][key] / counts[lo][key]) / math.log(hi / lo)

    rows.append(Row("3 prompts", f"growth {lo} -> {hi} turns (tokens ~ turns^k)",
                    f"sent k={exponent('tokens_sent'):.2f}; per-agent cache k={exponent('new_per_agent_cache'):.2f}; "
                    f"one shared cache k={exponent('new_shared_cache'):.2f}"))
    omni = {t: block_counts(_episode(t, Mode.OMNISCIENT), tok) for t in turns_list}
    raw["omniscient_tokens"] = omni
    for t in turns_list:
        c = omni[t]
        rows.append(Row("3 prompts", f"omniscient, {t} turns: tokens per episode, one controller",
                        f"{c['tokens_sent']:,} sent; {c['evaluated_blocks']:,} evaluated, resumed at shared batch ends",
                        f"{c['evaluated_blocks'] / c['tokens_sent']:.0%} of sent; "
                        f"{c['evaluated_blocks'] / c['calls']:.0f} per turn"))

    def omni_k(key: str) -> float:
        return math.log(omni[hi][key] / omni[lo][key]) / math.log(hi / lo)

    rows.append(Row("3 prompts", f"omniscient growth {lo} -> {hi} turns (tokens ~ turns^k)",
                    f"sent k={omni_k('tokens_sent'):.2f}; "
                    f"evaluated when resumed k={omni_k('evaluated_blocks'):.2f}",
                    "", "evaluated per episode k <= 1.2 (linear)", verdict(omni_k("evaluated_blocks") <= 1.2)))
    kept = min(c["prefix_kept"] for c in counts.values())
    rows.append(Row("3 prompts", "stable prefix: share of an agent's previous prompt its next prompt keeps",
                    f"{kept:.1%} (the rest is the turn cue and the assistant header)", "", "prefix stable",
                    verdict(kept > 0.9)))
    if model_turns_n:
        ep = _episode(model_turns_n)
        timing = model_turns(ep, ["reset", "shared", "per_agent"])
        raw["embedded"] = {k: {kk: vv for kk, vv in v.items()} for k, v in timing.items()}
        ref = timing["reset"]["s_per_turn"]
        for variant, v in timing.items():
            ms, late = v["s_per_turn"] * 1000, v["last_third_s_per_turn"] * 1000
            rows.append(Row("3 prompts", f"embedded SmolLM2, {len(ep.calls)} turns: {VARIANT_LABEL[variant]}",
                            f"{ms:.0f} ms/turn (last third {late:.0f}); prompt tokens evaluated "
                            f"{v['prompt_tokens_evaluated']:,} of {v['prompt_tokens_sent']:,}",
                            f"{v['s_per_turn'] / ref:.2f}x reset"))
    return rows, raw
