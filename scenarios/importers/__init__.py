"""Importers: dialogues no model wrote, as privy scenarios and ``human`` episodes.

``privy import FORMAT INPUT... --out DIR`` calls :func:`import_files`, then :func:`write`.
One module per format:

- :mod:`~privy.scenarios.importers.transcript`: any chat log (JSON Lines, CSV, YAML)
  with a privy scenario file;
- :mod:`~privy.scenarios.importers.dealornodeal`: Lewis et al. (2017), in CoCoA's JSON or
  the original FAIR text format;
- :mod:`~privy.scenarios.importers.sotopia_episodes`: Sotopia's EpisodeLog records (with
  the profiles of its Redis dump) and its episode export.

Every episode is replayed by :func:`privy.simulator.transcript.replay`: mode ``human``, no
model calls, its provenance in ``source``, its outcome recomputed by privy's task rules.
:func:`plan` and :func:`write` put the scenarios in ``DIR/scenarios/`` and the episodes in
``DIR/episodes/``, and refuses to overwrite a file unless asked to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from privy.scenarios.importers import dealornodeal, sotopia_episodes, transcript
from privy.scenarios.importers.base import Imported, ImportInputError, ImportResult, Skipped, slug
from privy.simulator.episode import Episode
from privy.simulator.loader import ScenarioError, load_scenario
from privy.simulator.scenario import Scenario

FORMATS = ("transcript", "dealornodeal", "sotopia-episodes")


def import_files(fmt: str, paths: Sequence[Path], scenario_file: Path | None = None) -> ImportResult:
    """Every dialogue in ``paths``; ``scenario_file``: the scenario of ``transcript`` inputs (required there).

    Raises:
        ImportInputError: bad input (one line: ``FILE:LINE: FIELD: what was expected``).
    """
    if fmt not in FORMATS:
        raise ImportInputError("FORMAT", None, "format", f"unknown format {fmt!r}; expected one of {list(FORMATS)}")
    if not paths:
        raise ImportInputError("INPUT", None, "(arguments)", "expected at least one input file")
    scenario: Scenario | None = None
    if fmt == "transcript":
        if scenario_file is None:
            raise ImportInputError("--scenario", None, "(option)",
                                   "the transcript format needs a scenario file (agents, facts, task)")
        try:
            scenario = load_scenario(scenario_file)
        except ScenarioError as err:
            p = err.problems[0]
            raise ImportInputError(p.file, p.line, p.field, p.message) from err
    elif scenario_file is not None:
        raise ImportInputError("--scenario", None, "(option)", f"only the transcript format takes a scenario file; "
                                                              f"{fmt} inputs hold their own scenarios")
    result = ImportResult()
    for path in paths:
        if not Path(path).is_file():
            raise ImportInputError(str(path), None, "(file)", "no such file")
    if fmt == "sotopia-episodes":  # the profiles an episode names may be in another of the files
        result.extend(sotopia_episodes.read([Path(p) for p in paths]))
        return _numbered(result)
    for path in paths:
        if scenario is not None:
            result.extend(transcript.read(Path(path), scenario, str(scenario_file)))
        else:
            result.extend(dealornodeal.read(Path(path)))
    return _numbered(result)


def _numbered(result: ImportResult) -> ImportResult:
    """Each episode's ``seed``: its number among the imported dialogues of the same scenario (0, 1, ...).

    A human dialogue has no seed; the number gives each dialogue its own cell in a result
    store (whose key is scenario, mode, backend and seed), and pairs it with the models'
    runs of the same seed on the same scenario.
    """
    counts: dict[str, int] = {}
    for k, item in enumerate(result.imported):
        key = item.scenario.model_dump_json()
        seed = counts[key] = counts.get(key, -1) + 1
        if seed:
            result.imported[k] = Imported(item.scenario, item.episode.model_copy(update={"seed": seed}))
    return result


@dataclass(frozen=True)
class Plan:
    """What :func:`write` writes: each scenario file with its text, and each episode with its path."""

    scenarios: list[tuple[Path, str]]
    episodes: list[tuple[Path, Episode]]

    @property
    def files(self) -> list[tuple[Path, str]]:
        return self.scenarios + [(p, ep.to_json(indent=2)) for p, ep in self.episodes]

    def existing(self) -> list[Path]:
        """The files that exist already with other content (an identical scenario file is no conflict)."""
        return [p for p, text in self.scenarios if p.exists() and p.read_text(encoding="utf-8") != text] + [
            p for p, _ in self.episodes if p.exists()]

    def with_episodes(self, episodes: Sequence[Episode]) -> Plan:
        """The same files, with these episodes (e.g. as a store placed them) written instead."""
        return Plan(self.scenarios, [(p, ep) for (p, _), ep in zip(self.episodes, episodes, strict=True)])


def plan(result: ImportResult, out_dir: Path) -> Plan:
    """The files of ``result`` in ``out_dir``: ``scenarios/<id>.yaml`` (one per distinct scenario), then
    ``episodes/<scenario id>.human.json`` (``<scenario id>_<transcript file name>.human.json`` for transcripts).

    Two different scenarios with the same id get ``_2``, ``_3``... in their ids; episode file
    names are made unique the same way.
    """
    by_content: dict[str, Scenario] = {}
    ids: set[str] = set()
    files: list[tuple[Path, str]] = []
    episodes: list[tuple[Path, Episode]] = []
    names: set[str] = set()
    for item in result.imported:
        s = item.scenario
        key = s.model_dump_json()
        if key not in by_content:
            sid, k = s.id, 1
            while sid in ids:
                k += 1
                sid = f"{s.id}_{k}"
            ids.add(sid)
            by_content[key] = s if sid == s.id else s.model_copy(update={"id": sid})
            files.append((out_dir / "scenarios" / f"{sid}.yaml",
                          yaml.safe_dump(by_content[key].model_dump(mode="json"), sort_keys=False,
                                         allow_unicode=True, width=100)))
        scenario = by_content[key]
        ep = item.episode
        assert ep.source is not None
        stem = slug(Path(ep.source.file).stem, scenario.id) if ep.source.format == "transcript" else scenario.id
        name, k = f"{stem}.human", 1
        while name in names:
            k += 1
            name = f"{stem}.human_{k}"
        names.add(name)
        path = out_dir / "scenarios" / f"{scenario.id}.yaml"
        episodes.append((out_dir / "episodes" / f"{name}.json",
                         ep.model_copy(update={"scenario": scenario, "scenario_path": str(path)})))
    return Plan(files, episodes)


def write(planned: Plan, *, force: bool = False) -> list[Path]:
    """Write the planned files; nothing at all if one exists already, unless ``force``.

    Raises:
        FileExistsError: a file exists and ``force`` is False (nothing was written).
    """
    existing = planned.existing()
    if existing and not force:
        raise FileExistsError(f"{existing[0]}: exists already ({len(existing)} of the output files do); "
                              "expected a new --out folder, or --force to overwrite")
    for path, text in planned.files:  # an identical scenario file is written again: harmless
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return [p for p, _ in planned.files]


__all__ = ["FORMATS", "ImportInputError", "ImportResult", "Imported", "Plan", "Skipped", "import_files", "plan",
           "write"]
