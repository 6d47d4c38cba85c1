"""Sentences: how the rule-based evaluators split a message into sentences.

A sentence is a run of characters up to the first ``.``, ``!``, ``?`` or newline,
with the ``.!?`` that end it: "Hi. Who?" is "Hi." and " Who?".
"""

from __future__ import annotations

import re

SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


def sentences(text: str) -> list[tuple[int, int]]:
    """The character spans of ``text``'s sentences, in order."""
    return [m.span() for m in SENTENCE.finditer(text)]
