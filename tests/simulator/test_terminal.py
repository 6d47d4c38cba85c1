"""privy.simulator.terminal.visible: control characters written as escapes, everything else kept."""

from __future__ import annotations

import unicodedata

from privy.simulator.terminal import visible


def test_controls_become_escapes_and_newline_and_tab_stay() -> None:
    assert visible("a\x1b]0;T\x07\x1b[2Jb") == r"a\x1b]0;T\x07\x1b[2Jb"
    assert visible("x\u009b31m\x85\x00\x7f\r") == r"x\u009b31m\u0085\x00\u007f\x0d"
    assert visible("\u202eevil\u202c \u2066i\u2069 \u2028") == r"\u202eevil\u202c \u2066i\u2069 \u2028"
    assert visible("line\n\tnext: é, 日本, 🙂, [b]x[/b], \\x1b") == "line\n\tnext: é, 日本, 🙂, [b]x[/b], \\x1b"


def test_every_c0_c1_and_bidi_control_is_escaped() -> None:
    unsafe = [chr(c) for c in range(0x110000) if c not in (0x0A, 0x09) and (
        unicodedata.category(chr(c)) == "Cc" or 0x202A <= c <= 0x202E or 0x2066 <= c <= 0x2069)]
    assert len(unsafe) == 65 - 2 + 5 + 4
    for c in unsafe:
        shown = visible(c)
        assert c not in shown and shown.startswith("\\")
