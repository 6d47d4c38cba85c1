"""premature_commitment: committing before one's information determines the answer.

Rule: an agent's information determines the answer once it knows every fact in the
task's ``needed_facts`` (it holds it, or a message delivered to it mentioned it). A
commitment (``SELECT: x``, ``DECIDE: x``, ...) made before that is premature, whether
or not it happens to be right. The value is the share of commitments that were.
"""

from __future__ import annotations

from privy.evaluators.base import Finding, Score
from privy.evaluators.ledger import Ledger
from privy.simulator.episode import Episode


class PrematureCommitment:
    name = "premature_commitment"

    async def evaluate(self, episode: Episode) -> Score:
        ledger = Ledger.of(episode)
        needed = episode.scenario.task.needed_facts
        findings = []
        commitments = 0
        for m in episode.messages:
            if not m.actions:
                continue
            commitments += 1
            missing = [f for f in needed if f not in ledger.known_before(m.sender, m.id)]
            if missing:
                findings.append(Finding(
                    kind="premature_commitment", message_id=m.id, agent=m.sender, fact_id=missing[0],
                    reason=(f"{m.sender} commits to {m.actions[-1].value!r} without knowing "
                            f"{len(missing)} of the {len(needed)} needed facts: {missing}"),
                ))
        return Score(
            evaluator=self.name,
            value=len(findings) / commitments if commitments else None,
            metrics={"commitments": float(commitments), "premature": float(len(findings))},
            findings=findings,
        )
