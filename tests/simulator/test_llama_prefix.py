"""Prefix reuse on the real embedded model: the same transcripts as evaluating every prompt whole.

The default backend (batches cut at message and line ends, saved prompt states), with a
context per agent, and (agents mode) with batches of at most 32 tokens against every
prompt evaluated whole in such batches: batches of other sizes may give other numbers, so
each is compared with its own. The episodes run one after another in the same contexts,
so each starts from whatever the previous one left there.
"""

from __future__ import annotations

import asyncio

import pytest
from helpers import replies, three_families

from privy.simulator import Episode, Mode, Scenario, run_episode
from privy.simulator.backends.llama import LlamaBackend
from privy.simulator.modes import RUNNABLE
from privy.simulator.probes import ProbeSettings

pytestmark = pytest.mark.llm


SCENARIOS = three_families(tokens=32, deal_seed=4)


@pytest.fixture(scope="module")
def pair() -> tuple[LlamaBackend, ...]:
    """Reuse in one shared context, with a context per agent, and every prompt evaluated whole; then the
    same with batches of at most 32 tokens."""
    shared, slots = LlamaBackend(), LlamaBackend(kv_slots=3, saved_prefixes_mb=0)  # HiddenProfile: 3 agents
    whole = LlamaBackend(prefix_reuse=False)
    small, small_whole = LlamaBackend(prefix_block=32), LlamaBackend(prefix_block=32, prefix_reuse=False)
    yield shared, slots, whole, small, small_whole
    slots.close()


def _run(s: Scenario, mode: Mode, b: LlamaBackend, seed: int, probes: ProbeSettings | None = None) -> Episode:
    return asyncio.run(run_episode(s, mode, b, seed, probes=probes))


@pytest.mark.parametrize("family", list(SCENARIOS))
@pytest.mark.parametrize("mode", RUNNABLE)
def test_reuse_gives_the_transcript_of_whole_prompts(
        family: str, mode: Mode, pair: tuple[LlamaBackend, ...]) -> None:
    shared, slots, whole, small, small_whole = pair
    s = SCENARIOS[family]
    seed = 4  # the seed of the earlier attempt's unexplained difference (hidden_profile, agents)
    per_agent = mode in (Mode.AGENTS, Mode.MINDREADERS)  # one context per agent: its prompts extend each other
    assert shared.saved is not None  # saved prompt states are on by default
    before = (shared.prompt_tokens_evaluated, shared.prompt_tokens_sent, shared.saved.restored)
    ref = _run(s, mode, whole, seed)
    got = _run(s, mode, shared, seed)
    assert replies(got) == replies(ref)
    assert all(c.error is None for c in ref.calls)
    if mode is Mode.AGENTS:
        assert replies(_run(s, mode, small, seed)) == replies(_run(s, mode, small_whole, seed))
    if per_agent:
        assert replies(_run(s, mode, slots, seed)) == replies(ref)
    if mode is Mode.OMNISCIENT:  # probes in between reuse the same contexts, and change nothing
        probed = _run(s, mode, shared, seed, ProbeSettings(every=1, facts=1, final=True))
        assert probed.probes and all(p.error is None for p in probed.probes)
        assert replies(probed) == replies(ref)
    assert all(b.prefix_misses == 0 for b in pair)
    assert whole.prompt_tokens_evaluated == whole.prompt_tokens_sent  # nothing reused when it is off
    evaluated, sent = shared.prompt_tokens_evaluated - before[0], shared.prompt_tokens_sent - before[1]
    speakers = [c.speaker for c in got.calls] if per_agent else [None] * len(got.calls)
    if len(set(speakers)) < len(speakers):  # someone's later prompt extends its earlier one: it resumes there
        assert evaluated < sent, (evaluated, sent)
        if per_agent:  # another agent's call came in between: from the saved state
            assert shared.saved.restored > before[2]
