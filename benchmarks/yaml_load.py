"""Benchmark 5: loading a large scenario file, the time and the peak memory of one parse.

A scenario of about ``--mb`` megabytes (a MutualFriends-like file: many agents' friend
lists, written as people write scenarios: block mappings, flow lists, comments) is made
in a temporary folder. Each loader parses it in a fresh process (``python -m
benchmarks.yaml_load WHICH FILE``), so that the peak resident memory is its own:

- ``privy``: :func:`privy.simulator.loader.load_scenario`, what ``privy validate``, ``run``
  and ``bench`` use: one libyaml parse (``yaml.CSafeLoader``) gives both the data and the
  line of every value, and finds duplicate keys.
- ``previous``: the loader before it (kept here as the reference): two pure-Python parses
  of the same text, ``yaml.compose`` for the lines and ``yaml.safe_load`` for the data,
  then the same validation.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, Row, verdict

GOAL = 20.0  # times faster than the previous loader
FIRST = ["Maya", "Omar", "Lena", "Ravi", "Tess", "Jon", "Ada", "Kofi", "Mira", "Ivan", "Noor", "Paul"]
LAST = ["Chen", "Haddad", "Park", "Singh", "Moreau", "Okafor", "Silva", "Novak", "Berg", "Ito", "Diaz"]
WORK = ["Globex", "Initech", "Umbrella", "Hooli", "Acme", "Stark", "Wayne", "Tyrell"]
STUDY = ["Stanford", "MIT", "Yale", "Oxford", "Berkeley", "ETH", "Kyoto", "Sorbonne"]
LIKES = ["hiking", "chess", "painting", "cycling", "jazz", "sailing", "pottery", "climbing"]


def big_scenario(target_bytes: int, agents: int = 50) -> str:
    """Scenario YAML of about ``target_bytes`` bytes: ``agents`` agents, each with many friend facts."""
    ids = [f"agent{i:03d}" for i in range(agents)]
    head = ["# A large MutualFriends-like scenario made by benchmarks/yaml_load.py", "format: privy.scenario/1",
            "id: big_scenario", 'title: "A large scenario: many agents, many friends"', "family: custom",
            "context: >-", "  Every agent has a long list of friends. Exactly one person is a friend of all.",
            "  Together they must find out who.", "agents:"]
    for a in ids:
        head += [f"  - id: {a}", f"    name: {a.capitalize()}", "    persona: A colleague who likes lists.",
                 f"    goal: Find the friend everyone has in common, then select them ({a})."]
    head += ["facts:"]
    lines, size, n = head, sum(len(x) + 1 for x in head), 0
    tail = ["topology:", "  kind: complete", "limits:", "  max_turns: 40", "  max_tokens: 120", "task:",
            "  kind: select", '  answer: "Common Friend"', "  needed_facts: [f0000000, f0000001]"]
    budget = target_bytes - sum(len(x) + 1 for x in tail)
    while size < budget:
        first, last = FIRST[n % len(FIRST)], LAST[(n // len(FIRST)) % len(LAST)]
        name = f"{first} {last} {n}"
        holder = ids[n % agents]
        fact = [f"  # friend {n} of {holder}", f"  - id: f{n:07d}",
                f'    text: "{name}: works at {WORK[n % len(WORK)]}, studied at {STUDY[n % len(STUDY)]}, '
                f'likes {LIKES[n % len(LIKES)]}."',
                f"    holders: [{holder}]",
                f'    mentions: ["{name}"]']
        lines += fact
        size += sum(len(x) + 1 for x in fact)
        n += 1
    return "\n".join(lines + tail) + "\n"


def previous_load(path: Path) -> Any:
    """The loader before libyaml (the reference): two pure-Python parses, then the same validation."""
    import yaml

    from privy.simulator.scenario import Scenario, semantic_problems

    text = path.read_text(encoding="utf-8")
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    data = yaml.safe_load(text)
    scenario = Scenario.model_validate(data, context={"defer_semantics": True})
    assert root is not None and not semantic_problems(data)
    return scenario


def _kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(which: str, file: str) -> dict[str, Any]:
    from privy.simulator.loader import load_scenario

    load = {"privy": load_scenario, "previous": previous_load}[which]
    rss0 = _kib("VmRSS")  # privy, pydantic and pyyaml imported: what any load costs on top
    t0, cpu0 = time.perf_counter(), time.process_time()
    scenario = load(Path(file))
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"which": which, "wall_s": wall, "cpu_s": cpu, "facts": len(scenario.facts),
            "peak_rss_kib": _kib("VmHWM"), "rss_before_kib": rss0}


def measure(which: str, file: Path, timeout: float) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "benchmarks.yaml_load", which, str(file)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"yaml_load child '{which}' failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(mb: float, rounds: int = 3, ref_rounds: int = 2) -> tuple[list[Row], dict[str, Any]]:
    """Rows for a scenario of ``mb`` megabytes: each loader's fastest of its rounds (``ref_rounds=0``: privy only).

    The ratio is of CPU time (what this process spent): on a machine shared with other work it
    moves less than the wall time, which is shown beside it.
    """
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "big.yaml"
        file.write_text(big_scenario(int(mb * 1_000_000)), encoding="utf-8")
        size = file.stat().st_size
        mine = min((measure("privy", file, 600) for _ in range(rounds)), key=lambda r: r["cpu_s"])
        refs = [measure("previous", file, 3600) for _ in range(ref_rounds)]
        ref = min(refs, key=lambda r: r["cpu_s"]) if refs else None
    case = f"{size / 1e6:.1f} MB scenario ({mine['facts']:,} facts)"

    def figures(r: dict[str, Any]) -> str:
        extra = (r["peak_rss_kib"] - r["rss_before_kib"]) / 1024
        return (f"{r['cpu_s']:.2f} s CPU ({r['wall_s']:.2f} s wall); peak RSS {r['peak_rss_kib'] / 1024:.0f} MiB "
                f"(+{extra:.0f} MiB for the load)")

    rows: list[Row] = []
    if ref is not None:
        rows.append(Row("5 yaml load", f"{case}: previous loader (2 pure-Python parses)", figures(ref), "reference"))
        speedup = ref["cpu_s"] / mine["cpu_s"]
        memory = (ref["peak_rss_kib"] - ref["rss_before_kib"]) / max(1, mine["peak_rss_kib"] - mine["rss_before_kib"])
        rows.append(Row("5 yaml load", f"{case}: privy's loader (one libyaml parse)", figures(mine),
                        f"{speedup:.0f}x faster; {memory:.1f}x less memory for the load", f">= {GOAL:.0f}x faster",
                        verdict(speedup >= GOAL)))
    else:
        rows.append(Row("5 yaml load", f"{case}: privy's loader (one libyaml parse)", figures(mine)))
    return rows, {"bytes": size, "privy": mine, "previous": ref}


if __name__ == "__main__":
    print(json.dumps(child(sys.argv[1], sys.argv[2])))
