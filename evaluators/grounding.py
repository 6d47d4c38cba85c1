"""grounding_acts: questions, clarification requests, acknowledgements, confirmations, answers.

Clark and Brennan's grounding acts, counted per turn (Shaikh et al. 2024 found LLMs
produce far fewer than people). The label definitions are those of
``tests/data/LABELLING.md``. The rule-based classifier looks at each sentence and each
of its clauses (the parts between commas, semicolons and colons). Its forms follow the
SWBD-DAMSL dialogue-act tagset (Jurafsky, Shriberg and Biasca 1997, *Switchboard
SWBD-DAMSL Shallow-Discourse-Function Annotation Coders Manual*, Draft 13,
https://web.stanford.edu/~jurafsky/ws97/manual.august1.html), whose classes and their
typical lexical items are:

- questions: ``qy`` Yes-No-Question (subject-auxiliary inversion: "is it bigger",
  "do you know anyone"), ``qw`` Wh-Question ("who do you have", "what about Acme"),
  ``qo`` Open-Question ("and you", "what about you", "how about you"), ``qh`` and
  ``^d`` declarative and tag forms ending in "?", and requests for information worded
  as directives ("tell me", "let me know"; the coders' manual tags them ``ad`` but the
  labels count them as questions). Written people often drop the "?".
- ``b`` Acknowledge (Backchannel), ``bk`` Response Acknowledgement ("uh-huh",
  "mm-hmm", "okay", "oh, okay", "I see", "got it"), ``ba`` Appreciation ("great",
  "nice", "cool", "wow", "interesting", "perfect", "awesome") and ``ft`` Thanking
  ("thanks", "thx"): an **acknowledgement**, the other's message was received.
- ``aa`` Agree/Accept ("that's exactly it", "I agree", "that's true", "exactly",
  "absolutely", "sure", "same here", "deal", "you bet", "you got it") and ``ny``
  Yes-Answers ("yes", "yeah", "yep", "mhm"): a **confirmation**.
- ``br`` Signal-non-understanding and clarification requests: see **clarification**.

The acts:

- **question**: a sentence that ends with ``?``; or, without one, a clause that opens
  (after discourse particles such as "so", "and", "ok", "oh", "wait", "hi") with an
  inverted auxiliary ("is it", "do u", "can you", "have you"), a wh-word followed by
  an auxiliary or "about" ("who do", "what about", "which one", "how many"), a bare
  "and you" / "what about you", or a request for information anywhere ("tell me", "let
  me know", "I wonder if/whether").
- **clarification**: a question that asks about what was meant or said ("do you
  mean", "u mean", "did you say", "what did u mean", "as in", "which one", "can you
  clarify", "sorry?", a reformulation "X = Y?"), or an echo: a question of at most
  three words repeating a word of the last message delivered to the speaker ("Maya
  Chen?" after "is Maya on your list", "Tess who?"; Purver 2004's reprise fragments).
- **acknowledgement**: a clause that opens with a token of ``b``/``bk``/``ba``/``ft``
  (after an optional particle "oh", "ah", "well", "lol", "but", ...), or a clausal form
  anywhere ("that makes sense", "good to know", "got it", "thanks", "fair enough");
  only when something had been delivered to the speaker (nothing to acknowledge
  otherwise: "ok so, first question" opening a conversation is a discourse marker),
  never "you got it" (a confirmation that the other is right).
- **confirmation**: a clause that opens with a token of ``aa``/``ny`` ("yes", "yep",
  "yeah", "correct", "exactly", "right", "true", "sure", "of course", "agreed", "same",
  "deal" not as a ``DEAL:`` line, "you bet", "bingo", "you got it", ...); or a clausal
  agreement anywhere ("I agree", "you're right", "that's right", "sounds good", "sounds
  fair", "works for me", "same here", "good point"). The single tokens count only at a
  clause's opening, where inside a clause they are mostly ordinary words ("the right
  one", "is that ok", "sure enough"). A clausal form after a negation or a condition in
  its sentence ("I don't think you're right", "if that's true") or in a question ("Are
  you sure that's right?") is none; a bare token asked as a question ("Right?",
  "Okay?") is a question only.
- **answer** (``ny``/``nn``): a message that answers a question addressed to its sender
  (the last message delivered to the sender, with nothing sent by the sender since, asks
  something) and opens with "yes", "yeah", "yep", "mhm", "no", "nope", "sure", "right",
  "correct", "uh-huh": an answer, also a confirmation when affirmative, never an
  acknowledgement ("Yes, I know her." after "Do you know Tess?").

A message may carry several acts. With a ``backend``, an LLM classifier labels each
message instead, shown the message and the last one its sender received: its reply must
be JSON with the five booleans. It knows the answer act as the rules do: its ``answer``
counts only for a message that answers a question addressed to its sender (as
:func:`answers_question` decides), and a message it calls an answer is not also an
acknowledgement; nothing is an acknowledgement before its sender heard anything.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from privy.evaluators.base import Finding, Score
from privy.evaluators.prefilter import lowered, needs
from privy.evaluators.sentences import SENTENCE
from privy.simulator.backends.base import Backend, ChatMessage, ChatRequest
from privy.simulator.bus import Message
from privy.simulator.episode import Episode

ACTS = ("question", "clarification", "acknowledgement", "confirmation", "answer")
_YOU = r"(?:you|u|ya)"
_CLARIFY = re.compile(
    rf"\b(do {_YOU} mean|did {_YOU} mean|what do {_YOU} mean|what did {_YOU} mean|which one|can {_YOU} clarify|"
    rf"could {_YOU} clarify|clarify|did {_YOU} say|{_YOU} mean|by \w+(?: \w+)? {_YOU} mean|as in|pardon|"
    rf"can {_YOU} repeat|could {_YOU} repeat|say that again|(?:wait|so)\W+{_YOU} said)\b"
    r"|\bsorry\s*\?|\w\s+=\s+\w",  # outside the \b...\b group: no word boundary follows a "?"
    re.IGNORECASE,
)
# discourse particles before a clause's first word (SWBD-DAMSL's "discourse markers")
_PARTICLE = r"(?:oh|ah+|ahh+|well|hmm+|mm|lol|haha+|so|and|but|then|wait|hey|hi|hello|um+|uh|anyway)"
_OPEN = rf"^\W*(?:{_PARTICLE}\b[\s,!.]*)*"  # a clause's opening, with particles before the token
_ACK_TOKENS = (r"ok|okay|okey|k|got it|gotcha|i see(?=\W*$|\s*[,;:!.]|\s+(?:what you mean|now|so)\b)|"
               r"thanks|thank you|thx|ty|understood|alright|all right|noted|"
               r"makes sense|good to know|uh[- ]huh|mm[- ]hmm|mhm|fair enough|fair(?=\W*$)|cool|"
               r"great|nice|perfect|sweet|awesome|wow|interesting|neat|lovely|excellent")
_CONFIRM_TOKENS = (r"yes|yep|yup|yeah|yea|correct|exactly|precisely|that['’]s right|that is right|"
                   r"right(?!\s+(?:now|away|here|there|after|before|then))|true|that['’]s true|sure(?!\s+enough)|"
                   r"of course|confirmed|indeed|agreed|absolutely|definitely|certainly|totally|"
                   r"that['’]s (?:exactly )?it|same(?=\W*$)|deal(?!\s*\**\s*:)(?=\W*$)|you bet|bingo|"
                   r"{you}(?: have|['’]ve)? got it")
_ACK = re.compile(rf"{_OPEN}({_ACK_TOKENS})\b", re.IGNORECASE)
_CONFIRM = re.compile(rf"{_OPEN}({_CONFIRM_TOKENS.format(you=_YOU)})\b", re.IGNORECASE)
# clausal forms, recognised anywhere in a sentence (SWBD-DAMSL aa / bk / ft)
_ACK_ANY = re.compile(r"\b(that makes sense|makes sense now|good to know|"
                      r"got it|thanks|thank you|thx|fair enough)\b", re.IGNORECASE)
_CONFIRM_ANY = re.compile(
    r"\b(i (?:totally |completely |fully )?agree|you['’]re (?:absolutely |so |quite )?right|you are right|"
    r"that['’]s (?:exactly )?right|that is right|that['’]s true|that is true|that['’]s correct|that is correct|"
    r"that['’]s exactly it|sounds (?:good|right|fair|great)|works for me|fine by me|i think so too|same here|"
    r"good point|fair point|exactly right|same for me)\b",
    re.IGNORECASE,
)
_BLOCKED = re.compile(r"\b(not|never|no|n['’]t|don['’]t|doesn['’]t|didn['’]t|isn['’]t|if|unless|whether)\b|n['’]t\b",
                      re.IGNORECASE)
_ANSWER = re.compile(r"^\W*(yes|yeah|yep|yup|sure|right|correct|uh[- ]huh|mm[- ]hmm|mhm|no|nope|nah)\b",
                     re.IGNORECASE)
_NEGATIVE = re.compile(r"^\W*(no|nope|nah)\b", re.IGNORECASE)
_BARE_TOKEN = re.compile(r"^\W*\w+(?:[- ]\w+)?\W*\?$")  # "Right?", "Okay?", "Uh-huh?": a question only
# questions without a "?" (SWBD-DAMSL qy, qw, qo), at a clause's opening after particles
_QUESTION_OPEN = rf"^\W*(?:(?:{_PARTICLE}|ok|okay)\b[\s,!.]*)*"
_SUBJECT = (rf"(?:{_YOU}|it|they|he|she|we|i|there|anyone|anybody|someone|somebody|any|your|ur|the|this|that|"
            r"these|those|ppl|people|one|either|both|all)")
_INVERTED = re.compile(
    rf"{_QUESTION_OPEN}(?:(?:is|are|was|were|isn['’]t|aren['’]t)\s+(?:{_SUBJECT}\b|(?-i:[A-Z]))"
    rf"|(?:do|does|did|can|could|will|would|should|shall|may|might|have|has|had|don['’]t|doesn['’]t|didn['’]t|"
    rf"can['’]t|won['’]t)\s+{_SUBJECT}\b)",
    re.IGNORECASE,
)
_WH = re.compile(
    rf"{_QUESTION_OPEN}(?:who|what|which|where|when|why|how)\s+(?:about|do|does|did|is|are|was|were|can|could|"
    rf"would|will|should|one|of|many|much|else|{_YOU})\b|{_QUESTION_OPEN}(?:and|what about|how about)\s+"
    rf"(?:{_YOU}|yours|urs)\W*$",
    re.IGNORECASE,
)
_ASKS = re.compile(r"\b(tell me|let me know|i wonder (?:if|whether)|i['’]m wondering (?:if|whether))\b",
                   re.IGNORECASE)
_WH_WORD = re.compile(rf"{_QUESTION_OPEN}(?:who|what|which|where|when|why|how)\b", re.IGNORECASE)
_CLAUSE_SPLIT = re.compile(r"[,;:]")
_OPENS_QUESTION = re.compile(rf"(?:{_INVERTED.pattern})|(?:{_WH.pattern})", re.IGNORECASE)
# every form of asks() has one of these words: a sentence without any is no question
_ASK_WORDS = re.compile(
    r"\b(?:is|are|was|were|isn|aren|do|does|did|can|could|will|would|should|shall|may|might|have|has|had|don|"
    r"doesn|didn|won|who|what|which|where|when|why|how|and|tell|let|wonder|wondering)\b", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]{3,}")
_YOU_GOT_IT = re.compile(rf"\b{_YOU}(?: have|['’]ve)? got it\b", re.IGNORECASE)
_VERB_LINE = re.compile(r"\b[A-Z]{3,}\s*\**\s*:.*$")  # a commitment ("DEAL: ..."): what is taken, no act
_CLARIFY_NEEDS = needs(_CLARIFY)


@dataclass(frozen=True)
class Context:
    """What a message's acts depend on besides its text.

    ``after_question``: it answers a question addressed to its sender (see the module's
    **answer**). ``heard``: some message had been delivered to its sender before it.
    ``previous``: the last message delivered to its sender before it, if any.
    """

    after_question: bool = False
    heard: bool = True
    previous: str = ""


def _clausal(pattern: re.Pattern[str], sentence: str) -> bool:
    """A clausal form in ``sentence``, not negated or conditional before it, not in a question."""
    if sentence.endswith("?"):
        return False
    m = pattern.search(sentence)
    return m is not None and not _BLOCKED.search(sentence[:m.start()])


def _clauses(sentence: str) -> list[str]:
    return [c for c in _CLAUSE_SPLIT.split(sentence) if c.strip()]


def asks(sentence: str) -> bool:
    """A question without a "?": an inverted auxiliary, a wh-question or "and you" at a clause's
    opening, or a request for information anywhere; not a negated or conditional one."""
    if not _ASK_WORDS.search(sentence):  # none of the words any of these forms needs
        return False
    request = _ASKS.search(sentence)
    if request and not _BLOCKED.search(sentence[:request.start()]):
        return True
    return any(_OPENS_QUESTION.match(c) for c in _clauses(sentence))


def echoes(sentence: str, previous: str) -> bool:
    """A question of at most three words repeating a word of ``previous`` (a reprise fragment)."""
    words = sentence.rstrip("?").split()
    if not 1 <= len(words) <= 3 or not previous or _INVERTED.match(sentence) or _WH_WORD.match(sentence):
        return False
    before = {w.casefold() for w in _WORD.findall(previous)}
    return any(w.casefold() in before for w in _WORD.findall(sentence))


def sentence_acts(sentence: str, opening: bool, ctx: Context, clarify: bool = True) -> dict[str, str]:
    """The acts of one sentence (``opening``: the message's first). ``clarify``: False when the
    message cannot hold a clarification cue (a prefilter's answer), to skip that search."""
    acts: dict[str, str] = {}
    question = sentence.endswith("?")
    if question or asks(sentence):
        acts["question"] = sentence
        if (clarify and _CLARIFY.search(sentence)) or (question and echoes(sentence, ctx.previous)):
            acts["clarification"] = sentence
        if question and _BARE_TOKEN.match(sentence):
            return acts
    answer = opening and ctx.after_question and _ANSWER.search(sentence)
    if answer:
        acts["answer"] = sentence
        if not _NEGATIVE.search(sentence):
            acts["confirmation"] = sentence
    said = _VERB_LINE.sub("", sentence)
    clauses = _clauses(said)
    if question:  # in a question only its opening may acknowledge or agree ("Right, and then?"), not a tag
        clauses = clauses[:1]
    if ctx.heard:
        received = _YOU_GOT_IT.sub("", said)  # "you got it": the other is right, a confirmation
        heard = _clauses(received)[:1] if question else _clauses(received)
        if any(_ACK.search(c) for c in (heard[1:] if answer else heard)) or _clausal(_ACK_ANY, received):
            acts["acknowledgement"] = sentence
    if any(_CONFIRM.search(c) for c in clauses) or _clausal(_CONFIRM_ANY, said):
        acts["confirmation"] = sentence
    return acts


def classify(text: str, after_question: bool = False, ctx: Context | None = None) -> dict[str, str]:
    """The grounding acts in ``text``: act -> the sentence that shows it.

    ``after_question``: the text answers a question addressed to its sender (see the
    module's **answer**): its opening yes/no token is an answer, not an acknowledgement.
    ``ctx`` gives the whole context instead (see :class:`Context`).
    """
    ctx = ctx or Context(after_question=after_question)
    acts: dict[str, str] = {}
    clarify: bool | None = None  # can the text hold a clarification cue at all (a sentence is part of it)?
    first = True
    for m in SENTENCE.finditer(text):
        sentence = m.group(0).strip()
        if not sentence:
            continue
        opening, first = first, False
        if clarify is None:
            clarify = _CLARIFY_NEEDS.may_match(lowered(text))
        for act, evidence in sentence_acts(sentence, opening, ctx, clarify).items():
            acts.setdefault(act, evidence)
    return acts


def answers_question(episode: Episode, m: Message) -> bool:
    """Does ``m`` answer a question: the last message delivered to its sender asks one, and it sent none since?"""
    for prev in reversed(episode.messages[:m.id]):
        if prev.sender == m.sender:
            return False
        if m.sender in prev.recipients:
            return any(s.group(0).strip().endswith("?") or asks(s.group(0).strip())
                       for s in SENTENCE.finditer(prev.content))
    return False


def _asks_something(text: str) -> bool:
    return any(s.group(0).strip().endswith("?") or asks(s.group(0).strip()) for s in SENTENCE.finditer(text))


def contexts(episode: Episode) -> list[Context]:
    """:func:`context` of every message, in one pass."""
    last: dict[str, Message] = {}  # agent -> the last message delivered to it
    spoke: dict[str, int] = {}  # agent -> the id of its last message
    asked: dict[int, bool] = {}
    out = []
    for m in episode.messages:
        prev = last.get(m.sender)
        after = False
        if prev is not None and spoke.get(m.sender, -1) < prev.id:
            if prev.id not in asked:
                asked[prev.id] = _asks_something(prev.content)
            after = asked[prev.id]
        out.append(Context(after_question=after, heard=prev is not None, previous=prev.content if prev else ""))
        spoke[m.sender] = m.id
        for r in m.recipients:
            if r != m.sender:
                last[r] = m
    return out


def context(episode: Episode, m: Message) -> Context:
    """The context of ``m`` in ``episode``: see :class:`Context`."""
    previous = next((p.content for p in reversed(episode.messages[:m.id]) if m.sender in p.recipients
                     and p.sender != m.sender), None)
    return Context(after_question=answers_question(episode, m), heard=previous is not None,
                   previous=previous or "")


_LLM_PROMPT = (
    "Label the grounding acts in one message of a conversation. Reply with JSON only: "
    '{"question": bool, "clarification": bool, "acknowledgement": bool, "confirmation": bool, "answer": bool}.\n'
    "question: asks something, with or without a question mark. clarification: asks what the other meant or "
    "said. acknowledgement: signals the other's message was received or accepted (ok, got it, thanks, "
    "makes sense). confirmation: says yes / that is right to what the other said, or confirms a shared "
    "decision. answer: a yes or no that answers a question in the previous message; such a yes or no is an "
    "answer, not an acknowledgement.\n"
)


def llm_prompt(text: str, previous: str | None) -> str:
    """The classifier's prompt for ``text``, after ``previous`` (the last message its sender received)."""
    before = f"Previous message: {previous}\n" if previous else "Previous message: (none)\n"
    return _LLM_PROMPT + before + "Message: " + text


def llm_acts(data: dict[str, object], ctx: Context) -> dict[str, str]:
    """The acts of the classifier's JSON reply, under the rules' reading of the context: an answer
    only after a question addressed to the sender (:func:`answers_question`), and then not also an
    acknowledgement (the yes is the answer); nothing acknowledged before anything was heard."""
    acts = {a: "LLM classifier" for a in ACTS if data.get(a) is True}
    if not ctx.after_question:
        acts.pop("answer", None)
    if "answer" in acts or not ctx.heard:
        acts.pop("acknowledgement", None)
    return acts


class GroundingActs:
    """Rates of grounding acts per turn; rule-based, or LLM-judged with a ``backend``."""

    name = "grounding_acts"

    def __init__(self, backend: Backend | None = None) -> None:
        self.backend = backend

    async def _llm_acts(self, text: str, ctx: Context) -> dict[str, str]:
        assert self.backend is not None
        req = ChatRequest(messages=(ChatMessage(role="user", content=llm_prompt(text, ctx.previous or None)),),
                          max_tokens=80, temperature=0.0, seed=0)
        out = await self.backend.complete(req)
        try:
            data = json.loads(out.text[out.text.index("{"): out.text.rindex("}") + 1])
        except ValueError as err:
            raise ValueError(f"LLM classifier reply is not JSON: {out.text[:200]!r}") from err
        if not isinstance(data, dict):
            raise ValueError(f"LLM classifier reply is not a JSON object: {out.text[:200]!r}")
        return llm_acts(data, ctx)

    async def evaluate(self, episode: Episode) -> Score:
        findings = []
        counts = dict.fromkeys(ACTS, 0)
        try:
            for m, ctx in zip(episode.messages, contexts(episode), strict=True):
                acts = await self._llm_acts(m.content, ctx) if self.backend else classify(m.content, ctx=ctx)
                for act, evidence in acts.items():
                    counts[act] += 1
                    findings.append(Finding(kind=act, message_id=m.id, agent=m.sender, reason=evidence))
        except (ValueError, RuntimeError) as err:
            return Score(evaluator=self.name, value=None, error=str(err), findings=findings)
        n = len(episode.messages)
        metrics: dict[str, float | None] = {f"{a}_per_turn": (c / n if n else None) for a, c in counts.items()}
        total = sum(counts.values())
        return Score(evaluator=self.name, value=total / n if n else None, metrics=metrics, findings=findings)


def affirms(text: str) -> bool:
    """Does ``text`` open by saying yes to what it answers ("yes", "yep she is", "that is right",
    "exactly", "correct: ...")? Its first clause, not negated."""
    first = next((m.group(0).strip() for m in SENTENCE.finditer(text) if m.group(0).strip()), "")
    clause = next(iter(_clauses(first)), "")
    if not clause or _NEGATIVE.search(clause):
        return False
    return bool(_ANSWER.search(clause) or _CONFIRM.search(clause) or _clausal(_CONFIRM_ANY, clause))
