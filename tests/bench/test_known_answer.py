"""A known-answer test of the whole pipeline, with no model: the scripted references in every mode.

The ``scripted`` backend's references play ``agents`` mode by exchanging what each agent
needs, and ``mindreaders``, ``omniscient`` and ``script`` modes with the full state: no
grounding, a commitment at once, a reference to a fact only the partner holds (the
omniscient shortcut of Zhou et al. 2024). Generated instances of every family run through
``privy.bench`` (suite, ``run_bench``, ``build_report``), and the report's paired gaps
must show the known direction, with 95% intervals that exclude 0: omniscient succeeds at
least as often as agents, makes fewer grounding acts and more clairvoyant references.
If the evaluators stopped detecting the shortcut, or the runner stopped giving each mode
its view, this fails.
"""

from __future__ import annotations

import pytest
import yaml

from privy.bench import Grid, ResultStore, build_report, load_suite, run_bench, to_markdown
from privy.bench.report import Gap, Report
from privy.bench.store import open_reader
from privy.scenarios import families
from privy.simulator.episode import Episode

MODES = ["agents", "mindreaders", "omniscient", "script"]
COUNT = 8
# Every family's agents-mode reference makes a grounding act (MutualFriends and hidden profile ask for the
# others' lists or facts, Deal or No Deal asks for the partner's values, the tutor confirms a right answer
# ("That is right.") or the student thanks it for a correction, twenty questions is questions and answers),
# so no family is exempt below.


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Report]:
    """One suite per family (8 generated instances, seed 0, four modes), and one of all of them."""
    d = tmp_path_factory.mktemp("known_answer")
    out: dict[str, Report] = {}
    for name in [*families.names(), "all"]:
        scenarios = [{"family": f, "count": COUNT} for f in (families.names() if name == "all" else [name])]
        path = d / f"{name}.suite.yaml"
        path.write_text(yaml.safe_dump({
            "name": f"known-answer-{name}", "scenarios": scenarios, "modes": MODES,
            "backends": [{"name": "scripted"}], "seeds": [0],
            "evaluators": ["task_success", "clairvoyance", "grounding_acts"]}), encoding="utf-8")
        suite, base = load_suite(path)
        with ResultStore(d / f"{name}.db") as store:
            run_bench(suite, Grid(suite, base), store, jobs=1)
        out[name] = build_report(d / f"{name}.db", n_resamples=400)
    return out


def gap(report: Report, metric: str, a: str, b: str) -> Gap:
    found = [g for g in report.gaps if g.metric == metric and (g.a, g.b) == (a, b)]
    assert len(found) == 1, f"no single {metric} gap {a} − {b} in the report: {found}"
    return found[0]


@pytest.mark.parametrize("family", [*families.names(), "all"])
def test_every_mode_runs_and_succeeds(reports: dict[str, Report], family: str) -> None:
    r = reports[family]
    assert not r.failures, r.failures
    success = {m.mode: m for m in r.means if m.metric == "task_success"}
    assert sorted(success) == sorted(MODES)
    n = COUNT * (len(families.names()) if family == "all" else 1)
    assert all(m.n == n and m.mean == 1.0 for m in success.values()), success
    assert "rule-based reference protocol (not an LLM)" in to_markdown(r)  # labelled as a reference, not a model


@pytest.mark.parametrize("family", [*families.names(), "all"])
def test_omniscient_succeeds_at_least_as_often_as_agents(reports: dict[str, Report], family: str) -> None:
    g = gap(reports[family], "task_success", "agents", "omniscient")  # agents − omniscient
    assert g.mean is not None and g.high is not None
    assert g.mean <= 0 and g.high <= 0, g


@pytest.mark.parametrize("family", [*families.names(), "all"])
def test_omniscient_makes_fewer_grounding_acts(reports: dict[str, Report], family: str) -> None:
    for a, b in (("agents", "omniscient"), ("agents", "mindreaders")):
        g = gap(reports[family], "grounding_acts", a, b)  # a − b > 0
        assert g.mean is not None and g.low is not None
        assert g.mean > 0 and g.low > 0, g
        assert g.mean_b == 0, g  # the full-state reference skips grounding altogether


@pytest.mark.parametrize("family", [*families.names(), "all"])
def test_omniscient_refers_to_what_it_could_not_know(reports: dict[str, Report], family: str) -> None:
    for a, b in (("agents", "omniscient"), ("agents", "mindreaders")):
        g = gap(reports[family], "clairvoyance", a, b)  # a − b < 0
        assert g.mean is not None and g.high is not None
        assert g.mean < 0 and g.high < 0, g
    assert gap(reports[family], "clairvoyance", "agents", "omniscient").mean_a == 0  # agents only know what they hear


@pytest.mark.parametrize("family", [*families.names(), "all"])
def test_script_mode_plays_the_same_shortcut(reports: dict[str, Report], family: str) -> None:
    for metric in ("task_success", "clairvoyance", "grounding_acts"):
        g = gap(reports[family], metric, "script", "omniscient")
        assert g.mean == 0 and g.low == 0 and g.high == 0, g


@pytest.fixture(scope="module")
def held_back(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, list[Episode]]:
    """Every family's instances with ``limits.commit_after: 1`` (their own turn limits kept), four modes."""
    d = tmp_path_factory.mktemp("known_answer_held")
    files = []
    for name in families.names():
        made = [s.model_copy(update={"limits": s.limits.model_copy(update={"commit_after": 1})})
                for s in families.generate(name, COUNT, 0)]
        files += families.write(made, d / name)
    path = d / "held.suite.yaml"
    path.write_text(yaml.safe_dump({
        "name": "known-answer-held", "scenarios": [{"path": str(p)} for p in files], "modes": MODES,
        "backends": [{"name": "scripted"}], "seeds": [0],
        "evaluators": ["task_success", "clairvoyance", "grounding_acts"]}), encoding="utf-8")
    suite, base = load_suite(path)
    with ResultStore(d / "held.db") as store:
        run_bench(suite, Grid(suite, base), store, jobs=1)
    with open_reader(d / "held.db") as reader:
        eps = [Episode.model_validate_json(r.episode_json) for r in reader.episodes() if r.episode_json]
    return build_report(d / "held.db", n_resamples=400), eps


def test_with_commitments_held_back_the_references_obey_and_the_shortcut_still_shows(
        held_back: tuple[Report, list[Episode]]) -> None:
    """``commit_after: 1`` takes the commitment-at-once out of the omniscient shortcut, not the rest of it."""
    r, eps = held_back
    assert not r.failures and len(eps) == COUNT * len(families.names()) * len(MODES)
    for ep in eps:
        assert ep.scenario.limits.commit_after == 1
        notes = [n for c in ep.calls for n in c.notes if n.startswith("move:")]
        assert not notes, (ep.scenario.id, ep.mode, notes)  # no commitment before the committer's second message
        committers = ep.scenario.task.committers or ep.scenario.agent_ids
        for agent in committers:
            mine = [m for m in ep.messages if m.sender == agent]
            assert not (mine and mine[0].actions), (ep.scenario.id, ep.mode, mine[0].content)
    success = {m.mode: m for m in r.means if m.metric == "task_success"}
    bad = [(e.scenario.family, e.outcome.ended_by) for e in eps if not e.outcome.success]
    assert all(m.mean == 1.0 for m in success.values()), (success, bad)
    for a, b in (("agents", "omniscient"), ("agents", "mindreaders")):
        g = gap(r, "grounding_acts", a, b)
        assert g.mean is not None and g.low is not None and g.mean > 0 and g.low > 0, g
        g = gap(r, "clairvoyance", a, b)
        assert g.mean is not None and g.high is not None and g.mean < 0 and g.high < 0, g
