"""What test modules share: the repository's paths and small scenario helpers.

``tests/`` is on pytest's ``pythonpath``, so a test imports ``helpers`` (this), and
``helpers.labelled`` (hand-labelled transcripts) and ``helpers.servers`` (real servers on
127.0.0.1) when it needs them. Fixtures live in ``tests/conftest.py``.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from privy.simulator import Episode, Mode, Scenario, backends, load_scenario, run_episode
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


def logged_transcript(ep: Episode) -> str:
    """Messages and every model call's input and output, as the log writes them (latencies left out)."""
    data = json.loads(ep.to_json())
    return json.dumps({"messages": data["messages"], "calls": [
        {k: v for k, v in c.items() if k != "latency_s"} for c in data["calls"]]}, sort_keys=True)


def replies(ep: Episode) -> list[object]:
    """Every call's output, every message and the outcome: what a backend's speed-ups must leave as they were."""
    return [[c.output for c in ep.calls], [m.model_dump() for m in ep.messages], ep.outcome.model_dump()]


def three_families(tokens: int, deal_seed: int) -> dict[str, Scenario]:
    """Short MutualFriends and HiddenProfile examples and a generated Deal or No Deal, for real-model tests."""
    from privy.scenarios import families

    deal = families.generate("deal_or_no_deal", 1, seed=deal_seed)[0]
    deal = deal.model_copy(update={"limits": deal.limits.model_copy(update={"max_turns": 4, "max_tokens": tokens})})
    return {"mutual_friends": short(SCENARIO_DIR / "mutual_friends.yaml", tokens=tokens),
            "hidden_profile": short(SCENARIO_DIR / "hidden_profile.yaml", tokens=tokens),
            "deal_or_no_deal": deal}


def solve(s: Scenario, mode: Mode | str = Mode.AGENTS) -> Episode:
    """An episode of ``s`` written by the scripted reference policies (seed 0)."""
    return asyncio.run(run_episode(s, mode, backends.create("scripted"), seed=0))


def refusal(family: str, values: dict[str, Any]) -> str:
    """The message with which ``family`` refuses to generate an instance from ``values``."""
    from privy.scenarios import families

    with pytest.raises(families.FamilyError, match=f"{family}: impossible parameters") as err:
        families.generate(family, 1, 0, values)
    return str(err.value)


def generate_refused(family: str, param: str, out: Path) -> str:
    """``privy scenarios generate FAMILY --out OUT -p PARAM``, which must fail and write nothing: what it printed."""
    from typer.testing import CliRunner

    from privy.cli import app

    result = CliRunner().invoke(app, ["scenarios", "generate", family, "--out", str(out), "-p", param],
                                env={"COLUMNS": "2000"})
    assert result.exit_code != 0
    assert not out.exists()
    return result.output  # stdout and stderr


def seeded_examples(family: str, folder: Path, seed: int) -> list[Scenario]:
    """The example files in ``folder``, checked to be ``family``'s first instances from ``seed``, named by id."""
    from privy.scenarios import families

    files = sorted(folder.glob("*.yaml"))
    generated = families.generate(family, len(files), seed=seed)
    assert [load_scenario(p) for p in files] == generated
    assert [p.name for p in files] == [f"{s.id}.yaml" for s in generated]
    return generated


def regenerated_example(path: Path, family: str, out: Path) -> Scenario:
    """The example file at ``path``, checked to be what its header's command writes (comments aside)."""
    fresh = regenerate_example(path, family, out)
    body = "".join(line for line in path.read_text().splitlines(keepends=True) if not line.startswith("#"))
    assert body == fresh.read_text()
    return load_scenario(path)


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


NO_SCRIPT_ERROR = "this test backend writes one agent's turn at a time"


def no_script_backend() -> type:
    """The scripted references, failing every ``script``-mode call (a backend error, an episode that ends in
    error) without declaring it: what tests of failed episodes need now that ``scripted`` writes every mode."""
    from privy.scenarios.baselines import ScriptedBackend
    from privy.simulator.backends.base import ChatRequest, Completion
    from privy.simulator.backends.errors import BackendError

    class NoScript(ScriptedBackend):
        async def complete(self, request: ChatRequest) -> Completion:
            if request.speaker is None:
                raise BackendError(NO_SCRIPT_ERROR)
            return await super().complete(request)

    return NoScript
