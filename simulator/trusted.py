"""Build a pydantic model from parts that are already valid, without validating them again.

privy builds a few models on every turn from parts it made itself and whose types are
already right: the Observation (from the scenario's layout and the bus), the ChatRequest
(from the prompt), the bus's Message, the log's ModelCall, and the Episode. Validating
them costs more than the rest of a turn with an instant backend: pydantic copies every
tuple, dict and set, checks every nested model (a prompt's whole chat, on every call),
and reruns a nested Scenario's cross-field checks. pydantic's own ``model_construct``
skips the checks but fills the fields one by one in Python, slower than validating.

``constructor(cls)`` compiles, once per model, a function that stores its keyword
arguments as the validated model would hold them: in the model's field order (so the
JSON is the same), with the defaults of the fields left out. ``trusted(cls, **fields)``
calls it.

Use them only for data privy built itself; anything read from a file, a user or a
backend goes through the model's constructor.
"""

from __future__ import annotations

import copy
import enum
import keyword
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

M = TypeVar("M", bound=BaseModel)
_IMMUTABLE = (str, int, float, bool, type(None), bytes, tuple, frozenset, enum.Enum)
_CONSTRUCTORS: dict[type[BaseModel], Callable[..., Any]] = {}


def constructor(cls: type[M]) -> Callable[..., M]:
    """A keyword-only function building ``cls`` without validation (compiled once per model).

    A field left out takes its default (a fresh copy of a mutable one, a new value from a
    factory), as with the constructor; leaving out a field with no default, or passing
    an unknown one, is Python's own TypeError. Every field counts as set
    (``model_fields_set``), defaults included.
    """
    made = _CONSTRUCTORS.get(cls)
    if made is None:
        made = _CONSTRUCTORS[cls] = _compile(cls)
    return made


def trusted(cls: type[M], /, **fields: Any) -> M:
    """``cls(**fields)`` without validation: ``constructor(cls)(**fields)``."""
    return constructor(cls)(**fields)


def _compile(cls: type[BaseModel]) -> Callable[..., Any]:
    names = tuple(cls.__pydantic_fields__)
    bad = [n for n in names if not n.isidentifier() or keyword.iskeyword(n)]
    if bad:
        raise TypeError(f"{cls.__name__}: fields {bad} cannot be keyword arguments")
    env: dict[str, Any] = {"_cls": cls, "_new": object.__new__, "_set": object.__setattr__,
                           "_missing": PydanticUndefined, "_deepcopy": copy.deepcopy}
    params, fill = [], []
    for n, f in cls.__pydantic_fields__.items():
        if getattr(f, "default_factory_takes_validated_data", False):
            raise TypeError(f"{cls.__name__}.{n}: a default_factory that takes the data needs validation")
        if f.default_factory is not None:
            env[f"_factory_{n}"] = f.default_factory
            params.append(f"{n}=_missing")
            fill.append(f"    if {n} is _missing:\n        {n} = _factory_{n}()")
        elif f.default is PydanticUndefined:
            params.append(n)
        elif isinstance(f.default, _IMMUTABLE):
            env[f"_default_{n}"] = f.default
            params.append(f"{n}=_default_{n}")
        else:  # a mutable default: each model gets its own copy, as pydantic gives it
            env[f"_default_{n}"] = f.default
            params.append(f"{n}=_missing")
            fill.append(f"    if {n} is _missing:\n        {n} = _deepcopy(_default_{n})")
    values = ", ".join(f"{n!r}: {n}" for n in names)
    if cls.model_config.get("frozen"):
        # nothing can add to a frozen model's fields set (a copy gets its own): share one
        env["_fields_set"] = set(names)
        fields_set = "_fields_set"
    else:
        fields_set = "{" + ", ".join(repr(n) for n in names) + "}" if names else "set()"
    source = "\n".join([
        f"def make(*, {', '.join(params)}):",
        *fill,
        "    _obj = _new(_cls)",  # a field's name never starts with '_': no parameter is shadowed
        f"    _set(_obj, '__dict__', {{{values}}})",
        f"    _set(_obj, '__pydantic_fields_set__', {fields_set})",
        "    _set(_obj, '__pydantic_extra__', None)",
        "    _set(_obj, '__pydantic_private__', None)",
        "    return _obj",
    ])
    exec(compile(source, f"<trusted {cls.__qualname__}>", "exec"), env)  # noqa: S102
    make = env["make"]
    make.__name__ = make.__qualname__ = f"trusted({cls.__name__})"
    make.__doc__ = f"{cls.__name__}(...) without validation: privy-built parts only."
    return make  # type: ignore[no-any-return]
