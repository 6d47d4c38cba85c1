"""Skip regular-expression searches that cannot match, by strings every match contains.

Matching each fact's mentions and each phrase list against every message was most of
the evaluators' cost, and most of those searches find nothing. :func:`needs` reads a
compiled pattern's syntax tree once and derives strings that any match must contain:
a list of clauses, each a set of strings of which a match contains at least one (e.g.
``\\bCasey\\b.{0,60}\\b(?:costs|a third)`` needs ``casey`` and one of ``costs``,
``a third``). When a text lacks them, the search is skipped; otherwise it runs as before,
so results are unchanged.

The test is exact only for ASCII text: there, a case-insensitive pattern letter matches
the same letter in either case and nothing else, so lowercasing the text and the
strings loses no match. Other text (:func:`lowered` gives ``None``) is always searched.
Anything the analysis does not know (classes, back references, ...) simply needs
nothing.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

try:  # the standard library's own regex parser (private: without it, nothing is skipped)
    from re import _constants as sre  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    sre = sre_parse = None

_MAX_STRINGS = 64  # largest finite language kept (products grow fast)
_MAX_CLAUSES = 6  # clauses checked per pattern, the most selective first
_MAX_COMBINATIONS = 64  # clause combinations tried for an alternation

Clause = frozenset[str]


def lowered(text: str) -> str | None:
    """``text`` lowercased when the prefilter applies to it (ASCII), else ``None``."""
    return text.lower() if text.isascii() else None


class Needs:
    """What a match must contain: for every clause, one of its (lowercase) strings."""

    __slots__ = ("clauses", "only")

    def __init__(self, clauses: Iterable[Clause] = ()) -> None:
        self.clauses = _simplify(clauses)
        # the common case, one string (a literal mention): tested without loops
        self.only = next(iter(self.clauses[0])) if len(self.clauses) == 1 and len(self.clauses[0]) == 1 else None

    def may_match(self, low: str | None) -> bool:
        """False only if no match can exist in the text whose :func:`lowered` form is ``low``."""
        if low is None:
            return True
        if self.only is not None:
            return self.only in low
        for clause in self.clauses:
            for s in clause:
                if s in low:
                    break
            else:
                return False
        return True

    def __repr__(self) -> str:
        return f"Needs({[sorted(c) for c in self.clauses]})"


@lru_cache(maxsize=4096)
def literal(text: str) -> Needs:
    """What a case-insensitive literal pattern (``re.escape(text)``) needs: its ASCII runs."""
    runs = [text] if text.isascii() else re.split(r"[^\x00-\x7f]+", text)  # a non-ASCII letter may fold to ASCII
    return Needs(frozenset([r.lower()]) for r in runs if r)


@lru_cache(maxsize=4096)
def _needs(source: str, flags: int) -> Needs:
    if sre_parse is None:  # pragma: no cover
        return Needs()
    try:
        tree = sre_parse.parse(source, flags)
        return Needs(_seq_needs(list(tree)))
    except Exception:  # an analysis failure costs speed, never a match
        return Needs()


def needs(pattern: re.Pattern[str]) -> Needs:
    """What every match of ``pattern`` contains (computed once per pattern source)."""
    return _needs(pattern.pattern, pattern.flags)


# --- analysis of the parse tree ----------------------------------------------------------
# lang(item): the finite set of strings (lowercased) the item can consume, or None.
# _seq_needs(items): clauses that every string a sequence consumes satisfies.

def _lang(op: Any, av: Any) -> set[str] | None:
    if op is sre.LITERAL:
        return {chr(av).lower()} if av < 128 else None
    if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):  # zero width: consumes nothing
        return {""}
    if op is sre.IN:
        if all(o is sre.LITERAL and a < 128 for o, a in av):
            return {chr(a).lower() for _, a in av}
        return None
    if op is sre.SUBPATTERN:
        return _seq_lang(list(av[3]))
    if op is sre.ATOMIC_GROUP:
        return _seq_lang(list(av))
    if op is sre.BRANCH:
        out: set[str] = set()
        for alt in av[1]:
            sub = _seq_lang(list(alt))
            if sub is None:
                return None
            out |= sub
            if len(out) > _MAX_STRINGS:
                return None
        return out
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        lo, hi, item = av
        sub = _seq_lang(list(item))
        if sub is None or hi > 4 or hi - lo > 3:
            return None
        out = set()
        for k in range(lo, hi + 1):
            power = _power(sub, k)
            if power is None:
                return None
            out |= power
            if len(out) > _MAX_STRINGS:
                return None
        return out
    return None


def _power(lang: set[str], k: int) -> set[str] | None:
    out = {""}
    for _ in range(k):
        out = {a + b for a in out for b in lang}
        if len(out) > _MAX_STRINGS:
            return None
    return out


def _seq_lang(items: list[tuple[Any, Any]]) -> set[str] | None:
    out = {""}
    for op, av in items:
        sub = _lang(op, av)
        if sub is None:
            return None
        out = {a + b for a in out for b in sub}
        if len(out) > _MAX_STRINGS:
            return None
    return out


def _seq_needs(items: list[tuple[Any, Any]]) -> list[Clause]:
    """A sequence consumes the concatenation of what its items consume."""
    clauses: list[Clause] = []
    run = {""}  # the finite language of the current stretch of items

    def close() -> None:
        nonlocal run
        if "" not in run:
            clauses.append(frozenset(run))
        run = {""}

    for op, av in items:
        sub = _lang(op, av)
        if sub is not None:
            joined = {a + b for a in run for b in sub}
            if len(joined) <= _MAX_STRINGS:
                run = joined
                continue
            close()
            run = sub
            continue
        close()
        clauses += _item_needs(op, av)
    close()
    return clauses


def _item_needs(op: Any, av: Any) -> list[Clause]:
    if op is sre.SUBPATTERN:
        return _seq_needs(list(av[3]))
    if op is sre.ATOMIC_GROUP:
        return _seq_needs(list(av))
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        lo, _, item = av
        return _seq_needs(list(item)) if lo >= 1 else []
    if op is sre.BRANCH:
        return _branch_needs([_seq_needs(list(alt)) for alt in av[1]])
    return []


def _branch_needs(alternatives: list[list[Clause]]) -> list[Clause]:
    """Clauses implied by any one alternative: unions of one clause of each."""
    if not alternatives or any(not a for a in alternatives):
        return []  # an alternative that needs nothing: the alternation needs nothing
    alternatives = [_best(a, _MAX_CLAUSES) for a in alternatives]
    size = 1
    for a in alternatives:
        size *= len(a)
    if size > _MAX_COMBINATIONS:
        alternatives = [_best(a, 1) for a in alternatives]
    return [frozenset().union(*combo) for combo in itertools.product(*alternatives)]


def _selectivity(clause: Clause) -> int:
    return min(len(s) for s in clause)


def _best(clauses: list[Clause], n: int) -> list[Clause]:
    return sorted(_simplify(clauses), key=_selectivity, reverse=True)[:n]


def _simplify(clauses: Iterable[Clause]) -> tuple[Clause, ...]:
    """Drop strings that contain another of their clause (implied) and clauses implied by others."""
    out: list[Clause] = []
    for clause in clauses:
        if "" in clause:
            continue  # the empty string is in every text
        kept = frozenset(s for s in clause if not any(t != s and t in s for t in clause))
        if kept not in out:
            out.append(kept)
    # clause c is implied by clause d when each string of d contains one of c: keep d only
    out = [c for c in out if not any(d != c and all(any(s in t for s in c) for t in d) for d in out)]
    return tuple(sorted(out, key=_selectivity, reverse=True)[:_MAX_CLAUSES])
