"""Belief metrics from an episode's probes (:mod:`privy.simulator.probes`): the graded, per-turn signal.

- **belief in the truth** per probe: P_t(truth), from the agent's normalised log-probabilities;
- **ΔBelief** per delivered message: log P_t(truth) − log P_{t'}(truth) between two
  consecutive probes of the same agent (t' < t), credited to the message(s) delivered to it
  in between (sent by another agent, turn in [t', t)); several such messages share it
  equally (ΔBelief-RL's dense reward on Twenty Questions);
- **information gain** per pair of consecutive probes: H_{t'} − H_t (entropy drop, nats);
- **final Brier score**: Σ_k (p_k − y_k)² of each agent's last probe, averaged over agents;
- **knowledge attribution** (FANToM, Kim et al. 2023): "Does <other> know <fact>?" scored
  against the fact ledger (:mod:`privy.evaluators.ledger`): the other agent knew the fact
  before that turn if it held it, or a fact with the same text, or a message delivered to it
  mentioned it. Accuracy (P(yes) > 0.5 matches) and Brier score.

The headline value is the mean P(truth) at the agents' last probes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from privy.evaluators.base import Finding, Score
from privy.evaluators.ledger import Ledger
from privy.simulator.episode import Episode
from privy.simulator.probes import Probe


@dataclass(frozen=True)
class Credit:
    """ΔBelief credited to one message (its share of the change between two probes of ``agent``)."""

    message_id: int
    agent: str
    delta: float
    before: float  # log P(truth) at the earlier probe
    after: float  # ... and at the later one
    shared_by: int  # messages that arrived between the two probes


def belief_probes(episode: Episode) -> dict[str, list[Probe]]:
    """Each agent's scored belief probes with a truth, in order (the final ones last)."""
    out: dict[str, list[Probe]] = defaultdict(list)
    for p in episode.probes:
        if p.kind == "belief" and p.logprobs is not None and p.truth is not None:
            out[p.agent].append(p)
    for probes in out.values():
        probes.sort(key=lambda p: (p.turn, p.final))
    return dict(out)


def truth_logprob(p: Probe) -> float:
    assert p.logprobs is not None and p.truth is not None
    return p.logprobs[p.truth]


def entropy(logprobs: list[float]) -> float:
    return -math.fsum(math.exp(x) * x for x in logprobs if x > -math.inf)


def brier(p: Probe) -> float:
    assert p.logprobs is not None
    return math.fsum((math.exp(x) - (1.0 if k == p.truth else 0.0)) ** 2 for k, x in enumerate(p.logprobs))


def credits(episode: Episode) -> list[Credit]:
    """ΔBelief of every message delivered between two consecutive probes of its recipient."""
    out = []
    for agent, probes in belief_probes(episode).items():
        for a, b in zip(probes, probes[1:], strict=False):
            arrived = [m for m in episode.messages
                       if a.turn <= m.turn < b.turn and m.sender != agent and agent in m.recipients]
            before, after = truth_logprob(a), truth_logprob(b)
            for m in arrived:
                out.append(Credit(m.id, agent, (after - before) / len(arrived), before, after, len(arrived)))
    return out


def trajectory(episode: Episode) -> dict[int, float]:
    """Mean P(truth) over the agents probed before each turn (final probes at the episode's turn count)."""
    by_turn: dict[int, list[float]] = defaultdict(list)
    for probes in belief_probes(episode).values():
        seen: dict[int, float] = {}
        for p in probes:  # a final probe at the same turn as a regular one replaces it
            seen[p.turn] = math.exp(truth_logprob(p))
        for t, v in seen.items():
            by_turn[t].append(v)
    return {t: math.fsum(v) / len(v) for t, v in sorted(by_turn.items())}


def knew_then(ledger: Ledger, episode: Episode, who: str, fact_id: str, turn: int) -> bool:
    """Did ``who`` know ``fact_id`` (or a fact of the same text) before ``turn``, by the ledger?"""
    i = next((m.id for m in episode.messages if m.turn >= turn), None)
    known = ledger.final[who] if i is None else ledger.knew[i][who]
    if fact_id in known:
        return True
    text = episode.scenario.fact(fact_id).text
    return any(episode.scenario.fact(k).text == text for k in known)


def _mean(xs: list[float]) -> float | None:
    return math.fsum(xs) / len(xs) if xs else None


class BeliefEvaluator:
    """Belief in the truth, ΔBelief, information gain, Brier score and knowledge attribution."""

    name = "belief"

    async def evaluate(self, episode: Episode) -> Score:
        per_agent = belief_probes(episode)
        knowledge = [p for p in episode.probes if p.kind == "knowledge" and p.logprobs is not None
                     and p.about is not None and p.fact_id is not None]
        if not per_agent and not knowledge:
            return Score(evaluator=self.name, value=None,
                         error="no scored belief probes in this episode (run it with --probe-every K)")
        first = [math.exp(truth_logprob(ps[0])) for ps in per_agent.values()]
        last = [math.exp(truth_logprob(ps[-1])) for ps in per_agent.values()]
        gains = [entropy(a.logprobs or []) - entropy(b.logprobs or [])
                 for ps in per_agent.values() for a, b in zip(ps, ps[1:], strict=False)]
        given = credits(episode)
        findings = [Finding(kind="delta_belief", message_id=c.message_id, agent=c.agent,
                            reason=f"ΔBelief {c.delta:+.3f} for {c.agent} (log P(truth) {c.before:.3f} -> "
                                   f"{c.after:.3f}" + (f", shared by {c.shared_by} messages)" if c.shared_by > 1
                                                       else ")"))
                    for c in given]
        ledger = Ledger.of(episode)
        hits, briers = [], []
        for p in knowledge:
            assert p.logprobs is not None and p.about is not None and p.fact_id is not None
            truth = knew_then(ledger, episode, p.about, p.fact_id, p.turn)
            yes = math.exp(p.logprobs[0])
            hits.append(1.0 if (yes > 0.5) == truth else 0.0)
            briers.append((yes - (1.0 if truth else 0.0)) ** 2)
            if (yes > 0.5) != truth:
                findings.append(Finding(kind="misattribution", agent=p.agent, fact_id=p.fact_id,
                                        reason=f"before turn {p.turn}, {p.agent} gave P(yes)={yes:.2f} that "
                                               f"{p.about} knew it; the ledger says {'yes' if truth else 'no'}"))
        methods = sorted({p.method for p in episode.probes if p.method})
        metrics: dict[str, float | None] = {
            "belief_truth_first": _mean(first),
            "belief_truth_final": _mean(last),
            "delta_belief_mean": _mean([c.delta for c in given]),
            "delta_belief_total": math.fsum(c.delta for c in given) if given else None,
            "info_gain_mean": _mean(gains),
            "brier_final": _mean([brier(ps[-1]) for ps in per_agent.values()]),
            "attribution_accuracy": _mean(hits),
            "attribution_brier": _mean(briers),
            "probes": float(len(episode.probes)),
        }
        for t, v in trajectory(episode).items():
            metrics[f"belief_truth@{t}"] = v
        return Score(evaluator=self.name, value=_mean(last), metrics=metrics, findings=findings,
                     error=None if methods else "no probe was scored")
