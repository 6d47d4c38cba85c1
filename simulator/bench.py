"""The benchmark runner: a suite's grid, N episodes in flight, results in a store.

Finished cells are skipped, so rerunning the same command after a crash, Ctrl-C or
``kill -9`` runs only what is missing. A failing episode is recorded with its error and
does not stop the others.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass

import evaluators
from simulator.backends.base import Backend
from simulator.backends.spec import build
from simulator.runner import run_episode
from simulator.store import ResultStore
from simulator.suite import Cell, Suite


@dataclass
class Progress:
    total: int
    skipped: int
    done: int = 0
    failed: int = 0


async def run_suite(
    suite: Suite,
    cells: list[Cell],
    store: ResultStore,
    jobs: int = 1,
    on_progress: Callable[[Progress, Cell, str | None], None] | None = None,
) -> Progress:
    """Run every cell not yet done; at most ``jobs`` episodes in flight."""
    store.set_meta("suite", suite.name)
    store.set_meta("suite_json", suite.model_dump_json())
    store.set_meta("planned", json.dumps([c.key for c in cells]))
    finished = store.done_keys()
    pending = [c for c in cells if c.key not in finished]
    progress = Progress(total=len(cells), skipped=len(cells) - len(pending))
    built: dict[str, Backend] = {b.label: build(b) for b in suite.backends}  # shared: one limit per backend
    names = suite.evaluators or list(evaluators.DETERMINISTIC)
    gate = asyncio.Semaphore(max(1, jobs))

    async def one(cell: Cell) -> None:
        async with gate:
            error: str | None = None
            try:
                ep = await run_episode(cell.scenario, cell.mode, built[cell.backend.label], cell.seed,
                                       scenario_path=cell.source)
                scores = await evaluators.evaluate(ep, names)
                # an episode a failed model call cut short is stored as an error, and counted as one
                error = store.put(cell.key, suite.name, cell.source, cell.backend.label, ep, scores)
            except Exception as err:  # recorded; the other episodes go on
                error = f"{type(err).__name__}: {err}"
                store.put_error(cell.key, suite.name, cell.source, cell.backend.label, cell.scenario.id,
                                cell.scenario.family, cell.mode.value, cell.seed, error)
            if error is None:
                progress.done += 1
            else:
                progress.failed += 1
            if on_progress:
                on_progress(progress, cell, error)

    await asyncio.gather(*(one(c) for c in pending))
    return progress
