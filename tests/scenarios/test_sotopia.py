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
from privy.simulator.scenario import Mention

SOTOPIA = DATA / "sotopia"
BUNDLE, EPISODES, EMBEDDED = SOTOPIA / "bundle.json", SOTOPIA / "episodes.jsonl", SOTOPIA / "embedded.json"
DUMP = SOTOPIA / "redis_json_data.json"  # Sotopia's Redis dump, in its exact shape
WIDE = {"COLUMNS": "2000"}


def by_id(scenarios: list[Scenario]) -> dict[str, Scenario]:
    return {s.id: s for s in scenarios}


@pytest.mark.parametrize("path", [DUMP, BUNDLE, EPISODES, EMBEDDED], ids=lambda p: p.name)
def test_import_gives_valid_scenarios_that_round_trip(path: Path, tmp_path: Path) -> None:
    scenarios = sotopia.import_file(path, pair_unmatched=True)
    assert scenarios
    for file, s in zip(families.write(scenarios, tmp_path), scenarios, strict=True):
        assert load_scenario(file) == s
        assert s.family == "sotopia"
        assert len(s.agents) == 2
        t = s.task
        assert (t.kind, t.commitment.verb, t.answer, t.committers, t.ends_when) == (
            "answer", "LEAVE", "done", [], "all_committed")
        assert "LEAVE: done" in s.context
        assert s.source["format"] == "sotopia"


def test_bundle_pairs_by_combos_only() -> None:
    result = sotopia.read(BUNDLE)
    s = by_id(result.scenarios)
    # the codename repeats: each scenario gets the end of its combo's pk
    assert sorted(s) == ["sotopia_borrow_money_3qk9te", "sotopia_borrow_money_q3gs4b"]
    assert [a.name for a in s["sotopia_borrow_money_q3gs4b"].agents] == ["Priya Natarajan", "Mia Sanchez"]
    assert [a.name for a in s["sotopia_borrow_money_3qk9te"].agents] == ["Samuel Okoro", "Oliver Grant"]
    assert s["sotopia_borrow_money_q3gs4b"].title == "Sotopia: borrow money"
    # the environment without a combo is not paired with the file's first agents: it is reported
    (skip,) = result.skipped
    assert "shared_flat_noise" in skip and "no EnvAgentComboStorage" in skip


def test_goals_and_secrets_are_private_facts_of_the_right_agent() -> None:
    s = by_id(sotopia.import_file(BUNDLE))["sotopia_borrow_money_q3gs4b"]
    priya, mia = s.agent("priya"), s.agent("mia")
    facts = {f.id: f for f in s.facts}
    assert set(facts) == {f"{a}_{k}" for a in ("priya", "mia") for k in ("profile", "personality", "goal", "secret")}
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
    # secrets, goals and profiles are not public; names are
    for private in ("gambling", "Auckland", "300 dollars", "hates to ask for help", "designs public libraries"):
        assert private not in s.context
    assert "Participants: Priya Natarajan and Mia Sanchez." in s.context
    assert facts["mia_profile"].text.startswith("Mia Sanchez is a 31-year-old female nurse. She/her pronouns.")
    # the mentions detect the secret when said, and not in the public context
    assert facts["mia_secret"].mentioned_in("by the way, I applied for a position in Auckland, a nursing job")
    assert facts["priya_secret"].mentioned_in("My gambling has become a problem and my family doesn't know.")
    assert not any(f.mentioned_in(s.context) for f in s.facts)
    # in the environment each agent observes its own facts only
    env = PrivyEnv(s)
    for me, other in (("priya", "mia"), ("mia", "priya")):
        dumped = env.observe(me).model_dump_json()
        for f in s.facts_of(other):
            if me not in f.holders:
                assert f.text not in dumped and f'"{f.id}"' not in dumped


def test_relationship_appears_in_words() -> None:
    s = by_id(sotopia.import_file(DUMP, pair_unmatched=True))
    assert "Priya Natarajan and Mia Sanchez are friends." in s["sotopia_borrow_money_q3gs4b"].context
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
    assert facts["lena_secret"].text == "Your secret: She is about to accept an offer from a competitor."
    assert facts["tom_secret"].holders == ["tom"]
    assert "competitor" not in project.context and "terrified" not in project.context
    # no relationship in the export: Sotopia's default, strangers, who see only each other's names
    assert facts["tom_profile"].text == ("Tom Becker is a 26-year-old male data analyst. He/him pronouns. "
                                         "Tom built most of the project's dashboards.")
    assert facts["tom_profile"].holders == ["tom"]
    assert facts["lena_personality"].text == "Lena Fischer's personality and values: Lena is driven and direct."
    assert project.source == {"format": "sotopia", "episode_pk": "01H9GRQ8Y1M2X5C6V7B8N9K0JA"}
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
    "bad age constraint": (lambda d: d["environments"][1].update(age_constraint="from 18"),
                           r"environments\[1\]\.age_constraint: expected age ranges"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_bundles_name_the_file_and_the_field(case: str, tmp_path: Path) -> None:
    edit, pattern = BAD[case]
    path = _broken(tmp_path, edit)
    with pytest.raises(sotopia.SotopiaError, match=pattern) as info:
        sotopia.import_file(path, pair_unmatched=True)
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
    assert "2 scenarios written" in result.stdout
    assert sorted(p.name for p in out.glob("*.yaml")) == [
        "sotopia_borrow_money_3qk9te.yaml", "sotopia_borrow_money_q3gs4b.yaml"]
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


# --------------------------------------------------------------------------- the Redis dump

P = ":sotopia.database.persistent_profile."
ENV_BORROW, ENV_BUS, ENV_GUITAR, ENV_FLAT = ("01H7VFHN5WVC5HKKVBHZBA553R", "01H7VFHN9A4XK2B7C5D8E1F3G6",
                                             "01H7VFHNB2C4D6E8F0G1H3J5K7", "01H7VFHNN7XTR99319DS8KZCQM")
PRIYA, MIA, SAMUEL, OLIVER, KOFI = ("01H5TNE5PBXGRD41HXQC1ZXHVN", "01H5TNE5PAZABGW79HJ07TACCZ",
                                    "01H5TNE5Q1J7Z8H2M9X4D6C3BA", "01H5TNE5P7RVY0TYX8VTCXABR6",
                                    "01H5TNE5R3K8W2N5V7Y1Z4T6QE")


def _dump(tmp_path: Path, edit: Any = None) -> Path:
    data: dict[str, Any] = json.loads(DUMP.read_text())
    if edit is not None:
        edit(data)
    path = tmp_path / "redis_json_data.json"
    path.write_text(json.dumps(data))
    return path


def test_the_redis_dump_is_read_as_it_is() -> None:
    data = json.loads(DUMP.read_text())
    assert all(k.startswith(":sotopia.database.") for k in data)  # the fixture is keyed like the real dump
    result = sotopia.read(DUMP)
    assert [s.id for s in result.scenarios] == [
        "sotopia_borrow_money_q3gs4b", "sotopia_borrow_money_w5x7y9", "sotopia_guitar_sale"]
    # the stray records are skipped and counted by kind
    assert result.unknown == {"AnnotationForEpisode": 1, "NonStreamingSimulationStatus": 1}
    (skip,) = result.skipped
    assert skip.startswith(f"{P}EnvironmentProfile:{ENV_FLAT} (shared_flat_noise): no EnvAgentComboStorage")


def test_dump_keys_with_any_prefix_values_as_json_text_and_strays_of_known_classes(tmp_path: Path) -> None:
    data: dict[str, Any] = json.loads(DUMP.read_text())
    redone: dict[str, Any] = {}
    for k, v in data.items():  # another global prefix, and values stored as JSON text
        redone[":1" + k] = json.dumps(v)
    redone[":1:sotopia.database.persistent_profile.AgentProfile:01BROKEN"] = {"pk": "01BROKEN", "age": 3}
    redone[":1:sotopia.database.persistent_profile.AgentProfile:index:hash"] = "x"
    redone[":1:sotopia.database.logs.EpisodeLog:01EP"] = {"environment": ENV_BORROW, "agents": [PRIYA, MIA],
                                                          "messages": [], "rewards": [1.0, 1.0]}
    path = tmp_path / "dump.json"
    path.write_text(json.dumps(redone))
    result = sotopia.read(path)
    assert len(result.scenarios) == 3
    assert result.unknown == {"(not a Redis model key)": 1, "AgentProfile (without its fields)": 1,
                              "AnnotationForEpisode": 1, "EpisodeLog": 1, "NonStreamingSimulationStatus": 1}


def test_no_pairing_is_invented_and_pair_unmatched_checks_the_constraints() -> None:
    assert "sotopia_shared_flat_noise" not in by_id(sotopia.import_file(DUMP))
    flat = by_id(sotopia.import_file(DUMP, pair_unmatched=True))["sotopia_shared_flat_noise"]
    # the first family RelationshipProfile (Samuel, 52, and Oliver) breaks the age constraint [(18, 40), (18, 40)];
    # the second (Mia, 31, and Oliver, 28) fits; the file's first two agents (Priya, Mia) are not siblings
    assert [a.name for a in flat.agents] == ["Mia Sanchez", "Oliver Grant"]
    assert flat.source["relationship_pk"] == "01H8RELA2MIAOLI0000000000B"
    assert flat.source["agent_pks"] == f"{MIA},{OLIVER}"


@pytest.mark.parametrize(("constraint", "value", "paired"), [
    ("age_constraint", "[(60, 70), (60, 70)]", False),
    ("age_constraint", "[(18, 70), (18, 70)]", True),
    ("occupation_constraint", "[['Nurse'], ['Chef']]", False),
    ("occupation_constraint", "[['nurse'], ['software engineer']]", True),
    ("agent_constraint", [[SAMUEL], [OLIVER]], False),  # Samuel's pair breaks the age constraint
    ("relationship", 4, False),  # no romantic RelationshipProfile in the file
])
def test_pair_unmatched_pairs_only_what_fits(constraint: str, value: Any, paired: bool, tmp_path: Path) -> None:
    path = _dump(tmp_path, lambda d: d[f"{P}EnvironmentProfile:{ENV_FLAT}"].update({constraint: value}))
    result = sotopia.read(path, pair_unmatched=True)
    assert ("sotopia_shared_flat_noise" in by_id(result.scenarios)) == paired
    if not paired:
        (skip,) = result.skipped
        assert "shared_flat_noise" in skip and "no RelationshipProfile of level" in skip and "not paired" in skip


def test_every_pk_is_kept_and_ids_never_collide() -> None:
    scenarios = sotopia.import_file(DUMP, pair_unmatched=True)
    s = by_id(scenarios)
    assert len(s) == len(scenarios) == 4
    assert s["sotopia_borrow_money_q3gs4b"].source == {
        "format": "sotopia", "environment_pk": ENV_BORROW, "agent_pks": f"{PRIYA},{MIA}",
        "combo_pk": "01H7ZDKF2JRW0XNVPT0ZQ3GS4B"}
    assert s["sotopia_borrow_money_w5x7y9"].source["environment_pk"] == ENV_BUS
    assert s["sotopia_guitar_sale"].source["combo_pk"] == "01H7ZDKF6A1B3C5D7E9F2G4H6J"
    # deterministic: the same file gives the same ids
    assert [x.id for x in sotopia.import_file(DUMP, pair_unmatched=True)] == [x.id for x in scenarios]


SEES = {  # Sotopia's get_bio (sotopia/envs/parallel.py): what the other agent is shown, by relationship
    0: (False, False), 1: (False, False), 2: (True, False), 3: (True, True), 4: (True, True), 5: (True, True),
}


@pytest.mark.parametrize("level", sorted(SEES))
def test_each_agent_knows_what_sotopia_shows_at_each_relationship_level(level: int, tmp_path: Path) -> None:
    path = _dump(tmp_path, lambda d: d[f"{P}EnvironmentProfile:{ENV_BORROW}"].update(relationship=level))
    s = by_id(sotopia.import_file(path))["sotopia_borrow_money_q3gs4b"]
    sees_profile, sees_personality = SEES[level]
    facts = {f.id: f for f in s.facts}
    for me, other in (("priya", "mia"), ("mia", "priya")):
        assert (me in facts[f"{other}_profile"].holders) == sees_profile
        assert (me in facts[f"{other}_personality"].holders) == sees_personality
        assert facts[f"{other}_secret"].holders == [other]  # never shown
        assert facts[f"{other}_goal"].holders == [other]
        assert s.agent(other).name in s.context  # names always ("Participants: ...")
        seen = PrivyEnv(s).observe(me).model_dump_json()
        assert ("31-year-old female nurse" in seen) == (me == "mia" or sees_profile)
        assert ("weighs other people" in seen) == (me == "mia" or sees_personality)
        assert "Auckland" not in seen or me == "mia"
    assert s.agents[0].persona == s.agents[1].persona == ""


def test_detection_phrases_never_match_what_the_other_side_legitimately_has() -> None:
    scenarios = [*sotopia.import_file(DUMP, pair_unmatched=True), *sotopia.import_file(BUNDLE),
                 *sotopia.import_file(EPISODES), *sotopia.import_file(EMBEDDED)]
    for s in scenarios:
        assert sotopia.false_disclosures(s) == [], s.id
        for f in s.facts:
            if f.id.endswith(("_goal", "_secret")):
                assert f.mentions, (s.id, f.id)  # still detectable
    guitar = by_id(scenarios)["sotopia_guitar_sale"]
    # both goals speak of "the vintage guitar" and of a cracked neck: a phrase from them would fire on the buyer
    assert "vintage guitar" in guitar.agent("priya").goal and "cracked neck" in guitar.agent("priya").goal
    facts = {f.id: f for f in guitar.facts}
    assert facts["kofi_goal"].mentioned_in("I glued it last winter, to be honest")
    assert not facts["kofi_goal"].mentioned_in("Is the vintage guitar's cracked neck a problem?")
    naive = guitar.model_copy(update={"facts": [
        f.model_copy(update={"mentions": [Mention(literal="vintage guitar"), Mention(literal="cracked neck")]})
        if f.id == "kofi_goal" else f for f in guitar.facts]})
    assert ("kofi_goal", "priya") in sotopia.false_disclosures(naive)
    cleaned = sotopia.safe_mentions(naive)
    assert sotopia.false_disclosures(cleaned) == [] and cleaned.fact("kofi_goal").mentions == []


@pytest.mark.parametrize(("raw", "clean"), [
    ("Oliver is playful ((and often late)).", "Oliver is playful (and often late)."),
    ("She values ['Liberty'] above all", "She values Liberty above all."),
    ('Values: ["Care/Harm", "Fairness"]', "Values: Care/Harm, Fairness."),
    ("Sell the bike () now!", "Sell the bike now!"),
    ("Keep the friendship (Hint: be kind.)", "Keep the friendship (Hint: be kind.)"),
    ("Keep the friendship (Hint: be kind)", "Keep the friendship (Hint: be kind)."),
])
def test_text_is_cleaned(raw: str, clean: str) -> None:
    assert sotopia.sentence(raw) == clean


def test_the_dump_gives_clean_text() -> None:
    for s in sotopia.import_file(DUMP, pair_unmatched=True):
        texts = [s.context, *(a.goal for a in s.agents), *(f.text for f in s.facts)]
        for t in texts:
            assert "((" not in t and "['" not in t and '["' not in t, t
            assert t.rstrip(")").endswith((".", "!", "?")), t
    s = by_id(sotopia.import_file(DUMP))["sotopia_borrow_money_q3gs4b"]
    assert s.fact("mia_personality").text.endswith("She values Liberty above all.")
    assert s.fact("mia_secret").text == "Your secret: She secretly applied for a nursing position in Auckland."


def test_cli_reads_the_dump_and_reports_what_it_skipped(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "imported"
    result = runner.invoke(app, ["scenarios", "import-sotopia", str(DUMP), "--out", str(out)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "skipped 2 records of unknown kinds: {AnnotationForEpisode: 1, NonStreamingSimulationStatus: 1}" in (
        result.stdout)
    assert "skipped 1 environment(s) without a pairing" in result.stdout and "shared_flat_noise" in result.stdout
    assert "3 scenarios written" in result.stdout
    out2 = tmp_path / "paired"
    result = runner.invoke(app, ["scenarios", "import-sotopia", str(DUMP), "--out", str(out2), "--pair-unmatched"],
                           env=WIDE)
    assert result.exit_code == 0, result.output
    assert "4 scenarios written" in result.stdout
    assert (out2 / "sotopia_shared_flat_noise.yaml").exists()
    assert runner.invoke(app, ["validate", str(out2)], env=WIDE).exit_code == 0


def test_scenario_source_is_left_out_of_a_file_when_empty() -> None:
    plain = load_scenario(DATA.parent.parent / "scenarios" / "hidden_profile.yaml")
    assert plain.source == {} and "source" not in plain.model_dump() and '"source"' not in plain.model_dump_json()
    imported = sotopia.import_file(DUMP)[0]
    assert imported.model_dump()["source"]["environment_pk"] == ENV_BORROW
    assert Scenario.model_validate_json(imported.model_dump_json()) == imported
