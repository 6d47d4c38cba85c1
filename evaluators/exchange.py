"""information_exchange: how much of what was needed got said, how fast, how verbosely.

Metrics: ``needed_disclosed`` (share of the task's needed facts mentioned in some
message), ``turns_to_decision`` (turns until the episode ended by commitment; None if
it did not), ``words_per_turn``, and ``answer_first_named_at``: the relative position
(0..1) of the first message naming the answer (Zhou et al. 2024: 0.13 for an omniscient
writer against 0.39 for separate agents on MutualFriends).
"""

from __future__ import annotations

from pydantic import BaseModel

from evaluators.base import Finding, Score
from simulator.episode import Episode
from simulator.scenario import Mention


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
    n = len(episode.messages)
    for i, m in enumerate(episode.messages):
        if answer.found_in(m.content):
            return i / n
    return None


def exchange(episode: Episode) -> ExchangeScore:
    s = episode.scenario
    needed = [s.fact(f) for f in s.task.needed_facts]
    said = [m.content for m in episode.messages]
    disclosed = sum(1 for f in needed if any(f.mentioned_in(t) for t in said))
    words = sum(len(t.split()) for t in said)
    return ExchangeScore(
        needed_disclosed=disclosed,
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
        for fid in s.task.needed_facts:
            first = next((m for m in episode.messages if s.fact(fid).mentioned_in(m.content)), None)
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
