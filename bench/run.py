"""The benchmark runner: a suite's grid, N episodes in flight, results in a store.

Finished cells are skipped, so rerunning the same command after a crash, Ctrl-C or
``kill -9`` runs only what is missing. A failing episode is recorded with its error and
does not stop the others. The grid is streamed: given a :class:`~privy.bench.suite.Grid`,
the runner holds its keys and the episodes in flight, never the whole grid's scenarios.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from privy import evaluators
from privy.bench.store import ResultStore
from privy.bench.suite import Cell, Grid, Suite
from privy.simulator.backends.base import Backend, aclose
from privy.simulator.backends.spec import build
from privy.simulator.runner import run_episode


@dataclass
class Progress:
    total: int
    skipped: int
    done: int = 0
    failed: int = 0

    def count(self, error: str | None) -> None:
        if error is None:
            self.done += 1
        else:
            self.failed += 1


def record_failure(store: ResultStore, suite_name: str, cell: Cell, error: str) -> None:
    """Store ``cell`` as failed with ``error`` (the next run retries it)."""
    store.put_error(cell.key, suite_name, cell.source, cell.backend.label, cell.scenario_id, cell.family,
                    cell.mode.value, cell.seed, error)


EXECUTORS = ("local", "ray")

# Cells are made this many at a time: in one tight loop a cell costs about half what it
# costs made alone between episodes (measured: 0.3 against 0.6 ms for a generated
# MutualFriends instance), and 64 cells are a few hundred KB however large the grid.
READ_AHEAD = 64


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
    pulled, :data:`READ_AHEAD` at a time.
    """
    keys = planned_keys(cells)
    store.set_meta("suite", suite.name)
    store.set_meta("suite_json", suite.model_dump_json())
    store.set_meta("planned", json.dumps(keys))
    finished = store.done_keys()
    progress = Progress(total=len(keys), skipped=sum(k in finished for k in keys))
    if progress.skipped == progress.total:  # all done: not even a pass over the scenarios
        return iter(()), progress
    return read_ahead((c for c in cells if c.key not in finished), READ_AHEAD), progress


def read_ahead(cells: Iterator[Cell], n: int) -> Iterator[Cell]:
    """``cells``, taken from the source ``n`` at a time (at most ``n`` made and not yet handed out)."""
    while chunk := list(itertools.islice(cells, n)):
        yield from chunk


def run_bench(
    suite: Suite,
    cells: Iterable[Cell],
    store: ResultStore,
    jobs: int = 1,
    on_progress: Callable[[Progress, Cell, str | None], None] | None = None,
    executor: str = "local",
    address: str | None = None,
) -> Progress:
    """Run the grid with the ``local`` (asyncio, this process) or the ``ray`` executor.

    ``cells``: a :class:`Grid` (streamed) or a list of cells.
    """
    if executor == "ray":
        from privy.bench.ray_executor import run_suite_ray

        result: Progress = run_suite_ray(suite, cells, store, jobs, on_progress, address)
        return result
    if executor != "local":
        raise ValueError(f"unknown executor {executor!r}; expected one of {', '.join(EXECUTORS)}")
    return asyncio.run(run_suite(suite, cells, store, jobs, on_progress))


async def run_suite(
    suite: Suite,
    cells: Iterable[Cell],
    store: ResultStore,
    jobs: int = 1,
    on_progress: Callable[[Progress, Cell, str | None], None] | None = None,
) -> Progress:
    """Run every cell not yet done; at most ``jobs`` episodes in flight (and ``READ_AHEAD`` more cells made).

    ``cells``: a :class:`Grid` (streamed: each cell is made when a worker takes it) or a list.
    """
    pending, progress = prepare(suite, cells, store)
    built: dict[str, Backend] = {b.label: build(b) for b in suite.backends}  # shared: one limit per backend
    names = suite.evaluators or list(evaluators.DETERMINISTIC)

    async def one(cell: Cell) -> None:
        error: str | None = None
        try:
            ep = await run_episode(cell.scenario, cell.mode, built[cell.backend.label], cell.seed,
                                   scenario_path=cell.source)
            scores = await evaluators.evaluate(ep, names)
            # SQLite in a thread, so the event loop keeps the other episodes' model calls going;
            # an episode a failed model call cut short is stored as an error, and counted as one
            error = await asyncio.to_thread(store.put, cell.key, suite.name, cell.source, cell.backend.label, ep,
                                            scores)
        except Exception as err:  # recorded; the other episodes go on
            error = f"{type(err).__name__}: {err}"
            await asyncio.to_thread(record_failure, store, suite.name, cell, error)
        progress.count(error)
        if on_progress:
            on_progress(progress, cell, error)

    todo = pending  # one iterator shared by the workers: each cell is made and taken once

    async def worker() -> None:
        for cell in todo:
            await one(cell)

    # ``jobs`` workers rather than one task per cell: memory stays flat however large the grid
    workers = [asyncio.ensure_future(worker()) for _ in range(max(1, min(jobs, progress.total - progress.skipped)))]
    try:
        await asyncio.gather(*workers)
    finally:
        for w in workers:  # if one failed (or we were cancelled), stop the others before closing backends
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for b in built.values():
            await aclose(b)
    return progress
