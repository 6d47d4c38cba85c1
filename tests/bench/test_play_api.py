"""Issue 18: ``privy.bench.play``, the API behind ``privy play``: which seats a person can take, and Ctrl-C
while a model writes (the call in flight finishes, the episode ends before the next one).
"""

from __future__ import annotations

import asyncio

import pytest
from helpers import SCENARIO_DIR
from helpers.seats import Typed

from privy.bench.play import PlayError, StopFlag, check_seat, play
from privy.simulator import load_scenario
from privy.simulator.backends.mock import MockBackend

MUTUAL = SCENARIO_DIR / "mutual_friends.yaml"


def test_ctrl_c_while_a_model_writes_ends_the_episode_before_the_next_call() -> None:
    flag = StopFlag()
    s = load_scenario(MUTUAL)

    def alice(request: object) -> str:
        flag(2, None)  # Ctrl-C arrives while Alice's model writes: her call finishes
        return "Who do you know?"

    model = MockBackend(respond=alice)  # type: ignore[arg-type]
    seat = Typed("never typed")
    ep = asyncio.run(play(s, "bob", seat, model, stop=flag))
    assert ep.outcome.ended_by == "interrupted"
    assert [m.content for m in ep.messages] == ["Who do you know?"]
    assert seat.views == [], "the person was not asked after Ctrl-C"
    assert ep.backend["per_agent"]["bob"]["backend"] == "human"


def test_check_seat() -> None:
    s = load_scenario(MUTUAL)
    assert check_seat(s, "bob", "agents").value == "agents"
    with pytest.raises(PlayError, match="no such agent"):
        check_seat(s, "zed", "agents")
    assert check_seat(s, "bob", "mindreaders").value == "mindreaders"
    for mode in ("omniscient", "script"):
        with pytest.raises(PlayError, match=f"--mode {mode}: there is no seat to play"):
            check_seat(s, "bob", mode)
