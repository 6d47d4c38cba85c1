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
evaluators: [task_success, clairvoyance, belief]
probes: {every: 2, facts: 1}                     # probes every 2 turns of each agent: belief and 1 knowledge question
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
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from privy import evaluators
from privy.bench.store import canonical_json, cell_key, instance_key
from privy.simulator.backends import registry
from privy.simulator.backends.spec import BackendSpec
from privy.simulator.loader import Problem, ScenarioError, load_scenario
from privy.simulator.modes import Mode, runnable
from privy.simulator.probes import ProbeSettings
from privy.simulator.scenario import Limits, Loc, Scenario
from privy.simulator.yamlcheck import Checked, check_yaml_model, read_yaml

HUMAN = "human"
"""The backend name of a person at a seat: at most one episode in flight, never on Ray."""

Seed = Annotated[int, Field(ge=0, lt=2**63, description="0 <= seed < 2**63 (a seed is stored as a SQLite INTEGER).")]


class ScenarioSource(BaseModel):
    """One entry of ``scenarios``: a path, a glob, or a family generator."""

    model_config = ConfigDict(extra="forbid")
    path: str | None = None
    glob: str | None = None
    family: str | None = None
    count: int = Field(default=10, ge=1)
    seed: Seed = 0
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_kind(self) -> ScenarioSource:
        if sum(x is not None for x in (self.path, self.glob, self.family)) != 1:
            raise ValueError("expected exactly one of 'path', 'glob' or 'family'")
        return self


class SuiteBackend(BackendSpec):
    """One backend of the grid, and optionally another for some agents (per-agent modes only)."""

    label: str = Field(default="", description="Name in reports (default: the backend name).")
    agents: dict[str, BackendSpec] = Field(
        default_factory=dict,
        description="Agent id -> the backend that writes that agent's turns (e.g. {bob: {name: human}}: a person "
                    "plays Bob); the others use this backend. An id a scenario does not have is ignored there.")

    def human_seats(self) -> list[str]:
        """The agents a person plays (backend ``human``)."""
        return [a for a, spec in self.agents.items() if spec.name == HUMAN]


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    scenarios: list[ScenarioSource] = Field(min_length=1)
    modes: list[Mode] = Field(default_factory=lambda: [Mode.AGENTS, Mode.OMNISCIENT], min_length=1)
    backends: list[SuiteBackend] = Field(default_factory=lambda: [SuiteBackend(name="llama")], min_length=1)
    seeds: list[Seed] = Field(default_factory=lambda: [0], min_length=1)
    evaluators: list[str] | None = Field(default=None, description="Default: every deterministic one.")
    limits: Limits | None = Field(default=None, description="Override every scenario's turn and token limits.")
    probes: ProbeSettings | None = Field(default=None, description="Belief probes (default: none); "
                                                                   "see privy.simulator.probes.")
    _file: str | None = PrivateAttr(default=None)  # the file it was read from, to give scenario problems a line

    @field_validator("modes")
    @classmethod
    def _runnable(cls, modes: list[Mode]) -> list[Mode]:
        return [runnable(m) for m in modes]  # 'human' is imported, never run

    def human_seats(self) -> list[tuple[str, str]]:
        """(backend label, agent id) of every seat a person plays."""
        return [(b.label, a) for b in self.backends for a in b.human_seats()]

    @model_validator(mode="after")
    def _labels(self) -> Suite:
        for b in self.backends:
            b.label = b.label or b.name
        labels = [b.label for b in self.backends]
        if len(set(labels)) != len(labels):
            raise ValueError(f"backend labels must be unique, got {labels}")
        return self


class SuiteError(ValueError):
    """A suite file is invalid or names scenarios that cannot be loaded; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


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
    probes: ProbeSettings | None = None  # not part of the key: probes never change a transcript

    @classmethod
    def of(cls, scenario: Scenario, source: str, mode: Mode, backend: SuiteBackend, seed: int,
           probes: ProbeSettings | None = None) -> Cell:
        return cls(canonical_json(scenario), source, mode, backend, seed, scenario.id, scenario.family, probes)

    @property
    def scenario(self) -> Scenario:
        """The scenario, parsed anew on each access (keep the result while you need it)."""
        return Scenario.model_validate_json(self.scenario_json)

    @property
    def key(self) -> str:
        return cell_key(instance_key(self.scenario_id, self.scenario_json), self.mode, self.backend.label, self.seed)


def load_suite(path: str | Path) -> tuple[Suite, Path]:
    """The suite in the file at ``path``, and the folder its scenario paths are relative to.

    The file is checked whole, without loading a scenario: its fields, and that every
    evaluator, backend, mode and family it names exists, that each backend can play each
    mode, and each family's parameters (:func:`load_grid` also loads the scenarios).

    Raises:
        SuiteError: every problem, as ``FILE:LINE: FIELD: message``.
    """
    suite, problems = _check_file(path)
    if problems or suite is None:
        raise SuiteError(problems)
    return suite, Path(path).parent


def load_grid(path: str | Path) -> Grid:
    """The grid of the suite in the file at ``path``, checked whole before anything runs.

    :func:`load_suite`'s checks, then every scenario is loaded once (for the cells' keys,
    which the grid keeps); a source that cannot be loaded does not stop the others.

    Raises:
        SuiteError: every problem of the file and of its scenarios.
    """
    suite, problems = _check_file(path)
    if suite is None:
        raise SuiteError(problems)
    grid = Grid(suite, Path(path).parent)
    try:
        grid.keys()
    except SuiteError as err:
        problems += err.problems
    if problems:
        raise SuiteError(list(dict.fromkeys(problems)))  # a family's problem is found by both passes
    return grid


def _check_file(path: str | Path) -> tuple[Suite | None, list[Problem]]:
    """The suite in the file (None if its fields are invalid) and every problem of the file."""
    checked = check_yaml_model(path, Suite, "a suite")
    if checked.lines is None:  # unreadable, or not YAML
        return None, checked.problems
    problems = sorted(checked.problems + _semantic_problems(checked), key=lambda p: p.line)
    if checked.model is not None:
        checked.model._file = str(path)
    return checked.model, problems


def _semantic_problems(checked: Checked[Suite]) -> list[Problem]:
    """What pydantic cannot check: the names a suite uses exist, and its backends can play its modes.

    Reads the raw data (defaults filled in), so these are reported beside any schema problem.
    """
    data = checked.data
    if not isinstance(data, dict):
        return []
    out: list[Problem] = []
    known = evaluators.available()
    for i, name in _items(data.get("evaluators")):
        if isinstance(name, str) and name not in known:
            out.append(checked.problem(("evaluators", i), f"unknown evaluator {name!r}; expected one of {known}"))
    backends = data.get("backends", [{"name": "llama"}])
    playable: dict[int, frozenset[str] | None] = {}
    seats: dict[int, str] = {}  # the per-agent backends that narrow a backend's modes
    for i, b in _items(backends):
        name = b.get("name", "llama") if isinstance(b, dict) else None
        if not isinstance(name, str):
            continue
        why = registry.unusable(name)
        loc: Loc = ("backends", i, "name") if "backends" in data else ("backends",)  # else: the default
        if why is None and name == HUMAN:
            why = "a person plays one agent, not every seat: name this backend's model and put the person under " \
                  "agents (e.g. agents: {bob: {name: human}})"
        if why is not None:
            out.append(checked.problem(loc, why))
        else:
            playable[i] = registry.modes(name)
        agents = b.get("agents") if isinstance(b, dict) else None
        for agent, spec in (agents.items() if isinstance(agents, dict) else []):
            sub = spec.get("name", "llama") if isinstance(spec, dict) else None
            if not isinstance(sub, str):
                continue
            why = registry.unusable(sub)
            if why is not None:
                out.append(checked.problem(("backends", i, "agents", agent, "name"), why))
                continue
            modes = registry.modes(sub)
            if modes is not None and i in playable:
                before = playable[i]
                playable[i] = modes if before is None else modes & before
                seats[i] = seats.get(i, "") + f", agent {agent!r} on {sub!r}"
    for j, mode in _items(data.get("modes", [m.value for m in (Mode.AGENTS, Mode.OMNISCIENT)])):
        for i, modes in playable.items():
            if modes is not None and isinstance(mode, str) and mode in set(Mode) and mode not in modes:
                b = backends[i]
                label = b.get("label") or b.get("name", "llama")
                out.append(checked.problem(("modes", j), (
                    f"backend {b.get('name', 'llama')!r}{seats.get(i, '')} (backends[{i}], label {label!r}) cannot "
                    f"play mode "
                    f"{mode!r}; it plays {', '.join(sorted(modes))}: drop the mode or the backend")))
    out += _family_problems(checked, data)
    return out


def _family_problems(checked: Checked[Suite], data: dict[str, Any]) -> list[Problem]:
    from privy.scenarios import families  # the scenarios layer: imported when a suite is checked

    out: list[Problem] = []
    for i, src in _items(data.get("scenarios")):
        if not isinstance(src, dict):
            continue
        name, params = src.get("family"), src.get("params") or {}
        if isinstance(name, str) and isinstance(params, dict):
            try:
                families.params(name, params)  # an unknown family, or impossible parameters
            except families.FamilyError as err:  # the message generating would give (one line, deduplicated)
                out.append(checked.problem(("scenarios", i, "family"), str(err)))
    return out


def _items(value: Any) -> list[tuple[int, Any]]:
    return list(enumerate(value)) if isinstance(value, list) else []


def _source_problem(suite: Suite, index: int, field: str, message: str) -> Problem:
    """A problem of ``scenarios[index].field``, on its line of the suite file (if the suite came from one)."""
    loc: Loc = ("scenarios", index, field)
    if suite._file is None:
        return Problem("<suite>", 0, f"scenarios[{index}].{field}", message)
    _, lines, _ = read_yaml(suite._file)  # read again, only when there is a problem to place
    return Checked(suite._file, None, [], lines).problem(loc, message)


def instances(suite: Suite, base: Path, problems: list[Problem] | None = None) -> Iterator[tuple[str, str, str, str]]:
    """Each scenario instance of the suite, one at a time: (canonical JSON, source, id, family).

    ``problems``: if given, a source (or a file of a glob) that cannot be loaded adds its
    problems there and the others are still read; else the first one raises.

    Raises:
        SuiteError: a source names no file, or a file or family that cannot be loaded.
    """
    from privy.scenarios import families

    def entry(s: Scenario, source: str) -> tuple[str, str, str, str]:
        if suite.limits is not None:
            s = s.model_copy(update={"limits": suite.limits})
        return canonical_json(s), source, s.id, s.family

    def fail(found: list[Problem]) -> None:
        if problems is None:
            raise SuiteError(found)
        problems.extend(found)

    for i, src in enumerate(suite.scenarios):
        if src.path is not None:
            if not (base / src.path).is_file():
                fail([_source_problem(suite, i, "path", f"no such file {src.path!r} (in {base})")])
                continue
            try:
                scenario = load_scenario(base / src.path)
            except ScenarioError as err:  # the scenario file's own problems, on its own lines
                fail(err.problems)
                continue
            yield entry(scenario, src.path)
        elif src.glob is not None:
            matches = sorted(globlib.glob(str(base / src.glob)))
            if not matches:
                fail([_source_problem(suite, i, "glob", f"no file matches {src.glob!r} (in {base})")])
            for m in matches:
                try:
                    scenario = load_scenario(m)
                except ScenarioError as err:
                    fail(err.problems)
                    continue
                yield entry(scenario, str(Path(m).relative_to(base)))
        elif src.family is not None:
            try:
                for s in families.iterate(src.family, src.count, src.seed, src.params):  # one at a time
                    yield entry(s, f"{src.family}:seed{src.seed}")
            except ValueError as err:  # raised while generating; the consumer's errors never reach here
                fail([_source_problem(suite, i, "family", str(err))])


def _axes(suite: Suite) -> itertools.product[tuple[Mode, SuiteBackend, int]]:
    """A scenario's cells, in the grid's order: every mode x backend x seed."""
    return itertools.product(suite.modes, suite.backends, suite.seeds)


def iter_cells(suite: Suite, base: Path) -> Iterator[Cell]:
    """Every cell of the grid, in a stable order, made as it is pulled (a scenario's cells share its JSON)."""
    for text, source, sid, fam in instances(suite, base):
        for mode, b, seed in _axes(suite):
            yield Cell(text, source, mode, b, seed, sid, fam, suite.probes)


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
            SuiteError: every problem of every source that cannot be loaded (all sources are read).
        """
        if self._keys is None:
            keys: list[str] = []
            problems: list[Problem] = []
            for text, _, sid, _ in instances(self.suite, self.base, problems):
                instance = instance_key(sid, text)  # one digest per scenario, not per cell
                keys += [cell_key(instance, mode, b.label, seed) for mode, b, seed in _axes(self.suite)]
            if problems:
                raise SuiteError(problems)
            self._keys = keys
        return self._keys

    def __len__(self) -> int:
        return len(self.keys())
