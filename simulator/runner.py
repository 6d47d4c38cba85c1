"""Run one episode: a scenario, a mode, a backend, a seed -> an :class:`Episode`.

The loop is PettingZoo's own (``agent_iter``/``last``/``step``); the writer of each
turn depends on the mode. A failed model call is recorded and ends the episode
cleanly (``ended_by="error"``); it never loses the messages already exchanged.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from privy.simulator.backends.base import Backend, ChatRequest, Completion
from privy.simulator.backends.errors import Attempt, BackendError, EpisodeStopped
from privy.simulator.bus import Message
from privy.simulator.env import PrivyEnv
from privy.simulator.episode import EPISODE_FORMAT, Episode, ModelCall, Timings
from privy.simulator.hypotheses import hypotheses_for
from privy.simulator.modes import (
    Mode,
    Script,
    clean_turn,
    next_seed,
    request_for,
    runnable,
    script_request,
    seat_view,
    turn_moves,
)
from privy.simulator.moves import EMPTY, parse_move
from privy.simulator.probes import Probe, ProbeSettings, many_scorer_of, probe_agent, scorer_of
from privy.simulator.prompts import AgentPrompts
from privy.simulator.scenario import Scenario
from privy.simulator.seat import SeatListener
from privy.simulator.task import EndReason
from privy.simulator.trusted import constructor, trusted


def sanitize(text: str, max_tokens: int) -> tuple[str, list[str]]:
    """Make model output safe to log and play: valid Unicode, bounded length.

    Returns the cleaned text and a note for each thing that was wrong with it.
    """
    notes = []
    clean = text.encode("utf-8", "replace").decode("utf-8")
    if clean != text:
        notes.append("output had invalid Unicode (lone surrogates); replaced with '?'")
    if "\ufffd" in clean:
        notes.append("output has U+FFFD replacement characters: the server sent bytes that were not UTF-8")
    limit = max(400, max_tokens * 16)
    if len(clean) > limit:
        notes.append(f"output of {len(clean)} characters is far longer than max_tokens={max_tokens}; "
                     f"cut to {limit}")
        clean = clean[:limit]
    if not clean.strip():
        notes.append("empty output")
    return clean, notes


_model_call = constructor(ModelCall)


class _Calls:
    """Sends requests and keeps the exact record of each call."""

    def __init__(self) -> None:
        self.log: list[ModelCall] = []
        self.model_s = 0.0
        self.stopped: EndReason | None = None  # a writer stopped the episode (a human seat's Ctrl-C or leave)

    async def send(self, backend: Backend, req: ChatRequest, turn: int) -> str | None:
        """The (sanitised) completion text, or None if the call failed for good."""
        t0 = time.perf_counter()
        out: Completion | None = None
        error: str | None = None
        attempts: list[Attempt] = []
        try:
            got = await backend.complete(req)
            # a plugin's look-alike has its fields checked here; a bad one is a failed call
            out = got if isinstance(got, Completion) else Completion.model_validate(got, from_attributes=True)
        except BackendError as err:  # recorded in the log; the episode ends cleanly
            error, attempts = str(err), err.attempts
            if isinstance(err, EpisodeStopped):
                self.stopped = err.reason
        except Exception as err:  # a backend bug must not lose the episode either
            error = f"{type(err).__name__}: {err}"
        latency = time.perf_counter() - t0
        self.model_s += latency
        text, notes = sanitize(out.text, req.max_tokens) if out else (None, [])
        # trusted: the request is privy's and the completion was validated by its constructor;
        # validating would check every line of the prompt again, on every call
        self.log.append(_model_call(
            index=len(self.log), speaker=req.speaker, turn=turn, seed=req.seed,
            max_tokens=req.max_tokens, temperature=req.temperature, input=list(req.messages),
            output=text, prompt_tokens=out.prompt_tokens if out else None,
            completion_tokens=out.completion_tokens if out else None, latency_s=latency, error=error,
            attempts=list(out.attempts) if out else attempts, cached=out.cached if out else False, notes=notes,
        ))
        return text


async def run_episode(
    scenario: Scenario,
    mode: Mode | str,
    backend: Backend,
    seed: int = 0,
    *,
    agent_backends: Mapping[str, Backend] | None = None,
    scenario_path: str | None = None,
    on_message: Callable[[Message], None] | None = None,
    probes: ProbeSettings | None = None,
    listeners: Mapping[str, SeatListener] | None = None,
) -> Episode:
    """Run ``scenario`` once in ``mode``.

    Args:
        backend: writes every turn, unless ``agent_backends`` names one for an agent
            (only in the per-agent modes ``agents`` and ``mindreaders``).
        seed: seeds the environment and every model call (through one ``Random``).
        on_message: called with each message as it is delivered (for live printing).
        probes: ask belief probes (see :mod:`privy.simulator.probes`): each speaker before every
            ``probes.every``-th turn of its own, from the request that wrote its turn, and (``probes.final``)
            every agent at the end. They go to ``Episode.probes`` and never into a prompt; backends without
            ``score_options`` are not probed. None (the default): no probes.
        listeners: agent id -> a :class:`~privy.simulator.seat.SeatListener` told of that agent's
            view at the start, of each message delivered to it as it is delivered, and of each
            other agent's turn being written (a person's screen; ``agents`` and ``mindreaders``
            modes only). It changes nothing in the episode.

    Raises:
        NotRunnableError: ``mode`` is ``human`` (an imported transcript, never run).
        ValueError: ``listeners`` in a mode without per-agent seats, or for an agent not in the scenario.
    """
    mode = runnable(mode)
    rng = random.Random(seed)
    env = PrivyEnv(scenario)
    env.reset(seed=seed)
    seats = _seats(env, mode, listeners or {})
    calls = _Calls()
    started, t0 = datetime.now(UTC), time.perf_counter()
    names = {a.id: a.name for a in scenario.agents}
    script: Script | None = None
    prompts = AgentPrompts()
    prober = _Prober(scenario, mode, probes, backend, agent_backends) if probes is not None else None
    if mode is Mode.SCRIPT:
        text = await calls.send(backend, script_request(env, next_seed(rng)), 0)
        script = Script.parse(text, names) if text is not None else None
        if script is None:
            env.truncate("error")

    for agent in env.agent_iter():
        _, _, terminated, truncated, _ = env.last(observe=False)
        if terminated or truncated:
            env.step(None)
            continue
        moves = turn_moves(env, mode, agent)
        if script is not None:
            text = script.next_for(agent)
            if text is None:
                env.truncate("script_exhausted")
                continue
            if prober is not None and prober.due(agent):
                await prober.probe(env, agent, prompts, final=False)
            utterance, notes = parse_move(text, moves, names)
            calls.log[0].notes.extend(f"turn {env.turn} ({names[agent]}): {n}" for n in notes)
        else:
            # one controller for everyone in omniscient mode; per-agent backends otherwise
            per_agent = agent_backends if mode is not Mode.OMNISCIENT else None
            writer = (per_agent or {}).get(agent, backend)
            req = request_for(env, mode, agent, next_seed(rng), prompts, moves)
            for seat in seats:
                if seat.agent != agent:
                    seat.tell("writing", agent)
            text = await calls.send(writer, req, env.turn)
            if text is None:
                env.truncate(calls.stopped or "error")
                continue
            if prober is not None and prober.due(agent):
                await prober.ask(writer, req, env.turn, final=False)  # after the call: its prompt's KV is warm
            # every backend's text (a model's, a person's, a reference's) is read as a move here
            utterance, notes = parse_move(clean_turn(text, names[agent]), moves, names)
            log = calls.log[-1].notes
            log.extend(n for n in notes if not (n == EMPTY and "empty output" in log))
        env.step(utterance)
        if on_message:
            on_message(env.bus.messages[-1])

    if prober is not None and prober.settings.final:
        # the last speaker first: its turn's prompt is the longest prefix the backend may still hold
        last = env.bus.messages[-1].sender if env.bus.messages else None
        for agent in sorted(scenario.agent_ids, key=lambda a: a != last):
            await prober.probe(env, agent, prompts, final=True)
    settings = backend.settings()
    if agent_backends:
        settings = {**settings, "per_agent": {a: b.settings() for a, b in agent_backends.items()}}
    # trusted: Episode(...) would validate the whole scenario again (its cross-field checks)
    return trusted(
        Episode,
        format_version=EPISODE_FORMAT,
        id=uuid.uuid4().hex[:12],
        created_at=datetime.now(UTC),
        scenario=scenario,
        scenario_path=None if scenario_path is None else str(scenario_path),
        mode=mode,
        backend=settings,
        seed=int(seed),
        messages=list(env.bus.messages),
        calls=calls.log,
        outcome=env.outcome(),
        timings=Timings(started_at=started, wall_s=time.perf_counter() - t0, model_s=calls.model_s,
                        probe_s=prober.seconds if prober is not None else 0.0),
        probes=prober.log if prober is not None else [],
        probe_settings=probes,
    )


_log = logging.getLogger(__name__)


class _Seat:
    """One agent's listener, guarded: one that raises is logged and told nothing more (the episode goes on)."""

    def __init__(self, agent: str, listener: SeatListener) -> None:
        self.agent, self.listener, self.broken = agent, listener, False

    def tell(self, what: str, *args: object) -> None:
        if self.broken:
            return
        try:
            getattr(self.listener, what)(*args)
        except Exception:  # a screen's failure must not change or end the game
            self.broken = True
            _log.exception("the listener at %s's seat failed (%s); it is told nothing more", self.agent, what)

    def delivered(self, message: Message) -> None:
        self.tell("delivered", message)


def _seats(env: PrivyEnv, mode: Mode, listeners: Mapping[str, SeatListener]) -> list[_Seat]:
    """``listeners`` guarded, seated with their agents' views and listening on the bus for their agents."""
    unknown = sorted(set(listeners) - set(env.scenario.agent_ids))
    if unknown:
        raise ValueError(f"listeners for {unknown}: not agents of scenario {env.scenario.id!r} "
                         f"({env.scenario.agent_ids})")
    seats = [_Seat(a, listener) for a, listener in listeners.items()]
    for seat in seats:
        view = seat_view(env, mode, seat.agent)  # raises ValueError in omniscient and script modes
        seat.tell("seated", view)
        env.bus.listen(seat.agent, seat.delivered)
    return seats


class _Prober:
    """An episode's probes: which backend scores each agent, and the log."""

    def __init__(self, scenario: Scenario, mode: Mode, settings: ProbeSettings, backend: Backend,
                 agent_backends: Mapping[str, Backend] | None) -> None:
        self.scenario, self.mode, self.settings = scenario, mode, settings
        self.backend = backend
        self.per_agent = agent_backends if mode in (Mode.AGENTS, Mode.MINDREADERS) else None
        self.hyps = {a: hypotheses_for(scenario, a) for a in scenario.agent_ids}
        self.log: list[Probe] = []
        self.seconds = 0.0
        self._turns: dict[str, int] = {}

    def due(self, agent: str) -> bool:
        """Whether ``agent``'s turn now is one to probe before: its 1st, ``every``+1-th, ... (called once a turn).

        Counted per agent, so that every agent that speaks is probed whatever ``every`` and the
        number of agents (a global count would probe only one of two agents in turn with every=2).
        """
        n = self._turns.get(agent, 0)
        self._turns[agent] = n + 1
        return n % self.settings.every == 0

    async def ask(self, writer: Backend, req: ChatRequest, turn: int, final: bool) -> None:
        score = scorer_of(writer)
        if score is None or req.speaker is None:
            return
        t0 = time.perf_counter()
        self.log += await probe_agent(score, req, self.scenario, self.hyps[req.speaker], self.settings,
                                      turn=turn, final=final, many=many_scorer_of(writer))
        self.seconds += time.perf_counter() - t0

    async def probe(self, env: PrivyEnv, agent: str, prompts: AgentPrompts, final: bool) -> None:
        """Probe ``agent`` from the request its next turn would get (script mode: the controller's, as it)."""
        mode = Mode.OMNISCIENT if self.mode is Mode.SCRIPT else self.mode
        writer = (self.per_agent or {}).get(agent, self.backend)
        await self.ask(writer, request_for(env, mode, agent, 0, prompts, turn_moves(env, mode, agent)), env.turn,
                       final)
