"""Belief probes on an OpenAI-compatible server: token ``logprobs`` where offered, else an elicited JSON.

``token_logprobs_first``: one greedy token is requested with ``logprobs: true`` and
``top_logprobs: 20`` (OpenAI's chat API; llama-cpp-python's server supports both on
``/v1/chat/completions`` when its model keeps logits, its default ``logits_all``). Each
option scores the log-probability of the listed token it starts with (the longest such);
this separates the options only when their first tokens differ. When they do not, or no
listed token starts an option, or the server returns no logprobs, the probe falls back to
``elicited_json``: the model is asked for a JSON object of option -> probability, read
leniently (missing or bad values count as zero), normalised. The method is recorded.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from privy.simulator.backends.base import ChatMessage, ChatRequest
from privy.simulator.probes import OptionScores, normalise

TOP = 20
FLOOR = math.log(1e-6)


def from_top_logprobs(top: dict[str, float], options: Sequence[str]) -> list[float] | None:
    """Each option's score from the first token's ``top`` alternatives (token -> log-prob), if they separate them."""
    picked: list[str | None] = []
    for option in options:
        starts = [t for t in top if t.strip() and option.casefold().startswith(t.strip().casefold())]
        picked.append(max(starts, key=lambda t: len(t.strip())) if starts else None)
    known = [p for p in picked if p is not None]
    if not known or len(set(known)) < len(known):
        return None  # no option is listed, or two share their first token
    return [top[p] if p is not None else FLOOR for p in picked]


def from_json(text: str, options: Sequence[str]) -> list[float] | None:
    """Scores read from ``{"option": probability, ...}``; None if it names no option with a positive number."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    by_key = {str(k).strip().casefold(): v for k, v in data.items()}
    probs = []
    for option in options:
        v = by_key.get(option.casefold())
        probs.append(float(v) if isinstance(v, int | float) and not isinstance(v, bool) and v > 0 else 0.0)
    if not any(probs):
        return None
    return [math.log(p) if p > 0 else FLOOR for p in probs]


async def score_options(post: Any, model: str, request: ChatRequest, options: Sequence[str]) -> OptionScores:
    """Score ``options`` as the reply to ``request`` with ``post(params) -> ChatCompletion``."""
    messages = [m.model_dump() for m in request.messages]
    out = await post({"model": model, "messages": messages, "max_tokens": 1, "temperature": 0.0,
                      "logprobs": True, "top_logprobs": TOP})
    usage = getattr(out, "usage", None)
    tokens = usage.prompt_tokens if usage else None
    content = getattr(getattr(out.choices[0], "logprobs", None), "content", None) if out.choices else None
    if content:
        top = {alt.token: alt.logprob for alt in content[0].top_logprobs or []}
        scores = from_top_logprobs(top, options)
        if scores is not None:
            return OptionScores(logprobs=normalise(scores), method="token_logprobs_first", prompt_tokens=tokens)
    ask = ChatMessage(role="user", content=(
        "Give your answer as a JSON object mapping each option to its probability (numbers that add up to 1): "
        + json.dumps(dict.fromkeys(options, 0.0))))
    out = await post({"model": model, "messages": [*messages, ask.model_dump()], "max_tokens": 40 + 12 * len(options),
                      "temperature": 0.0, "response_format": {"type": "json_object"}})
    text = out.choices[0].message.content or "" if out.choices else ""
    scores = from_json(text, options)
    if scores is None:
        return OptionScores(logprobs=normalise([0.0] * len(options)), method="elicited_json_unreadable",
                            prompt_tokens=tokens)
    return OptionScores(logprobs=normalise(scores), method="elicited_json", prompt_tokens=tokens)
