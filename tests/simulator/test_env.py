"""PrivyEnv: the PettingZoo API, private observations, commitments, endings, rewards."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from gymnasium.utils.env_checker import data_equivalence
from helpers import SCENARIO_DIR, SCENARIO_FILES
from pettingzoo.test import api_test, seed_test

from privy.simulator import (
    Observation,
    PrivyEnv,
    Scenario,
    State,
    TopologyError,
    Utterance,
    load_scenario,
)
from privy.simulator.views import PublicTask

MUTUAL = SCENARIO_DIR / "mutual_friends.yaml"
HIDDEN = SCENARIO_DIR / "hidden_profile.yaml"


# --------------------------------------------------------------------------- helpers


def variant(base: Scenario, **changes: Any) -> Scenario:
    """``base`` with top-level fields replaced (dicts are merged one level deep), revalidated."""
    data = base.model_dump(mode="json", exclude_none=True)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return Scenario.model_validate(data)


def say(env: PrivyEnv, *contents: str) -> None:
    """Step the env once per content, each by whoever's turn it is."""
    for content in contents:
        env.step(Utterance(content=content))


def drain(env: PrivyEnv) -> dict[str, float]:
    """Walk the AEC loop to the end; the reward ``last()`` gives each ended agent."""
    got: dict[str, float] = {}
    for agent in env.agent_iter():
        _, reward, terminated, truncated, _ = env.last()
        assert terminated or truncated, f"{agent} is still live"
        got[agent] = reward
        env.step(None)
    return got


def cycles_for(s: Scenario) -> int:
    """Enough AEC cycles for random play to reach the turn limit (capped for huge limits)."""
    return min(s.limits.max_turns, 60) // len(s.agents) + 2


def _directed(base: Scenario) -> Scenario:
    a, b = base.agent_ids[:2]
    return variant(base, topology={"kind": "edges", "edges": [[b, a]], "directed": True})


def _numbered_ids() -> Scenario:
    """Agents p1, p10, p2 on a line p1 - p10 - p2: ids that are substrings of each other."""
    return Scenario.model_validate({
        "id": "numbered", "title": "numbered ids",
        "agents": [{"id": i, "name": i.upper(), "goal": "talk"} for i in ("p1", "p10", "p2")],
        "facts": [{"id": f"f_{i}", "text": f"secret of {i}", "holders": [i]}
                  for i in ("p1", "p10", "p2")],
        "topology": {"kind": "edges", "edges": [["p1", "p10"], ["p10", "p2"]]},
        "limits": {"max_turns": 6},
        "task": {"kind": "select", "answer": "x"},
    })


SYNTHETIC = {
    "mutual_friends_directed": lambda: _directed(load_scenario(MUTUAL)),
    "hidden_profile_directed": lambda: _directed(load_scenario(HIDDEN)),
    "numbered_ids_line": _numbered_ids,
}


# --------------------------------------------------------------------------- PettingZoo API


def test_scenario_files_are_found() -> None:
    names = {p.name for p in SCENARIO_FILES}
    assert {"mutual_friends.yaml", "hidden_profile.yaml"} <= names


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.name)
def test_api_test_passes_for_every_scenario_file(path: Path) -> None:
    s = load_scenario(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # advice about Box/Discrete spaces and agent names
        api_test(PrivyEnv(s), num_cycles=cycles_for(s))


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_api_test_passes_for_sparse_topologies(name: str) -> None:
    """Includes an agent with no out-neighbour (directed edge b -> a): it must still act."""
    s = SYNTHETIC[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        api_test(PrivyEnv(s), num_cycles=cycles_for(s))


# seed_test applies although observations are not arrays: it compares observations and
# actions with gymnasium's data_equivalence, which falls back to ``==`` for other types,
# and Observation / Utterance are frozen pydantic models with field-wise equality.
@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.name)
def test_seed_test_passes_for_every_scenario_file(path: Path) -> None:
    s = load_scenario(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seed_test(lambda: PrivyEnv(s), num_cycles=cycles_for(s))


def _sampled_play(env: PrivyEnv, seed: int, steps: int = 8) -> list[tuple[Any, ...]]:
    """reset(seed) then random play; seed_test reseeds the spaces itself, this does not."""
    env.reset(seed=seed)
    trace: list[tuple[Any, ...]] = []
    for agent in env.agent_iter(steps):
        obs, _, terminated, truncated, _ = env.last()
        action = None if terminated or truncated else env.action_space(agent).sample()
        trace.append((agent, obs, action))
        env.step(action)
    return trace


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.name)
def test_reset_seed_makes_sampled_play_reproducible(path: Path) -> None:
    s = load_scenario(path)
    env1, env2 = PrivyEnv(s), PrivyEnv(s)
    first = _sampled_play(env1, seed=7)
    assert data_equivalence(first, _sampled_play(env2, seed=7))
    assert data_equivalence(first, _sampled_play(env1, seed=7)), "same env, reset again"
    other = _sampled_play(env1, seed=8)
    assert [a for _, _, a in other] != [a for _, _, a in first]


# --------------------------------------------------------------------------- views


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.name)
def test_observation_holds_only_the_agents_own_facts(path: Path) -> None:
    s = load_scenario(path)
    env = PrivyEnv(s)
    for agent in s.agent_ids:
        obs = env.observe(agent)
        assert isinstance(obs, Observation)
        assert obs.agent.id == agent
        assert list(obs.facts) == s.facts_of(agent)
        dumped = obs.model_dump_json()
        own_texts = {f.text for f in obs.facts}
        for f in s.facts:
            if agent in f.holders:
                continue
            assert f'"{f.id}"' not in dumped, f"{agent} sees the id of {f.id}"
            if f.text not in own_texts:
                assert f.text not in dumped, f"{agent} sees the text of {f.id}"
        # The task an agent is told has no ground truth and no list of needed fact ids.
        assert isinstance(obs.task, PublicTask)
        assert not hasattr(obs.task, "answer")
        assert not hasattr(obs.task, "needed_facts")
        assert obs.task.commitment == s.task.commitment
        assert obs.messages == ()


def test_observation_holds_only_messages_delivered_to_the_agent() -> None:
    s = load_scenario(HIDDEN)
    env = PrivyEnv(s)
    env.step(Utterance(content="Ana to Ben only", to=frozenset({"ben"})))
    env.step(Utterance(content="Ben to everyone"))
    both = ["Ana to Ben only", "Ben to everyone"]
    assert [m.content for m in env.observe("ana").messages] == both
    assert [m.content for m in env.observe("ben").messages] == both
    assert [m.content for m in env.observe("cleo").messages] == ["Ben to everyone"]
    assert env.observe("cleo").turn == 2


def test_state_holds_every_fact_message_and_commitment() -> None:
    s = load_scenario(HIDDEN)
    env = PrivyEnv(s)
    env.step(Utterance(content="Ana to Ben only", to=frozenset({"ben"})))
    env.step(Utterance(content="I think Avery.\nDECIDE: Avery"))
    state = env.state()
    assert isinstance(state, State)
    assert state.scenario.facts == s.facts
    assert state.scenario.task.answer == "Avery"
    assert [m.content for m in state.messages] == [
        "Ana to Ben only", "I think Avery.\nDECIDE: Avery"]
    assert state.messages[0].recipients == frozenset({"ben"})
    assert {a: c.value for a, c in state.commitments.items()} == {"ben": "Avery"}
    assert state.turn == 2
    # the state is a snapshot: later steps do not change it
    env.step(Utterance(content="DECIDE: Blake"))
    assert len(state.messages) == 2 and set(state.commitments) == {"ben"}


# --------------------------------------------------------------------------- commitments


@pytest.mark.parametrize(
    ("content", "values"),
    [
        ("SELECT: Tess Moreau", ["Tess Moreau"]),
        ("We agree.\nSELECT: Tess Moreau\nBye.", ["Tess Moreau"]),
        ("  SELECT :  Tess Moreau  ", ["Tess Moreau"]),
        ("**SELECT:** Tess Moreau", ["Tess Moreau"]),
        ("**SELECT**: Tess Moreau", ["Tess Moreau"]),
        ("SELECT: **Tess Moreau**", ["Tess Moreau"]),
        ("SELECT: Ivan Petrov\nSELECT: Tess Moreau", ["Ivan Petrov", "Tess Moreau"]),
        # The verb is a protocol keyword, declared in capitals (the schema requires it)
        # and spelled in capitals in every prompt: other spellings are prose, not a
        # commitment, so a casual "Select: ..." never ends an episode by accident.
        ("select: Tess Moreau", []),
        ("Select: Tess Moreau", []),
        # Only at the start of a line, only the exact verb, only with a value.
        ("I would SELECT: Tess Moreau", []),
        ("SELECTED: Tess Moreau", []),
        ("SELECT Tess Moreau", []),
        ("SELECT:", []),
        ("SELECT:   ", []),
        ("SELECT: **", []),
        ("DECIDE: Tess Moreau", []),
        ("I think it is Tess Moreau.", []),
    ],
)
def test_commitment_parsing(content: str, values: list[str]) -> None:
    env = PrivyEnv(load_scenario(MUTUAL))
    actions = env.parse_actions(content)
    assert [a.value for a in actions] == values
    assert all(a.verb == "SELECT" for a in actions)


@pytest.mark.parametrize(
    ("content", "values"),
    [
        # inline: the value ends with its sentence
        ("Agreed. SELECT: Tess Moreau", ["Tess Moreau"]),
        ("Great, we match! SELECT: Tess Moreau. Bye!", ["Tess Moreau"]),
        ("ok so SELECT: Tess Moreau", ["Tess Moreau"]),
        ("Yes, it's her. **SELECT:** Tess Moreau", ["Tess Moreau"]),
        ("Agreed. SELECT: Tess Moreau\nSELECT: Ivan Petrov", ["Tess Moreau", "Ivan Petrov"]),
        # not meant as a commitment: negated, hedged, conditional, a question, quoted, about the syntax
        ("Don't SELECT: Tess Moreau yet, I'm not sure.", []),
        ("Let's not SELECT: Tess Moreau yet.", []),
        ("I won't SELECT: Tess Moreau until you confirm.", []),
        ("If you agree, SELECT: Tess Moreau.", []),
        ("Once we are sure, SELECT: Tess Moreau", []),
        ("Maybe SELECT: Tess Moreau?", []),
        ("Shall we SELECT: Tess Moreau?", []),
        ('You said "SELECT: Tess Moreau" too early.', []),
        ("Reply with `SELECT: Tess Moreau` when ready.", []),
        ("Just write SELECT: <name> at the end.", []),
        ("Everyone PRESELECT: Tess Moreau", []),
        ("Okay, I will SELECT: Tess Moreau once you confirm.", []),
        ("Then SELECT: Tess Moreau if Ivan is out.", []),
        # a negation in an earlier sentence does not reach it
        ("I don't know Ivan. SELECT: Tess Moreau", ["Tess Moreau"]),
    ],
)
def test_inline_commitments(content: str, values: list[str]) -> None:
    env = PrivyEnv(load_scenario(MUTUAL))
    assert [a.value for a in env.parse_actions(content)] == values


def test_an_inline_commitment_ends_the_episode_as_a_line_would() -> None:
    env = PrivyEnv(load_scenario(MUTUAL))
    say(env, "Tess Moreau is on my list. Agreed? SELECT: Tess Moreau")
    say(env, "Agreed. SELECT: Tess Moreau")
    assert env.ended_by == "committed" and env.outcome().success


def test_commitment_uses_the_scenarios_verb() -> None:
    env = PrivyEnv(load_scenario(HIDDEN))
    assert [a.value for a in env.parse_actions("DECIDE: Avery")] == ["Avery"]
    assert env.parse_actions("SELECT: Avery") == ()


def test_message_records_its_commitments_and_the_last_one_counts() -> None:
    env = PrivyEnv(load_scenario(MUTUAL))
    say(env, "SELECT: Ivan Petrov\nOn second thought:\nSELECT: Tess Moreau")
    assert [a.value for a in env.bus.messages[0].actions] == ["Ivan Petrov", "Tess Moreau"]
    assert env.commitments["alice"].value == "Tess Moreau"


# --------------------------------------------------------------------------- endings


def test_one_commitment_does_not_end_an_all_committed_episode() -> None:
    env = PrivyEnv(load_scenario(MUTUAL))
    say(env, "SELECT: Tess Moreau")
    assert not any(env.terminations.values())
    assert not any(env.truncations.values())
    assert env.ended_by == "running"
    assert env.agent_selection == "bob"


@pytest.mark.parametrize(
    "bob_says",
    ["SELECT: Tess Moreau", "SELECT: tess moreau.", "SELECT: TESS MOREAU!", 'SELECT: "Tess Moreau"',
     "SELECT: Tess   Moreau", "SELECT: `Tess Moreau`", "**SELECT:** Tess Moreau"],
)
def test_all_committed_to_the_answer_succeeds(bob_says: str) -> None:
    env = PrivyEnv(load_scenario(MUTUAL))
    say(env, "Hi, my friends are ...", "Mine are ...", "SELECT: Tess Moreau", bob_says)
    assert all(env.terminations.values())
    assert not any(env.truncations.values())
    o = env.outcome()
    assert o.ended_by == "committed"
    assert o.turns == 4
    assert o.success is True
    assert o.decision is not None
    assert set(o.commitments) == {"alice", "bob"}
    assert drain(env) == {"alice": 1.0, "bob": 1.0}
    assert env.agents == []


def test_all_committed_but_disagreeing_fails() -> None:
    env = PrivyEnv(load_scenario(MUTUAL))
    say(env, "SELECT: Tess Moreau", "SELECT: Ivan Petrov")
    o = env.outcome()
    assert all(env.terminations.values())
    assert (o.ended_by, o.decision, o.success) == ("committed", None, False)
    assert o.commitments == {"alice": "Tess Moreau", "bob": "Ivan Petrov"}
    assert drain(env) == {"alice": 0.0, "bob": 0.0}


def test_all_committed_to_a_wrong_answer_fails() -> None:
    env = PrivyEnv(load_scenario(MUTUAL))
    say(env, "SELECT: Ivan Petrov", "SELECT: ivan petrov")
    o = env.outcome()
    assert (o.ended_by, o.decision, o.success) == ("committed", "Ivan Petrov", False)
    assert drain(env) == {"alice": 0.0, "bob": 0.0}


@pytest.mark.parametrize(("value", "success"), [("Tess Moreau", True), ("Ivan Petrov", False)])
def test_any_committed_ends_at_the_first_commitment(value: str, success: bool) -> None:
    s = load_scenario(MUTUAL)
    env = PrivyEnv(variant(s, task={"ends_when": "any_committed"}))
    say(env, "Hello.")
    assert not any(env.terminations.values())
    say(env, f"SELECT: {value}")
    assert all(env.terminations.values())
    o = env.outcome()
    assert (o.ended_by, o.decision, o.success) == ("committed", value, success)
    assert o.commitments == {"bob": value}
    reward = 1.0 if success else 0.0
    assert drain(env) == {"alice": reward, "bob": reward}


def test_truncation_at_max_turns() -> None:
    s = variant(load_scenario(MUTUAL), limits={"max_turns": 3})
    env = PrivyEnv(s)
    say(env, "one", "two")
    assert not any(env.truncations.values())
    say(env, "three")
    assert all(env.truncations.values())
    assert not any(env.terminations.values())
    o = env.outcome()
    assert (o.ended_by, o.turns, o.success, o.decision) == ("turn_limit", 3, False, None)
    assert drain(env) == {"alice": 0.0, "bob": 0.0}
    assert len(env.bus.messages) == 3


def test_truncation_with_only_one_agent_committed_is_no_success() -> None:
    s = variant(load_scenario(MUTUAL), limits={"max_turns": 2})
    env = PrivyEnv(s)
    say(env, "SELECT: Tess Moreau", "Let me think.")
    o = env.outcome()
    assert o.ended_by == "turn_limit"
    assert o.commitments == {"alice": "Tess Moreau"}
    assert o.success is False


def test_a_commitment_on_the_last_turn_ends_by_commitment() -> None:
    s = variant(load_scenario(MUTUAL), limits={"max_turns": 2})
    env = PrivyEnv(s)
    say(env, "SELECT: Tess Moreau", "SELECT: Tess Moreau")
    o = env.outcome()
    assert (o.ended_by, o.success) == ("committed", True)
    assert all(env.terminations.values()) and not any(env.truncations.values())


def test_hidden_profile_unanimous_decision_on_the_answer() -> None:
    env = PrivyEnv(load_scenario(HIDDEN))
    say(env, "DECIDE: Avery", "Agreed.\nDECIDE: avery.")
    assert not any(env.terminations.values()), "cleo has not decided yet"
    say(env, "**DECIDE:** Avery")
    o = env.outcome()
    assert (o.ended_by, o.decision, o.success) == ("committed", "Avery", True)
    assert o.commitments == {"ana": "Avery", "ben": "avery.", "cleo": "Avery"}
    assert drain(env) == {"ana": 1.0, "ben": 1.0, "cleo": 1.0}


def test_hidden_profile_split_decision_fails() -> None:
    env = PrivyEnv(load_scenario(HIDDEN))
    say(env, "DECIDE: Avery", "DECIDE: Blake", "DECIDE: Avery")
    o = env.outcome()
    assert (o.ended_by, o.decision, o.success) == ("committed", None, False)
    assert drain(env) == {"ana": 0.0, "ben": 0.0, "cleo": 0.0}


def test_hidden_profile_unanimous_wrong_decision_fails() -> None:
    env = PrivyEnv(load_scenario(HIDDEN))
    say(env, "DECIDE: Blake", "DECIDE: Blake", "DECIDE: Blake")
    o = env.outcome()
    assert (o.decision, o.success) == ("Blake", False)


def test_reset_clears_the_episode() -> None:
    env = PrivyEnv(load_scenario(MUTUAL))
    say(env, "SELECT: Tess Moreau", "SELECT: Tess Moreau")
    env.reset()
    assert env.bus.messages == [] and env.commitments == {} and env.turn == 0
    assert env.ended_by == "running"
    assert env.agents == ["alice", "bob"] and env.agent_selection == "alice"
    assert not any(env.terminations.values())


# --------------------------------------------------------------------------- bad actions


@pytest.mark.parametrize("action", ["SELECT: Tess Moreau", {"content": "hi"}, 3, None])
def test_stepping_a_non_utterance_raises_type_error(action: Any) -> None:
    env = PrivyEnv(load_scenario(MUTUAL))
    with pytest.raises(TypeError, match="expected an Utterance from 'alice'"):
        env.step(action)
    assert env.turn == 0
    assert env.bus.messages == []
    assert env.commitments == {}
    assert env.agent_selection == "alice"


def test_utterance_to_a_non_neighbour_changes_nothing() -> None:
    s = variant(load_scenario(HIDDEN), topology={"kind": "edges", "edges": [["ana", "ben"]]})
    env = PrivyEnv(s)
    assert env.action_space("ana").contains(Utterance(content="x", to=frozenset({"ben"})))
    assert not env.action_space("ana").contains(Utterance(content="x", to=frozenset({"cleo"})))
    with pytest.raises(TopologyError, match="cleo"):
        env.step(Utterance(content="DECIDE: Avery", to=frozenset({"cleo"})))
    assert (env.turn, env.bus.messages, env.commitments) == (0, [], {})
    assert env.agent_selection == "ana"


def test_agent_without_out_neighbours_speaks_to_no_one_and_may_commit() -> None:
    s = _directed(load_scenario(MUTUAL))  # bob -> alice only
    env = PrivyEnv(s)
    assert env.action_space("alice").neighbours == frozenset()
    say(env, "SELECT: Tess Moreau", "My friends: ...")
    first = env.bus.messages[0]
    assert first.sender == "alice" and first.recipients == frozenset()
    assert [m.content for m in env.observe("bob").messages] == ["My friends: ..."]
    assert [m.content for m in env.observe("alice").messages] == [
        "SELECT: Tess Moreau", "My friends: ..."]
    assert env.commitments["alice"].value == "Tess Moreau"


def test_render_lists_the_messages() -> None:
    env = PrivyEnv(load_scenario(MUTUAL))
    say(env, "Hello Bob", "Hello Alice")
    assert env.render().splitlines() == [
        "[0] Alice -> bob: Hello Bob", "[1] Bob -> alice: Hello Alice"]


def test_an_imported_transcript_reads_inline_commitments_by_the_same_rule() -> None:
    from privy.simulator.episode import Source
    from privy.simulator.transcript import Line, replay

    lines = [Line("alice", "Tess Moreau? Don't SELECT: Tess Moreau yet."),
             Line("bob", "Yes, Tess. Agreed. SELECT: Tess Moreau"), Line("alice", "Great! SELECT: Tess Moreau.")]
    ep = replay(load_scenario(MUTUAL), lines, Source(format="transcript", file="t.jsonl", record="1"))
    assert [[a.value for a in m.actions] for m in ep.messages] == [[], ["Tess Moreau"], ["Tess Moreau"]]
    assert ep.outcome.ended_by == "committed" and ep.outcome.success
