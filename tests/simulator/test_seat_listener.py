"""Issue 18: a seat's live screen (:class:`privy.simulator.seat.SeatListener`) is told only what reaches its agent,
and changes nothing: the same seed gives byte-identical episodes with and without a listener.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import networkx as nx
import pytest
from helpers import SCENARIO_DIR
from helpers.seats import Typed

from privy.simulator import backends, load_scenario, run_episode
from privy.simulator.backends.base import ChatRequest
from privy.simulator.backends.human import HumanBackend, SeatLeft
from privy.simulator.backends.mock import MockBackend
from privy.simulator.bus import Message, MessageBus, TopologyError
from privy.simulator.episode import Episode
from privy.simulator.seat import SeatListener, SeatView
from privy.simulator.views import Mindreading, Observation

COMMITTEE = SCENARIO_DIR / "hidden_profile.yaml"  # Ana, Ben, Cleo, in that order, everyone to everyone
DM = "TO Ben: psst, only for Ben: Blake cheats at cards"


class Screen:
    """A listener that writes down what it is told, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def seated(self, view: SeatView) -> None:
        self.events.append(("seated", view))

    def writing(self, agent: str) -> None:
        self.events.append(("writing", agent))

    def delivered(self, message: Message) -> None:
        self.events.append(("delivered", message))

    @property
    def messages(self) -> list[Message]:
        return [m for what, m in self.events if what == "delivered"]


class TypedScreen(Typed, Screen):
    """A scripted person whose seat also listens (as the terminal and web seats do)."""

    def __init__(self, *lines: str | BaseException) -> None:
        Typed.__init__(self, *lines)
        Screen.__init__(self)


def fake(request: ChatRequest) -> str:
    """A deterministic model: its text depends on the seed and on everything in the prompt."""
    digest = sum(ord(c) for m in request.messages for c in m.content) % 997
    return f"seed {request.seed} saw {len(request.messages)} lines ({digest})"


def canonical(ep: Episode) -> bytes:
    """The episode as JSON, without what differs between any two runs (its id, clock times and latencies)."""
    data = ep.model_dump(mode="json", exclude={"id", "created_at", "timings"})
    for call in data["calls"]:
        call.pop("latency_s")
    return json.dumps(data, sort_keys=True).encode()


def test_the_bus_tells_a_listener_only_what_reaches_its_agent() -> None:
    g = nx.DiGraph()
    g.add_edges_from([("p1", "p10"), ("p10", "p1"), ("p10", "p2"), ("p2", "p10"), ("p1", "p2")])
    bus = MessageBus(g)
    heard: dict[str, list[int]] = {"p1": [], "p10": [], "p2": []}
    for agent, ids in heard.items():
        bus.listen(agent, lambda m, ids=ids: ids.append(m.id))  # type: ignore[misc]
    bus.send("p10", "to p2 only", 0, frozenset({"p2"}))  # "p1" is a substring of "p10": never a recipient by that
    bus.send("p1", "to everyone p1 reaches", 1)
    bus.send("p2", "back to p10", 2, frozenset({"p10"}))
    assert heard == {"p1": [1], "p10": [0, 1, 2], "p2": [0, 1, 2]}
    assert heard["p1"] == [m.id for m in bus.seen_by("p1")]  # exactly its inbox
    with pytest.raises(TopologyError, match="unknown agent 'p3'"):
        bus.listen("p3", print)


@pytest.mark.parametrize("mode", ["agents", "mindreaders"])
def test_a_dm_between_others_never_reaches_the_seat(mode: str) -> None:
    s = load_scenario(COMMITTEE)
    ana = MockBackend(outputs=[DM, "hello all"])
    cleo, ben = Screen(), Screen()
    ep = asyncio.run(run_episode(s, mode, backends.create("scripted"), 0, agent_backends={"ana": ana},
                                 listeners={"cleo": cleo, "ben": ben}))
    dm = next(m for m in ep.messages if "psst" in m.content)
    assert dm.recipients == frozenset({"ben"})
    assert dm in ben.messages and dm not in cleo.messages
    assert cleo.messages == [m for m in ep.messages if m.visible_to("cleo")]
    assert all("psst" not in m.content for m in cleo.messages)
    assert len(cleo.messages) >= 3 and any(m.sender == "ana" for m in cleo.messages)


def test_the_seat_is_told_in_order_who_writes_and_what_arrives() -> None:
    s = load_scenario(COMMITTEE)
    person = TypedScreen("Cleo here.", SeatLeft())
    ep = asyncio.run(run_episode(s, "agents", backends.create("mock", outputs=["hi"]), 0,
                                 agent_backends={"cleo": HumanBackend(person)}, listeners={"cleo": person}))
    kinds = [(what, x if what == "writing" else getattr(x, "sender", None)) for what, x in person.events]
    assert kinds[:7] == [("seated", None), ("writing", "ana"), ("delivered", "ana"), ("writing", "ben"),
                         ("delivered", "ben"), ("delivered", "cleo"), ("writing", "ana")]
    assert ("writing", "cleo") not in kinds  # the person's own turn is theirs, not a model's
    seated = person.events[0][1]
    assert isinstance(seated, Observation) and seated.agent.id == "cleo" and seated.messages == ()
    # at the person's turn, every message told live is in the Observation the seat gets
    told_before_turn = [m for m in person.messages if m.turn < person.views[0].turn]
    assert list(person.views[0].messages) == told_before_turn
    assert ep.messages[2].content == "Cleo here."


@pytest.mark.parametrize("mode", ["agents", "mindreaders"])
def test_the_same_seed_gives_byte_identical_episodes_with_and_without_a_listener(mode: str) -> None:
    s = load_scenario(COMMITTEE)

    def run(listen: bool) -> Episode:
        person = TypedScreen("TO Ana: what about Avery?", "Blake, I think.", "DECIDE: Avery", SeatLeft())
        ana = MockBackend(respond=fake)
        ben = MockBackend(outputs=["TO Ana: psst, only for Ana", "fine", "DECIDE: Avery"])
        listeners: dict[str, SeatListener] = {"cleo": person, "ana": Screen()} if listen else {}
        return asyncio.run(run_episode(s, mode, MockBackend(respond=fake), 7,
                                       agent_backends={"ana": ana, "ben": ben, "cleo": HumanBackend(person)},
                                       listeners=listeners))

    without, with_ = run(False), run(True)
    assert canonical(without) == canonical(with_)
    assert len(without.messages) >= 6 and any(c.speaker == "cleo" for c in without.calls)


def test_a_listener_that_raises_changes_nothing(caplog: pytest.LogCaptureFixture) -> None:
    s = load_scenario(COMMITTEE)

    class Broken(Screen):
        def delivered(self, message: Message) -> None:
            raise OSError("the terminal went away")

    def run(listeners: dict[str, SeatListener]) -> Episode:
        return asyncio.run(run_episode(s, "agents", MockBackend(respond=fake), 3, listeners=listeners))

    broken = Broken()
    with caplog.at_level(logging.ERROR, logger="privy.simulator.runner"):
        told = run({"cleo": broken})
    assert canonical(told) == canonical(run({}))
    assert "the listener at cleo's seat failed (delivered)" in caplog.text
    assert [w for w, _ in broken.events] == ["seated", "writing"]  # told nothing after it failed


@pytest.mark.parametrize("mode", ["omniscient", "script"])
def test_a_mode_without_seats_has_no_listener(mode: str) -> None:
    with pytest.raises(ValueError, match="has no per-agent seat"):
        asyncio.run(run_episode(load_scenario(COMMITTEE), mode, backends.create("scripted"), 0,
                                listeners={"cleo": Screen()}))


def test_a_mindreaders_seat_is_seated_with_everyones_facts() -> None:
    s = load_scenario(COMMITTEE)
    screen = Screen()
    asyncio.run(run_episode(s, "mindreaders", backends.create("scripted"), 0, listeners={"ben": screen}))
    seated = screen.events[0][1]
    assert isinstance(seated, Mindreading) and seated.agent.id == "ben"
    assert {a: [f.id for f in fs] for a, fs in seated.facts.items()} == \
        {a.id: [f.id for f in s.facts_of(a.id)] for a in s.agents}


@pytest.mark.llm
@pytest.mark.parametrize("mode", ["agents", "mindreaders"])
def test_on_the_embedded_model_a_listener_changes_nothing(mode: str) -> None:
    """Bob is a person (scripted lines), Alice the embedded SmolLM2: the same seed, with and without Bob's screen."""
    s = load_scenario(SCENARIO_DIR / "mutual_friends.yaml")
    s = s.model_copy(update={"limits": s.limits.model_copy(update={"max_turns": 4, "max_tokens": 24})})
    llama = backends.create("llama")

    def run(listen: bool) -> tuple[Episode, TypedScreen]:
        person = TypedScreen("I know Tess Moreau and Ivan Petrov.", "SELECT: Tess Moreau")
        ep = asyncio.run(run_episode(s, mode, llama, 5, agent_backends={"bob": HumanBackend(person)},
                                     listeners={"bob": person} if listen else None))
        return ep, person

    (without, _), (with_, screen) = run(False), run(True)
    assert canonical(without) == canonical(with_)
    alice = [c for c in with_.calls if c.speaker == "alice"]
    assert alice and all(c.error is None and c.prompt_tokens for c in alice)
    assert screen.messages == [m for m in with_.messages if m.visible_to("bob")] and screen.messages
    assert [x for w, x in screen.events if w == "writing"] == ["alice"] * len(alice)
