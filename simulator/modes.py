"""The four modes privy runs, and ``human``: who writes each turn and what the writer is allowed to see.

| mode          | writer                        | input                         |
|---------------|-------------------------------|-------------------------------|
| agents        | one backend per agent         | ``env.observe(agent)`` only   |
| mindreaders   | one backend per agent         | ``env.state()``, own role     |
| omniscient    | one controller, every turn    | ``env.state()``               |
| script        | one generation, played back   | ``env.state()`` at the start  |
| human         | no model: imported            | what the humans saw           |

human: an imported transcript; no model wrote it, privy only replays its messages
(``privy import``, :mod:`privy.simulator.transcript`). It is never run: the runner and
suites refuse it.

A writer returns the request to send; the runner sends it, logs it, and steps the
environment with the text. In ``agents`` mode the request is built from the
Observation alone: the environment object never reaches the prompt builder.
"""

from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass, field
from enum import StrEnum

from privy.simulator.backends.base import ChatRequest
from privy.simulator.env import PrivyEnv
from privy.simulator.moves import Moves, grammar, observed_moves, script_grammar, state_moves
from privy.simulator.prompts import (
    AgentPrompts,
    agent_prompt,
    mindreader_prompt,
    omniscient_prompt,
    script_prompt,
    script_turns,
)
from privy.simulator.trusted import constructor
from privy.simulator.views import Mindreading, Observation, State, mindread


class Mode(StrEnum):
    """Who writes each turn and what the writer sees (see DESIGN.md).

    human: an imported transcript; no model wrote it, privy only replays its messages.
    """

    AGENTS = "agents"
    MINDREADERS = "mindreaders"
    OMNISCIENT = "omniscient"
    SCRIPT = "script"
    HUMAN = "human"


RUNNABLE: tuple[Mode, ...] = tuple(m for m in Mode if m is not Mode.HUMAN)
"""The modes privy can run (every mode but ``human``)."""


class NotRunnableError(ValueError):
    """A mode privy cannot run: ``human`` episodes only come from imported transcripts."""


def runnable(mode: Mode | str) -> Mode:
    """``mode`` as a :class:`Mode`, if privy can run it.

    Raises:
        ValueError: not a mode; NotRunnableError: ``human`` (an import, not a run).
    """
    m = Mode(mode)
    if m is Mode.HUMAN:
        raise NotRunnableError("mode 'human' is an imported transcript that privy only replays; it cannot be run "
                               f"(import one with `privy import`); expected one of {[r.value for r in RUNNABLE]}")
    return m


_request = constructor(ChatRequest)


def turn_moves(env: PrivyEnv, mode: Mode, agent: str) -> Moves:
    """``agent``'s legal moves now, from what ``mode``'s writer sees (its Observation in ``agents`` mode)."""
    if mode is Mode.AGENTS:
        return observed_moves(env.observe(agent), env.scenario.limits.max_tokens)
    return state_moves(env.state(), agent)


SEATED: tuple[Mode, ...] = (Mode.AGENTS, Mode.MINDREADERS)
"""The modes with a writer per agent, each shown that agent's own view: where a seat can be played or listened to."""


def seat_view(env: PrivyEnv, mode: Mode, agent: str) -> Observation | Mindreading:
    """What ``agent``'s writer sees now in ``mode``, as the prompt builder gets it: its Observation
    (``agents``) or :func:`~privy.simulator.views.mindread` of the state (``mindreaders``).

    Raises:
        ValueError: a mode without a per-agent writer (``omniscient``, ``script``).
    """
    if mode is Mode.AGENTS:
        return env.observe(agent)
    if mode is Mode.MINDREADERS:
        return mindread(env.state(), agent)
    raise ValueError(f"mode {mode.value!r} has no per-agent seat: one controller writes every agent's turn; "
                     f"seats exist in {[m.value for m in SEATED]}")


def request_for(env: PrivyEnv, mode: Mode, agent: str, seed: int,
                prompts: AgentPrompts | None = None, moves: Moves | None = None) -> ChatRequest:
    """The request that writes ``agent``'s next turn in ``mode`` (not ``script``).

    ``prompts``: an episode's :class:`AgentPrompts`, which builds each agent's prompt by
    extending its previous one (the same text as ``agent_prompt``, in linear time).
    ``moves``: the agent's legal moves now (default: :func:`turn_moves`); the prompt states
    them and the request carries them as a grammar.
    """
    limits = env.scenario.limits
    stop = env.stop_lines[agent]
    view: Observation | State
    if mode is Mode.AGENTS:
        view = env.observe(agent)
        moves = moves or observed_moves(view, limits.max_tokens)
        messages = prompts(view, moves) if prompts else tuple(agent_prompt(view, moves))
    else:
        view = env.state()
        moves = moves or state_moves(view, agent)
        build = mindreader_prompt if mode is Mode.MINDREADERS else omniscient_prompt
        messages = tuple(build(view, agent, moves))
    # trusted: privy built every part (a tuple of ChatMessages, the scenario's limits)
    return _request(messages=messages, max_tokens=limits.max_tokens, seed=seed, stop=stop, speaker=agent, view=view,
                    mode=mode.value, grammar=grammar(moves))


def next_seed(rng: random.Random) -> int:
    """The next model call's seed: exactly ``rng.randrange(2**31)`` as CPython 3.11 draws it.

    Half the cost of ``randrange``, which checks its arguments on every call; and the
    seeds an episode's calls get stay the same whatever a later Python does to ``randrange``.
    """
    r = rng.getrandbits(32)
    while r >= 1 << 31:
        r = rng.getrandbits(32)
    return r


def script_request(env: PrivyEnv, seed: int) -> ChatRequest:
    """The single request of ``script`` mode: ``Name: move`` lines in turn order, as a grammar too."""
    limits = env.scenario.limits
    budget = limits.max_tokens * limits.max_turns
    state = env.state()
    # half a turn's tokens per line: the lines must all fit in the one generation
    turns = script_turns(state, max_tokens=max(16, min(limits.max_tokens, 2048 // limits.max_turns) // 2))
    return ChatRequest(
        messages=tuple(script_prompt(state, turns)), view=state, mode=Mode.SCRIPT.value, seed=seed,
        max_tokens=min(budget, 2048), grammar=script_grammar(turns),
    )


def clean_turn(text: str, speaker_name: str) -> str:
    """Drop a leading ``Name:`` label a model may write before its own message."""
    text = text.strip()
    if ":" not in text:  # no label to drop: skip the regex
        return text
    return _label(speaker_name).sub("", text, count=1)


@functools.lru_cache(maxsize=1024)
def _label(speaker_name: str) -> re.Pattern[str]:
    return re.compile(rf"^\**{re.escape(speaker_name)}\**\s*:\s*", flags=re.IGNORECASE)


@dataclass
class Script:
    """A whole dialogue split into each speaker's lines, consumed in order."""

    lines: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str, names: dict[str, str]) -> Script:
        """Split ``Name: text`` lines; unlabelled lines continue the previous speaker."""
        by_name = {n.casefold(): a for a, n in names.items()}
        label = re.compile(r"^\s*\**([^:*\n]{1,40}?)\**\s*:\s*(.*)$")
        lines: dict[str, list[str]] = {a: [] for a in names}
        current: str | None = None
        for raw in text.splitlines():
            m = label.match(raw)
            if m and m.group(1).strip().casefold() in by_name:
                current = by_name[m.group(1).strip().casefold()]
                lines[current].append(m.group(2).strip())
            elif current is not None and raw.strip() and lines[current]:
                lines[current][-1] += "\n" + raw.strip()
        return cls(lines)

    def next_for(self, agent: str) -> str | None:
        queue = self.lines.get(agent) or []
        return queue.pop(0) if queue else None
