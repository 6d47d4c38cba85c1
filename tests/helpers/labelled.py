"""Hand-labelled episodes: load ``tests/data/labelled/*.yaml`` into real Episodes and score evaluators.

One transcript per file::

    scenario: scenarios/mutual_friends.yaml   # path from the repository root
    mode: agents                              # agents | mindreaders | omniscient | script (a label)
    expect:                                   # episode-level labels
      success: true                           # is the outcome a success?
      disclosed: [a_tess, b_tess]             # needed facts that some message states
    messages:
      - sender: alice
        recipients: [bob]                     # optional; default: all the sender's neighbours
        content: "..."
        labels: [clairvoyance, question]      # required; [] means labelled clean
        ambiguous: [question]                 # optional: labels a careful human could argue
                                              # either way (true: all of them)

The messages are replayed as an imported transcript is (:func:`privy.simulator.transcript.replay`,
the route of ``privy import transcript``): in the file's order with no round robin (a
message's turn is its index, so someone may speak twice or stay silent), each to its
``recipients`` or else all the sender's neighbours, which the topology must allow (a
direct message to one agent is fine where there is an edge). Commitments are parsed
anywhere in a message and the outcome is worked out from them by the task rules; messages
after the last commitment are kept. The episode then takes the file's ``mode`` label,
its stem as id and ``backend = {"backend": "hand-written"}``.

``tests/data/labelled/`` is the development set the evaluators were first written against;
``tests/data/labelled_heldout/`` was written and labelled afterwards, before any
evaluator ran on it, and is now a development set too (the evaluators were then
generalised from ``tests/data/LABELLING.md`` while its disagreements were read).
``tests/data/labelled_test/`` is the test set, written and labelled after both had been seen
by the people improving the evaluators, again before any evaluator ran on it (its README
says how); ``python -m helpers.labelled [FOLDER]`` prints the table of any set.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from helpers import DATA, ROOT
from privy import evaluators
from privy.evaluators.base import Score
from privy.simulator.env import PrivyEnv
from privy.simulator.episode import Episode, Source, Timings
from privy.simulator.loader import load_scenario
from privy.simulator.modes import Mode
from privy.simulator.transcript import Line, replay

LABELLED_DIR = DATA / "labelled"
HELDOUT_DIR = DATA / "labelled_heldout"
TEST_DIR = DATA / "labelled_test"
# every labelled set, oldest first (``--every-set``)
EVERY_SET = ("labelled", "labelled_heldout", "labelled_test", "labelled_test2", "labelled_test3")

Label = Literal[
    "clairvoyance", "hallucinated_common_ground", "premature_commitment",
    "question", "clarification", "acknowledgement", "confirmation",
]
LABELS: tuple[str, ...] = get_args(Label)
# The evaluator whose findings carry each label (as Finding.kind).
EVALUATOR_OF = {
    "clairvoyance": "clairvoyance",
    "hallucinated_common_ground": "hallucinated_common_ground",
    "premature_commitment": "premature_commitment",
    "question": "grounding_acts",
    "clarification": "grounding_acts",
    "acknowledgement": "grounding_acts",
    "confirmation": "grounding_acts",
}
# Finding kinds that are evidence, not message labels (scored at episode level instead), and
# "answer" (grounding_acts' yes/no answers), which this set does not label.
EPISODE_KINDS = {"commitment", "disclosure", "answer"}
_STARTED = datetime(2024, 1, 1, tzinfo=UTC)


class LabelledError(ValueError):
    """A labelled transcript is malformed or cannot be played in its scenario."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LabelledMessage(_Strict):
    sender: str
    recipients: list[str] | None = None
    content: str = Field(min_length=1)
    labels: list[Label]
    ambiguous: bool | list[Label] = False

    @field_validator("labels")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError(f"duplicate labels in {v}")
        return v

    @property
    def ambiguous_labels(self) -> frozenset[str]:
        if self.ambiguous is True:
            return frozenset(LABELS)
        return frozenset(self.ambiguous or ())


class Expect(_Strict):
    success: bool
    disclosed: list[str]


class LabelledFile(_Strict):
    scenario: str
    mode: Mode
    style: Literal["privy", "unlike"] = "privy"  # unlike: human-like, inline commitments, irregular turns, DMs
    expect: Expect
    messages: list[LabelledMessage] = Field(min_length=1)


@dataclass
class Labelled:
    """One hand-labelled episode: the Episode and the annotations of its messages."""

    path: Path
    episode: Episode
    messages: list[LabelledMessage]
    expect: Expect
    style: str = "privy"
    _scores: dict[str, Score] | None = field(default=None, repr=False)

    @property
    def scores(self) -> dict[str, Score]:
        """Every deterministic evaluator's score on the episode (computed once)."""
        if self._scores is None:
            self._scores = asyncio.run(evaluators.evaluate(self.episode, list(evaluators.DETERMINISTIC)))
        return self._scores


def labelled_files(directory: Path = LABELLED_DIR) -> list[Path]:
    """The transcripts (``*.yaml`` directly in ``directory``; scenarios live in a subfolder)."""
    return sorted(directory.glob("*.yaml"))


def load_labelled(path: Path) -> Labelled:
    """Parse a transcript and replay it (as ``privy import transcript`` does) into an Episode."""
    try:
        spec = LabelledFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, ValueError) as err:
        raise LabelledError(f"{path}: {err}") from err
    scenario = load_scenario(ROOT / spec.scenario)
    unknown = set(spec.expect.disclosed) - set(scenario.task.needed_facts)
    if unknown:
        raise LabelledError(f"{path}: expect.disclosed: {sorted(unknown)} are not needed facts")
    lines = [Line(sender=lm.sender, text=lm.content,
                  recipients=frozenset(lm.recipients) if lm.recipients is not None else None)
             for lm in spec.messages]
    env = PrivyEnv(scenario)
    for i, lm in enumerate(spec.messages):
        if lm.sender not in scenario.agent_ids:
            raise LabelledError(f"{path}: messages[{i}]: sender {lm.sender!r} is not an agent of {spec.scenario}")
        refused = set(lm.recipients or ()) - env.action_space(lm.sender).neighbours
        if refused or lm.recipients == []:
            raise LabelledError(f"{path}: messages[{i}]: {lm.sender!r} may not send to {sorted(refused)}: "
                                f"not a neighbour in the topology")
    replayed = replay(scenario, lines, Source(format="labelled", file=str(path), record=path.stem),
                      scenario_path=spec.scenario)
    episode = replayed.model_copy(update={
        "id": path.stem, "created_at": _STARTED, "mode": spec.mode, "backend": {"backend": "hand-written"},
        "timings": Timings(started_at=_STARTED, wall_s=0.0, model_s=0.0), "source": None})
    return Labelled(path=path, episode=episode, messages=spec.messages, expect=spec.expect, style=spec.style)


def load_all(directory: Path = LABELLED_DIR) -> list[Labelled]:
    return [load_labelled(p) for p in labelled_files(directory)]


def predicted_labels(scores: dict[str, Score], n_messages: int) -> list[set[str]]:
    """Message-level labels from the findings: finding.kind at finding.message_id."""
    out: list[set[str]] = [set() for _ in range(n_messages)]
    for score in scores.values():
        for f in score.findings:
            if f.kind in LABELS and f.message_id is not None:
                out[f.message_id].add(f.kind)
    return out


@dataclass
class Case:
    """One message (or one episode-level item) with its gold and predicted labels."""

    where: str  # file:message index
    content: str
    gold: set[str]
    predicted: set[str]
    ambiguous: frozenset[str]
    reasons: list[str] = field(default_factory=list)


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def positives(self) -> int:
        return self.tp + self.fn

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


def count(cases: Iterable[Case], label: str, *, include_ambiguous: bool) -> Counts:
    c = Counts()
    for case in cases:
        if not include_ambiguous and label in case.ambiguous:
            continue
        g, p = label in case.gold, label in case.predicted
        c.tp += g and p
        c.fp += p and not g
        c.fn += g and not p
    return c


def message_cases(items: list[Labelled]) -> list[Case]:
    cases = []
    for item in items:
        scores = item.scores
        predicted = predicted_labels(scores, len(item.episode.messages))
        for m, lm, pred in zip(item.episode.messages, item.messages, predicted, strict=True):
            reasons = [f"{f.kind}: {f.reason}" for s in scores.values() for f in s.findings
                       if f.message_id == m.id and f.kind in LABELS]
            cases.append(Case(where=f"{item.path.name}:{m.id}", content=m.content, gold=set(lm.labels),
                              predicted=pred, ambiguous=lm.ambiguous_labels, reasons=reasons))
    return cases


def episode_cases(items: list[Labelled]) -> dict[str, list[Case]]:
    """Episode-level items: ``success`` per episode (task_success) and ``disclosed`` per
    (episode, needed fact) (information_exchange)."""
    success, disclosed = [], []
    for item in items:
        scores = item.scores
        ok = scores["task_success"].value == 1.0
        success.append(Case(where=item.path.name, content="", gold={"success"} if item.expect.success else set(),
                            predicted={"success"} if ok else set(), ambiguous=frozenset()))
        found = {f.fact_id for f in scores["information_exchange"].findings if f.kind == "disclosure"}
        for fid in item.episode.scenario.task.needed_facts:
            disclosed.append(Case(where=f"{item.path.name}:{fid}", content="",
                                  gold={"disclosure"} if fid in item.expect.disclosed else set(),
                                  predicted={"disclosure"} if fid in found else set(), ambiguous=frozenset()))
    return {"success": success, "disclosure": disclosed}


@dataclass
class Row:
    evaluator: str
    label: str
    unit: str
    clear: Counts
    every: Counts
    ambiguous: int


def figures(items: list[Labelled]) -> list[Row]:
    cases = message_cases(items)
    rows = []
    for label in LABELS:
        n_amb = sum(label in c.ambiguous for c in cases)
        rows.append(Row(EVALUATOR_OF[label], label, "message", count(cases, label, include_ambiguous=False),
                        count(cases, label, include_ambiguous=True), n_amb))
    episode = episode_cases(items)
    for evaluator, label, unit in (("task_success", "success", "episode"),
                                   ("information_exchange", "disclosure", "needed fact")):
        c = count(episode[label], label, include_ambiguous=True)
        rows.append(Row(evaluator, label, unit, c, c, 0))
    return rows


def _f(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def markdown_table(rows: list[Row], n_files: int, n_messages: int, where: str = "tests/data/labelled/") -> str:
    """The figures as a markdown table, ready for the README."""
    lines = [
        f"{n_files} hand-labelled episodes, {n_messages} messages (`{where}`).",
        "",
        "| evaluator | label | unit | positives | precision | recall | ambiguous | precision (all) | recall (all) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r.evaluator} | {r.label} | {r.unit} | {r.clear.positives} | {_f(r.clear.precision)} | "
                     f"{_f(r.clear.recall)} | {r.ambiguous} | {_f(r.every.precision)} | {_f(r.every.recall)} |")
    lines += ["", "precision and recall: on the unambiguous items; (all): including the items marked ambiguous."]
    return "\n".join(lines)


def counts_table(rows: list[Row], title: str) -> str:
    """Precision, recall and TP/FP/FN per label on the unambiguous items, as a markdown table."""
    lines = [title, "", "| label | positives | TP | FP | FN | precision | recall |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        c = r.clear
        lines.append(f"| {r.label} | {c.positives} | {c.tp} | {c.fp} | {c.fn} | {_f(c.precision)} | {_f(c.recall)} |")
    return "\n".join(lines)


def comparison_table(sets: list[tuple[str, list[Labelled]]]) -> str:
    """Precision / recall (TP/FP/FN) per label on the unambiguous items of several sets, side by side."""
    per_set = [figures(items) for _, items in sets]
    lines = ["| evaluator | label | " + " | ".join(
                 f"{name} ({len(items)} episodes, {sum(len(i.messages) for i in items)} msgs)" for name, items in sets)
             + " |", "|---|---|" + "---:|" * len(sets)]
    for k, r in enumerate(per_set[0]):
        cells = []
        for rows in per_set:
            c = rows[k].clear
            cells.append(f"{_f(c.precision)} / {_f(c.recall)} ({c.tp}/{c.fp}/{c.fn})")
        lines.append(f"| {r.evaluator} | {r.label} | " + " | ".join(cells) + " |")
    lines += ["", "Each cell: precision / recall (TP/FP/FN) on the unambiguous items."]
    return "\n".join(lines)


def disagreements(cases: list[Case], label: str) -> list[tuple[Case, str]]:
    """The unambiguous cases where the evaluator and the label differ: (case, "missed" | "false alarm")."""
    return [(c, "missed" if label in c.gold else "false alarm") for c in cases
            if label not in c.ambiguous and (label in c.gold) != (label in c.predicted)]


def main(argv: list[str]) -> str:
    """``python -m helpers.labelled [FOLDER] [--style privy|unlike] [--counts] [--misses N] [--compare]
    [--every-set]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m helpers.labelled")
    parser.add_argument("folder", nargs="?", type=Path, default=LABELLED_DIR)
    parser.add_argument("--style", choices=["privy", "unlike"], help="only the transcripts written in this style")
    parser.add_argument("--counts", action="store_true", help="TP/FP/FN per label instead of the README table")
    parser.add_argument("--misses", type=int, default=0, metavar="N", help="also list N disagreements per label")
    parser.add_argument("--compare", action="store_true",
                        help="the two development sets and the unlike-privy part of the second side by side")
    parser.add_argument("--every-set", action="store_true",
                        help="every labelled set side by side (the leave-one-set-out check of a rule change)")
    args = parser.parse_args(argv)
    if args.every_set:
        return comparison_table([(f"{d}/" + (f", {args.style}" if args.style else ""),
                                  [i for i in load_all(DATA / d) if args.style is None or i.style == args.style])
                                 for d in EVERY_SET])
    if args.compare:
        heldout = load_all(HELDOUT_DIR)
        return comparison_table([("labelled/", load_all(LABELLED_DIR)), ("labelled_heldout/", heldout),
                                 ("labelled_heldout/, unlike privy", [i for i in heldout if i.style == "unlike"])])
    folder = args.folder.resolve()
    items = [i for i in load_all(folder) if args.style is None or i.style == args.style]
    try:
        where = folder.relative_to(ROOT).as_posix() + "/"
    except ValueError:
        where = str(folder)
    n_messages = sum(len(i.messages) for i in items)
    rows = figures(items)
    scope = f" style {args.style}" if args.style else ""
    if args.counts:
        out = counts_table(rows, f"{len(items)} episodes, {n_messages} messages (`{where}`{scope}); unambiguous items.")
    else:
        out = markdown_table(rows, len(items), n_messages, where + scope)
    if args.misses:
        cases = message_cases(items)
        for label in LABELS:
            out += f"\n\n{label}:"
            for c, what in disagreements(cases, label)[:args.misses]:
                out += f"\n  {c.where}: {what} (gold {sorted(c.gold)}, got {sorted(c.predicted)}): {c.content!r}"
    return out


if __name__ == "__main__":
    import sys

    print(main(sys.argv[1:]))
