"""Sotopia's own scores of imported episodes (``source.scores``) in ``privy report`` and ``privy view``.

They are the source's judgement, kept as recorded: the report shows them in a table of their
own ("Sotopia's own scores, as recorded"), never among privy's means or gaps, and the viewer
shows them beside the run, as text. The episodes come from the Sotopia fixture files through
``privy import sotopia-episodes --db`` (the real import path); one reasoning is replaced by
hostile text to check that the page inserts it only as text.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import DATA
from typer.testing import CliRunner

from privy.bench.ingest import ingest
from privy.bench.report import build_report, source_sections, to_html, to_markdown
from privy.bench.store import ResultStore, StoreError
from privy.bench.view import from_store
from privy.bench.view_html import render
from privy.cli import app
from privy.scenarios.importers import import_files

SOTOPIA = DATA / "sotopia"
DUMP, LOGS = SOTOPIA / "redis_json_data.json", SOTOPIA / "episode_logs.json"
EVIL = '<img src=x onerror="window.__pwned = 1">Both agents were polite.'
TITLE = "Sotopia's own scores, as recorded"
WIDE = {"COLUMNS": "2000"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sotopia's two episode logs imported into a store; the first one's reasoning made hostile."""
    db = tmp_path_factory.mktemp("sotopia") / "results.db"
    borrow, guitar = (i.episode for i in import_files("sotopia-episodes", [DUMP, LOGS]).imported)
    assert borrow.source is not None and borrow.source.scores is not None
    scores = borrow.source.scores.model_copy(update={"reasoning": EVIL})
    borrow = borrow.model_copy(update={"source": borrow.source.model_copy(update={"scores": scores})})
    asyncio.run(ingest(db, [borrow, guitar]))
    return db


def test_the_report_has_the_sources_scores_in_a_table_of_their_own(store: Path) -> None:
    r = build_report(store, n_resamples=200)
    rows = [(s.by, s.agent, s.overall, s.dimensions) for s in r.source_scores]
    assert ("Sotopia", "Priya Natarajan", 3.2, {"goal": 5.0, "believability": 9.0}) in rows
    assert ("Sotopia", "Mia Sanchez", 3.5, {"goal": 7.0, "believability": 9.0}) in rows
    # never among privy's metrics: no mean or gap is named after them
    assert not any(m.metric.startswith(("goal", "believability", "overall", "sotopia")) for m in r.means)
    [(title, note, head, table)] = source_sections(r)
    assert title == TITLE and "not privy's evaluation" in note
    assert head == ["episode", "scenario", "agent", "overall", "goal", "believability"]
    assert any(row[2:] == ["Priya Natarajan", "3.2", "5", "9"] for row in table)
    md = to_markdown(r)
    assert f"## {TITLE}" in md and md.index("## Means per mode") < md.index(f"## {TITLE}")
    assert "| Priya Natarajan | 3.2 | 5 | 9 |" in md
    page = to_html(r)
    assert f"<h2>{TITLE.replace(chr(39), '&#x27;')}</h2>" in page and "Priya" in page


def test_a_store_without_source_scores_has_no_such_section(tmp_path: Path) -> None:
    db = tmp_path / "plain.db"
    _, guitar = (i.episode for i in import_files("sotopia-episodes", [DUMP, LOGS]).imported)
    assert guitar.source is not None
    bare = guitar.model_copy(update={"source": guitar.source.model_copy(update={"scores": None})})
    asyncio.run(ingest(db, [bare]))
    r = build_report(db, n_resamples=200)
    assert r.source_scores == [] and source_sections(r) == []
    assert "own scores, as recorded" not in to_markdown(r) + to_html(r)


def test_privy_report_prints_the_table_labelled_as_the_sources(store: Path, tmp_path: Path) -> None:
    md = tmp_path / "r.md"
    result = CliRunner().invoke(app, ["report", str(store), "--resamples", "200", "--md", str(md)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert TITLE in result.output and "not privy's evaluation" in result.output
    assert TITLE in md.read_text(encoding="utf-8")


def test_bad_source_scores_in_a_store_are_a_clear_error(store: Path, tmp_path: Path) -> None:
    db = tmp_path / "bad.db"
    db.write_bytes(store.read_bytes())
    with ResultStore(db) as s:
        key = s.query("SELECT key FROM episodes ORDER BY key LIMIT 1")[0][0]
        s.query("UPDATE episodes SET episode_json = json_set(episode_json, '$.source.scores', json(?)) WHERE key = ?",
                (json.dumps({"by": "Sotopia", "scores": "lots"}), key))
    with pytest.raises(StoreError, match=rf"episode {key}: source.scores"):
        build_report(db, n_resamples=200)


def test_the_viewer_data_carries_them_apart_from_privys_scores(store: Path) -> None:
    data = from_store(store)
    scored = [r for r in data.runs if r.source_scores is not None]
    assert len(scored) == 2
    assert all(r.source_scores.by == "Sotopia" for r in scored if r.source_scores)
    assert not any(k in r.scores for r in data.runs for k in ("goal", "believability", "overall"))
    assert not any(m.metric in ("goal", "believability", "overall") for m in data.metrics)


def test_the_viewer_shows_them_as_text(browser: Any, store: Path, tmp_path: Path) -> None:
    html_file = tmp_path / "v.html"
    html_file.write_text(render(from_store(store)), encoding="utf-8")
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(html_file.as_uri())
    page.wait_for_selector("body[data-ready='1']")
    for button in page.locator("button.inst").all():  # each imported scenario in turn
        button.click()
        page.wait_for_selector("body[data-ready='1']")
        box = page.locator(".source-scores")
        if box.count() and "Mia Sanchez" in box.first.inner_text():
            break
    box = page.locator(".source-scores").first
    text = box.inner_text()
    assert "Sotopia's own scores, as recorded (not privy's evaluation)" in text
    assert "overall 3.2, goal 5, believability 9" in text and "overall 3.5, goal 7, believability 9" in text
    box.locator("summary").click()
    assert EVIL in box.locator("details").inner_text()  # the hostile reasoning, as text
    assert box.locator("img").count() == 0 and page.evaluate("window.__pwned") is None
    # seen as one agent, the box is not shown (the reasoning may tell the others' goals)
    page.select_option("#view-as", index=1)
    page.wait_for_selector("body[data-ready='1']")
    assert page.locator(".source-scores").count() == 0
    assert errors == []
    page.close()
