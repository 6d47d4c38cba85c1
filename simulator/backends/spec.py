"""Backend configuration as data: which backend, its options, and its wrappers.

A spec is what a user writes (in a backends YAML file or on the command line); ``build``
turns it into a backend wrapped, from the outside in, by the response cache, the
concurrency limit and the retries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from privy.simulator.backends.base import Backend
from privy.simulator.backends.cache import CachedBackend
from privy.simulator.backends.errors import BackendError
from privy.simulator.backends.limit import LimitedBackend
from privy.simulator.backends.registry import create, unusable
from privy.simulator.backends.retry import RetryingBackend, RetryPolicy
from privy.simulator.loader import Problem
from privy.simulator.scenario import Loc
from privy.simulator.yamlcheck import check_yaml_model

_NETWORK = {"openai"}


class BackendSpec(BaseModel):
    """One backend and how to call it."""

    model_config = ConfigDict(extra="forbid")
    name: str = "llama"
    options: dict[str, Any] = Field(default_factory=dict, description="Passed to the backend's factory.")
    retry: RetryPolicy | None = Field(default=None, description="Default: on for network backends.")
    cache: Path | None = Field(default=None, description="SQLite response cache file.")
    max_concurrent: int | None = Field(default=None, ge=1)


class BackendsConfig(BaseModel):
    """A backends file: a default, and optionally one per agent id."""

    model_config = ConfigDict(extra="forbid")
    default: BackendSpec = Field(default_factory=BackendSpec)
    agents: dict[str, BackendSpec] = Field(default_factory=dict)


def build(spec: BackendSpec) -> Backend:
    backend = create(spec.name, **spec.options)
    policy = spec.retry if spec.retry is not None else (RetryPolicy() if spec.name in _NETWORK else None)
    if policy is not None:
        backend = RetryingBackend(backend, policy)
    if spec.max_concurrent is not None:
        backend = LimitedBackend(backend, spec.max_concurrent)
    if spec.cache is not None:
        backend = CachedBackend(backend, spec.cache)
    return backend


class BackendsFileError(BackendError):
    """A backends file is invalid; ``problems`` lists every problem, as ``FILE:LINE: FIELD: message``."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def load_backends_config(path: str | Path) -> BackendsConfig:
    """The backends file at ``path``, checked whole: its fields, and that each backend it names can be built here.

    Raises:
        BackendsFileError: every problem.
    """
    checked = check_yaml_model(path, BackendsConfig, "a backends file")
    problems = checked.problems
    data = checked.data if isinstance(checked.data, dict) else {}
    agents = data.get("agents")
    named: list[tuple[Loc, Any]] = [(("default",), data.get("default"))]
    named += [(("agents", a), spec) for a, spec in (agents.items() if isinstance(agents, dict) else [])]
    for loc, spec in named:
        name = spec.get("name", "llama") if isinstance(spec, dict) else None
        why = unusable(name) if isinstance(name, str) else None
        if why is not None:  # on the name's line, or the spec's if the name is the default
            problems.append(checked.problem((*loc, "name") if "name" in spec else loc, why))
    if problems or checked.model is None:
        raise BackendsFileError(sorted(problems, key=lambda p: p.line))
    return checked.model
