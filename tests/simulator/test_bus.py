"""MessageBus: topology enforcement, delivery, visibility, serialisation."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from privy.simulator import Message, MessageBus, Scenario, TopologyError
from privy.simulator.bus import build_graph


def graph(nodes: list[str], edges: list[tuple[str, str]]) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    g.add_edges_from(edges)
    return g


def scenario(agents: list[str], topology: dict) -> Scenario:
    return Scenario.model_validate({
        "id": "t", "title": "t",
        "agents": [{"id": a, "name": a.title(), "goal": "g"} for a in agents],
        "topology": topology,
        "task": {"kind": "select", "answer": "x"},
    })


def snapshot(bus: MessageBus) -> tuple[list[Message], dict[str, list[Message]]]:
    return list(bus.messages), {a: bus.seen_by(a) for a in bus.graph.nodes}


# --------------------------------------------------------------------------- refusals


def test_sending_to_a_non_neighbour_is_refused_and_nothing_is_delivered() -> None:
    bus = MessageBus(graph(["alice", "bob", "carol"], [("alice", "bob"), ("bob", "alice")]))
    bus.send("alice", "hello", 0)
    before = snapshot(bus)
    with pytest.raises(TopologyError) as info:
        bus.send("alice", "secret", 1, frozenset({"carol"}))
    text = str(info.value)
    assert "'alice'" in text and "carol" in text
    assert "not a neighbour" in text
    assert snapshot(bus) == before
    assert bus.seen_by("carol") == []


def test_a_partly_refused_message_is_not_delivered_to_anyone() -> None:
    bus = MessageBus(graph(["a", "b", "c"], [("a", "b")]))
    with pytest.raises(TopologyError, match=r"'a' may not send to \['c'\]"):
        bus.send("a", "to b and c", 0, frozenset({"b", "c"}))
    assert bus.messages == []
    assert bus.seen_by("b") == [] and bus.seen_by("a") == []


@pytest.mark.parametrize(
    ("sender", "to", "pattern"),
    [
        ("a", frozenset({"a"}), r"'a' may not send to \['a'\]"),  # no self-loops
        ("a", frozenset({"zed"}), r"'a' may not send to \['zed'\]"),  # unknown recipient
        ("zed", None, "unknown sender 'zed'"),
        ("a", frozenset(), "addressed a message to no one"),
    ],
)
def test_other_refusals(sender: str, to: frozenset[str] | None, pattern: str) -> None:
    bus = MessageBus(graph(["a", "b"], [("a", "b"), ("b", "a")]))
    with pytest.raises(TopologyError, match=pattern):
        bus.send(sender, "x", 0, to)
    assert bus.messages == []


# --------------------------------------------------------------------------- topology


def test_directed_edges_work_one_way_only() -> None:
    one_way = {"kind": "edges", "edges": [["a", "b"]], "directed": True}
    g = build_graph(scenario(["a", "b"], one_way))
    assert set(g.edges) == {("a", "b")}
    bus = MessageBus(g)
    m = bus.send("a", "a to b", 0, frozenset({"b"}))
    assert m.recipients == frozenset({"b"})
    with pytest.raises(TopologyError, match=r"'b' may not send to \['a'\]"):
        bus.send("b", "b to a", 1, frozenset({"a"}))
    assert [x.content for x in bus.messages] == ["a to b"]
    assert bus.send("a", "a to all", 2).recipients == frozenset({"b"})
    assert bus.send("b", "b to all", 3).recipients == frozenset()


def test_an_agent_without_out_neighbours_may_speak_to_no_one() -> None:
    """Its broadcast is logged and seen by itself only (it may still commit)."""
    bus = MessageBus(graph(["a", "b"], [("a", "b")]))
    m = bus.send("b", "SELECT: x", 0)
    assert m.recipients == frozenset()
    assert bus.seen_by("b") == [m]
    assert bus.seen_by("a") == []
    assert not m.visible_to("a")


def test_undirected_edges_work_both_ways() -> None:
    g = build_graph(scenario(["a", "b", "c"], {"kind": "edges", "edges": [["a", "b"]]}))
    assert set(g.edges) == {("a", "b"), ("b", "a")}
    bus = MessageBus(g)
    bus.send("b", "b to a", 0, frozenset({"a"}))
    assert bus.send("c", "c to all", 1).recipients == frozenset()


def test_complete_topology_connects_everyone_but_self() -> None:
    g = build_graph(scenario(["a", "b", "c"], {"kind": "complete"}))
    assert set(g.edges) == {(x, y) for x in "abc" for y in "abc" if x != y}


def test_broadcast_goes_to_all_out_neighbours_and_only_them() -> None:
    bus = MessageBus(graph(["hub", "x", "y", "z", "w"],
                           [("hub", "x"), ("hub", "y"), ("hub", "z"), ("x", "hub")]))
    m = bus.send("hub", "to all", 0)
    assert m.recipients == frozenset({"x", "y", "z"})
    for a in ("hub", "x", "y", "z"):
        assert bus.seen_by(a) == [m]
    assert bus.seen_by("w") == []
    back = bus.send("x", "back", 1)
    assert back.recipients == frozenset({"hub"})
    assert bus.seen_by("y") == [m]


def test_messages_are_numbered_and_kept_in_order() -> None:
    bus = MessageBus(graph(["a", "b"], [("a", "b"), ("b", "a")]))
    sent = [bus.send("a", "one", 0), bus.send("b", "two", 1), bus.send("a", "three", 2)]
    assert [m.id for m in bus.messages] == [0, 1, 2]
    assert bus.messages == sent
    assert bus.seen_by("a") == sent and bus.seen_by("b") == sent


# --------------------------------------------------------------------------- visibility


IDS = ["p1", "p10", "p100", "p2"]


def test_ids_that_are_substrings_of_each_other_never_confuse_visibility() -> None:
    bus = MessageBus(graph(IDS, [(a, b) for a in IDS for b in IDS if a != b]))
    to_p1 = bus.send("p2", "for p1", 0, frozenset({"p1"}))
    to_p10 = bus.send("p2", "for p10", 1, frozenset({"p10"}))
    from_p10 = bus.send("p10", "from p10 to p100", 2, frozenset({"p100"}))
    assert bus.seen_by("p1") == [to_p1]
    assert bus.seen_by("p10") == [to_p10, from_p10]
    assert bus.seen_by("p100") == [from_p10]
    assert bus.seen_by("p2") == [to_p1, to_p10]
    assert to_p1.visible_to("p1") and not to_p1.visible_to("p10")
    assert not to_p1.visible_to("p100")
    assert to_p10.visible_to("p10") and not to_p10.visible_to("p1")
    assert from_p10.visible_to("p10") and not from_p10.visible_to("p1")


def test_a_message_for_p1_is_not_seen_by_p10() -> None:
    m = Message(id=0, turn=0, sender="p2", recipients=frozenset({"p1"}), content="hi")
    assert m.visible_to("p1")
    assert not m.visible_to("p10")
    assert not m.visible_to("1")
    assert not m.visible_to("p")


# --------------------------------------------------------------------------- serialisation


def test_recipients_are_serialised_sorted() -> None:
    m = Message(id=3, turn=2, sender="p2", recipients=frozenset({"p2x", "p10", "p1", "b", "a"}),
                content="hi")
    data = json.loads(m.model_dump_json())
    assert data["recipients"] == ["a", "b", "p1", "p10", "p2x"]
    assert m.model_dump()["recipients"] == ["a", "b", "p1", "p10", "p2x"]
    back = Message.model_validate_json(m.model_dump_json())
    assert back == m
    assert back.recipients == frozenset({"p2x", "p10", "p1", "b", "a"})
