"""Comparing modes on one backend (``privy compare``): scenario files x modes x seeds, an episode file each.

Unlike ``privy bench`` there is no suite and no store: each episode is written as it
finishes to ``OUT_DIR/<scenario id>.<mode>.<backend>.seed<seed>.json`` (:func:`episode_path`),
the file ``privy show`` and ``privy view`` read. A file that exists already is not
overwritten without ``force=True``: the check is made before any episode runs. The
cells run through the local executor's cell runner and worker pool
(:mod:`privy.bench.execute`), ``jobs`` at a time on one event loop.

```python
from privy.bench import compare
from privy.simulator.backends.spec import BackendSpec, build

episodes = compare(["scenarios/mutual_friends.yaml"], ["agents", "omniscient"], range(2),
                   build(BackendSpec(name="scripted")), "runs", jobs=2)
```
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from privy.bench.execute import OnProgress, Progress, run_one, work
from privy.bench.store import episode_error
from privy.bench.suite import Cell, SuiteBackend
from privy.simulator.backends.base import Backend, aclose
from privy.simulator.episode import Episode
from privy.simulator.loader import load_scenario
from privy.simulator.modes import Mode
from privy.simulator.probes import ProbeSettings
from privy.simulator.scenario import Scenario

ScenarioFile = str | Path | tuple[str | Path, Scenario]
"""A scenario file's path, or its path and the scenario already loaded from it."""


def episode_path(out_dir: str | Path, scenario_id: str, mode: Mode | str, backend: str, seed: int) -> Path:
    """Where :func:`compare` writes an episode: ``<out_dir>/<scenario id>.<mode>.<backend>.seed<seed>.json``.

    ``backend``: the backend's label (its name), so that runs on two backends never share a file.
    """
    return Path(out_dir) / f"{scenario_id}.{Mode(mode).value}.{backend}.seed{seed}.json"


def planned_paths(scenarios: Iterable[Scenario], modes: Iterable[Mode | str], seeds: Iterable[int], backend: str,
                  out_dir: str | Path) -> list[Path]:
    """The files :func:`compare` would write, in its order, without repeats."""
    mode_list, seed_list = list(modes), list(seeds)
    paths = (episode_path(out_dir, s.id, m, backend, seed) for s in scenarios for m in mode_list for seed in seed_list)
    return list(dict.fromkeys(paths))


def compare(
    scenarios: Iterable[ScenarioFile],
    modes: Iterable[Mode | str],
    seeds: Iterable[int],
    backend: Backend,
    out_dir: str | Path,
    *,
    agent_backends: Mapping[str, Backend] | None = None,
    jobs: int = 1,
    evaluators: Sequence[str] = (),
    on_progress: OnProgress | None = None,
    force: bool = False,
    probes: ProbeSettings | None = None,
) -> list[Episode]:
    """Run every scenario in every mode with every seed on ``backend``; the episodes, in that order.

    Each episode is written to :func:`episode_path` as it finishes (a scenario id given
    twice keeps the later file, as if they had run one after the other). ``agent_backends``:
    one backend per agent id, used where a scenario has that agent (per-agent modes only).
    ``evaluators``: scored too (the scores are not kept; none by default). ``on_progress(progress,
    cell, error)``: after each episode, with the error of one a failed model call cut short.
    The backends stay usable: what they opened for this run's event loop is closed at its end.
    ``force``: overwrite episode files that exist already (without it, nothing runs if one does).
    ``probes``: belief probes in every episode (:mod:`privy.simulator.probes`; logged in the
    episode, never in a prompt), as ``privy run --probe-every`` asks them; None (the default): none.

    Raises:
        ScenarioError: a path that does not load.
        FileExistsError: an episode file exists already and ``force`` is false (raised before anything runs).
    """
    return asyncio.run(compare_async(scenarios, modes, seeds, backend, out_dir, agent_backends=agent_backends,
                                     jobs=jobs, evaluators=evaluators, on_progress=on_progress, force=force,
                                     probes=probes))


async def compare_async(
    scenarios: Iterable[ScenarioFile],
    modes: Iterable[Mode | str],
    seeds: Iterable[int],
    backend: Backend,
    out_dir: str | Path,
    *,
    agent_backends: Mapping[str, Backend] | None = None,
    jobs: int = 1,
    evaluators: Sequence[str] = (),
    on_progress: OnProgress | None = None,
    force: bool = False,
    probes: ProbeSettings | None = None,
) -> list[Episode]:
    """:func:`compare` on the running event loop."""
    loaded = [item if isinstance(item, tuple) else (item, load_scenario(item)) for item in scenarios]
    mode_list, seed_list = [Mode(m) for m in modes], list(seeds)
    if not force:
        existing = [p for p in planned_paths([s for _, s in loaded], mode_list, seed_list, backend.name, out_dir)
                    if p.exists()]
        if existing:
            raise FileExistsError(f"{existing[0]}: the episode file exists ({len(existing)} of the files to write do); "
                                  "pass force=True to overwrite")
    spec = SuiteBackend(name=backend.name, label=backend.name)
    per_agent = dict(agent_backends or {})
    todo: list[tuple[Cell, Mapping[str, Backend] | None]] = []
    for path, s in loaded:
        mine = {a: b for a, b in per_agent.items() if a in s.agent_ids} or None
        todo += [(Cell.of(s, str(path), m, spec, seed, probes), mine) for m in mode_list for seed in seed_list]
    episodes: list[Episode | None] = [None] * len(todo)
    progress = Progress(total=len(todo), skipped=0)
    written: dict[Path, int] = {}  # each file's writer so far, by place in the order

    async def one(item: tuple[int, tuple[Cell, Mapping[str, Backend] | None]]) -> None:
        i, (cell, mine) = item
        ep, _ = await run_one(cell, backend, evaluators, agent_backends=mine)
        episodes[i] = ep
        path = episode_path(out_dir, cell.scenario_id, cell.mode, spec.label, cell.seed)
        if written.get(path, -1) < i:
            written[path] = i
            ep.save(path)
        error = episode_error(ep)
        progress.count(error)
        if on_progress:
            on_progress(progress, cell, error)

    try:
        await work(iter(enumerate(todo)), min(jobs, len(todo)), one)
    finally:
        for b in {id(b): b for b in (backend, *per_agent.values())}.values():
            await aclose(b)
    return [ep for ep in episodes if ep is not None]

