"""The tutoring family beyond the generic tests (tests/test_families.py): the correction
signal disappears with the gap (the symmetric control is never solved), evaluative and
directive feedback both succeed but directive needs fewer turns, impossible parameters
are refused clearly, and the committed examples are what the generator makes."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import SCENARIO_DIR, refusal, solve
from typer.testing import CliRunner

from privy.cli import app
from privy.scenarios import families
from privy.scenarios.families.tutoring import FAMILY, evaluate_working
from privy.simulator import Episode, load_scenario

N = 100
EXAMPLES = SCENARIO_DIR / "examples" / "tutoring"


def rate(episodes: list[Episode]) -> float:
    return sum(e.outcome.success for e in episodes) / len(episodes)


@pytest.mark.parametrize("feedback", ["evaluative", "directive"])
def test_the_correction_signal_disappears_with_the_gap(feedback: str) -> None:
    gap = [solve(s) for s in families.generate("tutoring", N, seed=11, values={"feedback": feedback})]
    control_scenarios = families.generate("tutoring", N, seed=11, values={"feedback": feedback, "asymmetry": False})
    control = [solve(s) for s in control_scenarios]
    print(f"\n{feedback} feedback, scripted baseline, {N} instances: success with the gap {rate(gap):.0%}, "
          f"symmetric control {rate(control):.0%}")
    assert rate(gap) == 1.0
    assert rate(control) == 0.0
    for s, ep in zip(control_scenarios, control, strict=True):
        FAMILY.check(s)
        assert "answer_key" not in {f.id for f in s.facts} and s.task.needed_facts == []
        assert ep.outcome.ended_by == "committed"  # the student answers; it is just wrong
        assert "cannot check" in ep.messages[1].content


def test_directive_feedback_needs_fewer_turns_than_evaluative() -> None:
    turns: dict[str, list[int]] = {}
    for feedback in ("evaluative", "directive"):
        episodes = [solve(s) for s in families.generate("tutoring", N, seed=12, values={"feedback": feedback})]
        assert rate(episodes) == 1.0, feedback
        turns[feedback] = [e.outcome.turns for e in episodes]
    ev, di = statistics.mean(turns["evaluative"]), statistics.mean(turns["directive"])
    print(f"\nturns to the right answer over {N} instances (candidates=4): evaluative mean {ev:.2f} "
          f"(min {min(turns['evaluative'])}, max {max(turns['evaluative'])}), directive mean {di:.2f}")
    assert di < ev
    assert set(turns["directive"]) == {3}
    assert max(turns["evaluative"]) <= 2 * 4 - 1


def test_evaluative_feedback_carries_no_fact_and_directive_feedback_does() -> None:
    """Evaluative replies never state the answer key; a directive correction does (the needed fact)."""
    for feedback, said in (("evaluative", False), ("directive", True)):
        for s in families.generate("tutoring", 20, seed=13, values={"feedback": feedback}):
            key = s.fact("answer_key")
            teacher_lines = [m.content for m in solve(s).messages if m.sender == "teacher"]
            assert any(key.mentioned_in(t) for t in teacher_lines) is said, (feedback, teacher_lines)
            assert not any(str(s.task.answer) in t for t in teacher_lines)


@pytest.mark.parametrize("params", [
    {"candidates": 2}, {"candidates": 8, "terms": 4}, {"terms": 0, "theme": "coins"}, {"theme": "market"},
    {"feedback": "directive", "max_turns": 3}, {"candidates": 3, "max_turns": 5},
])
def test_other_parameters_are_solved_too(params: dict[str, object]) -> None:
    scenarios = families.generate("tutoring", 30, seed=14, values=params)
    for s in scenarios:
        FAMILY.check(s)
        assert solve(s).outcome.success, (params, s.id)
        assert not solve(FAMILY.withhold(s)).outcome.success


@pytest.mark.parametrize(("params", "message"), [
    ({"candidates": 1}, "candidates: Input should be greater than or equal to 2"),
    ({"candidates": 9}, "candidates: Input should be less than or equal to 8"),
    ({"feedback": "socratic"}, "feedback: Input should be 'evaluative' or 'directive'"),
    ({"max_turns": 6}, "max_turns=6 is too few: evaluative feedback with candidates=4 may need 7 turns"),
    ({"feedback": "directive", "max_turns": 2}, "max_turns=2 is too few: directive feedback"),
    ({"terms": 5}, "terms: Input should be less than or equal to 4"),
    ({"tone": "kind"}, "tone: Extra inputs are not permitted"),
])
def test_impossible_parameters_are_refused_clearly(params: dict[str, object], message: str) -> None:
    assert message in refusal("tutoring", params)


def test_cli_generates_the_control_and_refuses_impossible_parameters(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["scenarios", "generate", "tutoring", "--count", "3", "--out", str(tmp_path),
                                 "-p", "asymmetry=false", "-p", "feedback=directive"], env={"COLUMNS": "2000"})
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.glob("*.yaml")) == [
        f"tutoring_directive_control_{i:04d}.yaml" for i in range(3)]
    result = runner.invoke(app, ["scenarios", "generate", "tutoring", "--out", str(tmp_path / "x"),
                                 "-p", "candidates=4", "-p", "max_turns=3"], env={"COLUMNS": "2000"})
    assert result.exit_code == 2
    assert "max_turns=3 is too few" in result.stderr and not (tmp_path / "x").exists()


def test_ground_truth_is_recomputed_from_the_student_working() -> None:
    assert evaluate_working("3 × p + 2 × 4 + 1 × 9", 5) == 32
    assert evaluate_working("7 × v", 11) == 77
    for s in families.generate("tutoring", 20, seed=15):
        key = s.fact("answer_key").text
        assert key.startswith(f"Answer key: {s.task.answer} ")


def test_policy_reads_only_its_own_view() -> None:
    """The teacher's reply does not change when the student's private facts change."""
    from privy.scenarios.families.base import PolicyInput
    from privy.simulator import Message
    from privy.simulator.views import PublicTask

    s = families.generate("tutoring", 1, seed=16)[0]
    proposal = Message(id=0, turn=0, sender="student", recipients=frozenset({"teacher"}), content="My answer is 1.")
    inp = PolicyInput(me="teacher", names={a.id: a.name for a in s.agents}, facts=s.facts_of("teacher"),
                      messages=[proposal], task=PublicTask.model_validate(s.task))
    assert FAMILY.policy(inp) == "That is wrong."
    right = proposal.model_copy(update={"content": f"My answer is {s.task.answer}."})
    assert FAMILY.policy(PolicyInput(**{**inp.__dict__, "messages": [right]})) == "That is right."
    no_key = [f for f in inp.facts if f.id != "answer_key"]
    assert "cannot check" in FAMILY.policy(PolicyInput(**{**inp.__dict__, "facts": no_key}))


EXAMPLE_PARAMS: dict[str, tuple[dict[str, Any], bool]] = {
    "tutoring_evaluative_gap_0000.yaml": ({"feedback": "evaluative"}, True),
    "tutoring_directive_gap_0000.yaml": ({"feedback": "directive"}, True),
    "tutoring_evaluative_control_0000.yaml": ({"feedback": "evaluative", "asymmetry": False}, False),
}


@pytest.mark.parametrize("name", sorted(EXAMPLE_PARAMS))
def test_examples_are_generated_instances(name: str) -> None:
    params, solved = EXAMPLE_PARAMS[name]
    path = EXAMPLES / name
    header = [line for line in path.read_text().splitlines() if line.startswith("# Generated by:")]
    assert header and "--seed 1" in header[0]
    s = load_scenario(path)
    assert s == families.generate("tutoring", 1, seed=1, values=params)[0]
    assert yaml.safe_load(path.read_text())["family"] == "tutoring"
    FAMILY.check(s)
    assert solve(s).outcome.success is solved
