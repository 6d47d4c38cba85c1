"""The transcript viewer's data: episodes grouped by scenario instance, with evidence.

:func:`from_store` (a result store) and :func:`from_episodes` (episode log files) build a
:class:`ViewData`: per scenario instance its agents, their private facts and goals, and
every run of it (one per mode, backend and seed); per message the private facts it
mentions (character spans, from the fact ledger) and the findings of the deterministic
evaluators that point at it (clairvoyant reference, hallucinated common ground,
premature commitment, commitments). Findings are recomputed from the episode log, so
they are the same whether the episode came from a store or a file. At the top, the
headline metric of each evaluator per backend and mode, with a 95% bootstrap interval
and the runs behind it.

:func:`privy.bench.view_html.render` turns it into one self-contained HTML page.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import itertools
import json
import math
from collections import defaultdict
from collections.abc import Callable, Coroutine, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from privy import evaluators
from privy.bench.report import MODE_ORDER, MetricStat
from privy.bench.stats import bootstrap_mean
from privy.bench.store import canonical_json, instance_key, instance_of, open_reader
from privy.evaluators.base import Score
from privy.evaluators.belief import belief_probes, credits, truth_logprob
from privy.evaluators.ledger import Ledger
from privy.simulator.episode import Episode, EpisodeError, SourceScores, load_episode
from privy.simulator.scenario import Scenario

T = TypeVar("T")

FAILURES = {
    "clairvoyance": "clairvoyant reference",
    "hallucinated_common_ground": "hallucinated common ground",
    "premature_commitment": "premature commitment",
}
# evaluators whose findings point at messages; run on every episode shown
FINDING_EVALUATORS = ["task_success", "clairvoyance", "hallucinated_common_ground", "premature_commitment"]
BATCH = 256  # episodes parsed and held at once


class FactView(BaseModel):
    id: str
    text: str
    holders: list[str]


class AgentView(BaseModel):
    id: str
    name: str
    persona: str
    goal: str
    facts: list[str] = Field(description="Ids of the facts it holds privately at the start.")


class InstanceView(BaseModel):
    """One scenario instance (a scenario's content, whatever mode it was run in)."""

    id: str
    scenario_id: str
    family: str
    source: str | None
    context: str
    task: str
    answer: str | None = Field(default=None, description="The ground truth (not shown in one agent's view).")
    agents: list[AgentView]
    facts: list[FactView]


class Mention(BaseModel):
    """Where a message mentions a fact, in UTF-16 code units (JavaScript's string offsets)."""

    fact: str
    start: int
    end: int


def _utf16(text: str, i: int) -> int:
    """The UTF-16 offset of Python character offset ``i`` (they differ after characters beyond U+FFFF)."""
    return i if text.isascii() else len(text[:i].encode("utf-16-le")) // 2


class Flag(BaseModel):
    """An evaluator's finding on a message (or on the whole run, without ``message``)."""

    kind: str
    label: str
    evaluator: str
    failure: bool
    reason: str
    fact: str | None = None


class BeliefMark(BaseModel):
    """A belief probe beside a message: ``p``, the agent's P(truth) before the message's turn, or
    ``delta``, the ΔBelief credited to the message for the agent it reached."""

    agent: str
    p: float | None = None
    delta: float | None = None


class MessageView(BaseModel):
    id: int
    turn: int
    sender: str
    recipients: list[str]
    content: str
    mentions: list[Mention]
    flags: list[Flag]
    beliefs: list[BeliefMark] = Field(default_factory=list, description="The sender's belief probe at this turn.")
    deltas: list[BeliefMark] = Field(default_factory=list, description="ΔBelief this message caused.")


class Transcript(BaseModel):
    """A run's messages and its run-level findings: what the page parses only when the run is shown."""

    messages: list[MessageView]
    notes: list[Flag] = Field(default_factory=list, description="Findings about the run as a whole.")


class RunView(BaseModel):
    """A run as the page's index lists it (its transcript is kept apart, see :attr:`ViewData.transcripts`)."""

    key: str
    instance: str
    mode: str
    backend: str
    seed: int
    status: str = Field(description="done or error")
    error: str | None = None
    success: bool | None = None
    ended_by: str | None = None
    outcome: str = Field(description="success, failure or error: what the outcome filter uses.")
    commitments: dict[str, str] = Field(default_factory=dict)
    scores: dict[str, float | None]
    source_scores: SourceScores | None = Field(
        default=None, description="An imported episode's own scores from its source (e.g. Sotopia's rewards), as "
                                  "recorded: shown apart, never among privy's metrics.")


class MetricCell(MetricStat):
    """A headline metric of one backend and mode, and the runs behind it."""

    runs: list[str]


class ViewData(BaseModel):
    title: str
    source: str
    generated_at: str
    instances: list[InstanceView]
    runs: list[RunView]
    metrics: list[MetricCell]
    not_shown: list[str] = Field(default_factory=list, description="Failed episodes with no messages to show.")
    failure_labels: dict[str, str] = Field(default_factory=lambda: dict(FAILURES))
    transcripts: dict[str, str] = Field(
        default_factory=dict, exclude=True,
        description="Per run key, its :class:`Transcript` as compact JSON (a few KB each, parsed only when shown).")

    def transcript(self, key: str) -> Transcript:
        """The messages and run-level findings of run ``key``."""
        return Transcript.model_validate_json(self.transcripts[key])


class ViewError(ValueError):
    """Nothing to show, or an input that cannot be read."""


OnEpisode = Callable[[int, int], None]
"""Called after each episode read with the number read so far and the total."""


def instance_id(episode: Episode) -> str:
    """The scenario instance: its id and a digest of its content (the start of a suite cell's key)."""
    return instance_key(episode.scenario.id, canonical_json(episode.scenario))


def _instance(episode: Episode, iid: str) -> InstanceView:
    s = episode.scenario
    task = s.task
    what = task.kind + (f" among {', '.join(task.options)}" if task.options else "")
    return InstanceView(
        id=iid, scenario_id=s.id, family=s.family, source=episode.scenario_path, context=s.context, task=what,
        answer=task.answer,
        agents=[AgentView(id=a.id, name=a.name, persona=a.persona, goal=a.goal, facts=[f.id for f in s.facts_of(a.id)])
                for a in s.agents],
        facts=[FactView(id=f.id, text=f.text, holders=list(f.holders)) for f in s.facts])


# The transcripts are built as plain dicts and written with json.dumps: for 12,000 runs,
# pydantic models of every message and mention cost more than reading the store. Their
# shape is :class:`Transcript` (``ViewData.transcript`` parses one back, and the tests do).
def _flags(scores: dict[str, Score]) -> tuple[dict[int, list[dict[str, Any]]], list[dict[str, Any]]]:
    per_message: dict[int, list[dict[str, Any]]] = defaultdict(list)
    whole: list[dict[str, Any]] = []
    for name, score in scores.items():
        for f in score.findings:
            flag = {"kind": f.kind, "label": FAILURES.get(f.kind, f.kind.replace("_", " ")), "evaluator": name,
                    "failure": f.kind in FAILURES, "reason": f.reason, "fact": f.fact_id}
            (per_message[f.message_id] if f.message_id is not None else whole).append(flag)
        if score.error:
            whole.append({"kind": "evaluator_error", "label": f"{name} failed", "evaluator": name, "failure": False,
                          "reason": score.error, "fact": None})
    return per_message, whole


def _belief_marks(episode: Episode) -> tuple[dict[tuple[str, int], float], dict[int, list[dict[str, Any]]]]:
    """Each agent's P(truth) by the turn it was probed before (not the final probes), and ΔBelief per message."""
    if not episode.probes:
        return {}, {}
    before = {(a, p.turn): math.exp(truth_logprob(p))
              for a, ps in belief_probes(episode).items() for p in ps if not p.final}
    deltas: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for c in credits(episode):
        deltas[c.message_id].append({"agent": c.agent, "delta": c.delta})
    return before, deltas


def _transcript(episode: Episode, found: dict[str, Score]) -> str:
    per_message, whole = _flags(found)
    ledger = Ledger.of(episode)
    before, deltas = _belief_marks(episode)
    messages = []
    for m in episode.messages:
        spans = sorted(((_utf16(m.content, a), _utf16(m.content, b), fid)
                        for fid, sps in ledger.mentioned[m.id].items() for a, b in sps), key=lambda x: (x[0], -x[1]))
        messages.append({"id": m.id, "turn": m.turn, "sender": m.sender, "recipients": sorted(m.recipients),
                         "content": m.content, "mentions": [{"fact": f, "start": a, "end": b} for a, b, f in spans],
                         "flags": per_message.get(m.id, []),
                         "beliefs": [{"agent": m.sender, "p": before[(m.sender, m.turn)]}]
                         if (m.sender, m.turn) in before else [], "deltas": deltas.get(m.id, [])})
    return json.dumps({"messages": messages, "notes": whole}, ensure_ascii=False, separators=(",", ":"))


def _run(key: str, iid: str, episode: Episode, backend: str, status: str, error: str | None,
         scores: dict[str, float | None], found: dict[str, Score]) -> RunView:
    o = episode.outcome
    outcome = "error" if status != "done" else ("success" if o.success else "failure")
    return RunView(key=key, instance=iid, mode=episode.mode.value, backend=backend,
                   seed=episode.seed, status=status, error=error, success=o.success, ended_by=o.ended_by,
                   outcome=outcome, commitments=o.commitments,
                   scores=scores or {n: s.value for n, s in found.items()},
                   source_scores=episode.source.scores if episode.source is not None else None)


def _metrics(runs: list[RunView], n_resamples: int = 2000) -> list[MetricCell]:
    groups: dict[tuple[str, str, str], list[RunView]] = defaultdict(list)
    for r in runs:
        if r.status != "done":
            continue
        for metric, value in r.scores.items():
            if value is not None:
                groups[(metric, r.backend, r.mode)].append(r)
    order = {name: i for i, name in enumerate(evaluators.DETERMINISTIC)}
    cells = []
    for (metric, backend, mode), rs in sorted(groups.items(), key=lambda kv: (
            order.get(kv[0][0], len(order)), kv[0][0], kv[0][1],
            MODE_ORDER.index(kv[0][2]) if kv[0][2] in MODE_ORDER else len(MODE_ORDER))):
        values = [r.scores[metric] for r in rs]
        e = bootstrap_mean([v for v in values if v is not None], n_resamples=n_resamples, seed=0)
        cells.append(MetricCell(metric=metric, headline=True, backend=backend, mode=mode, n=e.n, mean=e.mean, low=e.low,
                                high=e.high, runs=[r.key for r in rs]))
    return cells


# key, instance id (None: compute it), episode, backend label, status, error, stored headline scores
Stored = tuple[str, str | None, Episode, str, str, str | None, dict[str, float | None]]


def _in_a_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` in a new event loop (in a thread if one is running here, e.g. in a notebook)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _findings(episodes: list[Episode]) -> list[dict[str, Score]]:
    """The finding evaluators on each episode, in one event loop."""
    found: list[dict[str, Score]] = []

    async def all_of() -> None:  # returns nothing: asyncio may repr a task's result
        found.extend([await evaluators.evaluate(ep, FINDING_EVALUATORS) for ep in episodes])

    _in_a_loop(all_of())
    return found


def _assemble(title: str, source: str, stored: Iterable[Stored], not_shown: list[str] | None = None) -> ViewData:
    """The episodes a batch at a time: their findings, index entries and transcripts; the episodes are then dropped.

    The episodes are read here, and only the evaluators run in the event loop (in a thread
    of its own when one is already running here), so a reader need not be thread-safe.
    """
    # Python's cycle collector would walk every index entry made so far, again and again as
    # they pile up: almost half the CPU time for 12,000 episodes, and it frees nothing here
    # (measured: the same peak memory without it).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _build(title, source, stored, [] if not_shown is None else not_shown)  # filled as stored is read
    finally:
        if collecting:
            gc.enable()


def _build(title: str, source: str, stored: Iterable[Stored], not_shown: list[str]) -> ViewData:
    instances: dict[str, InstanceView] = {}
    runs: list[RunView] = []
    transcripts: dict[str, str] = {}
    items = iter(stored)
    while batch := list(itertools.islice(items, BATCH)):
        for (key, iid, ep, backend, status, error, scores), found in zip(
                batch, _findings([b[2] for b in batch]), strict=True):
            iid = iid or instance_id(ep)
            if iid not in instances:
                instances[iid] = _instance(ep, iid)
            runs.append(_run(key, iid, ep, backend, status, error, scores, found))
            transcripts[key] = _transcript(ep, found)
    if not runs:
        raise ViewError(f"{source}: no episodes to show")
    mode_rank = {m: i for i, m in enumerate(MODE_ORDER)}
    runs.sort(key=lambda r: (r.instance, r.backend, r.seed, mode_rank.get(r.mode, len(MODE_ORDER)), r.key))
    return ViewData(title=title, source=source, generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
                    instances=sorted(instances.values(), key=lambda i: (i.family, i.scenario_id, i.id)),
                    runs=runs, metrics=_metrics(runs), not_shown=not_shown, transcripts=transcripts)


def from_episodes(paths: list[str | Path], on_episode: OnEpisode | None = None,
                  on_unreadable: Callable[[str], None] | None = None) -> ViewData:
    """Episode log files (``privy run``/``privy compare`` output); ``on_episode`` is told of each one read.

    ``on_unreadable``: if given, a file that is not an episode log is left out and its
    problem passed to it, so one bad file does not cost the page; else it raises.

    Raises:
        EpisodeError: a file that is not an episode log (the message names it), without ``on_unreadable``.
        ViewError: no files, or none readable.
    """
    read = 0

    def stored() -> Iterator[Stored]:
        nonlocal read
        for i, p in enumerate(paths, 1):
            try:
                ep = load_episode(p)
            except EpisodeError as err:
                if on_unreadable is None:
                    raise
                on_unreadable(str(err))
                continue
            read += 1
            status = "error" if ep.outcome.ended_by == "error" else "done"
            error = next((c.error for c in ep.calls if c.error), None)
            backend = str(ep.backend.get("label") or ep.backend.get("backend") or ep.backend.get("name") or "?")
            model = ep.backend.get("model")
            if model:
                backend = f"{backend}:{Path(str(model)).name}"
            yield str(p), None, ep, backend, status, error, {}
            if on_episode:
                on_episode(i, len(paths))

    names = ", ".join(str(p) for p in paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
    data = _assemble(f"privy: {len(paths)} episode(s)", names, stored())
    if paths and not read:
        raise ViewError(f"none of the {len(paths)} file(s) is a readable episode log")
    return data


def _stored_episode(text: str, scenario: Scenario | None) -> Episode:
    """An episode log from the store, without its model calls (the viewer shows none; they are half the
    text), with ``scenario`` if given: the episodes of one instance share it, parsed once."""
    data = json.loads(text)
    data["calls"] = []
    if scenario is None:
        return Episode.model_validate(data)
    data["scenario"] = scenario
    return Episode.model_validate(data, context={"defer_semantics": True})  # checked when it was parsed


def from_store(db_path: str | Path, on_episode: OnEpisode | None = None) -> ViewData:
    """Every stored episode of a result store (read-only); failed ones with their error.

    The episodes are read one at a time, in key order, so that memory holds the page's
    data (the index and each transcript as compact JSON), never every episode at once.
    ``on_episode`` is told of each one read.

    Raises:
        StoreError: ``db_path`` is not a result store privy can read.
        ViewError: the store holds no episode.
    """
    not_shown: list[str] = []
    with open_reader(db_path) as store:
        suite = store.meta().get("suite", Path(db_path).name)
        scores = store.headline_scores()
        total = len(store.stored_keys())

        def stored() -> Iterator[Stored]:
            scenario: Scenario | None = None
            last, iid = None, ""
            for i, (key, backend, status, error, text) in enumerate(
                    store.rows("episodes", ["key", "backend", "status", "error", "episode_json"]), 1):
                if not text:
                    not_shown.append(f"{key}: {error}")  # failed before any message was written
                else:
                    # keys start with their instance and sort by it: one instance's episodes come
                    # together and share one scenario, parsed (and its id digested) once
                    same = instance_of(key) == last
                    ep = _stored_episode(text, scenario if same else None)
                    if not same:
                        scenario, last, iid = ep.scenario, instance_of(key), instance_id(ep)
                    yield key, iid, ep, backend, status, error, scores.get(key, {})
                if on_episode:
                    on_episode(i, total)

        return _assemble(f"privy: suite {suite}", str(db_path), stored(), not_shown)
