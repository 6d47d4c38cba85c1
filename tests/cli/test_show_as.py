"""`privy show EPISODE --as AGENT [--turn T]` prints only what AGENT had seen when turn T began.

Its own facts, persona and goal, the situation, the messages it sent or received before T
and, in agents mode, its prompt at T; never the outcome (the decision, success: the
future), the answer, or the text of a fact it neither held nor was told.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from helpers import SCENARIO_DIR
from typer.testing import CliRunner

from privy.cli import app
from privy.simulator import Episode, Mode, backends, load_scenario, run_episode
from privy.simulator.views import seen_by

EXAMPLES = sorted(SCENARIO_DIR.glob("*.yaml")) + sorted((SCENARIO_DIR / "examples").glob("*/*.yaml"))
OUTCOME = ("decision:", "success:", "ended by")


def show(path: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["show", str(path), *args], env={"COLUMNS": "2000"})
    assert result.exit_code == 0, result.output
    return result.stdout


def check_view(ep: Episode, agent: str, turn: int | None, text: str) -> None:
    s = ep.scenario
    obs = seen_by(s, ep.messages, agent, turn)
    told = "\n".join(m.content for m in obs.messages)
    # everything the agent may know: the public parts, its own role and facts, what it was told
    known = "\n".join([s.context, told, obs.agent.persona, obs.agent.goal, *obs.names.values(),
                       *(f.text for f in obs.facts), *s.task.options])
    where = f"{s.id} {ep.mode.value} --as {agent} --turn {turn}"
    for word in OUTCOME:
        assert word not in text, f"{where}: prints the outcome ({word!r})"
    for f in s.facts:
        if f.text not in known:
            assert f.text not in text, f"{where}: prints {f.id}, which it neither held nor was told"
    if s.task.answer is not None and s.task.answer not in known:
        assert s.task.answer not in text, f"{where}: prints the answer {s.task.answer!r}"
    for f in obs.facts:
        assert f.text in text, f"{where}: its own fact {f.id} is missing"


def scripted_episode(path: Path, mode: Mode, tmp: Path) -> tuple[Episode, Path]:
    ep = asyncio.run(run_episode(load_scenario(path), mode, backends.create("scripted"), 0))
    return ep, ep.save(tmp / f"{path.stem}.{mode.value}.json")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_as_agent_at_every_turn_shows_nothing_it_had_not_seen(path: Path, tmp_path: Path) -> None:
    ep, file = scripted_episode(path, Mode.AGENTS, tmp_path)
    assert "success:" in show(file)  # the whole episode, outcome included, without --as
    for agent in ep.scenario.agent_ids:
        for turn in [*range(ep.outcome.turns + 1), None]:
            text = show(file, "--as", agent, *([] if turn is None else ["--turn", str(turn)]))
            check_view(ep, agent, turn, text)
            for c in ep.calls:
                if c.turn == turn and c.speaker == agent:  # its exact prompt at T, not its reply
                    assert "\n".join(f"{m.role}: {m.content}" for m in c.input) in text
                    assert "output:" not in text


@pytest.mark.parametrize("mode", [Mode.MINDREADERS, Mode.OMNISCIENT])
def test_as_agent_in_a_mode_whose_writer_sees_everything_prints_no_prompt(mode: Mode, tmp_path: Path) -> None:
    """The writer of an agent's turn got every agent's facts: that input is not the agent's view."""
    for path in (SCENARIO_DIR / "hidden_profile.yaml", *sorted((SCENARIO_DIR / "examples" / "tutoring").glob("*"))):
        ep, file = scripted_episode(path, mode, tmp_path)
        for c in ep.calls:
            assert c.speaker is not None
            text = show(file, "--as", c.speaker, "--turn", str(c.turn))
            check_view(ep, c.speaker, c.turn, text)
            assert f"in {mode.value} mode the writer of" in text


def test_tutoring_student_never_sees_the_answer_key(tmp_path: Path) -> None:
    path = SCENARIO_DIR / "examples" / "tutoring" / "tutoring_directive_gap_0000.yaml"
    ep, file = scripted_episode(path, Mode.AGENTS, tmp_path)
    key = ep.scenario.fact("answer_key").text
    assert key in show(file, "--as", "teacher", "--turn", "1")
    for turn in range(ep.outcome.turns + 1):
        text = show(file, "--as", "student", "--turn", str(turn))
        assert key not in text and "answer_key" not in text and "success" not in text
