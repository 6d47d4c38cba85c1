"""The ``sotopia-episodes`` format: Sotopia's episode logs, as privy scenarios and ``human`` episodes.

Two shapes, in any mix of input files (JSON, JSON Lines, or the Redis dump
``redis_json_data.json``; see :mod:`privy.scenarios.sotopia` for how each is read):

- **EpisodeLog** (``sotopia/database/logs.py``): ``environment`` (an EnvironmentProfile
  pk), ``agents`` (AgentProfile pks), ``tag``, ``models``, ``messages`` (a list of turns,
  each a list of ``(sender, receiver, message)`` triples), ``reasoning``, ``rewards``,
  ``rewards_prompt``; in a Redis dump under ``...:sotopia.database.logs.EpisodeLog:<pk>``,
  or as a JSON list / JSON Lines of such records (with their ``pk``). The profiles it names
  are looked up in all the input files together, so ``privy import sotopia-episodes
  redis_json_data.json episodes.json`` pairs logs with the dump's profiles. The scenario is
  the one ``privy scenarios import-sotopia`` makes of that environment and those agents
  (Sotopia's visibility per relationship, every pk in ``source``, plus ``combo_pk`` when a
  combo pairs them); the episode's pk is its ``source.record``.
- **Episode export** (``TwoAgentEpisodeWithScenarioBackgroundGoals``, ``episodes_to_jsonl``):
  ``episode_id``, ``scenario``, ``codename``, ``agents_background``, ``social_goals`` and
  ``social_interactions``, the text of ``EpisodeLog.render_for_humans``.

Messages. Only what an agent did is imported: a triple whose receiver is ``Environment``
and whose sender is an agent (Sotopia's ``render_for_humans`` reads them the same way);
the environment's messages (the backgrounds, the turn observations) are not. By
``AgentAction.to_natural_language`` (``sotopia/messages/message_classes.py``): ``said:
"X"`` becomes the message ``X``; ``did nothing`` is dropped; ``[action] X`` and
``[non-verbal communication] X`` are kept as written; ``left the conversation`` becomes
``LEAVE: done``, the scenario's way to leave, so that privy's task rules see who left.
Messages keep Sotopia's order. No model call is logged and no outcome is copied: the
episode is replayed by :func:`privy.simulator.transcript.replay` (mode ``human``; its
provenance, the file and the episode pk, in ``source``). Sotopia's ``rewards`` and
``reasoning`` are kept in ``source.scores`` (``by: Sotopia``, one per agent: the overall
score and the score per dimension, as Sotopia's evaluator gave them): provenance, shown
by ``privy show``, never taken for privy's evaluators' output (``privy evaluate``
recomputes its own; judge the episode with ``llm_judge``). ``tag`` and ``models`` are
not imported; which models played it is reported as a note.

Skipped, with the reason: an episode whose environment or agents are in none of the input
files. Bad input (a malformed record or triple) fails with ``FILE: FIELD: expected ...``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from privy.scenarios import sotopia
from privy.scenarios.importers.base import Imported, ImportInputError, ImportResult, Skipped
from privy.simulator.episode import Source, SourceScore, SourceScores
from privy.simulator.scenario import Scenario
from privy.simulator.transcript import Line, replay

FORMAT = "sotopia-episodes"
ENVIRONMENT = "Environment"
LEAVE_LINE = f"{sotopia.VERB}: {sotopia.DONE}"
_SAID = re.compile(r'^said:\s*"(?P<text>.*)"\s*$', re.DOTALL)


def message_text(message: str) -> str | None:
    """The privy message for Sotopia's natural-language action, or None for ``did nothing``."""
    m = message.strip()
    if m == "did nothing" or not m:
        return None
    if m == "left the conversation":
        return LEAVE_LINE
    said = _SAID.match(m)
    if said:
        return said.group("text")
    return m  # "[action] ...", "[non-verbal communication] ..."


def read(paths: Sequence[Path]) -> ImportResult:
    """Every Sotopia episode in ``paths``, with profiles looked up across all of them.

    Raises:
        ImportInputError: a file cannot be read, or a record is bad, or no file holds an episode.
    """
    loaded: list[tuple[Path, sotopia.Records]] = []
    pool = sotopia.Records()
    for path in paths:
        try:
            records = sotopia.load_records(Path(path))
        except sotopia.SotopiaError as err:
            raise _input_error(str(path), err) from None
        loaded.append((Path(path), records))
        pool.extend(records)
    if not pool.episode_logs and not any("social_interactions" in rec for _, rec in pool.others):
        raise ImportInputError(str(paths[0]), None, "(file)",
                               "expected Sotopia episodes: EpisodeLog records ('environment', 'agents', 'messages') "
                               "or an episode export ('social_goals', 'social_interactions')")
    agent_by_pk, env_by_pk = pool.agent_by_pk(), pool.env_by_pk()
    combos: dict[tuple[str, ...], str] = {}
    for _where, c in pool.combos:
        pk, ids = c.get("pk"), c.get("agent_ids")
        if isinstance(pk, str) and isinstance(ids, list):
            combos.setdefault((str(c.get("env_id")), *map(str, ids)), pk)

    result = ImportResult()
    pending: list[tuple[str, sotopia.Pending, Any, str]] = []  # (file, scenario to build, lines or triples, record)
    for path, records in loaded:
        file = str(path)
        for where, log in records.episode_logs:
            pk = str(log.get("pk") or where)
            env_pk, agent_pks = log.get("environment"), log.get("agents")
            if not isinstance(agent_pks, list) or not all(isinstance(a, str) for a in agent_pks):
                raise ImportInputError(file, None, f"{where}.agents",
                                       f"expected a list of agent pks, got {agent_pks!r}")
            missing = [p for p in [env_pk] if p not in env_by_pk] + [a for a in agent_pks if a not in agent_by_pk]
            if missing:
                result.skipped.append(Skipped(file, pk, f"profiles {missing} are in none of the input files; give the "
                                                        "Redis dump that holds them as another INPUT"))
                continue
            env_where, env = env_by_pk[str(env_pk)]
            members = [agent_by_pk[a] for a in agent_pks]
            source = {"combo_pk": combos.get((str(env_pk), *agent_pks), "")}
            try:
                job = sotopia.env_job(env_where, env, members, source, source["combo_pk"] or str(env_pk))
            except sotopia.RecordError as bad:
                raise ImportInputError(file, None, bad.where, bad.problem) from None
            pending.append((file, job, (where, log), pk))
            models = log.get("models")
            if isinstance(models, list) and models:
                result.notes.append(f"{file}: {pk}: played in Sotopia by {models} (tag {log.get('tag')!r}); imported "
                                    "as mode human, with Sotopia's rewards kept as the source's scores")
        for where, rec in records.others:
            if "social_interactions" not in rec:
                continue
            try:
                job = sotopia.from_episode_export(where, rec)
            except sotopia.RecordError as bad:
                raise ImportInputError(file, None, bad.where, bad.problem) from None
            pending.append((file, job, (where, rec), str(rec.get("episode_id") or where)))

    # the same environment and agents give one scenario, whichever episodes play it; its id is the one
    # `privy scenarios import-sotopia` gives it: codenames are counted over the combos and the episodes' pairings
    distinct: dict[str, sotopia.Pending] = {}
    for _, job, (_where, rec), _ in pending:
        distinct.setdefault(_key(rec), job)
    counted: list[sotopia.Pending] = []
    slot: dict[str, int] = {}
    for _where, c in pool.combos:
        env_rec = env_by_pk.get(str(c.get("env_id")))
        if env_rec is not None and isinstance(c.get("agent_ids"), list):
            slot[_key({"messages": [], "environment": c.get("env_id"), "agents": c["agent_ids"]})] = len(counted)
            name = str(env_rec[1].get("codename") or c.get("env_id"))
            counted.append(sotopia.Pending(name, str(c.get("pk") or c.get("env_id")), _no_build))
    for key, job in distinct.items():
        if key not in slot:
            slot[key] = len(counted)
            counted.append(job)
    all_ids = sotopia.assign_ids(counted)
    ids = {key: all_ids[slot[key]] for key in distinct}
    built: dict[str, Scenario] = {}
    for file, job, (where, rec), record in pending:
        key = _key(rec)
        if key not in built:
            try:
                built[key] = job.build(ids[key])
            except sotopia.RecordError as bad:
                raise ImportInputError(file, None, bad.where, bad.problem) from None
        scenario = built[key]
        if "messages" in rec:
            lines = _log_lines(file, where, rec, scenario)
        else:
            lines = _export_lines(file, where, rec, scenario)
        scores = rewards(file, where, rec, scenario)
        episode = replay(scenario, lines, Source(format=FORMAT, file=file, record=record))
        if scores is not None:
            assert episode.source is not None
            episode = episode.model_copy(update={"source": episode.source.model_copy(update={"scores": scores})})
        result.imported.append(Imported(scenario, episode))
    return result


def _no_build(sid: str) -> Scenario:
    raise AssertionError("only counted")


def _key(rec: dict[str, Any]) -> str:
    if "messages" in rec:
        return "\0".join(["log", str(rec.get("environment")), *map(str, rec.get("agents") or [])])
    return "\0".join(["export", str(rec.get("episode_id")), str(rec.get("codename"))])


def _input_error(file: str, err: sotopia.SotopiaError) -> ImportInputError:
    if err.where:
        return ImportInputError(file, None, err.where, err.problem)
    return ImportInputError(file, None, "(file)", str(err).removeprefix(f"{file}: "))


def _names(scenario: Scenario) -> dict[str, str]:
    return {a.name: a.id for a in scenario.agents}


def _log_lines(file: str, where: str, log: dict[str, Any], scenario: Scenario) -> list[Line]:
    turns = log.get("messages")
    if not isinstance(turns, list):
        raise ImportInputError(file, None, f"{where}.messages", "expected a list of turns, each a list of "
                                                                "[sender, receiver, message]")
    names = _names(scenario)
    lines = []
    for t, turn in enumerate(turns):
        if not isinstance(turn, list):
            raise ImportInputError(file, None, f"{where}.messages[{t}]", "expected a list of [sender, receiver, "
                                                                        "message] triples")
        for k, triple in enumerate(turn):
            if not (isinstance(triple, list | tuple) and len(triple) == 3 and all(isinstance(x, str) for x in triple)):
                raise ImportInputError(file, None, f"{where}.messages[{t}][{k}]",
                                       f"expected [sender, receiver, message] (three strings), got {triple!r}")
            sender, receiver, message = triple
            if receiver != ENVIRONMENT or sender == ENVIRONMENT:
                continue  # the environment's backgrounds and observations
            if sender not in names:
                raise ImportInputError(file, None, f"{where}.messages[{t}][{k}]",
                                       f"unknown sender {sender!r}; expected one of {sorted(names)} (the agents of "
                                       f"{log.get('agents')})")
            text = message_text(message)
            if text is not None:
                lines.append(Line(sender=names[sender], text=text))
    return lines


def _export_lines(file: str, where: str, rec: dict[str, Any], scenario: Scenario) -> list[Line]:
    """The messages of ``social_interactions``: ``Name said: "..."`` or ``Name: [action] ...`` lines."""
    text = rec.get("social_interactions")
    if not isinstance(text, str):
        raise ImportInputError(file, None, f"{where}.social_interactions", f"expected a string, got {text!r}")
    names = _names(scenario)
    pattern = re.compile(rf"^(?P<name>{'|'.join(re.escape(n) for n in sorted(names, key=len, reverse=True))})"
                         r"(?::\s*| )(?P<rest>.*)$")
    found: list[tuple[str, str]] = []
    for raw in text.splitlines():
        m = pattern.match(raw.strip())
        if m:
            found.append((names[m.group("name")], m.group("rest")))
        elif found and raw.strip() and not re.match(r"^Turn #\d+", raw.strip()):
            sender, rest = found[-1]
            if rest.startswith("said:") and not rest.rstrip().endswith('"'):
                found[-1] = (sender, f"{rest}\n{raw}")  # a message over several lines
    lines = []
    for sender, rest in found:
        out = message_text(rest)
        if out is not None:
            lines.append(Line(sender=sender, text=out))
    return lines


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def rewards(file: str, where: str, rec: dict[str, Any], scenario: Scenario) -> SourceScores | None:
    """Sotopia's ``rewards`` (and ``reasoning``) of a record, one per agent in the record's order, as the
    source's scores; None when it has none.

    EpisodeLog gives ``rewards: list[tuple[float, dict[str, float]] | float]`` (the overall score and the
    score per dimension, or the overall score alone); the episode export a dict per agent (dimensions)
    or the same pairs.
    """
    given = rec.get("rewards")
    if given is None or given == []:
        return None
    field = f"{where}.rewards"
    if not isinstance(given, list) or len(given) != len(scenario.agents):
        raise ImportInputError(file, None, field, f"expected a list of {len(scenario.agents)} rewards, one per agent "
                                                  f"(overall, {{dimension: score}}), got {given!r}"[:300])
    out = []
    for i, (agent, r) in enumerate(zip(scenario.agents, given, strict=True)):
        overall: float | None = None
        dims: Any = {}
        if _number(r):
            overall = float(r)
        elif isinstance(r, list | tuple) and len(r) == 2 and _number(r[0]) and isinstance(r[1], dict):
            overall, dims = float(r[0]), r[1]
        elif isinstance(r, dict):
            dims = r
        else:
            raise ImportInputError(file, None, f"{field}[{i}]", f"expected a number, [overall, {{dimension: score}}] "
                                                               f"or {{dimension: score}}, got {r!r}"[:300])
        bad = [k for k, v in dims.items() if not _number(v)]
        if bad:
            raise ImportInputError(file, None, f"{field}[{i}].{bad[0]}", f"expected a number, got {dims[bad[0]]!r}")
        out.append(SourceScore(agent=agent.id, overall=overall, dimensions={str(k): float(v) for k, v in dims.items()}))
    reasoning = rec.get("reasoning")
    return SourceScores(by="Sotopia", scores=out, reasoning=reasoning if isinstance(reasoning, str) else "")
