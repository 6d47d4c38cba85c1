"""task_success: the committed decision against the scenario's ground truth.

Worked out from the messages and the scenario alone, never from the episode's stored
``outcome`` (which an imported or edited file may get wrong): each message's commitments
are parsed again by the scenario's rule (:meth:`Commitment.values`), each committer's
last one counts, and :func:`privy.simulator.task.outcome` judges them. The episode was
decided at the first message after which the committers had committed as the task's
``ends_when`` asks (``turns`` = that message's position + 1).
"""

from __future__ import annotations

from privy.evaluators.base import Finding, Score
from privy.simulator.bus import Message
from privy.simulator.episode import Episode
from privy.simulator.task import Outcome, agreed, normalize, outcome


def recomputed_outcome(episode: Episode) -> Outcome:
    """The outcome the messages give under the scenario's task rules (``ended_by`` is
    ``committed`` or, when the committers never all committed, ``transcript_end``)."""
    task = episode.scenario.task
    committers = task.committers or episode.scenario.agent_ids
    values: dict[str, str] = {}
    decided_at: int | None = None
    for i, m in enumerate(episode.messages):
        committed = task.commitment.values(m.content)
        if committed and m.sender in committers:
            values[m.sender] = committed[-1]
        if decided_at is None and values:
            done = set(values) == set(committers) if task.ends_when == "all_committed" else True
            if done:
                decided_at = i + 1
    turns = decided_at if decided_at is not None else len(episode.messages)
    return outcome(task, committers, values, "committed" if decided_at is not None else "transcript_end", turns)


def _last_commitment(episode: Episode, agent: str) -> int | None:
    verbs = episode.scenario.task.commitment
    last: Message | None = next((m for m in reversed(episode.messages)
                                 if m.sender == agent and verbs.values(m.content)), None)
    return last.id if last is not None else None


class TaskSuccess:
    """1.0 when the episode's outcome is a success; also whether the agents agreed.

    Metrics: ``success``, ``agreed`` (every agent committed to the same value),
    ``committed`` and ``correct`` (shares of agents that committed / committed to the
    answer).
    """

    name = "task_success"

    async def evaluate(self, episode: Episode) -> Score:
        s, o = episode.scenario, recomputed_outcome(episode)
        if s.task.kind == "deal":
            return self._deal(episode, o)
        answer = normalize(s.task.answer or "")
        agents = s.task.committers or s.agent_ids
        values = o.commitments
        findings = []
        for agent, value in values.items():
            msg = _last_commitment(episode, agent)
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

    def _deal(self, episode: Episode, o: Outcome) -> Score:
        """A deal: valid or not, each side's points, Pareto optimality; no deal scores zero."""
        d = o.deal
        metrics: dict[str, float | None] = {
            "success": float(o.success),
            "valid": float(d.valid) if d else 0.0,
            "pareto_optimal": float(d.pareto_optimal) if d else 0.0,
        }
        findings = []
        if d is not None:
            for agent, points in d.points.items():
                metrics[f"points.{agent}"] = float(points)
            for agent in (a for a in episode.scenario.agent_ids if a in d.allocations):  # the file's order
                take = d.allocations[agent]
                msg = _last_commitment(episode, agent)
                findings.append(Finding(kind="commitment", message_id=msg, agent=agent,
                                        reason=f"takes {take}; worth {d.points.get(agent, 0)} to {agent}"))
        return Score(evaluator=self.name, value=1.0 if o.success else 0.0,
                     metrics=metrics, findings=findings)
