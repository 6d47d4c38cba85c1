"""Play hand-written messages through a PrivyEnv into an Episode (for evaluator unit tests)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import yaml

from privy.simulator.env import PrivyEnv
from privy.simulator.episode import Episode, Timings
from privy.simulator.scenario import Scenario
from privy.simulator.spaces import Utterance

_STARTED = datetime(2024, 1, 1, tzinfo=UTC)


def scenario(text: str | dict[str, Any]) -> Scenario:
    return Scenario.model_validate(yaml.safe_load(text) if isinstance(text, str) else text)


def play(s: Scenario, *texts: str | tuple[str, str]) -> Episode:
    """``texts`` in round-robin order (a ``(sender, text)`` pair must name the sender whose turn it is)."""
    env = PrivyEnv(s)
    env.reset(seed=0)
    for t in texts:
        if isinstance(t, tuple):
            assert t[0] == env.agent_selection, (t, env.agent_selection)
            t = t[1]
        env.step(Utterance(content=t))
    if env.ended_by == "running":
        env.truncate("script_exhausted")
    return Episode(id="t", created_at=_STARTED, scenario=s, mode="agents", backend={"backend": "hand-written"},
                   seed=0, messages=list(env.bus.messages), calls=[], outcome=env.outcome(),
                   timings=Timings(started_at=_STARTED, wall_s=0.0, model_s=0.0))


def deal_scenario() -> Scenario:
    """Ann and Bob split 2 books, 1 hat, 2 balls (the deal family's value mentions)."""
    from privy.scenarios.families.deal_or_no_deal import values_mention

    values = {"ann": {"book": 3, "hat": 0, "ball": 2}, "bob": {"book": 0, "hat": 4, "ball": 3}}
    return scenario({
        "id": "deal", "title": "a deal",
        "agents": [{"id": "ann", "name": "Ann", "goal": "deal"}, {"id": "bob", "name": "Bob", "goal": "deal"}],
        "facts": [{"id": f"{a}_values", "text": f"values {v}", "holders": [a],
                   "mentions": [values_mention(v).model_dump(exclude_none=True)]} for a, v in values.items()],
        "task": {"kind": "deal", "commitment": {"verb": "DEAL"}, "needed_facts": ["ann_values", "bob_values"],
                 "deal": {"items": {"book": 2, "hat": 1, "ball": 2}, "values": values}},
    })
