"""The result store: one SQLite file per benchmark run.

Schema (version 2):

- ``meta(key, value)``: ``schema_version``; written by ``privy bench`` (the last run's):
  ``suite`` (its name), ``suite_json`` (the suite as JSON) and ``planned`` (a JSON list of
  the grid's cell keys, so a report can tell what is still missing).
- ``episodes``: one row per grid cell, keyed by ``key`` (scenario id and content hash,
  mode, backend label, seed): ``status`` is ``done`` or ``error`` (with ``error``),
  outcome columns (``success``, ``ended_by``, ``turns``), cost columns (``wall_s``,
  ``model_s``, ``calls``, ``prompt_tokens``, ``completion_tokens``, ``retries``,
  ``cached_calls``) and the whole episode log as JSON (``episode_json``, ``privy.episode/2``).
- ``scores(episode_key, evaluator, metric, value)``: ``metric`` is ``''`` for the
  evaluator's headline value.
- views over ``episode_json`` (SQLite's JSON functions), queried like tables:
  ``messages(episode_key, idx, turn, sender, recipients, content, actions)``, with
  recipients and actions as JSON; ``model_calls(episode_key, idx, speaker, turn,
  latency_s, prompt_tokens, completion_tokens, retries, cached, error)``.

Version 1 kept ``messages`` and ``model_calls`` as tables, a second copy of what
``episode_json`` holds; writing them was a third of the cost of storing an episode. A
version 1 store opened for writing is moved to version 2 in one transaction (the tables
are dropped and the views made: nothing is lost); readers take either version. Two
differences a reader may see: the views' JSON text is compact (``["a","b"]``, version 1
wrote ``["a", "b"]``), and a privy from before version 2 can no longer write to the store.

Each episode is written in one transaction and the database runs in WAL mode, so a
crash or ``kill -9`` loses at most the episodes still in flight, never a finished
one, and leaves the file readable. (With ``synchronous=NORMAL``, a power loss or an
operating-system crash may also roll back the last few finished episodes; a rerun
then runs them again.)
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from privy.evaluators.base import Score
from privy.simulator.episode import Episode
from privy.simulator.sqlite_wal import connect_wal

SCHEMA_VERSION = "2"
READABLE_VERSIONS = ("1", SCHEMA_VERSION)  # 1: messages and model_calls were tables, with the same columns
_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS episodes (
    key TEXT PRIMARY KEY, suite TEXT, scenario_id TEXT, family TEXT, source TEXT, mode TEXT,
    backend TEXT, seed INTEGER, status TEXT NOT NULL, error TEXT, success INTEGER, ended_by TEXT,
    turns INTEGER, wall_s REAL, model_s REAL, calls INTEGER, prompt_tokens INTEGER,
    completion_tokens INTEGER, retries INTEGER, cached_calls INTEGER, finished_at TEXT, episode_json TEXT
);
CREATE TABLE IF NOT EXISTS scores (
    episode_key TEXT, evaluator TEXT, metric TEXT, value REAL, PRIMARY KEY (episode_key, evaluator, metric)
) WITHOUT ROWID;
"""
# The views: name -> (the array of episode_json they list, [(column, type, JSON path or SQL expression)]).
# The types are what version 1's tables declared; a view declares none, so exports read them here.
_VIEW_SPECS: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "messages": ("$.messages", [
        ("idx", "INTEGER", "$.id"), ("turn", "INTEGER", "$.turn"), ("sender", "TEXT", "$.sender"),
        ("recipients", "TEXT", "$.recipients"), ("content", "TEXT", "$.content"), ("actions", "TEXT", "$.actions"),
    ]),
    "model_calls": ("$.calls", [
        ("idx", "INTEGER", "$.index"), ("speaker", "TEXT", "$.speaker"), ("turn", "INTEGER", "$.turn"),
        ("latency_s", "REAL", "$.latency_s"), ("prompt_tokens", "INTEGER", "$.prompt_tokens"),
        ("completion_tokens", "INTEGER", "$.completion_tokens"),
        ("retries", "INTEGER", "json_array_length(x.value, '$.attempts')"), ("cached", "INTEGER", "$.cached"),
        ("error", "TEXT", "$.error"),
    ]),
}
VIEW_TYPES: dict[str, dict[str, str]] = {
    view: {"episode_key": "TEXT", **{c: t for c, t, _ in cols}} for view, (_, cols) in _VIEW_SPECS.items()
}


def _view(name: str) -> str:
    array, cols = _VIEW_SPECS[name]
    exprs = ", ".join((f"json_extract(x.value, '{e}')" if e.startswith("$") else e) + f" AS {c}" for c, _, e in cols)
    return (f"CREATE VIEW IF NOT EXISTS {name} AS SELECT e.key AS episode_key, {exprs} "
            f"FROM episodes AS e, json_each(e.episode_json, '{array}') AS x")


def check_version(path: Path, version: str) -> None:
    """Refuse a store whose schema version privy cannot read."""
    if version not in READABLE_VERSIONS:
        raise StoreError(f"{path}: schema_version {version}; expected {SCHEMA_VERSION} (or 1)")


class StoreError(RuntimeError):
    pass


class ResultStore:
    """Append-only episode results; safe to reopen after a crash."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = connect_wal(self.path)
            # WAL's recommended level: a commit no longer waits for fsync (half the cost of a
            # put). A crash or kill -9 of privy still loses nothing committed; only a power
            # loss or OS crash may roll back the last commits, never corrupt the file.
            self._db.execute("PRAGMA synchronous=NORMAL")
            with self._transaction():  # one writer sets the schema up, or moves it to version 2
                for statement in _TABLES.split(";"):  # not executescript: it would commit
                    if statement.strip():
                        self._db.execute(statement)
                self._upgrade()
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{self.path}: not a privy result store ({err})") from err

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error or interrupt."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _upgrade(self) -> None:
        """Write the schema version to a new store, move a version 1 store to 2; refuse others."""
        row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is not None:
            check_version(self.path, row[0])
        # version 1's copies of episode_json, also in a version 1 store that never got its
        # version row (it was written after the tables): drop them, the views list the same
        for (name,) in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                        "AND name IN ('messages', 'model_calls')").fetchall():
            self._db.execute(f"DROP TABLE {name}")
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
        for view in _VIEW_SPECS:
            self._db.execute(_view(view))

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def meta(self) -> dict[str, str]:
        with self._lock:
            return {k: v for k, v in self._db.execute("SELECT key, value FROM meta")}

    def done_keys(self) -> set[str]:
        with self._lock:
            return {r[0] for r in self._db.execute("SELECT key FROM episodes WHERE status='done'")}

    def put(self, key: str, suite: str, source: str, backend: str, episode: Episode,
            scores: dict[str, Score]) -> str | None:
        """Record one finished episode and its scores, atomically.

        Returns the error if the episode was cut short by a failed model call (it is then
        stored with status ``error``, so that a rerun retries it), else None.
        """
        o, calls = episode.outcome, episode.calls
        # an episode a backend failure cut short is kept, but marked so that a rerun retries it
        status, error = "done", None
        if o.ended_by == "error":
            status, error = "error", next((c.error for c in calls if c.error), "model call failed")
        row = (key, suite, episode.scenario.id, episode.scenario.family, source, episode.mode.value, backend,
               episode.seed, status, error, int(o.success), o.ended_by, o.turns, episode.timings.wall_s,
               episode.timings.model_s, len(calls), sum(c.prompt_tokens or 0 for c in calls),
               sum(c.completion_tokens or 0 for c in calls), sum(len(c.attempts) for c in calls),
               sum(c.cached for c in calls), _now(), episode.to_json())
        with self._lock, self._transaction():
            self._delete(key)
            self._db.execute(f"INSERT INTO episodes VALUES ({','.join('?' * len(row))})", row)
            self._db.executemany("INSERT INTO scores VALUES (?,?,?,?)", [
                (key, name, metric, value) for name, s in scores.items()
                for metric, value in [("", s.value), *s.metrics.items()]])
        return error

    def put_error(self, key: str, suite: str, source: str, backend: str, scenario_id: str, family: str,
                  mode: str, seed: int, error: str) -> None:
        """Record a failed episode (it will be retried by the next run)."""
        with self._lock, self._transaction():
            self._delete(key)
            self._db.execute(
                "INSERT INTO episodes (key, suite, scenario_id, family, source, mode, backend, seed, status, "
                "error, finished_at) VALUES (?,?,?,?,?,?,?,?,'error',?,?)",
                (key, suite, scenario_id, family, source, mode, backend, seed, error, _now()))

    def _delete(self, key: str) -> None:
        self._db.execute("DELETE FROM episodes WHERE key = ?", (key,))
        self._db.execute("DELETE FROM scores WHERE episode_key = ?", (key,))

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            self._db.row_factory = sqlite3.Row
            try:
                return list(self._db.execute(sql, params))
            finally:
                self._db.row_factory = None

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
