"""Every mode on the real embedded model (SmolLM2-135M-Instruct via llama.cpp).

What the small model says is whatever it says; the run, the log and the parsing are
what is tested. Turn and token limits are lowered from the files' values so that the
whole module takes about a minute on 2 cores.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from helpers import SCENARIO_DIR, short

from privy.simulator import Episode, Mode, Scenario, backends, load_episode, run_episode
from privy.simulator.backends.llama import LlamaBackend, default_model_path
from privy.simulator.modes import RUNNABLE

pytestmark = pytest.mark.llm

SCENARIOS = ["mutual_friends.yaml", "hidden_profile.yaml"]


@pytest.fixture(scope="module")
def llama() -> LlamaBackend:
    b = backends.create("llama")
    assert isinstance(b, LlamaBackend)
    return b


def run(s: Scenario, mode: Mode, backend: LlamaBackend, seed: int) -> Episode:
    return asyncio.run(run_episode(s, mode, backend, seed))


def test_default_model_ships_in_package() -> None:
    p = default_model_path()
    assert p.is_file() and p.suffix == ".gguf" and p.stat().st_size > 50_000_000


def test_weights_loaded_once_per_process(llama: LlamaBackend) -> None:
    again = backends.create("llama")
    assert isinstance(again, LlamaBackend)
    assert again._llm is llama._llm


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("mode", RUNNABLE)
def test_mode_completes_real_episode(
    name: str, mode: Mode, llama: LlamaBackend, tmp_path: Path
) -> None:
    s = short(SCENARIO_DIR / name)
    ep = run(s, mode, llama, seed=3)

    assert ep.outcome.ended_by in {"committed", "turn_limit", "script_exhausted"}
    assert all(c.error is None and c.output is not None for c in ep.calls)
    assert ep.backend["backend"] == "llama" and ep.backend["model"].endswith(".gguf")
    if mode is Mode.SCRIPT:
        # one generation; every played message is a line of it
        assert len(ep.calls) == 1
        assert all(m.content.split("\n")[0] in (ep.calls[0].output or "") for m in ep.messages)
    else:
        # one call per message, made for the agent whose turn it was
        assert len(ep.calls) == len(ep.messages) >= 1
        for call, msg in zip(ep.calls, ep.messages, strict=True):
            assert call.speaker == msg.sender and call.turn == msg.turn
            assert call.input[0].role == "system" and call.completion_tokens
    assert ep.outcome.turns == len(ep.messages) <= s.limits.max_turns
    # commitments parsed from the messages agree with the outcome
    for agent, value in ep.outcome.commitments.items():
        said = [a.value for m in ep.messages if m.sender == agent for a in m.actions]
        assert said and said[-1] == value

    path = ep.save(tmp_path / "ep.json")
    assert load_episode(path) == ep


@pytest.mark.parametrize("mode", [Mode.AGENTS, Mode.SCRIPT])
def test_same_seed_same_episode(mode: Mode, llama: LlamaBackend) -> None:
    s = short(SCENARIO_DIR / "mutual_friends.yaml")
    a, b = run(s, mode, llama, seed=11), run(s, mode, llama, seed=11)
    other = run(s, mode, llama, seed=12)

    assert [c.output for c in a.calls] == [c.output for c in b.calls]
    assert [m.model_dump() for m in a.messages] == [m.model_dump() for m in b.messages]
    assert a.outcome == b.outcome
    assert [c.output for c in other.calls] != [c.output for c in a.calls]


def test_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(backends.BackendError, match="model file not found: .*nope.gguf"):
        backends.create("llama", model=tmp_path / "nope.gguf")


def test_cli_run_on_embedded_model(tmp_path: Path) -> None:
    """`privy run` with the default backend, end to end (the shortest example file)."""
    from typer.testing import CliRunner

    from privy.cli import app

    s = short(SCENARIO_DIR / "mutual_friends.yaml", turns=2)
    src = tmp_path / "s.yaml"
    import yaml

    src.write_text(yaml.safe_dump(s.model_dump(mode="json", exclude_defaults=False)))
    out = tmp_path / "ep.json"
    result = CliRunner().invoke(app, ["run", str(src), "--mode", "agents", "--seed", "5",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    ep = load_episode(out)
    assert ep.backend["backend"] == "llama" and len(ep.messages) == 2
    assert "Alice" in result.output and f"episode written to {out}" in result.output


def test_kv_slots_reuse_each_agents_prompt_prefix() -> None:
    """With a context per agent, each prompt's blocks that extend the agent's previous prompt are reused."""
    s = short(SCENARIO_DIR / "mutual_friends.yaml")
    # unconstrained: under the move grammar the small model commits at once (2 calls), too short to test reuse
    plain = LlamaBackend(constrained=False, prefix_reuse=False)
    slotted = LlamaBackend(kv_slots=2, constrained=False, prefix_block=16)
    try:
        run(s, Mode.AGENTS, plain, seed=3)
        b = run(s, Mode.AGENTS, slotted, seed=3)
        assert len(b.calls) >= 4 and all(c.error is None for c in b.calls)
        sent = [c.prompt_tokens or 0 for c in b.calls]
        assert slotted.prompt_tokens_sent == sum(sent)
        # every call but each agent's first evaluates only what its previous prompt lacked (and a block)
        assert slotted.prompt_tokens_evaluated < sum(sent) - 0.7 * (sent[0] + sent[1]), (
            slotted.prompt_tokens_evaluated, sent)
        assert plain.prompt_tokens_evaluated == plain.prompt_tokens_sent  # no reuse: everything, every call
        assert len(slotted._slots) == 2 and set(slotted._slots) == set(s.agent_ids)
        assert slotted.settings()["kv_slots"] == 2 and "kv_slots" not in plain.settings()
    finally:
        slotted.close()


def test_kv_slots_evict_the_least_recently_used_agent() -> None:
    from privy.simulator.backends.base import ChatMessage, ChatRequest

    b = LlamaBackend(kv_slots=1)
    try:
        for who in ("alice", "bob", "alice"):
            req = ChatRequest(messages=[ChatMessage(role="user", content=f"Hi, I am {who}.")], max_tokens=4,
                              speaker=who, seed=0)
            asyncio.run(b.complete(req))
            assert list(b._slots) == [who]
    finally:
        b.close()
    # more concurrent speakers than slots: evictions while other calls run, no call lost
    b = LlamaBackend(kv_slots=1)

    async def many() -> list[str]:
        reqs = [ChatRequest(messages=[ChatMessage(role="user", content=f"Say a word, {who}.")], max_tokens=3,
                            speaker=who, seed=i) for i, who in enumerate(["ann", "ben", "cat", "ann", "ben", "cat"])]
        return [c.text for c in await asyncio.gather(*(b.complete(r) for r in reqs))]

    try:
        assert len(asyncio.run(many())) == 6
        assert len(b._slots) == 1
    finally:
        b.close()
    with pytest.raises(backends.BackendError, match="kv_slots must be 0 or more"):
        LlamaBackend(kv_slots=-1)
