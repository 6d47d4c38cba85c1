"""A person at a seat, scripted: what a test "types", the views it was shown, what a mindreader's seat lists."""

from __future__ import annotations

from privy.simulator.scenario import Scenario
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


def expected_facts(s: Scenario, holder: str, seat: str) -> list[str]:
    """``holder``'s facts as a mindreader's seat lists them: each with the other holders named (from the scenario)."""
    out = []
    for f in s.facts_of(holder):
        also = ["you" if a.id == seat else a.name for a in s.agents if a.id in f.holders and a.id != holder]
        out.append(f.text + (f"  (also known to {', '.join(also)})" if also else ""))
    return out
