"""Exporting a result store's tables for pandas: CSV, JSON Lines or Parquet.

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
from pathlib import Path
from typing import Literal

from privy.bench.store import TABLES, StoreReader, open_reader

__all__ = ["FORMATS", "TABLES", "ExportError", "Format", "default_path", "export", "export_table"]

FORMATS = ("csv", "jsonl", "parquet")
Format = Literal["csv", "jsonl", "parquet"]
_JSON_COLUMNS = {"messages": ("recipients", "actions")}


class ExportError(RuntimeError):
    pass


def export_table(store: StoreReader, table: str, fmt: Format, out: Path, *, episode_json: bool = False) -> int:
    """Write ``table`` to ``out`` in ``fmt``; the number of rows written."""
    if table not in TABLES:
        raise ExportError(f"unknown table {table!r}; expected one of {list(TABLES)}")
    cols = store.columns(table, episode_json=episode_json)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    n = 0
    if fmt == "csv":
        with tmp.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(cols)
            for r in store.rows(table, cols):
                w.writerow(r)
                n += 1
    elif fmt == "jsonl":
        decode = [i for i, c in enumerate(cols) if c in _JSON_COLUMNS.get(table, ())]
        with tmp.open("w", encoding="utf-8") as f:
            for r in store.rows(table, cols):
                values = list(r)
                for i in decode:
                    values[i] = json.loads(values[i]) if values[i] is not None else None
                f.write(json.dumps(dict(zip(cols, values, strict=True)), ensure_ascii=False) + "\n")
                n += 1
    elif fmt == "parquet":
        n = _parquet(store, table, cols, tmp)
    else:
        raise ExportError(f"unknown format {fmt!r}; expected one of {list(FORMATS)}")
    tmp.replace(out)
    return n


def _parquet(store: StoreReader, table: str, cols: list[str], out: Path) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as err:
        raise ExportError("parquet export needs pyarrow: pip install pyarrow "
                          "(or use --format csv or jsonl, which need nothing)") from err
    data = list(store.rows(table, cols))
    types = store.column_types(table)
    arrow = {"INTEGER": pa.int64(), "REAL": pa.float64(), "TEXT": pa.string()}
    schema = pa.schema([(c, arrow.get(types[c], pa.string())) for c in cols])
    arrays = [pa.array([r[i] for r in data], type=schema.field(c).type) for i, c in enumerate(cols)]
    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), out)
    return len(data)


def default_path(db_path: Path, table: str, fmt: str) -> Path:
    """``results.db`` -> ``results.episodes.csv`` next to it."""
    return db_path.with_name(f"{db_path.stem}.{table}.{fmt}")


def export(db_path: str | Path, fmt: Format, tables: list[str], out: str | Path | None = None,
           *, episode_json: bool = False) -> dict[str, tuple[Path, int]]:
    """Export ``tables`` (some of :data:`TABLES`); ``out`` is a file for one table, a folder for several.

    Returns, per table, the file written and its row count.

    Raises:
        ExportError: an unknown format or table, or parquet without pyarrow.
        StoreError: ``db_path`` is not a result store privy can read.
    """
    db_path, out = Path(db_path), (None if out is None else Path(out))
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; expected one of {list(FORMATS)}")
    unknown = [t for t in tables if t not in TABLES]
    if unknown:
        raise ExportError(f"unknown table(s) {unknown}; expected some of {list(TABLES)} or 'all'")
    with open_reader(db_path) as store:
        written = {}
        for t in tables:
            if out is None:
                path = default_path(db_path, t, fmt)
            elif len(tables) == 1:
                path = out
            else:
                path = out / f"{t}.{fmt}"
            written[t] = (path, export_table(store, t, fmt, path, episode_json=episode_json))
        return written
