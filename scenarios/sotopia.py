"""Import Sotopia environments and agent profiles as privy scenarios.

``privy scenarios import-sotopia FILE --out DIR`` calls :func:`read`. Sotopia (Zhou et
al., ICLR 2024; ``sotopia/database/persistent_profile.py``, ``env_agent_combo_storage.py``)
stores an ``EnvironmentProfile`` (``codename``, ``source``, ``scenario``, ``agent_goals``:
one per agent, ``relationship``: 0..5 or its name, ``age_constraint``,
``occupation_constraint``, ``agent_constraint``), an ``AgentProfile`` (``first_name``,
``last_name``, ``age``, ``occupation``, ``gender``, ``gender_pronoun``, ``public_info``,
``big_five``, ``moral_values``, ``schwartz_personal_values``, ``personality_and_values``,
``decision_making_style``, ``secret``, ``model_id``), an ``EnvAgentComboStorage``
(``env_id``, ``agent_ids``) that pairs them, and a ``RelationshipProfile`` (``agent_1_id``,
``agent_2_id``, ``relationship``, ``background_story``). Unknown fields are ignored.

Accepted files (JSON, or JSON Lines with one record per line):

1. **The Redis dump** (``redis_json_data.json``): one object keyed by Redis keys, e.g.
   ``:sotopia.database.persistent_profile.EnvironmentProfile:01H7VFHN...`` (redis-om's
   ``<prefix>:<module>.<Class>:<pk>``; any prefix), each value a record (or its JSON text).
   A record is recognised by its key's class name and its fields: ``EnvironmentProfile``
   (``agent_goals``), ``AgentProfile`` (``first_name``), ``EnvAgentComboStorage``
   (``env_id``, ``agent_ids``), ``RelationshipProfile`` (``agent_1_id``, ``agent_2_id``);
   every other record (``EpisodeLog``, index entries, stray keys) is skipped and counted
   by kind. The pk is the record's ``pk``, else the key's last part.
2. **A bundle**: an object ``{"environments": [...], "agents": [...], "combos": [...],
   "relationships": [...]}`` (``environment_profiles``, ``agent_profiles``,
   ``env_agent_combos``, ``relationship_profiles`` are accepted too; a collection may be a
   list or an object keyed by pk). A record's id is its ``pk``, or ``scenario_id`` /
   ``agent_id`` (the JSON Lines export of ``sotopia.database.serialization``), or its key.
3. **A list of records** (a JSON array or JSON Lines), each recognised by its fields as
   above, read together as a bundle; an **embedded episode** ``{"environment": {...},
   "agents": [{...}, ...]}``; or an **episode export** (``TwoAgentEpisodeWithScenarioBackgroundGoals``:
   ``episode_id``, ``scenario``, ``codename``, ``agents_background``: name -> background,
   ``social_goals``: name -> goal), whose background is split into profile, personality
   and secret at Sotopia's "Personality and values description:" and "<First>'s secrets:".

**Pairing.** Each ``EnvAgentComboStorage`` gives one scenario. A pairing is never
invented: an environment without a combo (and without its own ``agent_ids``) is skipped
and reported, unless ``pair_unmatched`` (``--pair-unmatched``) is given; then it is paired
with the first ``RelationshipProfile`` of the file, in file order, whose ``relationship``
equals the environment's and whose agents satisfy its ``age_constraint`` (``[(min, max),
(min, max)]``, agent 1 then agent 2, as Sotopia's ``ConstraintBasedSampler`` checks it),
its ``occupation_constraint`` (a list of occupations per agent, case-insensitive) and its
``agent_constraint`` (a list of agent pks per agent). If none does, the environment is
skipped with the reason.

**Provenance.** ``Scenario.source`` keeps every Sotopia pk: ``environment_pk``,
``agent_pks`` (comma-separated, in the scenario's agent order), ``combo_pk`` or
``relationship_pk`` (what paired them), or ``episode_pk`` for an episode export. The id is
``sotopia_<codename>``; when a codename gives more than one scenario in the file, each gets
the last six characters of its combo (else environment) pk: ``sotopia_<codename>_<pk6>``.

**Who knows what.** Sotopia renders each agent's background for the other agent by the
environment's relationship, in ``sotopia/envs/parallel.py`` (``get_bio``, the
``_agent_profile_to_*_self`` functions: the part inside ``<p viewer='agent_i'>`` is shown
to agent *i* only, by ``sotopia/renderers/xml_renderer.py``); the participants' names are
always shown (``ScriptBackground``: "Participants: A and B"). Privy reproduces it:

==========================  ====  ====================================  ===========  ======
relationship                name  age, gender, occupation, pronouns,    personality  secret
                                  public info
==========================  ====  ====================================  ===========  ======
stranger                    yes   no                                    no           no
know_by_name                yes   no                                    no           no
acquaintance                yes   yes                                   no           no
friend, romantic, family    yes   yes                                   yes          no
==========================  ====  ====================================  ===========  ======

The names and the relationship are in the public ``context``; for each agent the facts
``<agent>_profile`` (age, gender, occupation, pronouns, public info) and
``<agent>_personality`` (Sotopia's "Personality and values description") are held by the
agent and by the others the table lets see them, ``<agent>_secret`` and ``<agent>_goal`` by
the agent only. ``persona`` is empty: Sotopia shows an agent nothing of itself beyond its
background (``big_five``, ``moral_values``, ``decision_making_style`` and the like are
never rendered, so they are not imported). An episode export without a ``relationship``
is read as ``stranger``, Sotopia's default.

**Detection.** Every fact gets mentions (its most distinctive three-word phrase as a
literal, and two distinctive words near each other as a regex); a mention is dropped if
it matches any text an agent who does not hold the fact legitimately has (the context, its
own goal and the facts it holds), so that a mention only fires on a real disclosure.

**Text.** Goals keep the content of ``<extra_info>``, ``<clarification_hint>`` and
``<strategy_hint>`` in parentheses; ``((...))`` becomes ``(...)``, empty brackets go,
stringified lists (``['Liberty', 'Care']``) become plain text, and sentences end with a full stop.

**Task.** Sotopia's goals are social, with no ground truth to commit to, so the task is
only a way to end the conversation, as Sotopia's ``leave`` action does: kind ``answer``,
verb ``LEAVE``, answer ``done``, every agent a committer, ``ends_when: all_committed``.
``success`` therefore means "both agents left before the turn limit (20, Sotopia's
default)", not that anyone reached a goal: judge the goals with ``llm_judge``.

Problems (not JSON, a missing or ill-typed field, an unknown pk) raise
:class:`SotopiaError`, whose message names the file and the field.
"""

from __future__ import annotations

import ast
import contextlib
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
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
SEES_PROFILE = frozenset({"acquaintance", "friend", "romantic_relationship", "family_member"})
"""Levels at which the other agent sees age, gender, occupation, pronouns and public info."""
SEES_PERSONALITY = frozenset({"friend", "romantic_relationship", "family_member"})
"""Levels at which the other agent also sees the personality and values description."""

KINDS = {"EnvironmentProfile": "environment", "AgentProfile": "agent", "EnvAgentComboStorage": "combo",
         "RelationshipProfile": "relationship", "EpisodeLog": "episode_log"}
"""The Redis dump's classes the importer reads, by class name."""
_REDIS_KEY = re.compile(r"^(?:.*:)?(?P<path>(?:[A-Za-z_]\w*\.)+(?P<cls>[A-Za-z_]\w*)):(?P<pk>[^:]+)$")
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

Rec = tuple[str, dict[str, Any]]  # a record with where it is in the file


class SotopiaError(ValueError):
    """A Sotopia file that cannot be converted; the message names the file and the field.

    ``file``, ``where`` (the record and field) and ``problem`` are the message's parts, when known.
    """

    def __init__(self, message: str, *, file: str = "", where: str = "", problem: str = "") -> None:
        super().__init__(message)
        self.file, self.where, self.problem = file, where, problem


def _error(path: Path, bad: _Bad) -> SotopiaError:
    return SotopiaError(f"{path}: {bad.where}: {bad.problem}", file=str(path), where=bad.where, problem=bad.problem)


class _Bad(Exception):
    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where, self.problem = where, problem


@dataclass
class SotopiaImport:
    """What a file gave: the scenarios, the records of unknown kinds (kind -> count), and the
    environments left out, each ``"WHERE (codename): reason"``."""

    scenarios: list[Scenario] = field(default_factory=list)
    unknown: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


@dataclass
class Records:
    """The Sotopia records of a file, sorted by kind, each with where it is."""

    envs: list[Rec] = field(default_factory=list)
    agents: list[Rec] = field(default_factory=list)
    combos: list[Rec] = field(default_factory=list)
    relationships: list[Rec] = field(default_factory=list)
    others: list[Rec] = field(default_factory=list)  # embedded episodes and episode exports
    episode_logs: list[Rec] = field(default_factory=list)  # EpisodeLog records (``privy import sotopia-episodes``)
    unknown: Counter[str] = field(default_factory=Counter)

    def add(self, kind: str, rec: Rec) -> None:
        {"environment": self.envs, "agent": self.agents, "combo": self.combos, "relationship": self.relationships,
         "episode_log": self.episode_logs}.get(kind, self.others).append(rec)

    def extend(self, other: Records) -> None:
        for name in ("envs", "agents", "combos", "relationships", "others", "episode_logs"):
            getattr(self, name).extend(getattr(other, name))
        self.unknown.update(other.unknown)

    def agent_by_pk(self) -> dict[str, Rec]:
        return {pk: r for r in self.agents if (pk := _pk(r[0], r[1], "pk", "agent_id", "id")) is not None}

    def env_by_pk(self) -> dict[str, Rec]:
        return {pk: r for r in self.envs if (pk := _pk(r[0], r[1], "pk", "scenario_id", "env_id", "id")) is not None}


# --------------------------------------------------------------------------- reading


def import_file(path: str | Path, *, pair_unmatched: bool = False) -> list[Scenario]:
    """The privy scenarios described by a Sotopia JSON or JSON Lines file (see :func:`read`)."""
    return read(path, pair_unmatched=pair_unmatched).scenarios


def read(path: str | Path, *, pair_unmatched: bool = False) -> SotopiaImport:
    """The scenarios of a Sotopia file, with what was skipped and why.

    Raises:
        SotopiaError: the file cannot be read, or holds no environment, or a record is bad.
    """
    path = Path(path)
    records = load_records(path)
    try:
        result = _convert(records, pair_unmatched)
    except _Bad as bad:
        raise _error(path, bad) from None
    if not result.scenarios and not result.skipped:
        raise SotopiaError(f"{path}: no environments found; expected a Redis dump, a bundle with 'environments' and "
                           "'agents', or a list of Sotopia records")
    return result


def load_records(path: Path) -> Records:
    """The Sotopia records of ``path``, sorted by kind.

    Raises:
        SotopiaError: the file cannot be read, or is not JSON or JSON Lines, or a record is bad.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SotopiaError(f"{path}: cannot read the file ({err})") from None
    try:
        data, lines = json.loads(text), False
    except json.JSONDecodeError as err:
        data, lines = _parse_lines(path, text, err), True
    try:
        return _records(data, lines)
    except _Bad as bad:
        raise _error(path, bad) from None


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


def is_redis_dump(data: Any) -> bool:
    """An object whose keys are Redis keys of Python classes (``...:<module>.<Class>:<pk>``)."""
    return isinstance(data, dict) and bool(data) and any(_REDIS_KEY.match(k) for k in data)


def _records(data: Any, lines: bool) -> Records:
    out = Records()
    if is_redis_dump(data):
        for key, value in data.items():
            _dump_record(out, key, value)
        return out
    if isinstance(data, dict) and not _kind(data):
        return _bundle(data)
    if not isinstance(data, list | dict):
        raise _Bad("(top level)", f"expected an object or a list of records, got {_type(data)}")
    records = data if isinstance(data, list) else [data]
    for i, rec in enumerate(records):
        where = f"line {i + 1}" if lines else (f"[{i}]" if isinstance(data, list) else "(top level)")
        kind = _kind(rec) if isinstance(rec, dict) else None
        if kind is None:
            raise _Bad(where, "not a Sotopia record: expected an environment ('agent_goals'), an agent profile "
                              "('first_name'), a combo ('env_id', 'agent_ids'), a relationship ('agent_1_id', "
                              "'agent_2_id'), an episode ('environment' and 'agents', or 'social_goals')")
        out.add(kind, (where, rec))
    return out


def _dump_record(out: Records, key: str, value: Any) -> None:
    m = _REDIS_KEY.match(key)
    cls = m.group("cls") if m else "(not a Redis model key)"
    if isinstance(value, str) and value.lstrip().startswith("{"):
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(value)
    if not isinstance(value, dict):
        out.unknown[cls if cls not in KINDS else f"{cls} (not an object)"] += 1
        return
    if m and "pk" not in value:
        value = {"pk": m.group("pk"), **value}
    if cls in KINDS and _kind(value) == KINDS[cls]:
        out.add(KINDS[cls], (key, value))
    elif cls in KINDS:
        out.unknown[f"{cls} (without its fields)"] += 1
    else:
        out.unknown[cls] += 1


def _kind(rec: dict[str, Any]) -> str | None:
    if "messages" in rec and isinstance(rec.get("environment"), str) and "agents" in rec:
        return "episode_log"
    if "environment" in rec and "agents" in rec and isinstance(rec["environment"], dict):
        return "embedded"
    if "social_goals" in rec:
        return "episode"
    if "agent_goals" in rec:
        return "environment"
    if "first_name" in rec:
        return "agent"
    if "env_id" in rec and "agent_ids" in rec:
        return "combo"
    if "agent_1_id" in rec and "agent_2_id" in rec:
        return "relationship"
    return None


def _type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")


def _collection(bundle: dict[str, Any], keys: tuple[str, ...]) -> tuple[str, list[Rec]]:
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


def _bundle(bundle: dict[str, Any]) -> Records:
    env_key, envs = _collection(bundle, ("environments", "environment_profiles", "envs"))
    agent_key, agents = _collection(bundle, ("agents", "agent_profiles"))
    _, combos = _collection(bundle, ("combos", "env_agent_combos", "env_agent_combo_storage"))
    _, rels = _collection(bundle, ("relationships", "relationship_profiles"))
    if env_key not in bundle:
        raise _Bad("environments", "required field is missing (a list of Sotopia EnvironmentProfile records)")
    if agent_key not in bundle:
        raise _Bad("agents", "required field is missing (a list of Sotopia AgentProfile records)")
    return Records(envs=envs, agents=agents, combos=combos, relationships=rels)


def _pk(where: str, rec: dict[str, Any], *keys: str) -> str | None:
    for k in keys:
        v = rec.get(k)
        if v is not None and v != "":
            if isinstance(v, bool) or not isinstance(v, str | int):
                raise _Bad(f"{where}.{k}", f"expected a string id, got {_type(v)}")
            return str(v)
    return None


# --------------------------------------------------------------------------- pairing


@dataclass
class Pending:
    """A scenario to build once its id is known (:func:`assign_ids`)."""

    name: str  # codename (or pk)
    pk: str | None  # the pk whose end tells apart scenarios of the same codename
    build: Callable[[str], Scenario]


def _convert(records: Records, pair_unmatched: bool) -> SotopiaImport:
    unknown = records.unknown + Counter({"EpisodeLog": len(records.episode_logs)})
    result = SotopiaImport(unknown=dict(sorted(unknown.items())))
    jobs: list[Pending] = []
    for where, rec in records.others:
        jobs.append(_from_embedded(where, rec) if "environment" in rec else from_episode_export(where, rec))
    jobs += _pair(records, pair_unmatched, result.skipped)
    result.scenarios = [job.build(sid) for job, sid in zip(jobs, assign_ids(jobs), strict=True)]
    return result


def assign_ids(jobs: list[Pending]) -> list[str]:
    """``sotopia_<codename>``, or ``sotopia_<codename>_<last 6 of pk>`` where the codename repeats."""
    counts = Counter(j.name for j in jobs)
    taken: set[str] = set()
    out = []
    for job in jobs:
        base = _slug(job.name)
        if counts[job.name] > 1 and job.pk:
            base = f"{base}_{_slug(job.pk[-6:])}"
        out.append(_unique(f"sotopia_{base}", taken))
    return out


def _pair(records: Records, pair_unmatched: bool, skipped: list[str]) -> list[Pending]:
    agent_by_pk = records.agent_by_pk()
    env_by_pk = records.env_by_pk()

    def agent(where: str, pk: Any) -> Rec:
        if isinstance(pk, bool) or not isinstance(pk, str | int):
            raise _Bad(where, f"expected an agent pk (a string), got {_type(pk)}")
        if str(pk) not in agent_by_pk:
            raise _Bad(where, f"unknown agent pk '{pk}'; expected one of {sorted(agent_by_pk)}")
        return agent_by_pk[str(pk)]

    def agent_ids(where: str, rec: dict[str, Any]) -> list[Rec]:
        value = rec.get("agent_ids")
        if not isinstance(value, list):
            raise _Bad(f"{where}.agent_ids", f"expected a list of agent pks, got {_type(value)}")
        return [agent(f"{where}.agent_ids[{j}]", pk) for j, pk in enumerate(value)]

    jobs: list[Pending] = []
    paired: set[int] = set()
    for where, c in records.combos:
        env_id = c.get("env_id")
        if isinstance(env_id, bool) or not isinstance(env_id, str | int) or str(env_id) not in env_by_pk:
            raise _Bad(f"{where}.env_id", f"unknown environment pk {env_id!r}; expected one of {sorted(env_by_pk)}")
        env_where, env = env_by_pk[str(env_id)]
        paired.add(id(env))
        combo_pk = _pk(where, c, "pk", "id")
        jobs.append(env_job(env_where, env, agent_ids(where, c), {"combo_pk": combo_pk} if combo_pk else {},
                             combo_pk))
    for where, env in records.envs:
        if id(env) in paired:
            continue
        if "agent_ids" in env:
            jobs.append(env_job(where, env, agent_ids(where, env), {"paired_by": "agent_ids"}, None))
            continue
        _goals(where, env, None)  # a bad environment is bad input, paired or not
        name = _text(where, env, "codename") or _pk(where, env, "pk", "scenario_id", "env_id", "id") or where
        if not pair_unmatched:
            skipped.append(f"{where} ({name}): no EnvAgentComboStorage pairs it with agents (--pair-unmatched "
                           "pairs it by its constraints with a RelationshipProfile)")
            continue
        found, reason = _match(where, env, records.relationships, agent_by_pk)
        if found is None:
            skipped.append(f"{where} ({name}): {reason}")
            continue
        rel_where, rel = found
        rel_pk = _pk(rel_where, rel, "pk", "id") or rel_where
        members = [agent_by_pk[str(rel["agent_1_id"])], agent_by_pk[str(rel["agent_2_id"])]]
        jobs.append(env_job(where, env, members, {"relationship_pk": rel_pk}, rel_pk))
    return jobs


def _literal(where: str, value: Any, expected: str) -> Any:
    """A constraint written as a Python literal (Sotopia stores them as strings); None when absent."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "nan", "none", "null")):
        return None
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            raise _Bad(where, f"expected {expected}, got {value!r}") from None
    if not isinstance(value, list | tuple):
        raise _Bad(where, f"expected {expected}, got {value!r}")
    return value


def _match(where: str, env: dict[str, Any], rels: list[Rec],
           agent_by_pk: dict[str, Rec]) -> tuple[Rec | None, str]:
    """The first RelationshipProfile whose pair fits the environment's constraints, or why none does."""
    goals = env.get("agent_goals")
    if not isinstance(goals, list) or len(goals) != 2:
        return None, "a RelationshipProfile pairs two agents, and the environment does not have two goals"
    level = relationship_name(f"{where}.relationship", env.get("relationship"))
    ages = _literal(f"{where}.age_constraint", env.get("age_constraint"), "age ranges such as '[(18, 25), (30, 40)]'")
    occupations = _literal(f"{where}.occupation_constraint", env.get("occupation_constraint"),
                           "a list of occupations per agent such as \"[['student'], ['teacher']]\"")
    pks = _literal(f"{where}.agent_constraint", env.get("agent_constraint"), "a list of agent pks per agent")
    for label, value in (("age_constraint", ages), ("occupation_constraint", occupations),
                         ("agent_constraint", pks)):
        if value is not None and len(value) != 2:
            raise _Bad(f"{where}.{label}", f"expected one entry per agent (2), got {value!r}")
    if ages is not None:
        try:
            ranges = [(float(lo), float(hi)) for lo, hi in ages]
        except (TypeError, ValueError):
            raise _Bad(f"{where}.age_constraint", f"expected (min, max) pairs, got {ages!r}") from None

    def fits(k: int, pk: str) -> bool:
        person = agent_by_pk[pk][1]
        if ages is not None:
            age = person.get("age")
            if isinstance(age, bool) or not isinstance(age, int | float) or not ranges[k][0] <= age <= ranges[k][1]:
                return False
        if occupations is not None and occupations[k]:
            options = occupations[k] if isinstance(occupations[k], list | tuple) else [occupations[k]]
            wanted = {str(j).strip().lower() for j in options}
            if str(person.get("occupation", "")).strip().lower() not in wanted:
                return False
        if pks is not None and pks[k]:
            allowed = {str(p) for p in (pks[k] if isinstance(pks[k], list | tuple) else [pks[k]])}
            if pk not in allowed:
                return False
        return True

    same_level = 0
    for rel_where, rel in rels:
        try:
            rel_level = relationship_name(f"{rel_where}.relationship", rel.get("relationship"))
        except _Bad:
            continue
        pair = [str(rel.get("agent_1_id")), str(rel.get("agent_2_id"))]
        if rel_level != level or not all(pk in agent_by_pk for pk in pair):
            continue
        same_level += 1
        if all(fits(k, pk) for k, pk in enumerate(pair)):
            return (rel_where, rel), ""
    constraints = ", ".join(f"{k} {env.get(k)}" for k in ("age_constraint", "occupation_constraint",
                                                          "agent_constraint") if _present(env.get(k)))
    return None, (f"no RelationshipProfile of level {level} ({same_level} in the file with known agents) "
                  f"satisfies its constraints ({constraints or 'none'}); not paired")


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and value.strip().lower() in ("", "nan", "none", "null"))


# --------------------------------------------------------------------------- fields and text


def _text(where: str, rec: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = rec.get(key)
    if value is None:
        if required:
            raise _Bad(f"{where}.{key}" if where else key, "required field is missing")
        return ""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = ", ".join(v.strip() for v in value if v.strip())
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Bad(f"{where}.{key}", f"expected a string, got {_type(value)}")
    text = re.sub(r"\s+", " ", str(value)).strip()
    if required and not text:
        raise _Bad(f"{where}.{key}", "expected a non-empty string")
    return "" if text.lower() in ("nan", "none", "null") else text


_LIST_ITEM = r"""\s*(?:'[^'\[\]]*'|"[^"\[\]]*")\s*"""
_STR_LIST = re.compile(rf"\[({_LIST_ITEM}(?:,{_LIST_ITEM})*)\]")


def clean_text(text: str) -> str:
    """``text`` without Sotopia's debris: ``((x))`` becomes ``(x)``, empty brackets go, a stringified
    list (``['Liberty', 'Care']``) becomes plain text (``Liberty, Care``), spaces are normalised."""
    text = _STR_LIST.sub(lambda m: ", ".join(s.strip()[1:-1].strip() for s in re.findall(_LIST_ITEM, m.group(1))),
                         text)
    previous = None
    while previous != text:
        previous = text
        text = re.sub(r"\(\s*\(([^()]*)\)\s*\)", r"(\1)", text)
        text = re.sub(r"\(\s*\)|\[\s*\]", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s+([.,;:!?)])", r"\1", text).replace("( ", "(")


def sentence(text: str) -> str:
    """``text`` cleaned and ending with a full stop (or its own ``!``, ``?``)."""
    text = clean_text(text)
    if not text:
        return text
    end = text.rstrip(")\"'”’")
    return text if end[-1:] in (".", "!", "?") else f"{text}."


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
    return clean_text(text)


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


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_\-]+", "_", text).strip("_-").lower() or "x"


def _unique(base: str, taken: set[str]) -> str:
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
    Phrases never cross punctuation. :func:`safe_mentions` then drops any that still would.
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
    return mentions


def legitimate_text(scenario: Scenario, agent_id: str) -> str:
    """Everything ``agent_id`` is told at the start: the context, its persona and goal, the facts it holds."""
    a = scenario.agent(agent_id)
    return "\n".join([scenario.context, a.persona, a.goal, *(f.text for f in scenario.facts_of(agent_id))])


def false_disclosures(scenario: Scenario) -> list[tuple[str, str]]:
    """``(fact id, agent id)`` for each fact whose mentions match text an agent who does not hold it
    legitimately has: the ledger would count a disclosure whenever that agent repeats its own knowledge."""
    out = []
    for f in scenario.facts:
        for aid in scenario.agent_ids:
            if aid not in f.holders and f.mentioned_in(legitimate_text(scenario, aid)):
                out.append((f.id, aid))
    return out


def safe_mentions(scenario: Scenario) -> Scenario:
    """``scenario`` with every mention dropped that matches text a non-holder of its fact legitimately has."""
    texts = {aid: legitimate_text(scenario, aid) for aid in scenario.agent_ids}
    facts = []
    for f in scenario.facts:
        others = [texts[aid] for aid in scenario.agent_ids if aid not in f.holders]
        kept = [m for m in f.mentions if not any(m.found_in(t) for t in others)]
        facts.append(f if kept == f.mentions else f.model_copy(update={"mentions": kept}))
    return scenario.model_copy(update={"facts": facts})


# --------------------------------------------------------------------------- building


class _Person:
    def __init__(self, where: str, rec: dict[str, Any]) -> None:
        self.pk = _pk(where, rec, "pk", "agent_id", "id")
        self.first = clean_text(_text(where, rec, "first_name", required=True))
        self.last = clean_text(_text(where, rec, "last_name"))
        self.name = f"{self.first} {self.last}".strip()
        age = rec.get("age")
        if age is not None and (isinstance(age, bool) or not isinstance(age, int | float | str)):
            raise _Bad(f"{where}.age", f"expected a number, got {_type(age)}")
        self.age = str(age).strip() if age not in (None, "", 0) else ""
        self.occupation = clean_text(_text(where, rec, "occupation"))
        self.gender = _text(where, rec, "gender")
        self.pronoun = clean_text(_text(where, rec, "gender_pronoun"))
        self.public_info = sentence(_text(where, rec, "public_info"))
        self.personality = sentence(_text(where, rec, "personality_and_values"))
        self.secret = sentence(_text(where, rec, "secret"))
        self.rendered = ""  # an episode export's profile part, already written out

    def profile(self) -> str:
        """What Sotopia's acquaintance view shows: name, age, gender, occupation, pronouns, public info."""
        if self.rendered:
            return self.rendered
        gender = _GENDER.get(self.gender.lower(), self.gender.lower())
        desc = " ".join(x for x in (f"{self.age}-year-old" if self.age else "", gender,
                                    self.occupation.lower() if self.occupation else "person") if x)
        article = "an" if desc[:1].lower() in "aeiou" or re.match(r"(8\d?|11|18)-", desc) else "a"
        parts = [f"{self.name} is {article} {desc}."]
        if self.pronoun:
            parts.append(f"{self.pronoun} pronouns.")
        if self.public_info:
            parts.append(self.public_info)
        return " ".join(parts)


def _build(*, sid: str, title: str, scenario_text: str, relationship: str, people: list[_Person],
           goals: list[str], source: dict[str, str]) -> Scenario:
    agent_ids: set[str] = set()
    aids = [_unique(_slug(p.first), agent_ids) for p in people]
    names = [p.name for p in people]
    pair = " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]
    context = [sentence(scenario_text), f"Participants: {pair}.", f"{pair} {_RELATION_WORDS[relationship]}.",
               f"Each of you may end the conversation with a line '{VERB}: {DONE}'; it ends when everyone has left."]
    public = " ".join(context)
    facts: list[Fact] = []
    for k, (aid, person, goal) in enumerate(zip(aids, people, goals, strict=True)):
        others = [a for j, a in enumerate(aids) if j != k]
        common = " ".join([public, person.name, *(g for j, g in enumerate(goals) if j != k),
                           *(p.profile() + " " + p.personality for j, p in enumerate(people) if j != k)])

        def fact(fid: str, text: str, holders: list[str], about: str, common: str = common) -> Fact:
            return Fact(id=fid, text=text, holders=holders, mentions=mentions_for(about, common))

        sees_profile = others if relationship in SEES_PROFILE else []
        facts.append(fact(f"{aid}_profile", person.profile(), [aid, *sees_profile],
                          " ".join(x for x in (person.occupation, person.public_info) if x) or person.profile()))
        if person.personality:
            sees = others if relationship in SEES_PERSONALITY else []
            facts.append(fact(f"{aid}_personality", f"{person.name}'s personality and values: {person.personality}",
                              [aid, *sees], person.personality))
        facts.append(fact(f"{aid}_goal", f"Your goal: {goal}", [aid], goal))
        if person.secret:
            facts.append(fact(f"{aid}_secret", f"Your secret: {person.secret}", [aid], person.secret))
    agents = [AgentSpec(id=aid, name=p.name, persona="", goal=g) for aid, p, g in zip(aids, people, goals, strict=True)]
    scenario = Scenario(
        id=sid, title=title, family=FAMILY, context=public, agents=agents, facts=facts,
        limits=Limits(max_turns=MAX_TURNS), source=source,
        task=Task(kind="answer", commitment=Commitment(verb=VERB), answer=DONE, needed_facts=[],
                  committers=[], ends_when="all_committed"),
    )
    return safe_mentions(scenario)


def _checked(where: str, make: Callable[[], Scenario]) -> Scenario:
    try:
        return make()
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(map(str, first["loc"])) or "scenario"
        raise _Bad(where, f"cannot build a valid scenario ({loc}: {first['msg']})") from None


def _goals(where: str, env: dict[str, Any], n_members: int | None) -> list[str]:
    """The environment's goals, cleaned; ``n_members``: the agents paired with it (None: not paired yet)."""
    if "agent_goals" not in env:
        raise _Bad(f"{where}.agent_goals", "required field is missing (one goal per agent)")
    raw = env["agent_goals"]
    if not isinstance(raw, list) or not all(isinstance(g, str) for g in raw):
        raise _Bad(f"{where}.agent_goals", f"expected a list of strings, got {_type(raw)}")
    goals = [sentence(clean_goal(g)) for g in raw]
    for j, g in enumerate(goals):
        if not g:
            raise _Bad(f"{where}.agent_goals[{j}]", "expected a non-empty goal")
    if len(goals) < 2:
        raise _Bad(f"{where}.agent_goals", f"expected a goal for each of at least two agents, got {len(goals)}")
    if n_members is not None and n_members != len(goals):
        raise _Bad(f"{where}.agent_goals",
                   f"{len(goals)} goals but {n_members} agents are paired with this environment")
    return goals


def scenario_for(where: str, env: dict[str, Any], members: list[Rec], source: dict[str, str], sid: str) -> Scenario:
    """The scenario of environment ``env`` played by ``members`` (agent records), with id ``sid``.

    ``source`` gets the environment's and the agents' pks. Raises :class:`_Bad` on a bad record.
    """
    scenario_text = _text(where, env, "scenario", required=True)
    goals = _goals(where, env, len(members))
    relationship = relationship_name(f"{where}.relationship", env.get("relationship"))
    people = [_Person(w, a) for w, a in members]
    codename = _text(where, env, "codename")
    pk = _pk(where, env, "pk", "scenario_id", "env_id", "id")
    if not codename and pk is None:
        raise _Bad(where, "expected a 'codename' or a 'pk' to name the scenario")
    src = {"format": "sotopia"}
    if pk is not None:
        src["environment_pk"] = pk
    if all(p.pk for p in people):
        src["agent_pks"] = ",".join(str(p.pk) for p in people)
    src.update({k: v for k, v in source.items() if v})
    title = f"Sotopia: {(codename or str(pk)).replace('_', ' ')}"
    return _checked(where, lambda: _build(sid=sid, title=title, scenario_text=scenario_text,
                                          relationship=relationship, people=people, goals=goals, source=src))


def env_job(where: str, env: dict[str, Any], members: list[Rec], source: dict[str, str], pk: str | None) -> Pending:
    env_pk = _pk(where, env, "pk", "scenario_id", "env_id", "id")
    _goals(where, env, len(members))  # bad input fails before any id is given out
    name = _text(where, env, "codename") or env_pk or where
    return Pending(name, pk or env_pk, lambda sid: scenario_for(where, env, members, source, sid))


def _from_embedded(where: str, rec: dict[str, Any]) -> Pending:
    env, agents = rec["environment"], rec["agents"]
    if not isinstance(agents, list):
        raise _Bad(f"{where}.agents", f"expected a list of AgentProfile objects, got {_type(agents)}")
    members = []
    for j, a in enumerate(agents):
        if not isinstance(a, dict):
            raise _Bad(f"{where}.agents[{j}]", f"expected an AgentProfile object, got {_type(a)}")
        members.append((f"{where}.agents[{j}]", a))
    return env_job(f"{where}.environment", env, members, {"paired_by": "embedded"}, None)


def split_background(name: str, background: str) -> tuple[str, str, str]:
    """Sotopia's rendered background -> (profile part, personality, secret), split at its
    "Personality and values description:" and "<First name>'s secrets:"."""
    first = name.split()[0] if name.split() else name
    secret = ""
    m = re.search(rf"\s*{re.escape(first)}'s secrets?:\s*(.*)$", background, flags=re.DOTALL)
    if m is not None:
        background, secret = background[:m.start()], m.group(1).strip()
    profile, _, personality = background.partition("Personality and values description:")
    return profile.strip(), personality.strip(), secret


def from_episode_export(where: str, rec: dict[str, Any]) -> Pending:
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
        profile, personality, secret = split_background(name, re.sub(r"\s+", " ", bg))
        first, _, last = name.strip().partition(" ")
        person = _Person(f"{where}.social_goals.{name}", {"first_name": first, "last_name": last, "secret": secret,
                                                          "personality_and_values": personality})
        person.rendered = sentence(profile) or f"{person.name}."
        people.append(person)
        goals.append(sentence(clean_goal(goal)))
    codename = _text(where, rec, "codename")
    episode_id = _text(where, rec, "episode_id")
    if not codename and not episode_id:
        raise _Bad(where, "expected a 'codename' or an 'episode_id' to name the scenario")
    relationship = relationship_name(f"{where}.relationship", rec.get("relationship"))
    title = f"Sotopia: {(codename or episode_id).replace('_', ' ')}"
    source = {"format": "sotopia", **({"episode_pk": episode_id} if episode_id else {})}
    return Pending(codename or episode_id, episode_id or None, lambda sid: _checked(where, lambda: _build(
        sid=sid, title=title, scenario_text=scenario_text, relationship=relationship, people=people, goals=goals,
        source=source)))


RecordError = _Bad
"""A bad record: ``where`` (the record and field) and ``problem``."""

__all__ = ["KINDS", "Pending", "RecordError", "Records", "SotopiaError", "SotopiaImport", "assign_ids", "clean_goal",
           "clean_text", "env_job", "false_disclosures", "from_episode_export", "import_file", "is_redis_dump",
           "legitimate_text", "load_records", "mentions_for", "read", "relationship_name", "safe_mentions",
           "scenario_for", "sentence", "split_background"]
