"""task_success: the committed decision against the scenario's ground truth."""

from __future__ import annotations

from privy.evaluators.base import Finding, Score
from privy.simulator.episode import Episode
from privy.simulator.task import agreed, normalize


class TaskSuccess:
    """1.0 when the episode's outcome is a success; also whether the agents agreed.

    Metrics: ``success``, ``agreed`` (every agent committed to the same value),
    ``committed`` and ``correct`` (shares of agents that committed / committed to the
    answer).
    """

    name = "task_success"

    async def evaluate(self, episode: Episode) -> Score:
        s, o = episode.scenario, episode.outcome
        if s.task.kind == "deal":
            return self._deal(episode)
        answer = normalize(s.task.answer or "")
        agents = s.task.committers or s.agent_ids
        values = o.commitments
        findings = []
        for agent, value in values.items():
            msg = next((m.id for m in reversed(episode.messages) if m.sender == agent and m.actions), None)
            right = normalize(value) == answer
            findings.append(Finding(
                kind="commitment", message_id=msg, agent=agent,
                reason=f"committed to {value!r}; the answer is {s.task.answer!r}: {'right' if right else 'wrong'}",
            ))
        correct = sum(normalize(v) == answer for v in values.values())
        return Score(
            evaluator=self.name,
            value=1.0 if o.success else 0.0,
            metrics={
                "success": float(o.success),
                "agreed": float(agreed(values, agents)),
                "committed": len(values) / len(agents),
                "correct": correct / len(agents),
            },
            findings=findings,
        )

    def _deal(self, episode: Episode) -> Score:
        """A deal: valid or not, each side's points, Pareto optimality; no deal scores zero."""
        d = episode.outcome.deal
        metrics: dict[str, float | None] = {
            "success": float(episode.outcome.success),
            "valid": float(d.valid) if d else 0.0,
            "pareto_optimal": float(d.pareto_optimal) if d else 0.0,
        }
        findings = []
        if d is not None:
            for agent, points in d.points.items():
                metrics[f"points.{agent}"] = float(points)
            for agent in (a for a in episode.scenario.agent_ids if a in d.allocations):  # the file's order
                take = d.allocations[agent]
                msg = next((m.id for m in reversed(episode.messages) if m.sender == agent and m.actions), None)
                findings.append(Finding(kind="commitment", message_id=msg, agent=agent,
                                        reason=f"takes {take}; worth {d.points.get(agent, 0)} to {agent}"))
        return Score(evaluator=self.name, value=1.0 if episode.outcome.success else 0.0,
                     metrics=metrics, findings=findings)
