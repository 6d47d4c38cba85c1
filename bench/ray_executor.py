"""The Ray executor for ``privy bench --executor ray``: the same grid, run as Ray tasks.

The driver (this process) streams the suite's grid and owns the result store, its only
writer: it makes a pending cell only when fewer than ``jobs`` tasks are in flight, so it
holds no more of the grid than the local executor. Each pending cell becomes one Ray
task whose argument is plain JSON (the scenario, mode, backend spec, seed and evaluator
names); the worker rebuilds the backend with :func:`privy.simulator.backends.spec.build` (once
per worker process and spec), runs the cell with :func:`privy.bench.execute.run_one` (the
local executor's cell runner) and returns the episode and scores as JSON. The driver
collects results with ``ray.wait`` as they finish and writes each to the store at once,
so a crash loses only the episodes still in flight, exactly like the local executor.

Workers import this project's packages, so every Ray node must have privy installed in
the Python environment its workers run (``pip install -e .`` or ``pip install privy-sim``).
A backend's ``max_concurrent`` limit and its response cache file hold per worker process
(the cache is SQLite: workers on one machine share it, other machines need their own).
Ray >= 2.59 may require its token authentication: the driver needs the cluster's token
(``RAY_AUTH_MODE=token`` and ``RAY_AUTH_TOKEN``, or ``~/.ray/auth_token``).
Without ``--address`` a Ray is started for the run with its node address set to
127.0.0.1; Ray may still bind some of its ports to every interface.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import Iterable
from typing import Any

from privy.bench.execute import (
    OnProgress,
    Progress,
    build_seats,
    describe,
    evaluator_names,
    prepare,
    record_episode,
    record_failure,
    run_one,
)
from privy.bench.store import ResultStore
from privy.bench.suite import Cell, Suite, SuiteBackend
from privy.evaluators.base import Score
from privy.simulator.backends.base import Backend
from privy.simulator.episode import Episode
from privy.simulator.modes import Mode
from privy.simulator.probes import ProbeSettings

_INSTALL_HINT = "the Ray executor needs Ray: pip install 'privy-sim[ray]'"


class RayMissingError(RuntimeError):
    """Ray is not installed."""


class RayConnectError(RuntimeError):
    """The Ray cluster at ``--address`` cannot be reached or refused us."""


def import_ray() -> Any:
    try:
        import ray
    except ImportError as err:
        raise RayMissingError(_INSTALL_HINT) from err
    return ray


def cell_payload(cell: Cell, evaluator_names: list[str]) -> dict[str, Any]:
    """Everything a worker needs to run ``cell``, as plain JSON data."""
    return {
        "scenario": json.loads(cell.scenario_json),
        "source": cell.source,
        "mode": cell.mode.value,
        "backend": cell.backend.model_dump(mode="json"),
        "seed": cell.seed,
        "evaluators": evaluator_names,
        "probes": cell.probes.model_dump() if cell.probes is not None else None,
    }


def payload_cell(payload: dict[str, Any]) -> Cell:
    """The cell a :func:`cell_payload` describes (its scenario is checked when the episode runs)."""
    scenario = payload["scenario"]
    return Cell(json.dumps(scenario), payload["source"], Mode(payload["mode"]),
                SuiteBackend.model_validate(payload["backend"]), payload["seed"], str(scenario.get("id", "")),
                str(scenario.get("family", "")),
                ProbeSettings.model_validate(payload["probes"]) if payload.get("probes") else None)


# per worker process: one event loop (backends may hold loop-bound clients) and the built backends
_LOOP: asyncio.AbstractEventLoop | None = None
_BACKENDS: dict[str, tuple[Backend, dict[str, Backend]]] = {}


def run_cell(payload: dict[str, Any]) -> dict[str, Any]:
    """Run one cell (in a Ray worker): ``{"episode": json, "scores": json}`` or ``{"error": str}``."""
    global _LOOP
    try:
        spec_key = json.dumps(payload["backend"], sort_keys=True)
        if spec_key not in _BACKENDS:
            _BACKENDS[spec_key] = build_seats(SuiteBackend.model_validate(payload["backend"]))
        if _LOOP is None or _LOOP.is_closed():
            _LOOP = asyncio.new_event_loop()
        backend, per_agent = _BACKENDS[spec_key]
        ep, scores = _LOOP.run_until_complete(run_one(payload_cell(payload), backend, payload["evaluators"],
                                                      agent_backends=per_agent))
        scores_json = json.dumps({k: s.model_dump(mode="json") for k, s in scores.items()})
        return {"episode": ep.to_json(), "scores": scores_json}
    except Exception as err:  # recorded by the driver; the other episodes go on
        return {"error": describe(err)}


def record(store: ResultStore, suite_name: str, cell: Cell, result: dict[str, Any]) -> str | None:
    """Write a worker's result for ``cell`` to the store; its error (None if the episode is done)."""
    error = result.get("error")
    if error is None:
        try:
            ep = Episode.model_validate_json(result["episode"])
            scores = {k: Score.model_validate(v) for k, v in json.loads(result["scores"]).items()}
        except (ValueError, KeyError) as err:  # e.g. a worker with another privy version
            error = f"unreadable result from the Ray worker: {describe(err)}"[:2000]
        else:
            return record_episode(store, suite_name, cell, ep, scores)
    record_failure(store, suite_name, cell, str(error))
    return str(error)


def _reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail at once if nothing listens at ``HOST:PORT`` (``ray.init`` would retry for minutes)."""
    if "://" in address:
        return  # ray:// client addresses and the like: left to Ray
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise RayConnectError(f"--address {address!r}: expected HOST:PORT of a Ray head, e.g. 127.0.0.1:6379")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as err:
        raise RayConnectError(f"--address {address}: nothing answers there ({err.strerror or err}); "
                              "start a head with `ray start --head --port PORT` first") from err


def run_suite_ray(
    suite: Suite,
    cells: Iterable[Cell],
    store: ResultStore,
    jobs: int = 1,
    on_progress: OnProgress | None = None,
    address: str | None = None,
) -> Progress:
    """Run every cell not yet done as Ray tasks, at most ``jobs`` in flight; same store as locally.

    ``cells``: a :class:`~privy.bench.suite.Grid` (streamed) or a list. ``address``: a running Ray
    cluster (``HOST:PORT`` or ``ray://HOST:PORT``); None starts a local Ray on 127.0.0.1 for this run.
    """
    ray = import_ray()
    pending, progress = prepare(suite, cells, store)
    if progress.skipped == progress.total:
        return progress
    names = evaluator_names(suite)
    started = False
    if not ray.is_initialized():
        if address:
            _reachable(address)
            try:
                ray.init(address=address, include_dashboard=False, log_to_driver=False)
            except (ConnectionError, RuntimeError) as err:
                raise RayConnectError(
                    f"--address {address}: cannot connect to the Ray cluster ({err}). Is `ray start --head` running "
                    "there? Ray >= 2.59 may use token authentication: give this process the cluster's token "
                    "(RAY_AUTH_MODE=token and RAY_AUTH_TOKEN, or ~/.ray/auth_token).") from err
        else:
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            try:
                ray.init(address="local", include_dashboard=False, log_to_driver=False,
                         _node_ip_address="127.0.0.1")
            except Exception as err:  # Ray raises a bare Exception when its node does not come up in 30 s
                raise RayConnectError(
                    f"could not start a local Ray for this run ({err}); start one with "
                    "`ray start --head --port PORT` and pass --address 127.0.0.1:PORT") from err
        started = True
    try:
        remote = ray.remote(run_cell)
        in_flight: dict[Any, Cell] = {}
        more = True
        while more or in_flight:
            while more and len(in_flight) < max(1, jobs):
                cell = next(pending, None)
                if cell is None:
                    more = False
                else:
                    in_flight[remote.remote(cell_payload(cell, names))] = cell
            if not in_flight:
                break
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in ready:
                cell = in_flight.pop(ref)
                try:
                    result = ray.get(ref)
                except Exception as err:  # the task itself died (worker crash, lost node)
                    result = {"error": describe(err)}
                error = record(store, suite.name, cell, result)
                progress.count(error)
                if on_progress:
                    on_progress(progress, cell, error)
    finally:
        if started:
            ray.shutdown()
    return progress
