"""Suite files: the grid a benchmark runs (scenarios x modes x backends x seeds).

```yaml
name: quick
scenarios:
  - path: scenarios/mutual_friends.yaml          # one file
  - glob: scenarios/examples/tutoring/*.yaml     # files matching a glob (relative to the suite file)
  - family: mutual_friends                       # generated instances
    count: 5
    seed: 1
    params: {n_friends: 4}
modes: [agents, omniscient]
backends:
  - label: smollm2
    name: llama
seeds: [0, 1]
evaluators: [task_success, clairvoyance]
```

Every cell of the grid has a stable key (scenario, mode, backend label, seed:
:func:`privy.bench.store.cell_key`), so a rerun knows what is already done. A
:class:`Grid` makes the cells as they are pulled, so a run of 10,000 episodes holds only
the ones in flight; its keys come from a first pass that keeps nothing else.
"""

from __future__ import annotations

import glob as globlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from privy.bench.store import canonical_json, cell_key, instance_key
from privy.simulator.backends.spec import BackendSpec
from privy.simulator.loader import load_scenario
from privy.simulator.modes import Mode, runnable
from privy.simulator.scenario import Limits, Scenario
from privy.simulator.yamlio import load_yaml_model


class ScenarioSource(BaseModel):
    """One entry of ``scenarios``: a path, a glob, or a family generator."""

    model_config = ConfigDict(extra="forbid")
    path: str | None = None
    glob: str | None = None
    family: str | None = None
    count: int = Field(default=10, ge=1)
    seed: int = 0
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_kind(self) -> ScenarioSource:
        if sum(x is not None for x in (self.path, self.glob, self.family)) != 1:
            raise ValueError("expected exactly one of 'path', 'glob' or 'family'")
        return self


class SuiteBackend(BackendSpec):
    label: str = Field(default="", description="Name in reports (default: the backend name).")


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    scenarios: list[ScenarioSource] = Field(min_length=1)
    modes: list[Mode] = Field(default_factory=lambda: [Mode.AGENTS, Mode.OMNISCIENT], min_length=1)
    backends: list[SuiteBackend] = Field(default_factory=lambda: [SuiteBackend(name="llama")], min_length=1)
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    evaluators: list[str] | None = Field(default=None, description="Default: every deterministic one.")
    limits: Limits | None = Field(default=None, description="Override every scenario's turn and token limits.")

    @field_validator("modes")
    @classmethod
    def _runnable(cls, modes: list[Mode]) -> list[Mode]:
        return [runnable(m) for m in modes]  # 'human' is imported, never run

    @model_validator(mode="after")
    def _labels(self) -> Suite:
        for b in self.backends:
            b.label = b.label or b.name
        labels = [b.label for b in self.backends]
        if len(set(labels)) != len(labels):
            raise ValueError(f"backend labels must be unique, got {labels}")
        return self


class SuiteError(ValueError):
    """A suite file is invalid or names scenarios that cannot be loaded."""


@dataclass(frozen=True)
class Cell:
    """One episode to run.

    The scenario is kept as canonical JSON (a few KB) rather than as a model tree (about
    seven times that), and parsed when the episode runs: a grid of 10,000 cells then costs
    tens of MB, not hundreds. Cells of the same scenario share one string.
    """

    scenario_json: str
    source: str
    mode: Mode
    backend: SuiteBackend
    seed: int
    scenario_id: str
    family: str

    @classmethod
    def of(cls, scenario: Scenario, source: str, mode: Mode, backend: SuiteBackend, seed: int) -> Cell:
        return cls(canonical_json(scenario), source, mode, backend, seed, scenario.id, scenario.family)

    @property
    def scenario(self) -> Scenario:
        """The scenario, parsed anew on each access (keep the result while you need it)."""
        return Scenario.model_validate_json(self.scenario_json)

    @property
    def key(self) -> str:
        return cell_key(instance_key(self.scenario_id, self.scenario_json), self.mode, self.backend.label, self.seed)


def load_suite(path: str | Path) -> tuple[Suite, Path]:
    """The suite in the file at ``path``, and the folder its scenario paths are relative to."""
    return load_yaml_model(path, Suite, SuiteError), Path(path).parent


def instances(suite: Suite, base: Path) -> Iterator[tuple[str, str, str, str]]:
    """Each scenario instance of the suite, one at a time: (canonical JSON, source, id, family).

    Raises:
        SuiteError: a source names no file, or a file or family that cannot be loaded.
    """
    from privy.scenarios import families

    def entry(s: Scenario, source: str) -> tuple[str, str, str, str]:
        if suite.limits is not None:
            s = s.model_copy(update={"limits": suite.limits})
        return canonical_json(s), source, s.id, s.family

    for i, src in enumerate(suite.scenarios):
        try:
            if src.path is not None:
                yield entry(load_scenario(base / src.path), src.path)
            elif src.glob is not None:
                matches = sorted(globlib.glob(str(base / src.glob)))
                if not matches:
                    raise SuiteError(f"scenarios[{i}].glob: no file matches {src.glob!r}")
                for m in matches:
                    yield entry(load_scenario(m), str(Path(m).relative_to(base)))
            elif src.family is not None:
                for s in families.iterate(src.family, src.count, src.seed, src.params):  # one at a time
                    yield entry(s, f"{src.family}:seed{src.seed}")
        except (ValueError, OSError) as err:  # raised while loading; the consumer's errors never reach here
            raise SuiteError(f"scenarios[{i}]: {err}") from err


def _axes(suite: Suite) -> itertools.product[tuple[Mode, SuiteBackend, int]]:
    """A scenario's cells, in the grid's order: every mode x backend x seed."""
    return itertools.product(suite.modes, suite.backends, suite.seeds)


def iter_cells(suite: Suite, base: Path) -> Iterator[Cell]:
    """Every cell of the grid, in a stable order, made as it is pulled (a scenario's cells share its JSON)."""
    for text, source, sid, fam in instances(suite, base):
        for mode, b, seed in _axes(suite):
            yield Cell(text, source, mode, b, seed, sid, fam)


def expand(suite: Suite, base: Path) -> list[Cell]:
    """Every cell of the grid as a list (all in memory: a :class:`Grid` streams them)."""
    return list(iter_cells(suite, base))


class Grid:
    """A suite's grid: iterable any number of times, each pass making the cells anew as they are pulled.

    ``keys()`` is a first pass over the scenarios that keeps only the cells' keys (about 100
    bytes a cell, against a few KB with the scenario), so it also checks that every scenario
    loads before anything runs.
    """

    def __init__(self, suite: Suite, base: Path) -> None:
        self.suite, self.base = suite, base
        self._keys: list[str] | None = None

    def __iter__(self) -> Iterator[Cell]:
        return iter_cells(self.suite, self.base)

    def keys(self) -> list[str]:
        """Every cell's key, in the order of iteration (computed once).

        Raises:
            SuiteError: as :func:`instances`.
        """
        if self._keys is None:
            keys = []
            for text, _, sid, _ in instances(self.suite, self.base):
                instance = instance_key(sid, text)  # one digest per scenario, not per cell
                keys += [cell_key(instance, mode, b.label, seed) for mode, b, seed in _axes(self.suite)]
            self._keys = keys
        return self._keys

    def __len__(self) -> int:
        return len(self.keys())
