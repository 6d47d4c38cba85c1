"""Export a result store's tables for pandas: CSV, JSON Lines or Parquet.

- ``csv``: one header row, then one row per database row (stdlib :mod:`csv`); the JSON
  columns (``messages.recipients``, ``messages.actions``) stay JSON text.
- ``jsonl``: one JSON object per line; the JSON columns are decoded into lists.
- ``parquet``: needs ``pyarrow`` (``pip install pyarrow``); JSON columns stay text.

``pandas.read_csv``, ``pandas.read_json(path, lines=True)`` and ``pandas.read_parquet``
read them back. The store is opened read-only, so exporting while ``privy bench`` is
still writing is safe.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from privy.bench.store import VIEW_TYPES, StoreError, check_version

TABLES = ("episodes", "scores", "messages", "model_calls")
FORMATS = ("csv", "jsonl", "parquet")
Format = Literal["csv", "jsonl", "parquet"]
_JSON_COLUMNS = {"messages": ("recipients", "actions")}
_ORDER = {"episodes": "key", "scores": "episode_key, evaluator, metric", "messages": "episode_key, idx",
          "model_calls": "episode_key, idx"}


class ExportError(RuntimeError):
    pass


def connect_readonly(path: str | Path) -> sqlite3.Connection:
    """Open an existing privy result store read-only; a clear :class:`StoreError` otherwise."""
    p = Path(path)
    if not p.is_file():
        raise StoreError(f"{p}: no such result store (run `privy bench SUITE --out {p}` first)")
    try:
        db = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True, timeout=60)
        row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        have = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
        missing = set(TABLES) - have
    except sqlite3.DatabaseError as err:
        raise StoreError(f"{p}: not a privy result store ({err})") from err
    if row is None or missing:
        db.close()
        raise StoreError(f"{p}: not a privy result store (no schema_version or tables {sorted(missing)} missing)")
    try:
        check_version(p, row[0])
    except StoreError:
        db.close()
        raise
    db.row_factory = sqlite3.Row
    return db


def columns(db: sqlite3.Connection, table: str, *, episode_json: bool = False) -> list[str]:
    cols = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
    return [c for c in cols if episode_json or c != "episode_json"]


def rows(db: sqlite3.Connection, table: str, cols: list[str]) -> Iterator[tuple[Any, ...]]:
    if table not in TABLES:
        raise ExportError(f"unknown table {table!r}; expected one of {list(TABLES)}")
    yield from db.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY {_ORDER[table]}")


def export_table(db: sqlite3.Connection, table: str, fmt: Format, out: Path, *, episode_json: bool = False) -> int:
    """Write ``table`` to ``out`` in ``fmt``; the number of rows written."""
    cols = columns(db, table, episode_json=episode_json)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    n = 0
    if fmt == "csv":
        with tmp.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(cols)
            for r in rows(db, table, cols):
                w.writerow(r)
                n += 1
    elif fmt == "jsonl":
        decode = [i for i, c in enumerate(cols) if c in _JSON_COLUMNS.get(table, ())]
        with tmp.open("w", encoding="utf-8") as f:
            for r in rows(db, table, cols):
                values = list(r)
                for i in decode:
                    values[i] = json.loads(values[i]) if values[i] is not None else None
                f.write(json.dumps(dict(zip(cols, values, strict=True)), ensure_ascii=False) + "\n")
                n += 1
    elif fmt == "parquet":
        n = _parquet(db, table, cols, tmp)
    else:
        raise ExportError(f"unknown format {fmt!r}; expected one of {list(FORMATS)}")
    tmp.replace(out)
    return n


def _parquet(db: sqlite3.Connection, table: str, cols: list[str], out: Path) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as err:
        raise ExportError("parquet export needs pyarrow: pip install pyarrow "
                          "(or use --format csv or jsonl, which need nothing)") from err
    data = list(rows(db, table, cols))
    types = {r[1]: r[2].upper() for r in db.execute(f"PRAGMA table_info({table})")}
    types.update(VIEW_TYPES.get(table, {}))  # a view's columns declare no type
    arrow = {"INTEGER": pa.int64(), "REAL": pa.float64(), "TEXT": pa.string()}
    schema = pa.schema([(c, arrow.get(types[c], pa.string())) for c in cols])
    arrays = [pa.array([r[i] for r in data], type=schema.field(c).type) for i, c in enumerate(cols)]
    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), out)
    return len(data)


def default_path(db_path: Path, table: str, fmt: str) -> Path:
    """``results.db`` -> ``results.episodes.csv`` next to it."""
    return db_path.with_name(f"{db_path.stem}.{table}.{fmt}")


def export(db_path: Path, fmt: Format, tables: list[str], out: Path | None = None,
           *, episode_json: bool = False) -> dict[str, tuple[Path, int]]:
    """Export ``tables``; ``out`` is a file for one table, a folder for several.

    Returns, per table, the file written and its row count.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; expected one of {list(FORMATS)}")
    unknown = [t for t in tables if t not in TABLES]
    if unknown:
        raise ExportError(f"unknown table(s) {unknown}; expected some of {list(TABLES)} or 'all'")
    db = connect_readonly(db_path)
    try:
        written = {}
        for t in tables:
            if out is None:
                path = default_path(db_path, t, fmt)
            elif len(tables) == 1:
                path = out
            else:
                path = out / f"{t}.{fmt}"
            written[t] = (path, export_table(db, t, fmt, path, episode_json=episode_json))
        return written
    finally:
        db.close()
