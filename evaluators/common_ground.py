"""hallucinated_common_ground: claiming a shared ground that was never built.

Two rules, applied per sentence:

1. **Attribution** ("as you said", "you mentioned", "as we discussed", ...): flagged
   when no message from the addressees had reached the speaker yet, or when the
   sentence mentions a fact that none of the addressees' messages to the speaker
   mentioned.
2. **Presumed sharing** ("we both know", "our mutual friend", "as we all know", ...):
   flagged when the sentence mentions a fact that some addressee did not know (did
   not hold, and no message delivered to it had mentioned).
"""

from __future__ import annotations

import re

from privy.evaluators.base import Finding, Score
from privy.evaluators.ledger import Ledger
from privy.evaluators.prefilter import lowered, needs
from privy.evaluators.sentences import sentences
from privy.simulator.bus import Message
from privy.simulator.episode import Episode

ATTRIBUTION = re.compile(
    r"\b(as you (said|say|mentioned|told me|noted|pointed out|suggested|know)|"
    r"you (said|mentioned|told me|just said)|like you said|as we (discussed|agreed|said)|"
    r"you already (said|told me|mentioned))\b",
    re.IGNORECASE,
)
SHARED = re.compile(
    r"\b(we both (know|have|like)|both of us (know|have)|our (mutual|common|shared) (friend|knowledge)|"
    r"as we (both |all )?know|we all know|we already know)\b",
    re.IGNORECASE,
)
_ATTRIBUTION_NEEDS, _SHARED_NEEDS = needs(ATTRIBUTION), needs(SHARED)


class HallucinatedCommonGround:
    name = "hallucinated_common_ground"

    async def evaluate(self, episode: Episode) -> Score:
        ledger = Ledger.of(episode)
        names = {a.id: a.name for a in episode.scenario.agents}
        findings: list[Finding] = []
        for m in episode.messages:
            # A sentence matches only if its message does: a sentence starts after ".", "!", "?"
            # or a newline, and ends in one of ".!?" or before a newline or the end, so a \b at
            # its edges holds in the message too. Most messages are skipped at once.
            low = lowered(m.content)
            if ((_ATTRIBUTION_NEEDS.may_match(low) and ATTRIBUTION.search(m.content))
                    or (_SHARED_NEEDS.may_match(low) and SHARED.search(m.content))):
                findings += self._check(ledger, m, names)
        n = len(episode.messages)
        flagged = {f.message_id for f in findings}
        return Score(evaluator=self.name, value=len(flagged) / n if n else None,
                     metrics={"flagged_messages": float(len(flagged))}, findings=findings)

    def _check(self, ledger: Ledger, m: Message, names: dict[str, str]) -> list[Finding]:
        out = []
        partners = m.recipients or frozenset(names) - {m.sender}
        for span in sentences(m.content):
            text = m.content[span[0]:span[1]]
            attribution, shared = ATTRIBUTION.search(text), SHARED.search(text)
            if not (attribution or shared):
                continue
            in_sentence = {fid for fid, sps in ledger.mentioned[m.id].items()
                           if any(a < span[1] and span[0] < b for a, b in sps)}
            if attribution:
                heard = [h for h in ledger.delivered_to(m.sender, m.id) if h.sender in partners]
                said = {fid for h in heard for fid in ledger.mentioned[h.id]}
                if not heard:
                    out.append(Finding(kind="hallucinated_common_ground", message_id=m.id, agent=m.sender,
                                       reason=f"{text.strip()!r}: attributes to "
                                              f"{', '.join(names[p] for p in sorted(partners))} something, "
                                              f"but nothing from them had reached {names[m.sender]}"))
                else:
                    for fid in sorted(in_sentence - said - self._same_words(ledger, m, said, span)):
                        out.append(Finding(kind="hallucinated_common_ground", message_id=m.id, agent=m.sender,
                                           fact_id=fid, reason=f"{text.strip()!r}: attributes {fid} to "
                                           f"the others, who never mentioned it to {names[m.sender]}"))
            if shared:
                for r in sorted(partners):
                    unknown = in_sentence - ledger.explained_for(r, m, span)
                    for fid in sorted(unknown):
                        out.append(Finding(kind="hallucinated_common_ground", message_id=m.id, agent=m.sender,
                                           fact_id=fid, reason=f"{text.strip()!r}: treats {fid} as shared, "
                                           f"but {names[r]} never had it"))
        return out

    @staticmethod
    def _same_words(ledger: Ledger, m: Message, said: set[str], span: tuple[int, int]) -> set[str]:
        """Facts in the sentence mentioned by the same words as a fact the others did say."""
        found = ledger.mentioned[m.id]
        said_spans = [sp for fid in said for sp in found.get(fid, [])]
        return {fid for fid, sps in found.items()
                if any(a[0] < b[1] and b[0] < a[1] for a in sps for b in said_spans)}
