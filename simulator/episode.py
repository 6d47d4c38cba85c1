"""The episode log: one versioned JSON file per run.

It holds everything needed to check a result without rerunning it: the scenario, the
mode, the backend settings (never secrets), the seed, every message with its
recipients, and the exact input and output of every model call.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, Field, ValidationError

from simulator.backends.base import ChatMessage
from simulator.backends.errors import Attempt
from simulator.bus import Message
from simulator.env import Outcome
from simulator.scenario import Scenario

EPISODE_FORMAT: Final = "privy.episode/1"


class Mode(StrEnum):
    """Who writes each turn and what the writer sees (see DESIGN.md)."""

    AGENTS = "agents"
    MINDREADERS = "mindreaders"
    OMNISCIENT = "omniscient"
    SCRIPT = "script"


class ModelCall(BaseModel):
    """One call to a backend, exactly as made."""

    index: int
    speaker: str | None = Field(description="Agent the text was written for; None for a script.")
    turn: int = Field(description="Environment turn at which the call was made.")
    seed: int | None
    max_tokens: int
    temperature: float
    input: list[ChatMessage] = Field(description="The exact chat messages sent.")
    output: str | None = Field(description="The raw completion text; None if the call failed.")
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float
    error: str | None = None
    attempts: list[Attempt] = Field(default_factory=list, description="Failed tries before the last.")
    cached: bool = Field(default=False, description="Served from the response cache.")
    notes: list[str] = Field(default_factory=list, description="What was wrong with the output, if anything.")


class Timings(BaseModel):
    started_at: datetime
    wall_s: float
    model_s: float


class Episode(BaseModel):
    """The log of one run."""

    format_version: Literal["privy.episode/1"] = EPISODE_FORMAT
    id: str
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    scenario: Scenario
    scenario_path: str | None = None
    mode: Mode
    backend: dict[str, Any] = Field(description="Backend settings, without secrets.")
    seed: int
    messages: list[Message]
    calls: list[ModelCall]
    outcome: Outcome
    timings: Timings

    def save(self, path: str | Path) -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(p.suffix + ".tmp")
        tmp.write_text(self.model_dump_json(indent=2), encoding="utf-8")
        tmp.replace(p)  # atomic: a reader never sees half a file
        return p


class EpisodeError(ValueError):
    """An episode file is missing, not JSON, of an unknown version, or invalid."""


def load_episode(path: str | Path) -> Episode:
    p = Path(path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except OSError as err:
        raise EpisodeError(f"{p}: cannot read episode file: {err.strerror}") from err
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise EpisodeError(f"{p}: not a JSON episode file ({err})") from err
    version = raw.get("format_version") if isinstance(raw, dict) else None
    if version != EPISODE_FORMAT:
        raise EpisodeError(
            f"{p}: format_version is {version!r}; expected {EPISODE_FORMAT!r}"
        )
    try:
        return Episode.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])
        raise EpisodeError(f"{p}: {loc}: {first['msg']} ({err.error_count()} problem(s))") from err
