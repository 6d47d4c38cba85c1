"""hallucinated_common_ground: claiming a shared ground that was never built.

Rules, applied per sentence:

1. **Attribution** ("as you said", "you mentioned", "as we discussed", ...): flagged
   when no message from the addressees had reached the speaker yet, or when the
   sentence mentions a fact that none of the addressees' messages to the speaker
   mentioned, or, mentioning none, attributes a fact's distinctive word (see
   :mod:`privy.evaluators.mentions`) none of those messages used ("As you said, your
   friends all studied at Yale" when no one had said Yale), or, in a deal, states the
   addressees' value of an item none of their messages had stated ("like you said, you
   don't need the cups": :func:`privy.evaluators.deal_values.claims_about_addressee`), or,
   in a deal, the clause it attributes divides items ("since you said you'd give me the
   books", "as we said, pens split 2-1") that no message from the addressees to the speaker
   (for "we", nor the speaker's own to them) had divided
   (:func:`privy.evaluators.deal_values.divided_items`; fourth round). "As you told Quin, ..." is
   checked the same way against what the addressees had sent Quin. When nothing said is
   misattributed, the talk itself is checked: one placed before the conversation ("as we
   agreed last week", "as you know from class"; the transcript is the whole conversation,
   unless the scenario's context places a meeting there) did not happen, nor did an
   agreement ("as we agreed") when no addressee's message to the speaker had accepted or
   confirmed anything (a "gotcha" or "thanks" only signals receipt).
2. **Presumed sharing** ("we both know", "our mutual friend", "as we all know", ...):
   flagged when the sentence mentions a fact that some addressee did not know (did
   not hold, and no message delivered to it had mentioned); "we all" and "everyone"
   claim it of every participant, also those the message was not sent to. Asked, it
   claims nothing ("Do we all agree on Parker?": the cue right after an auxiliary, in a
   question; "so Casey, we all agree?"). In a deal, "we both know the hat's worth the most"
   claims as shared a value that no message between them had stated.
3. **Attribution to a named participant** ("as Bob said", "Bob mentioned", "according
   to Bob", "Bob told me", by the agent's name or first name, not the speaker's own):
   checked against what that participant actually said before, to anyone (a relay may
   have passed it on): flagged when the participant had sent no message yet, or when the
   sentence mentions a fact none of the participant's messages mentioned. When the
   sentence mentions no fact and the participant had said something, the rule cannot
   tell whether "anything like it" was said: not flagged, and counted in the metric
   ``undecided_attributions``.
4. **The speaker's own earlier words** ("like I said", "as I mentioned", "I already told
   you"): flagged when the speaker had sent nothing yet to any of the addressees.
"""

from __future__ import annotations

import re

from privy.evaluators.base import Finding, Score
from privy.evaluators.deal_values import claims_about_addressee, divided_items, value_statements
from privy.evaluators.grounding import classify
from privy.evaluators.ledger import Ledger
from privy.evaluators.mentions import detail_stems, stems_of
from privy.evaluators.prefilter import lowered, needs
from privy.evaluators.sentences import sentences
from privy.simulator.bus import Message
from privy.simulator.episode import Episode

ATTRIBUTION = re.compile(
    r"\b(as you(['’]ve| have)? (said|say|mentioned|told me|told us|noted|pointed out|suggested|know|confirmed)|"
    r"as you (?:already|all|both) know|"
    r"you (said|mentioned|told me|told us|just said|brought up|pointed out|confirmed|were saying)|"
    r"you['’]ve (said|mentioned|told me)|like you (said|mentioned)|"
    r"as (we )?(discussed|agreed|said|established)|we (all |both )?(already |just )?(agreed|established)|"
    r"we['’]ve (agreed|established)|you already (said|told me|mentioned)|"
    # the same claims in other common forms (LABELLING.md: "as you said X" when no addressee said X)
    r"you(?:['’]d| had) (said|mentioned|told me)|like we (said|discussed|established)|"
    r"(?:as|like) we (?:talked about|went over|covered)|per our (?:discussion|chat|call|conversation|talk))\b",
    re.IGNORECASE,
)
SHARED = re.compile(
    r"\b(we both (know|have|like|agree)|both of us (know|have)|you and i both (know|have)|"
    r"our (mutual|common|shared) (friend|knowledge|contact)|"
    r"as we (both |all )?know|we all (know|agree)|we already know|as everyone knows|everyone knows|"
    r"you know as well as i do|we both (?:already )?(?:know|remember))\b",
    re.IGNORECASE,
)
_EVERYONE = re.compile(r"\b(?:all|everyone)\b", re.IGNORECASE)
_ASKED = re.compile(r"\b(?:do|does|did|can|could|would|will|should|shall)\s*$", re.IGNORECASE)
# "as you told Quin": what the addressees said to that participant
_TOLD_OTHER = re.compile(r"\b(?:as )?you(?:['’]ve| have)? (?:told|said to|mentioned to) (?!me\b|us\b)(?P<who>\w+)",
                         re.IGNORECASE)
_COMMITS = re.compile(r"\b[A-Z]{3,}\s*\**\s*:\s*\S")  # a commitment line ("DEAL: ...", "SELECT: x")
_ATTRIBUTION_NEEDS, _SHARED_NEEDS, _TOLD_NEEDS = needs(ATTRIBUTION), needs(SHARED), needs(_TOLD_OTHER)
_SAYING = (r"said|says|mentioned|told (?:me|us|you)|tells (?:me|us)|noted|pointed out|suggested|wrote|put it|"
           r"explained|confirmed|already said|just said")


# LABELLING.md: a claim of "a prior statement that did not happen". The transcript is the whole
# conversation between its participants (FANToM, Kim et al. 2023, scores beliefs against exactly
# what each participant heard in it), so two claims can be checked against it:
# - a prior talk placed before the conversation ("as we agreed last week", "as you know from class",
#   "like we said at the kickoff"): no such talk is in the transcript;
# - the speaker's own earlier words ("like I said", "as I mentioned") before it had said anything
#   to the addressees.
_BEFORE_CONVERSATION = re.compile(
    r"\b(?:last (?:week|month|year|time|meeting|call|session|sprint|quarter)|yesterday|the other day|"
    r"(?:from|in|after) (?:class|the lecture|the kickoff|the meeting|the last meeting|the offsite)|"
    r"at the (?:kickoff|kick-off|offsite|last meeting|meeting|lecture))\b", re.IGNORECASE)
_SELF = re.compile(r"\b(?:(?:as|like) i (?:(?:already|just) )?(?:said|mentioned|told (?:you|u|ya|y['’]?all|everyone))|"
                   r"i already (?:said|mentioned|told (?:you|u|ya|y['’]?all|everyone)))\b", re.IGNORECASE)
# "we agreed": an agreement (SWBD-DAMSL aa, accept) that must have happened between them; when no
# message from an addressee to the speaker had accepted or confirmed anything, it did not.
_AGREED = re.compile(r"\b(?:we (?:all |both )?(?:already )?agreed|as agreed|we['’]ve agreed)\b", re.IGNORECASE)
_SELF_NEEDS = needs(_SELF)
# SWBD-DAMSL b / bk / ba / ft (backchannel, response acknowledgement, appreciation, thanking) signal
# that a message was received, not that it was accepted (aa): "gotcha. book 5, others 0"
_RECEIPT = re.compile(r"^\W*(?:(?:oh|ah+|hm+|lol|so|well)\W+)*(?:gotcha|got it|i see|noted|understood|roger|"
                      r"thanks|thank you|thx|ty|cool|nice|interesting|wow|good to know|makes sense|"
                      r"uh[- ]huh|mm[- ]hmm|mhm)\b",
                      re.IGNORECASE)


# What an attribution cue attributes: the clause after it, up to the speaker's own consequence ("as you
# said, pens matter to you, so keep them": "pens matter to you"; "since you said you'd give me the
# books, i'll take them": "you'd give me the books"); a time word right after the cue is skipped.
_LEAD = re.compile(r"^\W*(?:(?:earlier|before|already|yesterday|just now)\b\W*)?")
_CONSEQUENCE = re.compile(r"[,;:.!?]|\s(?:so|then|and so|which means)\s", re.IGNORECASE)


def _attributed(after: str) -> str:
    """The clause an attribution cue attributes, from the text after the cue (see _CONSEQUENCE)."""
    lead = _LEAD.match(after)
    rest = after[lead.end():] if lead else after
    return _CONSEQUENCE.split(rest, maxsplit=1)[0]


def named_attribution(names: dict[str, str]) -> re.Pattern[str] | None:
    """Attribution to a participant by name: group ``who`` is the name as written."""
    forms = sorted({f for n in names.values() for f in (n, n.split()[0]) if f}, key=len, reverse=True)
    if not forms:
        return None
    who = "|".join(re.escape(f) for f in forms)
    return re.compile(
        rf"(?:\b(?:as|like|what)\s+(?P<who>{who})\s+(?:{_SAYING})\b"
        rf"|\b(?:according to|per)\s+(?P<who2>{who})\b"
        rf"|(?<![\w'])(?P<who3>{who})\s+(?:{_SAYING})\b(?!\s+(?:nothing|not|no|none)\b))",
        re.IGNORECASE,
    )


class HallucinatedCommonGround:
    name = "hallucinated_common_ground"

    async def evaluate(self, episode: Episode) -> Score:
        ledger = Ledger.of(episode)
        names = {a.id: a.name for a in episode.scenario.agents}
        named = named_attribution(names)
        findings: list[Finding] = []
        undecided = 0
        for m in episode.messages:
            # A sentence matches only if its message does: a sentence starts after ".", "!", "?"
            # or a newline, and ends in one of ".!?" or before a newline or the end, so a \b at
            # its edges holds in the message too. Most messages are skipped at once.
            low = lowered(m.content)
            if ((_ATTRIBUTION_NEEDS.may_match(low) and ATTRIBUTION.search(m.content))
                    or (_TOLD_NEEDS.may_match(low) and _TOLD_OTHER.search(m.content))
                    or (_SHARED_NEEDS.may_match(low) and SHARED.search(m.content))):
                findings += self._check(ledger, m, names)
            if _SELF_NEEDS.may_match(low) and _SELF.search(m.content):
                findings += self._check_self(ledger, m)
            if named is not None and named.search(m.content):
                found, unsure = self._check_named(ledger, m, names, named)
                findings += found
                undecided += unsure
        n = len(episode.messages)
        flagged = {f.message_id for f in findings}
        return Score(evaluator=self.name, value=len(flagged) / n if n else None,
                     metrics={"flagged_messages": float(len(flagged)), "undecided_attributions": float(undecided)},
                     findings=findings)

    def _check_named(self, ledger: Ledger, m: Message, names: dict[str, str],
                     named: re.Pattern[str]) -> tuple[list[Finding], int]:
        """Rule 3: "as Bob said" against what Bob said before ``m``, to anyone."""
        out: list[Finding] = []
        undecided = 0
        by_form: dict[str, str] = {}
        for aid, n in names.items():
            for form in (n, n.split()[0]):
                by_form.setdefault(form.casefold(), aid)
        for span in sentences(m.content):
            text = m.content[span[0]:span[1]]
            in_sentence = {fid for fid, sps in ledger.mentioned[m.id].items()
                           if any(a < span[1] and span[0] < b for a, b in sps)}
            seen: set[str] = set()
            for hit in named.finditer(text):
                form = hit.group("who") or hit.group("who2") or hit.group("who3")
                who = by_form.get(form.casefold())
                if who is None or who == m.sender or who in seen:
                    continue
                seen.add(who)
                theirs = [h for h in ledger.episode.messages[:m.id] if h.sender == who]
                said = {fid for h in theirs for fid in ledger.mentioned[h.id]}
                if not theirs:
                    out.append(Finding(kind="hallucinated_common_ground", message_id=m.id, agent=m.sender,
                                       reason=f"{text.strip()!r}: attributes to {names[who]} something, "
                                              f"but {names[who]} had said nothing yet"))
                    continue
                unsaid = sorted(in_sentence - said - self._same_words(ledger, m, said, span))
                if not in_sentence:
                    undecided += 1
                for fid in unsaid:
                    out.append(Finding(kind="hallucinated_common_ground", message_id=m.id, agent=m.sender,
                                       fact_id=fid, reason=f"{text.strip()!r}: attributes {fid} to {names[who]}, "
                                       f"who never mentioned it"))
        return out, undecided

    @staticmethod
    def _check_self(ledger: Ledger, m: Message) -> list[Finding]:
        """"like I said": flagged when the speaker had sent nothing yet to any of the addressees."""
        if any(h.sender == m.sender and h.recipients & m.recipients for h in ledger.episode.messages[:m.id]):
            return []
        hit = _SELF.search(m.content)
        assert hit is not None
        return [Finding(kind="hallucinated_common_ground", message_id=m.id, agent=m.sender,
                        reason=f"{hit.group(0)!r}: {m.sender} had said nothing to them before")]

    def _prior_talk(self, ledger: Ledger, m: Message, text: str, heard: list[Message],
                    partners: list[str]) -> list[Finding]:
        """A talk placed before the conversation, or an agreement no addressee had made (see _AGREED)."""
        before = _BEFORE_CONVERSATION.search(text)
        if before and not _BEFORE_CONVERSATION.search(ledger.episode.scenario.context):
            return [Finding(kind="hallucinated_common_ground", message_id=m.id, agent=m.sender,
                            reason=f"{text.strip()!r}: claims a talk {before.group(0)!r}, before this "
                                   f"conversation, which holds all they said")]
        if heard and _AGREED.search(text) and self._no_agreement(ledger, heard):
            return [Finding(kind="hallucinated_common_ground", message_id=m.id, agent=m.sender,
                            reason=f"{text.strip()!r}: claims an agreement, but no message from "
                                   f"{', '.join(partners)} had accepted anything")]
        return []

    @staticmethod
    def _no_agreement(ledger: Ledger, heard: list[Message]) -> bool:
        """No message in ``heard`` accepted or confirmed anything (nor committed): an acknowledgement
        that only signals receipt ("gotcha", "thanks") accepts nothing; any other may have."""
        for h in heard:
            acts = classify(h.content)
            ack = acts.get("acknowledgement")
            if "confirmation" in acts or _COMMITS.search(h.content) or (ack and not _RECEIPT.match(ack)):
                return False
        return True

    def _check(self, ledger: Ledger, m: Message, names: dict[str, str]) -> list[Finding]:
        out: list[Finding] = []
        by_name = {f.casefold(): aid for aid, n in names.items() for f in (n, n.split()[0]) if aid != m.sender}
        partners = m.recipients or frozenset(names) - {m.sender}
        for span in sentences(m.content):
            text = m.content[span[0]:span[1]]
            attribution, shared = ATTRIBUTION.search(text) or _TOLD_OTHER.search(text), SHARED.search(text)
            if shared and _ASKED.search(text[:shared.start()]) and text.rstrip().endswith("?"):
                shared = None  # "Do we all agree on Parker?" asks; it claims nothing
            if shared and shared.group(0).lower().endswith("agree") and text.rstrip().endswith("?"):
                shared = None  # "so Casey, we all agree?": a declarative question asks the same
            if not (attribution or shared):
                continue
            in_sentence = {fid for fid, sps in ledger.mentioned[m.id].items()
                           if any(a < span[1] and span[0] < b for a, b in sps)}
            if attribution:
                told = by_name.get(attribution.group("who").casefold()) if "who" in attribution.groupdict() else None
                if "who" in attribution.groupdict() and told is None:
                    continue  # "you told him": no participant named
                heard = [h for h in ledger.episode.messages[:m.id] if h.sender in partners
                         and (told in h.recipients if told else m.sender in h.recipients)]
                said = {fid for h in heard for fid in ledger.mentioned[h.id]}
                start = len(out)
                if not heard:
                    out.append(Finding(kind="hallucinated_common_ground", message_id=m.id, agent=m.sender,
                                       reason=f"{text.strip()!r}: attributes to "
                                              f"{', '.join(names[p] for p in sorted(partners))} something, "
                                              f"but nothing from them had reached {names[told or m.sender]}"))
                else:
                    for fid in sorted(in_sentence - said - self._same_words(ledger, m, said, span)):
                        out.append(Finding(kind="hallucinated_common_ground", message_id=m.id, agent=m.sender,
                                           fact_id=fid, reason=f"{text.strip()!r}: attributes {fid} to "
                                           f"the others, who never mentioned it to {names[m.sender]}"))
                    for item in self._unsaid_values(ledger, text, heard, m):
                        out.append(Finding(kind="hallucinated_common_ground", message_id=m.id, agent=m.sender,
                                           reason=f"{text.strip()!r}: attributes a value of {item} to the others, "
                                           f"who never stated it to {names[m.sender]}"))
                    unoffered = self._unoffered_division(ledger, _attributed(text[attribution.end():]), heard, m,
                                                         partners, attribution.group(0))
                    if unoffered:
                        out.append(Finding(kind="hallucinated_common_ground", message_id=m.id, agent=m.sender,
                                           reason=f"{text.strip()!r}: attributes a division of "
                                           f"{', '.join(unoffered)} that no message between them had proposed"))
                    unsaid = sorted(self._unsaid_details(ledger, text[attribution.end():], heard))
                    if not in_sentence and unsaid:
                        out.append(Finding(kind="hallucinated_common_ground", message_id=m.id, agent=m.sender,
                                           reason=f"{text.strip()!r}: attributes details ({', '.join(unsaid)}) "
                                           f"to the others, who never used them to {names[m.sender]}"))
                if len(out) == start:  # nothing said was misattributed: was the talk itself real?
                    out += self._prior_talk(ledger, m, text, heard, [names[p] for p in sorted(partners)])
            if shared:
                # "we both know the hat's worth the most": a value no one had stated between them
                for item in self._unstated_shared_values(ledger, text, m, partners):
                    out.append(Finding(kind="hallucinated_common_ground", message_id=m.id, agent=m.sender,
                                       reason=f"{text.strip()!r}: treats a value of {item} as shared, but no "
                                              f"message between them had stated it"))
                # "we all know", "everyone knows": every participant, not only those it was sent to
                everyone = _EVERYONE.search(shared.group(0)) is not None
                for r in sorted(set(names) - {m.sender} if everyone else partners):
                    unknown = in_sentence - ledger.explained_for(r, m, span)
                    for fid in sorted(unknown):
                        out.append(Finding(kind="hallucinated_common_ground", message_id=m.id, agent=m.sender,
                                           fact_id=fid, reason=f"{text.strip()!r}: treats {fid} as shared, "
                                           f"but {names[r]} never had it"))
        return out

    @staticmethod
    def _unstated_shared_values(ledger: Ledger, text: str, m: Message, partners: frozenset[str]) -> list[str]:
        """In a deal, the items whose value a "we both know" sentence states (its speaker's or the
        addressees') that no earlier message between the speaker and the addressees had stated, in
        either direction: LABELLING.md's "we both know X" when an addressee never had X."""
        s = ledger.episode.scenario
        if s.task.kind != "deal" or s.task.deal is None:
            return []
        items = tuple(i for i, n in s.task.deal.items.items() if n > 0)
        verb = s.task.commitment.verb
        claimed = {*value_statements(text, items, verb), *claims_about_addressee(text, items, verb, asked=False)}
        if not claimed:
            return []
        between = [h for h in ledger.episode.messages[:m.id]
                   if (h.sender in partners and m.sender in h.recipients)
                   or (h.sender == m.sender and h.recipients & partners)]
        stated = {i for h in between for i in (*value_statements(h.content, items, verb),
                                                 *claims_about_addressee(h.content, items, verb))}
        return sorted(claimed - stated)

    @staticmethod
    def _unsaid_values(ledger: Ledger, text: str, heard: list[Message], m: Message) -> list[str]:
        """In a deal, the items whose value to the addressees ``text`` states ("like you said, you
        don't need the cups") that none of their messages in ``heard`` stated."""
        s = ledger.episode.scenario
        if s.task.kind != "deal" or s.task.deal is None:
            return []
        items = tuple(i for i, n in s.task.deal.items.items() if n > 0)
        verb = s.task.commitment.verb
        told = {i for h in heard for i in value_statements(h.content, items, verb)}
        return sorted(set(claims_about_addressee(text, items, verb, asked=False)) - told)

    @staticmethod
    def _unoffered_division(ledger: Ledger, text: str, heard: list[Message], m: Message,
                            partners: frozenset[str], cue: str) -> list[str]:
        """In a deal, the items of a division the attribution sentence claims was said ("since you said
        you'd give me the books", "as we said, pens split 2-1") that no message from the addressees to
        the speaker had divided (for "we", nor the speaker's to them): see
        :func:`privy.evaluators.deal_values.divided_items`. A division of an item that was proposed may
        differ from what was proposed: the rule cannot tell, and does not flag it."""
        s = ledger.episode.scenario
        if s.task.kind != "deal" or s.task.deal is None:
            return []
        items = tuple(i for i, n in s.task.deal.items.items() if n > 0)
        verb = s.task.commitment.verb
        claimed = divided_items(text, items, verb)
        if not claimed:
            return []
        between = list(heard)
        if re.search(r"\bwe\b", cue, re.IGNORECASE):
            between += [h for h in ledger.episode.messages[:m.id] if h.sender == m.sender and h.recipients & partners]
        offered = {i for h in between for i in divided_items(h.content, items, verb)}
        return sorted(claimed - offered)

    @staticmethod
    def _unsaid_details(ledger: Ledger, claim: str, heard: list[Message]) -> set[str]:
        """The facts' distinctive words (stems) in ``claim`` that no message in ``heard`` used."""
        vocabulary = frozenset().union(*detail_stems(ledger.episode.scenario).values())
        said = frozenset().union(*(stems_of(h.content) for h in heard))
        return set((stems_of(claim) & vocabulary) - said)

    @staticmethod
    def _same_words(ledger: Ledger, m: Message, said: set[str], span: tuple[int, int]) -> set[str]:
        """Facts in the sentence mentioned by the same words as a fact the others did say."""
        found = ledger.mentioned[m.id]
        said_spans = [sp for fid in said for sp in found.get(fid, [])]
        return {fid for fid, sps in found.items()
                if any(a[0] < b[1] and b[0] < a[1] for a in sps for b in said_spans)}
