"""Belief probes on the real model: the embedded llama backend and llama-cpp-python's OpenAI server."""

from __future__ import annotations

import asyncio
import json
import math
import os
from collections.abc import Iterator

import pytest
from helpers import short
from helpers.servers import LlamaServer

from privy.simulator import Mode, run_episode
from privy.simulator.backends.base import ChatMessage, ChatRequest
from privy.simulator.backends.llama import LlamaBackend
from privy.simulator.backends.openai_compat import OpenAIBackend
from privy.simulator.episode import Episode
from privy.simulator.probes import ProbeSettings

pytestmark = pytest.mark.llm
KEY_ENV = "PRIVY_TEST_PROBE_KEY"


@pytest.fixture(scope="module")
def llama() -> LlamaBackend:
    return LlamaBackend()


def _transcript(ep: Episode) -> str:
    data = json.loads(ep.to_json())
    return json.dumps({"messages": data["messages"], "calls": [
        {k: v for k, v in c.items() if k != "latency_s"} for c in data["calls"]]}, sort_keys=True)


@pytest.mark.parametrize("mode", [Mode.AGENTS, Mode.OMNISCIENT])
def test_real_model_transcript_is_byte_identical_with_and_without_probes(mode: Mode, llama: LlamaBackend) -> None:
    s = short("hidden_profile.yaml", turns=4, tokens=24)
    plain = asyncio.run(run_episode(s, mode, llama, 5))
    probed = asyncio.run(run_episode(s, mode, llama, 5, probes=ProbeSettings(every=1, facts=1)))
    assert _transcript(plain) == _transcript(probed)
    beliefs = [p for p in probed.probes if p.kind == "belief"]
    assert beliefs and all(p.method == "token_logprobs" and p.logprobs is not None for p in beliefs)
    for p in probed.probes:
        assert p.logprobs is not None and math.fsum(math.exp(x) for x in p.logprobs) == pytest.approx(1.0)


def test_scores_are_the_same_with_the_prompt_cached_and_from_scratch() -> None:
    llama = LlamaBackend(prefix_block=8)  # the prompt is shorter than the default block of 512
    req = ChatRequest(messages=(ChatMessage(role="system", content="You are Ana, a careful hiring manager."),
                                ChatMessage(role="user", content="Which colour is the sky on a clear day? "
                                                                 "Reply with exactly one of: red; blue; green")))
    llama._llm.reset()
    cold = asyncio.run(llama.score_options(req, ["red", "blue", "green"]))
    warm = asyncio.run(llama.score_options(req, ["red", "blue", "green"]))
    assert cold.evaluated_tokens is not None and warm.evaluated_tokens is not None
    assert warm.evaluated_tokens < cold.evaluated_tokens  # the prompt was evaluated once
    assert warm.logprobs == cold.logprobs  # whole blocks reused: the very same numbers
    assert max(range(3), key=lambda i: warm.logprobs[i]) == 1  # even SmolLM2-135M knows this one


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    os.environ[KEY_ENV] = "probe-key"
    with LlamaServer("probe-key", tmp_path_factory.mktemp("server") / "server.log") as s:
        yield s
    os.environ.pop(KEY_ENV, None)


def test_openai_backend_scores_from_logprobs_or_an_elicited_json(server: LlamaServer) -> None:
    b = OpenAIBackend(model="smollm2", base_url=server.base_url, api_key_env=KEY_ENV, timeout_s=120.0)
    req = ChatRequest(messages=(ChatMessage(role="user", content="Which colour is the sky on a clear day? "
                                                                 "Reply with exactly one of: red; blue; green"),))
    out = asyncio.run(b.score_options(req, ["red", "blue", "green"]))
    assert out.method in ("token_logprobs_first", "elicited_json", "elicited_json_unreadable")
    assert math.fsum(math.exp(x) for x in out.logprobs) == pytest.approx(1.0)
    # options that share their first token cannot be told apart by it: elicited instead
    same = asyncio.run(b.score_options(req, ["blue sky", "blue sea"]))
    assert same.method.startswith("elicited_json")
