"""Import Sotopia environments and agent profiles as privy scenarios.

``privy scenarios import-sotopia FILE --out DIR`` calls :func:`import_file`. Sotopia
(Zhou et al., ICLR 2024) stores an ``EnvironmentProfile`` (``codename``, ``source``,
``scenario``, ``agent_goals``: one per agent, ``relationship``: 0..5 or its name,
``age_constraint``, ``occupation_constraint``, ``agent_constraint``) and an
``AgentProfile`` (``first_name``, ``last_name``, ``age``, ``occupation``, ``gender``,
``gender_pronoun``, ``public_info``, ``big_five``, ``moral_values``,
``schwartz_personal_values``, ``personality_and_values``, ``decision_making_style``,
``secret``, ``model_id``, ``mbti``); an ``EnvAgentComboStorage`` (``env_id``,
``agent_ids``) pairs them. Unknown fields are ignored.

Accepted files (JSON, or JSON Lines with one record per line):

1. **A bundle**: an object ``{"environments": [...], "agents": [...], "combos": [...]}``.
   ``environment_profiles``, ``agent_profiles`` and ``env_agent_combos`` are accepted
   as the key names too, and each collection may be a list or an object keyed by pk.
   A record's id is its ``pk`` (Redis dump), ``scenario_id`` / ``agent_id`` (the JSON
   Lines export of ``sotopia.database.serialization``) or, in an object, its key.
   Each combo gives one scenario. An environment without a combo is paired with its own
   ``agent_ids`` if it has them, else with the first agents of the file (one per goal).
2. **A list of records** (a JSON array or JSON Lines), each recognised by its fields:
   an environment (``agent_goals``), an agent profile (``first_name``), a combo
   (``env_id`` and ``agent_ids``): together they are read as a bundle, so the exported
   ``environment_profiles.jsonl`` and ``agent_profiles.jsonl`` can simply be
   concatenated; an **embedded episode** ``{"environment": {...}, "agents": [{...}, ...]}``;
   or an **episode export** as in Sotopia's published episodes
   (``TwoAgentEpisodeWithScenarioBackgroundGoals``: ``episode_id``, ``scenario``,
   ``codename``, ``agents_background``: name -> background, ``social_goals``: name -> goal),
   whose secret is read from the background's "<First name>'s secrets: ..." sentence.
   The transcript and rewards of an episode export are not imported.

Each pairing becomes one scenario of family ``sotopia``:

* ``id`` ``sotopia_<codename or pk>`` (sanitised to privy's id pattern, made unique);
* ``context``: the scenario text, the relationship in words ("Ana Diaz and Leo Park are
  friends."), each agent's public profile (name, age, gender, occupation, pronouns,
  ``public_info``), and how to end the conversation;
* each agent: ``persona`` from its personality and values, decision-making style and
  Big Five (its own view only); ``goal``: its Sotopia goal, with ``<extra_info>``,
  ``<clarification_hint>`` and ``<strategy_hint>`` markup turned into parenthesised text;
* private facts ``<agent>_goal`` and ``<agent>_secret`` held by that agent only, each
  with mentions (its most distinctive three-word phrase as a literal, and two distinctive
  words near each other as a regex) so that the ledger and ``clairvoyance`` can tell
  when the other agent names them.

**Task.** Sotopia's goals are social, with no ground truth to commit to, so the task is
only a way to end the conversation, as Sotopia's ``leave`` action does: kind ``answer``,
verb ``LEAVE``, answer ``done``, every agent a committer, ``ends_when: all_committed``.
``success`` therefore means "both agents left before the turn limit (20, Sotopia's
default)", not that anyone reached a goal: judge the goals with ``llm_judge`` (the
SOTOPIA-EVAL dimensions). ``needed_facts`` is empty.

Problems (not JSON, a missing or ill-typed field, an unknown pk) raise
:class:`SotopiaError`, whose message names the file and the field.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from privy.simulator.scenario import AgentSpec, Commitment, Fact, Limits, Mention, Scenario, Task

FAMILY = "sotopia"
VERB, DONE = "LEAVE", "done"
MAX_TURNS = 20  # Sotopia's default episode length

RELATIONSHIPS = ["stranger", "know_by_name", "acquaintance", "friend", "romantic_relationship", "family_member"]
_RELATION_WORDS = {
    "stranger": "are strangers",
    "know_by_name": "know each other by name",
    "acquaintance": "are acquaintances",
    "friend": "are friends",
    "romantic_relationship": "are in a romantic relationship",
    "family_member": "are family members",
}
_GENDER = {"man": "male", "woman": "female", "nonbinary": "nonbinary"}
_HINT_TAGS = ("extra_info", "clarification_hint", "strategy_hint")
_STOP_WORDS = """a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each even ever every few for from further get
gets got had has have having he her here hers herself him himself his how however i if in into is it its itself
just know knows let like make makes many may me might more most much must my myself need needs never no nor not
now of off often on once one only or other others our ours out over own really same she should so some such than
that the their theirs them themselves then there these they this those through to too under until up upon us very
want wants was we well were what when where whether which while who whom whose why will with without would yet
you your yours yourself extra information hint hints goal goals next back already other another
someone something thing things"""
_STOP = set(_STOP_WORDS.split())


class SotopiaError(ValueError):
    """A Sotopia file that cannot be converted; the message names the file and the field."""


class _Bad(Exception):
    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where, self.problem = where, problem


# --------------------------------------------------------------------------- reading


def import_file(path: str | Path) -> list[Scenario]:
    """The privy scenarios described by a Sotopia JSON or JSON Lines file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SotopiaError(f"{path}: cannot read the file ({err})") from None
    try:
        data, lines = json.loads(text), False
    except json.JSONDecodeError as err:
        data, lines = _parse_lines(path, text, err), True
    try:
        scenarios = _convert(data, lines)
    except _Bad as bad:
        raise SotopiaError(f"{path}: {bad.where}: {bad.problem}") from None
    if not scenarios:
        raise SotopiaError(f"{path}: no environments found; expected a bundle with 'environments' and "
                           "'agents', or a list of Sotopia records")
    return scenarios


def _parse_lines(path: Path, text: str, first: json.JSONDecodeError) -> list[Any]:
    rows = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if len(rows) < 2:
        raise SotopiaError(f"{path}: not JSON (line {first.lineno} column {first.colno}: {first.msg})") from None
    out = []
    for n, line in rows:
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise SotopiaError(f"{path}: not JSON or JSON Lines (line {n} column {err.colno}: {err.msg})") from None
    return out


def _convert(data: Any, lines: bool) -> list[Scenario]:
    if isinstance(data, dict) and not _kind(data):
        return _from_bundle(data)
    records = data if isinstance(data, list) else [data]
    if not isinstance(data, list | dict):
        raise _Bad("(top level)", f"expected an object or a list of records, got {_type(data)}")
    envs: list[tuple[str, dict[str, Any]]] = []
    agents: list[tuple[str, dict[str, Any]]] = []
    combos: list[tuple[str, dict[str, Any]]] = []
    out: list[Scenario] = []
    ids: set[str] = set()
    for i, rec in enumerate(records):
        where = f"line {i + 1}" if lines else (f"[{i}]" if isinstance(data, list) else "(top level)")
        kind = _kind(rec) if isinstance(rec, dict) else None
        if kind is None:
            raise _Bad(where, "not a Sotopia record: expected an environment ('agent_goals'), an agent profile "
                              "('first_name'), a combo ('env_id', 'agent_ids'), an episode ('environment' and "
                              "'agents', or 'social_goals')")
        if kind == "environment":
            envs.append((where, rec))
        elif kind == "agent":
            agents.append((where, rec))
        elif kind == "combo":
            combos.append((where, rec))
        elif kind == "embedded":
            out.append(_from_embedded(where, rec, ids))
        else:
            out.append(_from_episode(where, rec, ids))
    if envs or agents or combos:
        out += _pair(envs, agents, combos, ids)
    return out


def _kind(rec: dict[str, Any]) -> str | None:
    if "environment" in rec and "agents" in rec:
        return "embedded"
    if "social_goals" in rec:
        return "episode"
    if "agent_goals" in rec:
        return "environment"
    if "first_name" in rec:
        return "agent"
    if "env_id" in rec and "agent_ids" in rec:
        return "combo"
    return None


def _type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")


def _collection(bundle: dict[str, Any], keys: tuple[str, ...]) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
    """The records under the first of ``keys`` present, each with its location; object keys become pks."""
    key = next((k for k in keys if k in bundle), keys[0])
    value = bundle.get(key, [])
    if isinstance(value, dict):
        items = [(f"{key}.{k}", {"pk": k, **v} if isinstance(v, dict) else v) for k, v in value.items()]
    elif isinstance(value, list):
        items = [(f"{key}[{i}]", v) for i, v in enumerate(value)]
    else:
        raise _Bad(key, f"expected a list of records or an object keyed by pk, got {_type(value)}")
    for where, v in items:
        if not isinstance(v, dict):
            raise _Bad(where, f"expected an object, got {_type(v)}")
    return key, items


def _from_bundle(bundle: dict[str, Any]) -> list[Scenario]:
    env_key, envs = _collection(bundle, ("environments", "environment_profiles", "envs"))
    agent_key, agents = _collection(bundle, ("agents", "agent_profiles"))
    _, combos = _collection(bundle, ("combos", "env_agent_combos", "env_agent_combo_storage"))
    if env_key not in bundle:
        raise _Bad("environments", "required field is missing (a list of Sotopia EnvironmentProfile records)")
    if agent_key not in bundle:
        raise _Bad("agents", "required field is missing (a list of Sotopia AgentProfile records)")
    return _pair(envs, agents, combos, set())


def _pk(where: str, rec: dict[str, Any], *keys: str) -> str | None:
    for k in keys:
        v = rec.get(k)
        if v is not None and v != "":
            if not isinstance(v, str | int):
                raise _Bad(f"{where}.{k}", f"expected a string id, got {_type(v)}")
            return str(v)
    return None


def _pair(envs: list[tuple[str, dict[str, Any]]], agents: list[tuple[str, dict[str, Any]]],
          combos: list[tuple[str, dict[str, Any]]], ids: set[str]) -> list[Scenario]:
    agent_by_pk: dict[str, tuple[str, dict[str, Any]]] = {}
    for where, a in agents:
        pk = _pk(where, a, "pk", "agent_id", "id")
        if pk is not None:
            agent_by_pk[pk] = (where, a)
    env_by_pk: dict[str, tuple[str, dict[str, Any]]] = {}
    for where, e in envs:
        pk = _pk(where, e, "pk", "scenario_id", "env_id", "id")
        if pk is not None:
            env_by_pk[pk] = (where, e)

    def agent(where: str, pk: Any) -> tuple[str, dict[str, Any]]:
        if not isinstance(pk, str | int):
            raise _Bad(where, f"expected an agent pk (a string), got {_type(pk)}")
        if str(pk) not in agent_by_pk:
            raise _Bad(where, f"unknown agent pk '{pk}'; expected one of {sorted(agent_by_pk)}")
        return agent_by_pk[str(pk)]

    def agent_ids(where: str, rec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        value = rec.get("agent_ids")
        if not isinstance(value, list):
            raise _Bad(f"{where}.agent_ids", f"expected a list of agent pks, got {_type(value)}")
        return [agent(f"{where}.agent_ids[{j}]", pk) for j, pk in enumerate(value)]

    out: list[Scenario] = []
    paired: set[int] = set()
    for where, c in combos:
        env_id = c.get("env_id")
        if not isinstance(env_id, str | int) or str(env_id) not in env_by_pk:
            known = sorted(env_by_pk)
            raise _Bad(f"{where}.env_id", f"unknown environment pk {env_id!r}; expected one of {known}")
        env_where, env = env_by_pk[str(env_id)]
        paired.add(id(env))
        out.append(_scenario(env_where, env, agent_ids(where, c), ids))
    for where, env in envs:
        if id(env) in paired:
            continue
        if "agent_ids" in env:
            members = agent_ids(where, env)
        else:
            goals = env.get("agent_goals")
            n = len(goals) if isinstance(goals, list) else 2
            if len(agents) < n:
                raise _Bad(f"{where}.agent_goals",
                           f"{n} goals but the file has {len(agents)} agent profile(s) to pair with it; "
                           "expected a combo, 'agent_ids', or more agents")
            members = agents[:n]
        out.append(_scenario(where, env, members, ids))
    return out


# --------------------------------------------------------------------------- fields


def _text(where: str, rec: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = rec.get(key)
    if value is None:
        if required:
            raise _Bad(f"{where}.{key}" if where else key, "required field is missing")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Bad(f"{where}.{key}", f"expected a string, got {_type(value)}")
    text = re.sub(r"\s+", " ", str(value)).strip()
    if required and not text:
        raise _Bad(f"{where}.{key}", "expected a non-empty string")
    return "" if text.lower() in ("nan", "none", "null") else text


def _strings(where: str, rec: dict[str, Any], key: str) -> list[str]:
    value = rec.get(key)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Bad(f"{where}.{key}", f"expected a list of strings, got {_type(value)}")
    return [v for v in value if v.strip()]


def clean_goal(goal: str) -> str:
    """A Sotopia goal with its hint markup turned into parenthesised text (the content is kept)."""
    tags = "|".join(_HINT_TAGS)
    text = re.sub(rf"<({tags})>\s*(.*?)\s*</\1>", r" (\2) ", goal, flags=re.DOTALL | re.IGNORECASE)
    text = re.sub(r"</?[A-Za-z_][\w-]*\s*/?>", " ", text)  # any other tag, or an unclosed hint tag
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s+([.,;:!?)])", r"\1", text).replace("( ", "(")


def relationship_name(where: str, value: Any) -> str:
    """Sotopia's RelationshipType from 3, "3", "friend" or "RelationshipType.friend"."""
    if value is None or value == "":
        return "stranger"  # Sotopia's default
    if isinstance(value, bool):
        raise _Bad(where, f"expected 0..5 or one of {RELATIONSHIPS}, got {value!r}")
    if isinstance(value, str):
        name = value.strip().removeprefix("RelationshipType.").lower().replace(" ", "_")
        if name.isdigit():
            value = int(name)
        elif name in RELATIONSHIPS:
            return name
        else:
            raise _Bad(where, f"unknown relationship {value!r}; expected 0..5 or one of {RELATIONSHIPS}")
    if isinstance(value, int) and 0 <= value < len(RELATIONSHIPS):
        return RELATIONSHIPS[value]
    raise _Bad(where, f"unknown relationship {value!r}; expected 0..5 or one of {RELATIONSHIPS}")


def _id(text: str, prefix: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_\-]+", "_", text).strip("_-").lower() or "x"
    base = f"{prefix}{base}" if prefix or not base[0].isalpha() else base
    if not base[0].isalpha():
        base = f"a_{base}"
    out, n = base, 2
    while out in taken:
        out, n = f"{base}_{n}", n + 1
    taken.add(out)
    return out


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z][A-Za-z'\-]*[A-Za-z]|[A-Za-z]", text)


def mentions_for(text: str, common: str) -> list[Mention]:
    """Ways to detect ``text`` in an utterance: its most distinctive three-word phrase (literal),
    and its two most distinctive words within 60 characters of each other (regex).

    A word is distinctive if it is not a stop word and not in ``common`` (the public context
    and the other texts of the scenario), so that the mentions do not fire on public talk.
    Phrases never cross punctuation.
    """
    seen = {w.lower() for w in _words(common)}

    def weight(w: str) -> int:
        lw = w.lower()
        return 0 if lw in _STOP or len(lw) < 4 else (len(lw) + (4 if lw not in seen else 0))

    windows: list[list[str]] = []
    for clause in re.split(r"[^\w\s'\-]+", text):
        tokens = clause.split()
        windows += [tokens[i:i + 3] for i in range(len(tokens) - 2)]
    mentions: list[Mention] = []
    scored = [(sum(weight(w) for w in ws), -i, ws) for i, ws in enumerate(windows)
              if sum(weight(w) > 0 for w in ws) >= 2]
    if scored:
        mentions.append(Mention(literal=" ".join(max(scored)[2])))
    words = _words(text)
    rare = sorted({w.lower() for w in words if weight(w) > 0 and w.lower() not in seen}, key=lambda w: (-len(w), w))
    if len(rare) >= 2:
        a, b = (re.escape(w) for w in rare[:2])
        mentions.append(Mention(regex=rf"\b{a}\b.{{0,60}}\b{b}\b|\b{b}\b.{{0,60}}\b{a}\b"))
    if not mentions:
        mentions.append(Mention(literal=text))
    return mentions


# --------------------------------------------------------------------------- building


class _Person:
    def __init__(self, where: str, rec: dict[str, Any]) -> None:
        self.first = _text(where, rec, "first_name", required=True)
        self.last = _text(where, rec, "last_name")
        self.name = f"{self.first} {self.last}".strip()
        age = rec.get("age")
        if age is not None and (isinstance(age, bool) or not isinstance(age, int | float | str)):
            raise _Bad(f"{where}.age", f"expected a number, got {_type(age)}")
        self.age = str(age).strip() if age not in (None, "", 0) else ""
        self.occupation = _text(where, rec, "occupation")
        self.gender = _text(where, rec, "gender")
        self.pronoun = _text(where, rec, "gender_pronoun")
        self.public_info = _text(where, rec, "public_info")
        self.personality = _text(where, rec, "personality_and_values")
        self.decision = _text(where, rec, "decision_making_style")
        self.big_five = _text(where, rec, "big_five")
        self.mbti = _text(where, rec, "mbti")
        self.moral = _strings(where, rec, "moral_values")
        self.schwartz = _strings(where, rec, "schwartz_personal_values")
        self.secret = _text(where, rec, "secret")
        self.rendered = ""  # an episode export's background, already written out

    def public(self) -> str:
        if self.rendered:
            return self.rendered
        gender = _GENDER.get(self.gender.lower(), self.gender.lower())
        desc = " ".join(x for x in (f"{self.age}-year-old" if self.age else "", gender,
                                    self.occupation.lower() if self.occupation else "person") if x)
        article = "an" if desc[:1].lower() in "aeiou" else "a"
        parts = [f"{self.name} is {article} {desc}."]
        if self.pronoun:
            parts.append(f"{self.pronoun} pronouns.")
        if self.public_info:
            parts.append(self.public_info)
        return " ".join(parts)

    def persona(self) -> str:
        parts = [self.public()]
        if self.personality:
            parts.append(f"Personality and values: {self.personality}")
        if self.moral or self.schwartz:
            parts.append("Values: " + ", ".join(self.moral + self.schwartz) + ".")
        if self.decision:
            parts.append(f"Decision-making style: {self.decision}")
        if self.big_five:
            parts.append(f"Big Five: {self.big_five.rstrip('.')}.")
        if self.mbti:
            parts.append(f"MBTI: {self.mbti}.")
        return " ".join(parts)


def _build(*, sid: str, title: str, scenario_text: str, relationship: str | None, people: list[_Person],
           goals: list[str]) -> Scenario:
    agent_ids: set[str] = set()
    aids = [_id(p.first, "", agent_ids) for p in people]
    names = [p.name for p in people]
    context = [scenario_text]
    if relationship is not None:
        pair = " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]
        context.append(f"{pair} {_RELATION_WORDS[relationship]}.")
    context += [p.public() for p in people]
    context.append(f"Each of you may end the conversation with a line '{VERB}: {DONE}'; "
                   "it ends when everyone has left.")
    public = " ".join(context)
    facts: list[Fact] = []
    for k, (aid, person, goal) in enumerate(zip(aids, people, goals, strict=True)):
        others = " ".join(g for j, g in enumerate(goals) if j != k)
        others += " " + " ".join(p.secret for j, p in enumerate(people) if j != k)
        common = f"{public} {others} {person.name}"
        facts.append(Fact(id=f"{aid}_goal", text=f"Your goal: {goal}", holders=[aid],
                          mentions=mentions_for(goal, common)))
        if person.secret:
            facts.append(Fact(id=f"{aid}_secret", text=f"Your secret: {person.secret}", holders=[aid],
                              mentions=mentions_for(person.secret, common)))
    agents = [AgentSpec(id=aid, name=p.name, persona=p.persona(), goal=g)
              for aid, p, g in zip(aids, people, goals, strict=True)]
    return Scenario(
        id=sid, title=title, family=FAMILY, context=" ".join(context), agents=agents, facts=facts,
        limits=Limits(max_turns=MAX_TURNS),
        task=Task(kind="answer", commitment=Commitment(verb=VERB), answer=DONE, needed_facts=[],
                  committers=[], ends_when="all_committed"),
    )


def _checked(where: str, make: Any) -> Scenario:
    try:
        scenario: Scenario = make()
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(map(str, first["loc"])) or "scenario"
        raise _Bad(where, f"cannot build a valid scenario ({loc}: {first['msg']})") from None
    return scenario


def _scenario(where: str, env: dict[str, Any], members: list[tuple[str, dict[str, Any]]],
              ids: set[str]) -> Scenario:
    scenario_text = _text(where, env, "scenario", required=True)
    if "agent_goals" not in env:
        raise _Bad(f"{where}.agent_goals", "required field is missing (one goal per agent)")
    raw = env["agent_goals"]
    if not isinstance(raw, list) or not all(isinstance(g, str) for g in raw):
        raise _Bad(f"{where}.agent_goals", f"expected a list of strings, got {_type(raw)}")
    goals = [clean_goal(g) for g in raw]
    for j, g in enumerate(goals):
        if not g:
            raise _Bad(f"{where}.agent_goals[{j}]", "expected a non-empty goal")
    if len(goals) < 2:
        raise _Bad(f"{where}.agent_goals", f"expected a goal for each of at least two agents, got {len(goals)}")
    if len(members) != len(goals):
        raise _Bad(f"{where}.agent_goals",
                   f"{len(goals)} goals but {len(members)} agents are paired with this environment")
    relationship = relationship_name(f"{where}.relationship", env.get("relationship"))
    people = [_Person(w, a) for w, a in members]
    codename = _text(where, env, "codename")
    pk = _pk(where, env, "pk", "scenario_id", "env_id", "id")
    if not codename and pk is None:
        raise _Bad(where, "expected a 'codename' or a 'pk' to name the scenario")
    sid = _id(codename or str(pk), "sotopia_", ids)
    title = f"Sotopia: {(codename or str(pk)).replace('_', ' ')}"
    return _checked(where, lambda: _build(sid=sid, title=title, scenario_text=scenario_text,
                                          relationship=relationship, people=people, goals=goals))


def _from_embedded(where: str, rec: dict[str, Any], ids: set[str]) -> Scenario:
    env, agents = rec["environment"], rec["agents"]
    if not isinstance(env, dict):
        raise _Bad(f"{where}.environment", f"expected an EnvironmentProfile object, got {_type(env)}")
    if not isinstance(agents, list):
        raise _Bad(f"{where}.agents", f"expected a list of AgentProfile objects, got {_type(agents)}")
    members = []
    for j, a in enumerate(agents):
        if not isinstance(a, dict):
            raise _Bad(f"{where}.agents[{j}]", f"expected an AgentProfile object, got {_type(a)}")
        members.append((f"{where}.agents[{j}]", a))
    return _scenario(f"{where}.environment", env, members, ids)


def _split_background(name: str, background: str) -> tuple[str, str]:
    """Sotopia's rendered background: "... <First>'s secrets: <secret>" -> (public part, secret)."""
    first = name.split()[0] if name.split() else name
    m = re.search(rf"\s*{re.escape(first)}'s secrets?:\s*(.*)$", background, flags=re.DOTALL)
    if m is None:
        return background.strip(), ""
    return background[:m.start()].strip(), m.group(1).strip()


def _from_episode(where: str, rec: dict[str, Any], ids: set[str]) -> Scenario:
    scenario_text = _text(where, rec, "scenario", required=True)
    goals_by_name = rec.get("social_goals")
    if not isinstance(goals_by_name, dict) or len(goals_by_name) < 2:
        raise _Bad(f"{where}.social_goals", f"expected an object agent name -> goal for two agents, "
                                            f"got {_type(goals_by_name)}")
    backgrounds = rec.get("agents_background", {})
    if not isinstance(backgrounds, dict):
        raise _Bad(f"{where}.agents_background", f"expected an object agent name -> text, got {_type(backgrounds)}")
    people: list[_Person] = []
    goals: list[str] = []
    for name, goal in goals_by_name.items():
        if not isinstance(goal, str) or not clean_goal(goal):
            raise _Bad(f"{where}.social_goals.{name}", "expected a non-empty goal")
        bg = backgrounds.get(name, "")
        if not isinstance(bg, str):
            raise _Bad(f"{where}.agents_background.{name}", f"expected a string, got {_type(bg)}")
        public, secret = _split_background(name, re.sub(r"\s+", " ", bg))
        first, _, last = name.strip().partition(" ")
        person = _Person(f"{where}.social_goals.{name}", {"first_name": first, "last_name": last, "secret": secret})
        person.rendered = public or f"{person.name}."
        people.append(person)
        goals.append(clean_goal(goal))
    codename = _text(where, rec, "codename")
    episode_id = _text(where, rec, "episode_id")
    if not codename and not episode_id:
        raise _Bad(where, "expected a 'codename' or an 'episode_id' to name the scenario")
    sid = _id(codename or episode_id, "sotopia_", ids)
    relationship = (relationship_name(f"{where}.relationship", rec["relationship"])
                    if "relationship" in rec else None)
    title = f"Sotopia: {(codename or episode_id).replace('_', ' ')}"
    return _checked(where, lambda: _build(sid=sid, title=title, scenario_text=scenario_text,
                                          relationship=relationship, people=people, goals=goals))


__all__ = ["SotopiaError", "clean_goal", "import_file", "mentions_for", "relationship_name"]
