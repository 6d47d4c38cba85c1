"""Load scenario files and report every problem with its file, line and field.

YAML is composed into nodes first so that each value keeps the line it came from;
pydantic's error locations and privy's cross-field checks are then mapped back to
those lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from privy.simulator.scenario import Loc, Scenario, _dotted, semantic_problems

SUITE_SUFFIXES = (".suite.yaml", ".suite.yml")  # benchmark suites live beside scenarios


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario file."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class ScenarioError(ValueError):
    """A scenario file is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _line_of(node: yaml.Node | None, loc: Loc) -> int:
    """1-based line of the deepest node along ``loc`` that exists.

    A mapping entry is located by its key (``task:``), not its value: a block value
    starts on the next line, and a missing field should point at its parent's key.
    """
    best = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == part), None)
            if pair is None:
                break
            best, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
            best = node.start_mark.line + 1
        else:
            break
    return best


def _pydantic_problems(file: str, root: yaml.Node | None, err: ValidationError) -> list[Problem]:
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
        out.append(Problem(file, _line_of(root, loc), _dotted(loc), msg))
    return out


def parse_scenario(text: str, file: str = "<string>") -> Scenario:
    """Parse and validate scenario YAML; raise ScenarioError listing every problem."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        # pyyaml splits some messages: "expected a single document" + "but found another".
        parts = (getattr(err, "context", None), getattr(err, "problem", None))
        reason = ", ".join(p for p in parts if p) or str(err)
        problem = Problem(file, line, "(yaml)", f"YAML syntax error: {reason}")
        raise ScenarioError([problem]) from err
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        msg = f"expected a mapping of scenario fields, got {got}"
        raise ScenarioError([Problem(file, _line_of(root, ()), "(top level)", msg)])
    problems: list[Problem] = []
    try:
        scenario = Scenario.model_validate(data, context={"defer_semantics": True})
    except ValidationError as err:
        problems += _pydantic_problems(file, root, err)
    # Cross-field checks run on the raw data, so they are reported even when the schema fails.
    for loc, msg in semantic_problems(data):
        problems.append(Problem(file, _line_of(root, loc), _dotted(loc), msg))
    if problems:
        raise ScenarioError(sorted(problems, key=lambda p: p.line))
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Load one scenario file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as err:
        problem = Problem(str(p), 0, "(file)", f"cannot read file: {err.strerror}")
        raise ScenarioError([problem]) from err
    except UnicodeDecodeError as err:
        raise ScenarioError([Problem(str(p), 0, "(file)", "expected UTF-8 text")]) from err
    return parse_scenario(text, str(p))


def scenario_files(paths: list[str | Path]) -> list[Path]:
    """Expand directories into the YAML files below them, sorted."""
    out: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            out += sorted(q for q in path.rglob("*.y*ml")
                          if q.suffix in (".yaml", ".yml") and not q.name.endswith(SUITE_SUFFIXES))
        else:
            out.append(path)
    return out


def validate_files(paths: list[str | Path]) -> list[Problem]:
    """Every problem in every file (an empty list means all are valid)."""
    problems: list[Problem] = []
    for path in scenario_files(paths):
        try:
            load_scenario(path)
        except ScenarioError as err:
            problems += err.problems
    return problems
