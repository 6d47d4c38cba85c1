"""Print the counts of this folder's README (parse and replay only; no evaluator runs).

Run from ``tests/``: ``PYTHONPATH=. ../.venv/bin/python data/labelled_test2/counts.py``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from helpers.labelled import LABELS, labelled_files, load_labelled

SET_DIR = Path(__file__).resolve().parent


def main() -> str:
    items = [load_labelled(p) for p in labelled_files(SET_DIR)]
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
        f"in {files_with_direct} files)"
    ]
    out.append("- per family (files / messages): " + ", ".join(f"{f} {files[f]} / {msgs[f]}" for f in sorted(files)))
    per_style = ", ".join(f"{s} {styles[s]} / {style_msgs[s]}" for s in sorted(styles))
    out.append("- per style (files / messages): " + per_style)
    out.append(
        "- agents per scenario (files): "
        + ", ".join(f"{k}: {sizes[k]}" for k in sorted(sizes))
        + f" (3 to 5 agents: {groups})"
    )
    out.append(f"- expect.success: {success[True]} true, {success[False]} false")
    out.append("")
    out.append("| label | positives | negatives | of the positives ambiguous | messages with the label ambiguous |")
    out.append("|---|---|---|---|---|")
    for lab in LABELS:
        both = sum(1 for it in items for lm in it.messages if lab in lm.labels and lab in lm.ambiguous_labels)
        out.append(f"| {lab} | {pos[lab]} | {n - pos[lab]} | {both} | {amb[lab]} |")
    out.append("")
    out.append("| family | " + " | ".join(LABELS) + " |")
    out.append("|---|" + "---|" * len(LABELS))
    for fam in sorted(fam_pos):
        out.append(f"| {fam} | " + " | ".join(str(fam_pos[fam][lab]) for lab in LABELS) + " |")
    return "\n".join(out)


if __name__ == "__main__":
    print(main())
