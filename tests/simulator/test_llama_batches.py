"""Batch ends that depend on a prompt's own tokens, and where a cached prompt may be resumed (no model).

The real-model proof that resuming changes no reply is ``test_llama_prefix.py`` (marked
``llm``); these check the rules it relies on, over many generated token lists.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from privy.simulator.backends.llama_blocks import MIN_BATCH, MIN_LAST, Prefix, SavedPrefixes, batch_ends, common_prefix

BREAK = 0  # the one "line break" token of these lists
BRK = frozenset({BREAK})
tokens = st.lists(st.integers(0, 6), min_size=1, max_size=400)  # a break about one token in seven
blocks = st.sampled_from([8, 40, 64, 512])


def _batches(ts: list[int], block: int) -> list[list[int]]:
    ends = batch_ends(ts, BRK, block)
    return [ts[a:b] for a, b in zip([0, *ends], ends, strict=False)]


@given(tokens, blocks)
def test_batches_cover_the_prompt_at_most_a_block_each_and_cut_only_before_a_break_or_at_a_block(
        ts: list[int], block: int) -> None:
    parts = _batches(ts, block)
    assert [t for p in parts for t in p] == ts
    assert all(1 <= len(p) <= block for p in parts)
    for before, p in zip(parts, parts[1:], strict=False):  # every batch but the first starts where a cut is allowed
        assert p[0] == BREAK or len(before) == block
    for p in parts[:-1]:  # and was cut as soon as allowed: no break past MIN_BATCH inside it
        assert BREAK not in p[MIN_BATCH:] and len(p) >= min(MIN_BATCH, block)
    if len(parts) > 1:  # and the last batch is not a short tail, unless joining it would exceed a block
        assert len(parts[-1]) >= MIN_LAST or len(parts[-2]) + len(parts[-1]) > block


@given(tokens, tokens, blocks)
def test_two_prompts_are_cut_alike_up_to_their_first_difference(a: list[int], b: list[int], block: int) -> None:
    n = common_prefix(a, b)
    ends_a = [e for e in batch_ends(a, BRK, block) if e <= n]
    ends_b = [e for e in batch_ends(b, BRK, block) if e <= n]
    assert [e for e in ends_a if e < n] == [e for e in ends_b if e < n]


def _prefix(ts: list[int], block: int, state: bytes | None = None) -> Prefix:
    return Prefix(tokens=np.asarray(ts), ends=frozenset(batch_ends(ts, BRK, block)), block=block, state=state)


@given(tokens, tokens, blocks)
def test_a_prompt_resumes_only_at_an_end_both_share_within_their_common_prefix(
        held: list[int], new: list[int], block: int) -> None:
    keep = _prefix(held, block).resumable(new, frozenset(batch_ends(new, BRK, block)), block)
    assert keep == 0 or (keep in batch_ends(held, BRK, block) and keep in batch_ends(new, BRK, block))
    assert keep <= common_prefix(held, new) and keep < len(new)  # the last batch is always evaluated live


def test_a_short_last_batch_joins_the_one_before() -> None:
    assert batch_ends([1] * 40 + [BREAK] + [1] * 3, BRK, 512) == [44]  # a batch of 4 would be the last
    assert batch_ends([1] * 40 + [BREAK] + [1] * 7, BRK, 512) == [40, 48]
    assert batch_ends([1] * 64 + [1] * 3, BRK, 64) == [64, 67]  # unless that makes a batch longer than a block


def test_a_prompt_that_extends_another_resumes_at_its_last_shared_line() -> None:
    line = [BREAK, *range(1, 40)]  # a line of 40 tokens: each starts a batch
    old = [7] * 50 + line * 3 + [BREAK] + [9] * 10  # three lines, then a cue
    new = [7] * 50 + line * 4 + [BREAK] + [8] * 10
    p = _prefix(old, 512)
    assert p.resumable(new, frozenset(batch_ends(new, BRK, 512)), 512) == 50 + 3 * 40
    assert p.resumable(new, frozenset(batch_ends(new, BRK, 64)), 64) == 0  # made with other batch sizes


def test_saved_prefixes_give_the_one_that_resumes_furthest_and_drop_the_least_recent_beyond_their_memory() -> None:
    line = [BREAK, *range(1, 40)]
    cue = [BREAK] + [9] * 10
    ana = [1] * 40 + line * 2 + cue
    bob = [2] * 40 + line * 2 + cue
    saved = SavedPrefixes(limit_bytes=25)
    saved.add(_prefix(ana, 512, state=b"a" * 10))
    saved.add(_prefix(bob, 512, state=b"b" * 10))
    ana_next = ana[:-len(cue)] + line + cue
    ends = frozenset(batch_ends(ana_next, BRK, 512))
    keep, p = saved.best(ana_next, ends, 512)
    assert keep == 40 + 2 * 40 and p is not None and p.state == b"a" * 10
    saved.add(_prefix(bob + [5], 512, state=b"c" * 10))  # 30 bytes: the least recently used (bob's) goes
    assert len(saved) == 2 and saved.best(bob, frozenset(batch_ends(bob, BRK, 512)), 512)[1].state == b"c" * 10
    saved.add(_prefix(ana, 512, state=b"d" * 26))  # larger than the whole memory: not kept
    assert len(saved) == 2


def test_options_are_packed_in_runs_that_fit_a_batch() -> None:
    from privy.simulator.backends.llama import _chunks

    # an option's last token is never evaluated: a one-token option costs nothing, and still needs a sequence
    assert _chunks([[7], [8], [9]], max_tokens=10, max_seqs=2) == [[[7], [8]], [[9]]]
    assert _chunks([[1, 2, 3], [4, 5, 6], [7, 8]], max_tokens=4, max_seqs=31) == [[[1, 2, 3], [4, 5, 6]], [[7, 8]]]
    assert _chunks([], max_tokens=4, max_seqs=31) == []
    with pytest.raises(ValueError, match="does not fit"):
        _chunks([[1, 2, 3, 4, 5, 6]], max_tokens=4, max_seqs=31)
