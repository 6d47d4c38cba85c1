"""The layers import only downward: simulator <- scenarios <- evaluators <- bench <- cli.

Every import counts, a lazy one inside a function too: a lower layer that reaches up at
run time is as coupled as one that does so at import time.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from helpers import ROOT

LAYERS = ("simulator", "scenarios", "evaluators", "bench", "cli")
RANK = {name: i for i, name in enumerate(LAYERS)}


def modules() -> list[Path]:
    files = [ROOT / "cli.py", ROOT / "__init__.py", ROOT / "__main__.py"]
    for layer in LAYERS[:-1]:
        files += sorted((ROOT / layer).rglob("*.py"))
    return files


def layer_of(path: Path) -> str | None:
    rel = path.relative_to(ROOT)
    return "cli" if rel.name == "cli.py" and len(rel.parts) == 1 else rel.parts[0] if len(rel.parts) > 1 else None


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in ``path``."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from privy import evaluators` imports the layer named in the list
            names = [f"{node.module}.{a.name}" for a in node.names] if node.module == "privy" else [node.module]
            out += [(node.lineno, n) for n in names]
    return out


def target_layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "privy" and len(parts) > 1 and parts[1] in RANK else None


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_run_only_downward(path: Path) -> None:
    own = layer_of(path)
    problems = []
    for line, module in imported(path):
        top = module.split(".")[0]
        if top in RANK:
            problems.append(f"{path.name}:{line}: `{module}` must be imported as privy.{module}")
        target = target_layer(module)
        if own is not None and target is not None and RANK[target] > RANK[own]:
            problems.append(f"{path.relative_to(ROOT)}:{line}: the {own} layer imports {module} from above it")
    assert not problems, "\n".join(problems)


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    bad = tmp_path / "x.py"
    bad.write_text("def f():\n    from privy.bench.store import ResultStore\n    import simulator.env\n")
    assert imported(bad) == [(2, "privy.bench.store"), (3, "simulator.env")]
    assert target_layer("privy.bench.store") == "bench" and target_layer("privy") is None
