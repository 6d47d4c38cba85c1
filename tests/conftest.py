"""Shared fixtures (paths and helpers that tests import live in ``tests/helpers``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import SCENARIO_DIR


@pytest.fixture
def mutual_friends_path() -> Path:
    return SCENARIO_DIR / "mutual_friends.yaml"


@pytest.fixture
def hidden_profile_path() -> Path:
    return SCENARIO_DIR / "hidden_profile.yaml"
