"""What test modules share: the repository's paths and small scenario helpers.

``tests/`` is on pytest's ``pythonpath``, so a test imports ``helpers`` (this), and
``helpers.labelled`` (hand-labelled transcripts) and ``helpers.servers`` (real servers on
127.0.0.1) when it needs them. Fixtures live in ``tests/conftest.py``.
"""

from __future__ import annotations

from pathlib import Path

from privy.simulator import Scenario, load_scenario
from privy.simulator.loader import SUITE_SUFFIXES

ROOT = Path(__file__).resolve().parents[2]  # the repository
DATA = ROOT / "tests" / "data"
SCENARIO_DIR = ROOT / "scenarios"
SCENARIO_FILES = sorted(p for p in SCENARIO_DIR.rglob("*.yaml") if not p.name.endswith(SUITE_SUFFIXES))


def short(path: Path | str, turns: int = 4, tokens: int = 40) -> Scenario:
    """A scenario file with lower turn and token limits, to keep real-model tests quick."""
    s = load_scenario(SCENARIO_DIR / path if isinstance(path, str) else path)
    limits = s.limits.model_copy(update={"max_turns": turns, "max_tokens": tokens})
    return s.model_copy(update={"limits": limits})


def regenerate_example(path: Path, family: str, out: Path) -> Path:
    """The file that the `privy scenarios generate` command in an example's header comment writes."""
    import shlex

    import yaml

    from privy.scenarios import families

    line = next(x for x in path.read_text().splitlines() if x.startswith("#") and "privy scenarios generate" in x)
    cmd = shlex.split(line.lstrip("# "))
    assert cmd[:4] == ["privy", "scenarios", "generate", family]
    count, seed, values = 1, 0, {}
    for flag, value in zip(cmd[4::2], cmd[5::2], strict=True):
        if flag == "--count":
            count = int(value)
        elif flag == "--seed":
            seed = int(value)
        elif flag == "-p":
            key, _, v = value.partition("=")
            values[key] = yaml.safe_load(v)
    return next(p for p in families.write(families.generate(family, count, seed, values), out)
                if p.name == path.name)
