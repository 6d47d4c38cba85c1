"""The result store's schema: messages and model_calls are views of each episode's log; version 1 moves to 2."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from privy.bench.export import export
from privy.bench.store import SCHEMA_VERSION, ResultStore, StoreError, open_reader
from privy.scenarios import families
from privy.simulator.backends.base import ChatRequest, Completion
from privy.simulator.backends.errors import Attempt
from privy.simulator.episode import Episode
from privy.simulator.modes import Mode
from privy.simulator.runner import run_episode

# what privy 0.x wrote before the views: messages and model_calls as tables
_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE episodes (
    key TEXT PRIMARY KEY, suite TEXT, scenario_id TEXT, family TEXT, source TEXT, mode TEXT,
    backend TEXT, seed INTEGER, status TEXT NOT NULL, error TEXT, success INTEGER, ended_by TEXT,
    turns INTEGER, wall_s REAL, model_s REAL, calls INTEGER, prompt_tokens INTEGER,
    completion_tokens INTEGER, retries INTEGER, cached_calls INTEGER, finished_at TEXT, episode_json TEXT);
CREATE TABLE messages (episode_key TEXT, idx INTEGER, turn INTEGER, sender TEXT, recipients TEXT, content TEXT,
    actions TEXT, PRIMARY KEY (episode_key, idx)) WITHOUT ROWID;
CREATE TABLE model_calls (episode_key TEXT, idx INTEGER, speaker TEXT, turn INTEGER, latency_s REAL,
    prompt_tokens INTEGER, completion_tokens INTEGER, retries INTEGER, cached INTEGER, error TEXT,
    PRIMARY KEY (episode_key, idx)) WITHOUT ROWID;
CREATE TABLE scores (episode_key TEXT, evaluator TEXT, metric TEXT, value REAL,
    PRIMARY KEY (episode_key, evaluator, metric)) WITHOUT ROWID;
INSERT INTO meta VALUES ('schema_version', '1');
"""


class _Flaky:
    """Answers with a commitment on its third call, after reporting a retry and token counts."""

    name = "flaky"

    def __init__(self) -> None:
        self.n = 0

    def settings(self) -> dict[str, str]:
        return {"backend": self.name}

    async def complete(self, request: ChatRequest) -> Completion:
        self.n += 1
        verb = request.view.task.commitment.verb if request.view is not None else "SELECT"  # type: ignore[union-attr]
        text = f"{verb}: Nobody" if self.n >= 3 else f"hello, \"friend\"\nline {self.n}"
        return Completion(text=text, prompt_tokens=10 * self.n, completion_tokens=self.n,
                          attempts=[Attempt(attempt=1, error="timeout", wait_s=0.5)] if self.n == 2 else [],
                          cached=self.n == 1)


def _episode(seed: int = 0) -> Episode:
    scenario = families.generate("hidden_profile", 1, seed, {})[0]
    return asyncio.run(run_episode(scenario, Mode.AGENTS, _Flaky(), seed))


def _expected_messages(key: str, ep: Episode) -> list[tuple[object, ...]]:
    return [(key, m.id, m.turn, m.sender, sorted(m.recipients), m.content, [a.model_dump() for a in m.actions])
            for m in ep.messages]


def _expected_calls(key: str, ep: Episode) -> list[tuple[object, ...]]:
    return [(key, c.index, c.speaker, c.turn, c.latency_s, c.prompt_tokens, c.completion_tokens, len(c.attempts),
             int(c.cached), c.error) for c in ep.calls]


def _view_rows(db: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    con = sqlite3.connect(db)
    try:
        msgs = [(*r[:4], json.loads(r[4]), r[5], json.loads(r[6]))
                for r in con.execute("SELECT * FROM messages ORDER BY episode_key, idx")]
        calls = list(con.execute("SELECT * FROM model_calls ORDER BY episode_key, idx"))
        return msgs, calls
    finally:
        con.close()


def test_the_views_list_each_message_and_call_of_the_stored_logs(tmp_path: Path) -> None:
    eps = {f"k{i}": _episode(i) for i in range(3)}
    store = ResultStore(tmp_path / "r.db")
    for key, ep in eps.items():
        store.put(key, "s", "src", "flaky", ep, {})
    store.put_error("k9", "s", "src", "flaky", "x", "hidden_profile", "agents", 9, "boom")  # no log: no rows
    store.close()
    msgs, calls = _view_rows(tmp_path / "r.db")
    assert msgs == [row for k, ep in eps.items() for row in _expected_messages(k, ep)]
    assert calls == [row for k, ep in eps.items() for row in _expected_calls(k, ep)]
    assert any(r[7] == 1 for r in calls) and any(r[8] == 1 for r in calls)  # a retry and a cached call
    assert any(r[6] for r in msgs)  # a commitment's action


def test_rewriting_an_episode_replaces_its_rows(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "r.db")
    store.put("k", "s", "src", "flaky", _episode(0), {})
    again = _episode(1)
    store.put("k", "s", "src", "flaky", again, {})
    store.close()
    msgs, calls = _view_rows(tmp_path / "r.db")
    assert msgs == _expected_messages("k", again) and calls == _expected_calls("k", again)


def _v1_store(path: Path, ep: Episode) -> None:
    con = sqlite3.connect(path)
    con.executescript(_V1)
    con.execute("INSERT INTO episodes (key, status, turns, calls, episode_json) VALUES ('k', 'done', ?, ?, ?)",
                (len(ep.messages), len(ep.calls), ep.to_json()))
    con.executemany("INSERT INTO messages VALUES (?,?,?,?,?,?,?)",
                    [(*r[:4], json.dumps(r[4]), r[5], json.dumps(r[6])) for r in _expected_messages("k", ep)])
    con.executemany("INSERT INTO model_calls VALUES (?,?,?,?,?,?,?,?,?,?)", _expected_calls("k", ep))
    con.execute("INSERT INTO scores VALUES ('k', 'task_success', '', 1.0)")
    con.commit()
    con.close()


def test_a_version_1_store_is_read_as_it_is_and_moved_to_version_2_when_written(tmp_path: Path) -> None:
    ep, db = _episode(2), tmp_path / "old.db"
    _v1_store(db, ep)
    before = _view_rows(db)
    with open_reader(db) as ro:  # a report or an export reads version 1 untouched
        assert ro.meta()["schema_version"] == "1"
        assert ro.stored_keys() == {"k"} and ro.scenarios().keys() == {"k"}
    written = export(db, "jsonl", ["messages"], tmp_path / "m.jsonl")
    assert written["messages"][1] == len(ep.messages)

    store = ResultStore(db)  # opened for writing (a resumed bench): moved to version 2
    store.close()
    con = sqlite3.connect(db)
    kinds = dict(con.execute("SELECT name, type FROM sqlite_master WHERE name IN ('messages', 'model_calls')"))
    version = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
    scores = con.execute("SELECT * FROM scores").fetchall()
    con.close()
    assert kinds == {"messages": "view", "model_calls": "view"} and version == SCHEMA_VERSION == "2"
    assert _view_rows(db) == before  # the same rows, now read from the logs
    assert scores == [("k", "task_success", "", 1.0)]


def test_an_unknown_schema_version_is_refused_by_name(tmp_path: Path) -> None:
    db = tmp_path / "future.db"
    con = sqlite3.connect(db)
    con.executescript("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
                      "INSERT INTO meta VALUES ('schema_version', '7');")
    con.close()
    with pytest.raises(StoreError, match=r"future\.db: schema_version 7; expected 2"):
        ResultStore(db)
    con = sqlite3.connect(db)
    assert con.execute("SELECT value FROM meta").fetchall() == [("7",)]  # left as it was
    con.close()


class _Endless(_Flaky):
    """Settings with an infinite timeout, as ``timeout_s: .inf`` in a suite gives."""

    def settings(self) -> dict[str, object]:  # type: ignore[override]
        return {"backend": self.name, "timeout_s": float("inf"), "jitter": float("nan")}


def test_an_infinite_setting_keeps_the_log_json_and_the_views_readable(tmp_path: Path) -> None:
    scenario = families.generate("mutual_friends", 1, 0, {})[0]
    ep = asyncio.run(run_episode(scenario, Mode.AGENTS, _Endless(), 0))

    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    doc = json.loads(ep.to_json(), parse_constant=refuse)
    assert doc["backend"]["timeout_s"] is None and doc["backend"]["jitter"] is None
    store = ResultStore(tmp_path / "r.db")
    store.put("k", "s", "src", "endless", ep, {})
    store.close()
    msgs, calls = _view_rows(tmp_path / "r.db")
    assert len(msgs) == len(ep.messages) and len(calls) == len(ep.calls)


def test_a_version_1_store_without_its_version_row_is_moved_over_too(tmp_path: Path) -> None:
    ep, db = _episode(3), tmp_path / "half.db"
    _v1_store(db, ep)
    con = sqlite3.connect(db)
    con.execute("DELETE FROM meta")  # as a crash between the tables and the version row left it
    con.commit()
    con.close()
    ResultStore(db).close()
    con = sqlite3.connect(db)
    kinds = dict(con.execute("SELECT name, type FROM sqlite_master WHERE name IN ('messages', 'model_calls')"))
    con.close()
    assert kinds == {"messages": "view", "model_calls": "view"}
    assert _view_rows(db)[0] == [(*r[:4], r[4], r[5], r[6]) for r in _expected_messages("k", ep)]
