"""What a scenario family provides: a generator, a ground truth check, a baseline policy.

A family generates instances with known answers and controlled difficulty from a seed;
its ``policy`` is a deterministic reference protocol (the ``scripted`` backend plays it in
``agents`` mode) and its optional ``shortcut`` the full-state reference of the other modes;
``withhold`` removes the facts the protocol needs, so a test can show it then fails.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from privy.simulator.bus import Message
from privy.simulator.scenario import Fact, Scenario
from privy.simulator.views import PublicTask


class FamilyParams(BaseModel):
    """Difficulty parameters of a family; subclasses add fields with defaults and checks."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class PolicyInput:
    """What a baseline policy may use: exactly one agent's view."""

    me: str
    names: dict[str, str]
    facts: list[Fact]
    messages: list[Message]
    task: PublicTask


class Family(Protocol):
    name: ClassVar[str]
    description: ClassVar[str]
    Params: ClassVar[type[FamilyParams]]

    def generate(self, rng: random.Random, index: int, params: FamilyParams) -> Scenario:
        """Instance ``index`` drawn from ``rng``."""
        ...

    def check(self, scenario: Scenario) -> None:
        """Raise AssertionError if the instance lacks the ground truth the family promises.

        ``privy validate`` runs it on every file that names the family (``family: NAME``),
        or the family's ``check_file(scenario)`` if it has one: a family whose policy also
        plays hand-written files checks those with what the policy needs of them.
        """
        ...

    def policy(self, inp: PolicyInput) -> str:
        """The baseline's next message for ``inp.me``."""
        ...

    # Optional: ``shortcut(scenario, me) -> str | None``, the reference turn of a writer that sees the
    # whole state (modes mindreaders, omniscient, script): it skips grounding, as Zhou et al. (2024)
    # describe, and commits at once, naming a fact only another agent holds. None: no shortcut for
    # ``me`` (it plays ``policy`` on its own view).

    def withhold(self, scenario: Scenario) -> Scenario:
        """The same instance without the facts the baseline needs to succeed."""
        ...
