"""Print the counts of a hand-labelled set's README (parse and replay only; no evaluator runs).

Run from ``tests/``: ``PYTHONPATH=. ../.venv/bin/python -m helpers.label_counts data/labelled_test3``
(any folder of labelled transcripts: ``data/labelled_test``, ``data/labelled_test2``, ...).
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from helpers.labelled import LABELS, Labelled, labelled_files, load_labelled


def counts(items: list[Labelled]) -> str:
    """The README's counts of ``items``: files, messages, families, styles, sizes, outcomes and per-label tables."""
    files, msgs = Counter[str](), Counter[str]()
    styles, style_msgs = Counter[str](), Counter[str]()
    sizes, success = Counter[int](), Counter[bool]()
    pos, amb = Counter[str](), Counter[str]()
    fam_pos: dict[str, Counter[str]] = {}
    clean = direct = files_with_direct = 0
    for it in items:
        fam = it.episode.scenario.family
        files[fam] += 1
        msgs[fam] += len(it.messages)
        styles[it.style] += 1
        style_msgs[it.style] += len(it.messages)
        sizes[len(it.episode.scenario.agents)] += 1
        success[it.expect.success] += 1
        files_with_direct += any(lm.recipients is not None for lm in it.messages)
        for lm in it.messages:
            clean += not lm.labels
            direct += lm.recipients is not None
            pos.update(lm.labels)
            amb.update(lm.ambiguous_labels)
            fam_pos.setdefault(fam, Counter()).update(lm.labels)
    n = sum(msgs.values())
    groups = sum(v for k, v in sizes.items() if k >= 3)
    out = [
        f"- files: {len(items)}; messages: {n} ({clean} labelled clean, {direct} direct messages "
        f"in {files_with_direct} files)",
        "- per family (files / messages): " + ", ".join(f"{f} {files[f]} / {msgs[f]}" for f in sorted(files)),
        "- per style (files / messages): " + ", ".join(f"{s} {styles[s]} / {style_msgs[s]}" for s in sorted(styles)),
        "- agents per scenario (files): " + ", ".join(f"{k}: {sizes[k]}" for k in sorted(sizes))
        + f" (3 to 5 agents: {groups})",
        f"- expect.success: {success[True]} true, {success[False]} false",
        "",
        "| label | positives | negatives | of the positives ambiguous | messages with the label ambiguous |",
        "|---|---|---|---|---|",
    ]
    for lab in LABELS:
        both = sum(1 for it in items for lm in it.messages if lab in lm.labels and lab in lm.ambiguous_labels)
        out.append(f"| {lab} | {pos[lab]} | {n - pos[lab]} | {both} | {amb[lab]} |")
    out += ["", "| family | " + " | ".join(LABELS) + " |", "|---|" + "---|" * len(LABELS)]
    for fam in sorted(fam_pos):
        out.append(f"| {fam} | " + " | ".join(str(fam_pos[fam][lab]) for lab in LABELS) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m helpers.label_counts", description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a folder of hand-labelled transcripts (e.g. data/labelled_test3)")
    folder = parser.parse_args(argv).folder
    if not folder.is_dir():
        parser.error(f"{folder}: expected a folder of labelled transcripts")
    return counts([load_labelled(p) for p in labelled_files(folder)])


if __name__ == "__main__":
    print(main())
