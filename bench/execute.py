"""What the executors share: running one cell, the pending cells, progress, and the worker pool.

:func:`run_one` runs a cell's episode and its evaluators; the local executor
(:mod:`privy.bench.run`) awaits it on its own event loop, a Ray worker
(:mod:`privy.bench.ray_executor`) on the worker's, and ``privy compare``
(:mod:`privy.bench.compare`) too. :func:`prepare` records a run in the store and hands
out the cells not done yet, :data:`READ_AHEAD` made at a time; :func:`record_episode`
and :func:`record_failure` write a cell's result; :func:`work` keeps ``jobs`` cells in
flight on one event loop.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from privy import evaluators
from privy.bench.store import ResultStore
from privy.bench.suite import HUMAN, Cell, Grid, Suite, SuiteBackend
from privy.evaluators.base import Score
from privy.simulator.backends.base import Backend
from privy.simulator.backends.human import listener_of
from privy.simulator.backends.spec import build
from privy.simulator.episode import Episode
from privy.simulator.modes import SEATED
from privy.simulator.runner import run_episode

T = TypeVar("T")

# Cells are made this many at a time: in one tight loop a cell costs about half what it
# costs made alone between episodes (measured: 0.3 against 0.6 ms for a generated
# MutualFriends instance), and 64 cells are a few hundred KB however large the grid.
READ_AHEAD = 64


@dataclass
class Progress:
    """Cells in the grid, already done before this run, and finished or failed by it."""

    total: int
    skipped: int
    done: int = 0
    failed: int = 0

    def count(self, error: str | None) -> None:
        if error is None:
            self.done += 1
        else:
            self.failed += 1


OnProgress = Callable[[Progress, Cell, str | None], None]
"""Called after each cell with the progress so far, the cell, and its error (None if it finished)."""


def duration(seconds: float) -> str:
    """``seconds`` as ``45s``, ``2m10s`` or ``1h05m``."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


CLOCK: Callable[[], float] = time.monotonic
"""The default clock of :class:`ProgressLine` (tests replace it)."""


class ProgressLine:
    """Progress as one line at most every ``every`` seconds: for a log file or a pipe, where a bar shows nothing.

    ``update(n)`` after each item; the line says ``LABEL: n/total UNIT[, k failed], R/s, ETA T``
    (the rate and the time left count only what this process did since ``start``).
    ``clock`` (default :data:`CLOCK`) is injectable so tests need no wall time.
    """

    def __init__(self, label: str, total: int, write: Callable[[str], None], *, unit: str = "episodes",
                 start: int = 0, every: float = 5.0, clock: Callable[[], float] | None = None) -> None:
        self.label, self.total, self.unit, self.every = label, total, unit, every
        self._write, self._clock, self._start = write, clock or CLOCK, start
        self._t0 = self._last = self._clock()
        self.done, self.failed = start, 0
        self._written: int | None = None  # the count of the last line written

    def line(self, now: float | None = None) -> str:
        elapsed = (self._clock() if now is None else now) - self._t0
        rate = (self.done - self._start) / elapsed if elapsed > 0 else 0.0
        left = self.total - self.done
        eta = f", ETA {duration(left / rate)}" if rate > 0 and left > 0 else ""
        failed = f", {self.failed} failed" if self.failed else ""
        speed = f"{rate:.1f}/s" if rate >= 0.1 or rate == 0 else f"{rate * 60:.1f}/min"
        return f"{self.label}: {self.done}/{self.total} {self.unit}{failed}, {speed}{eta}"

    def update(self, done: int, failed: int = 0, *, force: bool = False) -> None:
        """Record ``done`` items so far (``failed`` of them failed); write the line if ``every`` has passed
        (with ``force``: unless the last line said the same)."""
        self.done, self.failed = done, failed
        now = self._clock()
        if now - self._last >= self.every or (force and self._written != done):
            self._last, self._written = now, done
            self._write(self.line(now))


async def run_one(cell: Cell, backend: Backend, evaluator_names: Sequence[str], *,
                  agent_backends: Mapping[str, Backend] | None = None) -> tuple[Episode, dict[str, Score]]:
    """Run ``cell``'s episode on ``backend`` and score it with ``evaluator_names`` (none: no scores).

    ``agent_backends``: one backend per agent id, for the agents it names (per-agent modes); ids the
    scenario does not have are left out.
    A failed model call does not raise: it ends the episode, with ``ended_by == "error"``.
    """
    scenario = cell.scenario
    mine = {a: b for a, b in (agent_backends or {}).items() if a in scenario.agent_ids} or None
    people = sorted(a for a, b in (mine or {}).items() if b.name == HUMAN)
    if len(people) > 1:
        raise HumanSeatError(f"scenario {scenario.id!r} would seat a person as each of {people}; a person plays "
                             f"one agent of an episode")
    # a person's screen is told what reaches their agent as it happens (in the modes with seats)
    seated = cell.mode in SEATED
    listeners = {a: x for a in people if seated and (x := listener_of((mine or {})[a])) is not None}
    ep = await run_episode(scenario, cell.mode, backend, cell.seed, agent_backends=mine, scenario_path=cell.source,
                           probes=cell.probes, listeners=listeners or None)
    scores = await evaluators.evaluate(ep, list(evaluator_names)) if evaluator_names else {}
    return ep, scores


class HumanSeatError(ValueError):
    """A suite with a person at a seat asked for more than one episode in flight, or for Ray."""


class SeatInterruptedError(RuntimeError):
    """The person at a human seat pressed Ctrl-C: the run stops (the cell is recorded as failed, to be played again)."""


def check_human_seats(suite: Suite, jobs: int, executor: str) -> None:
    """Refuse what a person at a seat cannot do: several episodes at once, or an episode on a Ray worker.

    Raises:
        HumanSeatError: what was asked and what is expected.
    """
    seats = suite.human_seats()
    if not seats:
        return
    where = ", ".join(f"{agent} (backend {label!r})" for label, agent in seats)
    if executor != "local":
        raise HumanSeatError(f"a person plays {where}: a human seat runs only with the local executor, in this "
                             f"terminal; got --executor {executor}")
    if jobs > 1:
        raise HumanSeatError(f"a person plays {where}: one episode at a time; expected -j 1, got -j {jobs}")


def build_seats(spec: SuiteBackend) -> tuple[Backend, dict[str, Backend]]:
    """A suite backend built: its backend, and one per agent it names."""
    return build(spec), {a: build(s) for a, s in spec.agents.items()}


def evaluator_names(suite: Suite) -> list[str]:
    """The evaluators a suite's cells are scored with: its own, or every deterministic one (and
    ``belief`` when the suite asks for probes)."""
    names = suite.evaluators or list(evaluators.DETERMINISTIC)
    if suite.probes is not None and "belief" not in names:
        names = [*names, "belief"]
    return names


def describe(err: BaseException) -> str:
    """An exception as a failed cell records it."""
    return f"{type(err).__name__}: {err}"


def record_episode(store: ResultStore, suite_name: str, cell: Cell, episode: Episode,
                   scores: dict[str, Score]) -> str | None:
    """Store ``cell``'s episode and scores; the error of an episode a failed model call cut short, else None."""
    return store.put(cell.key, suite_name, cell.source, cell.backend.label, episode, scores)


def record_failure(store: ResultStore, suite_name: str, cell: Cell, error: str) -> None:
    """Store ``cell`` as failed with ``error`` (the next run retries it)."""
    store.put_error(cell.key, suite_name, cell.source, cell.backend.label, cell.scenario_id, cell.family,
                    cell.mode.value, cell.seed, error)


def planned_keys(cells: Iterable[Cell]) -> list[str]:
    """The key of every cell, in order: a :class:`Grid`'s own, else read from ``cells`` (a list)."""
    if isinstance(cells, Grid):
        return cells.keys()
    if iter(cells) is cells:  # a one-shot iterator: reading its keys would use it up
        raise TypeError("cells must be a Grid or a list, not an iterator: the runner reads the keys first")
    return [c.key for c in cells]


def prepare(suite: Suite, cells: Iterable[Cell], store: ResultStore) -> tuple[Iterator[Cell], Progress]:
    """Record the run in the store's meta; the cells not yet done (an iterator, lazy), and the starting progress.

    Nothing is kept per cell but its key: the pending cells are made as the iterator is
    pulled, :data:`READ_AHEAD` at a time. When every cell is done already, the scenarios
    are not read at all.
    """
    keys = planned_keys(cells)
    store.set_meta("suite", suite.name)
    store.set_meta("suite_json", suite.model_dump_json())
    store.set_meta("planned", json.dumps(keys))
    finished = store.done_keys()
    progress = Progress(total=len(keys), skipped=sum(k in finished for k in keys))
    if progress.skipped == progress.total:
        return iter(()), progress
    return read_ahead((c for c in cells if c.key not in finished), READ_AHEAD), progress


def read_ahead(cells: Iterator[T], n: int) -> Iterator[T]:
    """``cells``, taken from the source ``n`` at a time (at most ``n`` made and not yet handed out)."""
    while chunk := list(itertools.islice(cells, n)):
        yield from chunk


async def work(items: Iterator[T], jobs: int, one: Callable[[T], Awaitable[None]]) -> None:
    """Await ``one(item)`` for every item, ``jobs`` at a time, on this event loop.

    ``jobs`` workers share the one iterator, so each item is made when a worker takes it
    and memory stays flat however many there are. If one raises (or this is cancelled),
    the others are cancelled and awaited before the error propagates.
    """
    workers = [asyncio.ensure_future(_worker(items, one)) for _ in range(max(1, jobs))]
    try:
        await asyncio.gather(*workers)
    finally:
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


async def _worker(items: Iterator[T], one: Callable[[T], Awaitable[None]]) -> None:
    for item in items:
        await one(item)
