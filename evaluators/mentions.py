"""The mentions the evaluators look for: a scenario's own, and those its label definitions imply.

``tests/data/LABELLING.md`` says a message mentions a fact "by its name, value or a
distinctive detail". A scenario lists its facts' ``mentions``; from the scenario alone,
with no transcript in view, two more follow:

- **first names**: a fact whose mention is a person's full name ("Maya Chen", two or
  more capitalised words) is also mentioned by the first name alone ("is Maya on your
  list"), when that first name is unambiguous in the scenario: no other fact's name
  begins with it (three facts about three Esthers: "Esther" names none of them), it is
  no agent's name, and the scenario's context does not use it. The same holds for the
  **last name** alone ("fischer! went to mcgill"), when it is also part of no other full
  name and no fact's text uses it as an ordinary word ("Park" beside "likes the park").
- **the answer, said by a holder**: in a task with an ``answer`` and no options, a
  needed fact whose text states that answer and which no committer holds (the secret
  item, an answer key) is told when one of its holders names the answer ("you got it,
  it's the sailboat", "Correct: 100 pennies").
  The same words from anyone else are a guess or a proposal, not a mention.
"""

from __future__ import annotations

import re
from functools import lru_cache

from privy.simulator.scenario import Mention, Scenario

_NAME = re.compile(r"^(?-i:[A-Z][\w'’-]*)(?:\s+(?-i:[A-Z][\w'’-]*))+$")


@lru_cache(maxsize=1024)
def _word(literal: str) -> Mention:
    return Mention(literal=literal)


def first_names(scenario: Scenario) -> dict[str, tuple[Mention, ...]]:
    """Fact id -> the first-name mentions it gains (only facts that gain some)."""
    return _name_parts(scenario, 0)


def last_names(scenario: Scenario) -> dict[str, tuple[Mention, ...]]:
    """Fact id -> the last-name mentions it gains ("fischer! went to mcgill" for Nikhil Fischer), under
    the first names' conditions, and used in no fact's text but as that name (a surname that is also
    an ordinary word of the scenario, "Park" beside "likes the park", names nothing)."""
    found = _name_parts(scenario, -1)
    if not found:
        return found
    names = [m.literal.strip() for f in scenario.facts for m in f.mentions
             if m.literal is not None and _NAME.match(m.literal.strip())]
    texts = " ".join(f.text for f in scenario.facts)
    for n in names:
        texts = re.sub(re.escape(n), " ", texts, flags=re.IGNORECASE)
    used = {w.casefold() for w in re.findall(r"[\w'’-]+", texts)}
    return {fid: kept for fid, ms in found.items()
            if (kept := tuple(m for m in ms if (m.literal or "").casefold() not in used))}


def partial_names(scenario: Scenario) -> dict[str, tuple[Mention, ...]]:
    """Fact id -> its first- and last-name mentions (see :func:`first_names`, :func:`last_names`)."""
    out = dict(first_names(scenario))
    for fid, ms in last_names(scenario).items():
        out[fid] = (*out.get(fid, ()), *ms)
    return out


def _name_parts(scenario: Scenario, part: int) -> dict[str, tuple[Mention, ...]]:
    """Fact id -> the mentions by one part of a full name (0: first, -1: last) it gains."""
    full: dict[str, set[str]] = {}  # name part -> the full names of facts that have it there
    owners: dict[str, set[str]] = {}  # name part -> fact ids
    for f in scenario.facts:
        for m in f.mentions:
            if m.literal is not None and m.whole_word and _NAME.match(m.literal.strip()):
                word = m.literal.split()[part]
                full.setdefault(word.casefold(), set()).add(m.literal.strip().casefold())
                owners.setdefault(word.casefold(), set()).add(f.id)
    taken = {w.casefold() for a in scenario.agents for w in a.name.split()}
    context = {w.casefold() for w in re.findall(r"[\w'’-]+", scenario.context)}
    every = {n for ns in full.values() for n in ns}  # every full name
    out: dict[str, tuple[Mention, ...]] = {}
    for word, names in full.items():
        if len(names) != 1 or word in taken or word in context:
            continue
        if part != 0 and any(word in n.split() for n in every - names):
            continue  # a last name that is part of another full name ("Lee Tan" and "Tan Wu")
        literal = next(iter(names)).split()[part]
        for fid in owners[word]:
            fact = scenario.fact(fid)
            original = next(m.literal.split()[part] for m in fact.mentions
                            if m.literal is not None and m.literal.split()[part].casefold() == literal)
            out[fid] = (*out.get(fid, ()), _word(original))
    return out


def answer_facts(scenario: Scenario) -> dict[str, Mention]:
    """Needed fact id -> the answer's mention, for the needed facts whose text states the answer."""
    task = scenario.task
    if not task.answer or task.options:  # among options, every fact about the answer names it
        return {}
    mention = _word(task.answer)
    committers = set(task.committers or scenario.agent_ids)
    return {fid: mention for fid in task.needed_facts
            if mention.found_in(scenario.fact(fid).text) and not committers & set(scenario.fact(fid).holders)}


_STOP = frozenset(re.findall(r"\w+", """
about above after again against also among another because been before being below between both
cannot could does doing down during each either every from further have having here into itself
just more most much must never only other ought over same should since some such than that their
theirs them then there these they this those through under until very were what when where which
while will with within would your yours says said told tell know knows like likes works work
"""))  # function words and the verbs every fact uses
_TOKEN = re.compile(r"[^\W\d_]{4,}")
SentenceSpan = tuple[int, int]


def _stem(word: str) -> str:
    return word.casefold()[:5]


def _stems(text: str, exclude: frozenset[str]) -> frozenset[str]:
    return frozenset(st for w in _TOKEN.findall(text)
                     if w.casefold() not in _STOP and (st := _stem(w)) not in exclude)


def detail_stems(scenario: Scenario) -> dict[str, frozenset[str]]:
    """Fact id -> the stems (a word's first five letters) of its text's distinctive words: words of
    four letters or more, not function words, not in the scenario's context, no agent's name."""
    exclude = frozenset(_stem(w) for w in _TOKEN.findall(scenario.context)) | frozenset(
        _stem(w) for a in scenario.agents for w in _TOKEN.findall(a.name))
    return {f.id: _stems(f.text, exclude) for f in scenario.facts}


def details_found(scenario: Scenario, stems: dict[str, frozenset[str]], text: str,
                  sentences: list[SentenceSpan]) -> dict[str, list[SentenceSpan]]:
    """Facts a sentence of ``text`` names by two or more of their distinctive words together, a
    combination no other fact's text holds (facts with the same text count as one): "your friend
    who works at Vandelay and likes hiking", "one of them mentored four juniors who got promoted".
    The span is the sentence's."""
    out: dict[str, list[SentenceSpan]] = {}
    texts = {f.id: f.text for f in scenario.facts}
    for a, b in sentences:
        said = _stems(text[a:b], frozenset())
        if len(said) < 2:
            continue
        for fid, own in stems.items():
            hit = own & said
            if len(hit) < 2:
                continue
            if any(hit <= other for gid, other in stems.items() if gid != fid and texts[gid] != texts[fid]):
                continue
            out.setdefault(fid, []).append((a, b))
    return out


def stems_of(text: str) -> frozenset[str]:
    """The stems of ``text``'s words of four letters or more, function words left out."""
    return _stems(text, frozenset())
