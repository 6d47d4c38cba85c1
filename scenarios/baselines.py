"""The ``scripted`` backend: each scenario family's reference policy, played as a backend.

These are reference protocols, not models: deterministic rules such as MutualFriends'
"share your list, intersect, select". A policy reads exactly the view a prompt would be
built from (the agent's :class:`~privy.simulator.views.Observation` in ``agents`` mode),
so it is bound by the same isolation as a model. In the modes that see the whole state
(``mindreaders``, ``omniscient``, ``script``) each family's ``shortcut`` plays instead
(see :class:`ScriptedBackend`). A scenario of no known family with a ``select`` task gets
the MutualFriends policy.

The backend is registered through the ``privy.backends`` entry point (pyproject.toml),
so the simulator's registry finds it without importing this layer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from privy.scenarios import families
from privy.simulator.backends.base import ChatRequest, Completion
from privy.simulator.backends.errors import BackendError
from privy.simulator.hypotheses import hypotheses_for
from privy.simulator.modes import Mode
from privy.simulator.moves import Moves, observed_moves, state_moves
from privy.simulator.probes import OptionScores
from privy.simulator.scenario import Commitment, Scenario
from privy.simulator.views import Observation, PublicTask, State

FALLBACK = "mutual_friends"  # the policy of a 'select' task whose family has none


class ScriptedBackend:
    """Rule-based reference policies, one per scenario family (:mod:`privy.scenarios.families`).

    ``agents``: each agent plays the family's ``policy`` on its own Observation, exchanging
    what it needs. ``mindreaders`` and ``omniscient``: the request carries the whole State,
    and the writer plays the family's ``shortcut``: no grounding, a commitment on its first
    turn, naming a fact only another agent holds (the omniscient shortcut of Zhou et al.
    2024); an agent the family gives no shortcut (an answerer, a teacher) plays its policy on
    the messages it was delivered. ``script``: one call writes the whole dialogue as
    ``Name: text`` lines, each agent's shortcut turn in speaking order.

    A scenario that holds commitments back (``limits.commit_after: k``) is obeyed in every
    mode: until a committer has sent ``k`` messages its commitment lines are left out (the
    rest of its turn is said), and the commitment comes on its next turn; a script gives each
    agent ``k`` such lines before its shortcut turn.
    """

    name = "scripted"
    modes: frozenset[Mode] | None = None  # every mode (see the class docstring)

    def settings(self) -> dict[str, Any]:
        return {"backend": self.name, "policy": "the scenario family's reference protocol"}

    async def score_options(self, request: ChatRequest, options: Sequence[str]) -> OptionScores:
        """Belief probes: :func:`reference_belief`, labelled as a reference (no model)."""
        return OptionScores(logprobs=reference_belief(request, options), method="reference_rule")

    async def complete(self, request: ChatRequest) -> Completion:
        view = request.view
        if isinstance(view, Observation):
            family, me = view.family, view.agent.id
            inp = families.PolicyInput(me=me, names=dict(view.names), facts=list(view.facts),
                                       messages=list(view.messages), task=view.task)
            return Completion(text=held_back(families.policy_text(_family(family, inp.task), inp),
                                             observed_moves(view)))
        if not isinstance(view, State):
            raise BackendError("the scripted backend reads the request's view (an Observation or a State); "
                               "this request carries none")
        s = view.scenario
        family = _family(s.family, PublicTask.model_validate(s.task))
        if request.speaker is None:  # script mode: the whole dialogue in one generation
            return Completion(text=_script(family, s))
        return Completion(text=held_back(_full_state_turn(family, view, request.speaker),
                                         state_moves(view, request.speaker)))


def reference_belief(request: ChatRequest, options: Sequence[str]) -> list[float]:
    """A rule-based belief (a reference, not a model), from the request's view only.

    With the whole State: the scenario's answer (a deal's best split, from
    :func:`~privy.simulator.hypotheses.hypotheses_for`) gets almost all the mass. With an
    Observation: the options named in messages the agent received from others share it;
    none named, uniform. Yes/no (knowledge) questions: uniform.
    """
    view = request.view
    weights = [1.0] * len(options)
    if isinstance(view, State) and request.speaker is not None and list(options) != ["yes", "no"]:
        hyps = hypotheses_for(view.scenario, request.speaker)
        if hyps is not None and hyps.options == list(options) and hyps.truth is not None:
            weights = [0.01] * len(options)
            weights[hyps.truth] = 1.0
    elif isinstance(view, Observation) and list(options) != ["yes", "no"]:
        heard = " ".join(m.content.casefold() for m in view.messages if m.sender != view.agent.id)
        named = [o.casefold() in heard for o in options]
        if any(named):
            weights = [1.0 if n else 0.01 for n in named]
    return [math.log(w) for w in weights]


def held_back(text: str, moves: Moves) -> str:
    """``text`` without its commitment lines while ``moves`` may not commit yet (``limits.commit_after``)."""
    if moves.verb is None or moves.may_commit:
        return text
    return _without_commitments(text, moves.verb)


def _without_commitments(text: str, verb: str) -> str:
    commits = Commitment(verb=verb)
    said = "\n".join(line for line in text.splitlines() if not commits.values(line)).strip()
    return said or "Let me hear from you first."


def _family(family: str, task: PublicTask) -> str:
    if family in families.names():
        return family
    if task.kind != "select":
        raise BackendError(f"no scripted baseline for family '{family}' (task kind {task.kind}); "
                           f"baselines exist for {families.names()} and any 'select' task")
    return FALLBACK


def _full_state_turn(family: str, state: State, me: str) -> str:
    s = state.scenario
    text = families.shortcut_text(family, s, me)
    if text is not None:
        return text
    inp = families.PolicyInput(me=me, names={a.id: a.name for a in s.agents}, facts=s.facts_of(me),
                               messages=[m for m in state.messages if m.visible_to(me)],
                               task=PublicTask.model_validate(s.task))
    return families.policy_text(family, inp)


def _script(family: str, s: Scenario) -> str:
    """Every agent's shortcut turn, in speaking order (scenario order), as ``Name: text`` lines.

    Each agent speaks once: the shortcut commits on the first turn, so the episode ends
    within one round; an agent without a shortcut (it would only answer) is left out. With
    ``limits.commit_after: k``, ``k`` rounds of the shortcuts without their commitment lines come first
    (an agent without a shortcut says "Go on." in them).
    """
    turns = {a.id: families.shortcut_text(family, s, a.id) for a in s.agents}
    committers = s.task.committers or s.agent_ids
    lines = []
    for r in range(s.limits.commit_after + 1):
        for a in s.agents:
            text = turns[a.id]
            if text is None:  # it would only answer: in a held round it lets the others go on
                if r < s.limits.commit_after:
                    lines.append(f"{a.name}: Go on.")
                continue
            if r < s.limits.commit_after and a.id in committers:
                text = _without_commitments(text, s.task.commitment.verb)
            lines.append(f"{a.name}: {text}")
    return "\n".join(lines)
