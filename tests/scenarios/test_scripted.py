"""The scripted MutualFriends policy (share, intersect, select) run through run_episode."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import SCENARIO_DIR, solve

from privy.simulator import Scenario, load_scenario

MUTUAL = SCENARIO_DIR / "mutual_friends.yaml"


def variant(base: Scenario, **changes: Any) -> Scenario:
    data = base.model_dump(mode="json", exclude_none=True)
    data.update(changes)
    return Scenario.model_validate(data)


def without_shared_friend(s: Scenario) -> Scenario:
    """Bob's Tess Moreau is replaced by someone Alice does not know."""
    data = s.model_dump(mode="json", exclude_none=True)
    facts = [f for f in data["facts"] if f["id"] != "b_tess"]
    facts.append({
        "id": "b_hugo", "text": "Hugo Laurent: works at Acme, studied at Berkeley, likes jazz.",
        "holders": ["bob"], "mentions": [{"literal": "Hugo Laurent"}],
    })
    data["facts"] = facts
    data["task"] = {**data["task"], "needed_facts": ["a_tess"]}
    return Scenario.model_validate(data)


def test_scripted_policy_solves_mutual_friends() -> None:
    ep = solve(load_scenario(MUTUAL), "agents")
    o = ep.outcome
    assert o.success is True
    assert o.ended_by == "committed"
    assert o.commitments == {"alice": "Tess Moreau", "bob": "Tess Moreau"}
    assert o.decision == "Tess Moreau"
    assert o.turns == len(ep.messages) == 3
    assert [m.sender for m in ep.messages] == ["alice", "bob", "alice"]
    assert all(c.error is None for c in ep.calls)
    assert [c.speaker for c in ep.calls] == ["alice", "bob", "alice"]


@pytest.mark.parametrize("mode", ["mindreaders", "omniscient"])
def test_full_state_modes_skip_grounding_and_name_the_partners_friend(mode: str) -> None:
    """With the whole state the reference commits on its first turn, naming a friend only the partner has."""
    s = load_scenario(MUTUAL)
    ep = solve(s, mode)
    o = ep.outcome
    assert o.success is True and o.ended_by == "committed"
    assert o.commitments == {"alice": "Tess Moreau", "bob": "Tess Moreau"}
    assert [m.sender for m in ep.messages] == [c.speaker for c in ep.calls] == ["alice", "bob"]
    names = {a: {f.mentions[0].literal for f in s.facts_of(a)} for a in ("alice", "bob")}
    bobs_only = names["bob"] - names["alice"]
    first = ep.messages[0].content
    assert any(name and name in first for name in bobs_only), first
    assert "My friends" not in first and "?" not in first
    agents = solve(s, "agents")
    assert [m.content for m in ep.messages] != [m.content for m in agents.messages][:2]


def test_script_mode_writes_the_whole_dialogue_in_one_call() -> None:
    ep = solve(load_scenario(MUTUAL), "script")
    assert len(ep.calls) == 1 and ep.calls[0].speaker is None and ep.calls[0].error is None
    text = ep.calls[0].output or ""
    assert [line.split(":")[0] for line in text.splitlines() if not line.startswith("SELECT")] == ["Alice", "Bob"]
    o = ep.outcome
    assert o.success is True and o.ended_by == "committed"
    assert o.commitments == {"alice": "Tess Moreau", "bob": "Tess Moreau"}
    assert [m.content for m in ep.messages] == [m.content for m in solve(load_scenario(MUTUAL), "omniscient").messages]


def test_scripted_agents_mode_shares_then_selects() -> None:
    ep = solve(load_scenario(MUTUAL))
    first, second, third = ep.messages
    assert first.content.startswith("My friends: ") and "Maya Chen" in first.content
    assert first.actions == ()
    assert [a.value for a in second.actions] == ["Tess Moreau"]
    assert [a.value for a in third.actions] == ["Tess Moreau"]


def test_scripted_policy_fails_when_the_shared_friend_is_withheld() -> None:
    s = without_shared_friend(load_scenario(MUTUAL))
    assert "Tess Moreau" not in " ".join(f.text for f in s.facts_of("bob"))
    ep = solve(s)
    o = ep.outcome
    assert o.success is False
    assert o.ended_by == "turn_limit"
    assert o.turns == s.limits.max_turns
    assert "Tess Moreau" not in o.commitments.values()
    assert o.decision != "Tess Moreau"
    assert not any("Tess Moreau" in m.content for m in ep.messages if m.sender == "bob")


@pytest.mark.parametrize(("edge", "mute"), [(["bob", "alice"], "alice"), (["alice", "bob"], "bob")])
def test_one_way_topology_cannot_succeed_and_does_not_crash(edge: list[str], mute: str) -> None:
    """Only ``edge`` exists: nobody hears ``mute``, so the other agent never learns ``mute``'s
    list and never commits; the episode runs to the turn limit without error."""
    one_way = {"kind": "edges", "edges": [edge], "directed": True}
    s = variant(load_scenario(MUTUAL), topology=one_way)
    ep = solve(s)
    o = ep.outcome
    assert o.success is False
    assert o.ended_by == "turn_limit"
    assert o.turns == s.limits.max_turns == len(ep.messages)
    assert all(c.error is None for c in ep.calls)
    speaker = edge[0]
    assert speaker not in o.commitments, f"{speaker} never heard {mute}'s list"
    for m in ep.messages:
        if m.sender == mute:
            assert m.recipients == frozenset()
        else:
            assert m.recipients == frozenset({mute})
