"""Issue 18: what a person types at a seat, read into a move (shared by the terminal and the browser seat)."""

from __future__ import annotations

import pytest
from helpers import SCENARIO_DIR

from privy.bench.seat_moves import BadInput, Leave, Say, Show, read_move
from privy.simulator import PrivyEnv, load_scenario
from privy.simulator.scenario import Topology
from privy.simulator.views import Observation, mindread


def view(path: str, agent: str, topology: Topology | None = None) -> Observation:
    s = load_scenario(SCENARIO_DIR / path)
    if topology is not None:
        s = s.model_copy(update={"topology": topology})
    env = PrivyEnv(s)
    return env.observe(agent)


STAR = Topology(kind="edges", edges=[("cleo", "ana"), ("cleo", "ben")])


@pytest.mark.parametrize(("line", "text"), [
    ("Hello there", "Hello there"),
    ("  TO Ana: just you  ", "TO Ana: just you"),
    ("TO ana, BEN: both of you", "TO Ana, Ben: both of you"),  # ids or names, any case, as display names
    ("/to Ben: psst", "TO Ben: psst"),
    ("To be honest: Avery", "To be honest: Avery"),  # "To" is a word here, not the protocol's TO
    ("/commit avery", "DECIDE: avery"),
    ("I think Avery. DECIDE: Avery", "I think Avery. DECIDE: Avery"),
])
def test_a_line_becomes_the_text_of_the_turn(line: str, text: str) -> None:
    assert read_move(line, view("hidden_profile.yaml", "cleo", STAR)) == Say(text)


@pytest.mark.parametrize(("line", "why"), [
    ("", "empty message"),
    ("/dance", "unknown command /dance"),
    ("TO Ben: hi", "you cannot write to 'Ben'; you can write to: Cleo"),  # Ana is a leaf of the star
    ("TO , : hi", "no name after TO"),
    ("/commit Dana", "'Dana' is not an option; expected one of: Avery, Blake, Casey"),
    ("Fine. DECIDE: Dana", "'Dana' is not an option"),
    ("/commit", "/commit needs a value: /commit OPTION writes 'DECIDE: OPTION'"),
])
def test_bad_input_says_why(line: str, why: str) -> None:
    with pytest.raises(BadInput, match=why.replace("(", r"\(").replace(")", r"\)")):
        read_move(line, view("hidden_profile.yaml", "ana", STAR))


def test_commands_that_only_show_and_leave() -> None:
    v = view("mutual_friends.yaml", "bob")
    assert [read_move(c, v) for c in ("/help", "/?", "/history", "/brief", "/leave")] == [
        Show("help"), Show("help"), Show("history"), Show("brief"), Leave()]


def test_a_deal_must_be_a_split_of_the_items() -> None:
    v = view("examples/deal_or_no_deal/deal_or_no_deal_0000_ac4aeefb.yaml", "kira")
    items = v.task.deal_items
    take = " ".join(f"{i}={n}" for i, n in items.items())
    assert read_move(f"/commit {take}", v) == Say(f"DEAL: {take}")
    first = next(iter(items))
    with pytest.raises(BadInput, match="is not a split of the items"):
        read_move(f"/commit {first}={items[first] + 1}", v)
    with pytest.raises(BadInput, match="is not a split of the items"):
        read_move("/commit unicorn=1", v)


def test_a_non_committer_cannot_commit() -> None:
    s = load_scenario(SCENARIO_DIR / "examples/tutoring/tutoring_directive_gap_0000.yaml")
    teacher = next(a for a in s.agent_ids if a not in s.task.committers)
    v = PrivyEnv(s).observe(teacher)
    with pytest.raises(BadInput, match="commit in this task"):
        read_move(f"/commit {s.task.answer}", v)


def test_a_commitment_held_back_by_the_scenario_is_refused_until_the_person_has_spoken() -> None:
    s = load_scenario(SCENARIO_DIR / "mutual_friends.yaml")
    s = s.model_copy(update={"limits": s.limits.model_copy(update={"commit_after": 1})})
    env = PrivyEnv(s)
    env.reset(seed=0)
    for line in ("/commit Tess Moreau", "We both know her. SELECT: Tess Moreau", "TO Bob: SELECT: Tess Moreau"):
        with pytest.raises(BadInput, match=r"only after sending 1 more message .*commit_after is 1"):
            read_move(line, env.observe("alice"))
    env.step(env.action_space("alice").sample().model_copy(update={"content": "Hi, my friends: Tess Moreau"}))
    env.step(env.action_space("bob").sample().model_copy(update={"content": "Tess is on my list too"}))
    assert read_move("/commit Tess Moreau", env.observe("alice")) == Say("SELECT: Tess Moreau")


def test_a_mindreader_seat_is_held_back_by_the_same_rule() -> None:
    """In ``mindreaders`` mode the person's view is a Mindreading: the rule reads it the same way."""
    s = load_scenario(SCENARIO_DIR / "mutual_friends.yaml")
    s = s.model_copy(update={"limits": s.limits.model_copy(update={"commit_after": 1})})
    env = PrivyEnv(s)
    env.reset(seed=0)
    with pytest.raises(BadInput, match=r"only after sending 1 more message .*commit_after is 1"):
        read_move("/commit Tess Moreau", mindread(env.state(), "alice"))
    env.step(env.action_space("alice").sample().model_copy(update={"content": "Hi, my friends: Tess Moreau"}))
    env.step(env.action_space("bob").sample().model_copy(update={"content": "Tess is on my list too"}))
    assert read_move("/commit Tess Moreau", mindread(env.state(), "alice")) == Say("SELECT: Tess Moreau")
