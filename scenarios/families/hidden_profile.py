"""Hidden profile (Stasser and Titus 1985; HiddenBench, Li et al. 2025): pool facts to decide.

A hiring committee of ``n_agents`` members chooses one of ``n_options`` candidates.
Each fact is a pro (+1) or a con (-1) of one candidate, written from a fixed set of
sentence templates. The facts every member holds (*shared*) favour a wrong candidate
W: pros of W, cons of the right candidate R and of the others. Each member also
holds ``unique_facts`` facts no one else has (pros of R, cons of W), and optionally
``distractors`` (cons of the other candidates, which change nothing). A candidate's
score is its pros minus its cons, over the distinct facts considered.

Ground truth (``check``): the shared facts alone make W the strict favourite; every
member's own facts (shared plus unique) still make W the strict favourite, so nobody
can find R alone; all facts pooled make R, the task's ``answer``, the strict
favourite; without the ``needed_facts`` (the unique facts for R and against W) W wins
again. Each fact's regex mention finds its own text and no other fact's. Facts are listed
in a shuffled order with neutral ids (``f01``, ``f02``...): an agent sees its facts' ids
and order, and neither tells it which facts are shared or whom they favour.

Baseline (``policy``): "share everything, tally, decide": on its first turn a member
lists all its facts verbatim, one ``- `` line each; once it has heard from every other
member it tallies the distinct facts it knows (its own and the ``- `` lines of the
others' messages) and commits ``DECIDE: <best-scoring candidate>`` (the first in the
task's order on a tie); a member who shares before hearing everyone asks what the
others know. Sentences that are not from the templates (hand-written
scenarios such as ``scenarios/hidden_profile.yaml``) are scored by a word list.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any, ClassVar

from pydantic import Field, field_validator, model_validator

from privy.scenarios.families.base import FamilyParams, PolicyInput
from privy.simulator.scenario import Fact, Scenario

# (key, sentence with {o} for the candidate, keywords that identify the sentence in free text)
PROS: tuple[tuple[str, str, str], ...] = (
    ("launch", "{o} led a team of twelve through a successful product launch.", r"led a team|twelve|product launch"),
    ("mentor", "{o} mentored four junior colleagues who were all promoted.", r"mentor"),
    ("rated", "Former reports rated {o} the best manager they ever had.", r"best manager|rated"),
    ("costs", "{o} cut a department's costs by a third in one year.", r"costs|a third"),
    ("languages", "{o} speaks three languages fluently.", r"three languages|fluent"),
    ("dispute", "{o} resolved a long-running dispute between two departments.", r"dispute"),
    ("tenure", "{o} has ten years of relevant industry background.", r"ten years"),
    ("hiring", "{o} designed a hiring process that is now used company-wide.", r"hiring process"),
    ("award", "{o} received a company award for reliability.", r"award|reliab"),
    ("turnaround", "{o} turned around a failing project and delivered it early.",
     r"turned around|failing project|early"),
    ("customers", "Customers asked for {o} by name in their feedback.", r"by name|customers"),
    ("onboarding", "{o} wrote the onboarding guide a whole team still uses.", r"onboarding"),
    ("promoted", "{o} was promoted twice in three years.", r"promoted twice|twice"),
    ("audits", "{o} has a spotless record on security audits.", r"security audit|spotless"),
    ("talk", "{o} gave an excellent talk at a major conference last year.", r"talk\b|conference"),
    ("phd", "{o} holds a PhD from a top university.", r"PhD\b"),
    ("contract", "{o} negotiated a contract that saved two million dollars.", r"negotiat|two million"),
    ("platform", "{o} built the data platform a whole company runs on.", r"data platform"),
)
CONS: tuple[tuple[str, str, str], ...] = (
    ("late", "{o} arrived ten minutes late to the interview.", r"late\b|ten minutes"),
    ("conflict", "Two references say {o} handles conflict badly.", r"conflict"),
    ("deadlines", "{o} missed the deadlines of both projects they managed.", r"deadline"),
    ("start", "{o} cannot start within the next six months.", r"six months|cannot start"),
    ("jobs", "{o} left each of the last two jobs after less than a year.", r"less than a year|last two jobs"),
    ("rude", "{o} was rude to the receptionist on the way in.", r"rude|receptionist"),
    ("budget", "{o} has never managed a budget.", r"budget"),
    ("cv", "{o} exaggerated a past job title on the CV.", r"exaggerat|job title|CV\b"),
    ("basics", "{o} could not answer basic questions about the product.", r"basic questions"),
    ("salary", "{o} asks for a salary far above what the role pays.", r"salary"),
    ("credit", "A former colleague says {o} takes credit for others' work.", r"takes credit|credit for"),
    ("exercise", "{o} failed the take-home exercise.", r"take-home|take home"),
    ("travel", "{o} refuses to travel, and the role needs monthly trips.", r"travel|trips"),
    ("targets", "{o} was let go from a previous job for missing targets.", r"let go|missing targets"),
    ("unprepared", "{o} did not prepare for the final interview.", r"did not prepare|unprepared|final interview"),
    ("remote", "{o} has never worked with a remote team.", r"remote"),
    ("communication", "Peers give {o} poor reviews for communication.", r"communicat|poor reviews"),
    ("confidential", "{o} broke a confidentiality agreement at a former employer.", r"confidential"),
)
CANDIDATES = ("Avery", "Blake", "Casey", "Emerson", "Finley", "Harper", "Jordan", "Morgan", "Quinn", "Riley",
              "Sasha", "Taylor", "Rowan", "Skyler", "Dakota", "Parker")
MEMBERS = ("Ana", "Ben", "Cleo", "Dara", "Eli", "Fatima", "Gus", "Hiro", "Ines", "Jun")
PERSONAS = ("The engineering manager.", "A senior engineer on the team.", "The HR partner.",
            "A product manager who works with the team.", "The department head.", "A team member since its start.")
ROLES = ("team lead", "head of operations", "product manager", "engineering manager", "data science lead",
         "office manager")
MAX_AGENTS = 5


class HiddenProfileParams(FamilyParams):
    n_agents: int = Field(default=3, description="Committee members (2 to 5).")
    n_options: int = Field(default=3, ge=2, le=4, description="Candidates to choose from.")
    unique_facts: int = Field(default=2, ge=1, le=3, description="Facts for the right candidate each member "
                                                                   "alone holds.")
    distractors: int = Field(default=0, ge=0, le=2, description="Extra facts each member alone holds, against "
                                                                "the other candidates.")

    @field_validator("n_agents")
    @classmethod
    def _agents(cls, n: int) -> int:
        if n < 2:
            raise ValueError(f"a hidden profile needs at least two agents to pool their facts, got {n}")
        if n > MAX_AGENTS:
            raise ValueError(f"at most {MAX_AGENTS} agents are supported, got {n}")
        return n

    @model_validator(mode="after")
    def _possible(self) -> HiddenProfileParams:
        n, m = self.n_agents, self.unique_facts
        if m * (n - 1) < 2:  # need m < shared bias < n * m (see module docstring)
            raise ValueError(f"n_agents={n} with unique_facts={m}: no member may see the right option alone while "
                             f"all together do; expected unique_facts >= 2 with 2 agents")
        if self.distractors and self.n_options < 3:
            raise ValueError(f"distractors={self.distractors} are facts against candidates other than the right "
                             f"and the favoured wrong one; expected n_options >= 3")
        return self


@cache
def _template_patterns(options: tuple[str, ...]) -> list[tuple[re.Pattern[str], int]]:
    alt = "|".join(re.escape(o) for o in options)
    out = []
    for sign, templates in ((1, PROS), (-1, CONS)):
        for _, text, _ in templates:
            before, after = text.split("{o}")
            out.append((re.compile(rf"{re.escape(before)}(?P<o>{alt}){re.escape(after)}"), sign))
    return out


def parse_fact(text: str, options: Sequence[str]) -> tuple[str, int] | None:
    """(candidate, +1 or -1) if ``text`` is one of the family's fact sentences."""
    for pattern, sign in _template_patterns(tuple(options)):
        m = pattern.fullmatch(text.strip())
        if m:
            return m.group("o"), sign
    return None


# For facts not written from the templates (hand-written scenarios): a sentence naming one option is a
# con if it has one of these words, else a pro. Only the baseline uses this; the ground truth never does.
_NEGATIVE = re.compile(
    r"\b(not|no|never|cannot|can't|couldn't|won't|late|bad|badly|poor|poorly|missed|failed|fails|rude|"
    r"refuses|lacks|weak|worst|unreliable|unprepared|fired|complaints?|problems?|exaggerated)\b", re.IGNORECASE)


def guess_fact(text: str, options: Sequence[str]) -> tuple[str, int] | None:
    """Like :func:`parse_fact`, but for any sentence that names exactly one option."""
    parsed = parse_fact(text, options)
    if parsed:
        return parsed
    named = [o for o in options if re.search(rf"\b{re.escape(o)}\b", text, re.IGNORECASE)]
    if len(named) != 1:
        return None
    return named[0], -1 if _NEGATIVE.search(text) else 1


def scores(texts: Iterable[str], options: Sequence[str], *, lenient: bool = False) -> dict[str, int]:
    """Pros minus cons per option, over the distinct fact sentences in ``texts``.

    Strict (the ground truth): only the family's template sentences count. ``lenient``
    (the baseline): any sentence naming one option counts, see :func:`guess_fact`.
    """
    total = dict.fromkeys(options, 0)
    for text in {t.strip() for t in texts}:
        parsed = guess_fact(text, options) if lenient else parse_fact(text, options)
        if parsed:
            total[parsed[0]] += parsed[1]
    return total


def favourite(score: dict[str, int]) -> str | None:
    """The option with the strictly highest score, or None on a tie."""
    best = max(score.values())
    top = [o for o, v in score.items() if v == best]
    return top[0] if len(top) == 1 else None


def mention(option: str, keywords: str) -> dict[str, str]:
    """A regex that finds the option's name near one of the keywords (either order, one line)."""
    o = re.escape(option)
    return {"regex": rf"\b{o}\b.{{0,60}}\b(?:{keywords})|\b(?:{keywords}).{{0,60}}\b{o}\b"}


class HiddenProfile:
    name: ClassVar[str] = "hidden_profile"
    description: ClassVar[str] = ("A committee picks one candidate; the shared facts favour a wrong one, the "
                                  "facts split across members, pooled, favour the right one (Stasser and Titus).")
    Params: ClassVar[type[FamilyParams]] = HiddenProfileParams

    def generate(self, rng: random.Random, index: int, params: FamilyParams) -> Scenario:
        assert isinstance(params, HiddenProfileParams)
        n, m, k, d = params.n_agents, params.unique_facts, params.n_options, params.distractors
        tag = f"{rng.getrandbits(32):08x}"
        names = rng.sample(MEMBERS, n)
        ids = [x.lower() for x in names]
        personas = rng.sample(PERSONAS, n)
        candidates = rng.sample(CANDIDATES, k)
        right, wrong, others = candidates[0], candidates[1], candidates[2:]
        options = rng.sample(candidates, k)  # the order the task lists them in
        role = rng.choice(ROLES)
        # How many shared facts favour the wrong option (s = a pros of it + b cons of the right one) and how
        # the n*m unique facts split into pros of the right one and cons of the wrong one: m < s < n*m makes
        # every member alone favour `wrong` and all of them together favour `right`.
        for _ in range(10_000):
            s = rng.randint(m + 1, n * m - 1)
            a = rng.randint(1, min(s, len(PROS)))
            b = s - a
            split = [[rng.random() < 0.5 for _ in range(m)] for _ in range(n)]  # True: a pro of `right`
            pros = sum(map(sum, split))
            if b <= pros and b <= len(CONS) and n * m - pros <= len(CONS) and all(m - sum(x) <= a for x in split):
                break
        else:  # pragma: no cover - the loop finds a split for every valid parameter set
            raise RuntimeError(f"no hidden profile found for {params}")

        unused = {(o, sign): rng.sample(range(len(PROS if sign > 0 else CONS)), len(PROS if sign > 0 else CONS))
                  for o in candidates for sign in (1, -1)}

        def fact(option: str, sign: int, holders: list[str]) -> dict[str, Any]:
            _, text, keywords = (PROS if sign > 0 else CONS)[unused[option, sign].pop()]
            return {"text": text.format(o=option), "holders": holders, "mentions": [mention(option, keywords)]}

        shared = [(wrong, 1)] * a + [(right, -1)] * b
        for o in others:
            x = rng.randint(0, 1)
            shared += [(o, 1)] * x + [(o, -1)] * (x + 1)
        rng.shuffle(shared)
        facts = [fact(o, sign, list(ids)) for o, sign in shared]
        needed: list[dict[str, Any]] = []
        for agent, picks in zip(ids, split, strict=True):
            own = [fact(right, 1, [agent]) if p else fact(wrong, -1, [agent]) for p in picks]
            needed += own
            own += [fact(rng.choice(others), -1, [agent]) for _ in range(d)]
            facts += own
        # Neutral ids in a shuffled order: an agent sees its facts' ids and order, which must not tell
        # which facts are shared, which are its own, or which candidate they favour.
        rng.shuffle(facts)
        for i, f in enumerate(facts, 1):
            f["id"] = f"f{i:02d}"
        longest = max(len(self._share([str(f["text"]) for f in facts if agent in f["holders"]])) for agent in ids)
        joined = ", ".join(options[:-1]) + f" and {options[-1]}"
        goal = f"Help the committee hire the best candidate for the {role} role."
        data = {
            "id": f"hidden_profile_{index:04d}_{tag}",
            "title": f"Hidden profile: which candidate should the committee hire as {role}?",
            "family": self.name,
            "context": (f"{', '.join(names[:-1])} and {names[-1]} form a hiring committee for a {role} position. "
                        f"The candidates are {joined}. They must agree on one candidate."),
            "agents": [{"id": i, "name": nm, "persona": p, "goal": goal}
                       for i, nm, p in zip(ids, names, personas, strict=True)],
            "facts": facts,
            "topology": {"kind": "complete"},
            "limits": {"max_turns": 4 * n, "max_tokens": max(120, longest // 3 + 20)},
            "task": {
                "kind": "decide",
                "commitment": {"verb": "DECIDE"},
                "options": options,
                "answer": right,
                "needed_facts": sorted(str(f["id"]) for f in needed),
                "ends_when": "all_committed",
            },
        }
        return Scenario.model_validate(data)

    def check(self, scenario: Scenario) -> None:
        s, task = scenario, scenario.task
        assert s.family == self.name, f"family is {s.family!r}, expected {self.name!r}"
        assert task.kind == "decide" and task.answer in task.options, "expected a decide task with an answer option"
        assert len(set(task.options)) == len(task.options) >= 2, f"expected distinct options, got {task.options}"
        everyone = set(s.agent_ids)
        parsed: dict[str, tuple[str, int]] = {}
        for f in s.facts:
            p = parse_fact(f.text, task.options)
            assert p is not None, f"{f.id}: {f.text!r} is not a pro or con of an option"
            parsed[f.id] = p
            assert len(f.holders) == 1 or set(f.holders) == everyone, f"{f.id}: held by some but not all: {f.holders}"
            assert f.mentioned_in(f.text), f"{f.id}: its mention does not find its own text"
            clash = [g.id for g in s.facts if g.id != f.id and f.mentioned_in(g.text)]
            assert not clash, f"{f.id}: its mention also finds {clash}"

        def fav(facts: Iterable[Fact]) -> str | None:
            return favourite(scores((f.text for f in facts), task.options))

        shared = [f for f in s.facts if set(f.holders) == everyone]
        wrong, right = fav(shared), fav(s.facts)
        assert wrong is not None, "the shared facts favour no single option"
        assert right == task.answer, f"all facts favour {right!r}, but the answer is {task.answer!r}"
        assert wrong != right, f"the shared facts already favour the answer {right!r}"
        for a in s.agent_ids:
            assert fav(s.facts_of(a)) == wrong, f"{a}'s own facts do not favour {wrong!r}: not a hidden profile"
        needed = {f.id for f in s.facts if len(f.holders) == 1 and parsed[f.id] in ((right, 1), (wrong, -1))}
        assert set(task.needed_facts) == needed, f"needed_facts {task.needed_facts}, expected {sorted(needed)}"
        assert fav(f for f in s.facts if f.id not in needed) == wrong, "without the needed facts the answer still wins"

    def check_file(self, scenario: Scenario) -> None:
        """A scenario file of this family: a generated one passes ``check``; a hand-written one (some fact not
        from the templates) must at least be one the baseline's word list solves: all facts favour the answer."""
        s, task = scenario, scenario.task
        if all(parse_fact(f.text, task.options) is not None for f in s.facts):
            return self.check(s)
        assert task.kind == "decide" and task.answer in task.options, "expected a decide task with an answer option"
        right = favourite(scores((f.text for f in s.facts), task.options, lenient=True))
        assert right == task.answer, f"all facts favour {right!r} (by the baseline's word list), not {task.answer!r}"

    @staticmethod
    def _share(texts: list[str]) -> str:
        return "My facts:\n" + "\n".join(f"- {t}" for t in texts)

    def policy(self, inp: PolicyInput) -> str:
        verb, options = inp.task.commitment.verb, inp.task.options
        spoke = any(m.sender == inp.me for m in inp.messages)
        heard_from = {m.sender for m in inp.messages if m.sender != inp.me}
        everyone_heard = heard_from >= set(inp.names) - {inp.me}
        parts = [] if spoke else [self._share([f.text for f in inp.facts])]
        if parts and not everyone_heard:
            parts.append("What do the rest of you know?")  # a grounding act the full-state shortcut skips
        if everyone_heard:
            shared = [line.strip()[2:] for m in inp.messages if m.sender != inp.me
                      for line in m.content.splitlines() if line.strip().startswith("- ")]
            score = scores([f.text for f in inp.facts] + shared, options, lenient=True)
            best = max(options, key=lambda o: score[o])  # the first of the best on a tie
            tally = ", ".join(f"{o} {score[o]:+d}" for o in options)
            parts.append(f"Pros minus cons over all our facts: {tally}.\n{verb}: {best}")
        return "\n".join(parts) or "I am waiting to hear everyone's facts."

    def shortcut(self, scenario: Scenario, me: str) -> str | None:
        """Full state: cite a fact another member alone holds, tally every fact, decide at once."""
        verb, options = scenario.task.commitment.verb, scenario.task.options
        if not options:
            return None
        score = scores([f.text for f in scenario.facts], options, lenient=True)
        best = max(options, key=lambda o: score[o])  # the first of the best on a tie
        names = {a.id: a.name for a in scenario.agents}
        theirs = next((f for f in scenario.facts if len(f.holders) == 1 and f.holders[0] != me), None)
        aside = f"As {names[theirs.holders[0]]} alone knows, {theirs.text}\n" if theirs else ""
        tally = ", ".join(f"{o} {score[o]:+d}" for o in options)
        return f"{aside}Pros minus cons over everyone's facts: {tally}.\n{verb}: {best}"

    def withhold(self, scenario: Scenario) -> Scenario:
        """Drop the unique facts for the right option (the needed facts): the shared bias wins."""
        drop = set(scenario.task.needed_facts)
        data = scenario.model_dump()
        data["facts"] = [f for f in data["facts"] if f["id"] not in drop]
        data["task"]["needed_facts"] = []
        return Scenario.model_validate(data)


FAMILY = HiddenProfile()
