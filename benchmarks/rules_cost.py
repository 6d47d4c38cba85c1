"""What the rule-based evaluators cost: CPU time over the hand-labelled transcripts.

    .venv/bin/python -m benchmarks.rules_cost            # the three sets of the second round
    .venv/bin/python -m benchmarks.rules_cost --all      # ... and labelled_test2/ too

Two figures, CPU time (``time.process_time``), best of ``--repeat`` runs (the machine is shared):
the rule grounding classifier (:func:`privy.evaluators.grounding.classify`) over every message,
five passes, as the README's earlier figures were measured; and every deterministic evaluator
over every episode, once, each episode a fresh copy (no fact ledger cached from a previous run).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from helpers import DATA  # noqa: E402
from helpers.labelled import load_all  # noqa: E402

from privy import evaluators  # noqa: E402
from privy.evaluators.grounding import classify, contexts  # noqa: E402
from privy.simulator.episode import Episode  # noqa: E402

SECOND_ROUND = ("labelled", "labelled_heldout", "labelled_test")


async def _score(episodes: list[Episode]) -> None:
    for ep in episodes:
        for name in evaluators.DETERMINISTIC:
            await evaluators.create(name).evaluate(ep)


def measure(folders: tuple[str, ...], repeat: int = 5) -> dict[str, float]:
    """CPU seconds: ``classifier`` (five passes over every message) and ``evaluators`` (one pass), best runs."""
    episodes = [item.episode for f in folders for item in load_all(DATA / f)]
    pairs = [(m.content, c) for ep in episodes for m, c in zip(ep.messages, contexts(ep), strict=True)]
    classifier, every = [], []
    for _ in range(repeat):
        t = time.process_time()
        for _ in range(5):
            for text, ctx in pairs:
                classify(text, ctx=ctx)
        classifier.append(time.process_time() - t)
    for _ in range(repeat):
        fresh = [ep.model_copy(update={"messages": list(ep.messages)}) for ep in episodes]
        t = time.process_time()
        asyncio.run(_score(fresh))
        every.append(time.process_time() - t)
    return {"episodes": len(episodes), "messages": len(pairs), "classifier": min(classifier),
            "evaluators": min(every)}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--all", action="store_true", help="also labelled_test2/")
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args(argv)
    folders = (*SECOND_ROUND, "labelled_test2") if args.all else SECOND_ROUND
    r = measure(folders, args.repeat)
    print(f"{len(folders)} sets, {r['episodes']:.0f} episodes, {r['messages']:.0f} messages: "
          f"rule classifier, 5 passes {r['classifier'] * 1000:.0f} ms; "
          f"every deterministic evaluator, one pass {r['evaluators'] * 1000:.0f} ms (CPU, best of {args.repeat})")


if __name__ == "__main__":
    main()
