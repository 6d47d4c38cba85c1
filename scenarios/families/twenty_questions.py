"""Twenty questions: one agent holds a secret item from a known candidate set, the other asks.

The answerer privately holds the secret item (one fact). Both agents hold the public
candidate table (one shared fact): ``n_candidates`` items and, for each, the true
yes/no answer to each of ``n_attributes`` questions ("Is it an animal?"). The guesser
asks yes/no questions and commits with ``GUESS: <item>``; only its commitment counts
(``committers``), the first one ends the episode, and success is naming the secret.

Ground truth (``check``): the secret is one of the candidates and the task's
``answer``; the table's rows are the true attributes of the pool and are pairwise
different, so yes/no questions identify every candidate; ``max_turns`` leaves room for
the reference strategy's worst case plus ``extra_questions``.

Baseline (``policy``). Guesser: keep the candidates consistent with the answers so far;
while more than one remains, ask the table question that splits them most evenly
(ties: table order); when one remains, ask "Is it the <item>?"; after "Yes, it is the
<item>." commit ``GUESS: <item>``. It never guesses among several candidates. Answerer:
reply to the table question in the last message from its secret's row ("Yes." / "No."),
to "Is it the <item>?" with "Yes, it is the <item>." or "No, it is not the <item>.",
and "I don't know." when it does not know the secret.

``withhold`` makes the answerer forget the secret: every answer is "I don't know.", the
candidates never narrow down, and the guesser never guesses.
"""

from __future__ import annotations

import functools
import itertools
import random
import re
from typing import ClassVar

from pydantic import Field, model_validator

from privy.scenarios.families.base import FamilyParams, PolicyInput
from privy.simulator.scenario import Fact, Mention, Scenario

QUESTIONS = (
    "Is it an animal?",
    "Is it a plant or part of one?",
    "Is it bigger than a person?",
    "Can it fly?",
    "Does it live or work in water?",
    "Do people usually eat it?",
    "Does it have wheels?",
    "Does it plug into the wall?",
    "Is it made mostly of metal?",
    "Does it have legs?",
    "Is it usually found in a kitchen?",
    "Is it round?",
)
# One row per item, one column per question above (1: yes).
POOL: dict[str, str] = {
    "eagle":        "100100000100",
    "penguin":      "100010000100",
    "shark":        "101010000000",
    "goldfish":     "100010000000",
    "elephant":     "101000000100",
    "cat":          "100000000100",
    "chicken":      "100001000100",
    "oak tree":     "011000000000",
    "apple":        "010001000011",
    "carrot":       "010001000010",
    "bicycle":      "000000101000",
    "car":          "001000101000",
    "airplane":     "001100101000",
    "submarine":    "001010001000",
    "sailboat":     "001010000000",
    "laptop":       "000000010000",
    "refrigerator": "001000011010",
    "toaster":      "000000011010",
    "chair":        "000000000100",
    "spoon":        "000000001010",
    "hammer":       "000000001000",
    "guitar":       "000000000000",
    "football":     "000000000001",
}
AGENT_NAMES = ("Alice", "Bob", "Carmen", "David", "Elena", "Frank", "Gwen", "Henry", "Iris", "Jack", "Kira", "Liam")
TABLE_INTRO = "The candidates, with the true answers, in this order, to the questions:"
FORGOTTEN = "You were meant to pick a secret item, but you have forgotten which one it was."
SECRET_INTRO = "The secret item is the "
UNKNOWN = "I don't know."

Row = tuple[bool, ...]


def _truth(item: str, attrs: tuple[int, ...]) -> Row:
    return tuple(POOL[item][a] == "1" for a in attrs)


def _distinct(attrs: tuple[int, ...]) -> int:
    """How many pool items these questions tell apart (different answer rows)."""
    return len({_truth(item, attrs) for item in POOL})


@functools.cache
def _subsets(k: int) -> list[tuple[tuple[int, ...], int]]:
    """Every choice of ``k`` questions, with how many pool items it tells apart."""
    return [(attrs, _distinct(attrs)) for attrs in itertools.combinations(range(len(QUESTIONS)), k)]


class TwentyQuestionsParams(FamilyParams):
    n_candidates: int = Field(default=8, ge=2, le=len(POOL), description="Items the secret is drawn from.")
    n_attributes: int = Field(default=5, ge=1, le=len(QUESTIONS), description="Yes/no questions in the table.")
    extra_questions: int = Field(default=2, ge=0, le=100, description=(
        "Questions allowed beyond the reference strategy's worst case (sets max_turns)."))

    @model_validator(mode="after")
    def _possible(self) -> TwentyQuestionsParams:
        n, k = self.n_candidates, self.n_attributes
        if n > 2 ** k:
            raise ValueError(f"n_attributes={k} yes/no questions tell at most {2 ** k} items apart; "
                             f"n_candidates={n} needs n_attributes >= {(n - 1).bit_length()}")
        best = max(d for _, d in _subsets(k))
        if n > best:
            raise ValueError(f"no {k} of the {len(QUESTIONS)} questions tell more than {best} of the pool's "
                             f"items apart; expected n_candidates <= {best} or more attributes")
        return self


def table_text(candidates: list[str], attrs: tuple[int, ...]) -> str:
    header = " ".join(f"({j}) {QUESTIONS[a]}" for j, a in enumerate(attrs, 1))
    rows = [f"- {item}: " + ", ".join("yes" if POOL[item][a] == "1" else "no" for a in attrs) for item in candidates]
    return f"{TABLE_INTRO} {header}\n" + "\n".join(rows)


def parse_table(text: str) -> tuple[list[str], dict[str, dict[str, bool]]] | None:
    """``(questions, {item: {question: answer}})`` from a table fact, None if ``text`` is not one."""
    if not text.startswith(TABLE_INTRO):
        return None
    lines = text.splitlines()
    questions = [q.strip() for q in re.findall(r"\(\d+\) ([^?]+\?)", lines[0])]
    table: dict[str, dict[str, bool]] = {}
    for line in lines[1:]:
        m = re.match(r"- (.+?): ((?:yes|no)(?:, (?:yes|no))*)$", line)
        if m and len(answers := m.group(2).split(", ")) == len(questions):
            table[m.group(1)] = {q: a == "yes" for q, a in zip(questions, answers, strict=True)}
    return questions, table


def secret_mention(item: str) -> Mention:
    """The item confirmed as the secret ("it is the eagle"), not asked about ("Is it the eagle?")."""
    return Mention(regex=rf"\b(?:it|secret(?: item)?|answer)\s+(?:is|was)\s+(?:the\s+|an?\s+)?{re.escape(item)}\b")


def best_question(remaining: list[str], questions: list[str], table: dict[str, dict[str, bool]]) -> str | None:
    """The question splitting ``remaining`` most evenly (first in table order on ties); None if none splits."""
    best: tuple[int, str] | None = None
    for q in questions:
        yes = sum(table[c][q] for c in remaining)
        if 0 < yes < len(remaining):
            worst = max(yes, len(remaining) - yes)
            if best is None or worst < best[0]:
                best = (worst, q)
    return best[1] if best else None


def strategy_depth(candidates: list[str], questions: list[str], table: dict[str, dict[str, bool]]) -> int:
    """Table questions the guesser's strategy asks in the worst case (before "Is it the X?")."""
    if len(candidates) <= 1:
        return 0
    q = best_question(candidates, questions, table)
    if q is None:
        raise ValueError(f"the table does not tell {candidates} apart")
    yes = [c for c in candidates if table[c][q]]
    no = [c for c in candidates if not table[c][q]]
    return 1 + max(strategy_depth(yes, questions, table), strategy_depth(no, questions, table))


def _reply(content: str) -> bool | None:
    m = re.match(r"\W*(yes|no)\b", content, re.IGNORECASE)
    return None if m is None else m.group(1).lower() == "yes"


def _asked_item(content: str, candidates: list[str]) -> str | None:
    for c in candidates:
        if re.search(rf"\bis it (?:the |an? )?{re.escape(c)}\s*\?", content, re.IGNORECASE):
            return c
    return None


def _asked_question(content: str, questions: list[str]) -> str | None:
    return next((q for q in questions if q.lower() in content.lower()), None)


class TwentyQuestions:
    name: ClassVar[str] = "twenty_questions"
    description: ClassVar[str] = ("One agent holds a secret item from a public candidate table; the other asks "
                                  "yes/no questions and commits to a guess.")
    Params: ClassVar[type[FamilyParams]] = TwentyQuestionsParams

    def generate(self, rng: random.Random, index: int, params: FamilyParams) -> Scenario:
        assert isinstance(params, TwentyQuestionsParams)
        n, k = params.n_candidates, params.n_attributes
        tag = f"{rng.getrandbits(32):08x}"
        g_name, a_name = rng.sample(AGENT_NAMES, 2)
        guesser, answerer = g_name.lower(), a_name.lower()
        subsets = [attrs for attrs, d in _subsets(k) if d >= n]
        attrs = rng.choice(subsets)
        groups: dict[Row, list[str]] = {}
        for item in POOL:
            groups.setdefault(_truth(item, attrs), []).append(item)
        candidates = [rng.choice(groups[row]) for row in rng.sample(sorted(groups), n)]
        secret = rng.choice(candidates)
        table = table_text(candidates, attrs)
        parsed = parse_table(table)
        assert parsed is not None
        depth = strategy_depth(candidates, *parsed)
        facts = [
            Fact(id="candidates", text=table, holders=[guesser, answerer]),
            Fact(id="secret", text=f"{SECRET_INTRO}{secret}.", holders=[answerer], mentions=[secret_mention(secret)]),
        ]
        data = {
            "id": f"twenty_questions_{index:04d}_{tag}",
            "title": f"Twenty questions: {g_name} guesses {a_name}'s item among {n}",
            "family": self.name,
            "context": (f"{a_name} has secretly picked one of {n} candidate items; {g_name} must find out which by "
                        f"asking yes/no questions, then guess it. Both know the candidates and the true answer to "
                        f"each question about them. {g_name} speaks first."),
            "agents": [
                {"id": guesser, "name": g_name,
                 "goal": f"Find out which item {a_name} picked by asking yes/no questions, then guess it."},
                {"id": answerer, "name": a_name,
                 "goal": (f"Answer {g_name}'s yes/no questions about your secret item truthfully; do not name it "
                          f"unless {g_name} asks whether it is that item.")},
            ],
            "facts": [f.model_dump(exclude_none=True) for f in facts],
            "topology": {"kind": "complete"},
            "limits": {"max_turns": 2 * (depth + 1 + params.extra_questions) + 1, "max_tokens": 80},
            "task": {
                "kind": "answer",
                "commitment": {"verb": "GUESS"},
                "answer": secret,
                "needed_facts": ["secret"],
                "committers": [guesser],
                "ends_when": "any_committed",
            },
        }
        return Scenario.model_validate(data)

    def check(self, scenario: Scenario) -> None:
        s, task = scenario, scenario.task
        assert s.family == self.name, f"family is {s.family!r}, expected {self.name!r}"
        assert len(s.agents) == 2, f"expected 2 agents, got {len(s.agents)}"
        assert task.kind == "answer" and task.commitment.verb == "GUESS", "expected an answer task with GUESS"
        assert task.ends_when == "any_committed" and len(task.committers) == 1, "expected one guesser"
        guesser = task.committers[0]
        answerer = next(a for a in s.agent_ids if a != guesser)
        table_fact, secret_fact = s.fact("candidates"), s.fact("secret")
        assert sorted(table_fact.holders) == sorted(s.agent_ids), "both agents hold the candidate table"
        assert secret_fact.holders == [answerer], f"only the answerer {answerer} holds the secret"
        assert task.needed_facts == ["secret"], f"needed_facts {task.needed_facts}, expected ['secret']"
        parsed = parse_table(table_fact.text)
        assert parsed is not None, "the candidate table does not parse"
        questions, table = parsed
        assert questions and set(questions) <= set(QUESTIONS), f"unknown questions {questions}"
        for item, row in table.items():
            assert list(row) == questions, f"{item}: answers to {list(row)}, expected {questions}"
            for q, yes in row.items():
                assert yes == (POOL[item][QUESTIONS.index(q)] == "1"), f"{item}: wrong answer to {q!r}"
        rows = [tuple(row.values()) for row in table.values()]
        assert len(set(rows)) == len(rows), "two candidates have the same answers: yes/no cannot tell them apart"
        secret = secret_fact.text.removeprefix(SECRET_INTRO).rstrip(".")
        assert secret_fact.text.startswith(SECRET_INTRO) and secret in table, f"secret {secret!r} not a candidate"
        assert task.answer == secret, f"answer {task.answer!r}, expected the secret {secret!r}"
        assert secret_fact.mentioned_in(f"Yes, it is the {secret}."), "the secret's mention misses a confirmation"
        assert not secret_fact.mentioned_in(f"Is it the {secret}?"), "the secret's mention matches a question"
        needed = 2 * (strategy_depth(list(table), questions, table) + 1) + 1
        assert s.limits.max_turns >= needed, f"max_turns {s.limits.max_turns} < {needed} the strategy may need"

    def policy(self, inp: PolicyInput) -> str:
        parsed = next((p for f in inp.facts if (p := parse_table(f.text)) is not None), None)
        if parsed is None:
            return UNKNOWN
        questions, table = parsed
        candidates = list(table)
        if inp.me in inp.task.committers:
            return self._ask(inp, questions, table)
        secret = next((f.text.removeprefix(SECRET_INTRO).rstrip(".") for f in inp.facts
                       if f.text.startswith(SECRET_INTRO)), None)
        last = next((m.content for m in reversed(inp.messages) if m.sender != inp.me), None)
        if last is None:
            return "I have picked an item. Ask me yes/no questions."
        if secret not in table:
            return UNKNOWN
        if (item := _asked_item(last, candidates)) is not None:
            return f"Yes, it is the {item}." if item == secret else f"No, it is not the {item}."
        if (q := _asked_question(last, questions)) is not None:
            return "Yes." if table[secret][q] else "No."
        return "Please ask one of the yes/no questions from the table, or whether it is a given item."

    def _ask(self, inp: PolicyInput, questions: list[str], table: dict[str, dict[str, bool]]) -> str:
        remaining = list(table)
        verb = inp.task.commitment.verb
        for asked, reply in zip(inp.messages, inp.messages[1:], strict=False):
            if asked.sender != inp.me or reply.sender == inp.me:
                continue
            yes = _reply(reply.content)
            if yes is None:
                continue
            if (item := _asked_item(asked.content, remaining)) is not None:
                if yes:
                    return f"Got it: the {item}.\n{verb}: {item}"
                remaining.remove(item)
            elif (q := _asked_question(asked.content, questions)) is not None:
                remaining = [c for c in remaining if table[c][q] == yes]
        if len(remaining) == 1:
            return f"Is it the {remaining[0]}?"
        q = best_question(remaining, questions, table)
        if q is None:
            return "Your answers fit none of the candidates." if not remaining else UNKNOWN
        return q

    def shortcut(self, scenario: Scenario, me: str) -> str | None:
        """Full state: the guesser reads the answerer's secret and guesses at once; the answerer has none."""
        if me not in scenario.task.committers:
            return None
        secret = next((f.text.removeprefix(SECRET_INTRO).rstrip(".") for f in scenario.facts
                       if me not in f.holders and f.text.startswith(SECRET_INTRO)), None)
        if secret is None:
            return None
        return f"The secret item is the {secret}.\n{scenario.task.commitment.verb}: {secret}"

    def withhold(self, scenario: Scenario) -> Scenario:
        """The answerer forgets the secret: it can only answer "I don't know."."""
        data = scenario.model_dump()
        data["facts"] = [{**f, "text": FORGOTTEN, "mentions": []} if f["id"] == "secret" else f
                         for f in data["facts"]]
        return Scenario.model_validate(data)


FAMILY = TwentyQuestions()
