"""Issue 18 in suites: per-agent backends (``backends: [{..., agents: {bob: {name: human}}}]``), human seats
refused on -j > 1 and on Ray, and a person's Ctrl-C stopping the run without storing the episode as done.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import SCENARIO_DIR
from typer.testing import CliRunner

from privy.bench import ResultStore, load_suite, run_bench
from privy.bench.execute import HumanSeatError, SeatInterruptedError
from privy.bench.ray_executor import cell_payload, run_cell
from privy.bench.suite import Grid, SuiteError, expand, load_grid
from privy.cli import app
from privy.simulator import Episode
from privy.simulator.backends import registry
from privy.simulator.backends.human import HumanBackend, SeatInterrupted
from privy.simulator.bus import Message
from privy.simulator.seat import SeatView
from privy.simulator.views import Mindreading, Observation

MUTUAL = SCENARIO_DIR / "mutual_friends.yaml"


def write_suite(path: Path, backends: str, modes: str = "[agents]") -> Path:
    path.write_text(f"name: seats\nscenarios:\n  - path: {MUTUAL}\nmodes: {modes}\nbackends:\n{backends}\nseeds: [0]\n",
                    encoding="utf-8")
    return path


HUMAN_BOB = "  - label: mixed\n    name: scripted\n    agents: {bob: {name: human}}"


class Typed:
    """A seat whose person types the lines of ``lines`` (shared, taken from the front), then presses Ctrl-C."""

    kind = "test"

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.views: list[SeatView] = []
        self.told: list[tuple[str, object]] = []  # what its screen was told as the game went

    async def turn(self, view: SeatView, max_tokens: int) -> str:
        self.views.append(view)
        if not self.lines:
            raise SeatInterrupted()
        return self.lines.pop(0)

    def seated(self, view: SeatView) -> None:
        self.told.append(("seated", type(view).__name__))

    def writing(self, agent: str) -> None:
        self.told.append(("writing", agent))

    def delivered(self, message: Message) -> None:
        self.told.append(("delivered", message.id))


@pytest.fixture
def typed(monkeypatch: pytest.MonkeyPatch) -> list[Typed]:
    """The seats the ``human`` backend builds (each a :class:`Typed` over ``typed[0].lines``, one shared list)."""
    lines: list[str] = []
    seats = [Typed(lines)]

    class TypedHuman(HumanBackend):
        def __init__(self) -> None:
            seats.append(Typed(lines))
            super().__init__(seats[-1])

    monkeypatch.setattr(registry, "_FACTORIES", {"human": TypedHuman})
    return seats


def test_a_per_agent_backend_in_a_suite_plays_that_agent(tmp_path: Path) -> None:
    mock_bob = "agents: {bob: {name: mock, options: {outputs: ['SELECT: Nobody']}}}"
    path = write_suite(tmp_path / "s.suite.yaml", f"  - label: mixed\n    name: scripted\n    {mock_bob}")
    suite, base = load_suite(path)
    with ResultStore(tmp_path / "r.db") as store:
        progress = run_bench(suite, Grid(suite, base), store)
        assert progress.done == 1
        ep = Episode.model_validate_json(store.query("SELECT episode_json FROM episodes")[0][0])
    assert ep.backend["backend"] == "scripted" and ep.backend["per_agent"] == {"bob": {"backend": "mock"}}
    bob = [m.content for m in ep.messages if m.sender == "bob"]
    assert bob and set(bob) == {"SELECT: Nobody"}  # the mock wrote every turn of Bob's
    assert {m.content for m in ep.messages if m.sender == "alice"}.isdisjoint(bob)
    # a Ray worker builds the same seats from the cell's payload
    cell = expand(suite, base)[0]
    result = run_cell(cell_payload(cell, []))
    remote = Episode.model_validate_json(result["episode"])
    assert [m.content for m in remote.messages] == [m.content for m in ep.messages]
    assert remote.backend["per_agent"] == {"bob": {"backend": "mock"}}


def test_a_person_plays_a_seat_of_a_suite(typed: list[Typed], tmp_path: Path) -> None:
    typed[0].lines += ["I know Tess Moreau.", "SELECT: Tess Moreau"]
    suite, base = load_suite(write_suite(tmp_path / "s.suite.yaml", HUMAN_BOB))
    with ResultStore(tmp_path / "r.db") as store:
        assert run_bench(suite, Grid(suite, base), store).done == 1
        ep = Episode.model_validate_json(store.query("SELECT episode_json FROM episodes")[0][0])
    assert ep.backend["per_agent"] == {"bob": {"backend": "human", "human": True, "seat": "test"}}
    assert ep.outcome.ended_by == "committed" and ep.outcome.success
    seat = typed[-1]
    assert all(v.agent.id == "bob" for v in seat.views) and len(seat.views) == 2


def test_a_person_plays_a_suite_seat_in_both_per_agent_modes_told_live(typed: list[Typed], tmp_path: Path) -> None:
    typed[0].lines += ["I know Tess Moreau.", "SELECT: Tess Moreau"] * 2
    suite, base = load_suite(write_suite(tmp_path / "s.suite.yaml", HUMAN_BOB, "[agents, mindreaders]"))
    with ResultStore(tmp_path / "r.db") as store:
        assert run_bench(suite, Grid(suite, base), store).done == 2
        eps = [Episode.model_validate_json(r[0]) for r in store.query("SELECT episode_json FROM episodes")]
    assert sorted(e.mode for e in eps) == ["agents", "mindreaders"]
    seat, = typed[1:]  # one seat for the backend, played in each episode
    assert {type(v) for v in seat.views} == {Observation, Mindreading}
    games: list[list[tuple[str, object]]] = []  # what the seat was told, per episode: seated first
    for event in seat.told:
        if event[0] == "seated":
            games.append([])
        games[-1].append(event)
    assert len(games) == 2
    for told in games:
        ep = next(e for e in eps if (e.mode == "mindreaders") == (told[0][1] == "Mindreading"))
        assert [x for w, x in told if w == "delivered"] == [m.id for m in ep.messages if m.visible_to("bob")]
        assert ("writing", "alice") in told and ("writing", "bob") not in told


def test_ctrl_c_at_a_seat_stops_the_run_and_the_cell_is_played_again_next_time(typed: list[Typed],
                                                                            tmp_path: Path) -> None:
    typed[0].lines += ["I know Tess Moreau."]  # then Ctrl-C
    suite, base = load_suite(write_suite(tmp_path / "s.suite.yaml", HUMAN_BOB))
    with ResultStore(tmp_path / "r.db") as store:
        with pytest.raises(SeatInterruptedError, match="interrupted at the human seat"):
            run_bench(suite, Grid(suite, base), store)
        assert store.done_keys() == set()
        typed[0].lines += ["I know Tess Moreau.", "SELECT: Tess Moreau"]
        assert run_bench(suite, Grid(suite, base), store).done == 1


def test_human_seats_run_one_at_a_time_and_never_on_ray(typed: list[Typed], tmp_path: Path) -> None:
    suite, base = load_suite(write_suite(tmp_path / "s.suite.yaml", HUMAN_BOB))
    with ResultStore(tmp_path / "r.db") as store:
        with pytest.raises(HumanSeatError, match=r"a person plays bob \(backend 'mixed'\): one episode at a time; "
                                                  r"expected -j 1, got -j 2"):
            run_bench(suite, Grid(suite, base), store, jobs=2)
        with pytest.raises(HumanSeatError, match="only with the local executor"):
            run_bench(suite, Grid(suite, base), store, executor="ray")


def test_the_cli_refuses_j2_before_the_store_is_made(tmp_path: Path) -> None:
    suite = write_suite(tmp_path / "s.suite.yaml", HUMAN_BOB)
    result = CliRunner().invoke(app, ["bench", str(suite), "--out", str(tmp_path / "r.db"), "-j", "2"],
                                env={"COLUMNS": "2000"})
    assert result.exit_code == 2, result.output
    assert "one episode at a time; expected -j 1, got -j 2" in result.stderr
    assert not (tmp_path / "r.db").exists()


@pytest.mark.parametrize(("backends", "modes", "expected"), [
    (HUMAN_BOB, "[agents, omniscient]", "s.suite.yaml:4: modes[1]: backend 'scripted', agent 'bob' on 'human' "
                                        "(backends[0], label 'mixed') cannot play mode 'omniscient'; it plays agents, "
                                        "mindreaders"),
    ("  - name: human", "[agents]", "s.suite.yaml:6: backends[0].name: a person plays one agent, not every seat"),
    ("  - name: scripted\n    agents: {bob: {name: nosuch}}", "[agents]",
     "s.suite.yaml:7: backends[0].agents.bob.name: unknown backend 'nosuch'"),
])
def test_a_suite_with_a_seat_it_cannot_play_is_refused(backends: str, modes: str, expected: str,
                                                       tmp_path: Path) -> None:
    path = write_suite(tmp_path / "s.suite.yaml", backends, modes)
    with pytest.raises(SuiteError) as err:
        load_grid(path)
    assert any(str(p).endswith(expected) or expected in str(p) for p in err.value.problems), err.value.problems


def test_the_store_records_which_seats_were_human(typed: list[Typed], tmp_path: Path) -> None:
    typed[0].lines += ["I know Tess Moreau.", "SELECT: Tess Moreau"]
    suite, base = load_suite(write_suite(tmp_path / "s.suite.yaml", HUMAN_BOB))
    with ResultStore(tmp_path / "r.db") as store:
        run_bench(suite, Grid(suite, base), store)
        suite_json = json.loads(store.meta()["suite_json"])
    assert suite_json["backends"][0]["agents"] == {"bob": {"name": "human", "options": {}, "retry": None,
                                                            "cache": None, "max_concurrent": None}}


def test_an_episode_never_seats_two_people(typed: list[Typed], tmp_path: Path) -> None:
    both = "  - label: two\n    name: scripted\n    agents: {alice: {name: human}, bob: {name: human}}"
    suite, base = load_suite(write_suite(tmp_path / "s.suite.yaml", both))
    with ResultStore(tmp_path / "r.db") as store:
        progress = run_bench(suite, Grid(suite, base), store)
        failures = store.query("SELECT error FROM episodes WHERE status != 'done'")
    assert progress.failed == 1 and typed[1:] and all(not s.views for s in typed)
    assert "would seat a person as each of ['alice', 'bob']" in failures[0][0]


def test_the_people_suite_in_the_repository_is_valid() -> None:
    grid = load_grid(SCENARIO_DIR / "suites" / "people.suite.yaml")
    assert grid.suite.human_seats() == [("smollm2+person", "bob"), ("smollm2+person", "ben")]
    cells = list(grid)
    assert len(cells) == 2  # each scenario once
    for c in cells:  # one person in each
        assert len(set(c.scenario.agent_ids) & {"bob", "ben"}) == 1
