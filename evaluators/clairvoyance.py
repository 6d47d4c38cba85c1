"""clairvoyance: a message mentions a fact its sender could not know at that point.

A sender knows a fact if it holds it or an earlier message delivered to it mentioned
it (see :mod:`privy.evaluators.ledger`). The value is the share of messages with at least one
clairvoyant reference. The metrics also give the relative position (0..1) of the first
mention of each needed fact, the measure of Zhou et al. (2024): the shared friend was
first named at 0.13 of the dialogue by an omniscient writer, 0.39 by separate agents.
"""

from __future__ import annotations

from privy.evaluators.base import Finding, Score
from privy.evaluators.ledger import Ledger
from privy.simulator.episode import Episode


class Clairvoyance:
    name = "clairvoyance"

    async def evaluate(self, episode: Episode) -> Score:
        ledger = Ledger.of(episode)
        s = episode.scenario
        findings = []
        flagged = set()
        for m in episode.messages:
            for fid in ledger.unexplained(m):
                flagged.add(m.id)
                fact = s.fact(fid)
                findings.append(Finding(
                    kind="clairvoyance", message_id=m.id, agent=m.sender, fact_id=fid,
                    reason=(f"{m.sender} mentions {fid} ({fact.text!r}), held by "
                            f"{fact.holders}, which no earlier message delivered to {m.sender} mentioned"),
                ))
        n = len(episode.messages)
        metrics: dict[str, float | None] = {"clairvoyant_messages": float(len(flagged))}
        for fid in s.task.needed_facts:
            first = ledger.first_mention(fid)
            metrics[f"first_mention:{fid}"] = None if first is None or not n else first / n
        return Score(evaluator=self.name, value=len(flagged) / n if n else None, metrics=metrics,
                     findings=findings)
