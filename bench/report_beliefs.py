"""The report's belief-probe part: trajectories per mode, the most informative messages, the probe methods.

- **trajectories**: per backend and mode, the mean belief in the truth before each turn
  (the ``belief`` evaluator's ``belief_truth@<turn>`` metrics) with a 95% bootstrap band;
  these metrics are taken out of the means and gaps tables, which would otherwise get a
  row per turn.
- **informative messages**: the messages with the largest ΔBelief (log P_t(truth) −
  log P_{t−1}(truth) of the agent they were delivered to, :func:`privy.evaluators.belief.credits`).
- **methods**: how the probes were scored (``token_logprobs``, ``elicited_json``, a rule-based
  ``reference_rule``...) and how often, for the Simulation Card.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from pydantic import BaseModel

from privy.bench.stats import bootstrap_mean
from privy.bench.store import StoreReader
from privy.evaluators.belief import credits
from privy.simulator.episode import Episode

TRAJECTORY = re.compile(r"^belief\.belief_truth@(\d+)$")
TOP = 10


class BeliefPoint(BaseModel):
    backend: str
    mode: str
    turn: int
    n: int
    mean: float | None
    low: float | None
    high: float | None


class InformativeMessage(BaseModel):
    key: str
    mode: str
    message_id: int
    turn: int
    sender: str
    agent: str  # whose belief moved
    delta: float
    content: str


class Beliefs(BaseModel):
    trajectories: list[BeliefPoint] = []
    informative: list[InformativeMessage] = []
    methods: dict[str, int] = {}  # probe method -> probes scored with it
    settings: list[str] = []


def split_trajectories(values: dict[str, Any], n_resamples: int, seed: int) -> list[BeliefPoint]:
    """Take the ``belief_truth@<turn>`` metrics out of ``values`` (in place) as bootstrap means per turn."""
    points = []
    for name in [n for n in values if TRAJECTORY.match(n)]:
        turn = int(TRAJECTORY.match(name).group(1))  # type: ignore[union-attr]
        for (backend, mode), units in values.pop(name).items():
            e = bootstrap_mean(units.values(), n_resamples=n_resamples, seed=seed)
            points.append(BeliefPoint(backend=backend, mode=mode, turn=turn, n=e.n, mean=e.mean, low=e.low,
                                      high=e.high))
    return sorted(points, key=lambda p: (p.backend, p.mode, p.turn))


def read_beliefs(store: StoreReader, trajectories: list[BeliefPoint]) -> Beliefs:
    """The probed episodes' ΔBelief ranking and probe methods."""
    ranked: list[InformativeMessage] = []
    methods: Counter[str] = Counter()
    settings: set[str] = set()
    for row in store.probed_episodes():
        if row.episode_json is None:
            continue
        ep = Episode.model_validate_json(row.episode_json)
        methods.update(p.method or "failed" for p in ep.probes)
        if ep.probe_settings is not None:
            ps = ep.probe_settings
            settings.add(f"every {ps.every} turn(s) of each agent, {ps.facts} knowledge question(s) per other "
                         f"agent, {'with' if ps.final else 'no'} final probes")
        for c in credits(ep):
            m = ep.messages[c.message_id]
            ranked.append(InformativeMessage(key=row.key, mode=ep.mode.value, message_id=m.id, turn=m.turn,
                                             sender=m.sender, agent=c.agent, delta=c.delta, content=m.content[:300]))
        ranked = sorted(ranked, key=lambda x: -x.delta)[:TOP]
    return Beliefs(trajectories=trajectories, informative=ranked, methods=dict(methods.most_common()),
                   settings=sorted(settings))


def card_lines(b: Beliefs) -> list[str]:
    """The Simulation Card's "Belief probes" entry."""
    if not b.methods:
        return ["none (run with --probe-every K or a suite's probes)"]
    how = ", ".join(f"{m}: {n} probes" for m, n in b.methods.items())
    return [f"scored by {how}", *b.settings,
            "asked from the exact view of the writer of each turn, logged apart, never in any prompt"]


def informative_rows(b: Beliefs) -> tuple[list[str], list[list[str]]]:
    head = ["ΔBelief", "mode", "episode", "turn", "from", "belief of", "message"]
    return head, [[f"{x.delta:+.3f}", x.mode, x.key, str(x.turn), x.sender, x.agent, x.content]
                  for x in b.informative]


def plot_png(b: Beliefs, png: Any, tex: Any) -> list[tuple[str, str]]:
    """One figure: mean belief in the truth per turn, a line per (backend, mode) with its 95% band."""
    if not b.trajectories:
        return []
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3.6), layout="constrained")
    ax = fig.subplots()
    groups = dict.fromkeys((p.backend, p.mode) for p in b.trajectories)
    several = len({g[0] for g in groups}) > 1
    for backend, mode in groups:
        pts = [p for p in b.trajectories if (p.backend, p.mode) == (backend, mode) and p.mean is not None]
        turns = [p.turn for p in pts]
        means = [p.mean or 0.0 for p in pts]
        lows = [p.low if p.low is not None else m for p, m in zip(pts, means, strict=True)]
        highs = [p.high if p.high is not None else m for p, m in zip(pts, means, strict=True)]
        ax.plot(turns, means, marker="o", label=tex(f"{mode} ({backend})" if several else mode))
        ax.fill_between(turns, lows, highs, alpha=0.2)
    ax.set_xlabel("turn (probed before it; final probes, if asked, at the episode's turn count)")
    ax.set_ylabel("P(truth)")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    return [("Belief in the truth per turn, mean per mode with 95% bootstrap band", png(fig))]
