"""The episode log, ``privy.episode/2``: each prompt's repeated part is written once.

The compact document must give back exactly the episode that was written, in every mode
and family; ``privy.episode/1`` documents (every input whole) must still be read; a
broken ``input_from`` is an error that names the call.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from privy.scenarios import families
from privy.scenarios.baselines import ScriptedBackend
from privy.simulator import Episode, EpisodeError, load_episode, run_episode
from privy.simulator.backends.base import ChatRequest
from privy.simulator.backends.mock import MockBackend
from privy.simulator.episode import ModelCall
from privy.simulator.modes import RUNNABLE, Mode
from privy.simulator.trusted import trusted

CASES = [(f, m, b) for f in ("mutual_friends", "hidden_profile", "deal_or_no_deal") for m in RUNNABLE
         for b in ("scripted", "chatter")]


def _chatter(req: ChatRequest) -> str:
    """Never commits: the episode runs to its turn limit and prompts grow every turn."""
    return f"Speaking for {req.speaker}: nothing decided yet ({len(req.messages)} lines so far)."


def _episode(family: str, mode: Mode, backend: str = "chatter", seed: int = 0) -> Episode:
    scenario = families.generate(family, 1, seed, {})[0]
    b = ScriptedBackend() if backend == "scripted" else MockBackend(respond=_chatter)
    return asyncio.run(run_episode(scenario, mode, b, seed))


@pytest.mark.parametrize(("family", "mode", "backend"), CASES)
def test_compact_json_gives_back_the_same_episode(family: str, mode: Mode, backend: str) -> None:
    ep = _episode(family, mode, backend)
    doc = ep.to_json()
    back = Episode.model_validate_json(doc)
    assert back == ep
    assert back.model_dump_json() == ep.model_dump_json()
    data = json.loads(doc)
    assert data["format_version"] == "privy.episode/2"
    # every other field exactly as the model's own JSON writes it, in the same order
    same, full = json.loads(doc), json.loads(ep.model_dump_json())
    for c in same["calls"] + full["calls"]:
        c.pop("input_from", None)
        c.pop("input")
    assert same == full and json.dumps(same) == json.dumps(full)
    if mode in (Mode.AGENTS, Mode.MINDREADERS) and len(ep.calls) > len({c.speaker for c in ep.calls}):
        # every later call of a speaker stands on its previous one: the doc is smaller
        assert sum("input_from" in c for c in data["calls"]) >= len(ep.calls) - len(ep.scenario.agents)
        assert len(doc) < len(ep.model_dump_json())


def test_input_from_means_a_prefix_of_the_named_call_plus_the_rest() -> None:
    ep = _episode("mutual_friends", Mode.AGENTS)
    data = json.loads(ep.to_json())
    checked = 0
    for d, call in zip(data["calls"], ep.calls, strict=True):
        if "input_from" in d:
            ref = d["input_from"]
            base = ep.calls[ref["call"]]
            assert base.speaker == call.speaker and base.index < call.index
            whole = [m.model_dump() for m in base.input[:ref["keep"]]] + d["input"]
            assert whole == [m.model_dump() for m in call.input]
            checked += 1
        else:
            assert d["input"] == [m.model_dump() for m in call.input]
    assert checked >= 5


def test_a_version_1_file_is_still_read(tmp_path: Path) -> None:
    ep = _episode("mutual_friends", Mode.AGENTS)
    v1 = json.loads(ep.model_dump_json())  # every input whole, as /1 wrote it
    v1["format_version"] = "privy.episode/1"
    path = tmp_path / "old.json"
    path.write_text(json.dumps(v1), encoding="utf-8")
    assert load_episode(path) == ep


def test_saved_file_is_compact_and_loads_back(tmp_path: Path) -> None:
    ep = _episode("hidden_profile", Mode.AGENTS)
    path = ep.save(tmp_path / "ep.json")
    assert json.loads(path.read_text(encoding="utf-8"))["format_version"] == "privy.episode/2"
    assert load_episode(path) == ep


@pytest.mark.parametrize("ref", [{"call": 99, "keep": 1}, {"call": 0, "keep": 10_000}, {"call": 0}, "0"])
def test_a_broken_input_from_names_the_call(tmp_path: Path, ref: object) -> None:
    ep = _episode("mutual_friends", Mode.AGENTS)
    data = json.loads(ep.to_json())
    data["calls"][3]["input_from"] = ref
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(EpisodeError, match=r"bad\.json: .*calls\[3\]\.input_from: expected"):
        load_episode(path)


def test_trusted_builds_what_validation_builds() -> None:
    ep = _episode("mutual_friends", Mode.AGENTS)
    assert type(ep) is Episode  # the runner builds its Episode with trusted()
    assert Episode.model_validate(ep.model_dump()) == ep
    assert list(ep.model_dump()) == list(Episode.model_fields)  # the model's own field order
    assert ep.model_fields_set == set(Episode.model_fields)
    fields = ep.calls[0].model_dump()
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'output'"):
        trusted(ModelCall, **{k: v for k, v in fields.items() if k != "output"})
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        trusted(ModelCall, **fields, colour="red")
