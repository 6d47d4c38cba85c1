"""Write the moves benchmark's big grid: N generated instances per family, interleaved, as a suite.

``privy bench`` runs a suite's scenarios in order (each in every mode), and resumes where it
stopped. A suite of ``family: ..., count: 30`` entries would run all of one family before the
next, so a run cut short would measure one or two families only. This writes each family's
instances as scenario files and a suite that lists them round by round (instance 0 of every
family, then instance 1, ...): a run stopped at any point has about as many episodes of every
family, in every mode. The instances, modes, limits and backend are those of
``benchmarks/moves.suite.yaml`` (its ``count`` replaced by ``--count``).

    .venv/bin/python benchmarks/moves_grid.py --count 30 --out /tmp/moves/grid
    .venv/bin/privy bench /tmp/moves/grid/moves30.suite.yaml --out /tmp/moves/grid.db -j 2   # rerun to resume
    .venv/bin/python benchmarks/moves.py /tmp/moves/grid.db --by-family
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from privy.scenarios import families

SUITE = Path(__file__).with_name("moves.suite.yaml")


def write_grid(count: int, out: Path, suite_file: Path = SUITE) -> Path:
    """Write ``count`` instances of each family of ``suite_file`` under ``out`` and the interleaved suite; its path."""
    suite: dict[str, Any] = yaml.safe_load(suite_file.read_text(encoding="utf-8"))
    rounds: list[list[str]] = [[] for _ in range(count)]
    for src in suite["scenarios"]:
        fam = src["family"]
        made = families.generate(fam, count, src.get("seed", 0), src.get("params") or {})
        paths = families.write(made, out / fam)
        for i, p in enumerate(paths):
            rounds[i].append(str(p.relative_to(out)))
    suite["name"] = f"{suite['name']}{count}"
    suite["scenarios"] = [{"path": p} for r in rounds for p in r]
    path = out / f"{suite['name']}.suite.yaml"
    path.write_text(f"# written by benchmarks/moves_grid.py --count {count} from {suite_file.name}\n"
                    + yaml.safe_dump(suite, sort_keys=False), encoding="utf-8")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=30, help="instances per family (default 30)")
    ap.add_argument("--out", type=Path, required=True, help="folder for the scenario files and the suite")
    ap.add_argument("--suite", type=Path, default=SUITE, help="the suite whose families, limits and modes to use")
    args = ap.parse_args()
    if args.count < 1:
        ap.error("--count must be at least 1")
    print(write_grid(args.count, args.out, args.suite))


if __name__ == "__main__":
    main()
