"""Belief probes on the real model: the embedded llama backend and llama-cpp-python's OpenAI server."""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Iterator

import pytest
from helpers import logged_transcript, short
from helpers.servers import LlamaServer

from privy.simulator import Mode, run_episode
from privy.simulator.backends.base import ChatMessage, ChatRequest
from privy.simulator.backends.llama import LlamaBackend
from privy.simulator.backends.openai_compat import OpenAIBackend
from privy.simulator.probes import ProbeSettings

pytestmark = pytest.mark.llm
KEY_ENV = "PRIVY_TEST_PROBE_KEY"


@pytest.fixture(scope="module")
def llama() -> LlamaBackend:
    return LlamaBackend()


@pytest.mark.parametrize("mode", [Mode.AGENTS, Mode.OMNISCIENT])
def test_real_model_transcript_is_byte_identical_with_and_without_probes(mode: Mode, llama: LlamaBackend) -> None:
    s = short("hidden_profile.yaml", turns=4, tokens=24)
    plain = asyncio.run(run_episode(s, mode, llama, 5))
    probed = asyncio.run(run_episode(s, mode, llama, 5, probes=ProbeSettings(every=1, facts=1, final=True)))
    assert logged_transcript(plain) == logged_transcript(probed)
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


def test_questions_scored_together_agree_with_each_scored_alone(llama: LlamaBackend) -> None:
    """score_options_many: the shared prompt once, then each question with its options in one batch (two when
    they do not fit); a question's scores do not depend on the others asked with it."""
    from privy.simulator.probes import probe_request

    base = ChatRequest(messages=(ChatMessage(role="system", content="You are Ana, a careful hiring manager."),
                                 ChatMessage(role="user", content="Bo says: the sky was blue all day, and "
                                                                  "the sea was green.")), speaker="ana")
    many_names = [f"name {i}" for i in range(40)]  # more options than one batch's sequences
    questions = [("Which colour was the sky?", ["red", "blue", "green", "a very dark shade of grey"]),
                 ("Does Bo know the sea was green?", ["yes", "no"]),
                 ("Which name?", many_names),
                 ("Was it day or night?", ["day", "night"])]
    requests = [probe_request(base, q, o) for q, o in questions]
    alone = [asyncio.run(llama.score_options(r, o)) for r, (_, o) in zip(requests, questions, strict=True)]
    together = asyncio.run(llama.score_options_many(requests, [o for _, o in questions]))
    assert len(together) == len(questions)
    for a, t, (_, options) in zip(alone, together, questions, strict=True):
        assert len(t.logprobs) == len(options)
        assert math.fsum(math.exp(x) for x in t.logprobs) == pytest.approx(1.0)
        # batched otherwise than by score_options: close, not bit-identical
        assert max(abs(math.exp(x) - math.exp(y)) for x, y in zip(a.logprobs, t.logprobs, strict=True)) < 0.06
    backwards = asyncio.run(llama.score_options_many(requests[::-1], [o for _, o in questions][::-1]))
    assert [b.logprobs for b in backwards[::-1]] == [t.logprobs for t in together]  # asked with others or not
    assert asyncio.run(llama.score_options_many(requests[1:2], [questions[1][1]]))[0].logprobs == together[1].logprobs
    assert all(t.evaluated_tokens and t.prompt_tokens for t in together)
    # what the context holds afterwards is the shared prompt, in sequence 0 only: a turn after it is unchanged
    turn = ChatRequest(messages=base.messages, max_tokens=12, temperature=0.7, seed=3, speaker="ana")
    after = asyncio.run(llama.complete(turn)).text
    fresh = asyncio.run(LlamaBackend(prefix_reuse=False).complete(turn)).text
    assert after == fresh
