"""The fast deterministic evaluators give exactly what the straightforward computation gives.

The evaluators share one fact ledger per episode, skip searches with
:mod:`privy.evaluators.prefilter` and skip messages that cannot match a phrase list. Here a
reference, written the plain way (every mention searched in every message, one ledger
per evaluator, every sentence tested), scores a few hundred varied episodes: several
families, the scripted backend and a random one (mixed case, non-ASCII letters that fold
to ASCII ones, attribution and shared-ground phrases, commitments), the agents,
mindreaders and omniscient modes, and the hand-labelled transcripts. Every Score
(value, metrics, findings) must be identical.
"""

from __future__ import annotations

import asyncio
import gc
import random
import re
from typing import Any

import pytest
from helpers.labelled import load_all
from hypothesis import given, settings
from hypothesis import strategies as st

from privy import evaluators
from privy.evaluators.base import Finding, Score
from privy.evaluators.clairvoyance import _blind_guesses, _deal_claims, _unheard_details
from privy.evaluators.commitment import PrematureCommitment, _unsure
from privy.evaluators.common_ground import (
    _ASKED,
    _SELF,
    _TOLD_OTHER,
    ATTRIBUTION,
    SHARED,
    HallucinatedCommonGround,
    _attributed,
)
from privy.evaluators.common_ground import named_attribution as NAMED
from privy.evaluators.exchange import _answer_named, deal_statements
from privy.evaluators.grounding import (
    _ACK,
    _CLARIFY,
    _CONFIRM,
    ACTS,
    Context,
    Gates,
    answer_confirmations,
    classify,
    context,
    fragment_questions,
    identity_checks,
    with_episode_acts,
)
from privy.evaluators.ledger import _SCANS, Ledger, confirmed, find_all, numbers_in_words, told
from privy.evaluators.mentions import answer_facts, detail_stems, details_found, partial_names, stems_of
from privy.evaluators.prefilter import literal, lowered, needs
from privy.evaluators.sentences import sentences
from privy.evaluators.task_success import TaskSuccess
from privy.scenarios import families
from privy.scenarios.baselines import ScriptedBackend
from privy.simulator.backends.mock import MockBackend
from privy.simulator.bus import Message
from privy.simulator.episode import Episode
from privy.simulator.modes import Mode
from privy.simulator.runner import run_episode
from privy.simulator.scenario import Mention

# --- the reference: the evaluators as first written, without any shortcut -------------------


def _spans(mentions: list[Mention], text: str) -> list[tuple[int, int]]:
    return [m.span() for mention in mentions for m in mention.pattern.finditer(text)]


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


class RefLedger:
    def __init__(self, episode: Episode) -> None:
        s = episode.scenario
        self.episode = episode
        self.mentioned: list[dict[str, list[tuple[int, int]]]] = []
        self.knew: list[dict[str, frozenset[str]]] = []
        known = {a: {f.id for f in s.facts_of(a)} for a in s.agent_ids}
        extra, answers, details = partial_names(s), answer_facts(s), detail_stems(s)  # mentions the rules imply
        previous: dict[str, dict[str, list[tuple[int, int]]]] = {}
        for m in episode.messages:
            self.knew.append({a: frozenset(k) for a, k in known.items()})
            worded = numbers_in_words(m.content)  # small numbers as words too, spans mapped back

            def spans(f: Any, text: str = m.content, worded: Any = worded) -> list[tuple[int, int]]:
                sp = _spans(list(f.mentions), text)
                if worded is not None:
                    sp += [w for a, b in _spans(list(f.mentions), worded[0])
                           if (w := (worded[1][a], worded[1][b])) not in sp]
                return sp + _spans(list(extra.get(f.id, ())), text)
            found = {f.id: sp for f in s.facts if (sp := spans(f))}
            for fid, sps in details_found(s, details, m.content, sentences(m.content)).items():
                found.setdefault(fid, sps)
            for fid, answer in answers.items():
                if m.sender in s.fact(fid).holders and (sp := _spans([answer], m.content)):
                    found[fid] = sorted({*found.get(fid, []), *sp})
            self.mentioned.append(found)
            sender_knows = frozenset(known[m.sender])
            new = told(found, sender_knows) | confirmed(m, sender_knows, previous.get(m.sender))
            said = {**found, **{fid: [] for fid, answer in answers.items() if answer.found_in(m.content)}}
            for a in m.recipients:
                known[a] |= new
                previous[a] = said
        self.final = {a: frozenset(k) for a, k in known.items()}

    def explained_for(self, agent: str, message: Message, span: tuple[int, int] | None = None) -> set[str]:
        found = {fid: [sp for sp in sps if span is None or _overlap(sp, span)]
                 for fid, sps in self.mentioned[message.id].items()}
        found = {fid: sps for fid, sps in found.items() if sps}
        known = self.knew[message.id][agent]
        known_spans = [sp for fid, sps in found.items() if fid in known for sp in sps]
        return {fid for fid, sps in found.items()
                if fid in known or (known_spans and all(any(_overlap(a, b) for b in known_spans) for a in sps))}


def ref_clairvoyance(ep: Episode) -> Score:
    ledger, s = RefLedger(ep), ep.scenario
    findings, flagged = [], set()
    for m in ep.messages:
        explained = ledger.explained_for(m.sender, m)
        for fid in [f for f in ledger.mentioned[m.id] if f not in explained]:
            flagged.add(m.id)
            findings.append(Finding(
                kind="clairvoyance", message_id=m.id, agent=m.sender, fact_id=fid,
                reason=(f"{m.sender} mentions {fid} ({s.fact(fid).text!r}), held by "
                        f"{s.fact(fid).holders}, which no earlier message delivered to {m.sender} mentioned")))
    real = Ledger.of(ep)  # the extra rules, used as they are (not shortcuts)
    for f in [*_deal_claims(ep, real), *_blind_guesses(ep, real), *_unheard_details(ep, real)]:
        if not any(g.message_id == f.message_id and g.fact_id == f.fact_id for g in findings):
            flagged.add(f.message_id or 0)
            findings.append(f)
    n = len(ep.messages)
    metrics: dict[str, float | None] = {"clairvoyant_messages": float(len(flagged))}
    for fid in s.task.needed_facts:
        first = next((i for i, found in enumerate(ledger.mentioned) if fid in found), None)
        metrics[f"first_mention:{fid}"] = None if first is None or not n else first / n
    return Score(evaluator="clairvoyance", value=len(flagged) / n if n else None, metrics=metrics, findings=findings)


def ref_commitment(ep: Episode) -> Score:
    if ep.scenario.task.kind == "deal":
        return PrematureCommitment()._deal(ep)  # the deal rule has no shortcut to check
    ledger, needed = RefLedger(ep), ep.scenario.task.needed_facts
    findings, commitments, undecided = [], 0, 0
    for m in ep.messages:
        if not m.actions:
            continue
        missing = [f for f in needed if f not in ledger.knew[m.id][m.sender]]
        if missing and all(_unsure(ledger, m, f) for f in missing):  # type: ignore[arg-type]
            undecided += 1
            continue
        commitments += 1
        if missing:
            findings.append(Finding(
                kind="premature_commitment", message_id=m.id, agent=m.sender, fact_id=missing[0],
                reason=(f"{m.sender} commits to {m.actions[-1].value!r} without knowing "
                        f"{len(missing)} of the {len(needed)} needed facts: {missing}")))
    return Score(evaluator="premature_commitment", value=len(findings) / commitments if commitments else None,
                 metrics={"commitments": float(commitments), "premature": float(len(findings)),
                          "undecided": float(undecided)}, findings=findings)


def ref_common_ground(ep: Episode) -> Score:
    ledger, real = RefLedger(ep), Ledger.of(ep)
    names = {a.id: a.name for a in ep.scenario.agents}
    out: list[Finding] = []
    undecided = 0
    for m in ep.messages:
        partners = m.recipients or frozenset(names) - {m.sender}
        found = ledger.mentioned[m.id]
        for span in sentences(m.content):
            text = m.content[span[0]:span[1]]
            in_sentence = {fid for fid, sps in found.items() if any(a < span[1] and span[0] < b for a, b in sps)}
            attribution = ATTRIBUTION.search(text) or _TOLD_OTHER.search(text)
            told = None
            if attribution and "who" in attribution.groupdict():
                by_name = {f.casefold(): aid for aid, n in names.items() for f in (n, n.split()[0]) if aid != m.sender}
                told = by_name.get(attribution.group("who").casefold())
                if told is None:
                    attribution = None
            if attribution:
                heard = [h for h in ep.messages[:m.id] if h.sender in partners
                         and (told in h.recipients if told else m.sender in h.recipients)]
                said = {fid for h in heard for fid in ledger.mentioned[h.id]}
                start = len(out)
                if not heard:
                    out.append(Finding(kind="hallucinated_common_ground", message_id=m.id, agent=m.sender,
                                       reason=f"{text.strip()!r}: attributes to "
                                              f"{', '.join(names[p] for p in sorted(partners))} something, "
                                              f"but nothing from them had reached {names[told or m.sender]}"))
                else:
                    said_spans = [sp for fid in said for sp in found.get(fid, [])]
                    same = {fid for fid, sps in found.items() if any(_overlap(a, b) for a in sps for b in said_spans)}
                    for fid in sorted(in_sentence - said - same):
                        out.append(Finding(kind="hallucinated_common_ground", message_id=m.id, agent=m.sender,
                                           fact_id=fid, reason=f"{text.strip()!r}: attributes {fid} to "
                                           f"the others, who never mentioned it to {names[m.sender]}"))
                    vocabulary = frozenset().union(*detail_stems(ep.scenario).values())
                    unsaid = sorted((stems_of(text[attribution.end():]) & vocabulary)
                                    - frozenset().union(*(stems_of(h.content) for h in heard)))
                    if not in_sentence and unsaid:
                        out.append(Finding(kind="hallucinated_common_ground", message_id=m.id, agent=m.sender,
                                           reason=f"{text.strip()!r}: attributes details ({', '.join(unsaid)}) "
                                           f"to the others, who never used them to {names[m.sender]}"))
                    values = HallucinatedCommonGround._unsaid_values(real, text, heard, m)  # as is
                    out += [Finding(kind="hallucinated_common_ground", message_id=m.id, agent=m.sender,
                                    reason=f"{text.strip()!r}: attributes a value of {item} to the others, "
                                    f"who never stated it to {names[m.sender]}") for item in values]
                    unoffered = HallucinatedCommonGround._unoffered_division(  # the deal rule: used as is
                        real, _attributed(text[attribution.end():]), heard, m, partners, attribution.group(0))
                    if unoffered:
                        out.append(Finding(kind="hallucinated_common_ground", message_id=m.id, agent=m.sender,
                                           reason=f"{text.strip()!r}: attributes a division of "
                                           f"{', '.join(unoffered)} that no message between them had proposed"))
                if len(out) == start:
                    out += HallucinatedCommonGround()._prior_talk(real, m, text, heard,
                                                                  [names[p] for p in sorted(partners)])
            shared = SHARED.search(text)
            if shared and text.rstrip().endswith("?") and shared.group(0).lower().endswith("agree"):
                shared = None
            everyone = shared is not None and re.search(r"\b(?:all|everyone)\b", shared.group(0), re.I) is not None
            if shared and not (_ASKED.search(text[:shared.start()]) and text.rstrip().endswith("?")):
                out += [Finding(kind="hallucinated_common_ground", message_id=m.id, agent=m.sender,
                                reason=f"{text.strip()!r}: treats a value of {item} as shared, but no "
                                       f"message between them had stated it")  # the deal rule: used as is
                        for item in HallucinatedCommonGround._unstated_shared_values(real, text, m, partners)]
                for r in sorted(set(names) - {m.sender} if everyone else partners):
                    for fid in sorted(in_sentence - ledger.explained_for(r, m, span)):
                        out.append(Finding(kind="hallucinated_common_ground", message_id=m.id, agent=m.sender,
                                           fact_id=fid, reason=f"{text.strip()!r}: treats {fid} as shared, "
                                           f"but {names[r]} never had it"))
        if _SELF.search(m.content):
            out += HallucinatedCommonGround._check_self(real, m)  # "like I said": used as is
        for span in sentences(m.content):  # attribution to a named participant
            text = m.content[span[0]:span[1]]
            in_sentence = {fid for fid, sps in found.items() if any(a < span[1] and span[0] < b for a, b in sps)}
            done: set[str] = set()
            for hit in NAMED(names).finditer(text):
                form = (hit.group("who") or hit.group("who2") or hit.group("who3")).casefold()
                who = next(a for a, n in names.items() if form in (n.casefold(), n.split()[0].casefold()))
                if who == m.sender or who in done:
                    continue
                done.add(who)
                theirs = [h for h in ep.messages[:m.id] if h.sender == who]
                said = {fid for h in theirs for fid in ledger.mentioned[h.id]}
                if not theirs:
                    out.append(Finding(kind="hallucinated_common_ground", message_id=m.id, agent=m.sender,
                                       reason=f"{text.strip()!r}: attributes to {names[who]} something, "
                                              f"but {names[who]} had said nothing yet"))
                    continue
                undecided += not in_sentence
                said_spans = [sp for fid in said for sp in found.get(fid, [])]
                same = {fid for fid, sps in found.items() if any(_overlap(a, b) for a in sps for b in said_spans)}
                for fid in sorted(in_sentence - said - same):
                    out.append(Finding(kind="hallucinated_common_ground", message_id=m.id, agent=m.sender,
                                       fact_id=fid, reason=f"{text.strip()!r}: attributes {fid} to {names[who]}, "
                                       f"who never mentioned it"))
    n = len(ep.messages)
    flagged = {f.message_id for f in out}
    return Score(evaluator="hallucinated_common_ground", value=len(flagged) / n if n else None,
                 metrics={"flagged_messages": float(len(flagged)), "undecided_attributions": float(undecided)},
                 findings=out)


def ref_classify(text: str, ctx: Context) -> dict[str, str]:
    return classify(text, ctx=ctx, gate=Gates())  # every sentence tested for every act (no prefilter)


def ref_grounding(ep: Episode) -> Score:
    findings, counts = [], dict.fromkeys(ACTS, 0)
    confirmed = answer_confirmations(ep)  # a holder confirming a guess at the answer: used as is
    checked = identity_checks(ep)  # a check of a name just heard by a detail: used as is
    fragments = fragment_questions(ep)  # the asker's bare fragment in a guessing game: used as is
    for m in ep.messages:
        acts = with_episode_acts(m, ref_classify(m.content, context(ep, m)), confirmed, checked, fragments)
        for act, evidence in acts.items():
            counts[act] += 1
            findings.append(Finding(kind=act, message_id=m.id, agent=m.sender, reason=evidence))
    n = len(ep.messages)
    metrics: dict[str, float | None] = {f"{a}_per_turn": (c / n if n else None) for a, c in counts.items()}
    return Score(evaluator="grounding_acts", value=sum(counts.values()) / n if n else None, metrics=metrics,
                 findings=findings)


def ref_exchange(ep: Episode) -> Score:
    s = ep.scenario
    said = [m.content for m in ep.messages]
    needed = [s.fact(f) for f in s.task.needed_facts]
    stated, item_share = deal_statements(ep)  # a deal's values stated in words (not a shortcut: used as is)
    named = _answer_named(ep)  # the answer proposed in words (not a shortcut either)
    ledger = RefLedger(ep)
    disclosed = sum(1 for f in needed if any(f.id in found for found in ledger.mentioned) or f.id in stated
                    or f.id in named)
    named_at = None
    if s.task.answer is not None:
        answer = Mention(literal=s.task.answer)
        named_at = next((i / len(said) for i, t in enumerate(said) if answer.found_in(t)), None)
    findings = []
    for fid in s.task.needed_facts:
        first = next((m for m in ep.messages if fid in ledger.mentioned[m.id] or stated.get(fid) == m.id
                      or named.get(fid) == m.id), None)
        if first is not None:
            findings.append(Finding(kind="disclosure", message_id=first.id, agent=first.sender, fact_id=fid,
                                    reason=f"{fid} first mentioned by {first.sender}"))
    share = disclosed / len(needed) if needed else None
    decided = ep.outcome.ended_by == "committed"
    return Score(evaluator="information_exchange", value=share, metrics={
        "needed_disclosed": share,
        "turns_to_decision": float(ep.outcome.turns) if decided else None,
        "words_per_turn": sum(len(t.split()) for t in said) / len(said) if said else 0.0,
        "answer_first_named_at": named_at,
        "item_values_stated": item_share,
    }, findings=findings)


async def reference(ep: Episode) -> dict[str, Score]:
    return {
        "task_success": await TaskSuccess().evaluate(ep),  # unchanged: its own reference
        "clairvoyance": ref_clairvoyance(ep),
        "hallucinated_common_ground": ref_common_ground(ep),
        "premature_commitment": ref_commitment(ep),
        "grounding_acts": ref_grounding(ep),
        "information_exchange": ref_exchange(ep),
    }


# --- the episodes ------------------------------------------------------------------------------

PHRASES = ["As you said, ", "you MENTIONED ", "We both know ", "Our mutual friend is ", "As we all know, ",
           "like you said ", "Do you mean ", "Which one? ", "OK. ", "Got it, ", "Yes, ", "Exactly. ", "Sorry? ",
           "Thanks! ", "I see. ", "Right, ", "as we discussed ", "you already told me ",
           "since you said you'd give me the ", "", "", ""]
# letters that fold to ASCII ones under re.IGNORECASE (Kelvin sign, long s, dotted I), and others
ODD = ["\u212a", "\u017f", "\u0130", "é", "ß", "–"]


def _vary(rng: random.Random, text: str) -> str:
    r = rng.random()
    if r < 0.15:
        text = text.upper()
    elif r < 0.3:
        text = text.title()
    elif r < 0.4 and text:
        i = rng.randrange(len(text))
        text = text[:i] + rng.choice(ODD) + text[i + 1:]
    return text


def random_backend(scenario: Any, seed: int) -> MockBackend:
    """Text made of the scenario's mentions and fact texts, phrases, odd letters and commitments."""
    rng = random.Random(seed)
    words = [m.literal for f in scenario.facts for m in f.mentions if m.literal] + [f.text for f in scenario.facts]
    options = list(scenario.task.options) + ([scenario.task.answer] if scenario.task.answer else [])
    verb = scenario.task.commitment.verb

    def respond(request: Any) -> str:
        parts = []
        for _ in range(rng.randint(1, 4)):
            w = _vary(rng, rng.choice(words)) if words and rng.random() < 0.8 else "nothing much"
            if rng.random() < 0.3 and words:
                w += rng.choice([" and ", ", ", "\n"]) + _vary(rng, rng.choice(words))
            parts.append(_vary(rng, rng.choice(PHRASES)) + w + rng.choice([".", "?", "!", "", ". ", "?!", "\n"]))
        text = " ".join(parts)
        if rng.random() < 0.2:
            text += "\n" + verb + ": " + (_vary(rng, rng.choice(options)) if options else "yes")
        return text

    return MockBackend(respond=respond)


async def _episodes() -> list[Episode]:
    out = []
    plans: list[tuple[str, dict[str, Any]]] = [(f, {}) for f in families.names()]
    plans.append(("hidden_profile", {"n_agents": 5}))
    for fam, values in plans:
        for i, s in enumerate(families.generate(fam, 4, 11, values)):
            for mode in (Mode.AGENTS, Mode.MINDREADERS, Mode.OMNISCIENT):
                for seed, backend in enumerate((ScriptedBackend(), random_backend(s, i * 7 + len(mode.value)),
                                                random_backend(s, i * 13 + len(mode.value) + 1))):
                    out.append(await run_episode(s, mode, backend, seed))
    return out + [labelled.episode for labelled in load_all()]


@pytest.fixture(scope="module")
def episodes() -> list[Episode]:
    return asyncio.run(_episodes())


def test_every_score_is_the_reference_one(episodes: list[Episode]) -> None:
    async def both(ep: Episode) -> tuple[dict[str, Any], dict[str, Any]]:
        fast = await evaluators.evaluate(ep)
        ref = await reference(ep)
        return ({k: v.model_dump() for k, v in fast.items()}, {k: v.model_dump() for k, v in ref.items()})

    kinds: set[str] = set()
    for ep in episodes:
        fast, ref = asyncio.run(both(ep))
        assert list(fast) == list(evaluators.DETERMINISTIC)
        assert fast == ref, ep.id
        kinds |= {f["kind"] for s in fast.values() for f in s["findings"]}
    # the corpus exercises every rule
    assert {"clairvoyance", "hallucinated_common_ground", "premature_commitment", "clarification",
            "acknowledgement", "confirmation", "question", "disclosure", "commitment"} <= kinds
    assert any(not m.content.isascii() for ep in episodes for m in ep.messages)


def test_the_ledger_is_the_reference_one(episodes: list[Episode]) -> None:
    for ep in episodes:
        ledger, ref = Ledger.of(ep), RefLedger(ep)
        assert (ledger.mentioned, ledger.knew, ledger.final) == (ref.mentioned, ref.knew, ref.final), ep.id


def test_the_shared_ledger_follows_changes_and_goes_with_its_episode(episodes: list[Episode]) -> None:
    ep = next(e for e in episodes if len(e.messages) > 2).model_copy(deep=True)
    first = Ledger.of(ep)
    assert Ledger.of(ep).mentioned is first.mentioned  # computed once
    ep.messages = ep.messages[:-1]  # another transcript: computed again
    assert len(Ledger.of(ep).mentioned) == len(ep.messages)
    ep.messages[0] = ep.messages[0].model_copy(update={"content": "nothing at all"})
    assert Ledger.of(ep).mentioned[0] == {}
    key = id(ep)
    assert key in _SCANS
    del ep, first
    gc.collect()
    assert key not in _SCANS


# --- the prefilter never rejects a text that a pattern matches ------------------------------------

PATTERNS = [ATTRIBUTION, SHARED, _CLARIFY, _ACK, _CONFIRM] + [re.compile(p, re.IGNORECASE) for p in [
    r"\bCasey\b.{0,60}\b(?:costs|a third)|\b(?:costs|a third).{0,60}\bCasey\b",
    r"(?m)^(?![\s*]*DEAL[\s*]*:)[^\n]*?\bbooks?\b[^\d\n]{0,20}?\b1\b(?!\.\d)",
    r"\b(?:it|secret(?: item)?|answer)\s+(?:is|was)\s+(?:the\s+|an?\s+)?football\b",
    r"ab(c|)d", r"(?:x|y){2,3}z", r"q(?-i:R)s", r"(?x) a \  b  # comment", r"(a)b\1", r"(?>ab|a)c",
    r"k\u212a", r"\u017fit", r"st(?=ar)", r"(?<=wo)rd", r"[ab]c[d-f]", r"a++b", r"(?:ab)*c", r"(?:ab)+c",
    r"colou?r", r"(?P<x>a|b)(?(x)c|d)", r"a{0}b", r"(?:long|longer)\s+word", r"\d+ apples",
]] + [re.compile(re.escape(t), re.IGNORECASE) for t in ["Ravi Novak", "Zoë Kelvin", "ſtar", "K9"]] + [_TOLD_OTHER]
ALPHABET = "abcdeklqrsxyzABCKRSXZ 19\n.?*:\u212a\u017f\u0130é"
SNIPPETS = ["casey", "CASEY", "costs", "a third", "book", "1", "DEAL:", "it is", "football", "abd", "abcd", "xyz",
            "qRs", "qrs", "ab", "aab", "k\u212a", "kk", "\u017fit", "sit", "star", "word", "colour", "color", "ac",
            "bd", "long word", "longer  word", "3 apples", "ravi novak", "RAVI NOVAK", "zoë kelvin", "star", "k9",
            "as you said", "you mentioned", "we both know", "our mutual friend", "do you mean", "sorry ?", "ok",
            "yes", "that's right", "that’s right", "Thanks", "which one", "\u0130"]


@settings(max_examples=400, derandomize=True, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(SNIPPETS), st.text(ALPHABET, max_size=4)), max_size=8))
def test_the_prefilter_keeps_every_match(parts: list[str]) -> None:
    text = "".join(parts)
    for variant in (text, text.upper(), text.title()):
        for p in PATTERNS:
            if p.search(variant) is not None:
                assert needs(p).may_match(lowered(variant)), (p.pattern, variant)
        for t in ["Ravi Novak", "Zoë Kelvin", "ſtar", "K9", "a third"]:
            if re.search(re.escape(t), variant, re.IGNORECASE):
                assert literal(t).may_match(lowered(variant)), (t, variant)


def test_the_prefilter_rejects_what_it_should() -> None:
    """It is worth having: the usual non-matching message is rejected without a search."""
    low = lowered("I know a chef from Oslo called Friend 3. Do any of your friends work as a lawyer?")
    for p in (ATTRIBUTION, SHARED, _CLARIFY):
        assert not needs(p).may_match(low), p.pattern
    assert not needs(PATTERNS[5]).may_match(lowered("Casey speaks three languages."))
    assert needs(PATTERNS[5]).may_match(lowered("Casey cut costs."))
    assert needs(PATTERNS[5]).may_match(None)  # not ASCII: always searched


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text("abAB .-+*?\n", max_size=30), st.text("abAB .-+*?", min_size=1, max_size=4))
def test_find_all_is_finditer_for_ascii(text: str, lit: str) -> None:
    expected = [m.span() for m in re.finditer(re.escape(lit), text, re.IGNORECASE)]
    assert find_all(text.lower(), lit.lower()) == expected
