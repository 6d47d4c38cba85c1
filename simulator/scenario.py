"""The scenario schema: agents, private facts, topology, task.

A scenario is the unit privy runs. It is written in YAML (see ``scenarios/``) and
validated into these pydantic models. The JSON Schema printed by ``privy schema`` is
generated from them, so this module is the one source of truth for the file format.

Privacy is structural: every fact names its ``holders``; an agent's private view is
built from the facts it holds and the messages delivered to it, nothing else.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cached_property
from typing import Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

SCENARIO_FORMAT: Final = "privy.scenario/1"

_ID = r"^[A-Za-z][A-Za-z0-9_\-]*$"
_WORD = re.compile(r"\w")


def _word_source(literal: str) -> str:
    """``literal`` as a pattern matching whole words only: a guard at an end that is a word character, as \\b."""
    return ((r"(?<!\w)" if _WORD.match(literal[0]) else "") + re.escape(literal)
            + (r"(?!\w)" if _WORD.match(literal[-1]) else ""))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Mention(_Model):
    """One way to detect a fact in an utterance.

    Exactly one of ``literal`` or ``regex`` (Python regular expression, searched
    case-insensitively) is given. In YAML a bare string is a literal.

    With ``near`` (a list of words), the mention is found only where one of them occurs
    within ``within`` characters (default 60) before or after the literal or regex: a
    claim about a fact's details ("Tess loves jazz", a name and an attribute), which a
    bare first name would not identify. A fact may list several mentions; any one finds it.

    A literal matches case-insensitively as a whole word (``match: word``, the default):
    not where a letter, digit or underscore touches either end of it, so the name "Ann"
    is not found in "annoyed" or "Annabel", while "Ann's" and "(Ann)" are mentions. A
    literal meant to be found inside other words says ``match: substring``. A regex is
    searched as written (``match`` does not apply to it: write ``\b`` where needed).
    """

    literal: str | None = Field(default=None, min_length=1)
    regex: str | None = Field(default=None, min_length=1)
    near: list[str] = Field(
        default_factory=list,
        description="Co-occurrence: the literal or regex counts only with one of these words (whole words, any case) "
                    "within `within` characters before or after it, e.g. a friend's name with one of its attributes.",
    )
    within: int = Field(default=60, ge=1, le=1000, description="For `near`: the largest gap in characters.")
    match: Literal["word", "substring"] = Field(
        default="word",
        description="For a literal: 'word' (the default) matches whole words only; 'substring' anywhere, "
                    "even inside a longer word.",
    )

    @model_validator(mode="before")
    @classmethod
    def _bare_string_is_literal(cls, data: Any) -> Any:
        return {"literal": data} if isinstance(data, str) else data

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as err:
                raise ValueError(f"expected a valid regular expression ({err})") from err
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> Mention:
        if (self.literal is None) == (self.regex is None):
            raise ValueError("expected exactly one of 'literal' or 'regex'")
        return self

    @model_validator(mode="after")
    def _near_compiles(self) -> Mention:
        if self.near:
            if any(not w.strip() for w in self.near):
                raise ValueError("near: expected non-empty words")
            try:
                _ = self.pattern
            except re.error as err:
                raise ValueError(f"near: cannot combine with this regex ({err}); expected a regex without "
                                 f"global flags") from err
        return self

    @model_serializer(mode="wrap")
    def _without_defaults(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):  # files written before these fields stay the same
            if data.get("match") == "word":
                data.pop("match")
            if not data.get("near"):
                data.pop("near", None)
                data.pop("within", None)
        return data

    @property
    def whole_word(self) -> bool:
        """Is this a literal matched as a whole word only?"""
        return self.literal is not None and self.match == "word"

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        if self.literal is None:
            source = str(self.regex)
        else:
            source = _word_source(self.literal) if self.match == "word" else re.escape(self.literal)
        if self.near:
            words = "|".join(_word_source(w.strip()) for w in self.near)
            gap = rf"[\s\S]{{0,{self.within}}}?"
            source = rf"(?:{source}){gap}(?:{words})|(?:{words}){gap}(?:{source})"
        return re.compile(source, re.IGNORECASE)

    def found_in(self, text: str) -> bool:
        return self.pattern.search(text) is not None


class Fact(_Model):
    """A piece of information, held at the start by the agents in ``holders``."""

    id: str = Field(pattern=_ID, description="Unique within the scenario.")
    text: str = Field(min_length=1, description="The fact as its holders are told it.")
    holders: list[str] = Field(
        min_length=1, description="Agent ids that know this fact at the start."
    )
    mentions: list[Mention] = Field(
        default_factory=list,
        description="Literal strings or regexes that detect the fact in an utterance.",
    )

    def mentioned_in(self, text: str) -> bool:
        return any(m.found_in(text) for m in self.mentions)


class AgentSpec(_Model):
    """One participant: who it is and what it privately wants."""

    id: str = Field(pattern=_ID, description="Unique id used in topology, facts, logs.")
    name: str = Field(min_length=1, description="Display name, used in prompts.")
    persona: str = Field(default="", description="Who the agent is (public to itself).")
    goal: str = Field(min_length=1, description="The agent's private goal.")


class Topology(_Model):
    """Who may send to whom.

    ``complete``: everyone may send to everyone. ``edges``: only the listed pairs;
    with ``directed: false`` (the default) each edge works both ways.
    """

    kind: Literal["complete", "edges"] = "complete"
    edges: list[tuple[str, str]] = Field(default_factory=list)
    directed: bool = False


class TurnOrder(StrEnum):
    ROUND_ROBIN = "round_robin"


class Limits(_Model):
    max_turns: int = Field(default=12, ge=1, le=10_000, description="Messages in total.")
    max_tokens: int = Field(default=160, ge=1, description="Per generated message.")
    commit_after: int = Field(default=0, ge=0, le=10_000, description=(
        "Messages a committer must have sent before a commitment is a legal move (0: it may commit in its "
        "first message). Its last turn before the turn limit still asks for a commitment."))

    @model_serializer(mode="wrap")
    def _without_default_commit_after(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict) and not self.commit_after:  # files, logs and cell keys written before stay the same
            data.pop("commit_after", None)
        return data


# Inline commitments: what, said earlier in the same sentence, makes "VERB: x" no commitment.
_NOT_COMMITTING = re.compile(
    r"\b(?:not|never|no|don['’]t|doesn['’]t|didn['’]t|won['’]t|can['’]t|cannot|shouldn['’]t|wouldn['’]t|"
    r"isn['’]t|aren['’]t|would|could|might|should|may|if|unless|once|when|whenever|before|until|after|maybe|"
    r"perhaps|write|type|say|reply|respond|answer|use|using|with|like|format|e\.g|example|means|mean)\b",
    re.IGNORECASE,
)
_CONDITION_AFTER = re.compile(r"\s(?:if|once|when|after|unless|until|as soon as)\s", re.IGNORECASE)
_QUOTES = "\"'`‘’“”«"


class Commitment(_Model):
    """How an agent commits: ``VERB: value`` in its message, the verb in capitals as declared.

    At the start of a line (after spaces and markdown ``**``), ``VERB: value`` always
    commits, the value being the rest of the line. Inside a line ("Agreed. SELECT: Fay")
    it commits too, the value ending at the end of its sentence (". ", "! ", "? " or the
    line's end), unless it is not meant as one: quoted (a quote or backtick right before
    the verb), a question (its sentence ends with "?"), or preceded in its sentence by a
    negation ("don't SELECT: Fay yet"), a hedge or condition ("I would", "if", "once",
    "maybe"), or words that talk about the syntax ("write", "reply with", "e.g."), or
    followed in its sentence by a condition ("SELECT: Fay once you confirm").
    """

    verb: str = Field(default="SELECT", pattern=r"^[A-Z][A-Z_]*$")

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """A commitment at the start of a line (group 1: the value)."""
        return re.compile(rf"^\s*\**{self.verb}\**\s*:\s*(.+?)\s*$", re.MULTILINE)

    @cached_property
    def inline_pattern(self) -> re.Pattern[str]:
        """The verb anywhere, not inside a longer word (group 1: the rest of the line)."""
        return re.compile(rf"(?<![A-Za-z0-9_])\**{self.verb}\**\s*:[ \t]*([^\n]*)")

    def values(self, content: str) -> list[str]:
        """The committed values in ``content``, in order (stripped of markdown emphasis; empty ones left out)."""
        if self.verb not in content:  # every form needs the verb, case and all
            return []
        out = []
        for m in self.inline_pattern.finditer(content):
            line_start = content.rfind("\n", 0, m.start()) + 1
            before = content[line_start:m.start()]
            if not before.strip(" \t*"):  # at the start of its line: the rest of the line
                value = m.group(1).strip()
            else:
                sentence = re.split(r"[.!?]\s", before)[-1]
                if before.rstrip("*")[-1:] in _QUOTES or _NOT_COMMITTING.search(sentence):
                    continue
                value = re.split(r"(?<=[.!?])\s", m.group(1).strip(), maxsplit=1)[0]
                if value.endswith("?") or value[:1] in "<[{" or _CONDITION_AFTER.search(value):
                    continue  # a question, a placeholder, a condition after the value ("x once you confirm")
                value = value.rstrip(".!")
            value = value.strip().strip("*`").strip()
            if value:
                out.append(value)
        return out


class Deal(_Model):
    """For ``kind: deal``: public item counts and each agent's private values."""

    items: dict[str, int] = Field(min_length=1, description="Public: how many of each item.")
    values: dict[str, dict[str, int]] = Field(
        description="Ground truth: agent id -> item -> value per unit (private to that agent)."
    )


class Task(_Model):
    """What counts as success, and which facts are needed to determine it."""

    kind: Literal["select", "decide", "answer", "deal"] = Field(
        description=(
            "select: each agent names the answer; decide: a group decision among options; "
            "answer: the committers (e.g. a student, a guesser) give the answer; "
            "deal: agents agree on a split of items."
        )
    )
    commitment: Commitment = Field(default_factory=Commitment)
    options: list[str] = Field(
        default_factory=list, description="For 'decide': the options to choose from."
    )
    answer: str | None = Field(
        default=None, min_length=1, description="The ground truth to commit to (not for 'deal')."
    )
    needed_facts: list[str] = Field(
        default_factory=list, description="Fact ids that together determine the answer."
    )
    committers: list[str] = Field(
        default_factory=list, description="Agents whose commitments count (default: every agent)."
    )
    deal: Deal | None = Field(default=None, description="For 'deal': items and private values.")
    ends_when: Literal["all_committed", "any_committed"] = "all_committed"


class Scenario(_Model):
    """A scenario file. See README for a field-by-field walk-through."""

    format: Literal["privy.scenario/1"] = SCENARIO_FORMAT
    id: str = Field(pattern=_ID)
    title: str = Field(min_length=1)
    family: str = Field(default="custom", description="Scenario family, e.g. mutual_friends.")
    context: str = Field(default="", description="Public context every agent is told.")
    agents: list[AgentSpec] = Field(min_length=2)
    facts: list[Fact] = Field(default_factory=list)
    topology: Topology = Field(default_factory=Topology)
    turn_order: TurnOrder = TurnOrder.ROUND_ROBIN
    limits: Limits = Field(default_factory=Limits)
    task: Task
    source: dict[str, str] = Field(
        default_factory=dict,
        description="Where an imported scenario came from (e.g. Sotopia's environment, agent and combo pks); "
                    "empty for a scenario written here. Not shown to the agents; left out of the file when empty.",
    )

    @model_serializer(mode="wrap")
    def _without_empty_source(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict) and not self.source:
            data.pop("source", None)
        return data

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Scenario:
        if info.context and info.context.get("defer_semantics"):
            return self
        problems = semantic_problems(self)
        if problems:
            raise ValueError("; ".join(f"{_dotted(loc)}: {msg}" for loc, msg in problems))
        return self

    @property
    def agent_ids(self) -> list[str]:
        return [a.id for a in self.agents]

    def agent(self, agent_id: str) -> AgentSpec:
        for a in self.agents:
            if a.id == agent_id:
                return a
        raise KeyError(agent_id)

    def facts_of(self, agent_id: str) -> list[Fact]:
        """The facts ``agent_id`` holds at the start."""
        return [f for f in self.facts if agent_id in f.holders]

    def fact(self, fact_id: str) -> Fact:
        for f in self.facts:
            if f.id == fact_id:
                return f
        raise KeyError(fact_id)


Loc = tuple[str | int, ...]


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _seq(value: Any) -> list[tuple[int, Any]]:
    return list(enumerate(value)) if isinstance(value, list | tuple) else []


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def semantic_problems(s: Scenario | dict[str, Any]) -> list[tuple[Loc, str]]:
    """Cross-field checks pydantic cannot express per field: ids that must exist or be unique.

    Takes a Scenario or the raw data of one, even data that fails the schema, so that a
    loader can report these problems together with the schema's. Values of the wrong type
    are skipped here: the schema reports them.
    """
    data = s.model_dump() if isinstance(s, BaseModel) else _map(s)
    problems: list[tuple[Loc, str]] = []

    def add(*loc: str | int, msg: str) -> None:
        problems.append((loc, msg))

    def note_id(seen: set[str], field: str, i: int, entry: Any) -> None:
        """Add ``data[field][i]``'s id to ``seen``, reporting it if it is there already."""
        eid = _map(entry).get("id")
        if isinstance(eid, str):
            if eid in seen:
                add(field, i, "id", msg=f"duplicate {field.removesuffix('s')} id '{eid}'; expected unique ids")
            seen.add(eid)

    agent_ids: set[str] = set()
    for i, a in _seq(data.get("agents")):
        note_id(agent_ids, "agents", i, a)
    def unknown_agent(aid: str) -> str:
        return f"unknown agent id '{aid}'; expected one of {sorted(agent_ids)}"

    fact_ids: set[str] = set()
    for i, f in _seq(data.get("facts")):
        note_id(fact_ids, "facts", i, f)
        for j, h in _seq(_map(f).get("holders")):
            if isinstance(h, str) and h not in agent_ids:
                add("facts", i, "holders", j, msg=unknown_agent(h))
    topology = _map(data.get("topology"))
    for i, edge in _seq(topology.get("edges")):
        for j, end in _seq(edge):
            if isinstance(end, str) and end not in agent_ids:
                add("topology", "edges", i, j, msg=unknown_agent(end))
    if topology.get("kind") == "edges" and not topology.get("edges"):
        add("topology", "edges", msg="expected at least one edge when kind is 'edges'")
    task = _map(data.get("task"))
    for i, fid in _seq(task.get("needed_facts")):
        if isinstance(fid, str) and fid not in fact_ids:
            msg = f"unknown fact id '{fid}'; expected one of {sorted(fact_ids)}"
            add("task", "needed_facts", i, msg=msg)
    options, answer = task.get("options"), task.get("answer")
    if task.get("kind") == "decide" and (options is None or isinstance(options, list)):
        if not options:
            add("task", "options", msg="expected a non-empty list of options for kind 'decide'")
        elif isinstance(answer, str) and answer not in options:
            add("task", "answer", msg=f"'{answer}' is not an option; expected one of {options}")
    kind = task.get("kind")
    if kind in ("select", "decide", "answer") and "answer" in task and answer is None:
        add("task", "answer", msg=f"required for kind '{kind}'")
    elif kind in ("select", "decide", "answer") and "answer" not in task and "kind" in task:
        add("task", "answer", msg=f"required field is missing for kind '{kind}'")
    for i, c in _seq(task.get("committers")):
        if isinstance(c, str) and c not in agent_ids:
            add("task", "committers", i, msg=unknown_agent(c))
    deal = task.get("deal")
    if kind == "deal" and deal is None:
        add("task", "deal", msg="expected items and values for kind 'deal'")
    if isinstance(deal, dict):
        items = _map(deal.get("items"))
        for item, n in items.items():
            if isinstance(n, int) and n < 0:
                add("task", "deal", "items", item, msg=f"expected a count >= 0, got {n}")
        values = deal.get("values")
        for agent, vals in _map(values).items():
            if agent not in agent_ids:
                add("task", "deal", "values", agent, msg=unknown_agent(agent))
            for item in _map(vals):
                if item not in items:
                    add("task", "deal", "values", agent, item,
                        msg=f"unknown item '{item}'; expected one of {sorted(items)}")
            if isinstance(vals, dict) and agent in agent_ids:  # a deal is judged on every value of every item
                for item in items:
                    if item not in vals:
                        add("task", "deal", "values", agent, item,
                            msg=f"missing value of item '{item}' for agent '{agent}'; expected a value for every "
                                f"item {sorted(items)}")
        if isinstance(values, dict):
            for _, a in _seq(data.get("agents")):
                aid = _map(a).get("id")
                if isinstance(aid, str) and aid not in values:
                    add("task", "deal", "values", aid,
                        msg=f"missing values for agent '{aid}'; expected every agent's value of every item "
                            f"{sorted(items)}")
    return problems


def semantic_warnings(s: Scenario) -> list[tuple[Loc, str]]:
    """What is valid but probably a mistake: an agent whose messages can reach no one.

    Such an agent still takes its turns (its messages go to no one), and a task that ends
    when every agent has committed may then never end.
    """
    if s.topology.kind == "complete":
        return []  # at least two agents: everyone reaches someone
    senders = {a for a, _ in s.topology.edges}
    touched = senders | {b for _, b in s.topology.edges}
    if not s.topology.directed:
        senders = touched
    out: list[tuple[Loc, str]] = []
    for i, a in enumerate(s.agents):
        if a.id in senders:
            continue
        why = ("no edge of the topology has it" if a.id not in touched
               else "every edge to it is directed towards it (directed: true)")
        out.append((("agents", i, "id"), f"agent '{a.id}' has no neighbours to send to: {why}; its messages reach no "
                                         f"one"))
    return out
