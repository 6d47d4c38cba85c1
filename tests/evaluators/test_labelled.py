"""Precision and recall of every deterministic evaluator on hand-labelled episodes.

The transcripts in ``tests/data/labelled/`` and ``tests/data/labelled_heldout/`` label
every message with the failures and grounding acts it contains (``[]``: clean), from the
definitions of ``tests/data/LABELLING.md``. Both are development sets: the evaluators
were generalised from those definitions while their disagreements were read (a fresh
test set is kept apart). On ``labelled/`` each evaluator must agree exactly on the
unambiguous labels; on ``labelled_heldout/`` each label has a bar, precision and recall
no higher than measured (:data:`DEV_BARS`), so that a change that loses ground fails;
``labelled_test/`` and ``labelled_test2/``, read since their blind scoring, have bars too
(:data:`SEEN_TEST_BARS`).
The figures are given by :func:`labelled.comparison_table` for the README.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
import yaml
from helpers import DATA
from helpers.labelled import (
    EPISODE_KINDS,
    EVALUATOR_OF,
    EVERY_SET,
    HELDOUT_DIR,
    LABELLED_DIR,
    LABELS,
    Case,
    Labelled,
    LabelledError,
    count,
    counts_table,
    disagreements,
    episode_cases,
    figures,
    labelled_files,
    load_all,
    load_labelled,
    main,
    markdown_table,
    message_cases,
    predicted_labels,
)

from privy.evaluators.base import Finding, Score
from privy.simulator import Episode
from privy.simulator.env import PrivyEnv

MIN_FILES = 20
MIN_POSITIVES = 5


@pytest.fixture(scope="module")
def items() -> list[Labelled]:
    return load_all()


@pytest.fixture(scope="module")
def cases(items: list[Labelled]) -> list[Case]:
    return message_cases(items)


def _disagreements(cases: list[Case], label: str) -> str:
    lines = []
    for c in cases:
        if label in c.ambiguous or (label in c.gold) == (label in c.predicted):
            continue
        what = "missed" if label in c.gold else "false alarm"
        lines.append(f"{c.where}: {what}: {c.content!r}")
        lines += [f"    {r}" for r in c.reasons if r.startswith(label)]
    return "\n".join(lines)


# --- the data set ---------------------------------------------------------------------

def test_at_least_twenty_labelled_episodes() -> None:
    assert len(labelled_files()) >= MIN_FILES


def test_every_file_labels_at_least_one_message(items: list[Labelled]) -> None:
    bare = [i.path.name for i in items if not any(m.labels for m in i.messages)]
    assert not bare, f"files with no labelled message: {bare}"


@pytest.mark.parametrize("label", LABELS)
def test_every_label_has_enough_unambiguous_examples(cases: list[Case], label: str) -> None:
    c = count(cases, label, include_ambiguous=False)
    assert c.positives >= MIN_POSITIVES, f"{label}: only {c.positives} unambiguous positive messages"
    negatives = sum(1 for x in cases if label not in x.gold and label not in x.ambiguous)
    assert negatives >= MIN_POSITIVES


def test_many_messages_are_labelled_clean(cases: list[Case]) -> None:
    clean = [c for c in cases if not c.gold and not c.ambiguous]
    assert len(clean) >= len(cases) // 4, f"only {len(clean)} of {len(cases)} messages are labelled clean"


@pytest.mark.parametrize("directory", [LABELLED_DIR, HELDOUT_DIR], ids=["labelled", "heldout"])
def test_ambiguity_is_rare_and_explained(directory: Path) -> None:
    """A message marked ambiguous says why in a YAML comment just above it; at most 10% are."""
    marked = total = 0
    for item in load_all(directory):
        text = item.path.read_text(encoding="utf-8")
        lines = text.splitlines()
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        assert isinstance(root, yaml.MappingNode)
        nodes = next(v for k, v in root.value if k.value == "messages").value
        for node, lm in zip(nodes, item.messages, strict=True):
            total += 1
            if lm.ambiguous_labels:
                marked += 1
                above = lines[node.start_mark.line - 1].strip()
                assert above.startswith("#"), f"{item.path.name}:{node.start_mark.line + 1}: no comment says why"
    assert marked <= total // 10, f"{marked} of {total} messages are marked ambiguous"


# --- the held-out set --------------------------------------------------------------------

HELDOUT_FILES = 60
HELDOUT_MESSAGES = 400
HELDOUT_POSITIVES = 15
FAMILIES = {"mutual_friends", "hidden_profile", "deal_or_no_deal", "tutoring", "twenty_questions"}


@pytest.fixture(scope="module")
def heldout() -> list[Labelled]:
    return load_all(HELDOUT_DIR)


def test_heldout_set_is_large_and_varied(heldout: list[Labelled]) -> None:
    assert len(heldout) >= HELDOUT_FILES
    assert sum(len(i.messages) for i in heldout) >= HELDOUT_MESSAGES
    assert {i.episode.scenario.family for i in heldout} >= FAMILIES
    unlike = [i for i in heldout if i.style == "unlike"]
    assert 2 * len(unlike) >= len(heldout)
    assert 2 * sum(len(i.messages) for i in unlike) >= sum(len(i.messages) for i in heldout)
    # the irregular shapes the unlike style stands for all occur
    assert any(m.recipients is not None for i in unlike for m in i.messages), "no direct message"
    assert any(len(i.episode.scenario.agents) >= 4 for i in unlike), "no committee of four or more"
    assert any(a.sender == b.sender for i in unlike for a, b in itertools.pairwise(i.messages)), "no double turn"
    assert any(re.search(rf"\S[^\S\n]*{i.episode.scenario.task.commitment.verb}:", m.content)
               for i in unlike for m in i.messages), "no commitment written inline, mid-line"
    assert not [i.path.name for i in heldout if i.path.name in {p.name for p in labelled_files()}]


@pytest.mark.parametrize("label", LABELS)
def test_heldout_every_label_has_positives_and_negatives(heldout: list[Labelled], label: str) -> None:
    cases = [c for item in heldout for c in _gold_cases(item)]
    positives = sum(label in c.gold and label not in c.ambiguous for c in cases)
    negatives = sum(label not in c.gold and label not in c.ambiguous for c in cases)
    assert positives >= HELDOUT_POSITIVES, f"{label}: only {positives} unambiguous positive messages"
    assert negatives >= positives


def _gold_cases(item: Labelled) -> list[Case]:
    """The labels alone, without running any evaluator."""
    return [Case(where=f"{item.path.name}:{i}", content=m.content, gold=set(m.labels), predicted=set(),
                 ambiguous=m.ambiguous_labels) for i, m in enumerate(item.messages)]


# Precision and recall reached on labelled_heldout/'s unambiguous items (floored to two
# decimals: no bar above what was measured). The goal is 0.95 on every label.
DEV_BARS = {
    "clairvoyance": (0.94, 0.94),  # 16/1/1: a leak by a detail in other words ("bikes" for cycling)
    "hallucinated_common_ground": (1.0, 1.0),  # 16/0/0 (third round: "we both know" a value never stated)
    "premature_commitment": (1.0, 1.0),
    "question": (0.99, 1.0),  # 110/1/0: "propose an answer whenever you're ready" (labelled_test: a request)
    "clarification": (1.0, 1.0),
    "acknowledgement": (0.94, 1.0),  # 54/3/0: "sounds fair", "works for me", "fine by me" + DEAL, labelled
    # confirmation here; LABELLING.md lists "sure", "sounds good" as acknowledgements
    # 30/5/34: this set labels every "yes" answering a yes/no question a confirmation; labelled_test
    # and LABELLING.md's definition (a confirmation is of a shared conclusion or decision) do not,
    # and the rules follow the latter (issue 16: "yes" read as a confirmation was a known fault)
    # 33/4/31 (fourth round, raised from 0.88 / 0.48: an acceptance that commits to an offer just heard,
    # "works for me. DEAL: ...")
    "confirmation": (0.89, 0.51),
    "success": (1.0, 1.0),
    "disclosure": (0.99, 0.99),  # 140/1/1
}


# labelled_test/ and labelled_test2/ were test sets, each scored once blind (README); both have
# since been read for the third round of rules, so they are development sets too, with bars at
# what the third round measured (floored; no bar above it) so that a change that loses ground fails.
# Fourth round: hallucinated common ground raised on labelled_test (0.85 -> 0.92 recall) and
# labelled_test2 (0.93 -> 1.0) by an attributed division of items that no one had proposed, and
# clarification on labelled_test (0.88 -> 0.94 recall) by a check of a name just heard by a detail;
# question on labelled_test2 (0.97 -> 0.99 recall) by the asker's bare fragment in a guessing game.
SEEN_TEST_BARS = {
    "labelled_test": {
        "clairvoyance": (0.93, 1.0), "hallucinated_common_ground": (0.92, 0.92),
        "premature_commitment": (0.89, 0.92), "question": (0.97, 1.0), "clarification": (1.0, 0.94),
        "acknowledgement": (0.95, 0.96), "confirmation": (0.94, 0.92), "success": (1.0, 1.0),
        "disclosure": (0.99, 0.97),
    },
    "labelled_test2": {
        "clairvoyance": (1.0, 0.84), "hallucinated_common_ground": (1.0, 1.0),
        "premature_commitment": (0.96, 1.0), "question": (0.99, 0.99), "clarification": (0.94, 0.84),
        "acknowledgement": (0.98, 0.87), "confirmation": (0.95, 0.92), "success": (1.0, 1.0),
        "disclosure": (1.0, 0.98),
    },
    # the fifth set, scored blind once with the third round's rules, then read for the fourth
    # round: bars at the fourth round's figures (floored)
    "labelled_test3": {
        "clairvoyance": (0.93, 0.65), "hallucinated_common_ground": (1.0, 0.63),
        "premature_commitment": (0.85, 0.94), "question": (0.98, 0.97), "clarification": (0.95, 0.75),
        "acknowledgement": (0.93, 0.55), "confirmation": (0.87, 0.52), "success": (1.0, 1.0),
        "disclosure": (0.99, 0.97),
    },
}


@pytest.mark.parametrize("folder", sorted(SEEN_TEST_BARS))
def test_seen_test_sets_reach_their_bars(folder: str) -> None:
    items = load_all(DATA / folder)
    failed = []
    for row in figures(items):
        bar_p, bar_r = SEEN_TEST_BARS[folder][row.label]
        c = row.clear
        assert c.precision is not None and c.recall is not None
        if c.precision < bar_p or c.recall < bar_r:
            failed.append(f"{row.label}: precision {c.precision:.3f} (bar {bar_p}), recall {c.recall:.3f} (bar {bar_r})"
                          + ("\n" + _disagreements(message_cases(items), row.label) if row.label in LABELS else ""))
    assert not failed, "\n".join(failed)


@pytest.mark.parametrize("label", [*LABELS, "success", "disclosure"])
def test_heldout_figures_reach_their_bars(heldout: list[Labelled], label: str) -> None:
    row = next(r for r in figures(heldout) if r.label == label)
    bar_p, bar_r = DEV_BARS[label]
    c = row.clear
    assert c.precision is not None and c.recall is not None
    assert (c.precision >= bar_p and c.recall >= bar_r), (
        f"{label}: precision {c.precision:.3f} (bar {bar_p}), recall {c.recall:.3f} (bar {bar_r})\n"
        + (_disagreements(message_cases(heldout), label) if label in LABELS else ""))


@pytest.mark.parametrize("style", [None, "unlike", "privy"])
def test_heldout_figures_are_computed(heldout: list[Labelled], style: str | None) -> None:
    """The table is computed and consistent with the labels (the bars are asserted above)."""
    items = [i for i in heldout if style is None or i.style == style]
    rows = figures(items)
    assert [r.label for r in rows] == [*LABELS, "success", "disclosure"]
    cases = message_cases(items)
    for r in rows[:len(LABELS)]:
        gold = sum(r.label in c.gold and r.label not in c.ambiguous for c in cases)
        assert r.clear.tp + r.clear.fn == gold
        assert r.clear.fp + r.clear.fn == len(disagreements(cases, r.label))
    table = counts_table(rows, "t")
    assert len([line for line in table.splitlines() if line.startswith("| ") and "---" not in line]) == 1 + len(rows)
    for item in items:
        for name, score in item.scores.items():
            assert score.error is None, f"{item.path.name}: {name}: {score.error}"
            for f in score.findings:
                assert f.kind in set(LABELS) | EPISODE_KINDS


def test_the_table_command_takes_a_folder_and_a_style() -> None:
    out = main([str(HELDOUT_DIR), "--style", "unlike", "--counts", "--misses", "2"])
    n = len([i for i in load_all(HELDOUT_DIR) if i.style == "unlike"])
    assert out.startswith(f"{n} episodes, ") and "`tests/data/labelled_heldout/` style unlike" in out
    assert "| label | positives | TP | FP | FN | precision | recall |" in out
    assert all(f"\n{label}:" in out for label in LABELS)
    default = main([])
    assert default.startswith(f"{len(labelled_files())} hand-labelled episodes") and "`tests/data/labelled/`" in default
    compare = main(["--compare"]).splitlines()
    assert "labelled/ (" in compare[0] and "labelled_heldout/ (" in compare[0] and "unlike privy (" in compare[0]
    assert len([line for line in compare if line.startswith("| ") and "---" not in line]) == 1 + len(LABELS) + 2
    every = main(["--every-set"]).splitlines()
    assert all(f"{d}/ (" in every[0] for d in EVERY_SET)
    assert len([line for line in every if line.startswith("| ") and "---" not in line]) == 1 + len(LABELS) + 2
    unlike = main(["--every-set", "--style", "unlike"]).splitlines()[0]
    assert "labelled_test3/, unlike (76 episodes" in unlike and "labelled/, unlike (0 episodes" in unlike


# --- the figures ----------------------------------------------------------------------

# labelled/ labels, like labelled_heldout/, a "yes" answering any yes/no question a confirmation
# and "Right." before a commitment a confirmation; the rules now read both as LABELLING.md
# defines the acts (see DEV_BARS): bars for those two labels, exact agreement for the others.
# Raised in the third round (issue 16): a bare "Right." or "yep." before a commitment to the value
# just heard is now a confirmation and not also an acknowledgement (23/1/0 and 12/1/17).
FIRST_SET_BARS = {"acknowledgement": (0.95, 1.0), "confirmation": (0.92, 0.41)}


@pytest.mark.parametrize("label", LABELS)
def test_precision_and_recall_are_one_on_unambiguous_messages(cases: list[Case], label: str) -> None:
    c = count(cases, label, include_ambiguous=False)
    if label in FIRST_SET_BARS:
        bar_p, bar_r = FIRST_SET_BARS[label]
        assert c.precision is not None and c.recall is not None
        assert c.precision >= bar_p and c.recall >= bar_r, _disagreements(cases, label)
        return
    assert (c.precision, c.recall) == (1.0, 1.0), (
        f"{EVALUATOR_OF[label]} / {label}: precision {c.precision}, recall {c.recall}\n"
        + _disagreements(cases, label)
    )


@pytest.mark.parametrize("label", ["success", "disclosure"])
def test_episode_level_evaluators_agree_with_the_labels(items: list[Labelled], label: str) -> None:
    episode = episode_cases(items)[label]
    c = count(episode, label, include_ambiguous=True)
    wrong = [f"{x.where}: labelled {sorted(x.gold)}, found {sorted(x.predicted)}"
             for x in episode if x.gold != x.predicted]
    assert (c.precision, c.recall) == (1.0, 1.0), "\n".join(wrong)
    assert c.positives and len(episode) > c.positives  # both classes occur


def test_print_figures(items: list[Labelled]) -> None:
    rows = figures(items)
    table = markdown_table(rows, len(items), sum(len(i.messages) for i in items))
    print("\n" + table)
    assert [r.label for r in rows] == [*LABELS, "success", "disclosure"]
    body = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(body) == 1 + len(rows)
    for r in rows:
        if r.label not in FIRST_SET_BARS:
            assert r.clear.precision == 1.0 and r.clear.recall == 1.0
        assert r.every.positives >= r.clear.positives


# --- findings map onto the labels ------------------------------------------------------

def test_every_finding_is_a_known_kind_at_a_real_message(items: list[Labelled]) -> None:
    for item in items:
        n = len(item.episode.messages)
        for name, score in item.scores.items():
            assert score.error is None, f"{item.path.name}: {name}: {score.error}"
            for f in score.findings:
                assert f.kind in set(LABELS) | EPISODE_KINDS, f"{name} reports an unmapped kind {f.kind!r}"
                if f.kind in LABELS:
                    assert EVALUATOR_OF[f.kind] == name
                    assert f.message_id is not None and 0 <= f.message_id < n


def test_scoring_counts_false_alarms_and_misses() -> None:
    scores = {"x": Score(evaluator="x", value=None, findings=[
        Finding(kind="question", message_id=0, reason="r"),
        Finding(kind="question", message_id=2, reason="r"),
        Finding(kind="commitment", message_id=1, reason="r"),
    ])}
    predicted = predicted_labels(scores, 3)
    assert predicted == [{"question"}, set(), {"question"}]
    golds = [{"question"}, {"question"}, set()]
    cases = [Case(where=str(i), content="", gold=g, predicted=p, ambiguous=frozenset())
             for i, (g, p) in enumerate(zip(golds, predicted, strict=True))]
    c = count(cases, "question", include_ambiguous=False)
    assert (c.tp, c.fp, c.fn, c.precision, c.recall) == (1, 1, 1, 0.5, 0.5)
    cases[2].ambiguous = frozenset({"question"})
    assert count(cases, "question", include_ambiguous=False).precision == 1.0
    assert count(cases, "question", include_ambiguous=True).precision == 0.5


# --- the episodes are real ones ----------------------------------------------------------

def test_episodes_are_real_simulator_episodes(items: list[Labelled]) -> None:
    for item in items:
        ep = item.episode
        assert Episode.model_validate_json(ep.model_dump_json()) == ep
        assert ep.backend == {"backend": "hand-written"} and ep.calls == []
        assert [m.id for m in ep.messages] == list(range(len(item.messages)))
        env = PrivyEnv(ep.scenario)
        for m, lm in zip(ep.messages, item.messages, strict=True):
            assert m.actions == env.parse_actions(m.content)
            expected = frozenset(lm.recipients) if lm.recipients is not None else env.action_space(m.sender).neighbours
            assert m.recipients == expected


def test_directed_messages_reach_only_their_recipients(items: list[Labelled]) -> None:
    by_name = {i.path.name: i.episode for i in items}
    relay = by_name["relay_guess.yaml"]
    assert [sorted(m.recipients) for m in relay.messages[:3]] == [["quin"], ["rae"], ["pia"]]
    side = by_name["hp_side_channel.yaml"]
    assert side.messages[0].recipients == frozenset({"ben"})


# --- the loader refuses transcripts the simulator could not have produced -------------

GOOD = """\
scenario: scenarios/mutual_friends.yaml
mode: agents
expect: {success: false, disclosed: []}
messages:
  - sender: alice
    content: "Hello."
    labels: []
"""


@pytest.mark.parametrize(("change", "error"), [
    (("sender: alice", "sender: zed"), "sender 'zed' is not an agent"),
    (("labels: []", "labels: [shouting]"), "labels"),
    (("    labels: []\n", ""), "labels"),
    (("labels: []", "labels: []\n    lables: [question]"), "lables"),
    (("disclosed: []", "disclosed: [a_maya]"), "not needed facts"),
    (('content: "Hello."', "recipients: [carol]\n    content: Hello."),
     "messages[0]: 'alice' may not send to ['carol']"),
    (('content: "Hello."', "recipients: []\n    content: Hello."), "may not send to []"),
    (("mode: agents", "mode: agents\nstyle: odd"), "style"),
])
def test_loader_refuses_bad_transcripts(tmp_path: Path, change: tuple[str, str], error: str) -> None:
    assert change[0] in GOOD
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace(change[0], change[1], 1))
    with pytest.raises(LabelledError) as err:
        load_labelled(path)
    assert error in str(err.value)


def test_loader_accepts_the_good_transcript(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    item = load_labelled(path)
    assert item.episode.outcome.ended_by == "transcript_end"
    assert [m.recipients for m in item.episode.messages] == [frozenset({"bob"})]


def test_loader_replays_irregular_transcripts(tmp_path: Path) -> None:
    """No round robin: Bob opens, speaks twice, an inline commitment and a message after the end are kept;
    the turn is the message's index and the outcome comes from the task rules."""
    path = tmp_path / "irregular.yaml"
    path.write_text(GOOD.replace("  - sender: alice\n    content: \"Hello.\"\n    labels: []\n", """\
  - sender: bob
    content: "hey, is Tess Moreau on ur list?"
    labels: [question]
  - sender: bob
    content: "she's the jazz one"
    labels: []
  - sender: alice
    content: "Yes! Agreed. SELECT: Tess Moreau"
    labels: [confirmation]
  - sender: alice
    content: "SELECT: Tess Moreau"
    labels: []
  - sender: bob
    content: "SELECT: Tess Moreau"
    labels: []
  - sender: bob
    content: "thx, bye"
    labels: [acknowledgement]
"""))
    item = load_labelled(path)
    ep = item.episode
    assert [(m.sender, m.turn) for m in ep.messages] == [
        ("bob", 0), ("bob", 1), ("alice", 2), ("alice", 3), ("bob", 4), ("bob", 5)]
    actions = [m.actions != () for m in ep.messages]
    assert actions[:2] + actions[3:] == [False, False, True, True, False]  # [2] is inline: the env's rule decides
    assert ep.outcome.ended_by == "committed" and ep.outcome.success
    assert ep.mode == "agents" and ep.id == "irregular" and ep.source is None
    assert item.style == "privy"


def test_loader_keeps_direct_messages_where_the_topology_allows(tmp_path: Path) -> None:
    path = tmp_path / "dm.yaml"
    path.write_text("""\
scenario: scenarios/hidden_profile.yaml
mode: agents
style: unlike
expect: {success: false, disclosed: []}
messages:
  - {sender: cleo, recipients: [ana], content: "psst ana, just between us", labels: []}
  - {sender: cleo, content: "hi all", labels: []}
""")
    item = load_labelled(path)
    assert [m.recipients for m in item.episode.messages] == [frozenset({"ana"}), frozenset({"ana", "ben"})]
    assert item.episode.outcome.ended_by == "transcript_end" and item.style == "unlike"
