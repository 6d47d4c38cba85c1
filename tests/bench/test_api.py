"""The public Python API of ``privy.bench``: its docstring's example runs as it is written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import privy.bench
from privy.bench import Grid, load_suite, open_reader


def example() -> str:
    """The code block of ``privy.bench``'s docstring."""
    blocks = re.findall(r"```python\n(.*?)```", privy.bench.__doc__ or "", re.S)
    assert len(blocks) == 1, "privy.bench's docstring should hold one ```python example"
    return blocks[0]


def test_the_docstring_example_runs_a_suite_into_a_store_and_writes_its_report(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = example()
    lines = [x for x in code.splitlines() if x.strip() and not x.startswith(("from ", "import "))]
    assert len(lines) == 5  # load a suite, open a store, run, build the report, write it
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my.suite.yaml").write_text(yaml.safe_dump({
        "name": "api-example", "scenarios": [{"family": "mutual_friends", "count": 2, "seed": 5}],
        "modes": ["agents", "omniscient"], "backends": [{"name": "scripted"}], "seeds": [0]}), encoding="utf-8")
    exec(compile(code, "privy.bench example", "exec"), {})

    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert report.startswith("# privy report: api-example")
    assert "| task_success | scripted | agents | 2 | 1 |" in report
    assert "| task_success | scripted | omniscient | 2 | 1 |" in report
    assert "| task_success | scripted | agents − omniscient | 2 | 1 | 1 | 0 |" in report
    assert "| all | 4 | 4 | 0 |" in report
    assert "rule-based reference protocol (not an LLM)" in report
    with open_reader(tmp_path / "results.db") as store:
        assert store.planned_keys() == Grid(*load_suite(tmp_path / "my.suite.yaml")).keys()
        assert store.failures() == []

    exec(compile(code, "privy.bench example", "exec"), {})  # resumed: nothing to run
    with open_reader(tmp_path / "results.db") as store:
        assert len(store.stored_keys()) == 4


def test_every_name_in_all_is_there() -> None:
    assert sorted(privy.bench.__all__) == privy.bench.__all__
    missing = [n for n in privy.bench.__all__ if not hasattr(privy.bench, n)]
    assert missing == []
