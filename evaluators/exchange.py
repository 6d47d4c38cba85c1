"""information_exchange: how much of what was needed got said, how fast, how verbosely.

Metrics: ``needed_disclosed`` (share of the task's needed facts mentioned in some
message), ``turns_to_decision`` (turns until the episode ended by commitment; None if
it did not), ``words_per_turn``, and ``answer_first_named_at``: the relative position
(0..1) of the first message naming the answer (Zhou et al. 2024: 0.13 for an omniscient
writer against 0.39 for separate agents on MutualFriends).

In a deal, a needed fact is an agent's private values, and people state them in words
("I really need the books", "hats are worthless to me"; see
:mod:`privy.evaluators.deal_values`) more often than as the fact's mention (all
``item=value`` pairs on one line). Such a fact also counts as disclosed once its holder
has stated a value of every item in play (count above zero), over one or more
messages; ``item_values_stated`` gives the share of (agent, item) values stated so, None
outside deals.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from privy.evaluators.base import Finding, Score
from privy.evaluators.deal_values import value_statements
from privy.evaluators.ledger import Ledger, find_all
from privy.evaluators.mentions import answer_facts
from privy.evaluators.prefilter import lowered
from privy.evaluators.sentences import SENTENCE
from privy.evaluators.task_success import recomputed_outcome
from privy.simulator.bus import Message
from privy.simulator.episode import Episode
from privy.simulator.scenario import Mention


class ExchangeScore(BaseModel):
    needed_disclosed: int
    needed_total: int
    answer_first_named_at: float | None  # None: never named
    words_per_turn: float


def answer_first_named_at(episode: Episode) -> float | None:
    """Relative position in 0..1 of the first message naming the answer (None if never)."""
    if episode.scenario.task.answer is None:  # deal tasks have no single answer to name
        return None
    answer = Mention(literal=episode.scenario.task.answer)
    lit = answer.literal.lower() if answer.literal is not None and answer.literal.isascii() else None
    n = len(episode.messages)
    for i, m in enumerate(episode.messages):
        low = lowered(m.content)
        # both ASCII: find_all finds what the pattern finds (whole words, see evaluators.ledger.find_all)
        named = (lit in low and bool(find_all(low, lit, answer.whole_word)) if low is not None and lit is not None
                 else answer.found_in(m.content))
        if named:
            return i / n
    return None


def deal_statements(episode: Episode) -> tuple[dict[str, int], float | None]:
    """In a deal: needed value fact -> the message by which its holder had stated every item's value;
    and the share of (holder, item) values stated. ({}, None) outside deals."""
    s = episode.scenario
    deal = s.task.deal
    if s.task.kind != "deal" or deal is None:
        return {}, None
    items = tuple(i for i, n in deal.items.items() if n > 0)
    owners = {fid: s.fact(fid).holders[0] for fid in s.task.needed_facts
              if len(s.fact(fid).holders) == 1 and s.fact(fid).holders[0] in deal.values}
    stated: dict[str, set[str]] = {a: set() for a in set(owners.values())}
    complete: dict[str, int] = {}
    for m in episode.messages:
        if m.sender not in stated:
            continue
        stated[m.sender] |= set(value_statements(m.content, items, s.task.commitment.verb))
        for fid, a in owners.items():
            if a == m.sender and fid not in complete and stated[a] >= set(items):
                complete[fid] = m.id
    pairs = len(stated) * len(items)
    return complete, (sum(len(v) for v in stated.values()) / pairs if pairs else None)


_VERB_LINE = re.compile(r"\b[A-Z]{3,}\s*\**\s*:.*$", re.MULTILINE)


def _answer_named(episode: Episode) -> dict[str, int]:
    """Needed facts that state the task's answer (the secret item, an answer key: see
    :func:`privy.evaluators.mentions.answer_facts`) -> the first message naming the answer, by
    anyone, outside a question and a commitment line: the right total a student proposes states the answer key
    (LABELLING.md: a needed fact is disclosed when some message states its value or name). For
    the ledger a non-holder's words are a guess, not a mention; said, they still disclose it."""
    facts = answer_facts(episode.scenario)
    if not facts:
        return {}
    mention = next(iter(facts.values()))
    for m in episode.messages:
        said = _VERB_LINE.sub("", m.content)  # a bare commitment ("ANSWER: 100") proposes nothing
        if any(mention.found_in(sn.group(0)) and not sn.group(0).strip().endswith("?")
               for sn in SENTENCE.finditer(said)):
            return dict.fromkeys(facts, m.id)
    return {}


def _first_mentions(episode: Episode) -> dict[str, Message | None]:
    """The first message mentioning each needed fact (from the fact ledger: a mention has spans);
    in a deal, or the message by which its holder had stated every value in words, if earlier."""
    s = episode.scenario
    ids = {f.id for f in s.facts}
    for fid in s.task.needed_facts:
        if fid not in ids:
            raise KeyError(fid)  # as Scenario.fact would
    ledger = Ledger.of(episode)
    stated, _ = deal_statements(episode)
    named = _answer_named(episode)
    out = {}
    for fid in s.task.needed_facts:
        firsts = [i for i in (ledger.first_mention(fid), stated.get(fid), named.get(fid)) if i is not None]
        out[fid] = episode.messages[min(firsts)] if firsts else None
    return out


def exchange(episode: Episode) -> ExchangeScore:
    needed = episode.scenario.task.needed_facts
    first = _first_mentions(episode)
    said = [m.content for m in episode.messages]
    words = sum(len(t.split()) for t in said)
    return ExchangeScore(
        needed_disclosed=sum(1 for f in needed if first[f] is not None),
        needed_total=len(needed),
        answer_first_named_at=answer_first_named_at(episode),
        words_per_turn=words / len(said) if said else 0.0,
    )


class InformationExchange:
    name = "information_exchange"

    async def evaluate(self, episode: Episode) -> Score:
        x = exchange(episode)
        s = episode.scenario
        findings = []
        firsts = _first_mentions(episode)
        for fid in s.task.needed_facts:
            first = firsts[fid]
            if first is not None:
                findings.append(Finding(kind="disclosure", message_id=first.id, agent=first.sender, fact_id=fid,
                                        reason=f"{fid} first mentioned by {first.sender}"))
        share = x.needed_disclosed / x.needed_total if x.needed_total else None
        decided_by = recomputed_outcome(episode)  # from the messages, not the stored outcome
        decided = decided_by.ended_by == "committed"
        return Score(
            evaluator=self.name,
            value=share,
            metrics={
                "needed_disclosed": share,
                "turns_to_decision": float(decided_by.turns) if decided else None,
                "words_per_turn": x.words_per_turn,
                "answer_first_named_at": x.answer_first_named_at,
                "item_values_stated": deal_statements(episode)[1],
            },
            findings=findings,
        )
