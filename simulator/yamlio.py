"""Read a YAML file into a pydantic model, with errors that name the file and the field."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def load_yaml_model(path: str | Path, model: type[M], error: type[Exception]) -> M:
    """``model`` validated from the YAML at ``path``; any problem raises ``error`` with file and field."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
        return model.model_validate(data if data is not None else {})
    except OSError as err:
        raise error(f"{p}: cannot read: {err.strerror}") from err
    except yaml.YAMLError as err:
        raise error(f"{p}: YAML syntax error: {err}") from err
    except ValidationError as err:
        lines = [f"{p}: {'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}" for e in err.errors()]
        raise error("\n".join(lines)) from None
