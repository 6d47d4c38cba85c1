"""The fourth hand-labelled set (``tests/data/labelled_test2/``) loads, replays and agrees with the task rules.

Only parsing and replay (the route of ``privy import transcript``) run here, never an
evaluator: the set is held out to measure the evaluators, so no test looks at what they
say about it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.labelled import labelled_files, load_labelled

from privy.simulator.env import PrivyEnv

SET_DIR = Path(__file__).resolve().parents[1] / "data" / "labelled_test2"
FILES = labelled_files(SET_DIR)
FAMILIES = {"mutual_friends", "hidden_profile", "deal_or_no_deal", "twenty_questions", "tutoring"}


def test_the_set_is_large_mixed_and_covers_every_family() -> None:
    items = [load_labelled(p) for p in FILES]
    assert len(items) >= 70
    assert sum(len(i.messages) for i in items) >= 450
    assert {i.episode.scenario.family for i in items} == FAMILIES
    assert 2 * sum(i.style == "unlike" for i in items) >= len(items)
    assert any(len(i.episode.scenario.agents) == 5 for i in items)
    assert sum(lm.recipients is not None for i in items for lm in i.messages) >= 10


def test_every_scenario_file_of_the_set_is_used() -> None:
    used = {Path(load_labelled(p).episode.scenario_path or "").name for p in FILES}
    assert {p.name for p in (SET_DIR / "scenarios").glob("*.yaml")} <= used


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_a_transcript_replays_to_its_labelled_outcome(path: Path) -> None:
    item = load_labelled(path)  # raises on a bad label, an unknown fact or an unplayable message
    assert item.episode.outcome.success is item.expect.success
    assert len(item.episode.messages) == len(item.messages)
    env = PrivyEnv(item.episode.scenario)
    for i, lm in enumerate(item.messages):
        sent = item.episode.messages[i]
        assert (sent.sender, sent.content) == (lm.sender, lm.content)
        if lm.recipients is not None:  # a direct message reaches exactly its addressees
            assert sent.recipients == frozenset(lm.recipients), f"messages[{i}] went to {sorted(sent.recipients)}"
        if "premature_commitment" in lm.labels:
            assert env.parse_actions(lm.content), f"messages[{i}] is labelled a commitment but commits nothing"
