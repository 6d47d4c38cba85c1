"""Deterministic prompt evaluation for the ``llama`` backend: batches cut by content, reusable prefixes.

llama.cpp's numbers for a token depend on how the tokens were batched: a token decoded
alone (as the generated ones are) gets other logits than the same token inside a batch,
and no promise says that two different batchings of a prompt agree. A seeded reply could
then depend on what ran in the context before.

So every prompt is evaluated in batches whose ends depend on the prompt's own tokens
only (:func:`batch_ends`): a batch ends before a chat template's control token or a
line break, once it holds at least :data:`MIN_BATCH` tokens, and after ``block`` tokens
at the latest. Two prompts that start alike are cut alike up to where they differ, so a
context that evaluated one holds, for every batch end they share, exactly the KV state a
fresh evaluation of the other would make there. Only such shared batch ends are resumed
from (never the generated tokens, never the middle of a batch), so every logit after
them is bit for bit what a fresh evaluation computes.

A context remembers the last prompt it evaluated this way (:class:`Prefix`, recorded on
the context). :class:`SavedPrefixes` also keeps the KV state of recent prompts
(``llama_state_seq_get_data``; about 23 KB a token for SmolLM2-135M), so an agent's next
prompt resumes from its own previous one even after other agents used the context.
"""

from __future__ import annotations

import ctypes
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

#: a batch ends at a line or message boundary only once it holds this many tokens: fewer,
#: larger batches (llama.cpp's cost per batch), while every chat message and every line of
#: a transcript of this length or more still starts a batch of its own
MIN_BATCH = 32
#: nor does the prompt's last batch hold fewer tokens than this (it joins the one before):
#: llama.cpp computes a batch of one token differently from a larger one
MIN_LAST = 8


def formatter(llm: Any) -> Any:
    """The chat template the model's GGUF declares (ChatML if it declares none), as a formatter.

    The same formatter llama-cpp-python's chat handler builds for the model, so that
    :func:`prompt_tokens` gives the tokens ``create_chat_completion`` evaluates.
    """
    from llama_cpp import llama_chat_format

    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        return llama_chat_format.format_chatml

    def text(token: int) -> str:
        return llm._model.token_get_text(token) if token != -1 else ""  # type: ignore[no-any-return]
    return llama_chat_format.Jinja2ChatFormatter(template=template, eos_token=text(llm.token_eos()),
                                                 bos_token=text(llm.token_bos()))


def prompt_tokens(llm: Any, messages: list[dict[str, str]]) -> tuple[list[int], str]:
    """The prompt's tokens as llama-cpp-python's chat handler makes them, and the template's stop text."""
    fmt = formatter(llm)(messages=messages)
    tokens = llm.tokenize(fmt.prompt.encode("utf-8"), add_bos=not getattr(fmt, "added_special", False),
                          special=True)
    end = fmt.stop if isinstance(fmt.stop, str) else (fmt.stop[0] if fmt.stop else "")
    return list(tokens), end


def common_prefix(a: Any, b: Any) -> int:
    """How many leading tokens ``a`` and ``b`` share."""
    n = min(len(a), len(b))
    if n == 0:
        return 0
    differ = np.asarray(a[:n]) != np.asarray(b[:n])
    return int(differ.argmax()) if differ.any() else n


def breaks(llm: Any) -> frozenset[int]:
    """The model's tokens a batch may end before: the template's control tokens and line breaks (once per model)."""
    found = getattr(llm, "_privy_breaks", None)
    if found is None:
        import llama_cpp

        model = llm._model
        control = llama_cpp.LLAMA_TOKEN_ATTR_CONTROL
        found = frozenset(t for t in range(llm.n_vocab())
                          if model.token_get_attr(t) & control or _newlines(model.token_get_text(t)))
        llm._privy_breaks = found
    return found  # type: ignore[no-any-return]


def _newlines(text: str) -> bool:
    """A token of line breaks only (GPT-2 style vocabularies spell "\\n" as "Ċ")."""
    return bool(text) and set(text) <= {"\n", "Ċ"}


def batch_ends(tokens: list[int], brk: frozenset[int], block: int) -> list[int]:
    """Where the batches of ``tokens`` end, the last at ``len(tokens)``; a function of the tokens alone.

    An end before position ``i`` depends on ``tokens[:i + 1]`` only (and on whether the
    prompt ends within :data:`MIN_LAST` tokens after it), so two prompts share every end
    up to shortly before the first token where they differ.
    """
    ends = []
    last = 0
    for i, t in enumerate(tokens):
        if i - last >= block or (i - last >= MIN_BATCH and t in brk):
            ends.append(i)
            last = i
    if ends and len(tokens) - ends[-1] < MIN_LAST and len(tokens) - (ends[-2] if len(ends) > 1 else 0) <= block:
        ends.pop()  # a short last batch joins the one before, unless that would make it longer than a block
    if tokens:
        ends.append(len(tokens))
    return ends


@dataclass(frozen=True)
class Prefix:
    """A prompt a context evaluated in the batches :func:`batch_ends` gives, and optionally its KV state."""

    tokens: np.ndarray
    ends: frozenset[int]
    block: int
    state: Any = None  # a ctypes buffer of llama_state_seq_get_data for sequence 0, or None

    def resumable(self, tokens: list[int], ends: frozenset[int], block: int) -> int:
        """The last batch end of ``tokens`` (short of its end) at which this prefix's state can be resumed."""
        if block != self.block:
            return 0
        n = min(common_prefix(self.tokens, tokens), len(tokens) - 1)
        mine, theirs = sorted(e for e in self.ends if e <= n), sorted(e for e in ends if e <= n)
        agree = 0  # the batches below a resumed end must be the same in both
        while agree < min(len(mine), len(theirs)) and mine[agree] == theirs[agree]:
            agree += 1
        return mine[agree - 1] if agree else 0

    @property
    def nbytes(self) -> int:
        return len(self.state) if self.state is not None else 0


def held(llm: Any) -> Prefix | None:
    """The prompt ``llm``'s context holds as whole batches (None: nothing reusable, as after a reset)."""
    return getattr(llm, "_privy_held", None)


def set_held(llm: Any, prefix: Prefix | None) -> None:
    """Record on the context itself (weights and contexts are shared by backends) what :func:`held` says."""
    llm._privy_held = prefix


class SavedPrefixes:
    """The KV state of recent prompts, least recently used out beyond ``limit_bytes``."""

    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        self._items: OrderedDict[int, Prefix] = OrderedDict()
        self._next = 0
        self._bytes = 0
        self._lock = threading.Lock()
        self.restored = 0

    def best(self, tokens: list[int], ends: frozenset[int], block: int) -> tuple[int, Prefix | None]:
        with self._lock:
            items = list(self._items.items())
        top, found = 0, None
        for key, p in items:
            keep = p.resumable(tokens, ends, block)
            if keep > top:
                top, found = keep, (key, p)
        if found is None:
            return 0, None
        with self._lock:
            if found[0] in self._items:
                self._items.move_to_end(found[0])
        return top, found[1]

    def add(self, prefix: Prefix) -> None:
        if prefix.nbytes > self.limit_bytes:
            return
        with self._lock:
            self._items[self._next] = prefix
            self._next += 1
            self._bytes += prefix.nbytes
            while self._bytes > self.limit_bytes:
                _, old = self._items.popitem(last=False)
                self._bytes -= old.nbytes

    def __len__(self) -> int:
        return len(self._items)


def _save(llm: Any) -> Any:
    import llama_cpp

    ctx = llm._ctx.ctx
    size = llama_cpp.llama_state_seq_get_size(ctx, 0)
    buf = (ctypes.c_uint8 * size)()
    if llama_cpp.llama_state_seq_get_data(ctx, buf, size, 0) != size:
        return None
    return buf


def _restore(llm: Any, p: Prefix) -> bool:
    import llama_cpp

    ctx = llm._ctx.ctx
    llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(ctx), False)
    if llama_cpp.llama_state_seq_set_data(ctx, p.state, len(p.state), 0) != len(p.state):
        llm.reset()
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(ctx), False)
        return False
    n = len(p.tokens)
    llm.input_ids[:n] = p.tokens
    llm.n_tokens = n
    return True


def eval_prompt(llm: Any, tokens: list[int], block: int, start: Prefix | None,
                saved: SavedPrefixes | None = None) -> tuple[int, Prefix]:
    """Evaluate ``tokens`` in ``llm`` in the batches :func:`batch_ends` gives, resuming what it can.

    ``start``: what the context holds (:func:`held`; None: resume nothing). With ``saved``,
    a saved prompt's state is restored first when it resumes further, and this prompt's
    state is saved after. At least the last batch is evaluated, so the context's logits are
    those of the prompt's last token, from a live decode.

    Returns the tokens evaluated and the :class:`Prefix` the context now holds.
    """
    import llama_cpp

    ends = batch_ends(tokens, breaks(llm), block)
    end_set = frozenset(ends)
    keep = start.resumable(tokens, end_set, block) if start is not None else 0
    if saved is not None:
        better, p = saved.best(tokens, end_set, block)
        if better > keep and p is not None:
            if _restore(llm, p):
                keep = better
                saved.restored += 1
            else:
                keep = 0  # the failed restore cleared the context: nothing it held is left
    llm.n_tokens = keep  # Llama.eval drops the cache from n_tokens on, then appends
    llm._ctx.kv_cache_seq_rm(-1, keep, -1)
    begin = keep
    for e in ends:
        if e > keep:
            llm.eval(tokens[begin:e])
            begin = e
    llama_cpp.llama_synchronize(llm._ctx.ctx)  # wait for the decode (and let llama.cpp's counters include it)
    state = _save(llm) if saved is not None else None
    made = Prefix(tokens=np.asarray(tokens, dtype=np.int64), ends=end_set, block=block, state=state)
    if saved is not None and state is not None:
        saved.add(made)
    return len(tokens) - keep, made
