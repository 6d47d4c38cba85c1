"""grounding_acts: questions, clarification requests, acknowledgements, confirmations, answers.

Clark and Brennan's grounding acts, counted per turn (Shaikh et al. 2024 found LLMs
produce far fewer than people). The rule-based classifier looks at each sentence. Its
response lexicons follow the SWBD-DAMSL dialogue-act tagset (Jurafsky, Shriberg and
Biasca 1997, *Switchboard SWBD-DAMSL Shallow-Discourse-Function Annotation Coders
Manual*, Draft 13, https://web.stanford.edu/~jurafsky/ws97/manual.august1.html), whose
classes and their typical lexical items are:

- ``b`` Acknowledge (Backchannel), ``bk`` Response Acknowledgement: "uh-huh", "mm-hmm",
  "okay", "oh, okay", "I see", "got it"; with thanking (``ft``, "thanks") they make an
  **acknowledgement**: the other's message was received.
- ``aa`` Agree/Accept: "that's exactly it", "I agree", "that's true", "that's right",
  "exactly", "absolutely", "sure"; and ``ny`` Yes-Answers: "yes", "yeah", "yep": a
  **confirmation**, saying yes / that is right to what the other said.

The acts:

- **question**: ends with ``?``.
- **clarification**: a question that asks about what was meant or said ("do you
  mean", "which one", "can you clarify", "did you say", "sorry?", ...).
- **acknowledgement**: a sentence that opens with a response token of ``b``/``bk``
  ("ok", "okay", "uh-huh", "I see", "got it", "thanks", "understood", "alright",
  "noted", ...), after an optional "oh", "ah", "well"; or that contains, anywhere, one of
  the clausal forms a speaker cannot say in passing ("that makes sense", "good to know",
  "got it", "thanks", "thank you", "fair enough").
- **confirmation**: a sentence that opens with a token of ``aa``/``ny`` ("yes", "yep",
  "yeah", "correct", "exactly", "right", "true", "sure", "of course", "agreed",
  "absolutely", "definitely", ...); or that contains, anywhere, a clausal agreement
  ("I agree", "you're right", "that's right", "that's true", "that's correct", "sounds
  good", "works for me", "I think so too", "same here", "good point"). The sentence-initial
  restriction is kept for the single tokens, which inside a sentence are mostly ordinary
  words ("the right one", "is that ok", "sure enough"), and lifted for the clausal forms.
  A clausal form after a negation or a condition in its sentence ("I don't think you're
  right", "if that's true") or in a question ("Are you sure that's right?") is none; a
  bare token asked as a question ("Right?", "Okay?") is a question only.
- **answer** (``ny``/``nn``): a message that answers a question addressed to its sender
  (the last message delivered to the sender, with nothing sent by the sender since, asks
  something) and opens with "yes", "yeah", "yep", "no", "nope", "sure", "right",
  "correct", "uh-huh": an answer, also a confirmation when affirmative, never an
  acknowledgement ("Yes, I know her." after "Do you know Tess?").

A message may carry several acts. With a ``backend``, an LLM classifier labels each
message instead (its reply must be JSON with the four booleans; it tags no answers).
"""

from __future__ import annotations

import json
import re

from privy.evaluators.base import Finding, Score
from privy.evaluators.prefilter import lowered, needs
from privy.evaluators.sentences import SENTENCE
from privy.simulator.backends.base import Backend, ChatMessage, ChatRequest
from privy.simulator.bus import Message
from privy.simulator.episode import Episode

ACTS = ("question", "clarification", "acknowledgement", "confirmation", "answer")
_CLARIFY = re.compile(
    r"\b(do you mean|did you mean|what do you mean|which one|which of|can you clarify|could you clarify|"
    r"clarify|did you say|you mean|pardon|can you repeat|could you repeat|say that again)\b"
    r"|\bsorry\s*\?",  # outside the \b...\b group: no word boundary follows a "?"
    re.IGNORECASE,
)
_OPEN = r"^\W*(?:(?:oh|ah|well|hmm|mm)\b[\s,]*)?"  # a sentence's opening, with a particle before the token
_ACK_TOKENS = (r"ok|okay|okey|got it|gotcha|i see(?=\W*$|\s*[,;:!.]|\s+(?:what you mean|now|so)\b)|"
               r"thanks|thank you|understood|alright|all right|noted|"
               r"makes sense|good to know|uh[- ]huh|mm[- ]hmm|mhm|fair enough|cool")
_CONFIRM_TOKENS = (r"yes|yep|yup|yeah|yea|correct|exactly|precisely|that['’]s right|that is right|"
                   r"right(?!\s+(?:now|away|here|there|after|before|then))|true|that['’]s true|sure(?!\s+enough)|"
                   r"of course|confirmed|indeed|agreed|absolutely|definitely|certainly|totally|"
                   r"that['’]s (?:exactly )?it")
_ACK = re.compile(rf"{_OPEN}({_ACK_TOKENS})\b", re.IGNORECASE)
_CONFIRM = re.compile(rf"{_OPEN}({_CONFIRM_TOKENS})\b", re.IGNORECASE)
# clausal forms, recognised anywhere in a sentence (SWBD-DAMSL aa / bk / ft)
_ACK_ANY = re.compile(r"\b(that makes sense|makes sense now|good to know|got it|thanks|thank you|fair enough)\b",
                      re.IGNORECASE)
_CONFIRM_ANY = re.compile(
    r"\b(i (?:totally |completely |fully )?agree|you['’]re (?:absolutely |so |quite )?right|you are right|"
    r"that['’]s (?:exactly )?right|that is right|that['’]s true|that is true|that['’]s correct|that is correct|"
    r"that['’]s exactly it|sounds (?:good|right)|works for me|fine by me|i think so too|same here|good point|"
    r"fair point|exactly right)\b",
    re.IGNORECASE,
)
_BLOCKED = re.compile(r"\b(not|never|no|n['’]t|don['’]t|doesn['’]t|didn['’]t|isn['’]t|if|unless|whether)\b|n['’]t\b",
                      re.IGNORECASE)
_ANSWER = re.compile(r"^\W*(yes|yeah|yep|yup|sure|right|correct|uh[- ]huh|mm[- ]hmm|no|nope)\b", re.IGNORECASE)
_NEGATIVE = re.compile(r"^\W*(no|nope)\b", re.IGNORECASE)
_BARE_TOKEN = re.compile(r"^\W*\w+(?:[- ]\w+)?\W*\?$")  # "Right?", "Okay?", "Uh-huh?": a question only
_CLARIFY_NEEDS = needs(_CLARIFY)


def _clausal(pattern: re.Pattern[str], sentence: str) -> bool:
    """A clausal form in ``sentence``, not negated or conditional before it, not in a question."""
    if sentence.endswith("?"):
        return False
    m = pattern.search(sentence)
    return m is not None and not _BLOCKED.search(sentence[:m.start()])


def classify(text: str, after_question: bool = False) -> dict[str, str]:
    """The grounding acts in ``text``: act -> the sentence that shows it.

    ``after_question``: the text answers a question addressed to its sender (see the
    module's **answer**): its opening yes/no token is an answer, not an acknowledgement.
    """
    acts: dict[str, str] = {}
    clarify: bool | None = None  # can the text hold a clarification request at all (a sentence is part of it)?
    first = True
    for m in SENTENCE.finditer(text):
        sentence = m.group(0).strip()
        if not sentence:
            continue
        opening, first = first, False
        if sentence.endswith("?"):
            acts.setdefault("question", sentence)
            if clarify is None:
                clarify = _CLARIFY_NEEDS.may_match(lowered(text))
            if clarify and _CLARIFY.search(sentence):
                acts.setdefault("clarification", sentence)
            if _BARE_TOKEN.match(sentence):
                continue
        answer = opening and after_question and _ANSWER.search(sentence)
        if answer:
            acts.setdefault("answer", sentence)
            if not _NEGATIVE.search(sentence):
                acts.setdefault("confirmation", sentence)
        if (not answer and _ACK.search(sentence)) or _clausal(_ACK_ANY, sentence):
            acts.setdefault("acknowledgement", sentence)
        if _CONFIRM.search(sentence) or _clausal(_CONFIRM_ANY, sentence):
            acts.setdefault("confirmation", sentence)
    return acts


def answers_question(episode: Episode, m: Message) -> bool:
    """Does ``m`` answer a question: the last message delivered to its sender asks one, and it sent none since?"""
    for prev in reversed(episode.messages[:m.id]):
        if prev.sender == m.sender:
            return False
        if m.sender in prev.recipients:
            return any(s.group(0).strip().endswith("?") for s in SENTENCE.finditer(prev.content))
    return False


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
                acts = (await self._llm_acts(m.content) if self.backend
                        else classify(m.content, answers_question(episode, m)))
                for act, evidence in acts.items():
                    counts[act] += 1
                    findings.append(Finding(kind=act, message_id=m.id, agent=m.sender, reason=evidence))
        except (ValueError, RuntimeError) as err:
            return Score(evaluator=self.name, value=None, error=str(err), findings=findings)
        n = len(episode.messages)
        metrics: dict[str, float | None] = {f"{a}_per_turn": (c / n if n else None) for a, c in counts.items()}
        total = sum(counts.values())
        return Score(evaluator=self.name, value=total / n if n else None, metrics=metrics, findings=findings)
