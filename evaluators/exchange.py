"""Information exchange, read from the fact ledger of an episode (no LLM).

``answer_first_named_at`` is the measure of Zhou et al. (2024): the relative position
(0..1) of the first message that names the answer. An omniscient writer names the
shared friend early (0.13 with GPT-3.5) where separate agents must first ground it
(0.39).
"""

from __future__ import annotations

from pydantic import BaseModel

from simulator.episode import Episode
from simulator.scenario import Mention


class ExchangeScore(BaseModel):
    needed_disclosed: int
    needed_total: int
    answer_first_named_at: float | None  # None: never named
    words_per_turn: float


def answer_first_named_at(episode: Episode) -> float | None:
    """Relative position in 0..1 of the first message naming the answer (None if never)."""
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
