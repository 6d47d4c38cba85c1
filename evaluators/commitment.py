"""premature_commitment: committing before one's information determines the answer.

Rule (``tests/data/LABELLING.md``): an agent's information determines the answer once it
knows every fact in the task's ``needed_facts`` (it holds it, a message delivered to it
mentioned it, or a holder's yes confirmed it: see :mod:`privy.evaluators.ledger`). A
commitment (``SELECT: x``, ``DECIDE: x``, ..., anywhere in a message) made before that is
premature, whether or not it happens to be right. The value is the share of commitments
that were. Where the rule cannot tell whether a missing fact was known, the commitment is
left out of the value and counted in the metric ``undecided``: a holder of the fact,
after hearing it mentioned, told the committer something about "him", "her" or "them"
(a pronoun the rule does not resolve). A fact the committer stated itself without being
told (a guess, even a right one) is not known.

In a deal (``kind: deal``) a commitment is premature when the committer had not been told
the other side's value of every item in play: by the value fact's mention, or item by
item in words (see :mod:`privy.evaluators.deal_values`) in the other side's messages
delivered to it; an answer to the committer's question about some items ("what are the
cups worth to you?" - "nothing really") tells the value of the items the question named,
when it has a value or preference word. When every item whose value is missing was
named by the other side in an offer with no value the rule recognises ("you take the
books, I take the rest"), and some values were stated, it cannot decide: undecided.
"""

from __future__ import annotations

import re

from privy.evaluators.base import Finding, Score
from privy.evaluators.deal_values import value_statements, value_words
from privy.evaluators.ledger import Ledger
from privy.simulator.bus import Message
from privy.simulator.episode import Episode

_VERB_LINE = re.compile(r"\b[A-Z]{3,}\s*\**\s*:.*$", re.MULTILINE)  # a commitment names what is taken


class PrematureCommitment:
    name = "premature_commitment"

    async def evaluate(self, episode: Episode) -> Score:
        if episode.scenario.task.kind == "deal" and episode.scenario.task.deal is not None:
            return self._deal(episode)
        ledger = Ledger.of(episode)
        needed = episode.scenario.task.needed_facts
        findings = []
        commitments = undecided = 0
        for m in episode.messages:
            if not m.actions:
                continue
            missing = [f for f in needed if f not in ledger.known_before(m.sender, m.id)]
            if missing and all(_unsure(ledger, m, f) for f in missing):
                undecided += 1
                continue
            commitments += 1
            if missing:
                findings.append(Finding(
                    kind="premature_commitment", message_id=m.id, agent=m.sender, fact_id=missing[0],
                    reason=(f"{m.sender} commits to {m.actions[-1].value!r} without knowing "
                            f"{len(missing)} of the {len(needed)} needed facts: {missing}"),
                ))
        return Score(
            evaluator=self.name,
            value=len(findings) / commitments if commitments else None,
            metrics={"commitments": float(commitments), "premature": float(len(findings)),
                     "undecided": float(undecided)},
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
        others = {a: fid for fid, a in value_facts.items()}
        for m in episode.messages:
            if not m.actions:
                continue
            heard = [h for h in episode.messages[:m.id] if m.sender in h.recipients and h.sender != m.sender]
            known = ledger.known_before(m.sender, m.id)
            unknown: dict[str, list[str]] = {}  # other side -> items whose value it has not told the committer
            for other, fid in others.items():
                if other == m.sender or fid in known:
                    continue
                told: set[str] = set()
                asked: set[str] = set()  # the items of the committer's last question to ``other``
                for h in episode.messages[:m.id]:
                    if h.sender == m.sender and other in h.recipients:
                        named = {i for i, w in zip(items, item_words, strict=True) if w.search(h.content)}
                        asked = named if named and "?" in h.content else set()
                    elif h.sender == other and m.sender in h.recipients:
                        told |= set(value_statements(h.content, items, verb))
                        if asked and value_words(h.content):
                            told |= asked
                        asked = set()
                missing = [i for i in items if i not in told]
                if missing:
                    unknown[other] = missing
            if not unknown:
                commitments += 1
                continue
            missing_items = {i for v in unknown.values() for i in v}
            offered = {i for i, w in zip(items, item_words, strict=True)
                       if any(w.search(_VERB_LINE.sub("", h.content)) for h in heard if h.sender in unknown)}
            if missing_items <= offered and len(missing_items) < len(items):
                undecided += 1  # the rest was named in an offer, with no value the rule recognises
                continue
            commitments += 1
            findings.append(Finding(
                kind="premature_commitment", message_id=m.id, agent=m.sender,
                reason=(f"{m.sender} commits to {m.actions[-1].value!r} before being told the value of "
                        + "; ".join(f"{', '.join(v)} to {o}" for o, v in sorted(unknown.items()))
                        + f": {_had(heard)}"),
            ))
        return Score(
            evaluator=self.name,
            value=len(findings) / commitments if commitments else None,
            metrics={"commitments": float(commitments), "premature": float(len(findings)),
                     "undecided": float(undecided)},
            findings=findings,
        )


_PRONOUN = re.compile(r"\b(he|she|him|her|they|them)\b", re.IGNORECASE)


def _unsure(ledger: Ledger, m: Message, fid: str) -> bool:
    """Can the rule not tell whether ``m``'s sender knew ``fid``? A holder of the fact, after
    hearing it mentioned, told the sender something about "him"/"her" (a pronoun the rule
    does not resolve: "He is on my list as well")."""
    episode = ledger.episode
    holders = set(episode.scenario.fact(fid).holders)
    earlier = episode.messages[:m.id]
    for h in earlier:
        if (h.sender in holders and m.sender in h.recipients and _PRONOUN.search(h.content)
                and any(fid in ledger.mentioned[p.id] for p in earlier[:h.id] if h.sender in p.recipients)):
            return True
    return False


def _had(heard: list[Message]) -> str:
    return f"{len(heard)} message(s) from the others, none naming an item" if heard else "no message from the others"
