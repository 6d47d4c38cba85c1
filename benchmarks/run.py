"""Run privy's performance benchmarks and print one table.

    .venv/bin/python benchmarks/run.py            # everything, full sizes (about 12 minutes)
    .venv/bin/python benchmarks/run.py --quick    # everything, small sizes (under 3 minutes)
    .venv/bin/python benchmarks/run.py --only overhead scale --scale-sizes 1000 10000
    .venv/bin/python benchmarks/run.py --only yaml --yaml-mb 7   # loading a 7 MB scenario file
    .venv/bin/python benchmarks/run.py --only probes             # belief probes' cost on the embedded model
    .venv/bin/python benchmarks/run.py --only reuse --quick      # prefix reuse on vs off, side by side

Every figure is a ratio or a rate measured in the same run, so a slower or busier machine
moves all of them together. The table is also written to ``benchmarks/results.md`` and the
raw figures to ``benchmarks/results.json``. ChatArena, the peer, runs in its own virtual
environment (``benchmarks/.venv-chatarena``), made on first use with pip.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Row  # noqa: E402

BENCHES = ("overhead", "saturation", "prompts", "scale", "yaml", "view", "probes")
OPT_IN = ("reuse",)  # run only when named: the quick suite once per variant on the embedded model
HERE = Path(__file__).resolve().parent


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None,
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--only", nargs="+", choices=BENCHES + OPT_IN, default=list(BENCHES),
                   help="benchmarks to run (reuse: only when named)")
    p.add_argument("--quick", action="store_true", help="small sizes: the whole run in under 3 minutes")
    p.add_argument("--no-model", action="store_true", help="skip every part that runs SmolLM2 (embedded or server)")
    p.add_argument("--no-peer", action="store_true", help="skip ChatArena (no virtual environment is made)")
    p.add_argument("--seconds", type=float, help="overhead: seconds per variant (default 5; quick 1.5)")
    p.add_argument("--latency-ms", type=float, default=200, help="saturation: the fake server's delay")
    p.add_argument("--jobs", type=int, nargs="+", help="saturation: values of -j (default 8 32; quick 8)")
    p.add_argument("--turns", type=int, nargs="+", help="prompts: conversation lengths (default 10 20 40 80)")
    p.add_argument("--model-turns", type=int, help="prompts: turns replayed on the embedded model (default 24)")
    p.add_argument("--scale-sizes", type=int, nargs="+", help="scale: suite sizes (default 1000 3000 10000)")
    p.add_argument("--scale-jobs", type=int, default=8, help="scale: -j of the scripted suite")
    p.add_argument("--yaml-mb", type=float, help="yaml: megabytes of the scenario file (default 5; quick 1)")
    p.add_argument("--view-scenarios", type=int, help="view: scenarios in the store, x 3 modes (4004; quick 400)")
    p.add_argument("--probe-seeds", type=int, help="probes: episodes of each kind (default 3; quick 1)")
    p.add_argument("--probe-turns", type=int, help="probes: turns per episode (default 8; quick 4)")
    p.add_argument("--probe-final", action="store_true",
                   help="probes: also every agent after the last message (off by default, as in privy)")
    p.add_argument("--probe-facts", type=int, default=0,
                   help="probes: knowledge questions per other agent at each probe (default 0: belief only, as privy)")
    p.add_argument("--out", type=Path, default=HERE / "results.md", help="markdown table (JSON next to it)")
    return p.parse_args(argv)


def _pick(value: Any, full: Any, quick: Any, is_quick: bool) -> Any:
    return value if value is not None else (quick if is_quick else full)


def run(args: argparse.Namespace) -> tuple[list[Row], dict[str, Any]]:
    q = args.quick
    rows: list[Row] = []
    raw: dict[str, Any] = {}
    timings: dict[str, float] = {}
    peer_ok = False
    if not args.no_peer and ({"overhead", "saturation"} & set(args.only)):
        from benchmarks import peer

        err = peer.ensure(HERE / ".venv-chatarena.log")
        raw["chatarena_setup"] = err or "ok"
        peer_ok = err is None
    for bench in args.only:
        t0 = time.perf_counter()
        print(f"running {bench} ...", file=sys.stderr, flush=True)
        if bench == "overhead":
            from benchmarks import overhead, peer

            seconds = _pick(args.seconds, 5.0, 1.5, q)
            p: dict[str, Any] | None = None
            if not args.no_peer:
                p = peer.run("overhead", str(seconds)) if peer_ok else {"error": raw["chatarena_setup"]}
            r, d = overhead.run(seconds, 100 if q else 300, 100 if q else 200,
                                0 if args.no_model else (1 if q else 3), p)
        elif bench == "saturation":
            from benchmarks import saturation

            r, d = saturation.run(args.latency_ms / 1000, _pick(args.jobs, [8, 32], [8], q), 1 if q else 6,
                                  0 if args.no_model else (2 if q else 4), 2 if q else 4, 4,
                                  4 if q else 8, peer_ok)
        elif bench == "prompts":
            from benchmarks import prompt_growth

            r, d = prompt_growth.run(_pick(args.turns, [10, 20, 40, 80], [5, 10, 20, 40], q),
                                     0 if args.no_model else _pick(args.model_turns, 24, 6, q))
        elif bench == "scale":
            from benchmarks import scale

            r, d = scale.run(_pick(args.scale_sizes, [1000, 3000, 10000], [300, 1000], q), args.scale_jobs)
        elif bench == "yaml":
            from benchmarks import yaml_load

            r, d = yaml_load.run(_pick(args.yaml_mb, 5.0, 1.0, q), 3, 1 if q else 2)
        elif bench == "probes":
            from benchmarks import probes

            if args.no_model:
                r, d = [], {"skipped": "--no-model"}
            else:
                r, d = probes.run(_pick(args.probe_seeds, 3, 1, q), _pick(args.probe_turns, 8, 4, q),
                                  final=args.probe_final, facts=args.probe_facts)
        elif bench == "reuse":
            from benchmarks import kv_reuse

            if args.no_model:
                r, d = [], {"skipped": "--no-model"}
            else:  # quick: the first MutualFriends episode in agents and in omniscient mode
                r, d = kv_reuse.run([0, 2] if q else None, probes=True, variants=list(kv_reuse.VARIANTS))
        else:
            from benchmarks import view

            r, d = view.run(_pick(args.view_scenarios, 4004, 400, q))
        rows += r
        raw[bench] = d
        timings[bench] = time.perf_counter() - t0
    raw["seconds_per_benchmark"] = timings
    return rows, raw


COLUMNS = ("Benchmark", "Case", "Measured", "Ratio", "Goal", "Verdict")


def markdown(rows: list[Row]) -> str:
    def cell(s: str) -> str:
        return s.replace("|", "\\|")

    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell(x) for x in (r.bench, r.case, r.value, r.ratio, r.goal, r.verdict)) + " |"
              for r in rows]
    return "\n".join(lines)


def show(rows: list[Row]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*COLUMNS, title="privy benchmarks", show_lines=False)
    for r in rows:
        style = {"met": "green", "NOT met": "red"}.get(r.verdict, "")
        table.add_row(r.bench, r.case, r.value, r.ratio, r.goal, f"[{style}]{r.verdict}[/]" if style else "")
    Console(width=200).print(table)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    t0 = time.perf_counter()
    rows, raw = run(args)
    wall = time.perf_counter() - t0
    show(rows)
    command = ".venv/bin/python benchmarks/run.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    machine = (f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python "
               f"{platform.python_version()}")
    doc = (f"# privy benchmarks\n\nCommand: `{command.strip()}`  \nDate: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
           f"{machine}; whole run {wall:.0f} s.\n\n{markdown(rows)}\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(doc, encoding="utf-8")
    raw.update({"command": command.strip(), "machine": machine, "wall_s": wall, "rows": [r.as_dict() for r in rows]})
    args.out.with_suffix(".json").write_text(json.dumps(raw, indent=1, default=str), encoding="utf-8")
    print(f"written: {args.out} and {args.out.with_suffix('.json')} ({wall:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
