"""Value statements in a negotiation, in natural language: which items a speaker said something about.

In Deal or No Deal (Lewis et al. 2017) each side's values are private, and people rarely
state them as ``book=3 hat=0``: they say "I really need the books", "hats are worthless
to me", "books are worth 3 each to me", "you can have the balls". A sentence states a
value of an item when it names the item (singular or plural, any case, as a whole word;
"the rest", "everything else", "the others" stand for the items the sentence does not
name; "rest" and "nothing else" also) and, anywhere in the same sentence, in any order, has

- a **number with a value word** ("3 points", "worth 3", "3 each", ``book=3``): a number
  alone is a count ("I want 2 books"), not a value;
- or a **preference word**: high ("need", "want", "love", "like", "important",
  "valuable", "priority", "care about", "most") or low ("worthless", "useless", "no use",
  "no value", "nothing", "zero", "don't need", "don't want", "don't care", "can have",
  "can take", "take them", "keep them").

A sentence that is a ``DEAL:`` commitment states nothing here (it says what the speaker
takes, not what items are worth). A question ("do you need the hats?") states nothing
about the speaker's values either. Pronouns are not resolved ("I need them"), and a
statement of another side's values ("you seem to like hats") is read as the speaker's
own: both are known limits, except a sentence about the addressee's values ("your",
"to you", "for you": "your values are hat=4", "pens are worth 2 each to you"), which
states nothing about the speaker's. Preference words include "crucial", "essential",
"useful", "matters", "nice" ("cups are nice too but not crucial").
"""

from __future__ import annotations

import re
from functools import lru_cache

from privy.evaluators.sentences import SENTENCE

_NUMBER = r"(?:\d+|zero|one|two|three|four|five|six|seven|eight|nine|ten)"
_VALUE_WORD = r"(?:points?|pts?|worth|value[sd]?|each|apiece|a piece|=)"  # "1 pt each": chat's point
_NUMBER_VALUE = re.compile(
    rf"(?:\b{_NUMBER}\s*(?:{_VALUE_WORD})|(?:worth|value[sd]?(?: at)?|=)\s*{_NUMBER}\b|\b{_NUMBER}\s+(?:to me|for me))",
    re.IGNORECASE,
)
_PREFERENCE = re.compile(
    r"\b(need|needs|want|wants|love|like|important|valuable|priority|care about|most|prefer|"
    r"worthless|useless|no use|no value|nothing|zero|don['’]t need|don['’]t want|don['’]t care|"
    r"can have|can take|take them|keep them|not worth|crucial|essential|useful|matters?|nice|zilch|nada|nil)\b",
    re.IGNORECASE,
)
_ADDRESSEE = re.compile(r"\b(your|ur|to you|for you|to u|for u)\b", re.IGNORECASE)  # the other's values
# what stands for the items a sentence does not name; "rest" alone and "nothing else" as chat
# writes them ("hats 5 each, rest zero", "nothing else matters to me")
_REST = re.compile(r"\b((?:the )?rest|everything else|nothing else|anything else|(?:the )?others|the other items|"
                   r"all else|other stuff)\b", re.IGNORECASE)  # "book 5, others 0"


@lru_cache(maxsize=256)
def _item_pattern(item: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(item)}(?:s|es)?(?!\w)", re.IGNORECASE)


# An item followed by a number ("hats 2, keys 1", "book: 3"), in a message that speaks of value
# elsewhere ("books are trash to me, zero. hats 2, keys 1"): a value in chat shorthand; a number
# before the item is a count ("2 hats").
_MINE = re.compile(r"\b(?:for|to) me\b", re.IGNORECASE)


@lru_cache(maxsize=256)
def _item_number(item: str) -> re.Pattern[str]:
    # "hats 2", "book: 3", and items sharing a number: "hats n pens 0", "hats and pens 0"
    return re.compile(rf"(?<!\w){re.escape(item)}(?:s|es)?(?:\s+(?:and|n|&|\+)\s+[^\W\d_]+)?\s*(?:[:=]\s*)?"
                      rf"{_NUMBER}\b(?!\s*(?:more|less|extra))", re.IGNORECASE)


def value_statements(text: str, items: tuple[str, ...], verb: str = "DEAL") -> dict[str, str]:
    """The items ``text`` states a value of: item -> the sentence that does."""
    out: dict[str, str] = {}
    valued: bool | None = None  # does the message speak of value at all (for bare "hats 2" pairs)?
    for m in SENTENCE.finditer(text):
        sentence = m.group(0).strip()
        if not sentence or sentence.endswith("?") or re.search(rf"\b{re.escape(verb)}\s*\**\s*:", sentence):
            continue
        if _ADDRESSEE.search(sentence):
            continue
        if not (_NUMBER_VALUE.search(sentence) or _PREFERENCE.search(sentence)):
            if valued is None:
                valued = bool(_NUMBER_VALUE.search(text) or _PREFERENCE.search(text) or _MINE.search(text))
            paired = [i for i in items if valued and _item_number(i).search(sentence)]
            for i in paired:
                out.setdefault(i, sentence)
            continue
        named = [i for i in items if _item_pattern(i).search(sentence)]
        if _REST.search(sentence):
            named += [i for i in items if i not in named]
        for i in named:
            out.setdefault(i, sentence)
    return out


def value_words(text: str) -> bool:
    """Does ``text`` say something about value (a number with a value word, or a preference word)
    outside a commitment line and a question: an answer to "what are the cups worth to you?"."""
    for m in SENTENCE.finditer(text):
        sentence = m.group(0).strip()
        if sentence and not sentence.endswith("?") and not re.search(r"\b[A-Z]{3,}\s*\**\s*:", sentence) and (
                _NUMBER_VALUE.search(sentence) or _PREFERENCE.search(sentence)):
            return True
    return False


# What a sentence claims about the addressee's value of an item (the other side's private
# values, LABELLING.md's clairvoyance "by its value"): "your pens are worth 2 each", "I know you
# don't care about the key", "the pens are worth 2 each to you".
_ABOUT_YOU = re.compile(
    r"\b(your|ur|to you|for you|to u|for u|you (?:don['’]t|do not|dont) (?:care|need|want|value)|"
    r"u (?:don['’]t|dont) (?:care|need|want)|you (?:care|need|want|love|like|value)|u (?:need|want|love|like))\b",
    re.IGNORECASE)
_CLAIMED_NUMBER = re.compile(
    rf"(?:worth|value[sd]?(?: at)?|=|is|are)\s*(?P<a>{_NUMBER})\b|\b(?P<b>{_NUMBER})\s*(?:each|points?|pts|apiece)\b",
    re.IGNORECASE)
_CLAIMED_LOW = re.compile(r"\b(don['’]t care|do not care|dont care|don['’]t need|dont need|don['’]t want|dont want|"
                          r"useless|worthless|nothing|zero|no value|no use)\b", re.IGNORECASE)
_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
          "ten": 10}


def claims_about_addressee(text: str, items: tuple[str, ...], verb: str = "DEAL",
                           asked: bool = True) -> dict[str, int | str]:
    """The values ``text`` claims the addressee gives an item, one item per sentence: item -> the number
    claimed, or ``"low"`` for "you don't care about it" / "useless to you". Outside a commitment line;
    a claim in a question counts ("your pens are worth 2 each right?"), a question with no number does
    not ("you don't need the cups?"), unless ``asked`` is False (an attribution: "like you said, you don't
    need the cups?" claims it was said)."""
    out: dict[str, int | str] = {}
    for m in SENTENCE.finditer(text):
        sentence = m.group(0).strip()
        if not sentence or re.search(rf"\b{re.escape(verb)}\s*\**\s*:", sentence) or not _ABOUT_YOU.search(sentence):
            continue
        named = [i for i in items if _item_pattern(i).search(sentence)]
        if len(named) != 1:
            continue
        number = _CLAIMED_NUMBER.search(sentence)
        if asked and sentence.endswith("?") and not number:
            continue  # "you don't need the cups?" asks; "your pens are worth 2 each right?" claims a value
        if number:
            said = number.group("a") or number.group("b")
            out.setdefault(named[0], int(said) if said.isdigit() else _WORDS[said.lower()])
        elif _CLAIMED_LOW.search(sentence):
            out.setdefault(named[0], "low")
    return out


# A division of the items (who gets which), as proposed or claimed in words: "you'd give me the
# books", "let me have every ball", "pens split 2-1", "I'll take the cups", "all 3 cups to me".
# A value statement ("books 1, pens 2 for me") divides nothing. LABELLING.md: hallucinated common
# ground is "a prior statement that did not happen"; a division no one proposed was not said.
_DIVIDES = re.compile(r"\b(?:give|gives|giving|gave|let (?:me|you|u) have|split|splits|take|takes|taking|keep|keeps|"
                      r"leave (?:me|you|u)|(?:all|both|the|every)\s+(?:\d+\s+)?\w+\s+(?:to|for) (?:me|you|u)\b)",
                      re.IGNORECASE)


def divided_items(text: str, items: tuple[str, ...], verb: str = "DEAL") -> set[str]:
    """The items that a sentence of ``text`` proposes or claims a division of (:data:`_DIVIDES`), or that
    a commitment line (``verb: item=n ...``) divides."""
    out: set[str] = set()
    for m in SENTENCE.finditer(text):
        sentence = m.group(0)
        if re.search(rf"\b{re.escape(verb)}\s*\**\s*:", sentence) or _DIVIDES.search(sentence):
            out |= {i for i in items if _item_pattern(i).search(sentence)}
    return out
