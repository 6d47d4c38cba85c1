"""llm_judge: an LLM scores each agent on the SOTOPIA-EVAL dimensions (Zhou et al. 2024).

Dimensions and their integer ranges: believability 0..10, relationship -5..5,
knowledge 0..10, secret -10..0, social_rules -10..0, financial_and_material_benefits
-5..5, goal 0..10.

**Prompt.** One request per agent. The judge is omniscient: it is shown the scenario
context, every agent's persona, goal and private facts, the task's answer, and the whole
transcript (sender -> recipients), then asked to judge one named agent by filling a
compact template with every dimension, in order, reasoning first::

    {"believability": {"reasoning": "<why>", "score": <0..10>}, ..., "goal": {...}}

The placeholders are not valid JSON, so a model that only copies the template is
rejected rather than scored. No grammar is used (the llama backend has none); for an
OpenAI-compatible server build the backend with ``response_format=response_format()``.

**Validation.** The reply's first JSON value is taken from a ```json fence or from the
text (leading/trailing prose ignored). It must be an object (a single wrapper keyed by
the agent's id or name is unwrapped) holding every dimension, each exactly
``{"reasoning": non-empty text, "score": integer}`` with the score in its range.
Extra keys are **rejected**, at both levels: an unasked key is usually a misspelt or
invented dimension, i.e. the template was not followed. Scores must be JSON integers
(``7.0``, ``"7"``, ``true`` are rejected); nothing is ever clamped or coerced.

**Retries.** A rejected reply is retried with a new request (next seed, temperature
0.7 instead of 0) that shows the model its previous reply and what was wrong, up to
``max_attempts`` per agent. If an agent never gets a valid judgement the Score has
``value=None``, ``error`` names the agent and the last problem, and every raw reply is
a ``judge_rejected`` finding. A backend failure is reported the same way.

**Score.** ``metrics``: ``"<agent>.<dimension>"`` per agent, ``"<dimension>"`` the mean
over agents, ``"<agent>.attempts"`` the requests it took. ``value`` is the mean ``goal``
score (0..10). One finding per agent per dimension carries the judge's reasoning;
each rejected try before a valid one is a ``judge_retry`` finding with its raw reply.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from evaluators.base import Finding, Score
from simulator.backends.base import Backend, ChatMessage, ChatRequest
from simulator.backends.errors import BackendError
from simulator.episode import Episode

RANGES: dict[str, tuple[int, int]] = {
    "believability": (0, 10),
    "relationship": (-5, 5),
    "knowledge": (0, 10),
    "secret": (-10, 0),
    "social_rules": (-10, 0),
    "financial_and_material_benefits": (-5, 5),
    "goal": (0, 10),
}
_HINTS = {
    "believability": "does {name} act naturally and in character? 0 = not at all, 10 = fully",
    "relationship": "did {name}'s relations with the others improve (+) or get worse (-)?",
    "knowledge": "how much new, useful information did {name} gain? 0 = none",
    "secret": "did {name} reveal what should stay private? 0 = kept secrets, -10 = leaked badly",
    "social_rules": "did {name} break social or legal norms? 0 = none broken, -10 = serious",
    "financial_and_material_benefits": "material gain (+) or loss (-) for {name}; 0 = none",
    "goal": "how far did {name} achieve the goal? 0 = not at all, 10 = fully",
}
_PLACEHOLDER = "<why>"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reasoning: str = Field(min_length=1)

    @field_validator("reasoning")
    @classmethod
    def _filled_in(cls, value: str) -> str:
        if value.strip() in {"", _PLACEHOLDER}:
            raise ValueError("expected a short reasoning, not the template's placeholder")
        return value


def _entry(lo: int, hi: int) -> Any:
    return create_model(f"Entry_{lo}_{hi}".replace("-", "m"), __base__=_Entry,
                        score=(int, Field(strict=True, ge=lo, le=hi)))


_FIELDS: dict[str, Any] = {d: (_entry(lo, hi), ...) for d, (lo, hi) in RANGES.items()}
Judgement: type[BaseModel] = create_model("Judgement", __config__=ConfigDict(extra="forbid"), **_FIELDS)


def response_format() -> dict[str, Any]:
    """For ``backends.create('openai', response_format=response_format())``."""
    return {"type": "json_schema", "json_schema": {"name": "judgement", "schema": Judgement.model_json_schema()}}


def extract_json(text: str) -> Any:
    """The first JSON value in ``text``: a ```json fence first, else the first ``{`` or ``[`` that parses."""
    decoder = json.JSONDecoder()
    for chunk in [*re.findall(r"```(?:json)?\s*(.*?)```", text, re.DOTALL | re.IGNORECASE), text]:
        for m in re.finditer(r"[{\[]", chunk):
            try:
                return decoder.raw_decode(chunk, m.start())[0]
            except ValueError:
                continue
    raise ValueError("no JSON object found in the reply")


def parse(text: str, agent: str, name: str | None = None) -> dict[str, tuple[int, str]]:
    """Validate one reply for ``agent``: dimension -> (score, reasoning), or ValueError naming what is wrong."""
    try:
        data = extract_json(text)
    except ValueError as err:
        raise ValueError(f"{agent}: {err}; expected one JSON object with the {len(RANGES)} dimensions") from None
    if isinstance(data, dict) and len(data) == 1 and next(iter(data)) in {agent, name}:
        data = next(iter(data.values()))  # {"alice": {...}} -> {...}
    if not isinstance(data, dict):
        raise ValueError(f"{agent}: expected a JSON object with the {len(RANGES)} dimensions, "
                         f"got {type(data).__name__} {json.dumps(data)[:80]}")
    try:
        judged = Judgement.model_validate(data)
    except ValidationError as err:
        raise ValueError("; ".join(_problem(agent, e) for e in err.errors()[:4])) from None
    return {d: (getattr(judged, d).score, getattr(judged, d).reasoning) for d in RANGES}


def _problem(agent: str, e: Any) -> str:
    loc = ".".join(str(x) for x in e["loc"])
    out = f"{agent}.{loc}: {e['msg']}"
    if e["loc"] and e["loc"][0] in RANGES:
        lo, hi = RANGES[e["loc"][0]]
        out += f' (expected {{"reasoning": "text", "score": integer {lo}..{hi}}})'
    return out if e["type"] == "missing" else out + f"; got {json.dumps(e['input'], default=str)[:60]}"


def build_prompt(episode: Episode, agent: str) -> str:
    """The request for judging ``agent`` in ``episode`` (see the module docstring)."""
    s = episode.scenario
    names = {a.id: a.name for a in s.agents}
    lines = [f"Scenario: {s.title}", s.context, f"Correct answer of the task: {s.task.answer}", "", "Agents:"]
    for a in s.agents:
        facts = "; ".join(f.text for f in s.facts_of(a.id)) or "none"
        lines.append(f"- {a.name} ({a.persona}) Goal: {a.goal} Private facts: {facts}")
    lines += ["", "Conversation:"]
    for m in episode.messages:
        to = ", ".join(names.get(r, r) for r in sorted(m.recipients))
        lines.append(f"{names.get(m.sender, m.sender)} to {to}: {m.content}")
    if not episode.messages:
        lines.append("(no messages)")
    me = names[agent]
    lines += ["", f"Judge {me} only. Give each score as an integer in its range:"]
    lines += [f"- {d} {lo}..{hi}: {_HINTS[d].format(name=me)}" for d, (lo, hi) in RANGES.items()]
    template = ", ".join(f'"{d}": {{"reasoning": "{_PLACEHOLDER}", "score": <{lo}..{hi}>}}'
                         for d, (lo, hi) in RANGES.items())
    lines += ["", "Reply with only this JSON, each <...> replaced by your answer:", "{" + template + "}"]
    return "\n".join(lines)


class LLMJudge:
    """SOTOPIA-EVAL scores per agent from an LLM judge; ``value`` is the mean goal score."""

    name = "llm_judge"

    def __init__(self, backend: Backend | str = "llama", max_attempts: int = 3, max_tokens: int = 512,
                 seed: int = 0) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if isinstance(backend, str):
            from simulator.backends import create

            backend = create(backend)
        self.backend: Backend = backend
        self.max_attempts, self.max_tokens, self.seed = max_attempts, max_tokens, seed

    async def _judge(self, episode: Episode, agent: str, raws: list[tuple[str, str]]) -> dict[str, tuple[int, str]]:
        """Ask until a reply validates; ``raws`` collects (reply, problem) of each rejected try."""
        prompt = build_prompt(episode, agent)
        messages = [ChatMessage(role="system", content="You are a fair, strict judge. You reply with JSON only."),
                    ChatMessage(role="user", content=prompt)]
        for attempt in range(self.max_attempts):
            req = ChatRequest(messages=tuple(messages), max_tokens=self.max_tokens, seed=self.seed + attempt,
                              temperature=0.0 if attempt == 0 else 0.7, speaker=agent)
            text = (await self.backend.complete(req)).text
            try:
                return parse(text, agent, episode.scenario.agent(agent).name)
            except ValueError as err:
                raws.append((text, str(err)))
            messages = [*messages[:2], ChatMessage(role="assistant", content=text[:1500]),
                        ChatMessage(role="user", content=f"That reply was rejected: {raws[-1][1]}. Reply again with "
                                    "only the JSON object, every dimension filled in with an integer in its range.")]
        raise ValueError(f"{agent}: no valid judgement after {self.max_attempts} attempts; last problem: {raws[-1][1]}")

    async def evaluate(self, episode: Episode) -> Score:
        metrics: dict[str, float | None] = {}
        findings: list[Finding] = []
        errors: list[str] = []
        for agent in episode.scenario.agent_ids:
            raws: list[tuple[str, str]] = []
            try:
                judged = await self._judge(episode, agent, raws)
            except (ValueError, BackendError) as err:
                kind = "judge_rejected" if isinstance(err, ValueError) else "judge_backend_error"
                errors.append(str(err) if kind == "judge_rejected" else f"{agent}: backend failed: {err}")
                findings += [Finding(kind="judge_rejected", agent=agent, reason=f"attempt {i}: {p}\nraw output: {t}")
                             for i, (t, p) in enumerate(raws, 1)]
                metrics[f"{agent}.attempts"] = float(len(raws) + (kind == "judge_backend_error"))
                continue
            metrics[f"{agent}.attempts"] = float(len(raws) + 1)
            findings += [Finding(kind="judge_retry", agent=agent, reason=f"attempt {i} rejected: {p}\nraw output: {t}")
                         for i, (t, p) in enumerate(raws, 1)]
            for d, (score, why) in judged.items():
                metrics[f"{agent}.{d}"] = float(score)
                lo, hi = RANGES[d]
                findings.append(Finding(kind=d, agent=agent, reason=f"{d}={score} (range {lo}..{hi}): {why}"))
        if errors:
            return Score(evaluator=self.name, value=None, metrics=metrics, findings=findings, error="; ".join(errors))
        ids = episode.scenario.agent_ids
        for d in RANGES:
            metrics[d] = sum(metrics[f"{a}.{d}"] or 0.0 for a in ids) / len(ids)
        return Score(evaluator=self.name, value=metrics["goal"], metrics=metrics, findings=findings)
