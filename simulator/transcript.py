"""An imported transcript as an episode of mode ``human`` (not the replay backend, which replays model calls).

No model writes anything and no model call is logged (``calls`` is empty). Each message
is sent as it was, in the transcript's own order (no round robin; its turn is its
index), through the scenario's message bus: the topology decides whom a sender may
address, and a message without recipients goes to all the sender's neighbours. Its
commitments are parsed by the environment's own rule (:meth:`PrivyEnv.parse_actions`),
and the outcome is worked out from them by the task rules (:func:`privy.simulator.task.outcome`),
never copied from the source. The episode keeps every message, including those after
the last commitment; it ended ``committed`` if the committers committed (as the task's
``ends_when`` says), else ``transcript_end``.

An imported episode records ``backend = {"backend": "human"}``, ``seed = 0``, timings
of zero seconds (the import's time as ``started_at``; message times, when the source
has them, are in ``source.times``) and its provenance in ``source``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from privy.simulator.env import PrivyEnv
from privy.simulator.episode import EPISODE_FORMAT, Episode, Source, Timings
from privy.simulator.modes import Mode
from privy.simulator.scenario import Scenario

HUMAN_BACKEND = {"backend": "human"}
"""The ``backend`` of every imported episode: no model wrote it."""


@dataclass(frozen=True)
class Line:
    """One message of a transcript: its sender's id, its text, its recipients (None: the sender's neighbours)."""

    sender: str
    text: str
    recipients: frozenset[str] | None = None
    time: str | None = None


def replay(scenario: Scenario, lines: Sequence[Line], source: Source, *,
           scenario_path: str | None = None) -> Episode:
    """The ``human`` episode of ``lines`` in ``scenario``.

    Raises:
        TopologyError: a sender addresses an agent it may not reach, or is not an agent.
    """
    env = PrivyEnv(scenario)
    for i, line in enumerate(lines):
        actions = env.parse_actions(line.text)
        env.bus.send(line.sender, line.text, i, line.recipients, actions)
        if actions:
            env.commitments[line.sender] = actions[-1]
    env.turn = len(lines)
    committers = set(scenario.task.committers or scenario.agent_ids)
    committed = committers & set(env.commitments)
    done = committed == committers if scenario.task.ends_when == "all_committed" else bool(committed)
    env.ended_by = "committed" if done else "transcript_end"
    now = datetime.now(UTC)
    digest = hashlib.sha256(f"{source.format}\0{source.file}\0{source.record}\0{scenario.id}".encode())
    if any(line.time is not None for line in lines):
        source = source.model_copy(update={"times": [line.time for line in lines]})
    return Episode(
        id=digest.hexdigest()[:12], created_at=now, scenario=scenario, scenario_path=scenario_path,
        mode=Mode.HUMAN, backend=dict(HUMAN_BACKEND), seed=0, messages=list(env.bus.messages), calls=[],
        outcome=env.outcome(), timings=Timings(started_at=now, wall_s=0.0, model_s=0.0), source=source,
        format_version=EPISODE_FORMAT,
    )
