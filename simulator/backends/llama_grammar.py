"""Grammar-constrained sampling for the ``llama`` backend, with the grammar checked on the likely tokens first.

llama-cpp-python puts llama.cpp's grammar sampler in its chain as ``penalties -> grammar
-> top-k -> typical -> top-p -> min-p -> temperature -> dist``: at every generated token
the grammar tests all ~49,000 tokens of SmolLM2's vocabulary, which took about three
quarters of a constrained turn's generation time (see README, Performance).

Everything after the grammar depends only on the ``k`` most likely legal tokens (``top_k``,
40 by default; 1 for greedy decoding). :class:`TopGrammar` takes the grammar's place in
the same chain and tests the :data:`FIRST` most likely tokens first; when ``k`` of them are
legal, those are the ``k`` most likely legal tokens of the whole vocabulary, so it marks
every other token illegal, which is what the grammar would have done to the tokens the
rest of the chain looks at. When fewer are legal (e.g. when only an option's name may
follow) it tests the whole vocabulary as before. Either way the chain sees the same
candidates and draws with the same seeded generator: the same tokens as the grammar
sampler, bit for bit (``tests/simulator/test_llama_grammar.py`` checks it on the model).
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

#: the most likely tokens the grammar is tested on before the whole vocabulary
FIRST = 256
_DTYPE = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)


@dataclass
class Counts:
    """Generated tokens sampled under a grammar, and those for which it tested the whole vocabulary."""

    tokens: int = 0
    whole: int = 0


def counts(llm: Any) -> Counts:
    """The :class:`Counts` of ``llm``'s generations under a :class:`TopGrammar` so far."""
    found = getattr(llm, "_privy_grammar_counts", None)
    if found is None:
        found = llm._privy_grammar_counts = Counts()
    return found  # type: ignore[no-any-return]


class TopGrammar:
    """A llama.cpp sampler (``llama_sampler_init`` with Python callbacks) wrapping a grammar sampler.

    ``keep``: how many of the most likely legal tokens the rest of the chain can use (its
    ``top_k``; 1 for greedy). ``counts``: its calls and those that tested the whole
    vocabulary are added to ``counts.tokens`` and ``counts.whole``. The chain that holds the
    sampler frees it, and it frees its grammar.
    """

    def __init__(self, grammar: Any, keep: int, first: int = FIRST, counts: Counts | None = None) -> None:
        import llama_cpp

        self.grammar = grammar
        self.keep = max(1, keep)
        self.first = max(first, self.keep)
        self.counts = counts if counts is not None else Counts()
        self._free_grammar = llama_cpp.llama_sampler_free  # also at interpreter exit, when imports fail
        self._apply_whole = llama_cpp.llama_sampler_apply
        iface = llama_cpp.llama_sampler_i()
        # the callbacks must outlive the sampler: they are kept on this object, which the chain's owner keeps
        self._callbacks: list[Any] = [
            llama_cpp.llama_sampler_i_name(lambda _s: b"privy-top-grammar"),
            llama_cpp.llama_sampler_i_accept(lambda _s, token: llama_cpp.llama_sampler_accept(self.grammar, token)),
            llama_cpp.llama_sampler_i_apply(lambda _s, cur_p: self._apply_or_whole(cur_p)),
            llama_cpp.llama_sampler_i_reset(lambda _s: llama_cpp.llama_sampler_reset(self.grammar)),
            llama_cpp.llama_sampler_i_free(lambda _s: self._free()),
        ]
        iface.name, iface.accept, iface.apply, iface.reset, iface.free = self._callbacks
        self._iface = iface
        self.sampler = llama_cpp.llama_sampler_init(ctypes.byref(iface), None)

    def _free(self) -> None:
        if self.grammar is not None:
            self._free_grammar(self.grammar)
            self.grammar = None

    def _apply_or_whole(self, cur_p: Any) -> None:
        # an exception cannot cross llama.cpp's C frames: it would be printed and the token
        # drawn unconstrained, so anything unexpected falls back to the grammar on everything
        try:
            self._apply(cur_p)
        except Exception:
            self.counts.whole += 1
            self._apply_whole(self.grammar, cur_p)

    def _apply(self, cur_p: Any) -> None:
        import llama_cpp

        self.counts.tokens += 1
        arr = cur_p.contents
        n = int(arr.size)
        if n <= self.first:
            llama_cpp.llama_sampler_apply(self.grammar, cur_p)
            self.counts.whole += 1
            return
        data = np.ctypeslib.as_array(ctypes.cast(arr.data, ctypes.POINTER(ctypes.c_uint8)),
                                     shape=(n * _DTYPE.itemsize,)).view(_DTYPE)
        logits = data["logit"]
        top = np.argpartition(-logits, self.first - 1)[:self.first]
        sub = (llama_cpp.llama_token_data * self.first)()
        view = np.ctypeslib.as_array(ctypes.cast(sub, ctypes.POINTER(ctypes.c_uint8)),
                                     shape=(self.first * _DTYPE.itemsize,)).view(_DTYPE)
        view[:] = data[top]
        small = llama_cpp.llama_token_data_array(data=sub, size=self.first, selected=-1, sorted=False)
        llama_cpp.llama_sampler_apply(self.grammar, ctypes.byref(small))
        legal = np.isfinite(view["logit"])
        if int(legal.sum()) < self.keep or not _beats_rest(view["logit"][legal], logits, top, self.keep):
            llama_cpp.llama_sampler_apply(self.grammar, cur_p)
            self.counts.whole += 1
            return
        kept = logits[top[legal]]
        logits[:] = -math.inf
        logits[top[legal]] = kept


def _beats_rest(legal: np.ndarray, logits: np.ndarray, top: np.ndarray, keep: int) -> bool:
    """Whether the ``keep`` best of ``legal`` are strictly above every logit outside ``top`` (no tie at the border)."""
    kth = np.partition(legal, legal.size - keep)[legal.size - keep]
    rest = np.ones(logits.size, dtype=bool)
    rest[top] = False
    return bool(kth > logits[rest].max())


def install(llm: Any) -> None:
    """Make ``llm`` (a ``llama_cpp.Llama``) sample with :class:`TopGrammar` wherever it would add the grammar
    sampler, while :func:`set_first` says so (a number of tokens to test first; 0: llama.cpp's own sampler)."""
    if getattr(llm, "_privy_init_sampler", None) is not None:
        return
    original: Callable[..., Any] = llm._init_sampler

    def init_sampler(*args: Any, **kwargs: Any) -> Any:
        grammar = kwargs.pop("grammar", None)
        first = getattr(llm, "_privy_grammar_first", 0)
        if (grammar is None or not first or args or kwargs.get("logits_processor") is not None
                or kwargs.get("mirostat_mode")):
            return original(*args, grammar=grammar, **kwargs)
        temp = kwargs.get("temp", 0.8)
        keep = 1 if temp == 0.0 else int(kwargs.get("top_k", 40)) if temp > 0.0 else 0
        sampler = original(grammar=None, **kwargs)
        if _chain(llm, sampler, grammar, keep, first):
            return sampler
        sampler.close()  # a chain of another shape (another llama-cpp-python): its own grammar sampler
        return original(grammar=grammar, **kwargs)

    llm._init_sampler = llm._privy_init_sampler = init_sampler


def set_first(llm: Any, first: int) -> None:
    """How many of the most likely tokens the grammar tests first in ``llm``'s next generations (0: all;
    only once :func:`install` has been called on it)."""
    llm._privy_grammar_first = first


def _chain(llm: Any, sampler: Any, grammar: Any, keep: int, first: int) -> bool:
    """Put a :class:`TopGrammar` into ``sampler`` (llama-cpp-python's chain made without a grammar) after its
    penalties, where llama-cpp-python puts the grammar; False (and nothing changed) if it has no such place."""
    import llama_cpp

    chain = sampler.sampler
    names = [llama_cpp.llama_sampler_name(llama_cpp.llama_sampler_chain_get(chain, i)).lstrip(b"?")
             for i in range(llama_cpp.llama_sampler_chain_n(chain))]  # llama.cpp may prefix a "?"
    if names[:1] != [b"penalties"] or sampler.custom_samplers:
        return False
    keep = min(keep, llm.n_vocab()) if keep > 0 else llm.n_vocab()  # top_k <= 0 keeps every token
    g = llama_cpp.llama_sampler_init_grammar(llm._model.vocab, grammar._grammar.encode("utf-8"),
                                             grammar._root.encode("utf-8"))
    if not g:
        raise ValueError("llama.cpp could not make a sampler of the grammar")
    tail = [llama_cpp.llama_sampler_chain_remove(chain, 1) for _ in names[1:]]
    top = TopGrammar(g, keep, first, counts(llm))
    llama_cpp.llama_sampler_chain_add(chain, top.sampler)
    for s in tail:
        llama_cpp.llama_sampler_chain_add(chain, s)
    sampler._privy_top_grammar = top  # keeps the callbacks alive as long as the chain
    return True
