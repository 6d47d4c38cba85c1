"""Import from Sotopia: environment and agent profiles in their JSON forms become valid
privy scenarios, with goals and secrets as private facts; bad files fail with the file
and the field named; ``privy scenarios import-sotopia`` writes files ``privy validate``
accepts."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import DATA
from typer.testing import CliRunner

from privy.cli import app
from privy.scenarios import families, sotopia
from privy.simulator import PrivyEnv, Scenario, load_scenario, run_episode
from privy.simulator.backends.mock import MockBackend

SOTOPIA = DATA / "sotopia"
BUNDLE, EPISODES, EMBEDDED = SOTOPIA / "bundle.json", SOTOPIA / "episodes.jsonl", SOTOPIA / "embedded.json"
WIDE = {"COLUMNS": "2000"}


def by_id(scenarios: list[Scenario]) -> dict[str, Scenario]:
    return {s.id: s for s in scenarios}


@pytest.mark.parametrize("path", [BUNDLE, EPISODES, EMBEDDED], ids=lambda p: p.name)
def test_import_gives_valid_scenarios_that_round_trip(path: Path, tmp_path: Path) -> None:
    scenarios = sotopia.import_file(path)
    assert scenarios
    for file, s in zip(families.write(scenarios, tmp_path), scenarios, strict=True):
        assert load_scenario(file) == s
        assert s.family == "sotopia"
        assert len(s.agents) == 2
        t = s.task
        assert (t.kind, t.commitment.verb, t.answer, t.committers, t.ends_when) == (
            "answer", "LEAVE", "done", [], "all_committed")
        assert "LEAVE: done" in s.context


def test_bundle_pairs_by_combos_then_first_agents() -> None:
    s = by_id(sotopia.import_file(BUNDLE))
    assert sorted(s) == ["sotopia_borrow_money", "sotopia_borrow_money_2", "sotopia_shared_flat_noise"]
    assert [a.name for a in s["sotopia_borrow_money"].agents] == ["Priya Natarajan", "Mia Sanchez"]  # combo 0
    assert [a.name for a in s["sotopia_borrow_money_2"].agents] == ["Samuel Okoro", "Oliver Grant"]  # combo 1
    assert [a.name for a in s["sotopia_shared_flat_noise"].agents] == ["Mia Sanchez", "Oliver Grant"]  # no combo
    assert s["sotopia_borrow_money"].title == "Sotopia: borrow money"


def test_goals_and_secrets_are_private_facts_of_the_right_agent() -> None:
    s = by_id(sotopia.import_file(BUNDLE))["sotopia_borrow_money"]
    priya, mia = s.agent("priya"), s.agent("mia")
    facts = {f.id: f for f in s.facts}
    assert set(facts) == {"priya_goal", "priya_secret", "mia_goal", "mia_secret"}
    for aid in ("priya", "mia"):
        assert facts[f"{aid}_goal"].holders == [aid] and facts[f"{aid}_secret"].holders == [aid]
        assert facts[f"{aid}_goal"].mentions and facts[f"{aid}_secret"].mentions
    assert "gambling debt" in facts["priya_secret"].text
    assert "nursing position in Auckland" in facts["mia_secret"].text
    # the goal keeps the content of Sotopia's hint markup, without the tags
    assert priya.goal.startswith("Borrow 300 dollars from your friend")
    assert "missed one credit card payment" in priya.goal and "<" not in priya.goal
    assert "(Hint: you can offer help other than money.)" in mia.goal
    assert facts["priya_goal"].text.endswith(priya.goal)
    # secrets, goals and personalities are not public; names and public profiles are
    for private in ("gambling", "Auckland", "300 dollars", "hates to ask for help"):
        assert private not in s.context
    assert "Priya designs public libraries" in s.context and "Mia Sanchez is a 31-year-old female nurse" in s.context
    # the mentions detect the secret when said, and not in the public context
    assert facts["mia_secret"].mentioned_in("by the way, I applied for a job in Auckland, a nursing position")
    assert facts["priya_secret"].mentioned_in("My gambling has become a problem and my family doesn't know.")
    assert not any(f.mentioned_in(s.context) for f in s.facts)
    # in the environment each agent observes its own facts only
    env = PrivyEnv(s)
    for me, other in (("priya", "mia"), ("mia", "priya")):
        dumped = env.observe(me).model_dump_json()
        for f in s.facts_of(other):
            assert f.text not in dumped and f'"{f.id}"' not in dumped


def test_relationship_appears_in_words() -> None:
    s = by_id(sotopia.import_file(BUNDLE))
    assert "Priya Natarajan and Mia Sanchez are friends." in s["sotopia_borrow_money"].context
    assert "Mia Sanchez and Oliver Grant are family members." in s["sotopia_shared_flat_noise"].context
    (camera,) = sotopia.import_file(EMBEDDED)
    assert "Hana Sato and Jonas Berg are acquaintances." in camera.context


@pytest.mark.parametrize(("value", "name"), [
    (0, "stranger"), (1, "know_by_name"), ("2", "acquaintance"), (3, "friend"), ("romantic_relationship",
     "romantic_relationship"), ("RelationshipType.family_member", "family_member"), (None, "stranger"),
])
def test_relationship_forms(value: Any, name: str) -> None:
    assert sotopia.relationship_name("relationship", value) == name


def test_episode_export_reads_secrets_from_the_background() -> None:
    s = by_id(sotopia.import_file(EPISODES))
    project = s["sotopia_present_project"]
    assert [a.id for a in project.agents] == ["lena", "tom"]
    facts = {f.id: f for f in project.facts}
    assert facts["lena_secret"].text == "Your secret: She is about to accept an offer from a competitor"
    assert facts["tom_secret"].holders == ["tom"]
    assert "competitor" not in project.context and "terrified" not in project.context
    assert "Tom built most of the project's dashboards." in project.context
    assert project.agent("lena").goal == ("Convince your colleague to let you present (Extra information: a strong "
                                          "talk would help your next career move.)")
    assert "Ravi Shah" in s["sotopia_barking_dog"].context


def test_clean_goal_keeps_the_content_of_the_markup() -> None:
    raw = ("Sell the bike<extra_info>Extra information: it has a bent frame.</extra_info> "
           "<strategy_hint>Hint: be friendly.</strategy_hint><p>")
    assert sotopia.clean_goal(raw) == "Sell the bike (Extra information: it has a bent frame.) (Hint: be friendly.)"


def test_a_conversation_ends_when_both_agents_leave() -> None:
    s = sotopia.import_file(EMBEDDED)[0]
    ep = asyncio.run(run_episode(s, "agents", MockBackend(["Hi.", "Hello.", "Bye.\nLEAVE: done", "LEAVE: done"])))
    assert ep.outcome.ended_by == "committed" and ep.outcome.success and ep.outcome.turns == 4


# --------------------------------------------------------------------------- bad input


def _bundle() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(BUNDLE.read_text())
    return copy.deepcopy(data)


def _broken(tmp_path: Path, edit: Any) -> Path:
    data = _bundle()
    edit(data)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data))
    return path


BAD: dict[str, tuple[Any, str]] = {
    "missing goals": (lambda d: d["environments"][1].pop("agent_goals"),
                      r"environments\[1\]\.agent_goals: required field is missing"),
    "goals not a list": (lambda d: d["environments"][0].update(agent_goals="be nice"),
                         r"environments\[0\]\.agent_goals: expected a list of strings, got a string"),
    "missing scenario": (lambda d: d["environments"][0].pop("scenario"),
                         r"environments\[0\]\.scenario: required field is missing"),
    "unknown agent pk": (lambda d: d["combos"][0]["agent_ids"].__setitem__(1, "01NOPE"),
                         r"combos\[0\]\.agent_ids\[1\]: unknown agent pk '01NOPE'"),
    "unknown env pk": (lambda d: d["combos"][1].update(env_id="01NOENV"),
                       r"combos\[1\]\.env_id: unknown environment pk '01NOENV'"),
    "missing first name": (lambda d: d["agents"][2].pop("first_name"),
                           r"agents\[2\]\.first_name: required field is missing"),
    "bad relationship": (lambda d: d["environments"][0].update(relationship=9),
                         r"environments\[0\]\.relationship: unknown relationship 9"),
    "no agents": (lambda d: d.pop("agents"), r"agents: required field is missing"),
    "wrong goal count": (lambda d: d["environments"][0]["agent_goals"].append("a third goal"),
                         r"environments\[0\]\.agent_goals: 3 goals but 2 agents are paired"),
    "too few agents": (lambda d: d.update(agents=d["agents"][:1], combos=[]),
                       r"environments\[0\]\.agent_goals: 2 goals but the file has 1 agent profile"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_bundles_name_the_file_and_the_field(case: str, tmp_path: Path) -> None:
    edit, pattern = BAD[case]
    path = _broken(tmp_path, edit)
    with pytest.raises(sotopia.SotopiaError, match=pattern) as info:
        sotopia.import_file(path)
    assert str(info.value).startswith(f"{path}: ")


@pytest.mark.parametrize(("content", "pattern"), [
    ("{not json", r"not JSON \(line 1 column 2"),
    ('{"a": 1}\n{oops\n', r"not JSON or JSON Lines \(line 2 column 2"),
    ("42", r"\(top level\): expected an object or a list of records, got a number"),
    ('[{"hello": "world"}]', r"\[0\]: not a Sotopia record"),
    ('[{"environment": {"codename": "x", "scenario": "s", "agent_goals": ["a", "b"]}, "agents": [{"age": 3}, {}]}]',
     r"\[0\]\.agents\[0\]\.first_name: required field is missing"),
])
def test_bad_files_name_the_file_and_the_place(content: str, pattern: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(sotopia.SotopiaError, match=pattern) as info:
        sotopia.import_file(path)
    assert str(info.value).startswith(f"{path}: ")


def test_missing_file_is_a_sotopia_error(tmp_path: Path) -> None:
    with pytest.raises(sotopia.SotopiaError, match="cannot read the file"):
        sotopia.import_file(tmp_path / "absent.json")


# --------------------------------------------------------------------------- command line


def test_cli_imports_and_the_output_validates(tmp_path: Path) -> None:
    out = tmp_path / "imported"
    runner = CliRunner()
    result = runner.invoke(app, ["scenarios", "import-sotopia", str(BUNDLE), "--out", str(out)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "3 scenarios written" in result.stdout
    assert sorted(p.name for p in out.glob("*.yaml")) == [
        "sotopia_borrow_money.yaml", "sotopia_borrow_money_2.yaml", "sotopia_shared_flat_noise.yaml"]
    result = runner.invoke(app, ["validate", str(out)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "all valid" in result.stdout


def test_cli_reports_a_bad_file(tmp_path: Path) -> None:
    path = _broken(tmp_path, lambda d: d["combos"][0]["agent_ids"].__setitem__(0, "01NOPE"))
    result = CliRunner().invoke(app, ["scenarios", "import-sotopia", str(path), "--out", str(tmp_path / "o")],
                                env=WIDE)
    assert result.exit_code == 2
    assert "combos[0].agent_ids[0]: unknown agent pk '01NOPE'" in result.stderr
    assert str(path) in result.stderr
    assert not (tmp_path / "o").exists()
