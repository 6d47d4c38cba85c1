"""ChatArena, the peer, in its own virtual environment (``benchmarks/.venv-chatarena``).

ChatArena 0.1.18 imports PettingZoo's chess environment at import time, so besides
``chatarena`` the environment needs ``pettingzoo<1.25`` (chess_v6), ``chess`` and
``pygame``; pip does not pull them in. Its pins must not touch privy's own environment,
hence a separate one, made on first use.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv-chatarena"
PYTHON = VENV / "bin" / "python"
PACKAGES = ["chatarena==0.1.18", "pettingzoo==1.24.3", "chess", "pygame"]


def ensure(log: Path) -> str | None:
    """Make the environment if needed; None when ready, else why it could not be made."""
    ok = subprocess.run([str(PYTHON), "-c", "import chatarena.arena"], capture_output=True) \
        if PYTHON.exists() else None
    if ok is not None and ok.returncode == 0:
        return None
    print(f"making ChatArena's environment in {VENV} (once) ...", file=sys.stderr)
    venv.create(VENV, with_pip=True, clear=True)
    with log.open("wb") as out:
        done = subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", *PACKAGES],
                              stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        return f"pip install {' '.join(PACKAGES)} failed (see {log})"
    check = subprocess.run([str(PYTHON), "-c", "import chatarena.arena"], capture_output=True, text=True)
    if check.returncode != 0:
        return f"chatarena does not import: {check.stderr.strip().splitlines()[-1]}"
    return None


def run(*args: str, timeout: float = 600) -> dict[str, Any]:
    """Run ``peer_chatarena.py`` with ``args`` in ChatArena's environment; its JSON result."""
    done = subprocess.run([str(PYTHON), str(HERE / "peer_chatarena.py"), *args], capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
