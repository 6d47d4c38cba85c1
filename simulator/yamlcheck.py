"""Read a YAML file into a pydantic model and list every problem as ``FILE:LINE: FIELD: message``.

Suite and backends files use it; the data, lines and keys given twice come from the same
single parse as scenario files' (:mod:`privy.simulator.yamlio`), so every file privy reads
reports problems alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from privy.simulator.loader import Problem, _pydantic_problems, read_text
from privy.simulator.scenario import Loc, _dotted
from privy.simulator.yamlio import Lines, YamlSyntaxError, parse_yaml

M = TypeVar("M", bound=BaseModel)


@dataclass
class Checked(Generic[M]):
    """A file read by :func:`check_yaml_model`: the model (None if it failed), its problems, data and lines."""

    file: str
    model: M | None
    problems: list[Problem]
    lines: Lines | None = None  # None: the file could not be read or parsed
    data: Any = None  # the YAML data, for checks beyond the model's that run even when it fails

    def problem(self, loc: Loc, message: str) -> Problem:
        """A problem at ``loc`` (a field path such as ``("backends", 0, "name")``), on that field's line."""
        return Problem(self.file, self.lines(loc) if self.lines is not None else 0, _dotted(loc), message)


def read_yaml(path: str | Path) -> tuple[Any, Lines | None, list[Problem]]:
    """The data of the YAML file at ``path``, its lines, and its problems (unreadable, not YAML, keys given twice)."""
    file = str(path)
    text = read_text(path)
    if isinstance(text, Problem):
        return None, None, [text]
    try:
        doc = parse_yaml(text)
    except YamlSyntaxError as err:
        return None, None, [Problem(file, err.line, "(yaml)", f"YAML syntax error: {err.reason}")]
    except yaml.YAMLError as err:  # the reader refuses some characters (NUL) before parsing starts
        return None, None, [Problem(file, 1, "(yaml)", f"YAML syntax error: {err}")]
    duplicates = [Problem(file, d.line, _dotted(d.loc), d.message) for d in doc.duplicates]
    return doc.data, doc.line_of, duplicates


def check_yaml_model(path: str | Path, model: type[M], what: str) -> Checked[M]:
    """``model`` validated from the YAML file at ``path``, with every problem found (``what``: "a suite")."""
    file = str(path)
    data, lines, problems = read_yaml(path)
    checked: Checked[M] = Checked(file, None, problems, lines, {} if data is None else data)
    if lines is None:
        return checked
    data = {} if data is None else data  # an empty file: every field its default
    if not isinstance(data, dict):
        checked.problems.append(checked.problem((), f"expected a mapping (the fields of {what}), "
                                                    f"got a {type(data).__name__}"))
        return checked
    if problems:  # keys given twice: the model would silently take the last
        return checked
    try:
        checked.model = model.model_validate(data)
    except ValidationError as err:
        for p in _pydantic_problems(file, lines, err):  # `privy schema` is the scenario files' schema
            checked.problems.append(Problem(p.file, p.line, p.field, p.message.replace(" (see `privy schema`)", "")))
    return checked
