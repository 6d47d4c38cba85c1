"""A person at one agent's seat: the ``human`` backend.

The backend hands a :class:`Seat`, the user interface, exactly what a model writing that
agent's turn would see in the mode: in ``agents`` mode the agent's
:class:`~privy.simulator.views.Observation` (the request's ``view``: own facts, goal, the
messages delivered to it, its neighbours); in ``mindreaders`` mode its
:class:`~privy.simulator.views.Mindreading`, built by the same
:func:`~privy.simulator.views.mindread` as the mindreader prompt (every agent's facts
under its holder, every message; not the task's answer). It returns what the person wrote
as the turn's text, in privy's plain text protocol (an optional leading ``TO <Name>,
<Name>: `` and ``VERB: value`` commitment lines). It never reads the prompt, and a seat is
never given another agent's prompt or ``env.state()``.

The seat is injected: the terminal and browser seats live above the simulator
(:mod:`privy.bench.seat_terminal`, :mod:`privy.bench.seat_web`), and the name ``human``
reaches the registry through the ``privy.backends`` entry point (like ``scripted``).

``omniscient`` and ``script`` have no per-agent seat (one controller writes every agent's
turn from the whole :class:`~privy.simulator.views.State`, ground truth included): a
request of those modes is refused.

A seat that is also a :class:`~privy.simulator.seat.SeatListener` is told what reaches its
agent as it happens (:func:`listener_of` finds it for the runner's ``listeners``).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from privy.simulator.backends.base import ChatRequest, Completion
from privy.simulator.backends.errors import EpisodeStopped, PermanentError
from privy.simulator.seat import SeatListener, SeatView
from privy.simulator.views import Observation, State, mindread


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

    async def turn(self, view: SeatView, max_tokens: int) -> str:
        """The person's next message as text (plain protocol).

        Raises:
            SeatInterrupted: Ctrl-C; SeatLeft: the person left.
        """
        ...


class HumanBackend:
    """Writes one agent's turns from what a person types at a :class:`Seat`."""

    name = "human"
    modes = frozenset({"agents", "mindreaders"})  # the modes with a writer per agent; see the module docstring

    def __init__(self, seat: Seat) -> None:
        self.seat = seat

    def settings(self) -> dict[str, Any]:
        return {"backend": self.name, "human": True, "seat": self.seat.kind}

    async def complete(self, request: ChatRequest) -> Completion:
        text = await self.seat.turn(seat_view_of(request), request.max_tokens)
        return Completion(text=text, finish_reason="human")


def seat_view_of(request: ChatRequest) -> SeatView:
    """What the person at the request's seat is shown: what its writer sees in the request's mode.

    Raises:
        PermanentError: a request of a mode without a per-agent seat (``omniscient``, ``script``).
    """
    view = request.view
    if isinstance(view, Observation) and request.mode in (None, "agents"):
        return view
    if isinstance(view, State) and request.mode == "mindreaders" and request.speaker is not None:
        return mindread(view, request.speaker)
    raise PermanentError("a human seat plays one agent's turns in mode 'agents' or 'mindreaders'; this request "
                         f"is for mode {request.mode!r} with {type(view).__name__}: one controller writes every "
                         "agent's turn there, so there is no seat")


def listener_of(backend: object) -> SeatListener | None:
    """The seat of ``backend`` (a human backend, possibly wrapped) if it listens, else None."""
    while hasattr(backend, "inner"):
        backend = backend.inner
    seat = getattr(backend, "seat", None) if isinstance(backend, HumanBackend) else None
    return seat if isinstance(seat, SeatListener) else None
