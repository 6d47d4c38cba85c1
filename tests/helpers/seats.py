"""A person at a seat, scripted: what a test "types", and every Observation the seat was shown."""

from __future__ import annotations

from privy.simulator.views import Observation


class Typed:
    """A seat that returns its lines in order; a line that is an exception is raised (Ctrl-C, /leave)."""

    kind = "test"

    def __init__(self, *lines: str | BaseException) -> None:
        self.lines = list(lines)
        self.views: list[Observation] = []

    async def turn(self, view: Observation, max_tokens: int) -> str:
        self.views.append(view)
        line = self.lines.pop(0)
        if isinstance(line, BaseException):
            raise line
        return line
