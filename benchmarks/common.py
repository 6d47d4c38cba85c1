"""What every benchmark shares: instant backends, the scenarios, rows of the results table."""

from __future__ import annotations

import itertools
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make privy's packages importable
    sys.path.insert(0, str(ROOT))

from privy.simulator.backends.base import ChatRequest, Completion  # noqa: E402
from privy.simulator.scenario import Limits, Scenario  # noqa: E402

REPLY = "Hello there, nice to meet you."  # the same reply ChatArena's instant backend gives


@dataclass
class Row:
    """One line of the results table."""

    bench: str
    case: str
    value: str
    ratio: str = ""
    goal: str = ""
    verdict: str = ""  # "met", "NOT met" or "" (a figure with no goal)

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


class InstantBackend:
    """Answers at once: what remains is privy's own cost.

    Each reply is numbered, so that no cache can profit from identical lines.
    """

    name = "instant"

    def __init__(self, text: str = REPLY, yield_to_loop: bool = False) -> None:
        self._text = text
        self._n = itertools.count()
        self._yield = yield_to_loop

    def settings(self) -> dict[str, Any]:
        return {"backend": self.name}

    async def complete(self, request: ChatRequest) -> Completion:
        if self._yield:  # let other episodes run: many in flight at once
            import asyncio

            await asyncio.sleep(0)
        return Completion(text=f"{self._text} #{next(self._n)}", finish_reason="stop")


_JOBS = ["teacher", "nurse", "pilot", "chef", "lawyer", "baker", "engineer", "farmer"]
_CITIES = ["Lisbon", "Oslo", "Quito", "Hanoi", "Tunis", "Perth", "Lyon", "Cusco"]


class ChattyBackend(InstantBackend):
    """Instant, with varied replies of a realistic length (about 30 tokens)."""

    name = "chatty"

    def __init__(self) -> None:
        super().__init__()
        self._n = itertools.count()

    async def complete(self, request: ChatRequest) -> Completion:
        i = next(self._n)
        job, city = _JOBS[i % len(_JOBS)], _CITIES[(i * 3) % len(_CITIES)]
        text = (f"I know a {job} from {city} called Friend {i}. Do any of your friends work as a "
                f"{_JOBS[(i + 1) % len(_JOBS)]} or live in {_CITIES[(i + 5) % len(_CITIES)]}?")
        return Completion(text=text, finish_reason="stop")


def two_agents(turns: int = 20, max_tokens: int = 64, seed: int = 0) -> Scenario:
    """A generated MutualFriends instance (2 agents), cut at ``turns`` messages."""
    from privy.scenarios import families

    s = families.generate("mutual_friends", 1, seed, {})[0]
    return s.model_copy(update={"limits": Limits(max_turns=turns, max_tokens=max_tokens)})


def five_agents(turns: int = 20, max_tokens: int = 64, seed: int = 0) -> Scenario:
    """A generated HiddenProfile instance with 5 committee members."""
    from privy.scenarios import families

    s = families.generate("hidden_profile", 1, seed, {"n_agents": 5})[0]
    return s.model_copy(update={"limits": Limits(max_turns=turns, max_tokens=max_tokens)})


def fmt_rate(x: float, unit: str) -> str:
    if x >= 100:
        return f"{x:,.0f} {unit}"
    return f"{x:.3g} {unit}"


def fmt_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")
