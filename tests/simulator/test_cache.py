"""The SQLite response cache: what the key depends on, persistence, concurrent processes, reruns."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import queue
import sqlite3
import traceback
from pathlib import Path
from typing import Any

import pytest
from helpers import SCENARIO_DIR

from privy.simulator import load_scenario, run_episode
from privy.simulator.backends.base import ChatMessage, ChatRequest, Completion
from privy.simulator.backends.cache import CachedBackend, ResponseCache, cache_key, identity
from privy.simulator.backends.errors import BackendError, TransientError
from privy.simulator.backends.limit import LimitedBackend
from privy.simulator.backends.mock import MockBackend
from privy.simulator.backends.retry import RetryingBackend, RetryPolicy

MUTUAL = SCENARIO_DIR / "mutual_friends.yaml"
WINNING = ["My friends: Maya Chen; Tess Moreau.", "We both know Tess Moreau.\nSELECT: Tess Moreau",
           "SELECT: Tess Moreau"]


def request(text: str = "Who do we both know?", **changes: Any) -> ChatRequest:
    base = {"messages": (ChatMessage(role="system", content="You are Alice."),
                         ChatMessage(role="user", content=text)),
            "seed": 7, "speaker": "alice", "stop": ("\nBob:",)}
    return ChatRequest(**{**base, **changes})


def complete(backend: Any, req: ChatRequest) -> Completion:
    return asyncio.run(backend.complete(req))


class ModelMock(MockBackend):
    """A mock whose settings name a model, so two instances can differ in identity."""

    def __init__(self, outputs: list[str], model: str) -> None:
        super().__init__(outputs)
        self.model = model

    def settings(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model}


def test_same_request_is_served_from_the_cache(tmp_path: Path) -> None:
    inner = MockBackend(["first answer", "second answer"])
    b = CachedBackend(inner, tmp_path / "c.db")
    one = complete(b, request())
    two = complete(b, request())
    assert len(inner.requests) == 1
    assert (one.text, one.cached) == ("first answer", False)
    assert (two.text, two.cached) == ("first answer", True)
    assert two.prompt_tokens == one.prompt_tokens and two.finish_reason == one.finish_reason
    assert (b.hits, b.misses) == (1, 1)
    other = complete(b, request("Something else?"))
    assert (other.text, other.cached) == ("second answer", False)
    assert len(inner.requests) == 2
    assert len(b.cache) == 2


BASE = request()


@pytest.mark.parametrize("changed", [
    request("Who do we both know??"),
    request(messages=(ChatMessage(role="user", content="Who do we both know?"),)),
    request(seed=8),
    request(seed=None),
    request(temperature=0.2),
    request(max_tokens=161),
    request(stop=()),
    request(stop=("\nBob:", "\nCarol:")),
], ids=["text", "messages", "seed", "no-seed", "temperature", "max_tokens", "no-stop", "more-stop"])
def test_key_changes_with_every_generation_parameter(changed: ChatRequest) -> None:
    settings = {"backend": "mock"}
    assert cache_key(settings, changed) != cache_key(settings, BASE)


def test_key_ignores_speaker_and_view() -> None:
    settings = {"backend": "mock"}
    assert cache_key(settings, request(speaker="bob")) == cache_key(settings, BASE)
    assert cache_key(settings, request(speaker=None)) == cache_key(settings, BASE)
    env_view = asyncio.run(_a_view())
    assert cache_key(settings, request(view=env_view)) == cache_key(settings, BASE)


async def _a_view() -> Any:
    from privy.simulator import PrivyEnv

    return PrivyEnv(load_scenario(MUTUAL)).observe("alice")


def test_key_changes_with_the_backend_identity() -> None:
    a = cache_key({"backend": "mock", "model": "a"}, BASE)
    assert a != cache_key({"backend": "mock", "model": "b"}, BASE)
    assert a != cache_key({"backend": "other", "model": "a"}, BASE)
    assert a == cache_key({"model": "a", "backend": "mock"}, BASE)  # key order does not matter


def test_wrappers_do_not_change_the_identity_or_the_key() -> None:
    base = ModelMock(["x"], model="m1")
    wrapped: list[RetryingBackend | LimitedBackend] = [
        RetryingBackend(base), LimitedBackend(base, 2), RetryingBackend(LimitedBackend(base, 1)),
        LimitedBackend(RetryingBackend(base, RetryPolicy(max_attempts=2)), 3)]
    for w in wrapped:
        assert w.settings() != base.settings()  # the log records the wrappers...
        assert identity(w) == base.settings()  # ...the cache does not
        assert cache_key(identity(w), BASE) == cache_key(base.settings(), BASE)


def test_a_wrapped_backend_hits_what_the_bare_one_stored(tmp_path: Path) -> None:
    bare = ModelMock(["stored"], model="m1")
    complete(CachedBackend(bare, tmp_path / "c.db"), BASE)
    again = ModelMock(["fresh"], model="m1")
    for w in (RetryingBackend(again), LimitedBackend(again, 1)):
        out = complete(CachedBackend(w, tmp_path / "c.db"), BASE)
        assert (out.text, out.cached) == ("stored", True)
    assert again.requests == []


def test_another_backend_identity_misses(tmp_path: Path) -> None:
    complete(CachedBackend(ModelMock(["from m1"], model="m1"), tmp_path / "c.db"), BASE)
    m2 = ModelMock(["from m2"], model="m2")
    out = complete(CachedBackend(m2, tmp_path / "c.db"), BASE)
    assert (out.text, out.cached) == ("from m2", False)
    assert len(m2.requests) == 1


def test_cache_persists_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "c.db"
    first = ResponseCache(path)
    key = cache_key({"backend": "mock"}, BASE)
    first.put(key, "mock", BASE, Completion(text="kept ✓ 中文", prompt_tokens=3, completion_tokens=2))
    first.close()
    second = ResponseCache(path)
    got = second.get(key)
    assert got is not None
    assert (got.text, got.prompt_tokens, got.completion_tokens) == ("kept ✓ 中文", 3, 2)
    assert second.get(cache_key({"backend": "mock"}, request(seed=1))) is None
    assert len(second) == 1
    second.close()


def test_attempts_are_not_stored_and_a_hit_has_none(tmp_path: Path) -> None:
    class OnceFlaky(MockBackend):
        failed = False

        async def complete(self, request: ChatRequest) -> Completion:
            if not self.failed:
                self.failed = True
                raise TransientError("503")
            return await super().complete(request)

    policy = RetryPolicy(initial_wait_s=0.01, jitter_s=0)
    b = CachedBackend(RetryingBackend(OnceFlaky(["ok"]), policy), tmp_path / "c.db")
    first = complete(b, BASE)
    assert len(first.attempts) == 1 and first.cached is False
    second = complete(b, BASE)
    assert (second.text, second.attempts, second.cached) == ("ok", [], True)
    with sqlite3.connect(tmp_path / "c.db") as db:
        [(stored,)] = db.execute("SELECT completion FROM completions").fetchall()
    assert json.loads(stored)["attempts"] == [] and json.loads(stored)["cached"] is False


def test_rerunning_an_episode_through_the_cache_makes_no_model_calls(tmp_path: Path) -> None:
    s = load_scenario(MUTUAL)
    db = tmp_path / "c.db"
    first_inner = MockBackend(WINNING)
    first = asyncio.run(run_episode(s, "agents", CachedBackend(first_inner, db), seed=3))
    assert len(first_inner.requests) == 3
    assert [c.cached for c in first.calls] == [False, False, False]
    assert first.outcome.success is True

    second_inner = MockBackend(["a model that would say something else"])
    cached = CachedBackend(second_inner, db)
    second = asyncio.run(run_episode(s, "agents", cached, seed=3))
    assert second_inner.requests == []
    assert (cached.hits, cached.misses) == (3, 0)
    assert [c.cached for c in second.calls] == [True, True, True]
    assert [(m.sender, m.content, m.recipients) for m in second.messages] == \
        [(m.sender, m.content, m.recipients) for m in first.messages]
    assert [c.output for c in second.calls] == [c.output for c in first.calls]
    assert second.outcome == first.outcome

    third_inner = MockBackend(WINNING)
    asyncio.run(run_episode(s, "agents", CachedBackend(third_inner, db), seed=4))
    assert len(third_inner.requests) == 3  # another seed: other request seeds, all misses


@pytest.mark.parametrize("mode", ["agents", "mindreaders"])
def test_stored_rows_hold_no_view(tmp_path: Path, mode: str) -> None:
    s = load_scenario(MUTUAL)
    asyncio.run(run_episode(s, mode, CachedBackend(MockBackend(WINNING), tmp_path / "c.db"), seed=0))
    with sqlite3.connect(tmp_path / "c.db") as db:
        rows = db.execute("SELECT backend, request, completion FROM completions").fetchall()
    assert len(rows) == 3
    for backend, req, completion in rows:
        assert backend == "mock"
        stored = json.loads(req)
        assert set(stored) == {"messages", "max_tokens", "temperature", "seed", "stop", "speaker"}
        # the State/Observation would carry the task's answer and needed facts, which no prompt does
        assert "view" not in req and "needed_facts" not in req and '"answer"' not in req
        assert set(json.loads(completion)) >= {"text", "attempts", "cached"}


# --- several processes writing one cache file at once ---------------------------------------------

WORKERS = 4
ENTRIES = 80


def _entry(worker: int, i: int) -> tuple[str, ChatRequest, str]:
    req = request(f"worker {worker} question {i}", seed=i)
    return cache_key({"backend": "mock"}, req), req, f"answer {worker}-{i} " + "é" * (i % 50)


def _writer(path: str, worker: int, barrier: Any, results: Any) -> None:
    try:
        barrier.wait(60)
        cache = ResponseCache(path)  # opened at the same moment by every worker
        for i in range(ENTRIES):
            key, req, text = _entry(worker, i)
            cache.put(key, "mock", req, Completion(text=text))
            back = cache.get(key)
            assert back is not None and back.text == text, (key, back)
            other = (worker + 1) % WORKERS
            okey, _, otext = _entry(other, i // 2)
            seen = cache.get(okey)
            assert seen is None or seen.text == otext, seen
        cache.close()
        results.put((worker, "ok"))
    except BaseException:
        results.put((worker, traceback.format_exc()))


def test_concurrent_processes_share_one_cache_file(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    results = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(str(path), w, barrier, results)) for w in range(WORKERS)]
    for p in procs:
        p.start()
    reports = {}
    try:
        for _ in procs:
            worker, report = results.get(timeout=60)
            reports[worker] = report
    except queue.Empty:
        pass
    for p in procs:
        p.join(30)
    assert reports == {w: "ok" for w in range(WORKERS)}
    assert [p.exitcode for p in procs] == [0] * WORKERS

    cache = ResponseCache(path)
    assert len(cache) == WORKERS * ENTRIES
    for w in range(WORKERS):
        for i in range(ENTRIES):
            key, _, text = _entry(w, i)
            got = cache.get(key)
            assert got is not None and got.text == text
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    cache.close()


def test_threads_share_one_cached_backend(tmp_path: Path) -> None:
    """asyncio.to_thread callers (as the llama backend has) all see consistent rows."""
    b = CachedBackend(MockBackend(respond=lambda r: "re: " + r.messages[-1].content), tmp_path / "c.db")

    def in_thread(r: ChatRequest) -> Completion:
        return asyncio.run(b.complete(r))

    async def main() -> list[Completion]:
        reqs = [request(f"q{i % 10}") for i in range(40)]
        return await asyncio.gather(*(asyncio.to_thread(in_thread, r) for r in reqs))

    outs = asyncio.run(main())
    assert [o.text for o in outs] == [f"re: q{i % 10}" for i in range(40)]
    assert len(b.cache) == 10


def test_output_that_is_not_valid_unicode_is_cached_exactly(tmp_path: Path) -> None:
    """A lone surrogate cannot be UTF-8 encoded; the cache must neither fail nor alter it."""
    s = load_scenario(MUTUAL)
    db = tmp_path / "c.db"
    first = asyncio.run(run_episode(s, "agents", CachedBackend(MockBackend(["hi \ud800 there"]), db), seed=0))
    assert first.calls[0].error is None
    assert first.messages[0].content == "hi ? there"
    with sqlite3.connect(db) as conn:
        stored = [json.loads(c)["text"] for (c,) in conn.execute("SELECT completion FROM completions")]
    assert stored == ["hi \ud800 there"] * len(first.calls)  # the raw output, as the model sent it
    cached = CachedBackend(MockBackend(["other"]), db)
    again = asyncio.run(run_episode(s, "agents", cached, seed=0))
    assert cached.misses == 0 and all(c.cached for c in again.calls)
    assert [m.content for m in again.messages] == [m.content for m in first.messages]
    assert again.calls[0].notes == first.calls[0].notes and again.calls[0].notes


def test_a_file_that_is_not_sqlite_is_a_backend_error_and_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"just some notes, long enough to look like a header to SQLite" * 4)
    before = path.read_bytes()
    with pytest.raises(BackendError, match=f"cache {path}: cannot open it as a SQLite file"):
        ResponseCache(path)
    assert path.read_bytes() == before and not path.with_name("notes.txt-wal").exists()


def test_a_cache_that_cannot_be_made_is_a_backend_error(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="is a folder"):
        ResponseCache(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(BackendError, match=f"cache {blocker / 'c.db'}: cannot create its folder {blocker}"):
        ResponseCache(blocker / "c.db")
