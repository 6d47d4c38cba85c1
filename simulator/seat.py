"""A person's screen beside a run: what the runner tells one agent's seat as the game goes.

A :class:`SeatListener` is registered for one agent (``run_episode(..., listeners={agent:
listener})``, in the per-agent modes). It is told, in order:

- ``seated(view)`` once, before the first turn: the agent's view then (an
  :class:`~privy.simulator.views.Observation` in ``agents`` mode, a
  :class:`~privy.simulator.views.Mindreading` in ``mindreaders``), for its briefing;
- ``writing(agent)`` before another agent's turn is written (``agent`` is whose turn it is:
  public, turns go round robin in the scenario's order, so it tells the seat nothing of
  what passed between others);
- ``delivered(message)`` for each message delivered to its agent (sent by it or addressed
  to it), the moment the bus delivers it; a message between other agents never.

A listener only reads: nothing it does reaches a prompt, a model or the transcript (a test
runs the same seed with and without one and compares the episodes byte for byte). One that
raises is logged and told nothing more; the episode goes on unchanged.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from privy.simulator.bus import Message
from privy.simulator.views import Mindreading, Observation

SeatView = Observation | Mindreading
"""What a seat's writer sees: the agent's Observation (``agents``), or its Mindreading (``mindreaders``)."""


@runtime_checkable
class SeatListener(Protocol):
    """Told what reaches one agent's seat as it happens (see the module docstring)."""

    def seated(self, view: SeatView) -> None:
        """The agent's view before the first turn."""
        ...

    def writing(self, agent: str) -> None:
        """``agent``'s turn is being written (by its model)."""
        ...

    def delivered(self, message: Message) -> None:
        """``message`` was just delivered to this seat's agent."""
        ...
