"""The grammar tested on the likeliest tokens first: the same tokens as llama.cpp's grammar sampler, on the model.

Every mode of three families, with the default (the 256 likeliest tokens first), in agents
mode also with the least the chain allows (the 40 likeliest: the whole vocabulary is tested
more often), and
with the grammar on the whole vocabulary at every token (``grammar_first=0``, as
llama-cpp-python does it); also greedy decoding and a JSON Schema's grammar.
"""

from __future__ import annotations

import asyncio

import pytest
from helpers import replies, three_families

from privy.simulator import Mode, run_episode
from privy.simulator.backends.base import ChatMessage, ChatRequest
from privy.simulator.backends.llama import LlamaBackend
from privy.simulator.backends.llama_grammar import counts
from privy.simulator.modes import RUNNABLE

pytestmark = pytest.mark.llm


SCENARIOS = three_families(tokens=40, deal_seed=2)


@pytest.fixture(scope="module")
def backends() -> tuple[LlamaBackend, LlamaBackend, LlamaBackend]:
    return LlamaBackend(), LlamaBackend(grammar_first=40), LlamaBackend(grammar_first=0)


@pytest.mark.parametrize("family", list(SCENARIOS))
@pytest.mark.parametrize("mode", RUNNABLE)
def test_the_same_transcripts_as_the_grammar_on_the_whole_vocabulary(
        family: str, mode: Mode, backends: tuple[LlamaBackend, ...]) -> None:
    default, least, whole = backends
    s = SCENARIOS[family]
    before = counts(default._llm).tokens, counts(default._llm).whole
    ref = asyncio.run(run_episode(s, mode, whole, 3))
    assert counts(default._llm).tokens == before[0]  # grammar_first=0: llama.cpp's own sampler
    got = asyncio.run(run_episode(s, mode, default, 3))
    assert replies(got) == replies(ref)
    if mode is Mode.AGENTS:  # the most turns under a grammar: the whole vocabulary tested most often
        assert replies(asyncio.run(run_episode(s, mode, least, 3))) == replies(ref)
    assert all(c.error is None for c in ref.calls)
    generated = sum(c.completion_tokens or 0 for c in got.calls)
    assert counts(default._llm).tokens - before[0] >= generated  # every generated token went through it


def test_both_ways_of_testing_were_used(backends: tuple[LlamaBackend, ...]) -> None:
    """Over the episodes above, some tokens were settled among the likeliest and some needed the whole vocabulary."""
    c = counts(backends[0]._llm)
    if c.tokens == 0:
        pytest.skip("runs after the episodes above")
    assert 0 < c.whole < c.tokens


@pytest.mark.parametrize("temperature", [0.0, 0.7, 1.5])
def test_greedy_and_hot_sampling_and_json_schema(temperature: float) -> None:
    schema = {"type": "object", "properties": {"choice": {"type": "string", "enum": ["north", "south", "east"]},
                                               "why": {"type": "string", "maxLength": 40}},
              "required": ["choice", "why"]}
    fmt = {"type": "json_object", "schema": schema}
    request = ChatRequest(messages=(ChatMessage(role="system", content="You answer in JSON."),
                                    ChatMessage(role="user", content="Which way to the sea, and why?")),
                          max_tokens=48, temperature=temperature, seed=11)
    outs = []
    for first in (256, 40, 0):
        b = LlamaBackend(response_format=fmt, grammar_first=first, prefix_reuse=False)
        outs.append([asyncio.run(b.complete(request.model_copy(update={"seed": seed}))).text for seed in range(4)])
    assert outs[0] == outs[2] and outs[1] == outs[2]
    assert all(o.lstrip().startswith("{") for o in outs[0])
