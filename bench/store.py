"""The result store: one SQLite file per benchmark run, and the only module that speaks SQL.

:class:`ResultStore` writes a run (and resumes it); :func:`open_reader` opens a store
read-only for the report, the viewer and the exports, whose :class:`StoreReader`
methods return plain data. The store also owns the cell key that names each row:
:func:`cell_key` makes it, :func:`parse_key` takes it apart.

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
import hashlib
import json
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

from privy.evaluators.base import Score
from privy.simulator.episode import Episode
from privy.simulator.modes import Mode
from privy.simulator.scenario import Scenario
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
    "probes": ("$.probes", [  # belief probes (privy.simulator.probes); none unless the run asked for them
        ("idx", "INTEGER", "x.key"), ("turn", "INTEGER", "$.turn"), ("agent", "TEXT", "$.agent"),
        ("kind", "TEXT", "$.kind"), ("final", "INTEGER", "$.final"), ("hypotheses", "TEXT", "$.hypotheses"),
        ("truth", "INTEGER", "$.truth"), ("about", "TEXT", "$.about"), ("fact_id", "TEXT", "$.fact_id"),
        ("logprobs", "TEXT", "$.logprobs"), ("method", "TEXT", "$.method"), ("latency_s", "REAL", "$.latency_s"),
        ("error", "TEXT", "$.error"),
    ]),
}
# views a store written before them lacks until a writer opens it again: read through the same query
_LATER_VIEWS = frozenset({"probes"})
VIEW_TYPES: dict[str, dict[str, str]] = {
    view: {"episode_key": "TEXT", **{c: t for c, t, _ in cols}} for view, (_, cols) in _VIEW_SPECS.items()
}


# ---------------------------------------------------------------- cell keys


def canonical_json(scenario: Scenario) -> str:
    """The scenario's content as sorted-key JSON: what a cell's key is a digest of."""
    return json.dumps(scenario.model_dump(mode="json"), sort_keys=True)


def instance_key(scenario_id: str, scenario_json: str) -> str:
    """``<scenario id>:<digest of its canonical JSON>``: one scenario instance, whatever the mode."""
    return f"{scenario_id}:{hashlib.sha256(scenario_json.encode()).hexdigest()[:8]}"


def cell_key(instance: str, mode: Mode | str, backend: str, seed: int) -> str:
    """``<instance key>|<mode>|<backend label>|<seed>``: one cell of a grid, the key of its rows."""
    return f"{instance}|{Mode(mode).value}|{backend}|{seed}"


class CellKey(NamedTuple):
    """A cell key's parts (:func:`cell_key` joins them again)."""

    instance: str
    mode: str
    backend: str
    seed: int


def instance_of(key: str) -> str:
    """The scenario instance a key starts with; a key of another shape (no ``|``) is all instance."""
    return key.split("|", 1)[0]


def parse_key(key: str) -> CellKey:
    """Split a cell key into its parts; the backend label may itself hold ``|``.

    Raises:
        ValueError: ``key`` is not ``<instance>|<mode>|<backend label>|<seed>``.
    """
    instance, _, rest = key.partition("|")
    mode, _, rest = rest.partition("|")
    backend, _, seed = rest.rpartition("|")
    try:
        parts = CellKey(instance, Mode(mode).value, backend, int(seed))
    except ValueError:
        parts = None
    if parts is None or cell_key(*parts) != key:  # e.g. a part missing, or a seed written as "+1"
        raise ValueError(f"{key!r}: not a cell key (<instance>|<mode>|<backend label>|<seed>)")
    return parts


def _view_select(name: str) -> str:
    array, cols = _VIEW_SPECS[name]
    exprs = ", ".join((f"json_extract(x.value, '{e}')" if e.startswith("$") else e) + f" AS {c}" for c, _, e in cols)
    return (f"SELECT e.key AS episode_key, {exprs} "
            f"FROM episodes AS e, json_each(e.episode_json, '{array}') AS x")


def _view(name: str) -> str:
    return f"CREATE VIEW IF NOT EXISTS {name} AS {_view_select(name)}"


def check_version(path: Path, version: str) -> None:
    """Refuse a store whose schema version privy cannot read."""
    if version not in READABLE_VERSIONS:
        raise StoreError(f"{path}: schema_version {version}; expected {SCHEMA_VERSION} (or 1)")


class StoreError(RuntimeError):
    pass


def unreadable(path: Path, err: sqlite3.DatabaseError) -> StoreError:
    """The error for a file SQLite cannot read as a privy store: corrupted, not SQLite, or locked."""
    text = str(err)
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return StoreError(f"{path}: not a privy result store, or a corrupted one that SQLite cannot read ({text})")
    return StoreError(f"{path}: not a readable privy result store ({text})")


_PRIVY_TABLES = {"meta", "episodes", "scores"}  # what every version made first, in one transaction


def _check_file(path: Path) -> None:
    """Refuse, read-only and before anything is written, a file that is not a sound privy store.

    A missing or empty file, or an SQLite file with no tables, is a new store. Anything else
    must have privy's tables and pass SQLite's ``quick_check`` (which reads every page): an
    unrelated database is left alone, and a corrupted store is not resumed as if its
    unreadable episodes were never run.
    """
    if not path.exists() or (path.is_file() and path.stat().st_size == 0):
        return
    if not path.is_file():
        raise StoreError(f"{path}: not a file; give --out a file name for the result store")
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=60)
        try:
            names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
            if names and not (names >= _PRIVY_TABLES or _has_version(db)):  # (a version is checked on opening)
                raise StoreError(f"{path}: not a privy result store (an SQLite database with other tables: "
                                 f"{', '.join(sorted(names)[:5])}); left untouched: choose another --out")
            _quick_check(path, db)
        finally:
            db.close()
    except sqlite3.DatabaseError as err:
        raise unreadable(path, err) from err


def _has_version(db: sqlite3.Connection) -> bool:
    try:
        return db.execute("SELECT 1 FROM meta WHERE key = 'schema_version'").fetchone() is not None
    except sqlite3.OperationalError:  # no such table or column: another program's database
        return False


def _quick_check(path: Path, db: sqlite3.Connection) -> None:
    """SQLite's ``quick_check``: every page read, the b-trees' structure checked (linear in the file's size)."""
    found = [line for (text,) in db.execute("PRAGMA quick_check(1)") for line in str(text).splitlines()
             if not line.startswith("***")]  # "*** in database main ***" heads a list of problems
    if found != ["ok"]:
        raise StoreError(f"{path}: a corrupted privy result store that SQLite cannot read (quick_check: "
                         f"{found[0] if found else 'failed'}); restore a copy, or run again with another --out")


class ResultStore:
    """Append-only episode results; safe to reopen after a crash."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        _check_file(self.path)
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
            raise unreadable(self.path, err) from err

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
        error = episode_error(episode)
        status = "done" if error is None else "error"
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

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def episode_error(episode: Episode) -> str | None:
    """The error of an episode a failed model call cut short (its first call error), else None."""
    if episode.outcome.ended_by != "error":
        return None
    return next((c.error for c in episode.calls if c.error), "model call failed")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------- reading

TABLES = ("episodes", "scores", "messages", "model_calls", "probes")
_ORDER = {"episodes": "key", "scores": "episode_key, evaluator, metric", "messages": "episode_key, idx",
          "model_calls": "episode_key, idx", "probes": "episode_key, idx"}


class ScoreRow(NamedTuple):
    """A score of a finished episode, with the episode's backend label, mode and seed."""

    key: str
    backend: str
    mode: str
    seed: int
    evaluator: str
    metric: str  # '' for the evaluator's headline value
    value: float


class UsageRow(NamedTuple):
    """One backend label's episodes and what they cost, summed."""

    backend: str
    episodes: int
    done: int
    failed: int
    calls: int
    prompt_tokens: int
    completion_tokens: int
    retries: int
    cached_calls: int
    wall_s: float
    model_s: float


class EpisodeRow(NamedTuple):
    """A stored episode as the viewer shows it; ``episode_json`` is None if it failed before any message."""

    key: str
    backend: str
    status: str
    error: str | None
    episode_json: str | None


@dataclass(frozen=True)
class CardValues:
    """The distinct values a Simulation Card lists."""

    settings: list[tuple[str, str]]  # (backend label, an episode log's backend settings as JSON), by label
    modes: list[str]
    evaluators: list[str]
    seeds: list[int]
    suites: list[str | None]


def open_reader(path: str | Path) -> StoreReader:
    """Open an existing privy result store read-only (safe while ``privy bench`` still writes to it).

    Raises:
        StoreError: no such file, not a privy result store, or a schema version privy cannot read.
    """
    p = Path(path)
    if not p.is_file():
        raise StoreError(f"{p}: no such result store (run `privy bench SUITE --out {p}` first)")
    try:
        db = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True, timeout=60)
        have = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
        missing = set(TABLES) - have - _LATER_VIEWS
        row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() if "meta" in have else None
    except sqlite3.DatabaseError as err:
        raise unreadable(p, err) from err
    if row is None or missing:
        db.close()
        raise StoreError(f"{p}: not a privy result store (no schema_version or tables {sorted(missing)} missing)")
    try:
        check_version(p, row[0])
        _quick_check(p, db)  # a report, view or export reads about every page anyway
    except sqlite3.DatabaseError as err:
        db.close()
        raise unreadable(p, err) from err
    except StoreError:
        db.close()
        raise
    return StoreReader(p, db)


class StoreReader:
    """A result store opened read-only by :func:`open_reader`: what the report, viewer and exports read.

    Version 1 and 2 stores read alike. Close it (or use it as a context manager) when done;
    methods that return iterators read as they are consumed, so consume them before closing.
    """

    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        self.path = path
        self._db = db

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> StoreReader:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _read(self, sql: str, params: tuple[object, ...] = ()) -> Iterator[Any]:
        """The rows of ``sql``, read as they are consumed; a file SQLite cannot read raises StoreError."""
        try:
            yield from self._db.execute(sql, params)
        except sqlite3.DatabaseError as err:  # e.g. "database disk image is malformed" half-way through
            raise unreadable(self.path, err) from err

    def meta(self) -> dict[str, str]:
        return {k: v for k, v in self._read("SELECT key, value FROM meta")}

    def planned_keys(self) -> list[str] | None:
        """The keys of the grid the last ``privy bench`` planned, in order (None if no bench wrote them)."""
        row = next(self._read("SELECT value FROM meta WHERE key = 'planned'"), None)
        return None if row is None else list(json.loads(row[0]))

    def stored_keys(self) -> set[str]:
        """The keys of every stored episode, finished or failed."""
        return {r[0] for r in self._read("SELECT key FROM episodes")}

    def failures(self) -> list[tuple[str, str]]:
        """(key, error) of every episode not finished, by key."""
        return [(k, e or "") for k, e in
                self._read("SELECT key, error FROM episodes WHERE status != 'done' ORDER BY key")]

    def scenarios(self) -> dict[str, dict[str, Any]]:
        """One scenario (as JSON data) per instance that has a finished episode, by instance key."""
        rows = self._read(
            "SELECT key, json_extract(episode_json, '$.scenario') FROM episodes "
            "WHERE status = 'done' AND episode_json IS NOT NULL GROUP BY scenario_id, "
            "substr(key, 1, instr(key, '|'))")
        return {instance_of(k): json.loads(s) for k, s in rows if s}

    def scores(self) -> Iterator[ScoreRow]:
        """Every score (headline and metrics) of the finished episodes that has a value."""
        for row in self._read(
                "SELECT e.key, e.backend, e.mode, e.seed, s.evaluator, s.metric, s.value FROM scores s "
                "JOIN episodes e ON e.key = s.episode_key WHERE e.status = 'done' AND s.value IS NOT NULL"):
            yield ScoreRow(*row)

    def headline_scores(self) -> dict[str, dict[str, float | None]]:
        """Per episode key, each evaluator's headline value."""
        out: dict[str, dict[str, float | None]] = defaultdict(dict)
        for key, name, value in self._read("SELECT episode_key, evaluator, value FROM scores WHERE metric = ''"):
            out[key][name] = value
        return dict(out)

    def usage(self) -> list[UsageRow]:
        """Per backend label (in order), its episodes, calls, tokens and seconds."""
        rows = self._read(
            "SELECT backend, count(*), sum(status = 'done'), sum(status != 'done'), total(calls), "
            "total(prompt_tokens), total(completion_tokens), total(retries), total(cached_calls), total(wall_s), "
            "total(model_s) FROM episodes GROUP BY backend ORDER BY backend")
        out = []
        for backend, episodes, done, failed, calls, prompt, completion, retries, cached, wall_s, model_s in rows:
            out.append(UsageRow(backend, int(episodes), int(done), int(failed), int(calls), int(prompt),
                                int(completion), int(retries), int(cached), float(wall_s), float(model_s)))
        return out

    def latencies(self) -> dict[str, list[float]]:
        """Per backend label, the latency of each of its model calls that has one."""
        out: dict[str, list[float]] = defaultdict(list)
        for backend, latency in self._read(
                "SELECT e.backend, c.latency_s FROM model_calls c JOIN episodes e ON e.key = c.episode_key "
                "WHERE c.latency_s IS NOT NULL"):
            out[backend].append(latency)
        return dict(out)

    def card_values(self) -> CardValues:
        def distinct(column: str, table: str = "episodes") -> list[Any]:
            return [r[0] for r in self._read(f"SELECT DISTINCT {column} FROM {table}")]

        settings = [(label, js) for label, js in self._read(
            "SELECT DISTINCT backend, json_extract(episode_json, '$.backend') FROM episodes "
            "WHERE episode_json IS NOT NULL ORDER BY backend")]
        return CardValues(settings=settings, modes=distinct("mode"), evaluators=distinct("evaluator", "scores"),
                          seeds=distinct("seed"), suites=distinct("suite"))

    def probed_episodes(self) -> Iterator[EpisodeRow]:
        """The finished episodes whose log holds belief probes, by key (read as they are consumed)."""
        for r in self._read("SELECT key, backend, status, error, episode_json FROM episodes "
                            "WHERE status = 'done' AND episode_json IS NOT NULL "
                            "AND json_array_length(episode_json, '$.probes') > 0 ORDER BY key"):
            yield EpisodeRow(*r)

    def source_scores(self) -> list[tuple[str, str, str, str]]:
        """(key, scenario id, the ``source.scores`` JSON, the scenario's agents as JSON) of every finished
        episode whose log holds scores its source gave (e.g. Sotopia's rewards of an imported episode), by key."""
        return list(self._read(
            "SELECT key, scenario_id, json_extract(episode_json, '$.source.scores'), "
            "json_extract(episode_json, '$.scenario.agents') FROM episodes "
            "WHERE status = 'done' AND episode_json IS NOT NULL "
            "AND json_extract(episode_json, '$.source.scores') IS NOT NULL ORDER BY key"))

    def episodes(self) -> list[EpisodeRow]:
        """Every stored episode, by key, with its log (None for one that failed before it had one)."""
        return [EpisodeRow(*r) for r in
                self._read("SELECT key, backend, status, error, episode_json FROM episodes ORDER BY key")]

    def columns(self, table: str, *, episode_json: bool = False) -> list[str]:
        """``table``'s columns, in order; the episodes' ``episode_json`` only if asked for."""
        return [c for c in self.column_types(table) if episode_json or c != "episode_json"]

    def column_types(self, table: str) -> dict[str, str]:
        """``table``'s columns and their SQL types (``INTEGER``, ``REAL``, ``TEXT``), also for the views."""
        _check_table(table)
        types = {r[1]: r[2].upper() for r in self._read(f"PRAGMA table_info({table})")}
        types.update(VIEW_TYPES.get(table, {}))  # a view's columns declare no type
        return types

    def rows(self, table: str, columns: list[str]) -> Iterator[tuple[Any, ...]]:
        """``columns`` of every row of ``table``, in a stable order (by key, then index)."""
        unknown = [c for c in columns if c not in self.column_types(table)]
        if unknown:
            raise StoreError(f"{self.path}: table {table} has no column(s) {unknown}")
        source = table
        if table in _LATER_VIEWS and not any(self._read("SELECT 1 FROM sqlite_master WHERE name = ?", (table,))):
            source = f"({_view_select(table)})"
        yield from self._read(f"SELECT {', '.join(columns)} FROM {source} ORDER BY {_ORDER[table]}")


def _check_table(table: str) -> None:
    if table not in TABLES:
        raise StoreError(f"unknown table {table!r}; expected one of {list(TABLES)}")
