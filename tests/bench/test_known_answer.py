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
from privy.scenarios import families

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
