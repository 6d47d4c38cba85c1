"""Read a YAML file into a pydantic model and list every problem as ``FILE:LINE: FIELD: message``.

Suite and backends files use it; the lines come from the scenario loader's line tracking
(:mod:`privy.simulator.loader`), so every file privy reads reports problems alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from privy.simulator.loader import Problem, _line_of, _pydantic_problems
from privy.simulator.scenario import Loc, _dotted

M = TypeVar("M", bound=BaseModel)


@dataclass
class Checked(Generic[M]):
    """A file read by :func:`check_yaml_model`: the model (None if it failed), its problems, data and lines."""

    file: str
    model: M | None
    problems: list[Problem]
    root: yaml.Node | None = None  # None: the file could not be read or parsed
    data: Any = None  # the YAML data, for checks beyond the model's that run even when it fails

    def problem(self, loc: Loc, message: str) -> Problem:
        """A problem at ``loc`` (a field path such as ``("backends", 0, "name")``), on that field's line."""
        return Problem(self.file, _line_of(self.root, loc), _dotted(loc), message)


def read_yaml(path: str | Path) -> tuple[Any, yaml.Node | None, list[Problem]]:
    """The data of the YAML file at ``path``, its node tree (for lines), and the problem if it cannot be read."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        return None, None, [Problem(file, 0, "(file)", f"cannot read file: {err.strerror}")]
    except UnicodeDecodeError:
        return None, None, [Problem(file, 0, "(file)", "expected UTF-8 text")]
    loader = None
    try:
        loader = yaml.SafeLoader(text)  # its reader already refuses some characters
        root = loader.get_single_node()
        return (loader.construct_document(root) if root is not None else None), root, []
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        parts = (getattr(err, "context", None), getattr(err, "problem", None))
        reason = ", ".join(p for p in parts if p) or str(err)
        return None, None, [Problem(file, mark.line + 1 if mark is not None else 1, "(yaml)",
                                    f"YAML syntax error: {reason}")]
    finally:
        if loader is not None:
            loader.dispose()


def check_yaml_model(path: str | Path, model: type[M], what: str) -> Checked[M]:
    """``model`` validated from the YAML file at ``path``, with every problem found (``what``: "a suite")."""
    file = str(path)
    data, root, problems = read_yaml(path)
    if data is None:
        data = {}
    checked: Checked[M] = Checked(file, None, problems, root, data)
    if problems:
        return checked
    if not isinstance(data, dict):
        checked.problems.append(checked.problem((), f"expected a mapping (the fields of {what}), "
                                                    f"got a {type(data).__name__}"))
        return checked
    try:
        checked.model = model.model_validate(data)
    except ValidationError as err:
        for p in _pydantic_problems(file, root, err):  # `privy schema` is the scenario files' schema
            checked.problems.append(Problem(p.file, p.line, p.field, p.message.replace(" (see `privy schema`)", "")))
    return checked
