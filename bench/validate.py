"""Check any file privy reads (scenarios, suites, backends files): every problem, as ``FILE:LINE: FIELD: message``.

``privy validate`` calls :func:`validate_paths`. A file is a **suite** if it is named
``*.suite.yaml`` (or ``.suite.yml``) or has top-level ``scenarios`` and ``modes``; a
**backends file** (the ``--backends`` format) if its only top-level keys are ``default``
and ``agents``; anything else, and every folder, holds **scenarios**, which are also
checked against their family's ground truth. A suite is checked whole, with every
scenario it names.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from privy.bench.suite import SuiteError, load_grid
from privy.scenarios import validate_files
from privy.simulator.backends.spec import BackendsFileError, load_backends_config
from privy.simulator.loader import SUITE_SUFFIXES, Problem

Kind = Literal["scenario", "suite", "backends"]
_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:", re.M)


def file_kind(path: Path) -> Kind:
    """What ``path`` holds, by its name or, failing that, its top-level keys (see the module's docstring)."""
    if path.is_dir():
        return "scenario"
    if path.name.endswith(SUITE_SUFFIXES):
        return "suite"
    try:
        keys = set(_TOP_KEY.findall(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError):
        return "scenario"  # the scenario loader says what is wrong with it
    if {"scenarios", "modes"} <= keys:
        return "suite"
    return "backends" if keys and keys <= {"default", "agents"} else "scenario"


def validate_paths(paths: list[Path]) -> list[Problem]:
    """Every problem and warning (``Problem.warning``) of the files and folders in ``paths``.

    Raises:
        NoScenarioFiles: a folder holds no scenario file.
    """
    problems: list[Problem] = []
    scenario_paths: list[str | Path] = []
    for path in paths:
        kind = file_kind(path)
        try:
            if kind == "suite":
                load_grid(path)
            elif kind == "backends":
                load_backends_config(path)
            else:
                scenario_paths.append(path)
        except (SuiteError, BackendsFileError) as e:
            problems += e.problems
    if scenario_paths:
        problems += validate_files(scenario_paths)
    return problems
