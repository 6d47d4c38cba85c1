"""Backends by name, imported lazily so a backend's package is needed only when used."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from simulator.backends.base import Backend

# name -> ("module:factory", extra that provides its dependencies)
_BUILTIN: dict[str, tuple[str, str | None]] = {
    "llama": ("simulator.backends.llama:LlamaBackend", None),
    "scripted": ("simulator.backends.scripted:ScriptedBackend", None),
    "mock": ("simulator.backends.mock:MockBackend", None),
}
_FACTORIES: dict[str, Callable[..., Backend]] = {}


class BackendError(RuntimeError):
    """A backend is unknown, cannot be imported, or failed."""


def register(name: str, factory: Callable[..., Backend]) -> None:
    """Register a backend factory under ``name`` (overrides a built-in of that name)."""
    _FACTORIES[name] = factory


def available() -> list[str]:
    return sorted(set(_BUILTIN) | set(_FACTORIES))


def create(name: str, **options: Any) -> Backend:
    """Build the backend called ``name`` with its options."""
    if name in _FACTORIES:
        return _FACTORIES[name](**options)
    if name not in _BUILTIN:
        raise BackendError(f"unknown backend '{name}'; expected one of {available()}")
    target, extra = _BUILTIN[name]
    module_name, attr = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        hint = f" (pip install 'privy[{extra}]')" if extra else ""
        raise BackendError(f"backend '{name}' needs {err.name}{hint}") from err
    factory: Callable[..., Backend] = getattr(module, attr)
    return factory(**options)
