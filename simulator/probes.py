"""Belief probes: what an agent's model believes, asked from exactly the view it had, and logged apart.

A probe is the request that wrote the agent's turn (its prompt in ``agents`` mode, the
controller's prompt "as" that agent in ``mindreaders``/``omniscient``), plus one fixed
probe question; the backend scores each hypothesis as the reply
(:meth:`score_options`, an optional backend method, found through wrappers by
:func:`scorer_of`; a backend that also has ``score_options_many`` gets all the questions
of one probe at once, which the embedded model scores in one batch). The probe's request
is a new object: nothing is appended to any agent's context, and probes are kept in
``Episode.probes``, never in ``calls``.

Two kinds of question per probe:

- **belief**: the task's hypotheses (:mod:`privy.simulator.hypotheses`), all scored and
  normalised to log-probabilities;
- **knowledge** (FANToM-style attribution, Kim et al. 2023; with ``facts`` > 0): "Does
  <other> know this: <fact>?" for facts the probed agent holds, scored ``yes``/``no``; the
  truth comes later, from the evaluators' fact ledger.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from privy.simulator.backends.base import ChatMessage, ChatRequest
from privy.simulator.hypotheses import Hypotheses
from privy.simulator.scenario import Scenario

ProbeKind = Literal["belief", "knowledge"]
YES_NO = ("yes", "no")


class ProbeSettings(BaseModel):
    """When to probe: each agent before every ``every``-th turn of its own (the first included), and, with
    ``final``, every agent at the end. The default (belief only, no final probes) is the one within
    issue 17's cost budget."""

    every: int = Field(ge=1, description="Probe each agent before its 1st, k+1-th, 2k+1-th, ... turn.")
    facts: int = Field(default=0, ge=0, description="Knowledge questions per other agent at each probe (about the "
                                                    "probed agent's own facts; 0: belief only, the cheaper probe).")
    final: bool = Field(default=False, description="Also probe every agent after the last message (on the "
                                                   "embedded model each resumes from the agent's last prompt, "
                                                   "saved, and evaluates what came after it: the costlier part).")


class OptionScores(BaseModel):
    """A backend's answer to :meth:`score_options`: one normalised log-probability per option."""

    logprobs: list[float]
    method: str = Field(description="How they were obtained, e.g. 'token_logprobs', 'elicited_json', 'reference'.")
    prompt_tokens: int | None = None
    evaluated_tokens: int | None = Field(default=None, description="Tokens the model actually evaluated.")


class Probe(BaseModel):
    """One probe question asked of one agent, and the backend's scores."""

    turn: int = Field(description="Asked before this turn (the episode's turn count for the final probes).")
    agent: str = Field(description="Whose view the probe was asked from.")
    kind: ProbeKind
    question: str
    hypotheses: list[str]
    truth: int | None = Field(default=None, description="Index of the true hypothesis (belief probes).")
    about: str | None = Field(default=None, description="Knowledge probes: the agent asked about.")
    fact_id: str | None = Field(default=None, description="Knowledge probes: the fact asked about.")
    logprobs: list[float] | None = Field(description="Normalised log-probabilities; None if scoring failed.")
    method: str | None = None
    final: bool = Field(default=False, description="Asked after the last message.")
    prompt_tokens: int | None = None
    evaluated_tokens: int | None = None
    latency_s: float
    error: str | None = None


class Scorer(Protocol):
    async def __call__(self, request: ChatRequest, options: Sequence[str]) -> OptionScores: ...


class ManyScorer(Protocol):
    async def __call__(self, requests: Sequence[ChatRequest],
                       options: Sequence[Sequence[str]]) -> list[OptionScores]: ...


def _scoring(backend: Any) -> Any:
    """The backend (``backend`` or one it wraps: retry, cache, limit) that has ``score_options``; None if none has."""
    b = backend
    for _ in range(16):
        if b is None or getattr(b, "score_options", None) is not None:
            return b
        b = getattr(b, "inner", None)
    return None


def scorer_of(backend: Any) -> Scorer | None:
    """``backend.score_options``, or that of the backend it wraps (retry, cache, limit); None if none has it."""
    b = _scoring(backend)
    return b.score_options if b is not None else None  # type: ignore[no-any-return]


def many_scorer_of(backend: Any) -> ManyScorer | None:
    """The same backend's ``score_options_many`` (several questions scored together), if it has one."""
    return getattr(_scoring(backend), "score_options_many", None)


def probe_line(question: str, options: Sequence[str]) -> ChatMessage:
    """The fixed probe question, as the last user line of the probe's request."""
    listed = "; ".join(options)
    return ChatMessage(role="user", content=(
        f"(A quick check, not part of the conversation. {question} Reply with exactly one of: {listed})"))


def probe_request(request: ChatRequest, question: str, options: Sequence[str]) -> ChatRequest:
    """A new request: ``request``'s messages and view, plus the probe question (``request`` is unchanged)."""
    return ChatRequest(messages=(*request.messages, probe_line(question, options)), max_tokens=16,
                       temperature=0.0, seed=0, speaker=request.speaker, view=request.view)


def normalise(scores: Sequence[float]) -> list[float]:
    """Log-probabilities ``scores`` renormalised over the options (log-sum-exp)."""
    top = max(scores)
    if top == -math.inf:
        return [-math.log(len(scores))] * len(scores)
    z = top + math.log(sum(math.exp(s - top) for s in scores))
    return [s - z for s in scores]


def knowledge_questions(scenario: Scenario, agent: str, n: int) -> list[tuple[str, str, str]]:
    """Up to ``n`` (other agent, fact id, question) of ``agent``'s own checkable facts, for each other agent."""
    if n <= 0:
        return []
    names = {a.id: a.name for a in scenario.agents}
    own = [f for f in scenario.facts_of(agent) if f.mentions][:n]
    return [(other, f.id, f"{names[agent]}, does {names[other]} know this: \"{f.text}\"?")
            for other in scenario.agent_ids if other != agent for f in own]


class _Question(BaseModel):
    """A probe to ask: the :class:`Probe` fields known before scoring."""

    kind: ProbeKind
    question: str
    options: list[str]
    truth: int | None = None
    about: str | None = None
    fact_id: str | None = None


def _checked(got: Any, options: Sequence[str]) -> OptionScores:
    out = got if isinstance(got, OptionScores) else OptionScores.model_validate(got, from_attributes=True)
    if len(out.logprobs) != len(options):
        raise ValueError(f"{len(out.logprobs)} scores for {len(options)} options")
    return out


def _probe(q: _Question, out: OptionScores | None, error: str | None, *, turn: int, agent: str, final: bool,
           latency_s: float) -> Probe:
    return Probe(turn=turn, agent=agent, kind=q.kind, question=q.question, hypotheses=q.options, truth=q.truth,
                 about=q.about, fact_id=q.fact_id, logprobs=normalise(out.logprobs) if out else None,
                 method=out.method if out else None, final=final,
                 prompt_tokens=out.prompt_tokens if out else None,
                 evaluated_tokens=out.evaluated_tokens if out else None, latency_s=latency_s, error=error)


def _error(err: Exception) -> str:
    return f"{type(err).__name__}: {err}"


async def ask(score: Scorer, request: ChatRequest, q: _Question, *, turn: int, agent: str,
              final: bool = False) -> Probe:
    """Score ``q``'s options after ``request`` + its question; a failure is recorded, never raised."""
    t0 = time.perf_counter()
    out: OptionScores | None = None
    error = None
    try:
        out = _checked(await score(probe_request(request, q.question, q.options), list(q.options)), q.options)
    except Exception as err:  # a probe never ends an episode
        error = _error(err)
    return _probe(q, out, error, turn=turn, agent=agent, final=final, latency_s=time.perf_counter() - t0)


async def ask_many(many: ManyScorer, request: ChatRequest, questions: Sequence[_Question], *, turn: int,
                   agent: str, final: bool = False) -> list[Probe]:
    """Every question of ``questions`` scored in one call; each probe's latency is an equal share of its time."""
    t0 = time.perf_counter()
    outs: list[OptionScores | None] = [None] * len(questions)
    errors: list[str | None] = [None] * len(questions)
    try:
        got = await many([probe_request(request, q.question, q.options) for q in questions],
                         [q.options for q in questions])
        if len(got) != len(questions):
            raise ValueError(f"{len(got)} answers for {len(questions)} questions")
        for i, (g, q) in enumerate(zip(got, questions, strict=True)):
            try:
                outs[i] = _checked(g, q.options)
            except Exception as err:
                errors[i] = _error(err)
    except Exception as err:  # a probe never ends an episode
        errors = [_error(err)] * len(questions)
    share = (time.perf_counter() - t0) / max(1, len(questions))
    return [_probe(q, out, error, turn=turn, agent=agent, final=final, latency_s=share)
            for q, out, error in zip(questions, outs, errors, strict=True)]


async def probe_agent(score: Scorer, request: ChatRequest, scenario: Scenario, hyps: Hypotheses | None,
                      settings: ProbeSettings, *, turn: int, final: bool = False,
                      many: ManyScorer | None = None) -> list[Probe]:
    """Every probe of one agent from the view ``request`` was built from (all in one call with ``many``)."""
    agent = request.speaker
    assert agent is not None
    questions = []
    if hyps is not None:
        questions.append(_Question(kind="belief", question=hyps.question, options=list(hyps.options),
                                   truth=hyps.truth))
    questions += [_Question(kind="knowledge", question=question, options=list(YES_NO), about=other,
                            fact_id=fact_id)
                  for other, fact_id, question in knowledge_questions(scenario, agent, settings.facts)]
    if many is not None and questions:
        return await ask_many(many, request, questions, turn=turn, agent=agent, final=final)
    return [await ask(score, request, q, turn=turn, agent=agent, final=final) for q in questions]
