"""Malformed model output through run_episode: every oddity is cleaned, noted, and never crashes a run."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import SCENARIO_DIR

from privy.simulator import Episode, load_episode, load_scenario, run_episode
from privy.simulator.backends.base import ChatRequest, Completion
from privy.simulator.backends.mock import MockBackend
from privy.simulator.runner import sanitize

MUTUAL = SCENARIO_DIR / "mutual_friends.yaml"
SELECT = "SELECT: Tess Moreau"


def run(outputs: list[str] | None = None, backend: Any = None, mode: str = "agents") -> Episode:
    s = load_scenario(MUTUAL)
    return asyncio.run(run_episode(s, mode, backend or MockBackend(outputs), seed=0))


def test_empty_output_is_noted_and_the_episode_goes_on() -> None:
    ep = run(["", SELECT, SELECT])
    first = ep.calls[0]
    assert first.output == ""
    assert first.notes == ["empty output"]
    assert first.error is None
    assert ep.messages[0].content == ""
    assert len(ep.messages) == 3
    assert ep.outcome.ended_by == "committed" and ep.outcome.success is True
    assert ep.calls[1].notes == []


def test_whitespace_only_output_is_empty_too() -> None:
    ep = run([" \n\t ", SELECT, SELECT])
    assert ep.calls[0].notes == ["empty output"]
    assert ep.outcome.ended_by == "committed"


def test_a_huge_output_is_cut_and_noted(tmp_path: Path) -> None:
    huge = "blah " * 20_000  # 100k characters
    ep = run([huge, SELECT, SELECT])
    limit = max(400, ep.scenario.limits.max_tokens * 16)
    call = ep.calls[0]
    assert call.output is not None and len(call.output) == limit
    assert call.output == huge[:limit]
    assert len(ep.messages[0].content) <= limit
    [note] = call.notes
    assert "100000 characters" in note and f"cut to {limit}" in note
    assert ep.outcome.ended_by == "committed"
    assert len(load_episode(ep.save(tmp_path / "ep.json")).messages[0].content) <= limit


def test_a_lone_surrogate_is_replaced_noted_and_the_episode_saves(tmp_path: Path) -> None:
    ep = run(["Hi \ud800 Bob, my friends: Tess Moreau.", SELECT, SELECT])
    call = ep.calls[0]
    assert call.output == "Hi ? Bob, my friends: Tess Moreau."
    assert ep.messages[0].content == "Hi ? Bob, my friends: Tess Moreau."
    assert len(call.notes) == 1 and "invalid Unicode" in call.notes[0]
    path = ep.save(tmp_path / "ep.json")
    text = path.read_text(encoding="utf-8")
    assert "\\ud800" not in text
    back = load_episode(path)
    assert [m.content for m in back.messages] == [m.content for m in ep.messages]
    assert back.calls[0].notes == call.notes
    assert back.outcome == ep.outcome
    # the next prompt carries the cleaned text, never the surrogate
    assert all("\ud800" not in m.content for c in ep.calls for m in c.input)


def test_u_fffd_is_kept_and_noted(tmp_path: Path) -> None:
    ep = run(["Caf\ufffd with Tess Moreau?", SELECT, SELECT])
    call = ep.calls[0]
    assert call.output == "Caf\ufffd with Tess Moreau?"
    assert len(call.notes) == 1 and "U+FFFD" in call.notes[0]
    back = load_episode(ep.save(tmp_path / "ep.json"))
    assert back.messages[0].content == "Caf\ufffd with Tess Moreau?"


def test_output_without_any_action_commits_nothing_and_ends_at_the_turn_limit() -> None:
    ep = run(["I am not sure who we both know. Tess Moreau, maybe?"])
    s = ep.scenario
    assert ep.outcome.ended_by == "turn_limit"
    assert ep.outcome.commitments == {}
    assert ep.outcome.decision is None and ep.outcome.success is False
    assert ep.outcome.turns == len(ep.messages) == len(ep.calls) == s.limits.max_turns
    assert all(m.actions == () for m in ep.messages)
    assert all(c.error is None for c in ep.calls)
    # each agent's last turn allowed only a commitment (simulator.moves): those calls are noted, no other
    last = {c.index for c in ep.calls if c.turn >= s.limits.max_turns - len(s.agents)}
    assert [c.index for c in ep.calls if c.notes] == sorted(last)
    assert all("last turn had no commitment" in c.notes[0] for c in ep.calls if c.notes)


def test_a_backend_bug_ends_the_episode_with_the_error_recorded() -> None:
    class Buggy(MockBackend):
        async def complete(self, request: ChatRequest) -> Completion:
            if len(self.requests) == 2:
                raise RuntimeError("index out of whack")
            return await super().complete(request)

    ep = run(backend=Buggy(["Hello Bob.", "Hello Alice."]))
    assert ep.outcome.ended_by == "error"
    assert [m.content for m in ep.messages] == ["Hello Bob.", "Hello Alice."]
    last = ep.calls[-1]
    assert last.error == "RuntimeError: index out of whack"
    assert last.output is None and last.attempts == [] and last.notes == []
    assert len(ep.calls) == 3


def test_a_backend_bug_in_script_mode_ends_with_error() -> None:
    class Broken(MockBackend):
        async def complete(self, request: ChatRequest) -> Completion:
            raise KeyError("choices")

    ep = run(backend=Broken(), mode="script")
    assert ep.outcome.ended_by == "error"
    assert ep.messages == []
    assert ep.calls[0].error == "KeyError: 'choices'"


def test_a_backend_returning_a_non_string_is_recorded_as_an_error() -> None:
    """A respond() that returns None is a bug (here in the mock, which splits the text)."""
    ep = run(backend=MockBackend(respond=lambda r: None))  # type: ignore[arg-type, return-value]
    assert ep.outcome.ended_by == "error"
    assert ep.calls[0].error == "AttributeError: 'NoneType' object has no attribute 'split'"


def test_malformed_episode_round_trips_as_json(tmp_path: Path) -> None:
    ep = run(["", "x" * 5000 + "\ud800", "\ufffd\n" + SELECT, SELECT])
    assert ep.outcome.ended_by == "committed"
    raw = json.loads(ep.save(tmp_path / "ep.json").read_text(encoding="utf-8"))
    assert [len(c["notes"]) for c in raw["calls"]] == [1, 2, 1, 0]
    assert load_episode(tmp_path / "ep.json").model_dump(mode="json") == ep.model_dump(mode="json")


@pytest.mark.parametrize(("text", "max_tokens", "clean", "notes"), [
    ("fine", 10, "fine", 0),
    ("", 10, "", 1),
    ("a\udc80b", 10, "a?b", 1),
    ("a" * 401, 10, "a" * 400, 1),
    ("a" * 400, 10, "a" * 400, 0),
    ("a" * 1601, 100, "a" * 1600, 1),
    ("\ud800" * 500, 10, "?" * 400, 2),
])
def test_sanitize(text: str, max_tokens: int, clean: str, notes: int) -> None:
    got, why = sanitize(text, max_tokens)
    assert got == clean
    assert len(why) == notes
    got.encode("utf-8")  # always encodable
