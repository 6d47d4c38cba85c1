"""privy's PettingZoo AEC environment.

Every mode runs through this one environment. ``observe(agent)`` is the agent's
private :class:`~privy.simulator.views.Observation`; ``state()`` is the omniscient
:class:`~privy.simulator.views.State`. An action is an :class:`~privy.simulator.spaces.Utterance`,
delivered through the :class:`~privy.simulator.bus.MessageBus`. The episode terminates when
agents commit (``SELECT: <name>``, ``DECIDE: <option>``, as the task says) and is
truncated at the turn limit.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from pettingzoo import AECEnv

from privy.simulator.bus import Action, MessageBus, build_graph
from privy.simulator.scenario import Scenario
from privy.simulator.spaces import ObservationSpace, Utterance, UtteranceSpace
from privy.simulator.task import EndReason, Outcome, outcome
from privy.simulator.trusted import constructor
from privy.simulator.views import Observation, PublicTask, State

_observation = constructor(Observation)


class _Layout:
    """What an environment derives from its scenario; built once per scenario object.

    Everything here is read-only: the graph, each agent's spec, facts, neighbours and the
    lines other speakers' turns start with (stop sequences), the public task.
    """

    def __init__(self, scenario: Scenario) -> None:
        ids = scenario.agent_ids
        self.graph = build_graph(scenario)
        self.neighbours = {a: frozenset(self.graph.successors(a)) for a in ids}
        self.names = {a.id: a.name for a in scenario.agents}
        self.specs = {a.id: a for a in scenario.agents}
        self.facts = {a: tuple(scenario.facts_of(a)) for a in ids}
        self.public_task = PublicTask.model_validate(scenario.task)
        self.committers = frozenset(scenario.task.committers or ids)
        self.stop_lines = {a: tuple(f"\n{n}:" for b, n in self.names.items() if b != a) for a in ids}


_LAYOUTS: OrderedDict[int, tuple[Scenario, _Layout]] = OrderedDict()


def _layout(scenario: Scenario) -> _Layout:
    """The scenario's layout, from a small cache keyed by object (a bench runs each scenario many times).

    A Scenario is frozen, so its layout cannot go stale; the cache holds the scenario
    itself, so its ``id`` cannot be reused while the entry lives.
    """
    hit = _LAYOUTS.get(id(scenario))
    if hit is not None and hit[0] is scenario:
        _LAYOUTS.move_to_end(id(scenario))
        return hit[1]
    lay = _LAYOUTS[id(scenario)] = (scenario, _Layout(scenario))
    if len(_LAYOUTS) > 64:
        _LAYOUTS.popitem(last=False)
    return lay[1]


class PrivyEnv(AECEnv[str, Observation, Utterance | None]):
    """A conversation with private information, as a PettingZoo AEC environment."""

    metadata = {"name": "privy_v0", "render_modes": ["ansi"], "is_parallelizable": False}

    def __init__(self, scenario: Scenario, render_mode: str | None = None) -> None:
        super().__init__()
        self.scenario = scenario
        self.render_mode = render_mode
        self.possible_agents = list(scenario.agent_ids)
        lay = self._layout = _layout(scenario)
        self.stop_lines = lay.stop_lines
        self._verb = scenario.task.commitment.verb
        self._commitment = scenario.task.commitment
        # the spaces are made when first asked for: a runner never samples them
        self._obs_spaces: dict[str, ObservationSpace] = {}
        self._act_spaces: dict[str, UtteranceSpace] = {}
        self._space_seed: int | None = None
        self.reset()

    def observation_space(self, agent: str) -> ObservationSpace:
        space = self._obs_spaces.get(agent)
        if space is None:
            space = self._obs_spaces[agent] = ObservationSpace(self._known(agent))
        return space

    def action_space(self, agent: str) -> UtteranceSpace:
        space = self._act_spaces.get(agent)
        if space is None:
            space = self._act_spaces[agent] = UtteranceSpace(self._layout.neighbours[self._known(agent)])
            if self._space_seed is not None:  # as reset(seed) seeded the spaces that existed then
                space.seed(self._space_seed + self.possible_agents.index(agent))
        return space

    def _known(self, agent: str) -> str:
        if agent not in self._layout.specs:
            raise KeyError(agent)
        return agent

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        if seed is not None:
            self._space_seed = seed
            for a, space in self._act_spaces.items():
                space.seed(seed + self.possible_agents.index(a))
        self.agents = list(self.possible_agents)
        self.bus = MessageBus(self._layout.graph, self._layout.neighbours)
        self.turn = 0
        self.commitments: dict[str, Action] = {}
        self.ended_by: EndReason = "running"
        self.rewards = {a: 0.0 for a in self.agents}
        self._cumulative_rewards = {a: 0.0 for a in self.agents}
        self.terminations = {a: False for a in self.agents}
        self.truncations = {a: False for a in self.agents}
        self.infos: dict[str, dict[str, Any]] = {a: {} for a in self.agents}
        self.agent_selection = self.agents[0]

    def observe(self, agent: str) -> Observation:
        lay = self._layout
        # trusted: every part is already typed (the layout's, the bus's); validating would
        # copy the facts, the names and the inbox on every turn
        return _observation(
            agent=lay.specs[agent],
            turn=self.turn,
            family=self.scenario.family,
            context=self.scenario.context,
            names=dict(lay.names),  # a copy: the layout's own dict stays out of reach
            neighbours=lay.neighbours[agent],
            facts=lay.facts[agent],
            messages=tuple(self.bus.seen_by(agent)),
            task=lay.public_task,
            max_turns=self.scenario.limits.max_turns,
            commit_after=self.scenario.limits.commit_after,
        )

    def state(self) -> State:  # type: ignore[override]
        # model_construct: every field is already typed, and validating State would rerun the
        # Scenario's cross-field checks (a model_dump of the whole scenario) on every turn
        return State.model_construct(
            scenario=self.scenario,
            turn=self.turn,
            messages=tuple(self.bus.messages),
            commitments=dict(self.commitments),
        )

    def parse_actions(self, content: str) -> tuple[Action, ...]:
        """Commitments in ``content``, in order: at the start of a line or inline (see :class:`Commitment`).

        The value is stripped of markdown emphasis the pattern lets through
        (``**SELECT:** x`` captures ``** x``); a commitment with no value left is ignored.
        """
        return tuple(Action(verb=self._verb, value=v) for v in self._commitment.values(content))

    def step(self, action: Utterance | None) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        if not isinstance(action, Utterance):
            raise TypeError(f"expected an Utterance from '{agent}', got {type(action).__name__}")
        # rewards are set once, when the episode ends (_check_end accumulates them then): a
        # live step has none to clear, so PettingZoo's _clear_rewards/_accumulate_rewards are not needed
        self._cumulative_rewards[agent] = 0.0
        actions = self.parse_actions(action.content)
        self.bus.send(agent, action.content, self.turn, action.to, actions)
        if actions:
            self.commitments[agent] = actions[-1]
        self.turn += 1
        self._check_end()
        self.agent_selection = self.possible_agents[self.turn % len(self.possible_agents)]

    def _check_end(self) -> None:
        done = False
        if self.commitments:
            committed = self._layout.committers.intersection(self.commitments)
            all_needed = self.scenario.task.ends_when == "all_committed"
            done = committed == self._layout.committers if all_needed else bool(committed)
        if done:
            self.ended_by = "committed"
            reward = 1.0 if self.outcome().success else 0.0
            for a in self.agents:
                self.terminations[a] = True
                self.rewards[a] = reward
            self._accumulate_rewards()
        elif self.turn >= self.scenario.limits.max_turns:
            self.truncate("turn_limit")

    def truncate(self, reason: EndReason) -> None:
        """End the episode early (turn limit, exhausted script, failed model call)."""
        self.ended_by = reason
        for a in self.agents:
            self.truncations[a] = True

    def outcome(self) -> Outcome:
        values = {a: act.value for a, act in self.commitments.items() if a in self._layout.committers}
        return outcome(self.scenario.task, self._layout.committers, values, self.ended_by, self.turn)

    def render(self) -> str:
        lines = []
        for m in self.bus.messages:
            to = ",".join(sorted(m.recipients))
            lines.append(f"[{m.turn}] {self._layout.names[m.sender]} -> {to}: {m.content}")
        return "\n".join(lines)

    def close(self) -> None:
        pass
