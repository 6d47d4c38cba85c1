"""The message bus: the only way information moves between agents.

Recipients are frozensets of agent ids, never strings tested by substring. The
topology is a networkx directed graph; a message to an agent that is not an
out-neighbour of the sender is refused with :class:`TopologyError`.

A listener (:meth:`MessageBus.listen`, e.g. a person's screen at one agent's seat) is
told of each message delivered to its agent as it is delivered, and of nothing else.
"""

from __future__ import annotations

from collections.abc import Callable

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field, field_serializer

from privy.simulator.scenario import Scenario
from privy.simulator.trusted import constructor


class Action(BaseModel):
    """A commitment parsed from a message, e.g. ``SELECT: Jordan Lee``."""

    model_config = ConfigDict(frozen=True)
    verb: str
    value: str


class Message(BaseModel):
    """One delivered message."""

    model_config = ConfigDict(frozen=True)
    id: int = Field(description="Position in the episode, from 0.")
    turn: int = Field(description="Turn at which it was sent, from 0.")
    sender: str
    recipients: frozenset[str]
    content: str
    actions: tuple[Action, ...] = ()

    @field_serializer("recipients")
    def _sorted_recipients(self, value: frozenset[str]) -> list[str]:
        return sorted(value)  # stable JSON whatever the set's iteration order

    def visible_to(self, agent: str) -> bool:
        return agent == self.sender or agent in self.recipients


_message = constructor(Message)


class TopologyError(ValueError):
    """A message addressed to an agent the sender may not reach."""


def build_graph(scenario: Scenario) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(scenario.agent_ids)
    if scenario.topology.kind == "complete":
        g.add_edges_from((a, b) for a in scenario.agent_ids for b in scenario.agent_ids if a != b)
    else:
        for a, b in scenario.topology.edges:
            g.add_edge(a, b)
            if not scenario.topology.directed:
                g.add_edge(b, a)
    return g


class MessageBus:
    """Delivers messages along the topology and keeps each agent's inbox."""

    def __init__(self, graph: nx.DiGraph, neighbours: dict[str, frozenset[str]] | None = None) -> None:
        """``neighbours``: each node's successors in ``graph``, if the caller has them already."""
        self.graph = graph
        self._neighbours = neighbours or {a: frozenset(graph.successors(a)) for a in graph.nodes}
        self.messages: list[Message] = []
        self._seen: dict[str, list[Message]] = {a: [] for a in graph.nodes}
        self._listeners: dict[str, list[Callable[[Message], None]]] = {}

    def listen(self, agent: str, listener: Callable[[Message], None]) -> None:
        """Call ``listener`` with each message delivered to ``agent`` from now on, as it is delivered.

        Delivered to ``agent``: sent by it or addressed to it, exactly what joins its inbox
        (:meth:`seen_by`); a message between other agents never reaches ``listener``.
        """
        if agent not in self._seen:
            raise TopologyError(f"unknown agent '{agent}' to listen for; agents: {sorted(self._seen)}")
        self._listeners.setdefault(agent, []).append(listener)

    def send(
        self,
        sender: str,
        content: str,
        turn: int,
        to: frozenset[str] | None = None,
        actions: tuple[Action, ...] = (),
    ) -> Message:
        """Deliver ``content`` from ``sender`` to ``to`` (default: all its neighbours).

        An agent with no out-neighbours (e.g. the tail of a directed edge ``b -> a``)
        may still speak, and commit: with ``to=None`` its message is logged and seen
        by itself only. An explicit empty ``to`` is refused as a caller mistake.
        """
        if sender not in self._neighbours:
            raise TopologyError(f"unknown sender '{sender}'")
        allowed = self._neighbours[sender]
        if to is not None and not to:
            raise TopologyError(
                f"'{sender}' addressed a message to no one; use to=None for all its "
                f"neighbours {sorted(allowed)}"
            )
        recipients = allowed if to is None else frozenset(to)
        refused = recipients - allowed if to is not None else None
        if refused:
            raise TopologyError(
                f"'{sender}' may not send to {sorted(refused)}: not a neighbour in the topology "
                f"(neighbours: {sorted(allowed)})"
            )
        if not isinstance(content, str):
            raise TypeError(f"message content from '{sender}' must be str, got {type(content).__name__}")
        # trusted: the parts are checked above; validating would copy the recipients again
        msg = _message(
            id=len(self.messages), turn=turn, sender=sender, recipients=recipients,
            content=content, actions=tuple(actions),
        )
        self.messages.append(msg)
        self._seen[sender].append(msg)
        for r in recipients:
            self._seen[r].append(msg)
        if self._listeners:
            for a in sorted({sender} | recipients):  # its inboxes, each told once
                for listener in self._listeners.get(a, ()):
                    listener(msg)
        return msg

    def seen_by(self, agent: str) -> list[Message]:
        """Messages ``agent`` sent or received, in order."""
        return list(self._seen[agent])
