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
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from privy import evaluators
from privy.bench.report import MODE_ORDER, MetricStat
from privy.bench.stats import bootstrap_mean
from privy.bench.store import canonical_json, instance_key, open_reader
from privy.evaluators.base import Score
from privy.evaluators.ledger import Ledger
from privy.simulator.episode import Episode, load_episode

FAILURES = {
    "clairvoyance": "clairvoyant reference",
    "hallucinated_common_ground": "hallucinated common ground",
    "premature_commitment": "premature commitment",
}
# evaluators whose findings point at messages; run on every episode shown
FINDING_EVALUATORS = ["task_success", "clairvoyance", "hallucinated_common_ground", "premature_commitment"]


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


class MessageView(BaseModel):
    id: int
    turn: int
    sender: str
    recipients: list[str]
    content: str
    mentions: list[Mention]
    flags: list[Flag]


class RunView(BaseModel):
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
    messages: list[MessageView]
    notes: list[Flag] = Field(default_factory=list, description="Findings about the run as a whole.")


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


class ViewError(ValueError):
    """Nothing to show, or an input that cannot be read."""


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


def _flags(scores: dict[str, Score]) -> tuple[dict[int, list[Flag]], list[Flag]]:
    per_message: dict[int, list[Flag]] = defaultdict(list)
    whole: list[Flag] = []
    for name, score in scores.items():
        for f in score.findings:
            flag = Flag(kind=f.kind, label=FAILURES.get(f.kind, f.kind.replace("_", " ")), evaluator=name,
                        failure=f.kind in FAILURES, reason=f.reason, fact=f.fact_id)
            (per_message[f.message_id] if f.message_id is not None else whole).append(flag)
        if score.error:
            whole.append(Flag(kind="evaluator_error", label=f"{name} failed", evaluator=name, failure=False,
                              reason=score.error))
    return per_message, whole


def _run(key: str, iid: str, episode: Episode, backend: str, status: str, error: str | None,
         scores: dict[str, float | None], found: dict[str, Score]) -> RunView:
    per_message, whole = _flags(found)
    ledger = Ledger.of(episode)
    messages = [
        MessageView(id=m.id, turn=m.turn, sender=m.sender, recipients=sorted(m.recipients), content=m.content,
                    mentions=sorted((Mention(fact=fid, start=_utf16(m.content, a), end=_utf16(m.content, b))
                                     for fid, sps in ledger.mentioned[m.id].items() for a, b in sps),
                                    key=lambda x: (x.start, -x.end)),
                    flags=per_message.get(m.id, []))
        for m in episode.messages]
    o = episode.outcome
    outcome = "error" if status != "done" else ("success" if o.success else "failure")
    return RunView(key=key, instance=iid, mode=episode.mode.value, backend=backend,
                   seed=episode.seed, status=status, error=error, success=o.success, ended_by=o.ended_by,
                   outcome=outcome, commitments=o.commitments,
                   scores=scores or {n: s.value for n, s in found.items()}, messages=messages,
                   notes=whole)


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


# key, episode, backend label, status, error, stored headline scores
Stored = tuple[str, Episode, str, str, str | None, dict[str, float | None]]


def _findings(episodes: list[Episode]) -> list[dict[str, Score]]:
    """The finding evaluators on every episode, in one event loop (in a thread if one is running here)."""
    async def all_of() -> list[dict[str, Score]]:
        return [await evaluators.evaluate(ep, FINDING_EVALUATORS) for ep in episodes]

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(all_of())
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # e.g. called from a notebook
        return pool.submit(asyncio.run, all_of()).result()


def _assemble(title: str, source: str, stored: list[Stored], not_shown: list[str] | None = None) -> ViewData:
    instances: dict[str, InstanceView] = {}
    runs: list[RunView] = []
    found = _findings([s[1] for s in stored])
    for (key, ep, backend, status, error, scores), f in zip(stored, found, strict=True):
        iid = instance_id(ep)
        if iid not in instances:
            instances[iid] = _instance(ep, iid)
        runs.append(_run(key, iid, ep, backend, status, error, scores, f))
    if not runs:
        raise ViewError(f"{source}: no episodes to show")
    mode_rank = {m: i for i, m in enumerate(MODE_ORDER)}
    runs.sort(key=lambda r: (r.instance, r.backend, r.seed, mode_rank.get(r.mode, len(MODE_ORDER)), r.key))
    return ViewData(title=title, source=source, generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
                    instances=sorted(instances.values(), key=lambda i: (i.family, i.scenario_id, i.id)),
                    runs=runs, metrics=_metrics(runs), not_shown=not_shown or [])


def from_episodes(paths: list[str | Path]) -> ViewData:
    """Episode log files (``privy run``/``privy compare`` output).

    Raises:
        EpisodeError: a file that is not an episode log (the message names it).
        ViewError: no files.
    """
    stored: list[Stored] = []
    for p in paths:
        ep = load_episode(p)
        status = "error" if ep.outcome.ended_by == "error" else "done"
        error = next((c.error for c in ep.calls if c.error), None)
        backend = str(ep.backend.get("label") or ep.backend.get("backend") or ep.backend.get("name") or "?")
        model = ep.backend.get("model")
        if model:
            backend = f"{backend}:{Path(str(model)).name}"
        stored.append((str(p), ep, backend, status, error, {}))
    names = ", ".join(str(p) for p in paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
    return _assemble(f"privy: {len(paths)} episode(s)", names, stored)


def from_store(db_path: str | Path) -> ViewData:
    """Every stored episode of a result store (read-only); failed ones with their error.

    Raises:
        StoreError: ``db_path`` is not a result store privy can read.
        ViewError: the store holds no episode.
    """
    with open_reader(db_path) as store:
        suite = store.meta().get("suite", Path(db_path).name)
        scores = store.headline_scores()
        rows = store.episodes()

    stored: list[Stored] = []
    not_shown: list[str] = []
    for row in rows:
        if not row.episode_json:
            not_shown.append(f"{row.key}: {row.error}")  # failed before any message was written
            continue
        stored.append((row.key, Episode.model_validate_json(row.episode_json), row.backend, row.status, row.error,
                       scores.get(row.key, {})))
    return _assemble(f"privy: suite {suite}", str(db_path), stored, not_shown)
