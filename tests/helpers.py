"""Small helpers shared by test modules."""

from __future__ import annotations

from pathlib import Path

from privy.simulator import Scenario, load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def short(path: Path | str, turns: int = 4, tokens: int = 40) -> Scenario:
    """A scenario file with lower turn and token limits, to keep real-model tests quick."""
    s = load_scenario(SCENARIOS / path if isinstance(path, str) else path)
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
