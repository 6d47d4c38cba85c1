"""Shared fixtures (paths and helpers that tests import live in ``tests/helpers``)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import SCENARIO_DIR


@pytest.fixture
def mutual_friends_path() -> Path:
    return SCENARIO_DIR / "mutual_friends.yaml"


@pytest.fixture
def hidden_profile_path() -> Path:
    return SCENARIO_DIR / "hidden_profile.yaml"


# ---------------------------------------------------------------- a real browser
# The viewer, the report page and the browser seat are tested in Debian's headless Chromium
# through Playwright; where either is missing the tests skip, except under CI, where they fail.


def chromium_path() -> str | None:
    return os.environ.get("PRIVY_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if path is None or sync_playwright is None:
        why = "needs Debian's chromium and playwright (.ci/run installs both)"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path)
        yield b
        b.close()
