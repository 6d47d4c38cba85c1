"""Load scenario files and report every problem with its file, line and field.

The YAML is parsed once (:mod:`privy.simulator.yamlio`), keeping where each value came
from; pydantic's error locations and privy's cross-field checks are then mapped back to
those lines. Duplicate keys are problems; warnings (e.g. an agent that can send to no
one) are reported beside the problems but do not make a file invalid.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from privy.simulator.scenario import Loc, Scenario, _dotted, semantic_problems, semantic_warnings
from privy.simulator.yamlio import Lines, YamlDoc, YamlSyntaxError, parse_yaml, paused_gc

SUITE_SUFFIXES = (".suite.yaml", ".suite.yml")  # benchmark suites live beside scenarios


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario file (or, with ``warning``, one thing that looks wrong)."""

    file: str
    line: int
    field: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {'warning: ' if self.warning else ''}{self.message}"


class ScenarioError(ValueError):
    """A scenario file is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class NoScenarioFiles(ValueError):
    """A folder given to validate holds no scenario file."""


@dataclass
class Checked:
    """One scenario file, checked: the scenario if it is valid, its problems and warnings."""

    file: str
    scenario: Scenario | None
    problems: list[Problem]  # errors and warnings, in line order
    lines: Lines | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]

    def line_of(self, loc: Loc) -> int:
        """The line of field ``loc`` (of its nearest parent that is in the file)."""
        return self.lines(loc) if self.lines is not None else 0


def _pydantic_problems(file: str, line_of: Lines, err: ValidationError) -> list[Problem]:
    out = []
    for e in err.errors():
        loc: Loc = tuple(
            p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-"))
        )
        msg = e["msg"]
        if e["type"] == "missing":
            msg = "required field is missing"
        elif e["type"] == "extra_forbidden":
            msg = "unknown field; check the spelling (see `privy schema`)"
        elif e["type"] != "value_error" and isinstance(e.get("input"), str | int | float | None):
            msg = f"{msg}, got {e.get('input')!r}"
        msg = msg.removeprefix("Value error, ")
        out.append(Problem(file, line_of(loc), _dotted(loc), msg))
    return out


def check_text(text: str, file: str = "<string>") -> Checked:
    """Parse and validate scenario YAML: the scenario (None if invalid), every problem and warning."""
    with paused_gc():  # a large file makes many objects: see yamlio
        try:
            doc = parse_yaml(text)
        except YamlSyntaxError as err:
            return Checked(file, None, [Problem(file, err.line, "(yaml)", f"YAML syntax error: {err.reason}")])
        checked = _check_data(doc, file)
        del doc  # the raw data goes before the collector comes back
    return checked


def _check_data(doc: YamlDoc, file: str) -> Checked:
    problems = [Problem(file, d.line, _dotted(d.loc), d.message) for d in doc.duplicates]
    data, line_of = doc.data, doc.line_of
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        msg = f"expected a mapping of scenario fields, got {got}"
        return Checked(file, None, [*problems, Problem(file, line_of(()), "(top level)", msg)], line_of)
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(data, context={"defer_semantics": True})
    except ValidationError as err:
        problems += _pydantic_problems(file, line_of, err)
    # Cross-field checks run on the raw data, so they are reported even when the schema fails.
    for loc, msg in semantic_problems(data):
        problems.append(Problem(file, line_of(loc), _dotted(loc), msg))
    if problems or scenario is None:
        return Checked(file, None, sorted(problems, key=lambda p: p.line), line_of)
    warnings = [Problem(file, line_of(loc), _dotted(loc), msg, warning=True)
                for loc, msg in semantic_warnings(scenario)]
    return Checked(file, scenario, sorted(warnings, key=lambda p: p.line), line_of)


def parse_scenario(text: str, file: str = "<string>") -> Scenario:
    """Parse and validate scenario YAML; raise ScenarioError listing every problem (warnings aside)."""
    checked = check_text(text, file)
    if checked.scenario is None:
        raise ScenarioError(checked.errors)
    return checked.scenario


def read_text(path: str | Path) -> str | Problem:
    """The UTF-8 text of the file at ``path``, or the problem that it cannot be read as such."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as err:
        return Problem(str(path), 0, "(file)", f"cannot read file: {err.strerror}")
    except UnicodeDecodeError:
        return Problem(str(path), 0, "(file)", "expected UTF-8 text")


def check_file(path: str | Path) -> Checked:
    """:func:`check_text` of the file at ``path`` (a file that cannot be read is a problem too)."""
    text = read_text(path)
    if isinstance(text, Problem):
        return Checked(str(path), None, [text])
    return check_text(text, str(path))


def load_scenario(path: str | Path) -> Scenario:
    """Load one scenario file."""
    checked = check_file(path)
    if checked.scenario is None:
        raise ScenarioError(checked.errors)
    return checked.scenario


def scenario_files(paths: list[str | Path]) -> list[Path]:
    """Expand directories into the YAML files below them, sorted; raise NoScenarioFiles for a folder without any."""
    out: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(q for q in path.rglob("*.y*ml")
                           if q.suffix in (".yaml", ".yml") and not q.name.endswith(SUITE_SUFFIXES))
            if not found:
                raise NoScenarioFiles(f"no scenario files in {path}/ (expected *.yaml or *.yml files below it, "
                                      f"suites aside)")
            out += found
        else:
            out.append(path)
    return out


def validate_files(paths: list[str | Path]) -> list[Problem]:
    """Every problem and warning in every file (valid if none is an error); NoScenarioFiles for an empty folder."""
    return [p for path in scenario_files(paths) for p in check_file(path).problems]
