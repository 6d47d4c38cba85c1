"""Belief probes through bench, report and viewer, on the scripted reference (a rule-based belief)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import SCENARIO_DIR
from typer.testing import CliRunner

from privy.bench.report import build_report, to_html, to_markdown
from privy.bench.view import from_store
from privy.cli import app


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("probes")
    suite = {"name": "probes", "scenarios": [{"path": str(SCENARIO_DIR / "mutual_friends.yaml")},
                                             {"family": "mutual_friends", "count": 3, "seed": 2}],
             "modes": ["agents", "omniscient"], "backends": [{"name": "scripted"}], "seeds": [0, 1]}
    (root / "s.suite.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    result = CliRunner().invoke(app, ["bench", str(root / "s.suite.yaml"), "--out", str(root / "r.db"),
                                      "--probe-every", "1", "--probe-facts", "1", "--probe-final"])
    assert result.exit_code == 0, result.output
    return root / "r.db"


def test_report_has_trajectories_ranking_and_the_probe_method(db: Path) -> None:
    r = build_report(db, n_resamples=200)
    first = {p.mode: p.mean for p in r.beliefs.trajectories if p.turn == 0}
    # the reference belief: the omniscient view knows the answer at once, an agent only once told
    assert first["omniscient"] is not None and first["agents"] is not None
    assert first["omniscient"] > 0.9 > 0.5 > first["agents"]
    assert r.beliefs.methods and set(r.beliefs.methods) == {"reference_rule"}
    top = r.beliefs.informative
    assert top and top[0].delta > 0 and top[0].mode == "agents"
    assert all(a.delta >= b.delta for a, b in zip(top, top[1:], strict=False))
    # per-turn metrics feed the trajectory, not the means table
    assert not any("@" in m.metric for m in r.means)
    assert any(m.metric == "belief" for m in r.means)
    md = to_markdown(r)
    assert "## Belief probes" in md and "reference_rule" in md and "ΔBelief" in md
    page = to_html(r)
    assert "Belief in the truth per turn" in page or "No plots" in page


def test_viewer_carries_each_messages_belief_and_delta(db: Path) -> None:
    data = from_store(db)
    agents = [r for r in data.runs if r.mode == "agents"]
    msgs = [m for r in agents for m in data.transcript(r.key).messages]
    assert msgs and all(len(m.beliefs) == 1 and m.beliefs[0].agent == m.sender for m in msgs)
    assert any(d.delta is not None and d.delta > 0 for m in msgs for d in m.deltas)




def test_viewer_page_shows_a_belief_bar_beside_each_message(browser: Any, db: Path, tmp_path: Path) -> None:
    html_file = tmp_path / "view.html"
    assert CliRunner().invoke(app, ["view", str(db), "--out", str(html_file)]).exit_code == 0
    context = browser.new_context(offline=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(html_file.as_uri())
    page.wait_for_selector("body[data-ready='1']")
    bars = page.locator(".msg .belief[data-belief]")
    assert bars.count() > 0 and "belief in the truth before writing" in bars.first.inner_text()
    assert page.locator(".msg .belief[data-delta]").count() > 0
    assert errors == []
    context.close()


def test_export_lists_every_probe_also_from_a_store_written_before_the_view(db: Path, tmp_path: Path) -> None:
    import json
    import sqlite3

    from privy.bench.export import export
    from privy.bench.store import open_reader

    with open_reader(db) as store:
        expected = sum(len(json.loads(r.episode_json or "{}").get("probes", [])) for r in store.episodes())
    old = tmp_path / "old.db"
    shutil.copy(db, old)
    with sqlite3.connect(old) as con:
        con.execute("DROP VIEW probes")
    for source in (db, old):
        out = tmp_path / f"{source.stem}.jsonl"
        export(source, "jsonl", ["probes"], out)
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert len(rows) == expected > 0
        assert {r["kind"] for r in rows} == {"belief", "knowledge"}
        assert all(isinstance(r["logprobs"], list) and len(r["logprobs"]) == len(r["hypotheses"]) for r in rows)
