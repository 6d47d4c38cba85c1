"""`privy report`: means with CIs, paired gaps, totals, Simulation Card; Markdown and self-contained HTML."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
import yaml
from helpers import NO_SCRIPT_ERROR, ROOT, SCENARIO_DIR, no_script_backend
from typer.testing import CliRunner, Result

from privy.bench.report import SECTIONS, build_report, to_html, to_markdown
from privy.bench.store import ResultStore
from privy.cli import app
from privy.evaluators import Score
from privy.scenarios.baselines import ScriptedBackend
from privy.simulator import Mode, load_scenario, run_episode
from privy.simulator.backends import registry
from privy.simulator.backends.errors import Attempt

EVIL = "<script>alert(1)</script>"
CALLS = 3  # model calls of the scripted mutual_friends run


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "2000"})


EveryMode = no_script_backend()  # declares every mode, fails every script-mode call


@pytest.fixture(scope="module")
def scripted_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scripted run: generated instances plus a scenario whose family is markup; script mode fails."""
    d = tmp_path_factory.mktemp("report")
    data = load_scenario(SCENARIO_DIR / "mutual_friends.yaml").model_dump(mode="json", exclude_none=True)
    data["family"], data["title"] = EVIL, EVIL
    (d / "evil.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    (d / "s.suite.yaml").write_text(yaml.safe_dump({
        "name": "report-test", "scenarios": [{"path": "evil.yaml"}, {"family": "mutual_friends", "count": 3}],
        "modes": ["agents", "mindreaders", "omniscient", "script"],
        "backends": [{"name": "every-mode", "label": "<b>scripted</b>"}], "seeds": [0, 1]}), encoding="utf-8")
    registry.register("every-mode", EveryMode)
    try:
        result = invoke("bench", d / "s.suite.yaml", "--out", d / "r.db", "-j", "4")
    finally:
        del registry._FACTORIES["every-mode"]
    assert result.exit_code == 1, result.output  # this backend cannot write script mode
    assert "24 episodes run, 8 failed" in result.output
    return d / "r.db"


def test_report_has_every_section_in_terminal_markdown_and_html(scripted_db: Path, tmp_path: Path) -> None:
    md, page = tmp_path / "out" / "r.md", tmp_path / "r.html"
    result = invoke("report", scripted_db, "--md", md, "--html", page)
    assert result.exit_code == 0, result.output
    text, markdown = result.output, md.read_text(encoding="utf-8")
    html = page.read_text(encoding="utf-8")
    for section in SECTIONS:
        assert section in text and f"## {section}" in markdown and f"<h2>{section}</h2>" in html
    for part in ("Information asymmetry", "Agent type", "Modes", "Models", "Metrics", "Caveats"):
        assert f"**{part}**" in markdown and f"<dt>{part}</dt>" in html
    # means per mode with CIs, for the modes that finished
    assert re.search(r"\| task_success \| &lt;b&gt;scripted&lt;/b&gt; \| agents \| 8 \| 1 \| \[1, 1\] \|", markdown)
    assert "| clairvoyance.first_mention:* |" in markdown  # per-fact metrics pooled per episode
    assert "| task_success | &lt;b&gt;scripted&lt;/b&gt; | script |" not in markdown  # every script episode failed
    # paired gaps: the three pairs whose modes both finished; script - omniscient has no pair
    for gap in ("agents − omniscient", "agents − mindreaders", "mindreaders − omniscient"):
        assert f"| task_success | &lt;b&gt;scripted&lt;/b&gt; | {gap} | 8 | 1 | 1 | 0 | [0, 0] |" in markdown
    assert "script − omniscient" not in markdown
    # totals and failures
    assert "| all | 32 | 24 | 8 |" in markdown
    assert markdown.count(NO_SCRIPT_ERROR) == 8
    assert "8 episode(s) failed" in markdown
    # the simulation card
    assert "mutual_friends: 3 instance(s); 2 agents" in markdown
    assert "rule-based reference protocol (not an LLM)" in markdown
    assert "Only 2 seed(s)" in markdown
    # plots embedded; nothing fetched from elsewhere
    assert html.count('src="data:image/png;base64,') == 2
    assert re.findall(r'(?:src|href)="(?!data:)', html) == []
    assert "http" not in html and "@import" not in html and "url(" not in html


def test_html_report_without_matplotlib_keeps_every_table(scripted_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name, *a))
    page = to_html(build_report(scripted_db, n_resamples=200))
    assert "data:image/png" not in page
    assert "pip install &#x27;privy-sim[plots]&#x27;" in page
    assert all(f"<h2>{section}</h2>" in page for section in SECTIONS)
    assert "<td>agents − omniscient</td>" in page


def test_text_from_the_data_is_escaped(scripted_db: Path) -> None:
    r = build_report(scripted_db, n_resamples=200)
    assert any(a.family == EVIL for a in r.card.asymmetry)
    html, markdown = to_html(r), to_markdown(r)
    for doc in (html, markdown):
        assert EVIL not in doc and "<b>scripted" not in doc
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in doc and "&lt;b&gt;scripted&lt;/b&gt;" in doc


def test_totals_and_cost_use_the_price_per_1k_tokens(known_db: Path) -> None:
    free, paid = build_report(known_db, n_resamples=200), build_report(known_db, n_resamples=200, price_per_1k=2.0)
    total = paid.usage[-1]
    calls = 41 * CALLS  # every stored episode is a copy of the same run
    assert (total.backend, total.episodes, total.done, total.failed, total.calls) == ("all", 41, 41, 0, calls)
    assert (total.prompt_tokens, total.completion_tokens, total.retries, total.cached_calls) == (
        10 * calls, 5 * calls, 2 * 41, 41)
    assert free.usage[-1].cost == 0.0 and total.cost == pytest.approx(15 * calls / 1000 * 2.0)
    assert total.mean_latency_s == pytest.approx(0.5) and total.model_s == pytest.approx(41 * 1.5)


@pytest.fixture(scope="module")
def known_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Stored scores chosen by hand: agents succeed on odd instances only, omniscient always."""
    db = tmp_path_factory.mktemp("known") / "k.db"
    scenario = load_scenario(SCENARIO_DIR / "mutual_friends.yaml")
    base = asyncio.run(run_episode(scenario, Mode.AGENTS, ScriptedBackend(), 0))
    assert len(base.calls) == CALLS
    retried = Attempt(attempt=1, error="timeout", wait_s=0.0)
    calls = [c.model_copy(update={"prompt_tokens": 10, "completion_tokens": 5, "latency_s": 0.5,
                                  "cached": c.index == 0, "attempts": [retried] * (2 if c.index == 1 else 0)})
             for c in base.calls]
    base = base.model_copy(update={"calls": calls, "timings": base.timings.model_copy(update={"model_s": 1.5})})
    facts = [f.id for f in scenario.facts][:2]
    store = ResultStore(db)
    for i in range(10):
        for seed in (0, 1):
            for mode in (Mode.AGENTS, Mode.OMNISCIENT):
                ep = base.model_copy(update={"mode": mode, "seed": seed})
                ok = float(i % 2) if mode is Mode.AGENTS else 1.0
                first = {f"first_mention:{facts[0]}": 0.2, f"first_mention:{facts[1]}": 0.6 if i else None}
                scores = {"task_success": Score(evaluator="task_success", value=ok, metrics={"agreed": ok}),
                          "clairvoyance": Score(evaluator="clairvoyance", value=0.0, metrics=first)}
                store.put(f"s{i}:0000|{mode.value}|fake|{seed}", "known", "x", "fake", ep, scores)
    extra = base.model_copy(update={"mode": Mode.OMNISCIENT})  # an omniscient episode with no agents twin
    store.put("lonely:0000|omniscient|fake|0", "known", "x", "fake", extra,
              {"task_success": Score(evaluator="task_success", value=0.0)})
    store.close()
    return db


def test_means_and_gaps_on_known_values(known_db: Path) -> None:
    r = build_report(known_db)
    mean = {(m.metric, m.mode): m for m in r.means}
    agents, omni = mean[("task_success", "agents")], mean[("task_success", "omniscient")]
    assert (agents.n, agents.mean) == (20, 0.5) and agents.low is not None and agents.high is not None
    assert 0.25 <= agents.low < 0.5 < agents.high <= 0.75
    assert (omni.n, omni.mean) == (21, 20 / 21)
    gap = next(g for g in r.gaps if g.metric == "task_success" and (g.a, g.b) == ("agents", "omniscient"))
    assert (gap.n, gap.mean, gap.mean_a, gap.mean_b) == (20, -0.5, 0.5, 1.0)  # the lonely episode is unpaired
    assert gap.low is not None and gap.high is not None and gap.low < -0.5 < gap.high < 0
    pooled = mean[("clairvoyance.first_mention:*", "agents")]  # mean over facts, None ignored
    assert pooled.n == 20 and pooled.mean == pytest.approx((2 * 0.2 + 18 * 0.4) / 20)  # instance 0: one fact
    assert not any(m.metric.startswith("clairvoyance.first_mention:") and "*" not in m.metric for m in r.means)
    assert "Some gaps use fewer pairs" in " ".join(r.card.caveats)
    assert r.planned is None and r.missing is None  # not written by `privy bench`


def test_missing_or_invalid_store_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    result = invoke("report", missing)
    assert result.exit_code == 2 and "no such result store" in result.output
    assert not missing.exists()  # not created by looking at it
    junk = tmp_path / "junk.db"
    junk.write_text("not sqlite at all" * 100, encoding="utf-8")
    result = invoke("report", junk)
    assert result.exit_code == 2 and "not a privy result store" in result.output


@pytest.mark.llm
def test_quick_suite_end_to_end_on_the_embedded_model(tmp_path: Path) -> None:
    """The README's first command, then its report: a few minutes on 2 cores."""
    db = tmp_path / "quick.db"
    result = invoke("bench", ROOT / "scenarios/suites/quick.suite.yaml", "--out", db, "-j", "2")
    assert result.exit_code in (0, 1), result.output  # 1: some episode failed, which the report lists
    assert "16 episodes run" in result.output.replace(" 0 failed", "")
    md, page = tmp_path / "quick.md", tmp_path / "quick.html"
    result = invoke("report", db, "--md", md, "--html", page)
    assert result.exit_code == 0, result.output
    markdown, html = md.read_text(encoding="utf-8"), page.read_text(encoding="utf-8")
    for section in SECTIONS:
        assert section in result.output and f"## {section}" in markdown and f"<h2>{section}</h2>" in html
    r = build_report(db, n_resamples=200)
    assert {m.mode for m in r.means if m.metric == "task_success"} == {"agents", "mindreaders", "omniscient",
                                                                          "script"}
    assert {(g.a, g.b) for g in r.gaps if g.metric == "task_success"} == {
        ("agents", "omniscient"), ("agents", "mindreaders"), ("mindreaders", "omniscient"), ("script", "omniscient")}
    total = r.usage[-1]
    assert total.episodes == 16 and total.calls > 0 and total.prompt_tokens > 0 and total.completion_tokens > 0
    assert r.card.models[0].label == "smollm2" and "LLM" in r.card.models[0].agent_type
    assert any("SmolLM2" in s for s in r.card.models[0].settings)
    assert "small" in " ".join(r.card.caveats)
    assert html.count('src="data:image/png;base64,') == 2
