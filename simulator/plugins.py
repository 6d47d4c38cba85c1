"""Plugins: what installed packages add to privy through entry points (backends, evaluators)."""

from __future__ import annotations

import importlib.metadata


def entry_points(group: str) -> dict[str, importlib.metadata.EntryPoint]:
    """The entry points of ``group`` by name (a later distribution's wins a clash)."""
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=group)}
