"""A person at one agent's seat: the ``human`` backend.

The backend hands the agent's :class:`~privy.simulator.views.Observation` (the request's
``view``: own facts, goal, the messages delivered to it, its neighbours) to a
:class:`Seat`, the user interface, and returns what the person wrote as the turn's text,
in privy's plain text protocol (an optional leading ``TO <Name>, <Name>: `` and
``VERB: value`` commitment lines). It never reads the prompt, and a seat is never given
anything but that Observation: not another agent's prompt, not ``env.state()``.

The seat is injected: the terminal and browser seats live above the simulator
(:mod:`privy.bench.seat_terminal`, :mod:`privy.bench.seat_web`), and the name ``human``
reaches the registry through the ``privy.backends`` entry point (like ``scripted``).

A person plays only ``agents`` mode: in the other modes a writer's view is the whole
:class:`~privy.simulator.views.State`, which holds the ground truth (``task.answer``) and
every agent's facts; showing it to a person is not what those modes compare.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from privy.simulator.backends.base import ChatRequest, Completion
from privy.simulator.backends.errors import EpisodeStopped, PermanentError
from privy.simulator.views import Observation


class SeatInterrupted(EpisodeStopped):
    """The person pressed Ctrl-C (or closed the input): the episode ends ``interrupted``, what was played is kept."""

    def __init__(self, message: str = "interrupted by the person at the seat (Ctrl-C)") -> None:
        super().__init__(message, "interrupted")


class SeatLeft(EpisodeStopped):
    """The person left the conversation: the episode ends ``left``."""

    def __init__(self, message: str = "the person at the seat left the conversation") -> None:
        super().__init__(message, "left")


@runtime_checkable
class Seat(Protocol):
    """Where a person reads an agent's observation and writes its turn."""

    kind: str  # recorded in the episode's backend settings: "terminal", "web", "scripted"

    async def turn(self, view: Observation, max_tokens: int) -> str:
        """The person's next message as text (plain protocol).

        Raises:
            SeatInterrupted: Ctrl-C; SeatLeft: the person left.
        """
        ...


class HumanBackend:
    """Writes one agent's turns from what a person types at a :class:`Seat`."""

    name = "human"
    modes = frozenset({"agents"})  # a seat is shown an Observation only; see the module docstring

    def __init__(self, seat: Seat) -> None:
        self.seat = seat

    def settings(self) -> dict[str, Any]:
        return {"backend": self.name, "human": True, "seat": self.seat.kind}

    async def complete(self, request: ChatRequest) -> Completion:
        view = request.view
        if not isinstance(view, Observation):
            raise PermanentError("a human seat plays only 'agents' mode (it is shown one agent's observation); "
                                 f"this request carries {type(view).__name__}")
        text = await self.seat.turn(view, request.max_tokens)
        return Completion(text=text, finish_reason="human")
