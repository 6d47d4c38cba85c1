"""Backends by name, imported lazily so a backend's package is needed only when used.

Third-party packages add backends through the ``privy.backends`` entry-point group::

    [project.entry-points."privy.backends"]
    mine = "my_package.backend:MyBackend"
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from privy.simulator.backends.base import Backend
from privy.simulator.backends.errors import BackendError
from privy.simulator.plugins import entry_points

ENTRY_POINT_GROUP = "privy.backends"


@dataclass(frozen=True)
class _Builtin:
    target: str  # "module:factory"
    needs: str | None  # importable module the backend requires
    install: str | None  # what to pip install when it is missing


_BUILTIN: dict[str, _Builtin] = {
    "llama": _Builtin("privy.simulator.backends.llama:LlamaBackend", "llama_cpp", "llama-cpp-python"),
    "openai": _Builtin("privy.simulator.backends.openai_compat:OpenAIBackend", "openai", "openai"),
    "mock": _Builtin("privy.simulator.backends.mock:MockBackend", None, None),
    "replay": _Builtin("privy.simulator.backends.replay:ReplayBackend", None, None),
}
_FACTORIES: dict[str, Callable[..., Backend]] = {}


@dataclass(frozen=True)
class BackendInfo:
    name: str
    origin: str  # "built-in", "registered", or the entry point's value
    available: bool
    detail: str


def register(name: str, factory: Callable[..., Backend]) -> None:
    """Register a backend factory under ``name`` (overrides a built-in of that name)."""
    _FACTORIES[name] = factory


def _missing(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except ImportError:  # a dotted name whose parent package is missing
        return True


def available() -> list[str]:
    return sorted(set(_BUILTIN) | set(_FACTORIES) | set(entry_points(ENTRY_POINT_GROUP)))


def describe() -> list[BackendInfo]:
    """Every known backend, whether it can be used here, and why not."""
    out = []
    eps = entry_points(ENTRY_POINT_GROUP)
    for name in available():
        if name in _FACTORIES:
            out.append(BackendInfo(name, "registered", True, "registered in this process"))
        elif name in _BUILTIN:
            b = _BUILTIN[name]
            if b.needs and _missing(b.needs):
                out.append(BackendInfo(name, "built-in", False, f"missing package: pip install {b.install}"))
            else:
                out.append(BackendInfo(name, "built-in", True, b.target.split(":")[0]))
        else:
            ep = eps[name]
            try:
                ep.load()
                out.append(BackendInfo(name, ep.value, True, f"entry point from {ep.dist.name if ep.dist else '?'}"))
            except Exception as err:  # a broken plugin (bad import, no such attribute) must not break the list
                out.append(BackendInfo(name, ep.value, False, f"cannot import: {type(err).__name__}: {err}"))
    return out


def unusable(name: str) -> str | None:
    """Why no backend ``name`` can be built here (unknown, or a built-in's package missing), else None.

    Imports nothing: a registered factory or an entry point that fails to import is found by :func:`create`.
    """
    if name in _FACTORIES or name in entry_points(ENTRY_POINT_GROUP):
        return None
    if name not in _BUILTIN:
        return f"unknown backend '{name}'; expected one of {available()}"
    b = _BUILTIN[name]
    if b.needs and _missing(b.needs):
        return f"backend '{name}' needs the package {b.needs} (pip install {b.install})"
    return None


def modes(name: str) -> frozenset[str] | None:
    """The modes the backend ``name`` declares it can play (its factory's ``modes``), or None: every mode.

    A backend that cannot write some modes (one that writes one agent's turn at a time,
    so not ``script``) says so in a class attribute ``modes``, so a
    suite that pairs it with another mode is refused before anything runs. None too for a
    backend that cannot be loaded here (:func:`unusable` or :func:`create` says why).
    """
    if unusable(name) is not None:
        return None
    try:
        factory = _factory(name)
    except BackendError:
        return None
    declared = getattr(factory, "modes", None)
    return None if declared is None else frozenset(str(m) for m in declared)


def create(name: str, **options: Any) -> Backend:
    """Build the backend called ``name`` with its options."""
    factory = _factory(name)
    known = _options(factory)
    if known is not None:
        valid, required = known
        if bad := sorted(set(options) - set(valid)):
            raise BackendError(f"backend '{name}': bad options {bad}: not options of this backend; "
                               f"valid options: {valid}")
        if missing := [o for o in required if o not in options]:
            raise BackendError(f"backend '{name}': bad options: {missing} required but not given; "
                               f"valid options: {valid}")
    try:
        return factory(**options)
    except TypeError as err:  # e.g. a missing required option, or one the factory takes through **kwargs
        raise BackendError(f"backend '{name}': {err}") from err


def _factory(name: str) -> Callable[..., Backend]:
    """The factory of the backend called ``name`` (importing its module, or loading its entry point)."""
    if name in _FACTORIES:
        return _FACTORIES[name]
    if name in _BUILTIN:
        b = _BUILTIN[name]
        module_name, attr = b.target.split(":")
        if b.needs and _missing(b.needs):  # checked first: the backend modules import it lazily
            raise BackendError(f"backend '{name}' needs the package {b.needs} (pip install {b.install})")
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            hint = f" (pip install {b.install})" if b.install else ""
            raise BackendError(f"backend '{name}' needs the package {err.name}{hint}") from err
        factory: Callable[..., Backend] = getattr(module, attr)
    elif name in (eps := entry_points(ENTRY_POINT_GROUP)):
        try:
            factory = eps[name].load()
        except Exception as err:  # ImportError, or AttributeError for a wrong object name
            value = eps[name].value
            raise BackendError(f"backend '{name}' ({value}) cannot be imported: {type(err).__name__}: {err}") from err
    else:
        raise BackendError(f"unknown backend '{name}'; expected one of {available()}")
    return factory


def _options(factory: Callable[..., Backend]) -> tuple[list[str], list[str]] | None:
    """The options ``factory`` takes and those it requires; None if it takes any (``**kwargs``) or cannot tell."""
    try:
        params = list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):  # a builtin or C callable without a signature
        return None
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    named = [p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return [p.name for p in named], [p.name for p in named if p.default is p.empty]
