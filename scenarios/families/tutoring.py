"""tutoring: a teacher who holds the answer key corrects a student who holds a misconception.

The asymmetry that creates a learning signal. Each instance is a small word problem
whose answer depends on one quantity nobody can work out from the public text: the
price of an item at a fictional market, or the value of a coin of a fictional kingdom.

* Both agents hold the **problem** and the **feedback rule** (public facts).
* The **student** holds its working (``3 × p + 2 × 4``, correct but for ``p``), a wrong
  **belief** about the unknown quantity, and an ordered list of **next guesses**, one of
  which is right. Its first proposal is therefore wrong.
* The **teacher** holds the **answer key** (the answer and the true quantity) when
  ``asymmetry`` is true. In the symmetric control (``asymmetry: false``) nobody holds
  it: the teacher knows no more than the student.

Success is the student's final answer: task kind ``answer``, committers ``[student]``,
commitment ``ANSWER: <number>``, ``ends_when: any_committed``. Before committing the
student proposes answers (``My answer is N.``) and the teacher replies.

Parameters (see :class:`TutoringParams`): ``feedback`` (``evaluative``: the teacher may
only say right or wrong; ``directive``: it may say what to change, i.e. the true value of
the quantity the student got wrong), ``asymmetry``, ``candidates`` (how many values the
student considers, its wrong belief first), ``terms`` (public priced terms besides the
unknown one: the arithmetic load), ``theme`` and ``max_turns``.

Baseline protocol (:meth:`Tutoring.policy`, from the agent's own view only):

* student: propose the answer its belief gives. After "That is right." commit it. After
  a directive correction ("That is wrong: one plum costs 6 pennies.") recompute with the
  corrected value and commit. After "That is wrong." drop that candidate and propose the
  next one (commit at once when a single candidate is left). After anything else (the
  teacher cannot check) commit the current proposal.
* teacher with the key: "That is right." / "That is wrong." (evaluative) / "That is
  wrong: <the true value of the quantity>." (directive). Without the key: "I do not
  have the answer key, so I cannot check N."

With the key the baseline always succeeds: in 3 turns with directive feedback, in up to
``2 × candidates − 1`` with evaluative feedback (elimination). Without it (the control,
or :meth:`Tutoring.withhold`) the student commits its wrong belief: the correction
signal disappears with the gap.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from privy.scenarios.families.base import FamilyParams, PolicyInput
from privy.simulator.bus import Message
from privy.simulator.scenario import AgentSpec, Commitment, Fact, Limits, Mention, Scenario, Task

STUDENT, TEACHER = "student", "teacher"
VERB = "ANSWER"

_STUDENTS = ["Sam", "Noor", "Ivo", "Lena", "Tomas", "Ama", "Kai", "Rosa", "Yuki", "Omar"]
_TEACHERS = ["Ms Reyes", "Mr Okafor", "Dr Lind", "Ms Haddad", "Mr Novak", "Ms Tanaka", "Dr Achebe"]
# (singular, plural) goods of the Vell market; prices there are invented, so no one can know them.
_GOODS = [("plum", "plums"), ("fig", "figs"), ("pear", "pears"), ("quince", "quinces"), ("leek", "leeks"),
          ("turnip", "turnips"), ("walnut", "walnuts"), ("apricot", "apricots"), ("radish", "radishes"),
          ("melon", "melons")]
# Coins of the kingdom of Vell, counted in bits; invented, so their values are unknowable.
_COINS = [("brisk", "brisks"), ("tallow", "tallows"), ("merrow", "merrows"), ("quint", "quints"),
          ("harl", "harls"), ("sable", "sables")]

_PROPOSAL = re.compile(r"my answer is\s*(-?\d+)", re.IGNORECASE)
_RIGHT = re.compile(r"\bthat is right\b", re.IGNORECASE)
_WRONG = re.compile(r"\bthat is wrong\b", re.IGNORECASE)
_KEY = re.compile(r"^Answer key: (-?\d+) \w+ \((.+)\)\.$")


class TutoringParams(FamilyParams):
    feedback: Literal["evaluative", "directive"] = Field(
        default="evaluative",
        description="evaluative: the teacher may only say right or wrong; directive: it may say what to change.")
    asymmetry: bool = Field(
        default=True, description="true: the teacher holds the answer key; false: the symmetric control.")
    candidates: int = Field(
        default=4, ge=2, le=8, description="Values the student considers for the unknown, its wrong belief first.")
    terms: int = Field(default=2, ge=0, le=4, description="Public priced terms besides the unknown one.")
    theme: Literal["any", "market", "coins"] = Field(default="any", description="Kind of word problem.")
    max_turns: int | None = Field(
        default=None, ge=1, le=200, description="Turn limit (default: 2 × candidates + 2).")

    @model_validator(mode="after")
    def _feasible(self) -> TutoringParams:
        if self.max_turns is not None and self.max_turns < self.turns_needed:
            raise ValueError(
                f"max_turns={self.max_turns} is too few: {self.feedback} feedback with candidates="
                f"{self.candidates} may need {self.turns_needed} turns"
                + (" (a proposal and a reply per wrong candidate, then the commitment)"
                   if self.feedback == "evaluative" else " (proposal, correction, commitment)")
                + f"; expected max_turns >= {self.turns_needed}")
        return self

    @property
    def turns_needed(self) -> int:
        """Worst case of the baseline with the answer key."""
        return 3 if self.feedback == "directive" else 2 * self.candidates - 1

    @property
    def turn_limit(self) -> int:
        return self.max_turns if self.max_turns is not None else 2 * self.candidates + 2


@dataclass(frozen=True)
class _Problem:
    text: str  # the public problem statement
    working: str  # the student's set-up, with the unknown as a variable
    unknown: str  # what the variable stands for, e.g. "the price of one plum in pennies"
    phrase: str  # a statement of the unknown's value with {} for the number
    word: str  # the unknown's singular noun, for mentions
    unit: str
    lo: int
    hi: int


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _market(rng: random.Random, terms: int, buyer: str) -> _Problem:
    goods = rng.sample(_GOODS, terms + 1)
    counts = [rng.randint(2, 9) for _ in goods]
    prices = [rng.randint(2, 9) for _ in goods[1:]]
    bought = _join([f"{n} {plural}" for n, (_, plural) in zip(counts, goods, strict=True)])
    priced = _join([f"one {sing} costs {p} pennies" for p, (sing, _) in zip(prices, goods[1:], strict=True)])
    sing0 = goods[0][0]
    text = (f"Problem: at the market of Vell, {buyer} buys {bought}. "
            + (f"There, {priced}. " if prices else "")
            + "How many pennies does " + buyer + " pay in all?")
    working = " + ".join([f"{counts[0]} × p"] + [f"{n} × {p}" for n, p in zip(counts[1:], prices, strict=True)])
    return _Problem(text=text, working=working, unknown=f"the price of one {sing0} in pennies",
                    phrase=f"one {sing0} costs {{}} pennies", word=sing0, unit="pennies", lo=2, hi=16)


def _coins(rng: random.Random, terms: int, _buyer: str) -> _Problem:
    coins = rng.sample(_COINS, terms + 1)
    counts = [rng.randint(2, 9) for _ in coins]
    values = [rng.randint(3, 12) for _ in coins[1:]]
    held = _join([f"{n} {plural}" for n, (_, plural) in zip(counts, coins, strict=True)])
    rates = _join([f"one {sing} is worth {v} bits" for v, (sing, _) in zip(values, coins[1:], strict=True)])
    sing0 = coins[0][0]
    text = (f"Problem: in the kingdom of Vell, how many bits are {held} worth? "
            + (f"In Vell, {rates}." if values else "All coins of Vell are counted in bits."))
    working = " + ".join([f"{counts[0]} × v"] + [f"{n} × {v}" for n, v in zip(counts[1:], values, strict=True)])
    return _Problem(text=text, working=working, unknown=f"the number of bits one {sing0} is worth",
                    phrase=f"one {sing0} is worth {{}} bits", word=sing0, unit="bits", lo=5, hi=30)


def evaluate_working(working: str, value: int) -> int:
    """``3 × p + 2 × 4`` with the variable (any single letter) set to ``value``."""
    total = 0
    for term in working.split("+"):
        product = 1
        for factor in term.split("×"):
            f = factor.strip()
            product *= int(f) if re.fullmatch(r"-?\d+", f) else value
        total += product
    return total


def _mention(word: str, value: int) -> Mention:
    """The unknown's word near its value, e.g. 'plum ... 6' (no digit in between)."""
    return Mention(regex=rf"\b{re.escape(word)}(e?s)?\b\D{{0,30}}(?<!\d){value}(?!\d)")


class Tutoring:
    name: ClassVar[str] = "tutoring"
    description: ClassVar[str] = (
        "A teacher with the answer key (or, in the control, without it) gives evaluative or directive "
        "feedback to a student with a misconception; success is the student's final answer.")
    Params: ClassVar[type[FamilyParams]] = TutoringParams

    def generate(self, rng: random.Random, index: int, params: FamilyParams) -> Scenario:
        p = params if isinstance(params, TutoringParams) else TutoringParams.model_validate(params.model_dump())
        student, teacher = rng.choice(_STUDENTS), rng.choice(_TEACHERS)
        theme = p.theme if p.theme != "any" else rng.choice(["market", "coins"])
        problem = (_market if theme == "market" else _coins)(rng, p.terms, student)
        values = rng.sample(range(problem.lo, problem.hi + 1), p.candidates)
        truth = values[rng.randrange(1, p.candidates)]  # never the first: the belief is wrong
        belief = values[0]
        guesses = values[1:]
        answer = evaluate_working(problem.working, truth)

        rule = ("Feedback rule: the teacher may only say whether a proposed answer is right or wrong."
                if p.feedback == "evaluative" else
                "Feedback rule: the teacher may say what to change in a wrong answer, but not the answer itself.")
        facts = [
            Fact(id="problem", text=problem.text, holders=[STUDENT, TEACHER]),
            Fact(id="feedback_rule", text=rule, holders=[STUDENT, TEACHER]),
            Fact(id="working", text=f"Your working: {problem.working}, where the letter is {problem.unknown}.",
                 holders=[STUDENT]),
            Fact(id="belief", text=f"You believe that {problem.phrase.format(belief)}.", holders=[STUDENT],
                 mentions=[_mention(problem.word, belief)]),
            Fact(id="guesses",
                 text=(f"If that is wrong, your next guesses for {problem.unknown} are, in order: "
                       f"{_join([str(g) for g in guesses])}."),
                 holders=[STUDENT]),
        ]
        needed: list[str] = []
        if p.asymmetry:
            facts.append(Fact(
                id="answer_key", text=f"Answer key: {answer} {problem.unit} ({problem.phrase.format(truth)}).",
                holders=[TEACHER], mentions=[_mention(problem.word, truth)]))
            needed = ["answer_key"]

        may = ("say only whether each proposed answer is right or wrong" if p.feedback == "evaluative"
               else "say what to change in a wrong answer, but never the answer itself")
        side = "with" if p.asymmetry else "without"
        return Scenario(
            id=f"tutoring_{p.feedback}_{'gap' if p.asymmetry else 'control'}_{index:04d}",
            title=f"Tutoring: {p.feedback} feedback, teacher {side} the answer key ({theme} problem)",
            family=self.name,
            context=(f"{teacher} is tutoring {student} on a word problem. {student} proposes answers by saying "
                     f"'My answer is N.' and {teacher} replies with feedback. The session ends when {student} "
                     f"writes a line '{VERB}: N' with the final number."),
            agents=[
                AgentSpec(id=STUDENT, name=student, persona="A student working on a word problem.",
                          goal=(f"Give the right answer to the problem. Propose answers to {teacher} as "
                                f"'My answer is N.'; when you are confident, write '{VERB}: N' (the number only).")),
                AgentSpec(id=TEACHER, name=teacher, persona="A tutor.",
                          goal=f"Help {student} reach the right answer. You may {may}."),
            ],
            facts=facts,
            limits=Limits(max_turns=p.turn_limit, max_tokens=80),
            task=Task(kind="answer", commitment=Commitment(verb=VERB), answer=str(answer), needed_facts=needed,
                      committers=[STUDENT], ends_when="any_committed"),
        )

    def check(self, scenario: Scenario) -> None:
        s = scenario
        assert s.family == self.name
        assert s.agent_ids == [STUDENT, TEACHER], s.agent_ids
        t = s.task
        assert (t.kind, t.commitment.verb, t.committers, t.ends_when) == ("answer", VERB, [STUDENT], "any_committed")
        assert t.answer is not None and re.fullmatch(r"-?\d+", t.answer), t.answer
        facts = {f.id: f for f in s.facts}
        for fid, holders in (("problem", [STUDENT, TEACHER]), ("feedback_rule", [STUDENT, TEACHER]),
                             ("working", [STUDENT]), ("belief", [STUDENT]), ("guesses", [STUDENT])):
            assert facts[fid].holders == holders, (fid, facts[fid].holders)
        view = _StudentView.of(s.facts_of(STUDENT))
        assert view is not None
        answers = [evaluate_working(view.working, c) for c in view.candidates]
        assert len(set(answers)) == len(answers), "candidates must give distinct answers"
        assert answers.count(int(t.answer)) == 1 and answers[0] != int(t.answer), (answers, t.answer)
        position = answers.index(int(t.answer))
        evaluative = "only say whether" in facts["feedback_rule"].text
        needed = 3 if not evaluative else 2 * position + (1 if position == len(answers) - 1 else 3)
        assert s.limits.max_turns >= needed, (s.limits.max_turns, needed)
        key = facts.get("answer_key")
        if key is None:  # the symmetric control: nobody holds the answer or the true value
            assert t.needed_facts == []
        else:
            assert key.holders == [TEACHER] and t.needed_facts == ["answer_key"]
            m = _KEY.match(key.text)
            assert m and m.group(1) == t.answer, key.text
            true_value = int(re.findall(r"\d+", m.group(2))[0])
            assert evaluate_working(view.working, true_value) == int(t.answer)
            assert key.mentioned_in(m.group(2)) and not key.mentioned_in(facts["belief"].text)
        public = s.context + " ".join(a.persona + a.goal for a in s.agents)
        assert t.answer not in re.findall(r"\d+", public), "the answer must not be public"

    def policy(self, inp: PolicyInput) -> str:
        return _student_turn(inp) if inp.me == STUDENT else _teacher_turn(inp)

    def shortcut(self, scenario: Scenario, me: str) -> str | None:
        """Full state: the student uses the teacher's answer key and answers at once; the control has no key,
        so the student commits its own belief. The teacher has no shortcut (it plays its policy)."""
        if me != STUDENT:
            return None
        key = next((m for f in scenario.facts if f.id == "answer_key" and (m := _KEY.match(f.text))), None)
        if key is not None:
            return f"Since {key.group(2)}, the total is {key.group(1)}.\n{VERB}: {key.group(1)}"
        view = _StudentView.of(scenario.facts_of(STUDENT))
        if view is None:
            return None
        answer = evaluate_working(view.working, view.candidates[0])
        return f"My answer is {answer}.\n{VERB}: {answer}"

    def withhold(self, scenario: Scenario) -> Scenario:
        facts = [f for f in scenario.facts if f.id != "answer_key"]
        task = scenario.task.model_copy(update={"needed_facts": []})
        return scenario.model_copy(update={"facts": facts, "task": task})


@dataclass(frozen=True)
class _StudentView:
    working: str
    candidates: list[int]
    pattern: re.Pattern[str]  # finds a corrected value of the unknown in a message

    @classmethod
    def of(cls, facts: list[Fact]) -> _StudentView | None:
        by_id = {f.id: f.text for f in facts}
        if not {"working", "belief", "guesses"} <= set(by_id):
            return None
        working = by_id["working"].removeprefix("Your working: ").split(", where")[0]
        statement = by_id["belief"].removeprefix("You believe that ").rstrip(".")
        belief = re.findall(r"\d+", statement)[0]
        guesses = [int(g) for g in re.findall(r"\d+", by_id["guesses"].split(" are, in order:")[-1])]
        source = re.escape(statement).replace(re.escape(belief), r"(\d+)", 1)
        return cls(working, [int(belief), *guesses], re.compile(source, re.IGNORECASE))


def _last_from(messages: list[Message], sender_is_me: bool, me: str) -> Message | None:
    return next((m for m in reversed(messages) if (m.sender == me) == sender_is_me), None)


def _student_turn(inp: PolicyInput) -> str:
    view = _StudentView.of(inp.facts)
    if view is None:
        return "I do not have my working; can you tell me the answer?"
    answers = [evaluate_working(view.working, c) for c in view.candidates]
    mine = [m for m in inp.messages if m.sender == inp.me]
    proposed = [int(x) for m in mine for x in _PROPOSAL.findall(m.content)]
    if not proposed:
        return f"My answer is {answers[0]}."
    last_mine = mine[-1]
    replies = [m for m in inp.messages if m.sender != inp.me and m.id > last_mine.id]
    if not replies:
        return f"My answer is {proposed[-1]}."
    reply = replies[-1].content
    corrected = view.pattern.search(reply)
    if corrected:
        final = evaluate_working(view.working, int(corrected.group(1)))
        return f"Thank you, I will use that.\n{VERB}: {final}"
    if _RIGHT.search(reply) and not _WRONG.search(reply):
        return f"Great.\n{VERB}: {proposed[-1]}"
    if _WRONG.search(reply):
        left = [a for a in answers if a not in proposed]
        if len(left) == 1:
            return f"Then it must be {left[0]}.\n{VERB}: {left[0]}"
        if left:
            return f"My answer is {left[0]}."
    return f"Then I will keep my answer.\n{VERB}: {proposed[-1]}"


def _teacher_turn(inp: PolicyInput) -> str:
    by_id = {f.id: f.text for f in inp.facts}
    last = _last_from(inp.messages, False, inp.me)
    found = _PROPOSAL.findall(last.content) if last is not None else []
    if not found:
        return "What is your answer? Say 'My answer is N.'"
    proposal = int(found[-1])
    key = _KEY.match(by_id.get("answer_key", ""))
    if key is None:
        return f"I do not have the answer key, so I cannot check {proposal}."
    if proposal == int(key.group(1)):
        return "That is right."
    if "only say whether" in by_id.get("feedback_rule", ""):
        return "That is wrong."
    return f"That is wrong: {key.group(2)}."


FAMILY = Tutoring()
