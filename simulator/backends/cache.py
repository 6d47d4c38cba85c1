"""A response cache in SQLite, keyed by the canonical request.

The key is a SHA-256 of the backend's identity (its settings: name, model, endpoint,
sampling), the chat messages and every generation parameter including the seed. A
rerun with the same cache returns identical completions without calling the model.
WAL mode and a busy timeout let several processes read and write one cache file.
API keys are never part of a request, so they never reach the file.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from privy.simulator.backends.base import Backend, ChatRequest, Completion
from privy.simulator.backends.errors import BackendError
from privy.simulator.sqlite_wal import connect_wal

_SCHEMA = """
CREATE TABLE IF NOT EXISTS completions (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    request TEXT NOT NULL,
    completion TEXT NOT NULL,
    created REAL NOT NULL
)"""


def identity(backend: Backend) -> dict[str, Any]:
    """Settings of the innermost backend: wrappers (retries, limits) do not change outputs."""
    while hasattr(backend, "inner"):
        backend = backend.inner
    return backend.settings()


def cache_key(settings: dict[str, Any], request: ChatRequest) -> str:
    body: dict[str, Any] = {
        "backend": settings,
        "request": request.model_dump(mode="json", exclude={"speaker", "view"}),
    }
    if request.grammar is not None:  # a constrained request's reply differs (and older keys stay the same)
        body["grammar"] = request.grammar
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


class ResponseCache:
    """A key -> completion store in one SQLite file, safe across threads and processes."""

    def __init__(self, path: str | Path) -> None:
        """Open (or create) the cache file at ``path``.

        Raises:
            BackendError: ``path`` cannot be created or opened, or is not a SQLite file.
        """
        self.path = Path(path)
        self._lock = threading.Lock()
        if self.path.is_dir():
            raise BackendError(f"cache {self.path}: is a folder; expected a SQLite file")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise BackendError(f"cache {self.path}: cannot create its folder {self.path.parent} "
                               f"({err.strerror or err})") from err
        try:
            self._db = connect_wal(self.path)
        except sqlite3.Error as err:
            raise BackendError(f"cache {self.path}: cannot open it as a SQLite file ({err})") from err
        try:
            self._db.execute("PRAGMA busy_timeout=60000")
            self._db.execute(_SCHEMA)
        except sqlite3.Error as err:
            self._db.close()
            raise BackendError(f"cache {self.path}: cannot use it as a response cache ({err})") from err

    def get(self, key: str) -> Completion | None:
        with self._lock:
            row = self._db.execute("SELECT completion FROM completions WHERE key = ?", (key,)).fetchone()
        return Completion.model_validate(json.loads(row[0])) if row else None

    def put(self, key: str, backend: str, request: ChatRequest, completion: Completion) -> None:
        stored = completion.model_copy(update={"attempts": [], "cached": False})
        # json.dumps escapes to ASCII, so text that is not valid Unicode (a lone surrogate from a
        # broken server) is kept exactly instead of failing to encode; the runner sanitises it
        req_json = json.dumps(request.model_dump(mode="json", exclude={"view"}))
        out_json = json.dumps(stored.model_dump(mode="json"))
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO completions VALUES (?, ?, ?, ?, ?)",
                (key, backend, req_json, out_json, time.time()),
            )

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM completions").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


class CachedBackend:
    """Serves repeated requests from a :class:`ResponseCache`; only misses reach ``inner``."""

    def __init__(self, inner: Backend, cache: ResponseCache | str | Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.cache = cache if isinstance(cache, ResponseCache) else ResponseCache(cache)
        self.hits = 0
        self.misses = 0

    def settings(self) -> dict[str, Any]:
        return {**self.inner.settings(), "cache": self.cache.path.name}

    async def complete(self, request: ChatRequest) -> Completion:
        key = cache_key(identity(self.inner), request)
        hit = self.cache.get(key)
        if hit is not None:
            self.hits += 1
            return hit.model_copy(update={"cached": True})
        self.misses += 1
        out = await self.inner.complete(request)
        self.cache.put(key, self.name, request, out)
        return out
