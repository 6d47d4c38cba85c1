"""``privy validate`` runs the family's ground-truth check on every file that names a family.

The simulator's checks (schema, ids, lines) cannot know what a family promises; the
scenarios layer's :func:`privy.scenarios.validate_files` adds each family's ``check`` (or
``check_file``), so that, e.g., a deal whose value fact contradicts ``deal.values`` is
refused before anything runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import ROOT, SCENARIO_DIR
from typer.testing import CliRunner

from privy import scenarios
from privy.cli import app
from privy.scenarios import families
from privy.scenarios.families.hidden_profile import FAMILY as HIDDEN_PROFILE
from privy.simulator.loader import Problem
from privy.simulator.loader import validate_files as validate_schema

DEAL = SCENARIO_DIR / "examples" / "deal_or_no_deal" / "deal_or_no_deal_0000_ac4aeefb.yaml"


def _contradicting_deal(tmp_path: Path) -> Path:
    text = DEAL.read_text()
    assert "Your values per item: hat=5 pen=0 cup=0 " in text  # kira's fact; deal.values agree
    path = tmp_path / "contradicting.yaml"
    path.write_text(text.replace("per item: hat=5 pen=0 cup=0 ", "per item: hat=1 pen=1 cup=1 "))
    return path


def test_a_value_fact_that_contradicts_the_deal_values_is_refused(tmp_path: Path) -> None:
    path = _contradicting_deal(tmp_path)
    assert validate_schema([path]) == []  # the schema alone cannot see it
    assert scenarios.validate_files([path]) == [
        Problem(str(path), 4, "family", "not a valid deal_or_no_deal instance: kira_values: states other values "
                "than {'hat': 5, 'pen': 0, 'cup': 0}")]


def test_cli_validate_runs_the_family_check(tmp_path: Path) -> None:
    path = _contradicting_deal(tmp_path)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{path}:4: family: not a valid deal_or_no_deal instance: kira_values: states other values than "
        "{'hat': 5, 'pen': 0, 'cup': 0}",
        "1 problem(s) in 1 file(s)",
    ]


def test_a_deal_file_with_an_order_bound_value_mention_is_refused(tmp_path: Path) -> None:
    """Files written before the mentions looked for each item on its own: regenerate them."""
    text = DEAL.read_text()
    old = (r"(?m)^(?![\s*]*DEAL[\s*]*:)[^\n]*?\bhats?\b[^\d\n]{0,20}?\b5\b(?!\.\d)[^\d\n]{0,40}?\bpens?\b"
           r"[^\d\n]{0,20}?\b0\b(?!\.\d)[^\d\n]{0,40}?\bcups?\b[^\d\n]{0,20}?\b0\b(?!\.\d)")
    lines = text.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("regex:"))
    lines[at] = f"    regex: '{old}'\n"
    path = tmp_path / "old.yaml"
    path.write_text("".join(lines))
    (problem,) = scenarios.validate_files([path])
    assert problem.field == "family" and "mention misses the values stated in another item order" in problem.message


@pytest.mark.parametrize("name", families.names())
def test_generated_files_of_every_family_pass(name: str, tmp_path: Path) -> None:
    families.write(families.generate(name, 20, seed=5), tmp_path)
    assert scenarios.validate_files([tmp_path]) == []


def test_every_scenario_file_in_the_repository_passes() -> None:
    assert scenarios.validate_files([SCENARIO_DIR]) == []


def test_a_hand_written_hidden_profile_is_checked_by_what_the_baseline_needs(tmp_path: Path) -> None:
    demo = SCENARIO_DIR / "hidden_profile.yaml"
    s = scenarios.check_file(demo).scenario
    assert s is not None
    with pytest.raises(AssertionError, match="is not a pro or con of an option"):
        HIDDEN_PROFILE.check(s)  # not written from the templates
    text = demo.read_text()
    assert "answer: Avery" in text
    path = tmp_path / "wrong_answer.yaml"
    path.write_text(text.replace("answer: Avery", "answer: Casey"))
    (problem,) = scenarios.validate_files([path])
    assert problem.field == "family" and problem.line == 8
    assert problem.message == ("not a valid hidden_profile instance: all facts favour 'Avery' (by the baseline's "
                               "word list), not 'Casey'")


def test_a_custom_family_has_no_family_check() -> None:
    relay = ROOT / "tests" / "data" / "labelled" / "scenarios" / "relay.yaml"
    assert scenarios.check_file(relay).scenario is not None
