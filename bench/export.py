"""Exporting a result store's tables for pandas: CSV, JSON Lines or Parquet.

- ``csv``: one header row, then one row per database row (stdlib :mod:`csv`); the JSON
  columns (``messages.recipients``, ``messages.actions``, ``probes.hypotheses``,
  ``probes.logprobs``) stay JSON text.
- ``jsonl``: one JSON object per line; the JSON columns are decoded into lists.
- ``parquet``: needs ``pyarrow`` (``pip install pyarrow``); JSON columns stay text.

``pandas.read_csv``, ``pandas.read_json(path, lines=True)`` and ``pandas.read_parquet``
read them back. The store is opened read-only, so exporting while ``privy bench`` is
still writing is safe.
"""

from __future__ import annotations

import contextlib
import csv
import json
from pathlib import Path
from typing import Literal

from privy.bench.store import TABLES, StoreReader, open_reader

__all__ = ["FORMATS", "TABLES", "ExportError", "Format", "default_path", "export", "export_paths", "export_table"]

FORMATS = ("csv", "jsonl", "parquet")
Format = Literal["csv", "jsonl", "parquet"]
_JSON_COLUMNS = {"messages": ("recipients", "actions"), "probes": ("hypotheses", "logprobs")}


class ExportError(RuntimeError):
    pass


def export_table(store: StoreReader, table: str, fmt: Format, out: Path, *, episode_json: bool = False) -> int:
    """Write ``table`` to ``out`` in ``fmt`` (through a temporary file, renamed at the end); the rows written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(out)
    try:
        n = _write(store, table, fmt, tmp, episode_json=episode_json)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(out)
    return n


def _temporary(out: Path) -> Path:
    return out.with_name(out.name + ".tmp")


def _write(store: StoreReader, table: str, fmt: Format, out: Path, *, episode_json: bool = False) -> int:
    if table not in TABLES:
        raise ExportError(f"unknown table {table!r}; expected one of {list(TABLES)}")
    cols = store.columns(table, episode_json=episode_json)
    n = 0
    if fmt == "csv":
        with out.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(cols)
            for r in store.rows(table, cols):
                w.writerow(r)
                n += 1
    elif fmt == "jsonl":
        decode = [i for i, c in enumerate(cols) if c in _JSON_COLUMNS.get(table, ())]
        with out.open("w", encoding="utf-8") as f:
            for r in store.rows(table, cols):
                values = list(r)
                for i in decode:
                    values[i] = json.loads(values[i]) if values[i] is not None else None
                f.write(json.dumps(dict(zip(cols, values, strict=True)), ensure_ascii=False) + "\n")
                n += 1
    elif fmt == "parquet":
        n = _parquet(store, table, cols, out)
    else:
        raise ExportError(f"unknown format {fmt!r}; expected one of {list(FORMATS)}")
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


def export_paths(db_path: str | Path, fmt: str, tables: list[str], out: str | Path | None = None) -> dict[str, Path]:
    """The file :func:`export` writes for each table: ``out`` for one table (``out/TABLE.FORMAT`` if it is a
    folder), ``out/TABLE.FORMAT`` for several.

    Raises:
        ExportError: an unknown format or table, or several tables and an ``out`` that is a file
            (one that exists, or a name ending in a format's suffix such as ``.csv``).
    """
    db_path, out = Path(db_path), (None if out is None else Path(out))
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; expected one of {list(FORMATS)}")
    unknown = [t for t in tables if t not in TABLES]
    if unknown:
        raise ExportError(f"unknown table(s) {unknown}; expected some of {list(TABLES)} or 'all'")
    if out is None:
        return {t: default_path(db_path, t, fmt) for t in tables}
    if len(tables) == 1:
        return {tables[0]: out / f"{tables[0]}.{fmt}" if out.is_dir() else out}
    if out.is_file() or (not out.exists() and out.suffix.lstrip(".") in FORMATS):
        raise ExportError(f"{out}: {len(tables)} tables are written into a folder, and this names a file; "
                          "give a folder, or one table (--table)")
    return {t: out / f"{t}.{fmt}" for t in tables}


def export(db_path: str | Path, fmt: Format, tables: list[str], out: str | Path | None = None,
           *, episode_json: bool = False, force: bool = False) -> dict[str, tuple[Path, int]]:
    """Export ``tables`` (some of :data:`TABLES`); ``out`` is a file for one table, a folder for several.

    All or nothing: every table is written to a temporary file first, and they are renamed
    into place only when all are written; on an error none is left. A file that exists is
    not overwritten unless ``force``.

    Returns, per table, the file written and its row count.

    Raises:
        ExportError: an unknown format or table, several tables into a file, a file that exists
            (without ``force``), or parquet without pyarrow.
        StoreError: ``db_path`` is not a result store privy can read.
    """
    paths = export_paths(db_path, fmt, tables, out)
    for path in paths.values():
        if path.is_dir():
            raise ExportError(f"{path}: is a folder; expected a file path")
        if path.exists() and not force:
            raise ExportError(f"{path}: the file exists; pass --force (force=True) to overwrite it")
    with open_reader(Path(db_path)) as store:
        made = {d for p in paths.values() for d in (p.parent, *p.parent.parents) if not d.exists()}
        written: dict[str, tuple[Path, int]] = {}
        temporary: list[Path] = []
        try:
            for t, path in paths.items():
                path.parent.mkdir(parents=True, exist_ok=True)
                temporary.append(_temporary(path))
                written[t] = (path, _write(store, t, fmt, temporary[-1], episode_json=episode_json))
        except BaseException:
            for tmp in temporary:
                tmp.unlink(missing_ok=True)
            for d in sorted(made, key=lambda d: len(d.parts), reverse=True):  # deepest first
                with contextlib.suppress(OSError):
                    d.rmdir()
            raise
        for path, _ in written.values():
            _temporary(path).replace(path)
        return written

