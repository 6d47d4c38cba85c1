"""Build a pydantic model from parts that are already valid, without validating them again.

An Episode is built from a Scenario, messages and calls that are validated models
already, but ``Episode(...)`` would run the Scenario's cross-field checks again (pydantic
reruns a nested model's ``after`` validators): more than the rest of an instant-backend
episode costs. pydantic's own ``model_construct`` fills defaults field by field in
Python; ``trusted`` takes every field explicitly and sets them as it would. Use it only
for data privy built itself; anything read from a file or a user goes through the
model's constructor. (For small models with flat fields, the constructor is as fast.)
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)
_set = object.__setattr__


def trusted(cls: type[M], **fields: Any) -> M:
    """``cls(**fields)`` without validation; ``fields`` must name every field of ``cls``.

    The fields are stored in the model's own order, so its JSON is the same as if it had
    been validated.
    """
    try:
        values = {name: fields[name] for name in cls.__pydantic_fields__}
    except KeyError as err:
        raise TypeError(f"{cls.__name__}: trusted() needs every field; {err} is missing") from None
    if len(values) != len(fields):
        raise TypeError(f"{cls.__name__}: unknown fields {sorted(set(fields) - set(values))}")
    obj = cls.__new__(cls)
    _set(obj, "__dict__", values)
    _set(obj, "__pydantic_fields_set__", set(values))
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj
