"""A person plays one agent against models: the Python API behind ``privy play``.

```python
from privy.bench.play import play
from privy.bench.seat_terminal import TerminalSeat

episode = asyncio.run(play(scenario, "bob", TerminalSeat(), backends.create("llama")))
```

The person's seat is a :class:`~privy.simulator.backends.human.HumanBackend` for that
agent; every other seat is written by ``backend``. A person plays the modes with a writer
per agent (:data:`PLAYABLE`): ``agents`` (the seat shows the agent's Observation) and
``mindreaders`` (its Mindreading: every agent's facts, as the mindreader prompt has them).
A seat that listens (:class:`~privy.simulator.seat.SeatListener`) is told each message
delivered to its agent as it is delivered, and whose turn a model is writing.

Ctrl-C while the person types ends the episode at once as ``interrupted``; while a model
writes, :class:`StopOnSigint` lets that call finish and ends the episode before the next
one. Either way the episode is returned with what was played, for the caller to save.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from privy.simulator.backends.base import Backend, ChatRequest, Completion
from privy.simulator.backends.human import HumanBackend, Seat, SeatInterrupted, listener_of
from privy.simulator.episode import Episode
from privy.simulator.modes import SEATED, Mode
from privy.simulator.runner import run_episode
from privy.simulator.scenario import Scenario
from privy.simulator.seat import SeatView
from privy.simulator.views import read_by, seen_by

PLAYABLE = SEATED
"""The modes a person can play: those with a writer per agent, shown that agent's own view."""


class PlayError(ValueError):
    """A seat that cannot be played: an unknown agent, or a mode that does not show a seat its own view."""


def check_seat(scenario: Scenario, agent: str, mode: Mode | str) -> Mode:
    """``mode`` as a Mode, if a person can play ``agent`` of ``scenario`` in it.

    Raises:
        PlayError: what is wrong and what is expected.
    """
    if agent not in scenario.agent_ids:
        raise PlayError(f"--as {agent}: no such agent in scenario {scenario.id!r}; expected one of "
                        f"{scenario.agent_ids}")
    m = Mode(mode)
    if m is Mode.HUMAN:
        raise PlayError("--mode human: an imported transcript, never run; a person plays in mode 'agents' or "
                        "'mindreaders'")
    if m not in PLAYABLE:
        how = "one generation writes the whole dialogue" if m is Mode.SCRIPT else \
            "one controller writes every agent's turn"
        raise PlayError(f"--mode {m.value}: there is no seat to play, {how}; a person plays one agent in mode "
                        "'agents' (you see its own observation) or 'mindreaders' (you see every agent's facts, as its "
                        "model would)")
    return m


def final_view(episode: Episode, agent: str) -> SeatView:
    """What the person at ``agent``'s seat sees when ``episode`` is over: its seat view after the last message."""
    if episode.mode is Mode.MINDREADERS:
        turn = episode.messages[-1].turn + 1 if episode.messages else 0
        return read_by(episode.scenario, tuple(episode.messages), agent, turn)
    return seen_by(episode.scenario, episode.messages, agent)


class StopFlag:
    """Set by Ctrl-C outside the person's input (see :func:`stop_on_sigint`)."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self, signum: int, frame: Any) -> None:  # a signal handler
        self.event.set()

    @property
    def is_set(self) -> bool:
        return self.event.is_set()


@contextmanager
def stop_on_sigint(flag: StopFlag) -> Iterator[StopFlag]:
    """While inside, Ctrl-C sets ``flag`` instead of raising (the model call in flight finishes)."""
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    before = signal.signal(signal.SIGINT, flag)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, before)


class Stoppable:
    """A backend that refuses to start a call once ``flag`` is set: the episode ends ``interrupted``."""

    def __init__(self, inner: Backend, flag: StopFlag) -> None:
        self.inner, self.flag = inner, flag
        self.name = inner.name

    def settings(self) -> dict[str, Any]:
        return self.inner.settings()

    async def complete(self, request: ChatRequest) -> Completion:
        if self.flag.is_set:
            raise SeatInterrupted("interrupted (Ctrl-C) while the models played")
        return await self.inner.complete(request)


async def play(scenario: Scenario, agent: str, seat: Seat, backend: Backend, *, mode: Mode | str = Mode.AGENTS,
               seed: int = 0, agent_backends: Mapping[str, Backend] | None = None, scenario_path: str | None = None,
               stop: StopFlag | None = None) -> Episode:
    """One episode of ``scenario`` with a person at ``seat`` playing ``agent``; ``backend`` writes the others.

    ``agent_backends``: other agents' own backends (``agent``'s is the seat). ``stop``: a
    flag that, once set, ends the episode before the next call (Ctrl-C, see :func:`stop_on_sigint`).

    Raises:
        PlayError: see :func:`check_seat`.
    """
    m = check_seat(scenario, agent, mode)
    person = HumanBackend(seat)
    seats: dict[str, Backend] = {**(agent_backends or {}), agent: person}
    if stop is not None:
        backend = Stoppable(backend, stop)
        seats = {a: Stoppable(b, stop) for a, b in seats.items()}
    listener = listener_of(person)
    return await run_episode(scenario, m, backend, seed, agent_backends=seats, scenario_path=scenario_path,
                             listeners={agent: listener} if listener is not None else None)
