"""privy's scenarios layer: the parametric families, their scripted reference policies, the Sotopia importer,
and the importers of dialogues no model wrote (``importers/``: transcripts, Deal or No Deal).

Beside the code, this folder holds scenario files: hand-written demos (``*.yaml``),
generated examples (``examples/``) and benchmark suites (``suites/``).

:func:`validate_files` is what ``privy validate`` runs: the simulator's checks of each
file (:func:`privy.simulator.loader.check_file`), and for a file that names a family
(``family: deal_or_no_deal``), that family's own ground-truth ``check`` (or its
``check_file``, see :class:`~privy.scenarios.families.base.Family`).
"""

from __future__ import annotations

from pathlib import Path

from privy.simulator.loader import Checked, Problem, scenario_files
from privy.simulator.loader import check_file as check_schema


def check_file(path: str | Path) -> Checked:
    """:func:`~privy.simulator.loader.check_file`, then the family's check if the file names a known family."""
    from privy.scenarios import families

    checked = check_schema(path)
    s = checked.scenario
    if s is None or s.family not in families.names():
        return checked
    fam = families.family(s.family)
    try:
        getattr(fam, "check_file", fam.check)(s)
    except Exception as err:  # noqa: BLE001 - a check that fails in any way rejects the instance
        reason = str(err) if isinstance(err, AssertionError) and str(err) else f"{type(err).__name__}: {err}"
        problem = Problem(checked.file, checked.line_of(("family",)), "family",
                          f"not a valid {s.family} instance: {reason}")
        checked.problems = sorted([*checked.problems, problem], key=lambda p: p.line)
        checked.scenario = None
    return checked


def validate_files(paths: list[str | Path]) -> list[Problem]:
    """Every problem and warning in every scenario file below ``paths``, family checks included.

    Raises :class:`~privy.simulator.loader.NoScenarioFiles` for a folder without any.
    """
    return [p for path in scenario_files(paths) for p in check_file(path).problems]


__all__ = ["check_file", "validate_files"]
