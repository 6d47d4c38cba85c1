"""Text from a model, a scenario or an episode made safe to print on a terminal.

A model's reply, or a scenario or episode file, can hold control characters: ``ESC``
sequences that set the window title, clear the screen or move the cursor, C1 controls
(U+0080-U+009F, which some terminals obey as well), and the bidirectional overrides
that make text read differently from what it is. :func:`visible` writes each of them
as an escape (``\\x1b``, ``\\u009b``, ``\\u202e``), so the text shows what it holds and
the terminal obeys nothing; newline and tab are kept. JSON text stays valid JSON. The
files themselves keep the text exactly as it was.
"""

from __future__ import annotations

import re

__all__ = ["visible"]

# C0 but newline and tab, DEL, C1, the bidi embeddings/overrides (U+202A-U+202E) and isolates
# (U+2066-U+2069), and the line and paragraph separators some terminals treat as newlines
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group())
    # DEL and above as \u0085, JSON's own escape: JSON text stays JSON (JSON escapes C0 itself)
    return f"\\x{c:02x}" if c < 0x7F else f"\\u{c:04x}"


def visible(text: str) -> str:
    """``text`` with every control character but newline and tab written as an escape (``\\x1b``)."""
    return _UNSAFE.sub(_escape, text)
