"""Deterministic rule-based policies: reference protocols, not stand-ins for LLMs.

The MutualFriends policy is "share your list, intersect, select": on its first turn
an agent lists its friends; once another agent's list has reached it, it selects the
one friend whose name appears in both. It reads the same view the prompt would be
built from (its :class:`~simulator.views.Observation` in ``agents`` mode), so it is
bound by the same isolation as a model.
"""

from __future__ import annotations

from typing import Any

from simulator.backends.base import ChatRequest, Completion
from simulator.backends.errors import BackendError
from simulator.bus import Message
from simulator.scenario import Fact
from simulator.views import Observation, State


def _first_literal(fact: Fact) -> str | None:
    return next((m.literal for m in fact.mentions if m.literal), None)


def mutual_friends_turn(me: str, facts: list[Fact], messages: list[Message], verb: str) -> str:
    """The next message of agent ``me`` holding ``facts`` after ``messages``."""
    heard = [m.content for m in messages if m.sender != me]
    spoke = any(m.sender == me for m in messages)
    candidates = [f for f in facts if any(f.mentioned_in(h) for h in heard)]
    if heard and len(candidates) == 1:
        name = _first_literal(candidates[0]) or candidates[0].text
        return f"We both know {name}.\n{verb}: {name}"
    if not spoke:
        return "My friends: " + "; ".join(f.text for f in facts)
    if heard and not candidates:
        return "None of the friends you named are on my list."
    if len(candidates) > 1:
        return "Several of your friends are on my list too; which attributes do yours have?"
    return "I have not seen your list yet; please share your friends."


class ScriptedBackend:
    """Rule-based reference protocols, one per scenario family (``scenarios.families``).

    Scenarios of a family without a baseline, with a ``select`` task, get the
    MutualFriends protocol above.
    """

    name = "scripted"

    def settings(self) -> dict[str, Any]:
        return {"backend": self.name, "policy": "the scenario family's reference protocol"}

    async def complete(self, request: ChatRequest) -> Completion:
        from scenarios import families
        from simulator.views import PublicTask

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
        if family in families.names():
            return Completion(text=families.policy_text(family, inp))
        if inp.task.kind == "select":
            return Completion(text=mutual_friends_turn(me, inp.facts, inp.messages, inp.task.commitment.verb))
        raise BackendError(f"no scripted baseline for family '{family}' (task kind {inp.task.kind}); "
                           f"baselines exist for {families.names()} and any 'select' task")
