"""A file that is not a sound privy store: refused with one line and exit 2, and left as it was."""

from __future__ import annotations

import hashlib
import random
import sqlite3
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from privy.bench import store as store_module
from privy.bench.store import ResultStore, StoreError, open_reader
from privy.cli import app

WIDE = {"COLUMNS": "2000"}
PAGE = 4096


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env=WIDE)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("suite") / "s.suite.yaml"
    path.write_text(yaml.safe_dump({
        "name": "t", "scenarios": [{"family": "mutual_friends", "count": 10, "seed": 1}],
        "modes": ["agents", "omniscient"], "backends": [{"name": "scripted"}], "seeds": [0, 1]}), encoding="utf-8")
    return path


def one_error_line(result: Result, path: Path, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: "), result.output
    assert all(w in lines[0] for w in words), lines[0]


def test_another_programs_sqlite_file_is_refused_and_left_byte_identical(suite: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE notes (x TEXT)")
    con.execute("INSERT INTO notes VALUES ('keep me')")
    con.commit()
    con.close()
    before = digest(other)
    result = invoke("bench", suite, "--out", other)
    one_error_line(result, other, "not a privy result store", "notes", "another --out")
    assert digest(other) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]  # no -wal or -shm beside it


def test_a_file_that_is_not_sqlite_is_refused_and_left_byte_identical(suite: Path, tmp_path: Path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("my notes, not a database\n" * 200, encoding="utf-8")
    before = digest(text)
    one_error_line(invoke("bench", suite, "--out", text), text, "not a privy result store")
    assert digest(text) == before


def test_an_empty_file_or_sqlite_file_without_tables_becomes_a_store(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    blank = tmp_path / "blank.db"
    sqlite3.connect(blank).execute("PRAGMA user_version = 1").connection.close()  # a header, no tables
    for path in (empty, blank):
        with ResultStore(path) as s:
            assert s.meta()["schema_version"] == "2"


@pytest.fixture
def corrupted(suite: Path, tmp_path: Path) -> Path:
    """A real store of 40 episodes, closed cleanly, with pages in the middle overwritten by garbage."""
    db = tmp_path / "r.db"
    result = invoke("bench", suite, "--out", db)
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "r.db-wal").exists() or (tmp_path / "r.db-wal").stat().st_size == 0  # all in the file
    pages = db.stat().st_size // PAGE
    assert pages > 40
    garbage = random.Random(0).randbytes(PAGE * (pages // 5))
    with db.open("r+b") as f:  # the header page and the last pages stay intact
        f.seek(PAGE * (pages // 2))
        f.write(garbage)
    return db


def test_a_store_corrupted_in_the_middle_is_one_clear_error_for_every_command(
        corrupted: Path, suite: Path, tmp_path: Path) -> None:
    before = digest(corrupted)
    for args in (("report", corrupted), ("view", corrupted), ("export", corrupted, "--out", tmp_path / "x"),
                 ("bench", suite, "--out", corrupted)):
        one_error_line(invoke(*args), corrupted, "corrupted")
    assert digest(corrupted) == before  # bench did not resume into it
    assert not (tmp_path / "r.view.html").exists() and not (tmp_path / "x").exists()


def test_a_corrupted_page_met_while_reading_is_a_store_error(corrupted: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "_quick_check", lambda path, db: None)  # as if the damage came later
    with open_reader(corrupted) as r, pytest.raises(StoreError, match="corrupted"):
        list(r.rows("episodes", r.columns("episodes", episode_json=True)))
