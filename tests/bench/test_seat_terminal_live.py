"""Issue 18: the terminal seat shows each message delivered to its agent while the models play, and in
``mindreaders`` mode every agent's facts, marked by holder. The screen is read at the moment a model is called,
so "already shown" is checked, not guessed from the order of the output.
"""

from __future__ import annotations

import asyncio
import io

import pytest
from helpers import SCENARIO_DIR
from helpers.seats import expected_facts
from rich.console import Console

from privy.bench.play import play
from privy.bench.seat_terminal import TerminalSeat
from privy.simulator import backends, load_scenario
from privy.simulator.backends.base import ChatRequest
from privy.simulator.backends.human import SeatLeft
from privy.simulator.backends.mock import MockBackend

COMMITTEE = SCENARIO_DIR / "hidden_profile.yaml"  # Ana, Ben, Cleo speak in that order
DM = "TO Ben: psst, Blake cheats at cards"
NOT_DELIVERED = "(not delivered to you: you read it as a mindreader)"


class Screen(TerminalSeat):
    """The terminal seat on a recorded console, its person typing ``lines`` (then leaving)."""

    def __init__(self, *lines: str) -> None:
        super().__init__(Console(file=io.StringIO(), width=200, force_terminal=False, color_system=None,
                                 emoji=False, highlight=False))
        self.lines = list(lines)
        self.prompts: list[str] = []  # the screen each time the person was asked

    @property
    def text(self) -> str:
        file = self.console.file
        assert isinstance(file, io.StringIO)
        return file.getvalue()

    def _read(self, prompt: object) -> str:
        self.prompts.append(self.text)
        if not self.lines:
            raise SeatLeft()
        return self.lines.pop(0)


def game(mode: str, seat: Screen) -> tuple[list[str], object]:
    """Cleo is the person; Ana DMs Ben first; the screen is kept each time Ben's model is called."""
    at_ben: list[str] = []

    def ben(request: ChatRequest) -> str:
        at_ben.append(seat.text)
        return "Ben here: Blake has a PhD."

    s = load_scenario(COMMITTEE)
    ep = asyncio.run(play(s, "cleo", seat, backends.create("scripted"), mode=mode,
                          agent_backends={"ana": MockBackend(outputs=[DM, "Ana again: Avery led a team."]),
                                          "ben": MockBackend(respond=ben)}))
    return at_ben, ep


def test_a_message_is_on_the_screen_before_the_next_model_writes() -> None:
    seat = Screen("Cleo here: Avery's reports rated her the best manager.")
    at_ben, ep = game("agents", seat)
    assert len(at_ben) == 2 and len(seat.prompts) == 2
    # Ben's second call: Ana's second message (delivered to Cleo) is on the screen already, and Ben's status
    assert "Ana again: Avery led a team." in at_ben[1]
    assert at_ben[1].rstrip().endswith("Ben is writing…")
    assert "Ben here: Blake has a PhD." not in at_ben[1].split("Cleo here")[1]  # his reply is not there yet
    # the briefing came before any model wrote
    assert "what you know (only you):" in at_ben[0] and "Ana is writing…" in at_ben[0]
    # the DM between Ana and Ben never reached the screen
    assert all("psst" not in t for t in [*at_ben, *seat.prompts, seat.text])


def test_a_mindreader_sees_everyones_facts_and_the_others_dm_marked_at_its_turn() -> None:
    seat = Screen("Cleo here.")
    at_ben, ep = game("mindreaders", seat)
    s = load_scenario(COMMITTEE)
    brief = at_ben[0]
    assert "mindreaders mode: you see what the model at this seat sees" in brief
    lines = brief.splitlines()
    for a in s.agents:
        label = "what you know:" if a.id == "cleo" else f"what {a.name} knows:"
        listed = []
        for line in lines[lines.index(label) + 1:]:
            if not line.startswith("  - "):
                break
            listed.append(line[4:])
        assert listed == expected_facts(s, a.id, "cleo") and listed
    # live, only what is delivered to Cleo: Ana's DM to Ben is not shown while the models play
    assert "psst" not in at_ben[0]
    # at Cleo's turn she reads it as the model at her seat would, marked as not delivered to her
    first_turn = seat.prompts[0]
    dm_line = next(line for line in first_turn.splitlines() if "Ana → Ben" in line)
    assert NOT_DELIVERED in dm_line and "psst, Blake cheats at cards" in first_turn
    human = next(c for c in ep.calls if c.speaker == "cleo")  # what her model's prompt would have held
    assert "psst, Blake cheats at cards" in "\n".join(m.content for m in human.input)


@pytest.mark.parametrize("mode", ["agents", "mindreaders"])
def test_what_the_screen_shows_as_delivered_is_what_reached_the_agent(mode: str) -> None:
    seat = Screen("Cleo here.", "/commit Avery")
    _, ep = game(mode, seat)
    shown = [line for line in seat.text.splitlines() if " → " in line]  # one head line per message shown
    delivered = [m for m in ep.messages if m.visible_to("cleo")]
    marked = [line for line in shown if NOT_DELIVERED in line]
    assert len(shown) - len(marked) == len(delivered)
    assert len(marked) == (sum(not m.visible_to("cleo") for m in ep.messages) if mode == "mindreaders" else 0)
