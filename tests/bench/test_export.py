"""`privy export`: every table as CSV, JSON Lines or Parquet, row for row."""

from __future__ import annotations

import csv
import json
import sqlite3
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from privy.bench.export import TABLES
from privy.cli import app

STRINGY = 'He said "hi",\nthen left; 1,2,3 — ünïcode'


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "2000"})


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("export")
    (d / "s.suite.yaml").write_text(yaml.safe_dump({
        "name": "export-test", "scenarios": [{"family": "mutual_friends", "count": 2}, {"family": "hidden_profile",
                                                                                       "count": 1}],
        "modes": ["agents", "omniscient"], "backends": [{"name": "scripted"}], "seeds": [0],
        "probes": {"every": 2}}), encoding="utf-8")  # probes: their table has rows too
    result = invoke("bench", d / "s.suite.yaml", "--out", d / "r.db")
    assert result.exit_code == 0, result.output
    con = sqlite3.connect(d / "r.db")  # a message with quotes, commas and newlines must survive CSV
    con.execute("UPDATE episodes SET episode_json = json_set(episode_json, '$.messages[0].content', ?)", (STRINGY,))
    con.commit()
    con.close()
    return d / "r.db"


def count(db: Path, table: str) -> int:
    con = sqlite3.connect(db)
    try:
        return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        con.close()


def test_csv_of_every_table_round_trips(db: Path, tmp_path: Path) -> None:
    result = invoke("export", db, "--format", "csv", "--out", tmp_path / "csv")
    assert result.exit_code == 0, result.output
    for table in TABLES:
        with (tmp_path / "csv" / f"{table}.csv").open(newline="", encoding="utf-8") as f:
            got = list(csv.DictReader(f))
        assert len(got) == count(db, table) > 0, table
        assert f"{table}: {len(got)} rows" in result.output
    with (tmp_path / "csv" / "messages.csv").open(newline="", encoding="utf-8") as f:
        messages = list(csv.DictReader(f))
    assert sum(m["content"] == STRINGY for m in messages) == count(db, "episodes")
    assert all(isinstance(json.loads(m["recipients"]), list) for m in messages)
    with (tmp_path / "csv" / "episodes.csv").open(newline="", encoding="utf-8") as f:
        assert "episode_json" not in next(csv.reader(f))


def test_jsonl_of_one_table_decodes_json_columns(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.jsonl"
    result = invoke("export", db, "-f", "jsonl", "--table", "messages", "--out", out)
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == count(db, "messages")
    assert all(isinstance(x["recipients"], list) and isinstance(x["actions"], list) for x in lines)
    assert {x["content"] for x in lines} >= {STRINGY}


def test_default_paths_sit_next_to_the_store_and_episode_json_is_optional(db: Path) -> None:
    result = invoke("export", db, "-f", "jsonl", "-t", "episodes", "--episode-json")
    assert result.exit_code == 0, result.output
    path = db.with_name("r.episodes.jsonl")
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == count(db, "episodes") and all(json.loads(r["episode_json"])["id"] for r in rows)


def test_pandas_reads_the_files(db: Path, tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    assert invoke("export", db, "-f", "csv", "--out", tmp_path).exit_code == 0
    assert invoke("export", db, "-f", "jsonl", "--out", tmp_path).exit_code == 0
    for table in TABLES:
        assert len(pd.read_csv(tmp_path / f"{table}.csv")) == count(db, table)
        assert len(pd.read_json(tmp_path / f"{table}.jsonl", lines=True)) == count(db, table)


def test_parquet_round_trips_when_pyarrow_is_installed(db: Path, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    result = invoke("export", db, "-f", "parquet", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    for table in TABLES:
        t = pq.read_table(tmp_path / f"{table}.parquet")
        assert t.num_rows == count(db, table)
    episodes = pq.read_table(tmp_path / "episodes.parquet")
    assert str(episodes.schema.field("seed").type) == "int64" and str(episodes.schema.field("wall_s").type) == "double"


def test_parquet_without_pyarrow_names_the_package(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now raises ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    result = invoke("export", db, "-f", "parquet", "--out", tmp_path)
    assert result.exit_code == 2
    assert "pip install pyarrow" in result.output
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments_are_clear_errors(db: Path, tmp_path: Path) -> None:
    result = invoke("export", db, "-f", "xlsx")
    assert result.exit_code == 2 and "expected one of ['csv', 'jsonl', 'parquet']" in result.output
    result = invoke("export", db, "-t", "nope")
    assert result.exit_code == 2 and "unknown table" in result.output
    result = invoke("export", tmp_path / "missing.db")
    assert result.exit_code == 2 and "no such result store" in result.output
