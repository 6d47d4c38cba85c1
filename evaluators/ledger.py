"""The fact ledger: who knew which fact, from when, read from the messages alone.

An agent knows a fact from the start if it is one of its holders, and from message
``i`` on if a message delivered to it before ``i`` mentions the fact (by the fact's
``mentions``). Several facts may share a mention (two agents' entries for the same
friend); a mention is *explained* for a speaker when any fact it knows matches the
same words.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.bus import Message
from simulator.episode import Episode
from simulator.scenario import Fact


def spans(fact: Fact, text: str) -> list[tuple[int, int]]:
    """Character spans of ``text`` where the fact is mentioned."""
    return [m.span() for mention in fact.mentions for m in mention.pattern.finditer(text)]


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


@dataclass
class Ledger:
    """Facts mentioned in each message and what each agent knew before each message."""

    episode: Episode
    mentioned: list[dict[str, list[tuple[int, int]]]] = field(default_factory=list)
    knew: list[dict[str, frozenset[str]]] = field(default_factory=list)  # before message i
    final: dict[str, frozenset[str]] = field(default_factory=dict)  # after the last message

    @classmethod
    def of(cls, episode: Episode) -> Ledger:
        s = episode.scenario
        ledger = cls(episode)
        known = {a: {f.id for f in s.facts_of(a)} for a in s.agent_ids}
        for m in episode.messages:
            ledger.knew.append({a: frozenset(k) for a, k in known.items()})
            found = {f.id: sp for f in s.facts if (sp := spans(f, m.content))}
            ledger.mentioned.append(found)
            # Delivered means received: a sender's own message teaches it nothing (its
            # unexplained mentions stay unexplained; naming its own friend does not tell it
            # that the partner has the same friend).
            for a in m.recipients:
                known[a] |= set(found)
        ledger.final = {a: frozenset(k) for a, k in known.items()}
        return ledger

    def known_before(self, agent: str, message_id: int) -> frozenset[str]:
        return self.knew[message_id][agent]

    def explained_for(self, agent: str, message: Message, span: tuple[int, int] | None = None) -> set[str]:
        """Facts mentioned in ``message`` (within ``span``) that ``agent`` knew or that share words with one it knew."""
        found = {fid: [sp for sp in sps if span is None or _overlap(sp, span)]
                 for fid, sps in self.mentioned[message.id].items()}
        found = {fid: sps for fid, sps in found.items() if sps}
        known = self.knew[message.id][agent]
        known_spans = [sp for fid, sps in found.items() if fid in known for sp in sps]
        return {fid for fid, sps in found.items()
                if fid in known or any(_overlap(a, b) for a in sps for b in known_spans)}

    def unexplained(self, message: Message) -> list[str]:
        """Facts ``message`` mentions that its sender could not know then.

        A mention is explained when a fact the sender knew is mentioned by overlapping
        words (both lists name the same friend: the sender may say the name).
        """
        explained = self.explained_for(message.sender, message)
        return [fid for fid in self.mentioned[message.id] if fid not in explained]

    def first_mention(self, fact_id: str) -> int | None:
        return next((i for i, found in enumerate(self.mentioned) if fact_id in found), None)

    def delivered_to(self, agent: str, before: int) -> list[Message]:
        return [m for m in self.episode.messages[:before] if agent in m.recipients]
