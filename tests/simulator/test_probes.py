"""Belief probes: asked from the writer's own request, logged apart, never in any context."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from pathlib import Path

import pytest
from helpers import SCENARIO_DIR, logged_transcript

from privy.simulator import load_scenario
from privy.simulator.backends.base import ChatRequest
from privy.simulator.backends.mock import MockBackend
from privy.simulator.episode import Episode, load_episode
from privy.simulator.hypotheses import hypotheses_for
from privy.simulator.modes import RUNNABLE, Mode
from privy.simulator.probes import OptionScores, ProbeSettings, normalise, probe_line, scorer_of
from privy.simulator.runner import run_episode

EXAMPLES = Path(__file__).resolve().parents[2] / "scenarios" / "examples"
LINES = ["Hello, who is on your list?", "I know Tess Moreau and Maya Chen.", "SELECT: Tess Moreau"]


def _run(path: Path, mode: Mode, probes: ProbeSettings | None, seed: int = 3) -> tuple[Episode, MockBackend]:
    backend = MockBackend(LINES, beliefs=lambda req, opts: [float(i) for i in range(len(opts))])
    return asyncio.run(run_episode(load_scenario(path), mode, backend, seed, probes=probes)), backend


@pytest.mark.parametrize("mode", RUNNABLE)
def test_transcript_is_byte_identical_with_and_without_probes(mode: Mode) -> None:
    path = SCENARIO_DIR / "mutual_friends.yaml"
    plain, b0 = _run(path, mode, None)
    probed, b1 = _run(path, mode, ProbeSettings(every=1, facts=2, final=True))
    assert probed.probes and not plain.probes
    assert logged_transcript(plain) == logged_transcript(probed)
    assert [r.messages for r in b0.requests] == [r.messages for r in b1.requests]
    assert [r.seed for r in b0.requests] == [r.seed for r in b1.requests]
    # no probe question reached any model call's input
    assert not any("A quick check" in m.content for c in probed.calls for m in c.input)


def test_probe_prompt_is_the_turns_request_plus_one_question() -> None:
    ep, backend = _run(SCENARIO_DIR / "mutual_friends.yaml", Mode.AGENTS, ProbeSettings(every=1, facts=0))
    during = [p for p in ep.probes if not p.final]
    assert [p.turn for p in during] == [c.turn for c in ep.calls]
    for probe, call, req in zip(during, ep.calls, backend.probe_requests, strict=False):
        assert probe.agent == call.speaker == req.speaker
        assert list(req.messages[:-1]) == call.input  # the exact prompt the agent's model had
        assert req.messages[-1] == probe_line(probe.question, probe.hypotheses)


def test_probe_every_k_turns_and_final_probes_for_every_agent() -> None:
    ep, _ = _run(SCENARIO_DIR / "hidden_profile.yaml", Mode.AGENTS, ProbeSettings(every=2, facts=0, final=True))
    during = [p for p in ep.probes if not p.final]
    for agent in ep.scenario.agent_ids:  # each agent before its 1st, 3rd, 5th, ... turn
        own = [m.turn for m in ep.messages if m.sender == agent]
        assert own and [p.turn for p in during if p.agent == agent] == own[::2], agent
    final = [p for p in ep.probes if p.final]
    assert sorted(p.agent for p in final) == sorted(ep.scenario.agent_ids)
    assert all(p.turn == ep.outcome.turns for p in final)


def test_probes_round_trip_through_the_episode_file(tmp_path: Path) -> None:
    ep, _ = _run(SCENARIO_DIR / "mutual_friends.yaml", Mode.OMNISCIENT, ProbeSettings(every=1))
    back = load_episode(ep.save(tmp_path / "ep.json"))
    assert back.probes == ep.probes and back.probe_settings == ProbeSettings(every=1)
    p = back.probes[0]
    # the mock's scores 0, 1, 2, ... normalised
    assert p.logprobs == pytest.approx(normalise([float(i) for i in range(len(p.hypotheses))]))
    assert math.fsum(math.exp(x) for x in p.logprobs) == pytest.approx(1.0)


def test_knowledge_questions_name_only_the_probed_agents_own_facts() -> None:
    ep, backend = _run(SCENARIO_DIR / "mutual_friends.yaml", Mode.AGENTS, ProbeSettings(every=1, facts=3))
    s = ep.scenario
    assert any(p.kind == "knowledge" for p in ep.probes)
    for p in ep.probes:
        if p.kind == "knowledge":
            assert p.fact_id in {f.id for f in s.facts_of(p.agent)} and p.about != p.agent
            assert p.hypotheses == ["yes", "no"]
    for req in backend.probe_requests:  # agents mode: no other agent's private fact in any probe
        others = [f for f in s.facts if req.speaker not in f.holders
                  and not any(f.text == g.text for g in s.facts_of(req.speaker or ""))]
        text = req.prompt_text()
        assert not any(f.text in text for f in others)


def test_a_failing_scorer_is_recorded_and_the_episode_goes_on() -> None:
    def boom(req: ChatRequest, opts: list[str]) -> list[float]:
        raise RuntimeError("no logits")

    backend = MockBackend(LINES, beliefs=boom)
    ep = asyncio.run(run_episode(load_scenario(SCENARIO_DIR / "mutual_friends.yaml"), Mode.AGENTS, backend, 0,
                                 probes=ProbeSettings(every=1)))
    assert ep.messages and ep.probes
    assert all(p.logprobs is None and p.error == "RuntimeError: no logits" for p in ep.probes)


def test_a_backend_without_score_options_is_not_probed() -> None:
    class Plain:
        name = "plain"

        def settings(self) -> dict[str, str]:
            return {"backend": "plain"}

        async def complete(self, request: ChatRequest):  # type: ignore[no-untyped-def]
            return await MockBackend(LINES).complete(request)

    assert scorer_of(Plain()) is None
    ep = asyncio.run(run_episode(load_scenario(SCENARIO_DIR / "mutual_friends.yaml"), Mode.AGENTS, Plain(), 0,
                                 probes=ProbeSettings(every=1)))
    assert ep.probes == [] and ep.messages


def test_scorer_is_found_through_wrappers() -> None:
    from privy.simulator.backends.retry import RetryingBackend

    inner = MockBackend()
    assert scorer_of(RetryingBackend(inner)) == inner.score_options


def test_hypotheses_come_from_the_task() -> None:
    hp = load_scenario(SCENARIO_DIR / "hidden_profile.yaml")
    h = hypotheses_for(hp, "ana")
    assert h is not None and h.options == hp.task.options and h.options[h.truth or 0] == hp.task.answer
    mf = load_scenario(SCENARIO_DIR / "mutual_friends.yaml")
    h = hypotheses_for(mf, "alice")  # alice's own list: five names, the shared friend among them
    assert h is not None and h.options == ["Maya Chen", "Omar Haddad", "Lena Park", "Ravi Singh", "Tess Moreau"]
    assert h.truth == 4
    tq = load_scenario(EXAMPLES / "twenty_questions" / "twenty_questions_0000_3ec5bd9d.yaml")
    h = hypotheses_for(tq, "iris")
    assert h is not None and len(h.options) == 8 and h.options[h.truth or 0] == "sailboat"
    tut = load_scenario(EXAMPLES / "tutoring" / "tutoring_directive_gap_0000.yaml")
    assert hypotheses_for(tut, "student") is None  # no candidate set: not probed


def test_deal_hypotheses_are_splits_with_the_best_joint_one_true() -> None:
    s = load_scenario(EXAMPLES / "deal_or_no_deal" / "deal_or_no_deal_0000_ac4aeefb.yaml")
    # kira values only hats (5 each), iris pens (2) and cups (1): the best joint split is
    # kira takes both hats and nothing else (10 + 14 points)
    h = hypotheses_for(s, "kira")
    assert h is not None and h.truth is not None and h.options[h.truth] == "hat=2 pen=0 cup=0"
    assert len(h.options) <= 8 and h.options == sorted(h.options, key=lambda o: [int(x[-1]) for x in o.split()])
    h2 = hypotheses_for(s, "iris")
    assert h2 is not None and h2.truth is not None and h2.options[h2.truth] == "hat=0 pen=3 cup=4"


def test_final_probes_and_knowledge_questions_are_off_by_default() -> None:
    default = ProbeSettings(every=1)
    assert default.facts == 0 and not default.final
    ep, _ = _run(SCENARIO_DIR / "mutual_friends.yaml", Mode.AGENTS, default)
    assert ep.probes and not any(p.final for p in ep.probes) and {p.kind for p in ep.probes} == {"belief"}
    # every agent that speaks is probed, even with every=2 and two agents taking turns
    ep, _ = _run(SCENARIO_DIR / "mutual_friends.yaml", Mode.AGENTS, ProbeSettings(every=2))
    assert {p.agent for p in ep.probes} == {m.sender for m in ep.messages} == set(ep.scenario.agent_ids)


class _Many(MockBackend):
    """A mock that scores all of a probe's questions in one call, or fails as told."""

    def __init__(self, answer: str) -> None:
        super().__init__(["We should pick Dana."])
        self.answer = answer
        self.batches: list[int] = []

    async def score_options_many(self, requests: Sequence[ChatRequest],
                                 options: Sequence[Sequence[str]]) -> list[OptionScores]:
        self.batches.append(len(requests))
        if self.answer == "raise":
            raise RuntimeError("the batch broke")
        out = [OptionScores(logprobs=[0.0] * len(o), method="many") for o in options]
        return out[:-1] if self.answer == "short" else out


@pytest.mark.parametrize("answer", ["ok", "raise", "short"])
def test_a_backend_scoring_many_questions_gets_them_in_one_call(answer: str) -> None:
    s = load_scenario(SCENARIO_DIR / "hidden_profile.yaml")
    b = _Many(answer)
    ep = asyncio.run(run_episode(s, Mode.AGENTS, b, 0, probes=ProbeSettings(every=1, facts=1, final=False)))
    assert ep.probes and len(b.batches) == len({(p.turn, p.agent) for p in ep.probes})
    assert sum(b.batches) == len(ep.probes)  # every question went in a batch, none alone
    assert not b.probe_requests
    if answer == "ok":
        assert all(p.method == "many" and p.error is None for p in ep.probes)
    else:  # recorded, never raised; the episode went on
        assert all(p.logprobs is None and p.error for p in ep.probes)
        assert ("broke" if answer == "raise" else "answers for") in ep.probes[0].error
    assert len(ep.messages) == len(asyncio.run(run_episode(s, Mode.AGENTS, MockBackend(["We should pick Dana."]),
                                                           0)).messages)
