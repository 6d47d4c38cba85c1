"""The fact ledger: who knew which fact, from when, read from the messages alone.

An agent knows a fact from the start if it is one of its holders, and from message
``i`` on if a message delivered to it before ``i`` mentions the fact (by the fact's
``mentions``). Several facts may share a mention (two agents' entries for the same
friend); a mention is *explained* for a speaker when any fact it knows matches the
same words.

Scanning every message for every mention is the evaluators' main cost, and several of
them read the same episode, so :meth:`Ledger.of` computes it once per episode and keeps
it while the episode lives (a weak reference: no episode is kept alive); it computes it
again if the episode's scenario or messages are replaced, not if a scenario is changed
in place. The ledger's lists and dicts are shared between those readers: treat them as
read-only. A search that cannot match a message is skipped (:mod:`privy.evaluators.prefilter`).
"""

from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass, field
from functools import partial

from privy.evaluators.grounding import affirms
from privy.evaluators.mentions import answer_facts, detail_stems, details_found, partial_names, stems_of
from privy.evaluators.prefilter import Needs, literal, lowered, needs
from privy.evaluators.sentences import sentences
from privy.simulator.bus import Message
from privy.simulator.episode import Episode
from privy.simulator.scenario import Fact, Mention, Scenario

Span = tuple[int, int]


def _overlap(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _all_overlap(spans: list[Span], known: list[Span]) -> bool:
    """Does every span of ``spans`` overlap one of ``known`` (the same words name both facts)?

    One overlap is not enough: a pattern with a gap may reach over the mention of another fact
    about the same person ("avery's audits are spotless, and avery's reports rated avery the best
    manager": knowing the audits explains the first span, not the second, "avery the best manager")."""
    return all(any(_overlap(a, b) for b in known) for a in spans)


@dataclass(frozen=True)
class _Scan:
    """What :meth:`Ledger.of` computes from an episode's messages (nothing refers to the episode)."""

    scenario: object  # the scenario it was computed for (identity check)
    messages: tuple[Message, ...]  # the messages it was computed from (identity check)
    mentioned: list[dict[str, list[Span]]]
    knew: list[dict[str, frozenset[str]]]
    final: dict[str, frozenset[str]]
    derived: _Derived  # the scenario's derived mentions and details


def mention_needs(mention: Mention) -> Needs:
    """What any text where ``mention`` is found contains (see :mod:`privy.evaluators.prefilter`)."""
    return literal(mention.literal) if mention.literal is not None else needs(mention.pattern)


def _is_word(c: str) -> bool:
    return c.isalnum() or c == "_"  # ASCII: what \w matches


def find_all(low: str, word: str, whole: bool = False) -> list[Span]:
    """The spans ``re.finditer`` gives for a literal searched case-insensitively, both ASCII.

    ``low`` and ``word`` are the lowercased text and literal: for ASCII, a
    case-insensitive letter matches exactly its two cases, so these are the same
    non-overlapping leftmost matches, without compiling or running a pattern. With
    ``whole``, as :attr:`Mention.pattern` for ``match: word``: no word character may
    touch an end of the literal that is itself a word character.
    """
    out = []
    n = len(word)
    head = whole and _is_word(word[0])
    tail = whole and _is_word(word[-1])
    i = low.find(word)
    while i >= 0:
        if (head and i > 0 and _is_word(low[i - 1])) or (tail and i + n < len(low) and _is_word(low[i + n])):
            i = low.find(word, i + 1)
            continue
        out.append((i, i + n))
        i = low.find(word, i + n)
    return out


_ANY = Needs()  # needs nothing
# How to find one fact's mentions: its id; the lowercased ASCII literal that is its only
# mention, found by find_all in ASCII text, and whether as a whole word; else the one
# string its only mention needs, if so; and every mention with what it needs (see
# evaluators.prefilter).
_Fact = tuple[str, str | None, bool, str | None, list[tuple[Mention, Needs]]]


def _fact(fact: Fact) -> _Fact:
    only = fact.mentions[0] if len(fact.mentions) == 1 else None
    if only is not None and only.literal is not None and not only.near and only.literal.isascii():
        return fact.id, only.literal.lower(), only.whole_word, None, [(only, _ANY)]  # _ANY: for non-ASCII text only
    mentions = [(m, mention_needs(m)) for m in fact.mentions]
    return fact.id, None, False, mentions[0][1].only if only is not None else None, mentions


@dataclass(frozen=True)
class _Derived:
    """What the label definitions add to a scenario's mentions (see :mod:`privy.evaluators.mentions`)."""

    scenario: object  # identity check
    facts: list[_Fact]
    first: dict[str, tuple[Mention, ...]]  # fact id -> first- and last-name mentions, searched after its own
    answers: dict[str, Mention]
    details: dict[str, frozenset[str]]
    holders: dict[str, frozenset[str]]
    named_details: dict[str, frozenset[str]]  # details without the words of the fact's own mentions
    common_details: frozenset[str]  # stems that half the facts or more share ("studied")


_DERIVED: dict[int, _Derived] = {}  # id(scenario) -> its derived mentions; a few, the last scenarios seen


def _derived(s: Scenario) -> _Derived:
    d = _DERIVED.get(id(s))
    if d is None or d.scenario is not s:
        details = detail_stems(s)
        named = {f.id: details[f.id] - stems_of(" ".join(m.literal or "" for m in f.mentions)) for f in s.facts}
        every = list(named.values())
        common = frozenset(st for st in frozenset().union(*every) if 2 * sum(st in v for v in every) >= len(every))
        d = _Derived(s, [_fact(f) for f in s.facts], partial_names(s), answer_facts(s), details,
                     {f.id: frozenset(f.holders) for f in s.facts}, named, common)
        with _LOCK:
            if len(_DERIVED) >= 64:
                _DERIVED.clear()
            _DERIVED[id(s)] = d
    return d


def _scan(episode: Episode) -> _Scan:
    s = episode.scenario
    d = _derived(s)
    facts, extra, answers, details, holders = d.facts, d.first, d.answers, d.details, d.holders
    known = {a: frozenset(f.id for f in s.facts_of(a)) for a in s.agent_ids}
    mentioned: list[dict[str, list[Span]]] = []
    knew: list[dict[str, frozenset[str]]] = []
    messages = tuple(episode.messages)
    previous: dict[str, dict[str, list[Span]]] = {}  # agent -> what the last message delivered to it mentioned
    for m in messages:
        knew.append(dict(known))
        text = m.content
        low = lowered(text)
        worded = numbers_in_words(text)  # "a 12-person launch" read as "a twelve-person launch" too
        w_low = lowered(worded[0]) if worded is not None else None
        found: dict[str, list[Span]] = {}
        for fid, lit, whole, gate, mentions in facts:  # in fact order: a later fact found under the same id overrides
            sp = _fact_spans(lit, whole, gate, mentions, text, low)
            if worded is not None:
                w_text, origin = worded
                sp += [sp2 for a, b in _fact_spans(lit, whole, gate, mentions, w_text, w_low)
                       if (sp2 := (origin[a], origin[b])) not in sp]
            if fid in extra:  # a first name, after the fact's own mentions
                sp = [*sp, *_first_name_spans(extra[fid], text, low)]
            if sp:
                found[fid] = sp
        for fid, sps in details_found(s, details, text, sentences(text)).items():  # by distinctive details
            if fid not in found:
                found[fid] = sps
        for fid, answer in answers.items():  # the answer, said by a holder of the fact that states it
            if m.sender in holders[fid] and (sp := [hit.span() for hit in answer.pattern.finditer(text)]):
                found[fid] = sorted({*found.get(fid, []), *sp})
        mentioned.append(found)
        # Delivered means received: a sender's own message teaches it nothing (its
        # unexplained mentions stay unexplained; naming its own friend does not tell it
        # that the partner has the same friend).
        new = told(found, known[m.sender]) | confirmed(m, known[m.sender], previous.get(m.sender))
        said = {**found, **{fid: [] for fid, answer in answers.items() if answer.found_in(text)}}  # a guess at it
        for a in m.recipients:
            previous[a] = said
        for a in m.recipients:
            k = known[a]
            if not new <= k:
                known[a] = k | new
    return _Scan(s, messages, mentioned, knew, dict(known), d)


_DIGITS = re.compile(r"(?<![\d.,])\b(\d{1,2})\b(?![.,]\d)")
_NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                 "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"]


def numbers_in_words(text: str) -> tuple[str, list[int]] | None:
    """``text`` with its small numbers (0-20) written as words, and for every index of that text the
    index of ``text`` it comes from (one past the end too); None when it has none. LABELLING.md: a
    fact is mentioned "by its value", and "12" is the value "twelve" (a mention says one of them)."""
    parts: list[str] = []
    origin: list[int] = []
    last = 0
    for m in _DIGITS.finditer(text):
        n = int(m.group(1))
        if n > 20:
            continue
        word = _NUMBER_WORDS[n]
        parts += [text[last:m.start()], word]
        origin += [*range(last, m.start()), *([m.start()] * len(word))]
        last = m.end()
    if not parts:
        return None
    parts.append(text[last:])
    origin += [*range(last, len(text)), len(text)]
    return "".join(parts), origin


def _fact_spans(lit: str | None, whole: bool, gate: str | None, mentions: list[tuple[Mention, Needs]], text: str,
                low: str | None) -> list[Span]:
    """The spans of a fact's mentions in ``text`` (``low``: its lowercased ASCII form or None; ``lit``,
    ``whole``, ``gate``: see _Fact)."""
    if low is not None and lit is not None:
        return find_all(low, lit, whole) if lit in low else []
    if low is not None and gate is not None and gate not in low:
        return []
    return [hit.span() for mention, need in mentions if need.may_match(low) for hit in mention.pattern.finditer(text)]


def _first_name_spans(names: tuple[Mention, ...], text: str, low: str | None) -> list[Span]:
    out: list[Span] = []
    for mention in names:
        lit = mention.literal
        assert lit is not None
        if low is not None and lit.isascii():
            if lit.lower() in low:
                out += find_all(low, lit.lower(), True)
        else:
            out += [hit.span() for hit in mention.pattern.finditer(text)]
    return out


def told(found: dict[str, list[Span]], sender_knows: frozenset[str]) -> frozenset[str]:
    """The facts a message mentioning ``found`` tells: where exactly the same words name several
    facts (two lists with the same friend), only those its sender knew; all of them if it knew none."""
    own = {sp for fid, sps in found.items() if fid in sender_knows for sp in sps}
    return frozenset(fid for fid, sps in found.items() if fid in sender_knows or not own.issuperset(sps))


def confirmed(m: Message, sender_knows: frozenset[str], previous: dict[str, list[Span]] | None) -> frozenset[str]:
    """The facts ``m`` tells by confirming: it opens with a yes ("yes", "that is right", "exactly")
    to the last message delivered to its sender, which mentioned them (or, for an answer key,
    guessed its answer: "so 100?" - "right!"), and its sender knew them."""
    if not previous or not affirms(m.content):
        return frozenset()
    return frozenset(fid for fid in previous if fid in sender_knows)


# id(episode) -> (weak reference to it, its scan); an entry goes when its episode does
_SCANS: dict[int, tuple[weakref.ref[Episode], _Scan]] = {}
_LOCK = threading.Lock()


def _forget(key: int, ref: weakref.ref[Episode]) -> None:
    with _LOCK:
        entry = _SCANS.get(key)
        if entry is not None and entry[0] is ref:
            del _SCANS[key]


def _cached_scan(episode: Episode) -> _Scan:
    """The episode's scan, computed again only if its scenario or messages changed since."""
    key = id(episode)
    entry = _SCANS.get(key)
    if entry is not None and entry[0]() is episode:
        scan = entry[1]
        msgs = episode.messages
        if (scan.scenario is episode.scenario and len(scan.messages) == len(msgs)
                and all(a is b for a, b in zip(scan.messages, msgs, strict=True))):
            return scan
    scan = _scan(episode)
    ref = weakref.ref(episode, partial(_forget, key))
    with _LOCK:
        _SCANS[key] = (ref, scan)
    return scan


@dataclass
class Ledger:
    """Facts mentioned in each message and what each agent knew before each message."""

    episode: Episode
    mentioned: list[dict[str, list[Span]]] = field(default_factory=list)
    knew: list[dict[str, frozenset[str]]] = field(default_factory=list)  # before message i
    final: dict[str, frozenset[str]] = field(default_factory=dict)  # after the last message
    derived: _Derived | None = field(default=None, repr=False)  # the scenario's derived mentions, if known

    @classmethod
    def of(cls, episode: Episode) -> Ledger:
        scan = _cached_scan(episode)
        return cls(episode, scan.mentioned, scan.knew, scan.final, scan.derived)

    def known_before(self, agent: str, message_id: int) -> frozenset[str]:
        return self.knew[message_id][agent]

    def explained_for(self, agent: str, message: Message, span: Span | None = None) -> set[str]:
        """Facts mentioned in ``message`` (within ``span``) that ``agent`` knew or that share words with one it knew."""
        mentioned = self.mentioned[message.id]
        known = self.knew[message.id][agent]
        if not mentioned:
            return set()
        found = {fid: [sp for sp in sps if span is None or _overlap(sp, span)] for fid, sps in mentioned.items()}
        found = {fid: sps for fid, sps in found.items() if sps}
        known_spans = [sp for fid, sps in found.items() if fid in known for sp in sps]
        return {fid for fid, sps in found.items() if fid in known or (known_spans and _all_overlap(sps, known_spans))}

    def unexplained(self, message: Message) -> list[str]:
        """Facts ``message`` mentions that its sender could not know then.

        A mention is explained when a fact the sender knew is mentioned by the same words
        (both lists name the same friend: the sender may say the name): every span where
        the fact is found overlaps the mention of a fact it knew.
        """
        explained = self.explained_for(message.sender, message)
        return [fid for fid in self.mentioned[message.id] if fid not in explained]

    def details(self) -> tuple[dict[str, frozenset[str]], frozenset[str]]:
        """Fact id -> its distinctive words' stems (:func:`privy.evaluators.mentions.detail_stems`) without
        those of its own mentions, and the stems half the scenario's facts or more share (computed once
        per scenario)."""
        d = self.derived
        if d is None or d.scenario is not self.episode.scenario:
            d = _derived(self.episode.scenario)
        return d.named_details, d.common_details

    def first_mention(self, fact_id: str) -> int | None:
        return next((i for i, found in enumerate(self.mentioned) if fact_id in found), None)

    def delivered_to(self, agent: str, before: int) -> list[Message]:
        return [m for m in self.episode.messages[:before] if agent in m.recipients]
