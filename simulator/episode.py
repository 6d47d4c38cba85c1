"""The episode log: one versioned JSON file per run.

It holds everything needed to check a result without rerunning it: the scenario, the
mode, the backend settings (never secrets), the seed, every message with its
recipients, and the exact input and output of every model call.

Format ``privy.episode/2`` writes each call's input once: an agent's prompt repeats its
previous one, so a call whose input starts with the input of the same speaker's
previous call stores ``"input_from": {"call": j, "keep": k}`` and, in ``input``, only
what follows: its whole input is ``calls[j].input[:k] + input``. Without this, the log
of an episode grows with the square of its turns. ``privy.episode/1`` files (every
input whole) are read as they are.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, ValidationError, model_serializer, model_validator
from pydantic_core import to_json

from privy.simulator.backends.base import ChatMessage
from privy.simulator.backends.errors import Attempt
from privy.simulator.bus import Message
from privy.simulator.modes import Mode
from privy.simulator.probes import Probe, ProbeSettings
from privy.simulator.scenario import Scenario
from privy.simulator.task import Outcome

EPISODE_FORMAT: Final = "privy.episode/2"
READABLE_FORMATS: Final = ("privy.episode/1", EPISODE_FORMAT)  # /1: the same, with every input whole


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
    probe_s: float = Field(default=0.0, description="Time spent in belief probes (not in model_s).")


class SourceScore(BaseModel):
    """One agent's score as the source gave it (e.g. Sotopia's evaluator): provenance, not privy's."""

    agent: str = Field(description="The privy agent id it scores.")
    overall: float | None = Field(default=None, description="The source's overall score, if it gave one.")
    dimensions: dict[str, float] = Field(default_factory=dict, description="The source's score per dimension.")


class SourceScores(BaseModel):
    """The scores an imported episode came with from its source, kept as they were given.

    They are the source's own judgement (e.g. Sotopia's GPT-4 evaluator), never privy's
    evaluators' output: ``privy evaluate`` recomputes everything from the messages.
    """

    by: str = Field(description="Whose scores these are, e.g. 'sotopia'.")
    scores: list[SourceScore] = Field(description="One per agent the source scored, in its order.")
    reasoning: str = Field(default="", description="The source's reasoning for them, as given.")


class Source(BaseModel):
    """Where an imported episode (mode ``human``) came from: privy did not run it."""

    format: str = Field(description="The importer's format, e.g. 'transcript' or 'dealornodeal'.")
    file: str = Field(description="The file it was read from, as given.")
    record: str = Field(description="The record's id in that file (its uuid, or the line it starts on).")
    line: int | None = Field(default=None, description="The line of the file the record starts on, if known.")
    times: list[str | None] | None = Field(
        default=None, description="Each message's time as the source gives it (None where it gives none).")
    scores: SourceScores | None = Field(
        default=None, description="The source's own scores of the episode (e.g. Sotopia's rewards), as given: "
                                  "provenance, not privy's evaluation.")

    @model_serializer(mode="wrap")
    def _without_scores(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict) and data.get("scores") is None:
            data.pop("scores", None)  # episodes imported before the field are written as they were
        return data


class Episode(BaseModel):
    """The log of one run, or of one imported transcript (``mode: human``, with ``source``)."""

    format_version: Literal["privy.episode/2"] = EPISODE_FORMAT
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
    source: Source | None = Field(default=None, description="Provenance of an imported episode; None for a run.")
    probes: list[Probe] = Field(default_factory=list,
                                description="Belief probes, logged apart: none of them entered any prompt.")
    probe_settings: ProbeSettings | None = Field(default=None, description="When probes were asked; None: never.")

    @model_validator(mode="before")
    @classmethod
    def _whole_inputs(cls, data: Any) -> Any:
        """Read a /1 document as it is, and rebuild each call's whole input in a /2 one."""
        if not isinstance(data, dict):
            return data
        if data.get("format_version") == "privy.episode/1":
            data = {**data, "format_version": EPISODE_FORMAT}
        calls = data.get("calls")
        if isinstance(calls, list) and any(isinstance(c, dict) and "input_from" in c for c in calls):
            data = {**data, "calls": _expand_inputs(calls)}
        return data

    @model_validator(mode="after")
    def _known_agents(self) -> Episode:
        """Every sender, recipient and speaker is one of the scenario's agents."""
        agents = {a.id for a in self.scenario.agents}
        for i, m in enumerate(self.messages):
            for field, who in (("sender", [m.sender]), ("recipients", sorted(m.recipients))):
                unknown = [a for a in who if a not in agents]
                if unknown:
                    raise ValueError(f"messages[{i}].{field}: unknown agent {unknown[0]!r}; "
                                     f"expected one of {sorted(agents)}")
        for i, c in enumerate(self.calls):
            if c.speaker is not None and c.speaker not in agents:
                raise ValueError(f"calls[{i}].speaker: unknown agent {c.speaker!r}; expected one of {sorted(agents)}")
        return self

    def to_json(self, indent: int | None = None) -> str:
        """The episode as a ``privy.episode/2`` document (each prompt's repeated part written once)."""
        # the fields as they are, in order, the models among them serialised by pydantic-core in
        # the same pass (a model_dump first would build the whole document as Python dicts)
        data = dict(self.__dict__)
        last: dict[str | None, ModelCall] = {}  # each speaker's previous call
        calls = []
        for call in self.calls:
            d = dict(call.__dict__)
            del d["input"]
            prev = last.get(call.speaker)
            keep = _common_prefix(prev.input, call.input) if prev is not None else 0
            if keep and prev is not None:
                d["input_from"] = {"call": prev.index, "keep": keep}
            d["input"] = call.input[keep:]
            calls.append(d)
            last[call.speaker] = call
        data["calls"] = calls
        # inf and nan as null, as the models write theirs (a timeout of .inf in the backend's
        # settings): "Infinity" is not JSON, and SQLite's JSON functions would refuse the log
        return to_json(data, indent=indent, inf_nan_mode="null").decode()

    def save(self, path: str | Path) -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(p.suffix + ".tmp")
        tmp.write_text(self.to_json(indent=2), encoding="utf-8")
        tmp.replace(p)  # atomic: a reader never sees half a file
        return p


def _common_prefix(a: list[ChatMessage], b: list[ChatMessage]) -> int:
    """How many lines ``a`` and ``b`` start with in common."""
    n = min(len(a), len(b))
    # the usual case, a prompt that extends the speaker's last one but for its final cue:
    # the runner shares one object per line, so the slices compare by identity, in C
    start = n - 1 if n and a[:n - 1] == b[:n - 1] else 0
    for i in range(start, n):
        x, y = a[i], b[i]
        if x is not y and (x.role != y.role or x.content != y.content):
            return i
    return n


def _expand_inputs(calls: list[Any]) -> list[Any]:
    """``calls`` with every ``input_from`` replaced by the whole input it stands for."""
    by_index: dict[Any, list[Any]] = {}
    out = []
    for i, c in enumerate(calls):
        if isinstance(c, dict) and "input_from" in c:
            ref = c["input_from"]
            if not (isinstance(ref, dict) and isinstance(ref.get("call"), int) and ref["call"] in by_index
                    and isinstance(ref.get("keep"), int)
                    and 0 <= ref["keep"] <= len(by_index[ref["call"]]) and isinstance(c.get("input"), list)):
                raise ValueError(f"calls[{i}].input_from: expected {{call: <index of an earlier call>, "
                                 f"keep: <0..its input length>}}, got {ref!r}")
            c = {k: v for k, v in c.items() if k != "input_from"}
            c["input"] = by_index[ref["call"]][:ref["keep"]] + c["input"]
        out.append(c)
        if isinstance(c, dict) and isinstance(c.get("input"), list) and isinstance(c.get("index"), int):
            by_index[c["index"]] = c["input"]
    return out


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
    if version not in READABLE_FORMATS:
        raise EpisodeError(
            f"{p}: format_version is {version!r}; expected {EPISODE_FORMAT!r} (or {READABLE_FORMATS[0]!r})"
        )
    try:
        return Episode.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])
        where = f"{loc}: " if loc else ""
        raise EpisodeError(f"{p}: {where}{first['msg']} ({err.error_count()} problem(s))") from err
