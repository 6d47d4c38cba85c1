"""`privy view`: the transcript viewer, tested in a real headless Chromium.

The episodes are made here with a mock backend on a three-agent chain (Ann - Ben - Cat:
Ann's messages reach Ben only), so the test knows exactly which messages each agent was
delivered, which one is a clairvoyant reference (Cat names Ann's code before anyone told
her), and which model output carries a ``<script>``.

The browser is Debian's ``chromium`` driven by Playwright (``executable_path``): .ci/run
installs both. Without a Chromium the browser tests skip, except under CI, where they fail.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from privy import evaluators
from privy.bench.store import ResultStore, open_reader
from privy.bench.view import FAILURES, from_episodes, from_store
from privy.bench.view_html import _SCRIPT, render
from privy.cli import app
from privy.simulator.backends.base import ChatRequest
from privy.simulator.backends.mock import MockBackend
from privy.simulator.episode import Episode
from privy.simulator.loader import load_scenario
from privy.simulator.runner import run_episode

EVIL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> Tuesday works.'
SCENARIO = {
    "format": "privy.scenario/1", "id": "vault_chain", "title": "Three on a chain", "family": "custom",
    "context": "Ann, Ben and Cat need the vault code. Ann can talk to Ben, Ben to Cat.",
    "agents": [{"id": "ann", "name": "Ann", "persona": "Careful.", "goal": "Get the code to Cat."},
               {"id": "ben", "name": "Ben", "persona": "Chatty.", "goal": "Pass things on."},
               {"id": "cat", "name": "Cat", "persona": "Impatient.", "goal": "Learn the code, then answer."}],
    "facts": [{"id": "f_code", "text": "The vault code is 4711.", "holders": ["ann"], "mentions": ["4711"]},
              {"id": "f_day", "text": "The meeting is on Tuesday.", "holders": ["ben"], "mentions": ["Tuesday"]},
              {"id": "f_key", "text": "The key is under the mat.", "holders": ["cat"], "mentions": ["under the mat"]}],
    "topology": {"kind": "edges", "edges": [["ann", "ben"], ["ben", "cat"]]},
    "task": {"kind": "answer", "answer": "4711", "needed_facts": ["f_code"], "committers": ["cat"],
             "commitment": {"verb": "ANSWER"}},
    "limits": {"max_turns": 6, "max_tokens": 64},
}
LINES = {"ann": "Ben \U0001F600, the code is 4711.",  # a character beyond U+FFFF before the mention
         "ben": f"Noted. {EVIL}", "cat": "I bet the code is 4711.\nANSWER: 4711"}


def respond(request: ChatRequest) -> str:
    omniscient = request.messages[0].content.startswith("You write a conversation")
    return ("[omni] " if omniscient else "") + LINES[request.speaker or "ann"]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two episodes of one instance (agents, omniscient), as files and in a store."""
    root = tmp_path_factory.mktemp("view")
    scenario_file = root / "vault.yaml"
    scenario_file.write_text(yaml.safe_dump(SCENARIO, sort_keys=False), encoding="utf-8")
    scenario = load_scenario(scenario_file)
    episodes: dict[str, Episode] = {}
    all_scores = {}
    files = []
    store = ResultStore(root / "results.db")
    for mode in ("agents", "omniscient"):
        ep = asyncio.run(run_episode(scenario, mode, MockBackend(respond=respond), 0, scenario_path="vault.yaml"))
        episodes[mode] = ep
        files.append(ep.save(root / f"{mode}.json"))
        scores = all_scores[mode] = asyncio.run(evaluators.evaluate(ep))
        store.put(f"vault_chain:x|{mode}|mock|0", "viewtest", "vault.yaml", "mock", ep, scores)
    store.set_meta("suite", "viewtest")
    store.close()
    return {"root": root, "episodes": episodes, "scores": all_scores, "files": files, "db": root / "results.db"}


def test_the_made_episodes_have_what_the_browser_tests_look_for(made: dict[str, Any]) -> None:
    agents = made["episodes"]["agents"]
    assert [m.sender for m in agents.messages] == ["ann", "ben", "cat"]
    assert agents.messages[0].recipients == {"ben"}  # the chain: Cat never receives Ann's message
    assert "cat" not in agents.messages[0].recipients
    data = from_episodes(made["files"])
    run = data.transcript(next(r.key for r in data.runs if r.mode == "agents"))
    kinds = {f.kind for f in run.messages[2].flags}
    assert {"clairvoyance", "premature_commitment"} <= kinds
    assert [m.fact for m in run.messages[0].mentions] == ["f_code"]
    assert EVIL in run.messages[1].content


def test_store_and_files_give_the_same_transcripts_and_findings(made: dict[str, Any]) -> None:
    a, b = from_store(made["db"]), from_episodes(made["files"])
    assert [i.id for i in a.instances] == [i.id for i in b.instances]
    for ra, rb in zip(a.runs, b.runs, strict=True):
        assert ra.mode == rb.mode
        assert a.transcript(ra.key) == b.transcript(rb.key)
    cell = next(c for c in a.metrics if c.metric == "clairvoyance" and c.mode == "agents")
    assert cell.n == 1 and cell.runs == ["vault_chain:x|agents|mock|0"] and cell.mean is not None and cell.mean > 0


def test_page_embeds_data_without_a_way_out_of_its_script_block(made: dict[str, Any]) -> None:
    page = render(from_episodes(made["files"]))
    assert "<script>window.__pwned" not in page and "<img src=x" not in page
    # the index, one block per run's transcript and the page's own script; nothing from the data
    assert page.count("</script>") == 2 + 2
    assert "http://" not in page and "https://" not in page  # nothing to fetch
    # the Content-Security-Policy allows exactly the page's own script, by hash
    import base64
    import hashlib

    script = _SCRIPT.search(page)
    assert script is not None
    digest = base64.b64encode(hashlib.sha256(script.group(1).encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page


def test_cli_view_writes_a_page_and_reports_bad_input(made: dict[str, Any], tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["view", str(made["db"]), "--out", str(tmp_path / "v.html")], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "2 runs of 1 scenario instances" in result.output
    assert "view: 2/2 episodes" in result.stderr  # progress goes to stderr
    assert (tmp_path / "v.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")

    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    result = runner.invoke(app, ["view", str(bad)], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "bad.json: not a JSON episode file" in result.output
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["view", str(tmp_path / "empty")], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "folder has no episode .json files" in result.output
    result = runner.invoke(app, ["view", str(tmp_path / "nope.db")], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "nope.db: no such file" in result.output
    result = runner.invoke(app, ["view", str(made["db"]), str(made["files"][0])], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "give one result store, or episode files" in result.output


def test_one_bad_episode_file_is_left_out_not_the_page(made: dict[str, Any], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    page = tmp_path / "v.html"
    result = CliRunner().invoke(app, ["view", *map(str, made["files"]), str(bad), "--out", str(page)],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output  # bad input is said, and the exit code says it too
    assert "bad.json: not a JSON episode file" in result.stderr and "(left out)" in result.stderr
    assert f"{len(made['files'])} runs of" in result.stdout
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_serve_listens_on_loopback_only_and_serves_the_page(made: dict[str, Any], tmp_path: Path) -> None:
    proc = subprocess.Popen([Path(sys.executable).parent / "privy", "view", str(made["db"]), "--out",
                             str(tmp_path / "s.html"), "--serve", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        url = None
        for _ in range(20):
            line = proc.stdout.readline()
            if m := re.search(r"serving on (http://127\.0\.0\.1:(\d+)/)", line):
                url, port = m.group(1), int(m.group(2))
                break
        assert url, "no 'serving on' line"
        with urllib.request.urlopen(url, timeout=10) as resp:
            body = resp.read().decode()
        assert body == (tmp_path / "s.html").read_text(encoding="utf-8")
        with pytest.raises(urllib.error.HTTPError, match="404"):
            urllib.request.urlopen(url + "other", timeout=10)
        rebound = urllib.request.Request(url, headers={"Host": f"evil.example:{port}"})
        with pytest.raises(urllib.error.HTTPError, match="403"):
            urllib.request.urlopen(rebound, timeout=10)
        out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True)
        if out.returncode == 0:  # iproute2's ss: every listening socket on that port is on 127.0.0.1
            listeners = [ln.split()[3] for ln in out.stdout.splitlines() if ln.strip()]
            assert listeners and all(x.startswith("127.0.0.1:") for x in listeners), listeners
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# ---------------------------------------------------------------- in the browser




@pytest.fixture
def page_of(browser: Any, made: dict[str, Any], tmp_path: Path) -> Iterator[Any]:
    """Open the viewer for the made store from a file, recording every request and script error."""
    html_file = tmp_path / "view.html"
    assert CliRunner().invoke(app, ["view", str(made["db"]), "--out", str(html_file)]).exit_code == 0
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, offline=True)
    page = context.new_page()
    page.requests, page.errors = [], []
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.goto(html_file.as_uri())
    page.wait_for_selector("body[data-ready='1']")
    yield page
    page.screenshot(path=str(tmp_path / "viewer.png"), full_page=True)
    assert (tmp_path / "viewer.png").stat().st_size > 10_000
    context.close()


def column_texts(page: Any, mode: str) -> list[str]:
    key = f"vault_chain:x|{mode}|mock|0"
    return page.locator(f'#side-by-side td[data-run="{key}"] .msg .text').all_inner_texts()


def test_loads_from_a_file_with_no_network(page_of: Any) -> None:
    assert page_of.errors == []
    assert page_of.requests and all(u.startswith("file://") for u in page_of.requests), page_of.requests
    assert page_of.locator("#title").inner_text() == "privy: suite viewtest"


def test_side_by_side_shows_each_modes_messages_turn_aligned(page_of: Any, made: dict[str, Any]) -> None:
    heads = page_of.locator("#side-by-side thead th.runhead").all()
    assert [h.get_attribute("data-mode") for h in heads] == ["agents", "omniscient"]
    for mode in ("agents", "omniscient"):
        assert column_texts(page_of, mode) == [m.content for m in made["episodes"][mode].messages]
    assert "the answer is 4711" in page_of.locator("#task").inner_text()  # everyone's view: the ground truth too
    rows = page_of.locator("#side-by-side tbody tr").all()
    assert [r.get_attribute("data-turn") for r in rows] == ["0", "1", "2"]
    first = rows[0].locator(".msg .text").all_inner_texts()
    assert first == [LINES["ann"], "[omni] " + LINES["ann"]]
    # the private fact it mentions is marked in its holder's colour, with the fact on hover
    mark = rows[0].locator("mark.fact").first
    assert mark.inner_text() == "4711" and mark.get_attribute("data-holders") == "ann"
    assert "The vault code is 4711." in mark.get_attribute("title")


def test_switch_to_one_agents_view_hides_undelivered_messages(page_of: Any, made: dict[str, Any]) -> None:
    page_of.select_option("#view-as", "cat")
    page_of.wait_for_selector("#viewas-note")
    texts = column_texts(page_of, "agents")
    delivered = [m.content for m in made["episodes"]["agents"].messages if m.visible_to("cat")]
    assert texts == delivered and LINES["ann"] not in texts and len(texts) == 2
    assert "2 message(s) not delivered to Cat are hidden" in page_of.locator("#viewas-note").inner_text()
    cards = page_of.locator(".agents .agent").all()
    assert [c.get_attribute("data-agent") for c in cards] == ["cat"]  # only her own facts and goal
    assert "The key is under the mat." in cards[0].inner_text() and "4711" not in cards[0].inner_text()
    assert "as=cat" in page_of.evaluate("location.hash")
    assert "the answer is" not in page_of.locator("#task").inner_text()  # the ground truth is not Cat's to see
    ben_fact = page_of.locator('#side-by-side mark.fact[data-facts="f_day"]').first
    assert "Tuesday" not in ben_fact.get_attribute("title")  # Ben's fact is named, not quoted
    assert "private to Ben" in ben_fact.get_attribute("title")
    assert "2 message(s) not delivered to Cat are hidden" in page_of.locator("#viewas-note").inner_text()
    assert "omniscient runs Cat's model was shown everything" in page_of.locator("#viewas-note").inner_text()
    page_of.select_option("#view-as", "")
    assert len(column_texts(page_of, "agents")) == 3


def test_a_flagged_failure_shows_the_evaluators_reason(page_of: Any, made: dict[str, Any]) -> None:
    reason = next(f.reason for f in made["scores"]["agents"]["clairvoyance"].findings if f.message_id == 2)
    cell = page_of.locator('#side-by-side td[data-run="vault_chain:x|agents|mock|0"] .msg[data-message="2"]')
    flag = cell.locator('.flag.failure[data-kind="clairvoyance"]')
    assert flag.inner_text() == FAILURES["clairvoyance"]
    assert flag.get_attribute("title") == reason  # on hover
    box = cell.locator(".reason")
    assert not box.is_visible()
    flag.click()  # and on click
    assert box.is_visible() and reason in box.inner_text()


def test_model_output_with_script_tags_is_shown_as_text(page_of: Any) -> None:
    assert page_of.evaluate("window.__pwned") is None
    assert page_of.locator("#detail script, #detail img").count() == 0
    texts = column_texts(page_of, "agents")
    assert texts[1] == f"Noted. {EVIL}"


def test_filters_and_metric_links(page_of: Any) -> None:
    page_of.select_option("#filter-mode", "omniscient")
    heads = page_of.locator("#side-by-side thead th.runhead").all()
    assert [h.get_attribute("data-mode") for h in heads] == ["omniscient"]
    page_of.select_option("#filter-outcome", "error")
    assert page_of.locator("#list").inner_text().strip() == "No episode matches the filters."
    page_of.click("text=clear filters")
    link = page_of.locator('a.metric-link[data-metric="clairvoyance"][data-mode="agents"]')
    link.click()
    behind = page_of.locator("#behind tbody tr").all_inner_texts()
    assert len(behind) == 1 and "agents" in behind[0]
    assert [h.get_attribute("data-mode") for h in page_of.locator("#side-by-side th.runhead").all()] == ["agents"]
    assert "metric=clairvoyance" in page_of.evaluate("location.hash")


def test_a_link_with_a_hash_opens_that_view(browser: Any, made: dict[str, Any], tmp_path: Path) -> None:
    html_file = tmp_path / "view.html"
    html_file.write_text(render(from_store(made["db"])), encoding="utf-8")
    page = browser.new_page()
    page.goto(html_file.as_uri() + "#as=ben&mode=agents")
    page.wait_for_selector("body[data-ready='1']")
    assert page.locator("#view-as").input_value() == "ben"
    assert len(column_texts(page, "agents")) == 3  # Ben hears both sides of the chain
    assert page.locator("#side-by-side th.runhead").count() == 1
    page.close()



def with_failure(made: dict[str, Any], tmp_path: Path, error: str) -> Path:
    """A copy of the made store plus a failed episode that has no messages."""
    db = tmp_path / "r.db"
    shutil.copy(made["db"], db)
    store = ResultStore(db)
    store.put_error("vault_chain:x|script|mock|0", "viewtest", "vault.yaml", "mock", "vault_chain", "custom",
                    "script", 0, error)
    store.close()
    return db


def test_a_store_with_a_failed_episode_lists_it(made: dict[str, Any], tmp_path: Path) -> None:
    data = from_store(with_failure(made, tmp_path, "BackendError: the server said no"))
    assert data.not_shown == ["vault_chain:x|script|mock|0: BackendError: the server said no"]
    assert len(data.runs) == 2  # the two with messages are still there


def test_failed_episodes_without_messages_are_listed_in_the_page(browser: Any, made: dict[str, Any],
                                                                 tmp_path: Path) -> None:
    html_file = tmp_path / "v.html"
    html_file.write_text(render(from_store(with_failure(made, tmp_path, "BackendError: <b>no</b>"))), encoding="utf-8")
    page = browser.new_page()
    page.goto(html_file.as_uri())
    page.wait_for_selector("body[data-ready='1']")
    page.click("#not-shown summary")
    assert page.locator("#not-shown li").all_inner_texts() == ["vault_chain:x|script|mock|0: BackendError: <b>no</b>"]
    assert "1 failed" in page.locator("#subtitle").inner_text()
    page.close()


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600 scripted episodes: 200 generated MutualFriends instances in three modes."""
    from privy.bench.run import run_bench
    from privy.bench.suite import Grid, ScenarioSource, Suite, SuiteBackend

    db = tmp_path_factory.mktemp("big") / "big.db"
    suite = Suite(name="big", scenarios=[ScenarioSource(family="mutual_friends", count=200, seed=3)],
                  modes=["agents", "mindreaders", "omniscient"],  # type: ignore[list-item]
                  backends=[SuiteBackend(name="scripted")], seeds=[0])

    def build() -> Any:
        with ResultStore(db) as store:
            return run_bench(suite, Grid(suite, Path.cwd()), store, jobs=4)

    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # Playwright's event loop may be running here
        progress = pool.submit(build).result()
    assert progress.done == 600 and progress.failed == 0
    return db


def test_a_transcript_deep_in_a_big_store_opens_and_only_its_runs_are_parsed(browser: Any, big_store: Path,
                                                                              tmp_path: Path) -> None:
    html_file = tmp_path / "big.html"
    assert CliRunner().invoke(app, ["view", str(big_store), "--out", str(html_file)]).exit_code == 0
    data = from_store(big_store)
    deep = data.instances[-1]  # the last instance the list shows
    keys = [r.key for r in data.runs if r.instance == deep.id]
    with open_reader(big_store) as reader:
        logs = {k: Episode.model_validate_json(js) for k, js in reader.rows("episodes", ["key", "episode_json"])
                if k in keys}
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(html_file.as_uri() + f"#instance={deep.id}")
    page.wait_for_selector("body[data-ready='1']")
    assert errors == []
    assert page.locator("#list button.inst").count() == 200
    assert page.locator("#instance-title").inner_text().startswith(deep.scenario_id)
    assert len(keys) == 3
    for key in keys:  # every mode's transcript, message for message
        texts = page.locator(f'#side-by-side td[data-run="{key}"] .msg .text').all_inner_texts()
        assert texts == [m.content for m in logs[key].messages] and texts
    assert page.evaluate("document.body.dataset.parsed") == "3"  # its three runs' transcripts, not 600
    page.close()
