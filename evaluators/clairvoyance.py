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

A detail of a fact the sender knows only by name counts too ("as you said, your Sven went to
ETH Zurich, right?" when Sven was named to it but his school never was): LABELLING.md counts a
mention "by a distinctive detail: ... an attribute". In a sentence that mentions a fact the
sender does not hold (nor one named by the same words), a distinctive word of the fact's text
(:func:`privy.evaluators.mentions.detail_stems`, the words of its own mentions left out, and
words that half the scenario's facts share, "studied", left out) that no message delivered to
the sender had used is a detail it could not know; a word that a fact it holds and names in the same sentence shares
is not (it may speak of its own: "Maya and my Sofia both studied at Stanford").

A right guess of a task's one answer (a secret item, an answer key: see
:func:`privy.evaluators.mentions.answer_facts`) counts too, as LABELLING.md says ("a guess that
happens to be right counts"), when nothing from any holder of that fact had reached the
guesser yet ("my gut says the hammer" before the first answer). Once a holder has answered
something, the rules cannot tell a lucky guess from a deduction: not scored.
"""

from __future__ import annotations

from privy.evaluators.base import Finding, Score
from privy.evaluators.deal_values import claims_about_addressee, value_statements
from privy.evaluators.ledger import Ledger
from privy.evaluators.mentions import answer_facts, stems_of
from privy.evaluators.sentences import sentences
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
        for f in [*_deal_claims(episode, ledger), *_blind_guesses(episode, ledger), *_unheard_details(episode, ledger)]:
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


def _blind_guesses(episode: Episode, ledger: Ledger) -> list[Finding]:
    """Right guesses of the answer before anything from a holder of its fact was heard (see above)."""
    s = episode.scenario
    out = []
    for fid, answer in answer_facts(s).items():
        holders = set(s.fact(fid).holders)
        heard: set[str] = set()  # agents some holder's message has reached
        for m in episode.messages:
            if (m.sender not in holders and m.sender not in heard and fid not in ledger.known_before(m.sender, m.id)
                    and answer.found_in(m.content)):
                out.append(Finding(kind="clairvoyance", message_id=m.id, agent=m.sender, fact_id=fid,
                                   reason=f"{m.sender} names the answer {s.task.answer!r} before any message "
                                          f"from its holders ({', '.join(sorted(holders))}) had reached it"))
            if m.sender in holders:
                heard |= m.recipients
    return out


def _unheard_details(episode: Episode, ledger: Ledger) -> list[Finding]:
    """Details of a fact known by name only, which nothing delivered to the sender had said (see above)."""
    s = episode.scenario
    held = {a: {f.id for f in s.facts_of(a)} for a in s.agent_ids}
    stems, common = ledger.details()
    words: dict[int, frozenset[str]] = {}  # message id -> its stems
    out = []
    for m in episode.messages:
        found = ledger.mentioned[m.id]
        mine_ids = held[m.sender]
        if not found or all(fid in mine_ids for fid in found):
            continue
        held_spans = [sp for fid in mine_ids for sp in found.get(fid, [])]
        for a, b in sentences(m.content):
            said: frozenset[str] | None = None
            for fid, sps in found.items():
                if fid in mine_ids or not any(x < b and a < y for x, y in sps):
                    continue
                if any(x < q and p < y for x, y in sps for p, q in held_spans):
                    continue  # the same words name a fact it holds
                said = stems_of(m.content[a:b]) if said is None else said
                new = (said & stems[fid]) - common
                if not new:
                    continue
                # details of a fact it holds, named in the same sentence, may be said of its own
                # ("Maya and my Sofia both studied at Stanford"): undecided, not scored
                new -= frozenset().union(*(stems[g] for g in mine_ids
                                           if any(x < b and a < y for x, y in found.get(g, []))))
                for h in episode.messages[:m.id]:
                    if not new:
                        break
                    if m.sender in h.recipients and h.sender != m.sender:
                        if h.id not in words:
                            words[h.id] = stems_of(h.content)
                        new -= words[h.id]
                if new:
                    out.append(Finding(kind="clairvoyance", message_id=m.id, agent=m.sender, fact_id=fid,
                                       reason=f"{m.sender} states details of {fid} ({', '.join(sorted(new))}) "
                                              f"that no message delivered to {m.sender} had used"))
    return out
