"""information_exchange: how much of what was needed got said, how fast, how verbosely.

Metrics: ``needed_disclosed`` (share of the task's needed facts mentioned in some
message), ``turns_to_decision`` (turns until the episode ended by commitment; None if
it did not), ``words_per_turn``, and ``answer_first_named_at``: the relative position
(0..1) of the first message naming the answer (Zhou et al. 2024: 0.13 for an omniscient
writer against 0.39 for separate agents on MutualFriends).
"""

from __future__ import annotations

from pydantic import BaseModel

from privy.evaluators.base import Finding, Score
from privy.evaluators.ledger import Ledger, find_all
from privy.evaluators.prefilter import lowered
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


def _first_mentions(episode: Episode) -> dict[str, Message | None]:
    """The first message mentioning each needed fact (from the fact ledger: a mention has spans)."""
    s = episode.scenario
    ids = {f.id for f in s.facts}
    for fid in s.task.needed_facts:
        if fid not in ids:
            raise KeyError(fid)  # as Scenario.fact would
    ledger = Ledger.of(episode)
    return {fid: (episode.messages[i] if (i := ledger.first_mention(fid)) is not None else None)
            for fid in s.task.needed_facts}


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
        decided = episode.outcome.ended_by == "committed"
        return Score(
            evaluator=self.name,
            value=share,
            metrics={
                "needed_disclosed": share,
                "turns_to_decision": float(episode.outcome.turns) if decided else None,
                "words_per_turn": x.words_per_turn,
                "answer_first_named_at": x.answer_first_named_at,
            },
            findings=findings,
        )
