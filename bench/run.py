"""The benchmark runner and its local executor: a suite's grid, N episodes in flight, results in a store.

Finished cells are skipped, so rerunning the same command after a crash, Ctrl-C or
``kill -9`` runs only what is missing. A failing episode is recorded with its error and
does not stop the others. The grid is streamed: given a :class:`~privy.bench.suite.Grid`,
the runner holds its keys and the episodes in flight, never the whole grid's scenarios.
:func:`run_bench` picks the executor: :func:`run_suite` here (asyncio, this process) or
:func:`privy.bench.ray_executor.run_suite_ray`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from privy.bench.execute import (
    OnProgress,
    Progress,
    SeatInterruptedError,
    build_seats,
    check_human_seats,
    describe,
    evaluator_names,
    prepare,
    record_episode,
    record_failure,
    run_one,
    work,
)
from privy.bench.ray_executor import run_suite_ray
from privy.bench.store import ResultStore
from privy.bench.suite import Cell, Suite
from privy.simulator.backends.base import aclose

__all__ = ["EXECUTORS", "Progress", "run_bench", "run_suite"]

EXECUTORS = ("local", "ray")


def run_bench(
    suite: Suite,
    cells: Iterable[Cell],
    store: ResultStore,
    jobs: int = 1,
    on_progress: OnProgress | None = None,
    executor: str = "local",
    address: str | None = None,
) -> Progress:
    """Run every cell not yet done with the ``local`` (asyncio, this process) or the ``ray`` executor.

    ``cells``: a :class:`~privy.bench.suite.Grid` (streamed) or a list of cells.
    ``on_progress(progress, cell, error)``: after each cell. ``address``: a Ray cluster
    (``ray`` only; None starts one for the run).

    Raises:
        HumanSeatError: a person plays a seat, and ``jobs`` > 1 or the executor is Ray.
        SeatInterruptedError: that person pressed Ctrl-C (the cell is recorded as failed, to play again).
    """
    check_human_seats(suite, jobs, executor)
    if executor == "ray":
        return run_suite_ray(suite, cells, store, jobs, on_progress, address)
    if executor != "local":
        raise ValueError(f"unknown executor {executor!r}; expected one of {', '.join(EXECUTORS)}")
    return asyncio.run(run_suite(suite, cells, store, jobs, on_progress))


async def run_suite(
    suite: Suite,
    cells: Iterable[Cell],
    store: ResultStore,
    jobs: int = 1,
    on_progress: OnProgress | None = None,
) -> Progress:
    """Run every cell not yet done; at most ``jobs`` episodes in flight (and ``READ_AHEAD`` more cells made).

    ``cells``: a :class:`~privy.bench.suite.Grid` (streamed: each cell is made when a worker takes it) or a list.
    """
    # built first: a backend that cannot be built (bad options) fails before the store is written to
    built = {b.label: build_seats(b) for b in suite.backends}  # shared: one limit per backend
    names = evaluator_names(suite)

    async def one(cell: Cell) -> None:
        error: str | None = None
        try:
            backend, per_agent = built[cell.backend.label]
            ep, scores = await run_one(cell, backend, names, agent_backends=per_agent)
            if ep.outcome.ended_by == "interrupted":  # a person's Ctrl-C: not a result; played again next run
                error = "interrupted at the human seat (Ctrl-C); rerun to play it again"
                await asyncio.to_thread(record_failure, store, suite.name, cell, error)
                raise SeatInterruptedError(error)
            # SQLite in a thread, so the event loop keeps the other episodes' model calls going
            error = await asyncio.to_thread(record_episode, store, suite.name, cell, ep, scores)
        except SeatInterruptedError:
            raise
        except Exception as err:  # recorded; the other episodes go on
            error = describe(err)
            await asyncio.to_thread(record_failure, store, suite.name, cell, error)
        progress.count(error)
        if on_progress:
            on_progress(progress, cell, error)

    try:
        pending, progress = prepare(suite, cells, store)
        await work(pending, min(jobs, progress.total - progress.skipped), one)
    finally:
        for b, per_agent in built.values():
            for each in (b, *per_agent.values()):
                await aclose(each)
    return progress
