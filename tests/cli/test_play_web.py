"""Issue 18: the browser seat (``privy play --web``), played in headless Chromium through Playwright.

Like the viewer's tests (tests/bench/test_view.py) it uses Debian's ``chromium``; where
it or Playwright is missing the browser tests skip and say so, except under CI.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import SCENARIO_DIR

from privy.simulator import load_episode, load_scenario
from privy.simulator.scenario import Topology

GREW = "n => document.querySelectorAll('#messages li').length > n || document.body.dataset.turn === 'over'"
HOSTILE = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>"


@pytest.fixture
def star(tmp_path: Path) -> Path:
    """The committee as a star (Cleo talks with Ana and Ben), with markup in Cleo's goal."""
    s = load_scenario(SCENARIO_DIR / "hidden_profile.yaml")
    agents = [a.model_copy(update={"goal": a.goal + " " + HOSTILE}) if a.id == "cleo" else a for a in s.agents]
    s = s.model_copy(update={"agents": agents,
                             "topology": Topology(kind="edges", edges=[("cleo", "ana"), ("cleo", "ben")])})
    path = tmp_path / "star.yaml"
    path.write_text(yaml.safe_dump(s.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
    return path


class Served:
    def __init__(self, proc: subprocess.Popen[str], url: str, port: int, out: Path) -> None:
        self.proc, self.url, self.port, self.out = proc, url, port, out


@pytest.fixture
def served(star: Path, tmp_path: Path) -> Iterator[Served]:
    """``privy play STAR --as cleo --web --port 0`` against the scripted references, until it exits."""
    out = tmp_path / "ep.json"
    proc = subprocess.Popen([sys.executable, "-m", "privy", "play", str(star), "--as", "cleo", "--backend", "scripted",
                             "--web", "--port", "0", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"})
    assert proc.stdout is not None
    url = None
    for _ in range(20):
        line = proc.stdout.readline()
        if m := re.search(r"your seat is at (http://127\.0\.0\.1:(\d+)/)", line):
            url, port = m.group(1), int(m.group(2))
            break
    assert url, "no 'your seat is at' line"
    try:
        yield Served(proc, url, port, out)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


def test_the_seat_is_served_to_its_own_page_only(served: Served) -> None:
    status, body = get(served.url)
    assert status == 200
    page = body.decode()
    token = re.search(r'<meta name="privy-seat" content="([^"]+)">', page)
    assert token and "script-src 'sha256-" in page and "connect-src 'self'" in page
    assert get(served.url, {"Host": f"evil.example:{served.port}"})[0] == 403  # DNS rebinding
    assert get(served.url + "state")[0] == 403  # another page cannot read the agent's view
    assert get(served.url + "state", {"X-Privy-Seat": "guess"})[0] == 403
    status, body = get(served.url + "state", {"X-Privy-Seat": token.group(1)})
    assert status == 200 and "name" in json.loads(body)
    forged = urllib.request.Request(served.url + "move", data=b'{"line": "SELECT: x"}', method="POST",
                                    headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError, match="403"):
        urllib.request.urlopen(forged, timeout=10)
    out = subprocess.run(["ss", "-ltnH", f"sport = :{served.port}"], capture_output=True, text=True)
    if out.returncode == 0:
        listeners = [ln.split()[3] for ln in out.stdout.splitlines() if ln.strip()]
        assert listeners and all(x.startswith("127.0.0.1:") for x in listeners), listeners
    served.proc.send_signal(signal.SIGINT)  # Ctrl-C in the terminal: saved, exit 130
    assert served.proc.wait(timeout=120) == 130
    assert load_episode(served.out).outcome.ended_by == "interrupted"




def test_a_person_plays_in_the_browser(browser: Any, served: Served, tmp_path: Path) -> None:
    page = browser.new_page()
    # bounds for a hang, not speed goals: the other seats run in a separate process on a busy machine
    page.set_default_timeout(180_000)
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(served.url)
    page.wait_for_selector("body[data-turn='yours']")
    brief = page.inner_text("#brief")
    assert "Avery's former reports rated her the best manager" in brief  # Cleo's own fact
    assert "Avery led a team of twelve" not in brief  # Ana's, not said yet
    assert HOSTILE in brief and page.title() != "pwned"  # the goal's markup is text
    assert page.locator("#brief img, #brief script").count() == 0
    assert page.locator("#messages li").count() == 2  # Ana's and Ben's first turns

    page.fill("#line", "/frobnicate")  # bad input: said on the page, and still Cleo's turn
    page.click("#send")
    page.wait_for_selector("#error:has-text('unknown command /frobnicate')")
    page.fill("#value", "Dana")
    page.click("#commit")
    page.wait_for_selector("#error:has-text(\"'Dana' is not an option\")")

    page.check("input.to[value='Ana']")  # a direct message to Ana only
    page.fill("#line", "Ana, what do you know about Avery?")
    page.click("#send")
    page.locator("#messages li").nth(4).wait_for()  # Cleo's message, then Ana's and Ben's next turns
    page.wait_for_selector("body[data-turn='yours']")
    texts = page.locator("#messages li .text").all_inner_texts()
    assert any(t.endswith("Ana, what do you know about Avery?") for t in texts)
    for _ in range(6):  # commit until the others have too, or the turns run out
        shown = page.locator("#messages li").count()
        page.fill("#value", "Avery")
        page.click("#commit")
        # the commitment is on the page (the others' turns may already have come and gone: their
        # instant models can be faster than a poll for the 'waiting' state)
        page.wait_for_function(GREW, arg=shown)
        page.wait_for_selector("body[data-turn='yours'], body[data-turn='over']")
        if page.get_attribute("body", "data-turn") == "over":
            break
    assert "Game over: ended by" in page.inner_text("#status")
    assert served.proc.wait(timeout=120) == 0
    page.screenshot(path=str(tmp_path / "seat.png"), full_page=True)
    assert errors == []
    assert requests and all(u.startswith(served.url) for u in requests), requests

    ep = load_episode(served.out)
    mine = [c.output for c in ep.calls if c.speaker == "cleo"]  # the texts of Cleo's turns, as the runner got them
    assert mine[0] == "TO Ana: Ana, what do you know about Avery?" and set(mine[1:]) == {"DECIDE: Avery"}
    assert ep.backend["per_agent"] == {"cleo": {"backend": "human", "human": True, "seat": "web"}}
    assert all("Dana" not in m.content and "frobnicate" not in m.content for m in ep.messages)
