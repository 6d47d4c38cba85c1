"""privy's simulator: scenarios, message bus, environment, modes, backends, episode log.

Typical use::

    import asyncio
    from privy.simulator import load_scenario, run_episode, backends

    scenario = load_scenario("scenarios/mutual_friends.yaml")
    episode = asyncio.run(run_episode(scenario, "agents", backends.create("llama"), seed=0))
    print(episode.outcome)
"""

from privy.simulator import backends
from privy.simulator.bus import Action, Message, MessageBus, TopologyError
from privy.simulator.env import Outcome, PrivyEnv
from privy.simulator.episode import Episode, EpisodeError, ModelCall, load_episode
from privy.simulator.loader import Problem, ScenarioError, load_scenario, parse_scenario, validate_files
from privy.simulator.modes import Mode
from privy.simulator.runner import run_episode
from privy.simulator.scenario import AgentSpec, Fact, Mention, Scenario, Task, Topology
from privy.simulator.spaces import Utterance
from privy.simulator.views import Observation, State

__all__ = [
    "Action",
    "AgentSpec",
    "Episode",
    "EpisodeError",
    "Fact",
    "Mention",
    "Message",
    "MessageBus",
    "Mode",
    "ModelCall",
    "Observation",
    "Outcome",
    "PrivyEnv",
    "Problem",
    "Scenario",
    "ScenarioError",
    "State",
    "Task",
    "Topology",
    "TopologyError",
    "Utterance",
    "backends",
    "load_episode",
    "load_scenario",
    "parse_scenario",
    "run_episode",
    "validate_files",
]
