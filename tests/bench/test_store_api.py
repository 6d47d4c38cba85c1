"""The store owns the cell key and every query: keys as privy always wrote them, a reader, no SQL elsewhere."""

from __future__ import annotations

import ast
import hashlib
import json
import re
from pathlib import Path

import pytest
from helpers import ROOT

from privy.bench.store import ResultStore, StoreError, cell_key, instance_key, instance_of, open_reader, parse_key
from privy.bench.suite import Cell, SuiteBackend
from privy.simulator import Mode, load_scenario


def test_keys_are_what_privy_always_wrote_and_parse_back() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "mutual_friends.yaml")
    digest = hashlib.sha256(json.dumps(scenario.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()[:8]
    backend = SuiteBackend(name="scripted", label="a|b")
    key = Cell.of(scenario, "x.yaml", Mode.MINDREADERS, backend, 3).key
    assert key == f"{scenario.id}:{digest}|mindreaders|a|b|3"  # as every store so far holds them
    parts = parse_key(key)
    assert parts == (f"{scenario.id}:{digest}", "mindreaders", "a|b", 3)
    assert parts.instance == instance_of(key) == instance_key(scenario.id, Cell.of(
        scenario, "x.yaml", Mode.AGENTS, backend, 0).scenario_json)
    assert cell_key(*parts) == key
    for bad in ("k", "s:1|agents|b", "s:1|telepathy|b|0", "s:1|agents|b|x", "s:1|agents|b|+1"):
        with pytest.raises(ValueError, match="not a cell key"):
            parse_key(bad)
    assert instance_of("k") == "k"


def test_only_the_store_speaks_sql() -> None:
    sql = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|PRAGMA|CREATE)\s+[A-Z*(]")
    for path in sorted((ROOT / "bench").glob("*.py")):
        if path.name == "store.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert "sqlite3" not in imported, path.name
        strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
        assert [s for s in strings if sql.search(s)] == [], path.name


def test_the_reader_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such result store"):
        open_reader(tmp_path / "none.db")
    assert not (tmp_path / "none.db").exists()
    with ResultStore(tmp_path / "r.db"), open_reader(tmp_path / "r.db") as store:
        assert store.meta() == {"schema_version": "2"} and store.planned_keys() is None
        with pytest.raises(StoreError, match="unknown table 'meta'"):
            store.columns("meta")
        with pytest.raises(StoreError, match="no column"):
            list(store.rows("episodes", ["key", "1; DROP TABLE episodes"]))
