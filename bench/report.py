"""The benchmark report: what a result store says, with uncertainty, cost and caveats.

:func:`build_report` reads a store (read-only) into a :class:`Report`:

- **means**: per metric, backend and mode, the mean over finished episodes with a 95%
  percentile bootstrap interval. Metrics are every evaluator's headline value
  (``task_success``) and its metrics (``task_success.correct``). Metrics named after a
  scenario's own agents or facts (``clairvoyance.first_mention:<fact>``,
  ``task_success.points.<agent>``) are averaged within each episode into one column
  with ``*`` in place of the id (``clairvoyance.first_mention:*``).
- **gaps**: the paired difference between two modes on the same (scenario instance,
  backend, seed): agents − omniscient (the asymmetry gap), agents − mindreaders,
  mindreaders − omniscient and script − omniscient, whichever modes were run.
- **totals**: episodes done, failed and still missing; model calls, tokens, retries,
  cached calls, episode wall and model seconds, latency; cost = tokens / 1000 ×
  ``price_per_1k`` (default 0: local models cost nothing per token; pass your
  provider's price for hosted ones).
- **card**: a Simulation Card (Zhou et al. 2024): the information asymmetry of the
  scenarios, the agent type, modes, models, metrics and caveats.

:func:`to_markdown`, :func:`to_html` (self-contained: inline CSS, base64 PNG plots) and
:func:`print_report` (rich tables) render it.
"""

from __future__ import annotations

import base64
import html
import importlib
import importlib.util
import io
import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from privy.bench.report_beliefs import Beliefs, card_lines, informative_rows, plot_png, read_beliefs, split_trajectories
from privy.bench.stats import DEFAULT_RESAMPLES, bootstrap_mean, paired_difference
from privy.bench.store import CardValues, ScoreRow, StoreError, UsageRow, instance_of, open_reader
from privy.simulator.episode import SourceScores

PAIRS = (("agents", "omniscient"), ("agents", "mindreaders"), ("mindreaders", "omniscient"),
         ("script", "omniscient"), ("agents", "human"))
MODE_ORDER = ("agents", "mindreaders", "omniscient", "script", "human")
HUMAN = "human"  # the mode, and the backend label, of imported transcripts (privy.bench.ingest)
MODES = {
    "agents": "one model call per agent; each sees only its own observation (the realistic setting)",
    "mindreaders": "one call per agent; each sees every agent's private information",
    "omniscient": "one controller writes every turn and sees everything",
    "script": "one generation writes the whole dialogue from the full state",
    "human": "imported transcripts: people wrote every turn, privy only replays them (no model calls)",
}
AGENT_TYPES = {"llama": "LLM (embedded llama.cpp)", "openai": "LLM (OpenAI-compatible server)",
               "scripted": "rule-based reference protocol (not an LLM)", "mock": "fake model (tests)",
               "replay": "replayed recording", "human": "humans (imported transcripts; no model)"}
SECTIONS = ("Simulation card", "Means per mode", "Asymmetry gaps", "Tokens, latency and cost", "Failed episodes")


class MetricStat(BaseModel):
    metric: str
    headline: bool
    backend: str
    mode: str
    n: int
    mean: float | None
    low: float | None
    high: float | None


class Gap(BaseModel):
    metric: str
    headline: bool
    backend: str
    a: str
    b: str
    n: int
    mean: float | None
    low: float | None
    high: float | None
    mean_a: float | None
    mean_b: float | None


class Usage(BaseModel):
    backend: str
    episodes: int = 0
    done: int = 0
    failed: int = 0
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: int = 0
    cached_calls: int = 0
    wall_s: float = 0.0
    model_s: float = 0.0
    mean_latency_s: float | None = None
    p95_latency_s: float | None = None
    cost: float = 0.0


class FamilyAsymmetry(BaseModel):
    family: str
    instances: int
    agents: float
    facts: float
    private_facts: float  # held by exactly one agent
    needed_facts: float
    needed_private: float  # needed facts held by exactly one agent
    private_values: bool  # deal tasks: each agent's item values are private


class Model(BaseModel):
    label: str
    agent_type: str
    settings: list[str]


class SimulationCard(BaseModel):
    suite: str
    asymmetry: list[FamilyAsymmetry]
    modes: list[str]
    models: list[Model]
    metrics: dict[str, str]
    seeds: list[int]
    scenario_instances: int
    caveats: list[str]


class Failure(BaseModel):
    key: str
    error: str


class SourceScoreRow(BaseModel):
    """One agent's score as an imported episode's source recorded it (``source.scores``, e.g. Sotopia's
    rewards): the source's own judgement, kept apart from privy's metrics and never averaged into them."""

    by: str
    episode: str
    scenario: str
    agent: str
    overall: float | None
    dimensions: dict[str, float]


class Report(BaseModel):
    db: str
    generated_at: str
    level: float
    n_resamples: int
    price_per_1k: float
    planned: int | None
    missing: int | None
    means: list[MetricStat]
    gaps: list[Gap]
    usage: list[Usage]  # one per backend, then "all"
    card: SimulationCard
    failures: list[Failure]
    beliefs: Beliefs = Beliefs()  # belief probes: trajectories, informative messages, methods
    source_scores: list[SourceScoreRow] = []  # imported episodes' own scores, as their source recorded them


# ---------------------------------------------------------------- building


def build_report(db_path: str | Path, *, price_per_1k: float = 0.0, n_resamples: int = DEFAULT_RESAMPLES,
                 seed: int = 0) -> Report:
    """Read the store at ``db_path`` (read-only) into a :class:`Report`.

    Raises:
        StoreError: ``db_path`` is not a result store privy can read.
    """
    with open_reader(db_path) as store:
        meta = store.meta()
        scenarios = store.scenarios()
        values = _values(store.scores(), scenarios)
        beliefs = read_beliefs(store, split_trajectories(values, n_resamples, seed))
        means, gaps = _stats(values, n_resamples, seed)
        usage = _usage(store.usage(), store.latencies(), price_per_1k)
        planned = store.planned_keys()
        missing = len(set(planned) - store.stored_keys()) if planned is not None else None
        failures = [Failure(key=k, error=e) for k, e in store.failures()]
        card = _card(store.card_values(), meta, scenarios, means, gaps, usage, missing)
        recorded = _source_scores(store.source_scores())
    return Report(db=str(db_path), generated_at=datetime.now(UTC).isoformat(timespec="seconds"), level=0.95,
                  n_resamples=n_resamples, price_per_1k=price_per_1k, planned=len(planned) if planned else None,
                  missing=missing, means=means, gaps=gaps, usage=usage, card=card, failures=failures,
                  beliefs=beliefs, source_scores=recorded)


def _source_scores(rows: Iterable[tuple[str, str, str, str]]) -> list[SourceScoreRow]:
    """The ``source.scores`` of imported episodes, one row per scored agent (named as the scenario names it)."""
    out = []
    for key, scenario, scores_json, agents_json in rows:
        try:
            recorded = SourceScores.model_validate_json(scores_json)
            names = {a["id"]: a["name"] for a in json.loads(agents_json or "[]")}
        except (ValueError, TypeError, KeyError) as err:
            raise StoreError(f"episode {key}: source.scores is not the scores of an imported episode: {err}") from err
        for sc in recorded.scores:
            out.append(SourceScoreRow(by=recorded.by, episode=key, scenario=scenario,
                                      agent=names.get(sc.agent, sc.agent), overall=sc.overall,
                                      dimensions=dict(sc.dimensions)))
    return out


def _metric_name(evaluator: str, metric: str, ids: set[str]) -> str:
    if not metric:
        return evaluator
    return evaluator + "." + "".join("*" if p in ids else p for p in re.split(r"([:.])", metric))


Values = dict[str, dict[tuple[str, str], dict[tuple[str, int], float]]]  # metric -> (backend, mode) -> unit


def _values(scores: Iterable[ScoreRow], scenarios: dict[str, dict[str, Any]]) -> Values:
    ids = {i: {a["id"] for a in s.get("agents", [])} | {f["id"] for f in s.get("facts", [])}
           for i, s in scenarios.items()}
    raw: dict[tuple[str, str, str, str, int], list[float]] = defaultdict(list)
    for row in scores:
        instance = instance_of(row.key)
        name = _metric_name(row.evaluator, row.metric, ids.get(instance, set()))
        raw[(name, row.backend, row.mode, instance, row.seed)].append(row.value)
    out: Values = defaultdict(lambda: defaultdict(dict))
    for (name, backend, mode, inst, seed), vs in raw.items():
        out[name][(backend, mode)][(inst, seed)] = sum(vs) / len(vs)
    return _humans_beside(out)


def _humans_beside(values: Values) -> Values:
    """Imported humans as a ``human`` column beside the modes of every model backend.

    Their episodes are stored under the backend label ``human``; with models in the store
    too, that group is shown in each model's table instead (and paired with its ``agents``
    runs of the same scenario instance and seed), not as a table of its own.
    """
    for groups in values.values():
        models = {b for b, _ in groups if b != HUMAN}
        if models and (HUMAN, HUMAN) in groups:
            human = groups.pop((HUMAN, HUMAN))
            for b in sorted(models):
                groups[(b, HUMAN)] = human
    return values


def _metric_order(name: str) -> tuple[int, str, int, str]:
    from privy import evaluators

    ev, _, sub = name.partition(".")
    known = evaluators.DETERMINISTIC
    return (known.index(ev) if ev in known else len(known), ev, bool(sub), sub)


def _mode_order(mode: str) -> tuple[int, str]:
    return (MODE_ORDER.index(mode) if mode in MODE_ORDER else len(MODE_ORDER), mode)


def _stats(values: Values, n_resamples: int, seed: int) -> tuple[list[MetricStat], list[Gap]]:
    means: list[MetricStat] = []
    gaps: list[Gap] = []
    for name in sorted(values, key=_metric_order):
        groups = values[name]
        headline = "." not in name
        for backend, mode in sorted(groups, key=lambda g: (g[0], _mode_order(g[1]))):
            e = bootstrap_mean(groups[(backend, mode)].values(), n_resamples=n_resamples, seed=seed)
            means.append(MetricStat(metric=name, headline=headline, backend=backend, mode=mode, n=e.n,
                                    mean=e.mean, low=e.low, high=e.high))
        for backend in sorted({b for b, _ in groups}):
            for a, b in PAIRS:
                if (backend, a) in groups and (backend, b) in groups:
                    d = paired_difference(groups[(backend, a)], groups[(backend, b)], n_resamples=n_resamples,
                                          seed=seed)
                    gaps.append(Gap(metric=name, headline=headline, backend=backend, a=a, b=b, n=d.n, mean=d.mean,
                                    low=d.low, high=d.high, mean_a=d.mean_a, mean_b=d.mean_b))
    return means, gaps


def _usage(rows: list[UsageRow], latencies: dict[str, list[float]], price_per_1k: float) -> list[Usage]:
    out = [Usage(**row._asdict()) for row in rows]
    cols = [c for c in UsageRow._fields if c != "backend"]
    out.append(Usage(backend="all", **{c: sum(getattr(u, c) for u in out) for c in cols}))
    for u in out:
        lat = [x for v in latencies.values() for x in v] if u.backend == "all" else latencies.get(u.backend, [])
        u.cost = (u.prompt_tokens + u.completion_tokens) / 1000 * price_per_1k
        if lat:
            u.mean_latency_s, u.p95_latency_s = float(np.mean(lat)), float(np.quantile(lat, 0.95))
    return out


def _describe_evaluator(name: str) -> str:
    from privy import evaluators

    try:
        module = "privy.evaluators.judge" if name == "llm_judge" else type(evaluators.create(name)).__module__
        doc = (sys.modules.get(module) or importlib.import_module(module)).__doc__ or ""
    except Exception:  # an evaluator that is not installed here still gets a row
        return ""
    first = doc.strip().splitlines()[0] if doc.strip() else ""
    return first.split(": ", 1)[1] if first.startswith(f"{name}: ") else first


def _asymmetry(scenarios: dict[str, dict[str, Any]]) -> list[FamilyAsymmetry]:
    by_family: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in scenarios.values():
        by_family[str(s.get("family", "custom"))].append(s)
    out = []
    for family, ss in sorted(by_family.items()):
        def avg(f: Any, ss: list[dict[str, Any]] = ss) -> float:
            return float(np.mean([f(s) for s in ss]))

        def private(s: dict[str, Any]) -> set[str]:
            return {f["id"] for f in s.get("facts", []) if len(f["holders"]) == 1}

        out.append(FamilyAsymmetry(
            family=family, instances=len(ss), agents=avg(lambda s: len(s["agents"])),
            facts=avg(lambda s: len(s.get("facts", []))), private_facts=avg(lambda s: len(private(s))),
            needed_facts=avg(lambda s: len(s["task"].get("needed_facts", []))),
            needed_private=avg(lambda s: len(set(s["task"].get("needed_facts", [])) & private(s))),
            private_values=any(s["task"].get("deal") for s in ss)))
    return out


def _card(found: CardValues, meta: dict[str, str], scenarios: dict[str, dict[str, Any]],
          means: list[MetricStat], gaps: list[Gap], usage: list[Usage], missing: int | None) -> SimulationCard:
    settings: dict[str, set[str]] = defaultdict(set)
    for label, js in found.settings:
        settings[label].add(js)
    models = []
    for label in sorted({u.backend for u in usage if u.backend != "all"}):
        parsed = [json.loads(s) for s in sorted(settings[label])]
        kinds = sorted({str(p.get("backend")) for p in parsed})
        kind = "; ".join(AGENT_TYPES.get(k, f"registered backend '{k}'") for k in kinds) or "unknown (none finished)"
        models.append(Model(label=label, agent_type=kind,
                            settings=[", ".join(f"{k}={v}" for k, v in p.items()) for p in parsed]))
    modes = sorted({m.mode for m in means} | set(found.modes), key=_mode_order)
    evaluators = sorted(set(found.evaluators), key=_metric_order)
    seeds = sorted(found.seeds)
    suite = meta.get("suite") or ", ".join(s or "?" for s in found.suites)
    suite = suite or "(no suite)"
    total = usage[-1]
    caveats = []
    if any("llama" in m.agent_type for m in models):
        caveats.append("The embedded model is small (SmolLM2-135M-Instruct by default): it often ignores the "
                       "format and the task, so its numbers say little about larger LLMs.")
    if any("rule-based" in m.agent_type for m in models):
        caveats.append("The scripted backend follows a fixed reference protocol: differences between its modes "
                       "come from what each mode shows the protocol, not from model behaviour.")
    if not seeds:
        caveats.append("No finished episodes in this store yet: there is nothing to average; run `privy bench`.")
    elif len(seeds) < 3:
        caveats.append(f"Only {len(seeds)} seed(s) per scenario instance; intervals mostly reflect variation "
                       "across scenario instances.")
    if min((m.n for m in means if m.headline), default=10) < 10:
        caveats.append("Fewer than 10 episodes in some mode: the bootstrap intervals are rough and wide.")
    if total.failed:
        caveats.append(f"{total.failed} episode(s) failed and are left out of every mean; failures need not be "
                       "random across modes (see Failed episodes).")
    if missing:
        caveats.append(f"{missing} planned episode(s) have not run yet; rerun `privy bench` to complete the grid.")
    if any(g.headline and g.n < max((m.n for m in means if m.headline and m.backend == g.backend
                                     and m.mode in (g.a, g.b)), default=0) for g in gaps):
        caveats.append("Some gaps use fewer pairs than there are episodes: a pair counts only when both modes have a "
                       "value on the same scenario instance, backend and seed (failed episodes have none, and an "
                       "evaluator gives none when it does not apply, e.g. no commitment to judge).")
    if HUMAN in modes:
        caveats.append("The human column holds imported transcripts that privy only replays: people wrote them, with "
                       "no model calls; each is scored from its messages like a run, and pairs with a mode only on "
                       "the same scenario instance and seed (the dialogue's number among those of its scenario).")
    caveats.append("Intervals are 95% percentile bootstraps over episodes (over pairs for gaps) that treat seeds "
                   "of one scenario instance as independent, and ignore how the instances were sampled.")
    caveats.append("Mindreaders, omniscient and script see every agent's private information: they are "
                   "reference points, and their success overstates what separate agents achieve (Zhou et al. 2024).")
    caveats.append("The deterministic evaluators detect facts by literal or pattern mentions; paraphrases "
                   "are missed.")
    return SimulationCard(suite=suite, asymmetry=_asymmetry(scenarios), modes=modes, models=models,
                          metrics={e: _describe_evaluator(e) for e in evaluators}, seeds=seeds,
                          scenario_instances=len(scenarios), caveats=caveats)


# ---------------------------------------------------------------- rendering


def fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.3g}"


def fmt_ci(low: float | None, high: float | None) -> str:
    return "—" if low is None or high is None else f"[{fmt(low)}, {fmt(high)}]"


def _asym_text(a: FamilyAsymmetry) -> str:
    text = (f"{a.instances} instance(s); {a.agents:.3g} agents, {a.facts:.3g} facts of which {a.private_facts:.3g} "
            f"held by one agent only; the task needs {a.needed_facts:.3g} facts, {a.needed_private:.3g} of them "
            "private to one agent")
    return text + ("; each agent's item values are private" if a.private_values else "")


def _card_items(r: Report) -> list[tuple[str, list[str]]]:
    c = r.card
    return [
        ("Suite", [f"{c.suite} ({c.scenario_instances} scenario instances, seeds {c.seeds})"]),
        ("Information asymmetry", [f"{a.family}: {_asym_text(a)}" for a in c.asymmetry] or ["no finished episode"]),
        ("Agent type", [f"{m.label}: {m.agent_type}" for m in c.models] or ["—"]),
        ("Modes", [f"{m}: {MODES.get(m, '')}" for m in c.modes] or ["—"]),
        ("Models", [f"{m.label}: {s}" for m in c.models for s in m.settings] or ["—"]),
        ("Metrics", [f"{k}: {v}" for k, v in c.metrics.items()] or ["—"]),
        ("Belief probes", card_lines(r.beliefs)),
        ("Caveats", c.caveats),
    ]


def _usage_rows(r: Report) -> tuple[list[str], list[list[str]]]:
    head = ["backend", "episodes", "done", "failed", "model calls", "prompt tokens", "completion tokens",
            "retries", "cached calls", "episode wall s", "model s", "mean latency s", "p95 latency s", "cost"]
    rows = [[u.backend, str(u.episodes), str(u.done), str(u.failed), str(u.calls), f"{u.prompt_tokens:,}",
             f"{u.completion_tokens:,}", str(u.retries), str(u.cached_calls), f"{u.wall_s:.1f}", f"{u.model_s:.1f}",
             fmt(u.mean_latency_s), fmt(u.p95_latency_s), f"{u.cost:.4g}"] for u in r.usage]
    return head, rows


def _mean_rows(r: Report, headline_only: bool = False) -> tuple[list[str], list[list[str]]]:
    rows = [[m.metric, m.backend, m.mode, str(m.n), fmt(m.mean), fmt_ci(m.low, m.high)]
            for m in r.means if m.headline or not headline_only]
    return ["metric", "backend", "mode", "n", "mean", "95% CI"], rows


def _gap_rows(r: Report, headline_only: bool = False) -> tuple[list[str], list[list[str]]]:
    rows = [[g.metric, g.backend, f"{g.a} − {g.b}", str(g.n), fmt(g.mean_a), fmt(g.mean_b), fmt(g.mean),
             fmt_ci(g.low, g.high)] for g in r.gaps if g.headline or not headline_only]
    return ["metric", "backend", "gap", "pairs", "mean a", "mean b", "a − b", "95% CI"], rows


BELIEF_SECTION = "Belief probes"


def _trajectory_rows(r: Report) -> tuple[list[str], list[list[str]]]:
    rows = [[p.backend, p.mode, str(p.turn), str(p.n), fmt(p.mean), fmt_ci(p.low, p.high)]
            for p in r.beliefs.trajectories]
    return ["backend", "mode", "turn", "n", "mean P(truth)", "95% CI"], rows


def source_sections(r: Report) -> list[tuple[str, str, list[str], list[list[str]]]]:
    """Per source (``by``), a separate table of the scores its imported episodes came with: (title, note,
    head, rows). Empty when no episode holds any; never merged with privy's metrics."""
    out = []
    for by in dict.fromkeys(row.by for row in r.source_scores):
        mine = [row for row in r.source_scores if row.by == by]
        dims = list(dict.fromkeys(d for row in mine for d in row.dimensions))
        head = ["episode", "scenario", "agent", "overall", *dims]
        rows = [[row.episode, row.scenario, row.agent, fmt(row.overall),
                 *(fmt(row.dimensions.get(d)) for d in dims)] for row in mine]
        note = (f"The scores {by} itself gave these imported episodes, copied from the imported file "
                f"(source.scores) as recorded. They are not privy's evaluation and are not in any mean, gap or "
                f"other table of this report.")
        out.append((f"{by}'s own scores, as recorded", note, head, rows))
    return out


def _intro(r: Report) -> str:
    missing = f"; {r.missing} of {r.planned} planned episodes not run yet" if r.missing else ""
    return (f"Store {r.db}, generated {r.generated_at}. Means are over finished episodes with {r.level:.0%} "
            f"percentile bootstrap intervals ({r.n_resamples} resamples); gaps are paired differences between "
            f"modes on the same scenario instance, backend and seed{missing}. Cost = tokens / 1000 × "
            f"{r.price_per_1k:g} (--price-per-1k).")


def _md_cell(text: str) -> str:
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def _md_table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) if rows else "(none)"


def to_markdown(r: Report) -> str:
    out = [f"# privy report: {_md_cell(r.card.suite)}", "", _md_cell(_intro(r)), "", f"## {SECTIONS[0]}", ""]
    for title, items in _card_items(r):
        out += [f"**{title}**", ""] + [f"- {_md_cell(i)}" for i in items] + [""]
    out += [f"## {SECTIONS[1]}", "", _md_table(*_mean_rows(r)), "",
            f"## {SECTIONS[2]}", "", "Paired differences a − b; agents − omniscient is the asymmetry gap.", "",
            _md_table(*_gap_rows(r)), "", f"## {SECTIONS[3]}", "", _md_table(*_usage_rows(r)), "",
            f"## {SECTIONS[4]}", "", _md_table(["episode", "error"], [[f.key, f.error] for f in r.failures]), "",
            f"## {BELIEF_SECTION}", "", _md_table(*_trajectory_rows(r)), "", "Most informative messages (ΔBelief):",
            "", _md_table(*informative_rows(r.beliefs)), "",
            "Plots: see the HTML report (`privy report DB --html FILE`).", ""]
    for title, note, head, rows in source_sections(r):
        out += [f"## {_md_cell(title)}", "", _md_cell(note), "", _md_table(head, rows), ""]
    return "\n".join(out)


_CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.25em .6em;
text-align:left}th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%}dt{font-weight:bold;margin-top:.6em}h2{border-bottom:1px solid #ddd}"""


def _html_table(head: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return "<p>(none)</p>"

    def cell(c: str) -> str:
        num = re.fullmatch(r"[-+−\d.,e\[\] —]+", c) is not None
        return f"<td{' class=num' if num else ''}>{html.escape(c)}</td>"

    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(cell(c) for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def to_html(r: Report) -> str:
    e = html.escape
    card = "".join(f"<dt>{e(t)}</dt>" + "".join(f"<dd>{e(i)}</dd>" for i in items) for t, items in _card_items(r))
    if plots_available():
        plots = "".join(f'<figure><img alt="{e(alt)}" src="data:image/png;base64,{png}"><figcaption>{e(alt)}'
                        "</figcaption></figure>" for alt, png in plots_png(r))
    else:
        plots = f"<p>{e(PLOTS_MISSING)}</p>"
    belief_plots = "".join(f'<figure><img alt="{e(alt)}" src="data:image/png;base64,{png}"><figcaption>'
                           f"{e(alt)}</figcaption></figure>" for alt, png in plot_png(r.beliefs, _png, _tex)
                           ) if plots_available() else ""
    parts = [
        f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>privy report: {e(r.card.suite)}</title>",
        f"<style>{_CSS}</style></head><body><h1>privy report: {e(r.card.suite)}</h1><p>{e(_intro(r))}</p>",
        f"<h2>{SECTIONS[0]}</h2><dl>{card}</dl>",
        f"<h2>{SECTIONS[1]}</h2>{plots or '<p>no finished episode to plot</p>'}{_html_table(*_mean_rows(r))}",
        f"<h2>{SECTIONS[2]}</h2><p>Paired differences a − b; agents − omniscient is the asymmetry gap.</p>",
        _html_table(*_gap_rows(r)),
        f"<h2>{SECTIONS[3]}</h2>{_html_table(*_usage_rows(r))}",
        f"<h2>{SECTIONS[4]}</h2>{_html_table(['episode', 'error'], [[f.key, f.error] for f in r.failures])}",
        f"<h2>{BELIEF_SECTION}</h2>{belief_plots}{_html_table(*_trajectory_rows(r))}",
        f"<p>Most informative messages (ΔBelief):</p>{_html_table(*informative_rows(r.beliefs))}",
        *(f"<h2>{e(title)}</h2><p>{e(note)}</p>{_html_table(head, rows)}"
          for title, note, head, rows in source_sections(r)),
        "</body></html>",
    ]
    return "\n".join(parts)


def _tex(s: str) -> str:
    return s.replace("$", r"\$")  # matplotlib would read $...$ as mathtext


PLOTS_MISSING = "No plots: they need matplotlib (pip install 'privy-sim[plots]'); the tables below are complete."


def plots_available() -> bool:
    """Whether matplotlib, the optional `plots` extra, is installed."""
    return importlib.util.find_spec("matplotlib") is not None


def plots_png(r: Report) -> list[tuple[str, str]]:
    """Base64 PNGs: headline means per mode with CI bars, and the headline gaps."""
    from matplotlib.figure import Figure

    out = []
    heads = [m for m in r.means if m.headline]
    metrics = list(dict.fromkeys(m.metric for m in heads))
    if metrics:
        ncols = min(3, len(metrics))
        nrows = -(-len(metrics) // ncols)
        fig = Figure(figsize=(4.2 * ncols, 3.2 * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax, name in zip(axes, metrics, strict=False):
            rows = [m for m in heads if m.metric == name and m.mean is not None]
            labels = [_tex((m.mode if len(r.usage) <= 2 else f"{m.mode}\n{m.backend}") + f"\n{fmt(m.mean)}")
                      for m in rows]
            means = [m.mean or 0.0 for m in rows]
            err = [[(m.mean or 0) - (m.low if m.low is not None else m.mean or 0) for m in rows],
                   [(m.high if m.high is not None else m.mean or 0) - (m.mean or 0) for m in rows]]
            ax.bar(range(len(rows)), means, yerr=err, capsize=4, color="#6a8fc7")
            ax.set_xticks(range(len(rows)), labels, fontsize=8)
            top = max([m.high if m.high is not None else m.mean or 0.0 for m in rows] + [0.0])
            bottom = min([m.low if m.low is not None else m.mean or 0.0 for m in rows] + [0.0])
            ax.set_ylim(bottom * 1.1, top * 1.1 if top > 0 else 1.0)  # all-zero metrics: an axis from 0 to 1
            ax.set_title(_tex(name), fontsize=10)
        for ax in axes[len(metrics):]:
            ax.set_visible(False)
        out.append(("Mean per mode with 95% bootstrap intervals (headline metrics)", _png(fig)))
    gaps = [g for g in r.gaps if g.headline and g.mean is not None]
    if gaps:
        fig = Figure(figsize=(8, 0.35 * len(gaps) + 1.2), layout="constrained")
        ax = fig.subplots()
        y = list(range(len(gaps)))[::-1]
        xerr = [[(g.mean or 0) - (g.low if g.low is not None else g.mean or 0) for g in gaps],
                [(g.high if g.high is not None else g.mean or 0) - (g.mean or 0) for g in gaps]]
        ax.errorbar([g.mean or 0.0 for g in gaps], y, xerr=xerr, fmt="o", capsize=3, color="#c7566a")
        ax.axvline(0, color="#888", lw=0.8)
        ax.set_yticks(y, [_tex(f"{g.metric}: {g.a} − {g.b}" + (f" ({g.backend})" if len(r.usage) > 2 else ""))
                          for g in gaps], fontsize=8)
        ax.set_xlabel("paired difference a − b (95% bootstrap interval)")
        out.append(("Paired gaps between modes (headline metrics)", _png(fig)))
    return out


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def print_report(r: Report, console: Any) -> None:
    """Terminal summary (rich tables): headline means and gaps pivoted by mode, usage, card."""
    from rich import box
    from rich.markup import escape as markup_escape
    from rich.table import Table

    from privy.simulator.terminal import visible

    def escape(text: str) -> str:  # text from the store (scenario ids, labels, errors): no control characters
        return markup_escape(visible(text))

    def table(title: str, head: list[str], rows: list[list[str]]) -> None:
        t = Table(title=escape(title), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        for i, h in enumerate(head):
            t.add_column(escape(h), no_wrap=i == 0, justify="left" if i == 0 else "right")
        for row in rows:
            t.add_row(*(escape(c) for c in row))
        console.print(t)

    def span(ns: list[int]) -> str:
        return str(min(ns)) if min(ns) == max(ns) else f"{min(ns)}-{max(ns)}"

    console.print(escape(_intro(r)), soft_wrap=True)
    heads = [m for m in r.means if m.headline]
    if not heads:
        console.print(f"[bold]{SECTIONS[1]}[/bold], [bold]{SECTIONS[2]}[/bold]: no finished episode")
    for backend in dict.fromkeys(m.backend for m in heads):
        mine = [m for m in heads if m.backend == backend]
        modes = sorted({m.mode for m in mine}, key=_mode_order)
        cells = {(m.metric, m.mode): f"{fmt(m.mean)} {fmt_ci(m.low, m.high)}" for m in mine}
        rows = [[name, *(cells.get((name, mode), "") for mode in modes), span([m.n for m in mine if m.metric == name])]
                for name in dict.fromkeys(m.metric for m in mine)]
        table(f"{SECTIONS[1]} · {backend}: mean [95% CI] (every metric: --md/--html)", ["metric", *modes, "n"], rows)
        gaps = [g for g in r.gaps if g.headline and g.backend == backend]
        pairs = list(dict.fromkeys(f"{g.a} − {g.b}" for g in gaps))
        gcells = {(g.metric, f"{g.a} − {g.b}"): f"{fmt(g.mean)} {fmt_ci(g.low, g.high)}" for g in gaps}
        rows = [[name, *(gcells.get((name, p), "") for p in pairs), span([g.n for g in gaps if g.metric == name])]
                for name in dict.fromkeys(g.metric for g in gaps)]
        table(f"{SECTIONS[2]} · {backend}: paired a − b [95% CI]", ["metric", *pairs, "pairs"], rows)
    head, rows = _usage_rows(r)
    table(SECTIONS[3], ["", *(row[0] for row in rows)], [[h, *(row[i] for row in rows)] for i, h in
                                                          enumerate(head) if i])
    console.print(f"[bold]{SECTIONS[0]}[/bold]")
    for title, items in _card_items(r):
        console.print(f"[bold]{escape(title)}[/bold]")
        for i in items:
            console.print(f"  • {escape(i)}", soft_wrap=True)
    console.print(f"[bold]{SECTIONS[4]}[/bold]: {len(r.failures)}")
    for f in r.failures[:10]:
        console.print(f"  {escape(f.key)}: {escape(f.error)}", soft_wrap=True)
    if len(r.failures) > 10:
        console.print(f"  … and {len(r.failures) - 10} more (all in --md/--html)")
    for title, note, head, rows in source_sections(r):
        console.print(escape(note), soft_wrap=True)
        table(title, head, rows)
