"""`privy.bench.compare`: scenario files x modes x seeds on the local executor's pool, an episode file each."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from helpers import SCENARIO_DIR

from privy.bench.compare import compare, episode_path
from privy.bench.execute import Progress
from privy.bench.suite import Cell
from privy.scenarios.baselines import ScriptedBackend
from privy.simulator import Mode, load_episode, load_scenario
from privy.simulator.backends.base import ChatRequest, Completion

FILES = [SCENARIO_DIR / "mutual_friends.yaml", SCENARIO_DIR / "hidden_profile.yaml"]


class Slow(ScriptedBackend):
    """The scripted protocol, slowly, counting the episodes in flight (one call at a time per episode)."""

    def __init__(self) -> None:
        self.now = self.peak = 0
        self.speakers: list[str] = []

    async def complete(self, request: ChatRequest) -> Completion:
        self.now += 1
        self.peak = max(self.peak, self.now)
        self.speakers.append(request.speaker or "")
        await asyncio.sleep(0.01)
        self.now -= 1
        return await super().complete(request)


def test_jobs_episodes_run_at_once_and_come_back_in_order(tmp_path: Path) -> None:
    ticks: list[tuple[int, str]] = []

    def tick(p: Progress, cell: Cell, error: str | None) -> None:
        assert error is None and p.total == 8 and p.skipped == 0
        ticks.append((p.done, cell.key))

    backend = Slow()
    eps = compare(FILES, ["agents", Mode.OMNISCIENT], range(2), backend, tmp_path, jobs=3, on_progress=tick)
    assert backend.peak == 3
    expected = [(s, m, seed) for s in ("mutual_friends_demo", "hidden_profile_demo") for m in ("agents", "omniscient")
                for seed in (0, 1)]
    assert [(e.scenario.id, e.mode.value, e.seed) for e in eps] == expected
    assert [d for d, _ in ticks] == list(range(1, 9)) and len({k for _, k in ticks}) == 8
    for ep in eps:
        path = episode_path(tmp_path, ep.scenario.id, ep.mode, "scripted", ep.seed)
        assert path.name == f"{ep.scenario.id}.{ep.mode.value}.scripted.seed{ep.seed}.json"
        assert load_episode(path).messages == ep.messages and ep.scenario_path in map(str, FILES)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{s}.{m}.scripted.seed{seed}.json" for s, m, seed in expected)


def test_the_same_episodes_with_one_job_or_several(tmp_path: Path) -> None:
    one = compare(FILES, ["agents", "mindreaders"], [0], ScriptedBackend(), tmp_path / "one")
    two = compare(FILES, ["agents", "mindreaders"], [0], ScriptedBackend(), tmp_path / "two", jobs=2)
    assert [(e.messages, e.outcome) for e in one] == [(e.messages, e.outcome) for e in two]


def test_agent_backends_write_for_their_agents_where_a_scenario_has_them(tmp_path: Path) -> None:
    default, for_bob = Slow(), Slow()
    scenario = load_scenario(FILES[0])
    assert "bob" in scenario.agent_ids
    eps = compare([(FILES[0], scenario), FILES[1]], ["agents"], [0], default, tmp_path,
                  agent_backends={"bob": for_bob}, jobs=2)
    assert len(eps) == 2 and set(for_bob.speakers) == {"bob"} and "bob" not in default.speakers
    assert eps[0].scenario_path == str(FILES[0])


def test_a_scenario_given_twice_keeps_the_later_file(tmp_path: Path) -> None:
    first = load_scenario(FILES[0])
    later = first.model_copy(update={"title": "the later one"})
    eps = compare([("a.yaml", first), ("b.yaml", later)], ["agents"], [0], Slow(), tmp_path, jobs=2)
    assert [e.scenario.title for e in eps] == [first.title, "the later one"]
    (only,) = tmp_path.iterdir()
    assert load_episode(only).scenario.title == "the later one" and load_episode(only).scenario_path == "b.yaml"


def test_an_existing_episode_file_stops_the_run_before_any_call_unless_forced(tmp_path: Path) -> None:
    existing = episode_path(tmp_path, "mutual_friends_demo", "omniscient", "scripted", 0)
    existing.write_text("precious", encoding="utf-8")
    backend = Slow()
    with pytest.raises(FileExistsError, match=f"{existing}.*force=True"):
        compare(FILES[:1], ["agents", "omniscient"], [0], backend, tmp_path)
    assert backend.speakers == [] and [p.name for p in tmp_path.iterdir()] == [existing.name]
    eps = compare(FILES[:1], ["agents", "omniscient"], [0], backend, tmp_path, force=True)
    assert load_episode(existing).messages == eps[1].messages


def test_two_backends_never_share_a_file(tmp_path: Path) -> None:
    class Other(ScriptedBackend):
        name = "other"

    compare(FILES[:1], ["agents"], [0], ScriptedBackend(), tmp_path)
    compare(FILES[:1], ["agents"], [0], Other(), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "mutual_friends_demo.agents.other.seed0.json", "mutual_friends_demo.agents.scripted.seed0.json"]
