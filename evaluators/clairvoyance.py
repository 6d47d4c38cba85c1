"""clairvoyance: a message mentions a fact its sender could not know at that point.

A sender knows a fact if it holds it or an earlier message delivered to it mentioned
it (see :mod:`privy.evaluators.ledger`). The value is the share of messages with at least one
clairvoyant reference. The metrics also give the relative position (0..1) of the first
mention of each needed fact, the measure of Zhou et al. (2024): the shared friend was
first named at 0.13 of the dialogue by an omniscient writer, 0.39 by separate agents.

In a deal, the other side's values are private facts mentioned item by item: a sentence
addressed to an agent that claims its value of one item ("your pens are worth 2 each", "I
know you don't care about the key": see :func:`privy.evaluators.deal_values.claims_about_addressee`)
mentions its value fact when the claim is right (the number, or "don't care" for a value of
0: LABELLING.md counts a right guess), unless that agent had told the sender that item's
value, or the sender knew the whole fact.
"""

from __future__ import annotations

from privy.evaluators.base import Finding, Score
from privy.evaluators.deal_values import claims_about_addressee, value_statements
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
        for f in _deal_claims(episode, ledger):
            if not any(g.message_id == f.message_id and g.fact_id == f.fact_id for g in findings):
                flagged.add(f.message_id or 0)
                findings.append(f)
        n = len(episode.messages)
        metrics: dict[str, float | None] = {"clairvoyant_messages": float(len(flagged))}
        for fid in s.task.needed_facts:
            first = ledger.first_mention(fid)
            metrics[f"first_mention:{fid}"] = None if first is None or not n else first / n
        return Score(evaluator=self.name, value=len(flagged) / n if n else None, metrics=metrics,
                     findings=findings)


def _deal_claims(episode: Episode, ledger: Ledger) -> list[Finding]:
    """Right claims about an addressee's item values that its sender had not been told (see above)."""
    s = episode.scenario
    deal = s.task.deal
    if s.task.kind != "deal" or deal is None:
        return []
    items = tuple(i for i, n in deal.items.items() if n > 0)
    verb = s.task.commitment.verb
    fact_of = {f.holders[0]: f.id for f in s.facts if len(f.holders) == 1 and f.holders[0] in deal.values}
    out = []
    for m in episode.messages:
        claims = claims_about_addressee(m.content, items, verb)
        if not claims:
            continue
        for other in sorted(m.recipients - {m.sender}):
            fid = fact_of.get(other)
            if fid is None or fid in ledger.known_before(m.sender, m.id):
                continue
            told = {i for h in episode.messages[:m.id] if h.sender == other and m.sender in h.recipients
                    for i in value_statements(h.content, items, verb)}
            values = deal.values[other]
            right = [i for i, v in claims.items()
                     if i not in told and (v == values.get(i) or (v == "low" and values.get(i) == 0))]
            if right:
                out.append(Finding(kind="clairvoyance", message_id=m.id, agent=m.sender, fact_id=fid,
                                   reason=f"{m.sender} states {other}'s value of {', '.join(right)} rightly, which "
                                          f"{other} had not told {m.sender}"))
    return out
