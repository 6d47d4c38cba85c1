"""The ``openai`` backend against real servers on 127.0.0.1.

llama-cpp-python's OpenAI-compatible server serves the embedded SmolLM2 model with an
API key; a fault-injecting proxy in front of it returns 429/500/503, stalls, cuts
connections and sends garbage, and the episodes must still complete with every retry
in the log.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import SCENARIO_DIR, short
from helpers.servers import FaultProxy, LlamaServer
from typer.testing import CliRunner

from privy.cli import app
from privy.simulator import Episode, Mode, Scenario, backends, load_episode, run_episode
from privy.simulator.backends import BackendSpec, build
from privy.simulator.backends.retry import RetryPolicy
from privy.simulator.modes import RUNNABLE

pytestmark = pytest.mark.llm

KEY_ENV = "PRIVY_TEST_API_KEY"
PLANTED = "sk-privy-PLANTED-3f9c1e7a-do-not-leak"
FAST_RETRY = RetryPolicy(max_attempts=8, initial_wait_s=0.05, max_wait_s=0.5, jitter_s=0.05)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    os.environ[KEY_ENV] = PLANTED
    with LlamaServer(PLANTED, tmp_path_factory.mktemp("server") / "server.log") as s:
        yield s
    os.environ.pop(KEY_ENV, None)


@pytest.fixture
def scenario() -> Scenario:
    return short("mutual_friends.yaml", turns=4, tokens=32)


def openai_spec(base_url: str, **kw: object) -> BackendSpec:
    options = {"model": "smollm2", "base_url": base_url, "api_key_env": KEY_ENV, "timeout_s": 120.0}
    return BackendSpec(name="openai", options=options, **kw)  # type: ignore[arg-type]


def run(s: Scenario, backend: backends.Backend, mode: Mode = Mode.AGENTS, seed: int = 0) -> Episode:
    return asyncio.run(run_episode(s, mode, backend, seed))


def test_full_episodes_in_every_mode(server: LlamaServer, scenario: Scenario) -> None:
    b = build(openai_spec(server.base_url))
    for mode in RUNNABLE:
        ep = run(scenario, b, mode)
        assert ep.outcome.ended_by != "error", [c.error for c in ep.calls]
        assert ep.calls and all(c.output is not None and c.error is None for c in ep.calls)
        assert all(c.prompt_tokens and c.completion_tokens for c in ep.calls)
        assert ep.backend["backend"] == "openai" and ep.backend["base_url"] == server.base_url
        assert ep.backend["api_key_env"] == KEY_ENV
        if mode is not Mode.SCRIPT:
            assert len(ep.messages) == len(ep.calls) == scenario.limits.max_turns or ep.outcome.ended_by == "committed"


def test_two_agents_on_two_different_backends(server: LlamaServer, scenario: Scenario) -> None:
    remote = build(openai_spec(server.base_url))
    local = backends.create("llama")
    ep = asyncio.run(run_episode(scenario, Mode.AGENTS, remote, 0, agent_backends={"bob": local}))
    assert ep.backend["backend"] == "openai"
    assert ep.backend["per_agent"]["bob"]["backend"] == "llama"
    assert len(ep.calls) >= 2 and all(c.error is None for c in ep.calls)


def test_faults_are_retried_and_logged(server: LlamaServer, scenario: Scenario) -> None:
    """Each request the proxy served is, in order, a logged attempt with its fault's error or a completion.

    A real generation slower than the timeout (2 busy cores) is one more attempt, a timeout,
    which the proxy's log shows (the client had hung up); its fault, if any, is served again.
    """
    faults = ["429", "500", "503", "stall", "cut", "garbage", "badbytes"]
    errors = {"429": "HTTP 429", "500": "HTTP 500", "503": "HTTP 503", "stall": "no answer within 20.0s",
              "cut": "connection failed", "garbage": "unparsable", "badbytes": "unparsable"}
    # the timeout leaves room for a real generation; the stall outlasts it
    retry = FAST_RETRY.model_copy(update={"max_attempts": 16})  # room for slow generations too
    with FaultProxy(server.base_url, faults, stall_s=22.0, retry_after=1.0) as proxy:
        spec = openai_spec(proxy.base_url, retry=retry)
        spec.options["timeout_s"] = 20.0
        ep = run(scenario, build(spec))

    assert ep.outcome.ended_by in {"committed", "turn_limit"}, [c.error for c in ep.calls]
    assert all(c.error is None for c in ep.calls)
    # what each request got, in order: a failed attempt, or its call's completion (None)
    got = [x for c in ep.calls for x in [*c.attempts, None]]
    assert len(got) == len(proxy.log) == proxy.requests, (proxy.log, got)
    for served, attempt in zip(proxy.log, got, strict=True):
        if served.client_gone:  # forwarded, and upstream answered after the timeout
            assert attempt is not None and "no answer within 20.0s" in attempt.error, (served, attempt)
        elif served.fault == "ok":
            assert attempt is None, (served, attempt)
        else:
            assert attempt is not None and errors[served.fault] in attempt.error, (served, attempt)
        if attempt is not None and served.fault == "429":
            assert attempt.wait_s >= 1.0  # Retry-After honoured
        elif attempt is not None:
            assert attempt.wait_s < 1.0
    # every fault reached the client, in order, and was retried
    assert [s.fault for s in proxy.log if s.fault != "ok" and not s.client_gone] == faults


def test_malformed_but_valid_replies_are_noted_and_the_episode_goes_on(
    server: LlamaServer, scenario: Scenario
) -> None:
    with FaultProxy(server.base_url, ["empty", "long", "surrogate"]) as proxy:
        ep = run(scenario, build(openai_spec(proxy.base_url, retry=FAST_RETRY)))
    notes = [c.notes for c in ep.calls[:3]]
    assert notes[0] == ["empty output"]
    assert "far longer than max_tokens=32" in notes[1][0] and len(ep.calls[1].output or "") == 512
    assert "invalid Unicode" in notes[2][0] and ep.calls[2].output == "hello ?"
    assert len(ep.messages) == scenario.limits.max_turns or ep.outcome.ended_by == "committed"


def test_401_fails_at_once_with_a_clear_message(server: LlamaServer, scenario: Scenario,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRIVY_WRONG_KEY", "sk-wrong")
    with FaultProxy(server.base_url) as proxy:
        spec = openai_spec(proxy.base_url, retry=FAST_RETRY)
        spec.options["api_key_env"] = "PRIVY_WRONG_KEY"
        ep = run(scenario, build(spec))
    assert proxy.requests == 1  # no retry
    assert ep.outcome.ended_by == "error" and ep.messages == []
    (call,) = ep.calls
    assert call.error is not None and call.error.startswith(f"HTTP 401 from {proxy.base_url}")
    assert call.attempts == []


def test_missing_key_variable_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRIVY_NO_SUCH_KEY", raising=False)
    with pytest.raises(backends.BackendError, match=r"\$PRIVY_NO_SUCH_KEY, which is not set"):
        backends.create("openai", model="x", base_url="http://127.0.0.1:9/v1", api_key_env="PRIVY_NO_SUCH_KEY")


def test_cache_turns_a_rerun_into_zero_model_calls(
    server: LlamaServer, scenario: Scenario, tmp_path: Path
) -> None:
    cache = tmp_path / "cache.db"
    with FaultProxy(server.base_url) as proxy:
        first = run(scenario, build(openai_spec(proxy.base_url, cache=cache)), seed=4)
        calls_first = proxy.requests
        second = run(scenario, build(openai_spec(proxy.base_url, cache=cache)), seed=4)
    assert calls_first == len(first.calls) > 0
    assert proxy.requests == calls_first  # the rerun sent nothing
    assert all(c.cached for c in second.calls) and not any(c.cached for c in first.calls)
    assert [m.model_dump() for m in second.messages] == [m.model_dump() for m in first.messages]
    assert second.outcome == first.outcome


def test_concurrency_limit_holds_across_episodes(server: LlamaServer, scenario: Scenario) -> None:
    s = scenario.model_copy(update={"limits": scenario.limits.model_copy(update={"max_turns": 2})})
    with FaultProxy(server.base_url, delay_s=0.3) as proxy:
        shared = build(openai_spec(proxy.base_url, max_concurrent=2))

        async def many() -> list[Episode]:
            return await asyncio.gather(*(run_episode(s, Mode.AGENTS, shared, seed) for seed in range(6)))

        episodes = asyncio.run(many())
    assert all(len(e.messages) == 2 for e in episodes)
    assert proxy.requests == 12
    assert proxy.peak == 2  # never more than the limit, and the limit was reached


def test_planted_key_never_reaches_a_file_or_the_terminal(
    server: LlamaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    scenario_file = SCENARIO_DIR / "mutual_friends.yaml"
    outputs = []
    with FaultProxy(server.base_url, ["429", "500"]) as proxy:
        common = ["--backend", "openai", "--model", "smollm2", "--base-url", proxy.base_url,
                  "--api-key-env", KEY_ENV, "--cache", str(tmp_path / "cache.db"),
                  "--opt", "timeout_s=30"]
        r = CliRunner().invoke(app, ["run", str(scenario_file), "--out", str(tmp_path / "ok.json"), *common],
                               env={"COLUMNS": "200"})
        outputs.append(r.output)
        assert r.exit_code == 0, r.output
        # a server that echoes the key back in its 401 error body
        proxy.push("401echo")
        r = CliRunner().invoke(app, ["run", str(scenario_file), "--seed", "9",
                                     "--out", str(tmp_path / "fail.json"), *common], env={"COLUMNS": "200"})
        outputs.append(r.output)
    failed = load_episode(tmp_path / "fail.json")
    assert failed.calls[-1].error is not None and "[REDACTED]" in failed.calls[-1].error
    assert load_episode(tmp_path / "ok.json").calls[0].attempts  # the retries were logged
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {"ok.json", "fail.json", "cache.db"}
    for p in written:
        assert PLANTED.encode() not in p.read_bytes(), p
    for text in outputs:
        assert PLANTED not in text


def test_json_schema_response_format_is_sent_and_obeyed(server: LlamaServer) -> None:
    """llama.cpp's server takes the schema in a `json_object` response format."""
    import json

    from privy.simulator.backends import ChatMessage, ChatRequest

    schema = {"type": "object", "properties": {"choice": {"type": "string", "enum": ["Avery", "Blake"]}},
              "required": ["choice"]}
    b = backends.create("openai", model="smollm2", base_url=server.base_url, api_key_env=KEY_ENV,
                        response_format={"type": "json_object", "schema": schema})
    req = ChatRequest(messages=(ChatMessage(role="user", content="Pick Avery or Blake, as JSON."),),
                      max_tokens=40, seed=1)
    out = asyncio.run(b.complete(req))
    assert json.loads(out.text)["choice"] in {"Avery", "Blake"}
    assert b.settings()["response_format"]["schema"] == schema
