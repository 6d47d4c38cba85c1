"""Issue 18: the ``human`` backend hands a seat one agent's Observation only, and a seat's stop ends the episode
with what was played (``interrupted`` or ``left``), never as an error and never losing messages.
"""

from __future__ import annotations

import asyncio

import pytest
from helpers import SCENARIO_DIR
from helpers.seats import Typed

from privy.simulator import backends, load_scenario, run_episode
from privy.simulator.backends.human import HumanBackend, SeatInterrupted, SeatLeft
from privy.simulator.views import Mindreading, Observation

MUTUAL = SCENARIO_DIR / "mutual_friends.yaml"


def test_the_seat_gets_the_observation_and_nothing_else() -> None:
    seat = Typed("hello", "SELECT: Tess Moreau")
    ep = asyncio.run(run_episode(load_scenario(MUTUAL), "agents", backends.create("scripted"), 0,
                                 agent_backends={"bob": HumanBackend(seat)}))
    assert ep.outcome.ended_by == "committed"
    assert [type(v) for v in seat.views] == [Observation, Observation]
    for v in seat.views:
        assert v.agent.id == "bob" and {f.id for f in v.facts} == {f.id for f in ep.scenario.facts_of("bob")}
        assert all(m.visible_to("bob") for m in v.messages)
    assert ep.backend["per_agent"] == {"bob": {"backend": "human", "human": True, "seat": "test"}}


@pytest.mark.parametrize("mode", ["omniscient", "script"])
def test_a_seat_is_never_handed_the_state(mode: str) -> None:
    seat = Typed("hello")
    b = HumanBackend(seat)
    ep = asyncio.run(run_episode(load_scenario(MUTUAL), mode, b, 0))
    assert seat.views == [] and ep.outcome.ended_by == "error"
    assert f"this request is for mode {mode!r} with State" in (ep.calls[0].error or "")


def test_a_mindreaders_seat_is_shown_what_the_mindreader_prompt_is_built_from() -> None:
    """The person sees every agent's facts under its holder, and every message, from mindread(), as the model would."""
    s = load_scenario(SCENARIO_DIR / "hidden_profile.yaml")
    ana = backends.create("mock", outputs=["TO Ben: psst, Blake cheats at cards", "hello"])
    seat = Typed("Cleo here.", SeatLeft())
    ep = asyncio.run(run_episode(s, "mindreaders", backends.create("scripted"), 0,
                                 agent_backends={"ana": ana, "cleo": HumanBackend(seat)}))
    view = seat.views[0]
    assert isinstance(view, Mindreading) and view.agent.id == "cleo"
    assert view.facts == {a.id: tuple(s.facts_of(a.id)) for a in s.agents}
    assert view.messages == tuple(ep.messages[:2])  # Ana's DM to Ben too: a mindreader reads it
    assert view.messages[0].recipients == frozenset({"ben"}) and not view.delivered(view.messages[0])
    assert "answer" not in Mindreading.model_fields and "needed_facts" not in view.task.model_dump()
    # the prompt a model at Cleo's seat would have had (logged in the call) holds exactly these facts and messages
    prompt = "\n".join(m.content for m in ep.calls[2].input)
    assert ep.calls[2].speaker == "cleo" and ep.calls[2].output == "Cleo here."
    for agent, facts in view.facts.items():
        for f in facts:
            assert f"{view.names[agent]} knows: {f.text}" in prompt
    assert "psst, Blake cheats at cards" in prompt


@pytest.mark.parametrize(("stop", "reason"), [(SeatInterrupted(), "interrupted"), (SeatLeft(), "left")])
def test_a_stop_at_the_seat_ends_the_episode_and_keeps_what_was_played(stop: BaseException, reason: str) -> None:
    ep = asyncio.run(run_episode(load_scenario(MUTUAL), "agents", backends.create("scripted"), 0,
                                 agent_backends={"bob": HumanBackend(Typed("hello", stop))}))
    assert ep.outcome.ended_by == reason
    assert [m.sender for m in ep.messages] == ["alice", "bob", "alice"]
    assert ep.calls[-1].speaker == "bob" and ep.calls[-1].output is None


def test_a_persons_direct_message_reaches_only_its_addressee() -> None:
    """The runner reads a person's ``TO Name:`` as it reads a model's: Ben's DM to Ana never reaches Cleo."""
    seat = Typed("TO Ana: psst, only for you", "hello all")
    ep = asyncio.run(run_episode(load_scenario(SCENARIO_DIR / "hidden_profile.yaml"), "agents",
                                 backends.create("scripted"), 0, agent_backends={"ben": HumanBackend(seat)}))
    dm = next(m for m in ep.messages if "psst" in m.content)
    assert dm.sender == "ben" and dm.recipients == frozenset({"ana"})
    later = [c for c in ep.calls if c.turn > dm.turn]
    assert any(c.speaker == "ana" and "psst" in _text(c) for c in later)
    assert any(c.speaker == "cleo" for c in later)  # Cleo wrote after the DM, without it
    assert not any(c.speaker == "cleo" and "psst" in _text(c) for c in later)


def _text(call: object) -> str:
    return "\n".join(m.content for m in call.input)  # type: ignore[attr-defined]
