"""grounding_acts: questions, clarification requests, acknowledgements, confirmations.

Clark and Brennan's grounding acts, counted per turn (Shaikh et al. 2024 found LLMs
produce far fewer than people). The rule-based classifier looks at each sentence:

- **question**: ends with ``?``.
- **clarification**: a question that asks about what was meant or said ("do you
  mean", "which one", "can you clarify", "did you say", "sorry?", ...).
- **acknowledgement**: a sentence that opens with "ok", "okay", "got it", "I see",
  "thanks", "understood", "alright", "noted", ...
- **confirmation**: opens with "yes", "yep", "correct", "exactly", "that's right",
  "confirmed", "indeed", "agreed", ...

A message may carry several acts. With a ``backend``, an LLM classifier labels each
message instead (its reply must be JSON with the four booleans).
"""

from __future__ import annotations

import json
import re

from privy.evaluators.base import Finding, Score
from privy.evaluators.prefilter import lowered, needs
from privy.evaluators.sentences import SENTENCE
from privy.simulator.backends.base import Backend, ChatMessage, ChatRequest
from privy.simulator.episode import Episode

ACTS = ("question", "clarification", "acknowledgement", "confirmation")
_CLARIFY = re.compile(
    r"\b(do you mean|did you mean|what do you mean|which one|which of|can you clarify|could you clarify|"
    r"clarify|did you say|you mean|pardon|can you repeat|could you repeat|say that again)\b"
    r"|\bsorry\s*\?",  # outside the \b...\b group: no word boundary follows a "?"
    re.IGNORECASE,
)
_ACK = re.compile(r"^\W*(ok|okay|got it|i see|thanks|thank you|understood|alright|all right|noted|"
                  r"makes sense|good to know)\b", re.IGNORECASE)
_CONFIRM = re.compile(r"^\W*(yes|yep|yeah|correct|exactly|that['’]s right|that is right|right|confirmed|"
                      r"indeed|agreed|absolutely)\b", re.IGNORECASE)
_CLARIFY_NEEDS = needs(_CLARIFY)


def classify(text: str) -> dict[str, str]:
    """The grounding acts in ``text``: act -> the sentence that shows it."""
    acts: dict[str, str] = {}
    clarify: bool | None = None  # can the text hold a clarification request at all (a sentence is part of it)?
    for m in SENTENCE.finditer(text):
        sentence = m.group(0).strip()
        if not sentence:
            continue
        if sentence.endswith("?"):
            acts.setdefault("question", sentence)
            if clarify is None:
                clarify = _CLARIFY_NEEDS.may_match(lowered(text))
            if clarify and _CLARIFY.search(sentence):
                acts.setdefault("clarification", sentence)
        if _ACK.search(sentence):
            acts.setdefault("acknowledgement", sentence)
        if _CONFIRM.search(sentence):
            acts.setdefault("confirmation", sentence)
    return acts


_LLM_PROMPT = (
    "Label the grounding acts in one message of a conversation. Reply with JSON only: "
    '{"question": bool, "clarification": bool, "acknowledgement": bool, "confirmation": bool}.\n'
    "question: asks something. clarification: asks what the other meant or said. "
    "acknowledgement: signals the other's message was received (ok, got it, thanks). "
    "confirmation: says yes / that is right to what the other said.\nMessage: "
)


class GroundingActs:
    """Rates of grounding acts per turn; rule-based, or LLM-judged with a ``backend``."""

    name = "grounding_acts"

    def __init__(self, backend: Backend | None = None) -> None:
        self.backend = backend

    async def _llm_acts(self, text: str) -> dict[str, str]:
        assert self.backend is not None
        req = ChatRequest(messages=(ChatMessage(role="user", content=_LLM_PROMPT + text),),
                          max_tokens=60, temperature=0.0, seed=0)
        out = await self.backend.complete(req)
        try:
            data = json.loads(out.text[out.text.index("{"): out.text.rindex("}") + 1])
        except ValueError as err:
            raise ValueError(f"LLM classifier reply is not JSON: {out.text[:200]!r}") from err
        return {a: "LLM classifier" for a in ACTS if data.get(a) is True}

    async def evaluate(self, episode: Episode) -> Score:
        findings = []
        counts = dict.fromkeys(ACTS, 0)
        try:
            for m in episode.messages:
                acts = await self._llm_acts(m.content) if self.backend else classify(m.content)
                for act, evidence in acts.items():
                    counts[act] += 1
                    findings.append(Finding(kind=act, message_id=m.id, agent=m.sender, reason=evidence))
        except (ValueError, RuntimeError) as err:
            return Score(evaluator=self.name, value=None, error=str(err), findings=findings)
        n = len(episode.messages)
        metrics: dict[str, float | None] = {f"{a}_per_turn": (c / n if n else None) for a, c in counts.items()}
        total = sum(counts.values())
        return Score(evaluator=self.name, value=total / n if n else None, metrics=metrics, findings=findings)
