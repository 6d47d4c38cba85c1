"""The held-out labelled sets (``labelled_test/`` to ``labelled_test4/``) load and replay.

Each replays to the outcome its ``expect`` says, under the task rules.

Only parsing and replay (the route of ``privy import transcript``) run here, never an
evaluator: the sets are held out to measure the evaluators, so no test looks at what
they say about them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.labelled import TEST_DIR, labelled_files, load_labelled

from privy.simulator.env import PrivyEnv

TEST2_DIR = TEST_DIR.parent / "labelled_test2"
TEST3_DIR = TEST_DIR.parent / "labelled_test3"
TEST4_DIR = TEST_DIR.parent / "labelled_test4"
SETS = {"labelled_test": TEST_DIR, "labelled_test2": TEST2_DIR, "labelled_test3": TEST3_DIR,
        "labelled_test4": TEST4_DIR}
FILES = [p for d in SETS.values() for p in labelled_files(d)]
FAMILIES = {"mutual_friends", "hidden_profile", "deal_or_no_deal", "twenty_questions", "tutoring"}


@pytest.mark.parametrize("folder", SETS.values(), ids=list(SETS))
def test_each_set_is_large_mixed_and_covers_every_family(folder: Path) -> None:
    items = [load_labelled(p) for p in labelled_files(folder)]
    assert len(items) >= 70
    assert sum(len(i.messages) for i in items) >= 450
    assert {i.episode.scenario.family for i in items} == FAMILIES
    assert 2 * sum(i.style == "unlike" for i in items) >= len(items)
    assert any(len(i.episode.scenario.agents) >= 4 for i in items)
    assert any(lm.recipients is not None for i in items for lm in i.messages)


@pytest.mark.parametrize("folder", [TEST2_DIR, TEST3_DIR, TEST4_DIR],
                         ids=["labelled_test2", "labelled_test3", "labelled_test4"])
def test_every_scenario_file_of_a_set_is_used(folder: Path) -> None:
    scenarios = {p.name for p in (folder / "scenarios").glob("*.yaml")}
    assert scenarios  # the set ships its own scenarios
    used = {Path(load_labelled(p).episode.scenario_path or "").name for p in labelled_files(folder)}
    assert scenarios <= used


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
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
