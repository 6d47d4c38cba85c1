"""RetryingBackend: which errors are retried, how long it waits, what it records, when it gives up.

The backend runs on a fake clock (:class:`FakeTime`): its waits are counted, not waited,
so the attempts and the waits are checked exactly however busy the machine is. One test
checks that the defaults wait on the real clock.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from helpers import SCENARIO_DIR

from privy.simulator import Episode, backends, load_episode, load_scenario, run_episode
from privy.simulator.backends.base import ChatMessage, ChatRequest, Completion
from privy.simulator.backends.errors import BackendError, PermanentError, TransientError
from privy.simulator.backends.limit import LimitedBackend
from privy.simulator.backends.mock import MockBackend
from privy.simulator.backends.retry import RetryingBackend, RetryPolicy

MUTUAL = SCENARIO_DIR / "mutual_friends.yaml"
REQ = ChatRequest(messages=(ChatMessage(role="user", content="Hello?"),), speaker="alice", seed=1)
WINNING = ["My friends: Maya Chen; Tess Moreau.", "We both know Tess Moreau.\nSELECT: Tess Moreau",
           "SELECT: Tess Moreau"]


def fast(**changes: Any) -> RetryPolicy:
    return RetryPolicy(**{"initial_wait_s": 0.01, "jitter_s": 0.0, "max_attempts": 10, **changes})


class FakeTime:
    """A clock that moves only when something sleeps on it or spends time on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(float(seconds))
        self.now += seconds


class Flaky:
    """Raises the queued errors one per call, then answers ``text``; ``forever`` raises on every call.

    Each call takes ``call_s`` on the fake clock ``time``.
    """

    name = "flaky"

    def __init__(self, errors: list[BaseException] | None = None, forever: BaseException | None = None,
                 text: str = "ok", call_s: float = 0.0) -> None:
        self.errors = list(errors or [])
        self.forever = forever
        self.text = text
        self.call_s = call_s
        self.time = FakeTime()
        self.calls = 0
        self.call_times: list[float] = []

    def settings(self) -> dict[str, Any]:
        return {"backend": self.name}

    async def complete(self, request: ChatRequest) -> Completion:
        self.calls += 1
        self.call_times.append(self.time.now)
        self.time.now += self.call_s
        if self.errors:
            raise self.errors.pop(0)
        if self.forever is not None:
            raise self.forever
        return Completion(text=self.text, attempts=[])


def retrying(inner: Flaky, policy: RetryPolicy, seed: int | None = None) -> RetryingBackend:
    """``inner`` retried under ``policy``, on ``inner``'s fake clock."""
    return RetryingBackend(inner, policy, seed, clock=inner.time.clock, sleep=inner.time.sleep)


def complete(backend: Any, request: ChatRequest = REQ) -> Completion:
    return asyncio.run(backend.complete(request))


def test_transient_errors_are_retried_and_every_failed_try_is_recorded() -> None:
    inner = Flaky([TransientError("503 one"), TransientError("timeout two"), TransientError("reset three")])
    out = complete(retrying(inner, fast()))
    assert out.text == "ok"
    assert inner.calls == 4
    assert [a.attempt for a in out.attempts] == [1, 2, 3]
    assert [a.error for a in out.attempts] == ["503 one", "timeout two", "reset three"]
    assert [a.wait_s for a in out.attempts] == [0.01, 0.02, 0.04]
    assert inner.time.sleeps == [0.01, 0.02, 0.04]  # each recorded wait was waited, once


def test_a_success_at_once_has_no_attempts() -> None:
    inner = Flaky()
    out = complete(retrying(inner, fast()))
    assert (out.text, out.attempts, inner.calls, inner.time.sleeps) == ("ok", [], 1, [])


def test_retry_after_is_honoured() -> None:
    inner = Flaky([TransientError("429 slow down", retry_after=0.3)])
    out = complete(retrying(inner, fast()))
    assert out.text == "ok"
    [attempt] = out.attempts
    assert attempt.error == "429 slow down"
    assert attempt.wait_s == 0.3
    assert inner.time.sleeps == [0.3]
    assert inner.call_times == [0.0, 0.3]


def test_the_defaults_wait_on_the_real_clock() -> None:
    inner = Flaky([TransientError("429 slow down", retry_after=0.05)])
    t0 = time.monotonic()
    out = complete(RetryingBackend(inner, fast()))
    assert time.monotonic() - t0 >= 0.05
    assert (out.text, inner.calls, [a.wait_s for a in out.attempts]) == ("ok", 2, [0.05])
    assert inner.time.sleeps == []


def test_retry_after_shorter_than_the_backoff_does_not_shorten_it() -> None:
    inner = Flaky([TransientError("429", retry_after=0.001)])
    out = complete(retrying(inner, fast(initial_wait_s=0.05)))
    assert out.attempts[0].wait_s == 0.05
    assert inner.time.sleeps == [0.05]


def test_backoff_grows_exponentially_and_is_capped() -> None:
    inner = Flaky([TransientError(f"e{i}") for i in range(6)])
    out = complete(retrying(inner, fast(max_wait_s=0.04)))
    assert [a.wait_s for a in out.attempts] == [0.01, 0.02, 0.04, 0.04, 0.04, 0.04]
    assert inner.time.sleeps == [0.01, 0.02, 0.04, 0.04, 0.04, 0.04]


def test_jitter_stays_within_its_bound_and_is_seeded() -> None:
    def waits(seed: int) -> list[float]:
        inner = Flaky([TransientError(f"e{i}") for i in range(4)])
        out = complete(retrying(inner, fast(jitter_s=0.02), seed=seed))
        assert [round(s, 3) for s in inner.time.sleeps] == [a.wait_s for a in out.attempts]
        return [a.wait_s for a in out.attempts]

    first = waits(7)
    for got, base in zip(first, [0.01, 0.02, 0.04, 0.08], strict=True):
        assert base <= got <= base + 0.02
    assert first != [0.01, 0.02, 0.04, 0.08]  # some jitter was added
    assert waits(7) == first


def test_max_attempts_gives_up_with_every_attempt_recorded() -> None:
    inner = Flaky(forever=TransientError("502 bad gateway"))
    with pytest.raises(BackendError) as info:
        complete(retrying(inner, fast(max_attempts=3)))
    err = info.value
    assert type(err) is BackendError  # final: not a TransientError an outer layer would retry again
    assert inner.calls == 3
    assert inner.time.sleeps == [0.01, 0.02]
    assert [a.attempt for a in err.attempts] == [1, 2, 3]
    assert [a.error for a in err.attempts] == ["502 bad gateway"] * 3
    assert [a.wait_s for a in err.attempts] == [0.01, 0.02, 0.0]
    assert "gave up after 3 attempts" in str(err)
    assert "502 bad gateway" in str(err)
    assert isinstance(err.__cause__, TransientError)


def test_max_total_s_stops_before_a_wait_that_would_overrun_it() -> None:
    """A Retry-After beyond the budget is not slept through: the call gives up at once."""
    inner = Flaky(forever=TransientError("429", retry_after=5.0))
    with pytest.raises(BackendError) as info:
        complete(retrying(inner, fast(max_total_s=0.5)))
    assert inner.time.sleeps == []
    assert inner.calls == 1
    assert len(info.value.attempts) == 1
    assert "gave up after 1 attempts in 0.0s" in str(info.value)


def test_max_total_s_stops_growing_backoff_early() -> None:
    """Waits of 0.05 and 0.1 fit in 0.3 s; the next, 0.2, would end at 0.35."""
    inner = Flaky(forever=TransientError("503"))
    with pytest.raises(BackendError) as info:
        complete(retrying(inner, fast(initial_wait_s=0.05, max_total_s=0.3)))
    assert inner.calls == 3
    assert inner.time.sleeps == [0.05, 0.1]
    assert [a.wait_s for a in info.value.attempts] == [0.05, 0.1, 0.0]


def test_a_wait_that_would_end_exactly_at_max_total_s_is_not_waited() -> None:
    """Waits 0.25 then 0.5: the second would end at 0.75, the budget, so the call stops before it."""
    inner = Flaky(forever=TransientError("503"))
    with pytest.raises(BackendError) as info:
        complete(retrying(inner, fast(initial_wait_s=0.25, max_total_s=0.75)))
    assert inner.calls == 2
    assert inner.time.sleeps == [0.25]
    assert "gave up after 2 attempts" in str(info.value)


def test_time_spent_in_calls_counts_against_max_total_s() -> None:
    """With instant calls, waits of 0.5 and 1.0 fit in 2 s; with calls of 0.5 s, the second would end at 2.5."""
    instant = Flaky(forever=TransientError("503"))
    with pytest.raises(BackendError):
        complete(retrying(instant, fast(initial_wait_s=0.5, max_total_s=2.0)))
    assert (instant.calls, instant.time.sleeps) == (3, [0.5, 1.0])

    slow = Flaky(forever=TransientError("503"), call_s=0.5)
    with pytest.raises(BackendError) as info:
        complete(retrying(slow, fast(initial_wait_s=0.5, max_total_s=2.0)))
    assert (slow.calls, slow.time.sleeps, slow.call_times) == (2, [0.5], [0.0, 1.0])
    assert "gave up after 2 attempts in 1.5s" in str(info.value)


def test_permanent_error_fails_at_once_and_is_not_wrapped() -> None:
    boom = PermanentError("401 bad credentials")
    inner = Flaky(forever=boom)
    with pytest.raises(PermanentError) as info:
        complete(retrying(inner, fast()))
    assert info.value is boom
    assert inner.calls == 1
    assert info.value.attempts == []
    assert "gave up" not in str(info.value)


def test_permanent_error_after_transient_ones_carries_the_earlier_attempts() -> None:
    inner = Flaky([TransientError("503"), PermanentError("404 no such model")])
    with pytest.raises(PermanentError) as info:
        complete(retrying(inner, fast()))
    assert inner.calls == 2
    assert [(a.attempt, a.error) for a in info.value.attempts] == [(1, "503")]


def test_a_backend_bug_is_not_retried() -> None:
    inner = Flaky(forever=ZeroDivisionError("division by zero"))
    with pytest.raises(ZeroDivisionError):
        complete(retrying(inner, fast()))
    assert inner.calls == 1


def test_settings_record_the_policy() -> None:
    policy = fast(max_attempts=4)
    s = RetryingBackend(Flaky(), policy).settings()
    assert s["backend"] == "flaky"
    assert s["retry"] == policy.model_dump()


class FlakyMock(MockBackend):
    """A MockBackend whose n-th call (0-based) first fails ``fail[n]`` times with a TransientError.

    With ``die_from``, every call from that index on fails for good.
    """

    def __init__(self, outputs: list[str], fail: dict[int, int] | None = None, die_from: int | None = None):
        super().__init__(outputs)
        self.fail = dict(fail or {})
        self.die_from = die_from
        self.tries = 0

    async def complete(self, request: ChatRequest) -> Completion:
        self.tries += 1
        n = len(self.requests)
        if self.die_from is not None and n >= self.die_from:
            raise TransientError(f"503 on call {n}")
        if self.fail.get(n, 0) > 0:
            self.fail[n] -= 1
            raise TransientError(f"429 on call {n}", retry_after=0.01)
        return await super().complete(request)


def test_episode_with_a_flaky_backend_completes_and_logs_the_attempts(tmp_path) -> None:
    s = load_scenario(MUTUAL)
    flaky = FlakyMock(WINNING, fail={0: 2, 2: 1})
    ep = asyncio.run(run_episode(s, "agents", RetryingBackend(flaky, fast()), seed=0))
    clean = asyncio.run(run_episode(s, "agents", MockBackend(WINNING), seed=0))
    assert ep.outcome.ended_by == "committed"
    assert ep.outcome.success is True
    assert [m.content for m in ep.messages] == [m.content for m in clean.messages]
    assert flaky.tries == 6
    assert [[a.error for a in c.attempts] for c in ep.calls] == [
        ["429 on call 0", "429 on call 0"], [], ["429 on call 2"]]
    assert [a.attempt for a in ep.calls[0].attempts] == [1, 2]
    assert all(c.error is None for c in ep.calls)
    assert ep.backend["retry"]["max_attempts"] == 10
    back = load_episode(ep.save(tmp_path / "ep.json"))
    assert [len(c.attempts) for c in back.calls] == [2, 0, 1]


def test_episode_whose_backend_keeps_failing_ends_with_error_and_keeps_earlier_messages() -> None:
    s = load_scenario(MUTUAL)
    dying = FlakyMock(WINNING, die_from=2)
    ep: Episode = asyncio.run(run_episode(s, "agents", RetryingBackend(dying, fast(max_attempts=3)), seed=0))
    assert ep.outcome.ended_by == "error"
    assert ep.outcome.turns == 2
    assert [m.content for m in ep.messages] == [WINNING[0], "We both know Tess Moreau.\nSELECT: Tess Moreau"]
    assert len(ep.calls) == 3
    last = ep.calls[-1]
    assert last.output is None
    assert last.error is not None and "gave up after 3 attempts" in last.error and "503 on call 2" in last.error
    assert [a.attempt for a in last.attempts] == [1, 2, 3]
    assert all(c.error is None for c in ep.calls[:2])


def test_limited_backend_caps_concurrent_calls() -> None:
    class Slow(MockBackend):
        async def complete(self, request: ChatRequest) -> Completion:
            await asyncio.sleep(0.02)
            return await super().complete(request)

    limited = LimitedBackend(Slow(["x"]), 2)

    async def many() -> list[Completion]:
        return await asyncio.gather(*(limited.complete(REQ) for _ in range(6)))

    assert [c.text for c in asyncio.run(many())] == ["x"] * 6
    assert limited.peak == 2
    assert limited.in_flight == 0
    assert asyncio.run(many())  # a second event loop works too
    assert limited.settings() == {"backend": "mock", "max_concurrent": 2}
    with pytest.raises(ValueError, match="at least 1"):
        LimitedBackend(MockBackend(), 0)


def test_retry_wrapped_backend_is_still_a_backend() -> None:
    assert isinstance(RetryingBackend(Flaky()), backends.Backend)
