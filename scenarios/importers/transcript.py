"""The ``transcript`` format: any chat log, one message per record, with a privy scenario file.

One file is one dialogue. Its records, in the order they happened:

| field        | required | meaning                                                                 |
|--------------|----------|-------------------------------------------------------------------------|
| `sender`     | yes      | an agent of the scenario: its id, or its name (any case)                |
| `text`       | yes      | the message, as written                                                 |
| `recipients` | no       | agents it was sent to (ids or names); default: the sender's neighbours  |
| `time`       | no       | when it was sent, as the source writes it (kept in ``source.times``)    |

- **JSON Lines** (``.jsonl``, ``.ndjson``): one object per line; blank lines are skipped.
- **CSV** (``.csv``): a header row naming the columns, then one row per message;
  ``recipients`` separated by ``;``, an empty cell meaning the default.
- **YAML** (``.yaml``, ``.yml``) or **JSON** (``.json``): a list of the same objects.

The scenario (``--scenario FILE``: agents, facts, topology, task) is any privy scenario
file. Messages keep the transcript's order, however irregular (no round robin); a
message's turn is its index, and the scenario's turn limit is not applied. Commitments
are read by the scenario's own rule (a line ``VERB: value``) and the outcome is worked
out by privy's task rules. An unknown sender or recipient, an unknown field, a missing
sender or text, or a recipient the topology does not let the sender reach is bad input:
``FILE:LINE: FIELD: expected ...``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import networkx as nx
import yaml

from privy.scenarios.importers.base import Imported, ImportInputError, ImportResult, read_text
from privy.simulator.bus import build_graph
from privy.simulator.episode import Source
from privy.simulator.scenario import Scenario
from privy.simulator.transcript import Line, replay

FORMAT = "transcript"
FIELDS = ("sender", "text", "recipients", "time")
SUFFIXES = (".jsonl", ".ndjson", ".csv", ".yaml", ".yml", ".json")


def read(path: Path, scenario: Scenario, scenario_path: str | None = None) -> ImportResult:
    """The one dialogue in ``path``, replayed in ``scenario``.

    Raises:
        ImportInputError: the file cannot be read, or a record is bad (its line and field named).
    """
    file = str(path)
    records = _records(path)
    if not records:
        raise ImportInputError(file, 1, "(file)", "expected at least one message")
    agents = _Agents(scenario, file, scenario_path)
    lines = []
    for line_no, rec in records:
        if not isinstance(rec, dict):
            raise ImportInputError(file, line_no, "(record)", f"expected an object with fields {list(FIELDS)}, "
                                                              f"got {type(rec).__name__}")
        unknown = sorted(set(rec) - set(FIELDS))
        if unknown:
            raise ImportInputError(file, line_no, str(unknown[0]), f"unknown field; expected one of {list(FIELDS)}")
        for required in ("sender", "text"):
            if rec.get(required) in (None, ""):
                raise ImportInputError(file, line_no, required, "required field is missing")
        if not isinstance(rec["text"], str):
            raise ImportInputError(file, line_no, "text", f"expected a string, got {rec['text']!r}")
        sender = agents.id_of(rec["sender"], line_no, "sender")
        recipients = agents.recipients(sender, rec.get("recipients"), line_no)
        time = rec.get("time")
        lines.append(Line(sender=sender, text=rec["text"], recipients=recipients,
                          time=None if time in (None, "") else str(time)))
    source = Source(format=FORMAT, file=file, record=path.name, line=records[0][0])
    episode = replay(scenario, lines, source, scenario_path=scenario_path)
    return ImportResult(imported=[Imported(scenario, episode)])


class _Agents:
    """The scenario's agents, by id and by name, and whom each may address."""

    def __init__(self, scenario: Scenario, file: str, scenario_path: str | None) -> None:
        self.file = file
        self.ids = scenario.agent_ids
        self.by_name = {a.name.casefold(): a.id for a in scenario.agents}
        graph: nx.DiGraph = build_graph(scenario)
        self.neighbours = {a: sorted(graph.successors(a)) for a in self.ids}
        self.of = f" (agent ids or names in {scenario_path})" if scenario_path else " (agent ids or names)"

    def id_of(self, value: Any, line: int, field: str) -> str:
        if isinstance(value, str):
            v = value.strip()
            if v in self.ids:
                return v
            if v.casefold() in self.by_name:
                return self.by_name[v.casefold()]
        raise ImportInputError(self.file, line, field, f"unknown agent {value!r}; expected one of {self.ids}{self.of}")

    def recipients(self, sender: str, value: Any, line: int) -> frozenset[str] | None:
        if value is None or value == "":
            return None
        if isinstance(value, str):  # CSV: ';'-separated
            value = [v for v in value.split(";") if v.strip()]
        if not isinstance(value, list) or not value:
            raise ImportInputError(self.file, line, "recipients", f"expected a non-empty list of agents, got {value!r} "
                                                                  "(leave the field out for the sender's neighbours)")
        out = frozenset(self.id_of(v, line, "recipients") for v in value)
        refused = sorted(out - set(self.neighbours[sender]))
        if refused:
            raise ImportInputError(self.file, line, "recipients",
                                   f"'{sender}' may not send to {refused} in the scenario's topology; "
                                   f"expected some of {self.neighbours[sender]}")
        return out


def _records(path: Path) -> list[tuple[int, Any]]:
    """Each record of the file with the line it starts on."""
    file = str(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ImportInputError(file, None, "(file)", f"unknown transcript suffix {path.suffix!r}; expected one of "
                                                     f"{list(SUFFIXES)}")
    text = read_text(path)
    if suffix in (".jsonl", ".ndjson"):
        out = []
        for i, raw in enumerate(text.splitlines(), 1):
            if raw.strip():
                try:
                    out.append((i, json.loads(raw)))
                except json.JSONDecodeError as err:
                    raise ImportInputError(file, i, "(json)", f"expected one JSON object per line ({err.msg})") from err
        return out
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = [h.strip() for h in reader.fieldnames or []]
        unknown = [h for h in header if h not in FIELDS]
        if unknown:
            raise ImportInputError(file, 1, unknown[0], f"unknown column; expected some of {list(FIELDS)}")
        rows = []
        start = 2
        for row in reader:
            if any(v.strip() for v in row.get(None) or []):  # type: ignore[call-overload]
                raise ImportInputError(file, start, "(row)", f"expected {len(header)} cells ({', '.join(header)}), "
                                                             "got more; quote a text that holds a comma")
            rows.append((start, {k.strip(): (v or "").strip() if k != "text" else (v or "")
                                 for k, v in row.items() if k is not None}))
            start = reader.line_num + 1
        return rows
    return _yaml_records(file, text)


def _yaml_records(file: str, text: str) -> list[tuple[int, Any]]:
    """A YAML (or JSON) list of records, each with its line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise ImportInputError(file, mark.line + 1 if mark else 1, "(yaml)",
                               f"syntax error: {getattr(err, 'problem', None) or err}") from err
    if not isinstance(data, list) or not isinstance(root, yaml.SequenceNode):
        raise ImportInputError(file, 1, "(top level)", f"expected a list of messages with fields {list(FIELDS)}")
    return [(node.start_mark.line + 1, rec) for node, rec in zip(root.value, data, strict=True)]
