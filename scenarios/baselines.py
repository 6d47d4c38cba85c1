"""The ``scripted`` backend: each scenario family's reference policy, played as a backend.

These are reference protocols, not models: deterministic rules such as MutualFriends'
"share your list, intersect, select". A policy reads exactly the view a prompt would be
built from (the agent's :class:`~privy.simulator.views.Observation` in ``agents`` mode),
so it is bound by the same isolation as a model. A scenario of no known family with a
``select`` task gets the MutualFriends policy.

The backend is registered through the ``privy.backends`` entry point (pyproject.toml),
so the simulator's registry finds it without importing this layer.
"""

from __future__ import annotations

from typing import Any

from privy.scenarios import families
from privy.simulator.backends.base import ChatRequest, Completion
from privy.simulator.backends.errors import BackendError
from privy.simulator.modes import Mode
from privy.simulator.views import Observation, PublicTask, State

FALLBACK = "mutual_friends"  # the policy of a 'select' task whose family has none


class ScriptedBackend:
    """Rule-based reference policies, one per scenario family (:mod:`privy.scenarios.families`)."""

    name = "scripted"
    # Declared for the registry (``registry.modes``): a suite pairing this backend with
    # ``script`` mode, where one call writes the whole conversation, is refused up front.
    modes = frozenset({Mode.AGENTS, Mode.MINDREADERS, Mode.OMNISCIENT})

    def settings(self) -> dict[str, Any]:
        return {"backend": self.name, "policy": "the scenario family's reference protocol"}

    async def complete(self, request: ChatRequest) -> Completion:
        view = request.view
        if isinstance(view, Observation):
            family, me = view.family, view.agent.id
            inp = families.PolicyInput(me=me, names=dict(view.names), facts=list(view.facts),
                                       messages=list(view.messages), task=view.task)
        elif isinstance(view, State) and request.speaker is not None:
            s, me = view.scenario, request.speaker
            family = s.family
            inp = families.PolicyInput(me=me, names={a.id: a.name for a in s.agents}, facts=s.facts_of(me),
                                       messages=[m for m in view.messages if m.visible_to(me)],
                                       task=PublicTask.model_validate(s.task))
        else:
            raise BackendError("the scripted backend writes one agent's turn at a time; "
                               "use mode agents, mindreaders or omniscient")
        if family not in families.names():
            if inp.task.kind != "select":
                raise BackendError(f"no scripted baseline for family '{family}' (task kind {inp.task.kind}); "
                                   f"baselines exist for {families.names()} and any 'select' task")
            family = FALLBACK
        return Completion(text=families.policy_text(family, inp))
