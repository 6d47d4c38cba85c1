"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from privy.simulator.loader import SUITE_SUFFIXES

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_DIR = ROOT / "scenarios"
SCENARIO_FILES = sorted(p for p in SCENARIO_DIR.rglob("*.yaml") if not p.name.endswith(SUITE_SUFFIXES))


@pytest.fixture
def mutual_friends_path() -> Path:
    return SCENARIO_DIR / "mutual_friends.yaml"


@pytest.fixture
def hidden_profile_path() -> Path:
    return SCENARIO_DIR / "hidden_profile.yaml"
