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
- the third round (issue 16) added, each with its source in a comment: agreement checks in
  chat forms ("everyone ok with that?", "so Pim for everyone?"), an acceptance answering one
  ("ok with it"), a bare yes or the bare choice committing to the value just heard ("yep.
  DECIDE: Pim"), the holder of the one answer confirming a guess at it
  (:func:`answer_confirmations`), more ``aa``/``ba``/``bk`` clausal forms ("suits me", "I'm
  with Ana", "that helps"), a negation before "but" not blocking the clause after it, and
  reprises of several words ("too cheap meaning ...?", "X, or Y?").
- the fourth round (issue 16) kept three forms here that helped on two sets or more and lowered no
  precision (README, "Fourth round of rules"): an acceptance (``aa``, "works for me", "I accept",
  not a receipt such as "ok") committing to an offer just heard is a confirmation
  (:func:`accepts_offer`); a short question checking a name just heard by one of its details
  ("oxford grad?", "the one at Initech?") is a clarification (:func:`identity_checks`); the
  asking side's bare one-word fragment in a guessing game ("legs") is a question
  (:func:`fragment_questions`).
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
from privy.evaluators.mentions import answer_facts, detail_stems, stems_of
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
    # outside the \b...\b group: no word boundary follows a "?"; "X = Y?" of words, not a sum ("64 = 211?")
    r"|\bsorry\s*\?|[^\W\d]\s+=\s+[^\W\d]",
    re.IGNORECASE,
)
# discourse particles before a clause's first word (SWBD-DAMSL's "discourse markers")
_PARTICLE = (r"(?:oh+|ah+|ahh+|well|hm+|mm|lol|haha+|so|and|but|then|wait|hey+|hi+|hello|um+|uh|anyway|ugh|eh|phew|"
             r"welp|yo|omg|ooh|aw|whoa|woah|lmao|lmfao|oops|ha)")  # whoa..ha: chat interjections (SWBD-DAMSL's)
_OPEN = rf"^\W*(?:{_PARTICLE}\b[\s,!.]*)*"  # a clause's opening, with particles before the token
# SWBD-DAMSL b / bk (backchannels, response acknowledgements), ba (appreciation, with chat
# forms: "sick", "fab", "+1"), ft (thanking) and the accept half of aa: LABELLING.md lists
# "ok", "sure", "sounds good", "fair enough" as acknowledgements (the other's message was
# received or accepted), so "sure", "fine", "right" are acknowledgements here, not confirmations.
_ACK_TOKENS = (r"ok|okay|okey|k|kk|got it|gotcha|i see(?=\W*$|\s*[,;:!.]|\s+(?:what you mean|now|so)\b)|"
               r"thanks|thank you|thx|ty|tysm|understood|alright|all right|aight|noted|roger|"
               r"makes sense|good to know|uh[- ]huh|mm[- ]hmm|mhm|fair enough|fair(?=\W*$|\s*[,;:!.])|cool|"
               r"great|nice|perfect|sweet|awesome|wow|interesting|neat|lovely|excellent|sick|fab|dope|"
               r"sure(?!\s+enough)(?:\s+thing)?|fine|sounds (?:good|great|fair|right)|good point|fair point|"
               r"right(?!\s+(?:now|away|here|there|after|before|then)\b|\W*\?)|\+1|sensible")
# aa (Agree/Accept) restricted to its explicit agreement and confirmation words: LABELLING.md's
# confirmation "explicitly confirms a shared conclusion or decision" ("deal", "same here",
# "agreed"). A bare "yes" is an answer (ny) and "sure" an acceptance: they confirm only what
# proposes a conclusion (see _AFFIRM and _PROPOSES).
_CONFIRM_TOKENS = (r"correct|exactly|precisely|that['’]s right|that is right|confirmed|indeed|agreed|"
                   r"that['’]s (?:exactly )?it|same(?=\W*$)|same here|deal(?!\s*\**\s*:)(?=\W*$|\s*[,;!.])|bingo|"
                   r"spot on|that['’]s the one|(?:yes|yep|yup|yeah|ya)\W+(?:same|agreed|exactly|correct|deal)\b|"
                   r"{you}(?: have|['’]ve)? got it")
_ACK = re.compile(rf"{_OPEN}({_ACK_TOKENS})(?!\w)", re.IGNORECASE)
_CONFIRM = re.compile(rf"{_OPEN}({_CONFIRM_TOKENS.format(you=_YOU)})\b", re.IGNORECASE)
# clausal forms, recognised anywhere in a sentence (SWBD-DAMSL aa / bk / ft); agreeing with a
# person ("agree w ana") accepts what they said: an acknowledgement
_ACK_ANY = re.compile(r"\b(that makes sense|makes sense now|good to know|got it|thanks|thank you|thx|ty|tysm|"
                      r"fair enough|i accept|accepted|got (?:her|him|them|that|you|u)(?=\W*$)|"
                      r"sounds (?:good|great|fair)|works for me|fine (?:by|with) me|that['’]s true|that is true|"
                      r"good point|fair point|agree (?:with|w/?) (?!(?:that|this|it|the)\b)\w+|"
                      # SWBD-DAMSL ba (appreciation: "that's great", "oh that's good") and bk ("that
                      # helps", "good to hear")
                      r"that['’]s (?:great|nice|good|helpful|fair|cool|awesome|interesting|useful|perfect)"
                      r"(?=\W*$|\s*[,;:.!])|that helps|good to hear|"
                      # aa in other words: "suits me", "I'm with Ana", "Casey makes sense"
                      r"suits me|i['’]?m with (?!(?:the|a|an|my|your|ur|it|that|this|them|him|her)\b)\w+"
                      r"(?=\W*$|\s*[,;:.!])|"
                      r"\w+ makes sense)\b", re.IGNORECASE)
_CONFIRM_ANY = re.compile(
    r"\b(i (?:totally |completely |fully )?agree(?! (?:with|w/?) )|we (?:all |both )?agree\b(?! (?:with|w/?) )|"
    r"i (?:can )?confirm|you['’]re (?:absolutely |so |quite )?right|you are right|"
    r"that['’]s (?:exactly )?right|that is right|that['’]s correct|that is correct|"
    r"that['’]s exactly it|i think so too|same here|exactly right|same for me|"
    r"\w+ is (?:right|correct)(?=\W*$))\b",
    re.IGNORECASE,
)
# Checks that both sides agree (LABELLING.md: confirmation "checks that both sides agree"):
# SWBD-DAMSL qy / ^g whose content is the agreement ("Do you agree?", "Does everyone agree?",
# "Please confirm.", "Shall we decide on Taylor?"; a bare "Shall we decide?" proposes nothing).
_CHECKS_AGREEMENT = re.compile(
    r"\b(?:do|does|did) (?:you|u|everyone|everybody|we|y['’]?all|all of you|both of you)(?: all| both)? agree\b|"
    r"\bagreed?\s*\?|\b(?:please|pls|plz|can you|could you|can u) confirm\b|"
    r"\bshall we (?:decide|go|pick|select|settle|agree|choose|say)\b(?!\W*$)|"
    r"\bare we (?:all )?(?:agreed|in agreement)\b|"
    # the same check in chat forms: "everyone ok with that?", "so X for all of us?", "we're both on X?",
    # "sound right?"
    r"\b(?:everyone|everybody|all|y['’]?all|you|u|we)(?: all| both)? (?:ok|okay|good|fine|happy|on board) with\b|"
    r"\bfor (?:all of us|everyone|everybody|us all)\W*$|"
    r"\bwe['’]re (?:all |both )?(?:on|going with|settled on)\b|^\W*sounds? (?:right|good|ok|okay|fair)\W*$",
    re.IGNORECASE)
# An affirmative answer (ny) or acceptance at a message's opening: a confirmation only when the
# question it answers proposes a conclusion (_PROPOSES): "Is it the sailboat?" - "Yes".
_AFFIRM = re.compile(rf"{_OPEN}(yes|yep|yup|yeah|yea|ya|sure|right|true|of course|absolutely|definitely|certainly|"
                     r"totally|you bet|correct|exactly|indeed|mhm|uh[- ]huh)\b", re.IGNORECASE)
# A question that proposes a conclusion: a declarative or tag question drawing an inference
# (SWBD-DAMSL qy^d, "so ...?", "X then?"), a guess at the one answer ("is it the sailboat?",
# "it's the shark, isn't it"), a proposed result ("that makes 100"), or an agreement check.
_PROPOSES = re.compile(
    r"\b(?:is it|it['’]?s|its|it is|is that|that['’]?s) the\b|\bit['’]?s\b.*\b(?:isn['’]t it|right|yeah)\W*$|"
    r"\bthen\W*(?:right\W*)?$|^\W*so\b|\bthat (?:makes|gives)\b|\bthat['’]?s \d|\bis that (?:right|correct|it)\b",
    re.IGNORECASE)
_BLOCKED = re.compile(r"\b(not|never|no|n['’]t|don['’]t|doesn['’]t|didn['’]t|isn['’]t|if|unless|whether)\b|n['’]t\b",
                      re.IGNORECASE)
_ANSWER = re.compile(r"^\W*(yes|yeah|yep|yup|sure|right|correct|uh[- ]huh|mm[- ]hmm|mhm|no|nope|nah)\b",
                     re.IGNORECASE)
_NEGATIVE = re.compile(r"^\W*(no|nope|nah)\b", re.IGNORECASE)
_BARE_TOKEN = re.compile(r"^\W*\w+(?:[- ]\w+)?\W*\?$")  # "Right?", "Okay?", "Uh-huh?": a question only
# questions without a "?" (SWBD-DAMSL qy, qw, qo), at a clause's opening after particles
# a greeting may name its addressee first (a vocative: "yo alice what are ur numbers")
_QUESTION_OPEN = rf"^\W*(?:(?:{_PARTICLE}|ok|okay)\b[\s,!.]*)*(?:(?:hey+|hi+|yo|hello)\s+\w+\b[\s,!.]*)?"
_SUBJECT = (rf"(?:{_YOU}|it|they|he|she|we|i|there|anyone|anybody|someone|somebody|any|your|ur|the|this|that|"
            r"these|those|ppl|people|one|either|both|all)")
# the forms after a clause's opening (one opening, matched once, for all of them: _OPENS_QUESTION)
_INVERTED_FORM = (rf"(?:is|are|was|were|isn['’]t|aren['’]t)\s+(?:{_SUBJECT}\b|(?-i:[A-Z]))|am i\b"
                  rf"|(?:do|does|did|can|could|will|would|should|shall|may|might|have|has|had|don['’]t|doesn['’]t|"
                  rf"didn['’]t|can['’]t|won['’]t)\s+{_SUBJECT}\b")
_WH_FORM = (rf"(?:who|what|which|where|when|why|how)(?:['’](?:d|ve|re|s|ll)\b|\s+(?:about|do|does|did|is|"
            rf"are|was|were|can|could|would|will|should|one|of|many|much|else|{_YOU})\b)"
            rf"|(?:and|what about|how about)\s+(?:{_YOU}|yours|urs)\W*$")
_INVERTED = re.compile(rf"{_QUESTION_OPEN}(?:{_INVERTED_FORM})", re.IGNORECASE)
_WH = re.compile(rf"{_QUESTION_OPEN}(?:{_WH_FORM})", re.IGNORECASE)
# requests for information or a decision (SWBD-DAMSL ad worded as a request: "please share",
# "lists pls", "propose an answer"), "anyone ...?" openings (qy with its auxiliary dropped,
# "anyone at acme", "anybody ring a bell") and a clause-final tag "right" (^g, "we go with
# Felix right"), written without their "?"
_ASKS = re.compile(
    r"\b(tell me|let me know|i wonder (?:if|whether)|i['’]m wondering (?:if|whether))\b|"
    r"\b(?:please|pls|plz)\s+(?:share|tell|list|send|give|propose|name|describe|post|confirm)\b|"
    r"\b(?:lists?|names?|values?|yours)\s+(?:pls|plz|please)\b|"
    r"\bany(?:one|thing| of (?:them|these|those))?\s+(?:ring|rings)\s+a\s+bell\b",  # qy, auxiliary dropped
    re.IGNORECASE)
_IMPERATIVE_FORM = r"(?:share|list|send|post|propose|name)\s+(?:me\s+|us\s+)?(?:your|ur|yours|what|an?|the|next|all)\b"
_ANYONE_FORM = r"(?:anyone|anybody|any of (?:you|u))\b"
_OPENS_QUESTION = re.compile(
    rf"{_QUESTION_OPEN}(?:{_INVERTED_FORM}|{_WH_FORM}|{_IMPERATIVE_FORM}|{_ANYONE_FORM})", re.IGNORECASE)
_TAG = re.compile(r"\w\W+\w+\s+(?:right|yeah)\W*$", re.IGNORECASE)
_NOT_TAG = re.compile(r"\b(?:that['’]?s|that is|is|are|you['’]?re|u r|exactly|all|alright|so|was|were|not|be|"
                      r"\w+['’]s)\s+\w+\W*$",
                      re.IGNORECASE)
_WH_WORD = re.compile(rf"{_QUESTION_OPEN}(?:who|what|which|where|when|why|how)(?:s|['’]s)?\b", re.IGNORECASE)
_CLAUSE_SPLIT = re.compile(r"[,;:]|\s+but\s+")  # "I never said that but fine": "fine" opens a clause
# every form of asks() has one of these words: a sentence without any is no question
_ASK_WORDS = re.compile(
    r"\b(?:is|are|was|were|isn|aren|do|does|did|can|could|will|would|should|shall|may|might|have|has|had|don|"
    r"doesn|didn|won|who|what|which|where|when|why|how|and|tell|let|wonder|wondering|am|please|pls|plz|share|"
    r"list|lists|send|post|propose|name|names|values|yours|anyone|anybody|any|anything)\b", re.IGNORECASE)
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

    @property
    def proposal(self) -> bool:
        """Does the question it answers propose a conclusion (see :func:`proposes`)?"""
        return self.after_question and proposes(self.previous)


def proposes(text: str) -> bool:
    """Does a question of ``text`` propose a conclusion or check agreement ("Is it the sailboat?",
    "Parker then?", "so it's Ed for all of us?", "Do you agree?")? An affirmative answer to it
    confirms that conclusion; a yes to a question of fact ("is it bigger than a person") does not."""
    said = [m.group(0).strip() for m in SENTENCE.finditer(_squeeze(text))]
    if not any(q.endswith("?") or asks(q) for q in said):
        return False
    return any(_PROPOSES.search(q) or _CHECKS_AGREEMENT.search(q) for q in said)


_BUT = re.compile(r"\bbut\b", re.IGNORECASE)


def _checks_agreement(text: str) -> bool:
    """Does a question of ``text`` check that everyone agrees (see _CHECKS_AGREEMENT)?"""
    return bool(text) and any((q.endswith("?") or asks(q)) and _CHECKS_AGREEMENT.search(q)
                              for q in (m.group(0).strip() for m in SENTENCE.finditer(text)))


def _clausal(pattern: re.Pattern[str], sentence: str) -> bool:
    """A clausal form in ``sentence``, not negated or conditional before it, not in a question."""
    if sentence.endswith("?"):
        return False
    m = pattern.search(sentence)
    if m is None:
        return False
    before = sentence[:m.start()]
    but = list(_BUT.finditer(before))  # "we didn't agree yet but that works for me": its own clause
    return not _BLOCKED.search(before[but[-1].end():] if but else before)


def _clauses(sentence: str) -> list[str]:
    return [c for c in _CLAUSE_SPLIT.split(sentence) if c.strip()]


def asks(sentence: str) -> bool:
    """A question without a "?": an inverted auxiliary, a wh-question or "and you" at a clause's
    opening, or a request for information anywhere; not a negated or conditional one."""
    if sentence.rstrip(" .!").lower().endswith(("right", "yeah")) and _TAG.search(sentence) \
            and not _NOT_TAG.search(sentence):
        return True
    if not _ASK_WORDS.search(sentence):  # none of the words any of the other forms needs
        return False
    request = _ASKS.search(sentence)
    if request and not _BLOCKED.search(sentence[:request.start()]):
        return True
    return any(_OPENS_QUESTION.match(c) for c in _clauses(sentence))


def echoes(sentence: str, previous: str) -> bool:
    """A question of at most three words repeating a word of ``previous`` (a reprise fragment),
    not one drawing a conclusion ("Parker then?", "so Avery?": a proposal), nor one with a number
    ``previous`` did not say (Purver's reprises repeat what was said)."""
    words = sentence.rstrip("?").split()
    if (not 1 <= len(words) <= 3 or not previous or _INVERTED.match(sentence) or _WH_WORD.match(sentence)
            or _INFERENCE.search(sentence)):
        return False
    before = {w.casefold() for w in _WORD.findall(previous)}
    if any(n not in set(re.findall(r"\d+", previous)) for n in re.findall(r"\d+", sentence)):
        return False  # a number no one said ("1 book each?"): new content, a proposal, not a reprise
    return any(w.casefold() in before for w in _WORD.findall(sentence))


# Clarification requests beyond the cue phrases of _CLARIFY (Purver 2004's reprise forms and
# SWBD-DAMSL br, signal-non-understanding): a bare check ("did i?", "really?", "huh?"); a
# "wait"/"hold on" repair opening a declarative question ("wait, you already picked?"); an
# alternative question that is a fragment ("osaka one or dublin one?"); a reprise with a
# reformulation ("useless like zero points?") or a wh-word standing for a word just heard
# ("which esther did u pick?", "who's felix"); a check of identity ("the same person?").
_INFERENCE = re.compile(r"^\W*(?:so|then)\b|\bthen\W*$", re.IGNORECASE)
_BARE_CHECK = re.compile(r"^\W*(?:(?:wait|sorry|hm+|uh|oh)\W+)*(?:did i|did you|did u|i did|you did|u did|huh|"
                         r"come again|pardon|excuse me|sorry|are you sure)\W*\?$",
                         re.IGNORECASE)
_REPAIR = re.compile(r"^\W*(?:wait|hold on|hang on)\b\W*(?:what\b\W*)?(?P<rest>.*)$", re.IGNORECASE)
_ALTERNATIVE = re.compile(r"\w,?\s+or\s+\w", re.IGNORECASE)
_REFORMULATE = re.compile(r"^\W*(?P<words>[^\W\d_]+(?:\s+[^\W\d_]+){0,2})\s+(?:like|meaning|i\.?e\.?)\s",
                          re.IGNORECASE)
_WH_REPRISE = re.compile(r"\b(?:which|who['’]?s|who is|what['’]?s|what is)\s+(?:the\s+)?(?P<word>[^\W\d_]{3,})",
                         re.IGNORECASE)
_SAME_ONE = re.compile(r"\b(?:the )?same (?:person|one|guy|girl|people|thing|item)\b|\bthe same \w+\W*$|"
                       r"\bis (?:that|this) the one\b",
                       re.IGNORECASE)
_NOT_REPRISED = frozenset({"one", "ones", "you", "your", "yours", "the", "this", "that", "these", "those", "are", "was",
                           "were", "did", "does", "have", "has", "about", "else", "other", "others", "kind"})


def _heard(word: str, previous: str) -> bool:
    return word.casefold() not in _NOT_REPRISED and word.casefold() in {
        w.casefold() for w in _WORD.findall(previous)}


def checks_meaning(sentence: str, previous: str) -> bool:
    """A question that checks what something just said meant, in one of the forms above."""
    if _BARE_CHECK.match(sentence) or _SAME_ONE.search(sentence):
        return True
    repair = _REPAIR.match(sentence)
    if repair and repair.group("rest").strip() and not any(
            _INVERTED.match(c) or _WH_WORD.match(c) for c in _clauses(repair.group("rest"))):
        return True
    fragment = not (_INVERTED.match(sentence) or _WH_WORD.match(sentence))
    if fragment and _ALTERNATIVE.search(sentence):
        return True
    if not previous:
        return False
    m = _REFORMULATE.match(sentence)
    if m and any(_heard(w, previous) for w in _WORD.findall(m.group("words"))):
        return True
    return any(_heard(w.group("word"), previous) for w in _WH_REPRISE.finditer(sentence))


def _squeeze(text: str) -> str:
    """Letters repeated three times or more written once ("fiiine", "yesss", "sooo"): chat spelling."""
    return _REPEATS.sub(r"\1", text)


_AGREE_WITH = re.compile(r"\bagree (?:with|w/?) ", re.IGNORECASE)
_REPEATS = re.compile(r"([^\W\d_])\1{2,}")
_COMMIT_LINE = re.compile(r"\b[A-Z]{3,}\s*\**\s*:\s*(?P<value>[^\n=]+)$", re.MULTILINE)
# The choice restated as settled (SWBD-DAMSL bf, summarize/reformulate, of the decision): "Blake
# it is", "yeah Parker", "Tess then", "Avery 100%", "so it's Lou for all three of us".
_SETTLED = re.compile(
    r"^\W*(?:(?:yes|yeah|yep|yup|ok|okay|aight|alright|so|then|same|oops|ha|oh)\b\W*)+(?P<a>\w+(?:\s+\w+)?)\W*$|"
    r"^\W*(?:(?:yes|yeah|yep|yup|ok|okay|aight|alright|so|then|same|oops|ha|oh)\b\W*)*(?P<b>\w+(?:\s+\w+)?)\s+"
    r"(?:it is|then|100%|for sure|for (?:everyone|everybody|all of us|all|both of us|us all))\W*$|"
    r"^\W*(?:(?:so|then)\s+)?it['’]?s\s+(?P<c>\w+(?:\s+\w+)?)\s+(?:for (?:all|both|sure)|then)\b",
    re.IGNORECASE)


def _words(text: str) -> set[str]:
    return {w.casefold() for w in re.findall(r"[^\W_]{3,}|\d+", text)}


def restates_commitment(text: str, previous: str) -> bool:
    """Does ``text`` commit (a ``VERB: value`` line, not a deal's ``item=n`` split) and restate, as
    settled, the value it commits to, a value the last message its sender heard (``previous``)
    named too ("Blake it is. DECIDE: Blake", "yeah Parker. DECIDE: Parker", "then its Bauer for
    sure. SELECT: Esther Bauer", "oops. yeah Wren. SELECT: Wren", "Lou for everyone. SELECT: Lou"),
    or bare after a question that proposed it ("so... Ottilie?" - "Ottilie. SELECT: Ottilie Brask")?
    LABELLING.md: a confirmation "restates the agreed choice ... while committing"; a choice nobody
    else named is not agreed (a guess: "must be the laptop then")."""
    if ":" not in text or not previous:
        return False
    heard: set[str] | None = None
    for m in _COMMIT_LINE.finditer(text):
        heard = _words(previous) if heard is None else heard
        value = _words(m.group("value")) & heard
        if not value:
            continue
        asked = None
        for s in SENTENCE.finditer(text[:m.start()]):
            sentence = s.group(0).strip()
            if _BARE_YES.match(sentence):
                return True  # "yep. DECIDE: Avery" after "DECIDE: Avery" or "Avery?": a yes to the value heard
            settled = _SETTLED.match(sentence)
            if settled is None and _BARE_CHOICE.match(sentence):
                # the bare choice, answering a question that proposed it ("so... Ottilie?" - "Ottilie.")
                asked = proposes(previous) if asked is None else asked
                settled = _BARE_CHOICE.match(sentence) if asked else None
            if settled and _words(next(g for g in settled.groups() if g is not None)) & value:
                return True
    return False


# a sentence that is only a yes (SWBD-DAMSL ny / aa): "yep.", "Right.", "agreed"
_BARE_YES = re.compile(r"^\W*(?:yes|yep|yup|yeah|ya|yea|agreed|right|correct|exactly)\W*$", re.IGNORECASE)
_BARE_CHOICE = re.compile(r"^\W*(?P<d>\w+(?:\s+\w+)?)\W*$")


@dataclass(frozen=True)
class Gates:
    """Which searches can match in a message (the prefilter's answers, :mod:`privy.evaluators.prefilter`):
    a search whose gate is False is skipped. The default runs every search."""

    clarify: bool = True
    ack_any: bool = True
    confirm_any: bool = True
    agreement: bool = True


_EVERY = Gates()
_ACK_ANY_NEEDS, _CONFIRM_ANY_NEEDS, _AGREEMENT_NEEDS = needs(_ACK_ANY), needs(_CONFIRM_ANY), needs(_CHECKS_AGREEMENT)


def gates(text: str) -> Gates:
    """The gates of ``text`` (a whole message)."""
    low = lowered(text)
    return Gates(_CLARIFY_NEEDS.may_match(low), _ACK_ANY_NEEDS.may_match(low), _CONFIRM_ANY_NEEDS.may_match(low),
                 _AGREEMENT_NEEDS.may_match(low))


def sentence_acts(sentence: str, opening: bool, ctx: Context, clarify: bool = True,
                  gate: Gates = _EVERY) -> dict[str, str]:
    """The acts of one sentence (``opening``: the message's first). ``clarify``: False when the
    message cannot hold a clarification cue (a prefilter's answer), to skip that search; ``gate``:
    the same for the other searches (see :class:`Gates`)."""
    acts: dict[str, str] = {}
    evidence = sentence  # as written; ``classify`` gives it with chat elongations squeezed (see _squeeze)
    question = sentence.endswith("?")
    if question or asks(sentence):
        acts["question"] = evidence
        if ((clarify and _CLARIFY.search(sentence)) or (question and opening and echoes(sentence, ctx.previous))
                or checks_meaning(sentence, ctx.previous)):
            acts["clarification"] = evidence
        if gate.agreement and _CHECKS_AGREEMENT.search(sentence):
            acts["confirmation"] = evidence
        if question and _BARE_TOKEN.match(sentence):
            return acts
    answer = opening and ctx.after_question and _ANSWER.search(sentence)
    if (opening and ctx.after_question and not answer and _ACK.search(_clauses(sentence)[0] if sentence else "")
            and not _BLOCKED.search(sentence) and _checks_agreement(ctx.previous)):
        acts["confirmation"] = evidence  # SWBD-DAMSL aa: "ok with it", "sounds right" to "everyone ok with that?"
    if answer:
        acts["answer"] = evidence
        if not _NEGATIVE.search(sentence) and ctx.proposal and _AFFIRM.search(sentence):
            acts["confirmation"] = evidence
    said = _VERB_LINE.sub("", sentence)
    clauses = _clauses(said)
    if question:  # in a question only its opening may acknowledge or agree ("Right, and then?"), not a tag
        clauses = clauses[:1]
    if ctx.heard:
        received = _YOU_GOT_IT.sub("", said)  # "you got it": the other is right, a confirmation
        heard = _clauses(received)[:1] if question else _clauses(received)
        if any(_ACK.search(c) for c in (heard[1:] if answer else heard)) or (
                gate.ack_any and _clausal(_ACK_ANY, received)):
            acts["acknowledgement"] = evidence
    if any(_CONFIRM.search(c) for c in clauses) or (gate.confirm_any and _clausal(_CONFIRM_ANY, said)):
        acts["confirmation"] = evidence
    return acts


def classify(text: str, after_question: bool = False, ctx: Context | None = None,
             gate: Gates | None = None) -> dict[str, str]:
    """The grounding acts in ``text``: act -> the sentence that shows it. ``gate``: which searches
    to run (default: those the prefilter says can match; ``Gates()``: every one).

    ``after_question``: the text answers a question addressed to its sender (see the
    module's **answer**): its opening yes/no token is an answer, not an acknowledgement.
    ``ctx`` gives the whole context instead (see :class:`Context`).
    """
    ctx = ctx or Context(after_question=after_question)
    acts: dict[str, str] = {}
    first = True
    text = _squeeze(text)
    for m in SENTENCE.finditer(text):
        sentence = m.group(0).strip()
        if not sentence:
            continue
        opening = first
        if gate is None:
            gate = gates(text)
        found = sentence_acts(sentence, opening, ctx, gate.clarify, gate)
        # an interjection of one or two words first ("...how. yes", "omg. yes it is"): the answer opens after it
        # ("so... Ottilie?": after an inference particle what follows proposes, it does not reprise)
        first = (first and not found and len(sentence.split()) <= 2 and not sentence.endswith("?")
                 and not _INFERENCE.search(sentence))
        for act, evidence in found.items():
            acts.setdefault(act, evidence)
    if "confirmation" not in acts and (restates_commitment(text, ctx.previous) or accepts_offer(text, ctx.previous) or (
            _AGREE_WITH.search(text) and _COMMIT_LINE.search(text))):
        acts["confirmation"] = text.strip()  # "I agree with Parker. DECIDE: Parker": agreeing while committing
    return _yes_confirms(acts)


# An offer the last message heard made (LABELLING.md: a confirmation "explicitly confirms a shared
# conclusion or decision"; SWBD-DAMSL aa, Agree/Accept, is the answer to an offer or a suggestion):
# a question, a proposed split or choice ("I'll take", "you get", "let's", "how about", "give me"),
# or a commitment line the sender may match.
_OFFER = re.compile(
    r"\?|\b(?:i['’]?ll take|i take|you take|u take|you get|u get|you keep|u keep|let['’]?s|how about|what about|"
    r"give me|i propose|my offer|deal\?)\b|^\s*[A-Z]{3,}\s*\**\s*:", re.IGNORECASE | re.MULTILINE)
_VERB = re.compile(r"\b[A-Z]{3,}\s*\**\s*:")  # a commitment line's verb, a deal's split too
# SWBD-DAMSL aa (Agree/Accept) as an acceptance, not bk (a receipt: "ok", "got it", "great"): "I accept",
# "fine by me", "works for me", "sounds fair", "very well", "+1", "lgtm" (chat's "looks good to me")
_ACCEPTS = re.compile(rf"{_OPEN}(?:i (?:can )?accept|accepted|fine (?:by|with) me|works for me|suits me|"
                      r"sounds (?:good|fair|great|right)|very well|\+1|lgtm|looks good to me|that['’]?s fair|"
                      r"fair enough|happy with (?:that|it|this))(?!\w)", re.IGNORECASE)


def accepts_offer(text: str, previous: str) -> bool:
    """Does ``text`` accept what the last message heard offered and commit to it in the same message
    ("I accept. DEAL: ...", "fine by me. SELECT: Ivan", "+1. DECIDE: Blake")? Its opening sentence, before
    the commitment line, is an acceptance (_ACCEPTS, SWBD-DAMSL aa; a receipt such as "ok" is not one), not
    negated nor asked, and ``previous`` made an offer (_OFFER). An acceptance with a commitment after no
    offer (opening a negotiation) is not scored as one."""
    line = _VERB.search(text) if ":" in text else None
    if line is None or not previous or not _OFFER.search(previous):
        return False
    before = text[:line.start()]
    first = next((s.group(0).strip() for s in SENTENCE.finditer(before) if re.search(r"\w", s.group(0))), "")
    if not first or first.endswith("?") or _BLOCKED.search(first):
        return False
    return bool(_ACCEPTS.search(first))


def _yes_confirms(acts: dict[str, str]) -> dict[str, str]:
    """A bare yes that confirms ("Right. SELECT: Tess" after "Tess?") is the confirmation, not also an
    acknowledgement of what it confirms, as a yes that answers is an answer only."""
    if "confirmation" in acts and _BARE_YES.match(acts.get("acknowledgement", "")):
        del acts["acknowledgement"]
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
    "said. acknowledgement: signals the other's message was received or accepted (ok, got it, thanks, sure, "
    "makes sense). confirmation: explicitly confirms a shared conclusion or decision (we agree it's Tess, "
    "deal), checks that both sides agree, or says yes to a proposed conclusion (is it the sailboat? - yes). "
    "answer: a yes or no that answers a question in the previous message; such a yes or no is an "
    "answer, not an acknowledgement, and a yes to a question of fact is not a confirmation.\n"
)


def llm_prompt(text: str, previous: str | None) -> str:
    """The classifier's prompt for ``text``, after ``previous`` (the last message its sender received)."""
    before = f"Previous message: {previous}\n" if previous else "Previous message: (none)\n"
    return _LLM_PROMPT + before + "Message: " + text


def llm_acts(data: dict[str, object], ctx: Context) -> dict[str, str]:
    """The acts of the classifier's JSON reply, under the rules' reading of the context: an answer
    only after a question addressed to the sender (:func:`answers_question`), and then not also an
    acknowledgement (the yes is the answer), nor a confirmation unless the question proposed a
    conclusion (:func:`proposes`); nothing acknowledged before anything was heard."""
    acts = {a: "LLM classifier" for a in ACTS if data.get(a) is True}
    if not ctx.after_question:
        acts.pop("answer", None)
    if "answer" in acts or not ctx.heard:
        acts.pop("acknowledgement", None)
    if "answer" in acts and not ctx.proposal and not data.get("question"):
        acts.pop("confirmation", None)  # a yes to a question of fact: an answer only
    return acts


def with_episode_acts(m: Message, acts: dict[str, str], confirmed: set[int], checked: dict[int, str],
                      fragments: set[int]) -> dict[str, str]:
    """``acts`` of message ``m`` with the acts only the episode shows: a holder confirming a guess
    (:func:`answer_confirmations`), a check of a name just heard (:func:`identity_checks`), the
    asker's bare fragment in a guessing game (:func:`fragment_questions`)."""
    if m.id in confirmed and "confirmation" not in acts:
        acts = _yes_confirms({**acts, "confirmation": m.content.strip()})
    if m.id in checked and "clarification" not in acts:
        acts = {**acts, "clarification": checked[m.id]}
    if m.id in fragments and "question" not in acts:
        acts = {**acts, "question": m.content.strip()}
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
        ctxs = contexts(episode)
        confirmed = set() if self.backend else answer_confirmations(episode, ctxs)
        checked: dict[int, str] = {} if self.backend else identity_checks(episode, ctxs)
        fragments = set() if self.backend else fragment_questions(episode, ctxs)
        try:
            for m, ctx in zip(episode.messages, ctxs, strict=True):
                acts = await self._llm_acts(m.content, ctx) if self.backend else classify(m.content, ctx=ctx)
                acts = with_episode_acts(m, acts, confirmed, checked, fragments)
                for act, evidence in acts.items():
                    counts[act] += 1
                    findings.append(Finding(kind=act, message_id=m.id, agent=m.sender, reason=evidence))
        except (ValueError, RuntimeError) as err:
            return Score(evaluator=self.name, value=None, error=str(err), findings=findings)
        n = len(episode.messages)
        metrics: dict[str, float | None] = {f"{a}_per_turn": (c / n if n else None) for a, c in counts.items()}
        total = sum(counts.values())
        return Score(evaluator=self.name, value=total / n if n else None, metrics=metrics, findings=findings)


_DENIES = re.compile(r"\b(?:not|no|nope|nah|wrong|never|isn['’]t|n['’]t)\b|n['’]t\b", re.IGNORECASE)


def answer_confirmations(episode: Episode, ctxs: list[Context] | None = None) -> set[int]:
    """Messages in which a holder of the task's one answer (the secret item, the answer key: see
    :func:`privy.evaluators.mentions.answer_facts`) confirms a guess at it: the last message it heard
    named the answer in its last sentence, and it says yes, or names the answer too when that sentence
    asked, with no negation ("is it a toaster?" - "yep, toaster", "the toaster, yes", "it is the
    toaster!"; "so 211?" - "right"; "GUESS: toaster" - "yep"). Naming it after a guess that asked
    nothing ("GUESS: carrot" - "well, it is the carrot") is not explicit: not scored. SWBD-DAMSL aa/ny in
    answer to a proposal: LABELLING.md's confirmation of a shared conclusion; the scenario says who
    can confirm it. ``ctxs``: :func:`contexts` of the episode, if already computed."""
    s = episode.scenario
    facts = answer_facts(s)
    if not facts:
        return set()
    answer = next(iter(facts.values()))
    holders = {h for fid in facts for h in s.fact(fid).holders}
    out = set()
    for m, ctx in zip(episode.messages, ctxs or contexts(episode), strict=True):
        last = _last_sentence(ctx.previous)
        if (m.sender in holders and answer.found_in(last) and not _DENIES.search(m.content)
                and (affirms(m.content) or (answer.found_in(m.content) and _asks_something(last)))):
            out.add(m.id)
    return out


def _last_sentence(text: str) -> str:
    """The last sentence of ``text`` with a word in it: the one a reply answers first."""
    return next((s.group(0) for s in reversed(list(SENTENCE.finditer(text))) if re.search(r"\w", s.group(0))), "")


def affirms(text: str) -> bool:
    """Does ``text`` open by saying yes to what it answers ("yes", "yep she is", "that is right",
    "exactly", "correct: ...")? Its first clause, not negated, after at most a few interjections of
    one or two words ("...how. yes")."""
    for m in SENTENCE.finditer(text):
        clause = next(iter(_clauses(m.group(0).strip())), "")
        if not clause.strip():
            continue
        if _NEGATIVE.search(clause):
            return False
        if _ANSWER.search(clause) or _CONFIRM.search(clause) or _clausal(_CONFIRM_ANY, clause):
            return True
        if len(clause.split()) > 2:  # a statement first: no yes to open with
            return False
        # an interjection first ("...how. yes", "omg. yes!"): the next sentence may hold the yes
    return False


# A check of whom a name just heard refers to, by a detail of that person ("oxford grad?", "the one
# at Initech?", "The climbing guy, right?"): Purver 2004's clarification of a referent, SWBD-DAMSL br.
# A short question that is no wh- or yes/no question of its own, holding a distinctive word of a
# fact (privy.evaluators.mentions.detail_stems), after a message that named a fact.
_MAX_CHECK_WORDS = 8
_PRONOUN = re.compile(r"\b(?:i|you|u|we|he|she|they|it)\b", re.IGNORECASE)  # a clause, not a fragment
_TAG_CLAUSE = re.compile(r"^\W*(?:right|yeah|yes|no|eh|innit|isn['’]t (?:it|she|he)|correct)\W*$", re.IGNORECASE)


def _checked_clause(question: str) -> str:
    """The last clause of ``question`` that is not a tag ("The climbing one, right?": "The climbing one")."""
    parts = _clauses(question)
    while len(parts) > 1 and _TAG_CLAUSE.match(parts[-1]):
        parts.pop()
    return parts[-1] if parts else ""


def identity_checks(episode: Episode, ctxs: list[Context] | None = None) -> dict[int, str]:
    """Message id -> the sentence that checks a referent by one of its details (see above)."""
    s = episode.scenario
    details = frozenset().union(*detail_stems(s).values()) if s.facts else frozenset()
    if not details:
        return {}
    mentions = [mn for f in s.facts for mn in f.mentions]
    out: dict[int, str] = {}
    for m, ctx in zip(episode.messages, ctxs or contexts(episode), strict=True):
        if "?" not in m.content or not ctx.previous or not any(mn.found_in(ctx.previous) for mn in mentions):
            continue
        for sm in SENTENCE.finditer(m.content):
            q = sm.group(0).strip()
            if (q.endswith("?") and len(q.split()) <= _MAX_CHECK_WORDS and not re.search(r"\d", q)
                    and not any(_OPENS_QUESTION.match(c) for c in _clauses(q)) and not _INFERENCE.search(q)
                    and stems_of(last := _checked_clause(q)) & details and not _PRONOUN.search(last)
                    and not any(mn.found_in(last) for mn in mentions)):
                out.setdefault(m.id, q)
    return out


# A guess's bare fragment ("legs", "wheels"): a yes/no question about a property with its "?" and
# its verb dropped (SWBD-DAMSL qy, Purver's fragments), in a game where one side holds the one
# answer and the other asks (privy.evaluators.mentions.answer_facts). Only the asking side's
# one-word messages of three letters or more, not answering a question put to it, not a yes/no,
# acknowledgement or agreement token nor an interjection.
_ONE_WORD = re.compile(r"^\W*(?P<w>[^\W\d_]{3,})\W*$")
_PARTICLE_ONLY = re.compile(rf"^\W*{_PARTICLE}\W*$", re.IGNORECASE)


def fragment_questions(episode: Episode, ctxs: list[Context] | None = None) -> set[int]:
    """Ids of the one-word fragments that ask (see above)."""
    s = episode.scenario
    facts = answer_facts(s)
    if not facts:
        return set()
    holders = {h for fid in facts for h in s.fact(fid).holders}
    out = set()
    for m, ctx in zip(episode.messages, ctxs or contexts(episode), strict=True):
        if m.sender in holders or ctx.after_question or not _ONE_WORD.match(m.content):
            continue
        if (_ANSWER.search(m.content) or _ACK.search(m.content) or _CONFIRM.search(m.content)
                or _PARTICLE_ONLY.match(m.content)):
            continue  # a yes/no, an acknowledgement, an agreement or an interjection ("hmm", "lol")
        out.add(m.id)
    return out
