"""The wheel installs one import package, ``privy``, with its data files and entry points."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from helpers import ROOT


def source_copy(dest: Path) -> Path:
    """The repository's tracked files (a build must not see .venv, runs/ or caches)."""
    if (ROOT / ".git").exists() and shutil.which("git"):
        files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True,
                               text=True).stdout.split("\0")
    else:
        skip = {".venv", ".git", "runs", "build", "dist", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
        files = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                 if p.is_file() and not skip & set(p.relative_to(ROOT).parts)]
    for name in filter(None, files):
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, dest / name)
    return dest


def test_the_wheel_holds_only_the_privy_package(tmp_path: Path) -> None:
    src = source_copy(tmp_path / "src")
    out = tmp_path / "wheel"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(out), str(src)], check=True, capture_output=True)
    [wheel] = out.glob("privy_sim-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"privy"}
    for needed in ("privy/__init__.py", "privy/cli.py", "privy/simulator/env.py", "privy/bench/store.py",
                   "privy/bench/view_page.html", "privy/scenarios/mutual_friends.yaml",
                   "privy/scenarios/suites/quick.suite.yaml", "privy/scenarios/families/mutual_friends.py",
                   "privy/scenarios/importers/dealornodeal.py", "privy/simulator/transcript.py",
                   "privy/bench/ingest.py"):
        assert needed in names
    assert not [n for n in names if n.startswith(("privy/tests/", "privy/benchmarks/"))]
    info = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    entry_points = zipfile.ZipFile(wheel).read(info).decode()
    assert "privy = privy.cli:app" in entry_points
    assert "scripted = privy.scenarios.baselines:ScriptedBackend" in entry_points
