"""Constrained moves on the real embedded model (SmolLM2-135M-Instruct) and through llama-cpp-python's server.

What the model says is whatever it says; what is tested is that, under the grammar, every
turn parses into a legal move (no ``move:`` note), that script mode's one generation is
lines of the scenario's agents, and that turning the constraint off is recorded.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import short
from helpers.servers import LlamaServer

from privy.scenarios.families import generate
from privy.simulator import Episode, Mode, Scenario, backends, run_episode
from privy.simulator.backends.llama import LlamaBackend
from privy.simulator.backends.openai_compat import OpenAIBackend
from privy.simulator.modes import RUNNABLE

pytestmark = pytest.mark.llm


@pytest.fixture(scope="module")
def llama() -> LlamaBackend:
    b = backends.create("llama")
    assert isinstance(b, LlamaBackend) and b.constrained
    return b


def small(s: Scenario, turns: int = 4, tokens: int = 40) -> Scenario:
    return s.model_copy(update={"limits": s.limits.model_copy(update={"max_turns": turns, "max_tokens": tokens})})


def move_notes(ep: Episode) -> list[str]:
    return [n for c in ep.calls for n in c.notes if "move:" in n or n == "empty output"]


@pytest.mark.parametrize("mode", RUNNABLE)
@pytest.mark.parametrize("family", ["mutual_friends", "deal_or_no_deal"])
def test_every_turn_is_a_legal_move_in_every_mode(family: str, mode: Mode, llama: LlamaBackend) -> None:
    s = small(generate(family, 1, seed=5)[0])
    ep = asyncio.run(run_episode(s, mode, llama, seed=1))
    assert all(c.error is None for c in ep.calls)
    assert move_notes(ep) == []
    assert ep.backend["constrained"] is True
    # every committer had to commit by its last turn: the episode ends by commitment
    assert ep.outcome.ended_by == "committed"
    verb = s.task.commitment.verb
    for m in ep.messages:
        assert m.content.strip()
        if verb in m.content:
            assert m.actions, m.content  # a commitment the grammar allowed is one the environment reads


def test_script_mode_is_lines_of_the_scenarios_agents(llama: LlamaBackend) -> None:
    s = short("hidden_profile.yaml", turns=8, tokens=40)
    ep = asyncio.run(run_episode(s, "script", llama, seed=2))
    out = ep.calls[0].output or ""
    names = [a.name for a in s.agents]
    labelled = [line for line in out.splitlines() if not re.match(rf"^{s.task.commitment.verb}: ", line)]
    assert len(labelled) == s.limits.max_turns
    for i, line in enumerate(labelled):
        assert line.startswith(f"{names[i % len(names)]}: "), line
    assert move_notes(ep) == [] and ep.outcome.ended_by == "committed"


def test_constrained_false_is_recorded_and_lets_the_model_write_anything() -> None:
    free = backends.create("llama", constrained=False)
    assert isinstance(free, LlamaBackend) and free.settings()["constrained"] is False
    s = short("mutual_friends.yaml", turns=2, tokens=24)
    ep = asyncio.run(run_episode(s, "agents", free, seed=0))
    assert ep.backend["constrained"] is False and len(ep.calls) == 2


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    with LlamaServer("moves-test-key", tmp_path_factory.mktemp("server") / "server.log") as srv:
        yield srv


def test_openai_backend_passes_the_grammar_to_llama_cpp_server(server: LlamaServer, tmp_path: Path) -> None:
    os.environ["PRIVY_MOVES_KEY"] = server.api_key
    b = OpenAIBackend(model="smollm2", base_url=server.base_url, api_key_env="PRIVY_MOVES_KEY", timeout_s=120,
                      grammar=True)
    assert b.settings()["grammar"] is True
    s = small(generate("hidden_profile", 1, seed=5)[0], turns=6)
    ep = asyncio.run(run_episode(s, "agents", b, seed=1))
    assert all(c.error is None for c in ep.calls)
    assert move_notes(ep) == [] and ep.outcome.ended_by == "committed"
    assert "grammar" not in OpenAIBackend(model="x", base_url=server.base_url, api_key_env=None).settings()
