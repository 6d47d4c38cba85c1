"""premature_commitment: committing before one's information determines the answer.

Rule: an agent's information determines the answer once it knows every fact in the
task's ``needed_facts`` (it holds it, or a message delivered to it mentioned it). A
commitment (``SELECT: x``, ``DECIDE: x``, ...) made before that is premature, whether
or not it happens to be right. The value is the share of commitments that were.

In a deal (``kind: deal``) no split is "the answer", and people rarely spell out every
value, so the rule is what a negotiator needs to judge a split: its own values (it holds
them) and some word of what the other side wants. A deal commitment is premature when
no message from another party delivered to the committer before it stated a value of any
item (in words, see :mod:`privy.evaluators.deal_values`, or by the value fact's mention)
and none of them named an item at all. When the other side did name items but stated
no value the rule recognises ("you take the books, I take the rest" is an offer, which
reveals something), it cannot decide: the commitment is left out of the value and
counted in the metric ``undecided``.
"""

from __future__ import annotations

import re

from privy.evaluators.base import Finding, Score
from privy.evaluators.deal_values import value_statements
from privy.evaluators.ledger import Ledger
from privy.simulator.bus import Message
from privy.simulator.episode import Episode


class PrematureCommitment:
    name = "premature_commitment"

    async def evaluate(self, episode: Episode) -> Score:
        if episode.scenario.task.kind == "deal" and episode.scenario.task.deal is not None:
            return self._deal(episode)
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

    def _deal(self, episode: Episode) -> Score:
        s = episode.scenario
        assert s.task.deal is not None
        items = tuple(i for i, n in s.task.deal.items.items() if n > 0)
        verb = s.task.commitment.verb
        item_words = [re.compile(rf"(?<!\w){re.escape(i)}(?:s|es)?(?!\w)", re.IGNORECASE) for i in items]
        ledger = Ledger.of(episode)
        value_facts = {f.id: f.holders[0] for f in s.facts
                       if len(f.holders) == 1 and f.holders[0] in s.task.deal.values}
        findings = []
        commitments = undecided = 0
        for m in episode.messages:
            if not m.actions:
                continue
            heard = [h for h in episode.messages[:m.id] if m.sender in h.recipients and h.sender != m.sender]
            known = ledger.known_before(m.sender, m.id)
            informed = any(fid in known for fid, a in value_facts.items() if a != m.sender) or any(
                value_statements(h.content, items, verb) for h in heard)
            if informed:
                commitments += 1
                continue
            if any(w.search(h.content) for h in heard for w in item_words):
                undecided += 1
                continue
            commitments += 1
            findings.append(Finding(
                kind="premature_commitment", message_id=m.id, agent=m.sender,
                reason=(f"{m.sender} commits to {m.actions[-1].value!r} before the other side said anything "
                        f"about what it wants: {_had(heard)}"),
            ))
        return Score(
            evaluator=self.name,
            value=len(findings) / commitments if commitments else None,
            metrics={"commitments": float(commitments), "premature": float(len(findings)),
                     "undecided": float(undecided)},
            findings=findings,
        )


def _had(heard: list[Message]) -> str:
    return f"{len(heard)} message(s) from the others, none naming an item" if heard else "no message from the others"
