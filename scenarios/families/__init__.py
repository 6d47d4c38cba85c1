"""Parametric scenario families: generators with seeds, ground truth and baselines.

``generate(name, count, seed, params)`` is deterministic: the same arguments give the
same scenarios. Parameters are validated before anything is generated.
"""

from __future__ import annotations

import importlib
import importlib.util
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from privy.scenarios.families.base import Family, FamilyParams, PolicyInput
from privy.simulator.scenario import Scenario

_MODULES = {
    "mutual_friends": "privy.scenarios.families.mutual_friends",
    "hidden_profile": "privy.scenarios.families.hidden_profile",
    "deal_or_no_deal": "privy.scenarios.families.deal_or_no_deal",
    "tutoring": "privy.scenarios.families.tutoring",
    "twenty_questions": "privy.scenarios.families.twenty_questions",
}


class FamilyError(ValueError):
    """Unknown family or impossible parameters."""


def names() -> list[str]:
    return [n for n in _MODULES if importlib.util.find_spec(_MODULES[n]) is not None]


def family(name: str) -> Family:
    if name not in _MODULES:
        raise FamilyError(f"unknown family '{name}'; expected one of {names()}")
    try:
        module = importlib.import_module(_MODULES[name])
    except ModuleNotFoundError as err:
        raise FamilyError(f"family '{name}' is not available: {err}") from err
    fam: Family = module.FAMILY
    return fam


def params(name: str, values: dict[str, Any] | None = None) -> FamilyParams:
    """Validate ``values`` against the family's parameters (clear errors, nothing written)."""
    fam = family(name)
    try:
        return fam.Params.model_validate(values or {})
    except ValidationError as err:
        lines = [f"{'.'.join(map(str, e['loc'])) or name}: {e['msg'].removeprefix('Value error, ')}"
                 for e in err.errors()]
        raise FamilyError(f"{name}: impossible parameters: " + "; ".join(lines)) from None


def iterate(name: str, count: int, seed: int, values: dict[str, Any] | None = None) -> Iterator[Scenario]:
    """The instances of :func:`generate`, one at a time (the same ones, in the same order)."""
    if count < 1:
        raise FamilyError(f"--count must be at least 1, got {count}")
    fam, p = family(name), params(name, values)
    rng = random.Random(f"{name}:{seed}")
    return (fam.generate(rng, i, p) for i in range(count))


def generate(name: str, count: int, seed: int, values: dict[str, Any] | None = None) -> list[Scenario]:
    return list(iterate(name, count, seed, values))


def write(scenarios: list[Scenario], out_dir: Path) -> list[Path]:
    """Write each scenario as YAML (field order kept, defaults included)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for s in scenarios:
        p = out_dir / f"{s.id}.yaml"
        p.write_text(yaml.safe_dump(s.model_dump(mode="json"), sort_keys=False, allow_unicode=True, width=100))
        paths.append(p)
    return paths


def policy_text(family_name: str, inp: PolicyInput) -> str:
    return family(family_name).policy(inp)


def shortcut_text(family_name: str, scenario: Scenario, me: str) -> str | None:
    """The family's full-state reference turn for ``me`` (see ``Family.shortcut``), or None if it has none."""
    shortcut = getattr(family(family_name), "shortcut", None)
    return None if shortcut is None else shortcut(scenario, me)


__all__ = ["Family", "FamilyError", "FamilyParams", "PolicyInput", "family", "generate", "iterate", "names", "params",
           "policy_text", "shortcut_text", "write"]
