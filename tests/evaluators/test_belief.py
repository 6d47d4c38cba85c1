"""The belief evaluator on hand-made probes, against numbers worked out by hand."""

from __future__ import annotations

import asyncio
import math

import pytest
from helpers import SCENARIO_DIR

from privy.evaluators import create
from privy.evaluators.belief import credits, trajectory
from privy.simulator import load_scenario
from privy.simulator.backends.mock import MockBackend
from privy.simulator.episode import Episode
from privy.simulator.modes import Mode
from privy.simulator.probes import Probe
from privy.simulator.runner import run_episode

LINES = ["I know Maya Chen and Tess Moreau.", "Tess Moreau is on my list too.", "SELECT: Tess Moreau"]
ALICE = ["Maya Chen", "Omar Haddad", "Lena Park", "Ravi Singh", "Tess Moreau"]
BOB = ["Tess Moreau", "Ivan Petrov", "Sofia Rossi", "Kenji Ito", "Nora Walsh"]


def _belief(turn: int, agent: str, options: list[str], truth: int, probs: list[float],
            final: bool = False) -> Probe:
    return Probe(turn=turn, agent=agent, kind="belief", question="?", hypotheses=options, truth=truth,
                 logprobs=[math.log(p) for p in probs], method="hand", final=final, latency_s=0.0)


def _knows(turn: int, agent: str, about: str, fact_id: str, yes: float) -> Probe:
    return Probe(turn=turn, agent=agent, kind="knowledge", question="?", hypotheses=["yes", "no"], about=about,
                 fact_id=fact_id, logprobs=[math.log(yes), math.log(1 - yes)], method="hand", latency_s=0.0)


@pytest.fixture
def episode() -> Episode:
    s = load_scenario(SCENARIO_DIR / "mutual_friends.yaml")
    ep = asyncio.run(run_episode(s, Mode.AGENTS, MockBackend(LINES), 0))
    # alice t0, bob t1, alice t2 (SELECT), bob t3 (SELECT, the mock repeats its last line)
    assert [(m.turn, m.sender) for m in ep.messages] == [(0, "alice"), (1, "bob"), (2, "alice"), (3, "bob")]
    probes = [
        _belief(0, "alice", ALICE, 4, [0.2] * 5),
        _belief(2, "alice", ALICE, 4, [0.1, 0.1, 0.1, 0.1, 0.6]),
        _belief(1, "bob", BOB, 0, [0.5, 0.125, 0.125, 0.125, 0.125]),
        _belief(4, "bob", BOB, 0, [0.9, 0.025, 0.025, 0.025, 0.025], final=True),
        _knows(1, "bob", "alice", "b_tess", 0.8),   # alice holds a fact of the same text: yes; a hit
        _knows(0, "alice", "bob", "a_maya", 0.3),   # nobody told bob about Maya yet: no; a hit
        _knows(2, "alice", "bob", "a_maya", 0.4),   # alice's turn-0 message named her to bob: yes; a miss
    ]
    return ep.model_copy(update={"probes": probes})


def test_delta_belief_is_credited_to_the_message_that_arrived_in_between(episode: Episode) -> None:
    got = {(c.message_id, c.agent): c.delta for c in credits(episode)}
    # alice: bob's message 1 arrived between her probes at turns 0 and 2: ln(0.6/0.2) = ln 3
    # bob: alice's message 2 (not his own message 3) between turns 1 and 4: ln(0.9/0.5)
    assert got == pytest.approx({(1, "alice"): math.log(3), (2, "bob"): math.log(1.8)})


def test_metrics_match_the_hand_computed_numbers(episode: Episode) -> None:
    score = asyncio.run(create("belief").evaluate(episode))
    m = score.metrics
    assert score.value == pytest.approx(0.75)  # (0.6 + 0.9) / 2
    assert m["belief_truth_first"] == pytest.approx(0.35)  # (0.2 + 0.5) / 2
    assert m["delta_belief_mean"] == pytest.approx((1.0986123 + 0.5877867) / 2)
    # information gain: alice ln 5 - (0.4 ln 10 + 0.6 ln(1/0.6)) = 1.6094379 - 1.2275294;
    # bob: H(0.5, 4 x 0.125) = 0.5 ln 2 + 0.5 ln 8 = 1.3862944,
    # H(0.9, 4 x 0.025) = 0.9 ln(1/0.9) + 0.1 ln 40 = 0.0948245 + 0.3688879 = 0.4637124
    assert m["info_gain_mean"] == pytest.approx(((1.6094379 - 1.2275294) + (1.3862944 - 0.4637124)) / 2)
    # Brier: alice 4 x 0.01 + 0.4**2 = 0.2; bob 0.1**2 + 4 x 0.025**2 = 0.0125
    assert m["brier_final"] == pytest.approx((0.2 + 0.0125) / 2)
    assert m["attribution_accuracy"] == pytest.approx(2 / 3)
    assert m["attribution_brier"] == pytest.approx((0.2**2 + 0.3**2 + 0.6**2) / 3)
    assert m["belief_truth@0"] == pytest.approx(0.2) and m["belief_truth@4"] == pytest.approx(0.9)
    misses = [f for f in score.findings if f.kind == "misattribution"]
    assert len(misses) == 1 and misses[0].fact_id == "a_maya" and misses[0].agent == "alice"
    assert {f.message_id for f in score.findings if f.kind == "delta_belief"} == {1, 2}


def test_trajectory_is_the_mean_belief_in_the_truth_per_turn(episode: Episode) -> None:
    assert trajectory(episode) == pytest.approx({0: 0.2, 1: 0.5, 2: 0.6, 4: 0.9})


def test_two_messages_between_probes_share_the_change() -> None:
    s = load_scenario(SCENARIO_DIR / "hidden_profile.yaml")  # three agents: two messages reach ana between turns
    ep = asyncio.run(run_episode(s, Mode.AGENTS, MockBackend(["Hello."]), 0))
    opts = list(s.task.options)
    ep = ep.model_copy(update={"probes": [_belief(0, "ana", opts, 0, [0.25, 0.5, 0.25]),
                                          _belief(3, "ana", opts, 0, [0.5, 0.25, 0.25])]})
    got = credits(ep)
    assert len(got) == 2 and all(c.shared_by == 2 for c in got)
    assert [c.delta for c in got] == pytest.approx([math.log(2) / 2] * 2)


def test_no_probes_is_an_error_not_a_zero() -> None:
    s = load_scenario(SCENARIO_DIR / "mutual_friends.yaml")
    ep = asyncio.run(run_episode(s, Mode.AGENTS, MockBackend(LINES), 0))
    score = asyncio.run(create("belief").evaluate(ep))
    assert score.value is None and score.error is not None and "--probe-every" in score.error
