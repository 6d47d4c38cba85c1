"""The LLM grounding classifier on the embedded model against the rules, on a labelled set's acts.

    cd tests && PYTHONPATH=. ../.venv/bin/python -m helpers.llm_acts data/labelled_test4 --episodes 20

Scores the first ``--episodes`` transcripts of a labelled set with ``grounding_acts`` twice:
with its rules and with its LLM classifier on SmolLM2-135M (the ``llama`` backend, its
reply held to a JSON Schema of one boolean per act, so every reply parses), and prints
precision / recall per act on the unambiguous items, as ``python -m helpers.labelled`` does.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from helpers.labelled import count, load_all, message_cases
from privy.evaluators.grounding import ACTS, GroundingActs

LABELS = ("question", "clarification", "acknowledgement", "confirmation")


def _f(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def main() -> None:
    from privy.simulator.backends.llama import LlamaBackend

    p = argparse.ArgumentParser(prog="python -m helpers.llm_acts", description=__doc__.split("\n\n")[0])
    p.add_argument("folder", type=Path)
    p.add_argument("--episodes", type=int, default=20, help="the first N transcripts of the set (default 20)")
    args = p.parse_args()
    items = load_all(args.folder)[: args.episodes] if args.folder.is_dir() else []
    if not items or args.episodes < 1:
        p.error(f"{args.folder}: expected a folder of labelled transcripts (*.yaml) and --episodes of 1 or more")
    rules = message_cases(items)
    schema = {"type": "object", "properties": {a: {"type": "boolean"} for a in ACTS}, "required": list(ACTS),
              "additionalProperties": False}
    classifier = GroundingActs(backend=LlamaBackend(response_format={"type": "json_object", "schema": schema}))
    t0 = time.perf_counter()
    errors = 0
    for item in items:
        score = asyncio.run(classifier.evaluate(item.episode))
        errors += score.error is not None
        item._scores = {"grounding_acts": score}  # message_cases reads the findings from here
    llm = message_cases(items)
    took = time.perf_counter() - t0
    print(f"{args.folder.name}: {len(items)} episodes, {len(rules)} messages; classifier {took:.0f} s, "
          f"{errors} episode(s) with an error")
    print("| label | positives | rules P / R | LLM classifier on SmolLM2-135M P / R |")
    print("|---|---:|---:|---:|")
    for label in LABELS:
        r, m = count(rules, label, include_ambiguous=False), count(llm, label, include_ambiguous=False)
        print(f"| {label} | {r.positives} | {_f(r.precision)} / {_f(r.recall)} | {_f(m.precision)} / {_f(m.recall)} |")


if __name__ == "__main__":
    main()
