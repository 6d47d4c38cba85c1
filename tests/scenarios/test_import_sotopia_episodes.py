"""``privy import sotopia-episodes``: Sotopia's EpisodeLog records (with the profiles of its Redis dump) and its
episode export become privy scenarios and ``human`` episodes, replayed, with their provenance and no model call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import DATA
from typer.testing import CliRunner

from privy.cli import app
from privy.scenarios import sotopia
from privy.scenarios.importers import ImportInputError, import_files
from privy.scenarios.importers.sotopia_episodes import message_text
from privy.simulator import Mode, load_episode, load_scenario

SOTOPIA = DATA / "sotopia"
DUMP, LOGS, EXPORT = SOTOPIA / "redis_json_data.json", SOTOPIA / "episode_logs.json", SOTOPIA / "episodes.jsonl"
WIDE = {"COLUMNS": "2000"}


def test_episode_logs_become_human_episodes_replayed_from_their_messages() -> None:
    result = import_files("sotopia-episodes", [DUMP, LOGS])
    assert result.skipped == []
    borrow, guitar = result.imported
    for item, pk in ((borrow, "01HA2EP1BORROW000000000001"), (guitar, "01HA2EP2GUITAR000000000002")):
        ep = item.episode
        assert ep.mode is Mode.HUMAN and ep.calls == [] and ep.backend == {"backend": "human"}
        assert ep.source is not None and ep.source.format == "sotopia-episodes"
        assert ep.source.file == str(LOGS) and ep.source.record == pk
    ep = borrow.episode
    # only the agents' actions, in Sotopia's order: "did nothing" dropped, speech unquoted, leaving is LEAVE: done
    assert [(m.sender, m.content) for m in ep.messages] == [
        ("priya", "Mia, could you lend me 300 dollars? The car repair wiped me out."),
        ("mia", "I can't spare that much right now, but I could drive you to work this week."),
        ("priya", "That would help. Agreed."),
        ("mia", "[non-verbal communication] smiles and nods"),
        ("priya", "LEAVE: done"),
        ("mia", "LEAVE: done"),
    ]
    assert ep.messages[0].recipients == {"mia"}
    # the outcome is privy's task rules on the messages (both left), not Sotopia's rewards
    assert ep.outcome.ended_by == "committed" and ep.outcome.success
    g = guitar.episode
    assert g.messages[2].content == "[action] hands over the guitar for a closer look"
    assert g.outcome.ended_by == "transcript_end" and not g.outcome.success  # only Priya left
    assert any("gpt-3.5-turbo" in n and "mode human" in n for n in result.notes)


def test_sotopias_rewards_are_kept_as_the_sources_own_scores() -> None:
    """EpisodeLog's rewards, (overall, {dimension: score}) per agent in its order, and its reasoning,
    are provenance in source.scores; privy's evaluators never read them."""
    borrow, guitar = import_files("sotopia-episodes", [DUMP, LOGS]).imported
    scores = borrow.episode.source.scores if borrow.episode.source else None
    assert scores is not None and scores.by == "Sotopia" and scores.reasoning == "Both agents were polite."
    assert [(s.agent, s.overall, s.dimensions) for s in scores.scores] == [
        ("priya", 3.2, {"goal": 5.0, "believability": 9.0}), ("mia", 3.5, {"goal": 7.0, "believability": 9.0})]
    assert [a.id for a in borrow.scenario.agents] == ["priya", "mia"]  # the record's order: agents[0] is Priya
    # the episode export: a dict of dimensions per agent; an empty list is no scores
    present, dog = import_files("sotopia-episodes", [EXPORT]).imported
    exported = present.episode.source.scores if present.episode.source else None
    assert exported is not None and [(s.agent, s.overall, s.dimensions) for s in exported.scores] == [
        ("lena", None, {"goal": 7.0}), ("tom", None, {"goal": 5.0})]
    assert dog.episode.source is not None and dog.episode.source.scores is None
    # written and read back; an episode without scores is written without the field
    ep = borrow.episode
    assert type(ep).model_validate_json(ep.model_dump_json()) == ep
    assert "scores" not in json.loads(dog.episode.model_dump_json())["source"]


def test_privy_evaluate_does_not_read_the_sources_scores(tmp_path: Path) -> None:
    import asyncio

    from privy import evaluators

    borrow = import_files("sotopia-episodes", [DUMP, LOGS]).imported[0].episode
    assert borrow.source is not None
    bare = borrow.model_copy(update={"source": borrow.source.model_copy(update={"scores": None})})
    assert asyncio.run(evaluators.evaluate(borrow)) == asyncio.run(evaluators.evaluate(bare))


def test_privy_show_prints_the_sources_scores_labelled_as_such(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert CliRunner().invoke(app, ["import", "sotopia-episodes", str(DUMP), str(LOGS), "--out", str(out)],
                              env=WIDE).exit_code == 0
    shown = CliRunner().invoke(app, ["show", str(out / "episodes" / "sotopia_borrow_money_q3gs4b.human.json")],
                               env=WIDE)
    assert shown.exit_code == 0, shown.output
    text = shown.stdout
    assert "Sotopia's own scores (from the source file, not privy's evaluators)" in text
    assert "Priya Natarajan: overall 3.2; goal 5, believability 9" in text
    assert "Mia Sanchez: overall 3.5; goal 7, believability 9" in text
    assert "reasoning: Both agents were polite." in text
    assert "record 01HA2EP1BORROW000000000001" in text


@pytest.mark.parametrize(("rewards", "expected"), [
    ([1.0], "[0].rewards: expected a list of 2 rewards, one per agent"),
    ([1.0, "high"], "[0].rewards[1]: expected a number, [overall, {dimension: score}] or {dimension: score}"),
    ([[1.0, {"goal": "7"}], 2.0], "[0].rewards[0].goal: expected a number, got '7'"),
])
def test_bad_rewards_name_the_field(rewards: Any, expected: str, tmp_path: Path) -> None:
    path = _bad_logs(tmp_path, lambda d: d[0].update(rewards=rewards))
    with pytest.raises(ImportInputError) as err:
        import_files("sotopia-episodes", [DUMP, path])
    assert str(err.value).startswith(f"{path}: {expected}")


def test_the_scenario_is_the_one_import_sotopia_makes_of_the_same_combo() -> None:
    borrow, guitar = import_files("sotopia-episodes", [DUMP, LOGS]).imported
    made = {s.id: s for s in sotopia.import_file(DUMP)}
    assert borrow.scenario == made["sotopia_borrow_money_q3gs4b"]  # same id (the codename repeats), same facts
    assert guitar.scenario == made["sotopia_guitar_sale"]
    assert borrow.scenario.source["combo_pk"] == "01H7ZDKF2JRW0XNVPT0ZQ3GS4B"
    assert borrow.scenario.source["environment_pk"] == "01H7VFHN5WVC5HKKVBHZBA553R"


def test_logs_inside_the_dump_are_imported_too(tmp_path: Path) -> None:
    dump = json.loads(DUMP.read_text())
    for log in json.loads(LOGS.read_text()):
        dump[f":sotopia.database.logs.EpisodeLog:{log['pk']}"] = log
    path = tmp_path / "redis_json_data.json"
    path.write_text(json.dumps(dump))
    result = import_files("sotopia-episodes", [path])
    assert sorted(i.episode.source.record for i in result.imported if i.episode.source) == [
        "01HA2EP1BORROW000000000001", "01HA2EP2GUITAR000000000002"]


def test_an_episode_whose_profiles_are_missing_is_skipped_with_the_reason() -> None:
    result = import_files("sotopia-episodes", [LOGS])
    assert result.imported == []
    assert [s.record for s in result.skipped] == ["01HA2EP1BORROW000000000001", "01HA2EP2GUITAR000000000002"]
    assert "are in none of the input files" in result.skipped[0].reason


@pytest.mark.parametrize(("message", "text"), [
    ('said: "Hello there."', "Hello there."),
    ("did nothing", None),
    ("left the conversation", "LEAVE: done"),
    ("[action] waves", "[action] waves"),
    ("[non-verbal communication] smiles", "[non-verbal communication] smiles"),
])
def test_sotopia_actions_become_messages(message: str, text: str | None) -> None:
    assert message_text(message) == text


def _bad_logs(tmp_path: Path, edit: Any) -> Path:
    logs = json.loads(LOGS.read_text())
    edit(logs)
    path = tmp_path / "logs.json"
    path.write_text(json.dumps(logs))
    return path


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda d: d[0]["messages"][1].__setitem__(2, ["Priya Natarajan", "Environment"]),
     "[0].messages[1][2]: expected [sender, receiver, message] (three strings)"),
    (lambda d: d[0]["messages"][1].__setitem__(2, ["Eve Moss", "Environment", "said: \"hi\""]),
     "[0].messages[1][2]: unknown sender 'Eve Moss'; expected one of ['Mia Sanchez', 'Priya Natarajan']"),
    (lambda d: d[1].update(messages="hello"), "[1].messages: expected a list of turns"),
])
def test_bad_episode_logs_name_the_file_and_the_field(edit: Any, expected: str, tmp_path: Path) -> None:
    path = _bad_logs(tmp_path, edit)
    with pytest.raises(ImportInputError) as err:
        import_files("sotopia-episodes", [DUMP, path])
    assert str(err.value).startswith(f"{path}: {expected}")


def test_a_file_without_episodes_is_bad_input() -> None:
    with pytest.raises(ImportInputError, match=r"expected Sotopia episodes"):
        import_files("sotopia-episodes", [DUMP])


def test_the_episode_export_reads_its_social_interactions(tmp_path: Path) -> None:
    rec = json.loads(EXPORT.read_text().splitlines()[0])
    rec["social_interactions"] = ('Lena Fischer said: "Shall we talk about the meeting?"\n\nTurn #1\n'
                                  'Tom Becker said: "Sure.\nI have notes."\nTom Becker: [action] opens a laptop\n\n'
                                  "Lena Fischer: left the conversation")
    path = tmp_path / "episodes.jsonl"
    path.write_text(json.dumps(rec) + "\n" + EXPORT.read_text().splitlines()[1] + "\n")
    first, second = import_files("sotopia-episodes", [path]).imported
    assert first.scenario.id == "sotopia_present_project"
    assert [(m.sender, m.content) for m in first.episode.messages] == [
        ("lena", "Shall we talk about the meeting?"), ("tom", "Sure.\nI have notes."),
        ("tom", "[action] opens a laptop"), ("lena", "LEAVE: done")]
    assert first.episode.source is not None and first.episode.source.record == "01H9GRQ8Y1M2X5C6V7B8N9K0JA"
    assert second.episode.messages == []


def test_cli_writes_scenarios_and_episodes_that_load(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["import", "sotopia-episodes", str(DUMP), str(LOGS), "--out", str(out)],
                                env=WIDE)
    assert result.exit_code == 0, result.output
    assert "2 dialogue(s) imported, 0 skipped" in result.stdout
    assert sorted(p.name for p in (out / "episodes").iterdir()) == [
        "sotopia_borrow_money_q3gs4b.human.json", "sotopia_guitar_sale.human.json"]
    ep = load_episode(out / "episodes" / "sotopia_borrow_money_q3gs4b.human.json")
    assert ep.mode is Mode.HUMAN
    assert ep.scenario == load_scenario(out / "scenarios" / "sotopia_borrow_money_q3gs4b.yaml")
    assert ep.scenario.source["agent_pks"] == "01H5TNE5PBXGRD41HXQC1ZXHVN,01H5TNE5PAZABGW79HJ07TACCZ"
    evaluated = CliRunner().invoke(app, ["evaluate", str(out / "episodes" / "sotopia_borrow_money_q3gs4b.human.json")],
                                   env=WIDE)
    assert evaluated.exit_code == 0, evaluated.output


def test_cli_bad_log_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    path = _bad_logs(tmp_path, lambda d: d[0].update(agents="nope"))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["import", "sotopia-episodes", str(DUMP), str(path), "--out", str(out)],
                                env=WIDE)
    assert result.exit_code == 2
    assert f"{path}: [0].agents: expected a list of agent pks" in result.stderr
    assert not out.exists()


def test_a_file_that_is_not_json_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "logs.json"
    path.write_text("{not json")
    with pytest.raises(ImportInputError) as err:
        import_files("sotopia-episodes", [DUMP, path])
    assert str(err.value).startswith(f"{path}: (file): not JSON (line 1 column 2")
