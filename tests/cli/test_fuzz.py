"""Fuzz every command that reads a file: random bytes, random YAML, and near-valid scenarios,
suites and episodes (a valid document with one field deleted, retyped or added).

Whatever the input, a command that cannot use it exits 2 with a message, raises nothing
(no traceback) and writes nothing: the working folder holds only the input afterwards.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import SCENARIO_DIR, solve
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from privy.bench.suite import SuiteError, load_suite
from privy.cli import app
from privy.simulator import load_scenario
from privy.simulator.episode import EpisodeError, load_episode
from privy.simulator.loader import ScenarioError

MUTUAL = SCENARIO_DIR / "mutual_friends.yaml"
QUICK = SCENARIO_DIR / "suites" / "quick.suite.yaml"
FUZZ = settings(max_examples=25, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def commands(f: Path) -> list[list[str]]:
    """Every command that reads ``f``, each told to write into ``f``'s folder."""
    d, x = f.parent, str(f)
    return [
        ["validate", x],
        ["run", x, "--backend", "scripted", "--out", str(d / "ep.json")],
        ["compare", x, "--backend", "scripted", "--modes", "agents", "--out-dir", str(d / "runs")],
        ["show", x],
        ["evaluate", x],
        ["bench", x, "--out", str(d / "r.db")],
        ["report", x, "--md", str(d / "r.md")],
        ["view", x, "--out", str(d / "v.html")],
        ["export", x, "--out", str(d / "exports")],
    ]


def check_every_command(f: Path, skip: tuple[str, ...] = ()) -> None:
    for args in commands(f):
        if args[0] in skip:
            continue
        result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
        shown = f"privy {' '.join(args)} on {f.read_bytes()[:300]!r}:\n{result.output}"
        assert result.exception is None or isinstance(result.exception, SystemExit), shown
        assert result.exit_code == 2, shown
        assert "Traceback" not in result.output, shown
        assert sorted(p.name for p in f.parent.iterdir()) == [f.name], shown


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # default outputs (runs/, results.db) land here, where they are seen
    return tmp_path


def fresh(work: Path, name: str) -> Path:
    """An empty folder for one example (hypothesis reuses the function's fixtures)."""
    d = work / f"ex{len(list(work.iterdir()))}"
    d.mkdir()
    return d / name


@given(data=st.binary(max_size=400))
@FUZZ
def test_random_bytes(work: Path, data: bytes) -> None:
    f = fresh(work, "input.yaml")
    f.write_bytes(data)
    check_every_command(f)


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(value=yaml_values)
@FUZZ
def test_random_yaml(work: Path, value: Any) -> None:
    f = fresh(work, "input.yaml")
    f.write_text(yaml.safe_dump(value), encoding="utf-8")
    check_every_command(f)


# --- near-valid documents -------------------------------------------------------------------

def paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a node of ``doc`` (dict keys and list indices)."""
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += paths(v, (*prefix, i))
    return out


REPLACEMENTS = st.sampled_from([None, -1, 2**70, 1.5, "", "x" * 3, [], {}, [1, 2], {"a": 1}, True, "\x1b[2J"])


@st.composite
def mutated(draw: st.DrawFn, doc: Any) -> Any:
    """``doc`` with one node deleted, replaced by a value of another kind, or given an unknown key."""
    doc = json.loads(json.dumps(doc))
    where = draw(st.sampled_from(paths(doc)))
    parent = doc
    for step in where[:-1]:
        parent = parent[step]
    how = draw(st.sampled_from(["delete", "replace", "unknown_key"]))
    if how == "delete":
        del parent[where[-1]]
    elif how == "replace":
        parent[where[-1]] = draw(REPLACEMENTS)
    elif isinstance(parent, dict):
        parent["no_such_field_" + draw(st.text("abc", min_size=1, max_size=3))] = draw(REPLACEMENTS)
    else:
        parent.append(draw(REPLACEMENTS))
    return doc


SCENARIO = yaml.safe_load(MUTUAL.read_text(encoding="utf-8"))
SUITE = yaml.safe_load(QUICK.read_text(encoding="utf-8"))
for entry in SUITE["scenarios"]:  # made absolute, so that the suite is valid wherever it is written
    for key in ("path", "glob"):
        if key in entry:
            entry[key] = str((QUICK.parent / entry[key]).resolve()) if key == "path" else str(QUICK.parent / entry[key])
EPISODE = json.loads(solve(load_scenario(MUTUAL)).to_json())


def invalid(load: Any, errors: tuple[type[Exception], ...], f: Path) -> bool:
    try:
        load(f)
    except errors:
        return True
    return False


# what is mutated, the file it is written to, how, and the loader (with its error) that must refuse it
KINDS = {
    "scenario": (SCENARIO, "scenario.yaml", yaml.safe_dump, load_scenario, ScenarioError),
    "suite": (SUITE, "s.suite.yaml", yaml.safe_dump, load_suite, SuiteError),
    "episode": (EPISODE, "ep.json", json.dumps, load_episode, EpisodeError),
}


@pytest.mark.parametrize("kind", list(KINDS))
@given(data=st.data())
@FUZZ
def test_near_valid_documents(work: Path, kind: str, data: st.DataObject) -> None:
    valid, name, dump, load, error = KINDS[kind]
    f = fresh(work, name)
    f.write_text(dump(data.draw(mutated(valid))), encoding="utf-8")
    assume(invalid(load, (error,), f))  # a mutation that left it valid is no test
    check_every_command(f)


def test_an_episode_whose_sender_is_not_an_agent_is_refused(work: Path) -> None:
    doc = json.loads(json.dumps(EPISODE))
    doc["messages"][0]["sender"] = "mallory"
    f = work / "ep.json"
    f.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(EpisodeError, match=r"messages\[0\]\.sender: unknown agent 'mallory'"):
        load_episode(f)
    check_every_command(f)
