"""Constrained moves on the embedded model: how many turns are legal moves, how many episodes end by commitment.

Reads one or more result stores written by ``privy bench`` and prints, per mode (and per
family with ``--by-family``), the episodes, the share that ended by commitment (not the turn
limit, an exhausted script or an error), the task success rate, and the turns that parsed into
a legal move: a turn is legal when its call did not fail and :func:`privy.simulator.moves.parse_move`
left no ``move:`` note on it (nor the runner an ``empty output`` note). In script mode a turn is
a line played from the one generation, its notes being those of the script's call. "Forced":
an episode ended by commitment in which some committer first committed on its last turn, where
a commitment was its only legal move (the rest committed of their own accord, earlier). "At once":
the committers whose first commitment was in their first message (premature commitment: they had
heard at most what was said before their first turn), of the committers that committed.

    .venv/bin/privy bench scenarios/suites/quick.suite.yaml --out /tmp/moves/q.db -j 2
    .venv/bin/privy bench benchmarks/moves.suite.yaml --out /tmp/moves/f.db -j 2
    .venv/bin/python benchmarks/moves.py /tmp/moves/q.db /tmp/moves/f.db --by-family

The goal (issue 17): >= 99% of turns legal and >= 80% of episodes ended by commitment, in every mode.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

_TURN_NOTE = re.compile(r"^turn (\d+) \(")


@dataclass
class Tally:
    episodes: int = 0
    committed: int = 0
    success: int = 0
    turns: int = 0
    legal: int = 0
    forced: int = 0
    n_turns: int = 0
    at_once: int = 0
    committers: int = 0
    ended: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, ep: dict[str, Any]) -> None:
        out = ep["outcome"]
        self.episodes += 1
        self.committed += out["ended_by"] == "committed"
        self.success += bool(out["success"])
        self.ended[out["ended_by"]] += 1
        self.forced += out["ended_by"] == "committed" and forced(ep)
        self.n_turns += out["turns"]
        once, committed = at_once(ep)
        self.at_once += once
        self.committers += committed
        turns, illegal = turn_legality(ep)
        self.turns += turns
        self.legal += turns - illegal

    def row(self, label: str) -> str:
        pct = lambda a, b: f"{100 * a / b:.1f}%" if b else "-"  # noqa: E731
        ended = ", ".join(f"{k} {v}" for k, v in sorted(self.ended.items()))
        mean = f"{self.n_turns / self.episodes:.1f}" if self.episodes else "-"
        n = self.episodes
        return (f"| {label} | {n} | {pct(self.committed, n)} | {pct(self.forced, n)} "
                f"| {mean} | {self.at_once}/{self.committers} ({pct(self.at_once, self.committers)}) "
                f"| {pct(self.success, self.episodes)} "
                f"| {self.legal}/{self.turns} ({pct(self.legal, self.turns)}) | {ended} |")


def forced(ep: dict[str, Any]) -> bool:
    """Did a committer first commit on its last turn, where a commitment was the only legal move?"""
    s = ep["scenario"]
    ids = [a["id"] for a in s["agents"]]
    committers = s["task"].get("committers") or ids
    last = s["limits"]["max_turns"] - len(ids)
    first: dict[str, int] = {}
    for m in ep["messages"]:
        if m.get("actions") and m["sender"] in committers:
            first.setdefault(m["sender"], m["turn"])
    return any(t >= last for t in first.values())


def at_once(ep: dict[str, Any]) -> tuple[int, int]:
    """(committers whose first commitment was in their own first message, committers that committed)."""
    s = ep["scenario"]
    committers = set(s["task"].get("committers") or [a["id"] for a in s["agents"]])
    sent: dict[str, int] = {}
    first: dict[str, int] = {}  # committer -> index of its first committing message among its own
    for m in ep["messages"]:
        who = m["sender"]
        if who in committers and m.get("actions") and who not in first:
            first[who] = sent.get(who, 0)
        sent[who] = sent.get(who, 0) + 1
    return sum(1 for i in first.values() if i == 0), len(first)


def _bad(note: str) -> bool:
    return note.startswith("move:") or note == "empty output"


def turn_legality(ep: dict[str, Any]) -> tuple[int, int]:
    """(turns played, turns that were not a legal move) of one episode log."""
    calls = ep["calls"]
    if ep["mode"] == "script":
        turns = len(ep["messages"])
        bad_turns: set[int] = set()
        for c in calls:
            for n in c.get("notes", []):
                m = _TURN_NOTE.match(n)
                if m and _bad(n[n.index("): ") + 3:]):
                    bad_turns.add(int(m.group(1)))
        failed = any(c.get("error") for c in calls)
        return turns + failed, len(bad_turns) + failed
    bad = sum(1 for c in calls if c.get("error") or any(_bad(n) for n in c.get("notes", [])))
    return len(calls), bad


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("stores", nargs="+", help="result stores written by privy bench")
    ap.add_argument("--by-family", action="store_true", help="also a row per family and mode")
    args = ap.parse_args()
    by_mode: dict[str, Tally] = defaultdict(Tally)
    by_family: dict[tuple[str, str], Tally] = defaultdict(Tally)
    failed = 0
    for path in args.stores:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        for (js,) in db.execute("SELECT episode_json FROM episodes"):
            if js is None:
                failed += 1
                continue
            ep = json.loads(js)
            by_mode[ep["mode"]].add(ep)
            by_family[(ep["scenario"]["family"], ep["mode"])].add(ep)
        db.close()
    head = ("| {} | episodes | ended by commitment | of which forced on a last turn | mean turns "
            "| committed at once | success | legal turns | ended by |\n|---|---:|---:|---:|---:|---:|---:|---:|---|")
    print(head.format("mode"))
    for mode in sorted(by_mode):
        print(by_mode[mode].row(mode))
    if args.by_family:
        print()
        print(head.format("family / mode"))
        for (fam, mode) in sorted(by_family):
            print(by_family[(fam, mode)].row(f"{fam} / {mode}"))
    if failed:
        print(f"\n{failed} stored episode(s) failed before they had a log")


if __name__ == "__main__":
    main()
