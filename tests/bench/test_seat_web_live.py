"""Issue 18: the browser seat shows each message delivered to its agent while the models play, without a reload,
and in ``mindreaders`` mode every agent's facts by holder; played in headless Chromium (the ``browser`` fixture).

The game runs in this process on a thread; Ben's model holds its turn until the test has seen Ana's message on the
page, so "shown while a model writes" is observed, not inferred from timing.
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import SCENARIO_DIR
from helpers.seats import expected_facts

from privy.bench.play import play
from privy.bench.seat_web import WebSeat
from privy.simulator import backends, load_scenario
from privy.simulator.backends.base import ChatRequest, Completion
from privy.simulator.backends.mock import MockBackend
from privy.simulator.episode import Episode

COMMITTEE = SCENARIO_DIR / "hidden_profile.yaml"  # Ana, Ben, Cleo speak in that order
DM = "TO Ben: psst, Blake cheats at cards"
AGAIN = "Ana again: Avery led a team of twelve."
WAIT_S = 180  # a bound for a hang on a loaded machine, not a speed goal


LISTED = """label => {
  const p = [...document.querySelectorAll("#brief p.label")].find(e => e.textContent === label);
  return p ? [...p.nextElementSibling.querySelectorAll("li")].map(li => li.textContent) : null;
}"""


class Gated:
    """Ben's model: its first turn at once, each later one only once ``gate`` is set."""

    name = "gated"

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.calls = 0

    def settings(self) -> dict[str, Any]:
        return {"backend": self.name}

    async def complete(self, request: ChatRequest) -> Completion:
        self.calls += 1
        if self.calls > 1:
            await asyncio.to_thread(self.gate.wait, WAIT_S)
        return Completion(text=f"Ben here ({self.calls}): Blake has a PhD.")


class Game:
    def __init__(self, mode: str) -> None:
        self.seat = WebSeat(port=0)
        self.ben = Gated()
        self.episode: Episode | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(mode,), daemon=True)
        self.thread.start()

    def _run(self, mode: str) -> None:
        try:
            self.episode = asyncio.run(play(
                load_scenario(COMMITTEE), "cleo", self.seat, backends.create("scripted"), mode=mode,
                agent_backends={"ana": MockBackend(outputs=[DM, AGAIN]), "ben": self.ben}))
        except BaseException as e:  # shown by the test
            self.error = e

    def state(self) -> dict[str, Any]:
        req = urllib.request.Request(self.seat.url + "state", headers={"X-Privy-Seat": self.seat.token})
        with urllib.request.urlopen(req, timeout=10) as r:
            data: dict[str, Any] = json.loads(r.read())
            return data


@pytest.fixture
def game(request: pytest.FixtureRequest) -> Iterator[Game]:
    g = Game(request.param)
    try:
        yield g
    finally:
        g.ben.gate.set()
        g.thread.join(WAIT_S)
        g.seat.close()


@pytest.mark.parametrize("game", ["agents"], indirect=True)
def test_a_message_appears_on_the_page_while_a_model_writes(browser: Any, game: Game) -> None:
    page = browser.new_page()
    page.set_default_timeout(WAIT_S * 1000)
    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(game.seat.url)
    page.wait_for_selector("body[data-turn='yours']")
    page.fill("#line", "Cleo here: Avery's reports rated her the best manager.")
    page.click("#send")
    # Ana's reply reaches the page while Ben's model is still holding his turn
    page.wait_for_selector(f"#messages li:has-text('{AGAIN}')")
    page.wait_for_selector("#status:has-text('Ben is writing…')")
    assert page.get_attribute("body", "data-turn") == "waiting" and game.ben.calls == 2 and not game.ben.gate.is_set()
    state = game.state()
    assert state["writing"] == "Ben" and not state["your_turn"]
    assert [m["text"] for m in state["messages"]][-1] == AGAIN
    game.ben.gate.set()
    page.wait_for_selector("#messages li:has-text('Ben here (2)')")
    page.wait_for_selector("body[data-turn='yours']")
    page.click("#leave")
    game.thread.join(WAIT_S)
    assert game.error is None and game.episode is not None and game.episode.outcome.ended_by == "left"
    assert loads == [game.seat.url], "the page was loaded once: every message came without a reload"
    assert errors == []
    # Ana's DM to Ben was never on Cleo's page, nor in what the page was served
    assert any("psst" in m.content for m in game.episode.messages)
    assert "psst" not in page.inner_text("body") and "psst" not in json.dumps(game.state())
    assert page.locator("#messages li").count() == sum(m.visible_to("cleo") for m in game.episode.messages)


@pytest.mark.parametrize("game", ["mindreaders"], indirect=True)
def test_a_mindreader_sees_every_agents_facts_on_the_page(browser: Any, game: Game) -> None:
    game.ben.gate.set()
    page = browser.new_page()
    page.set_default_timeout(WAIT_S * 1000)
    page.goto(game.seat.url)
    page.wait_for_selector("body[data-turn='yours']")
    brief = page.inner_text("#brief")
    assert "Mindreaders mode" in brief
    s = load_scenario(COMMITTEE)
    for a in s.agents:
        label = "What you know:" if a.id == "cleo" else f"What {a.name} knows:"
        listed = page.evaluate(LISTED, label)
        assert listed == expected_facts(s, a.id, "cleo") and listed
    # Ana's DM to Ben: on the page at Cleo's turn, as her model reads it, marked as not delivered to her
    overheard = page.locator("#messages li.overheard")
    assert overheard.count() == 1 and "psst" in overheard.inner_text()
    assert "not delivered to you" in overheard.inner_text()
    page.click("#leave")
    game.thread.join(WAIT_S)
    assert game.error is None and game.episode is not None and game.episode.mode == "mindreaders"
