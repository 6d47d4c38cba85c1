"""``--probe-every`` on privy run and bench, and a suite's ``probes``."""

from __future__ import annotations

from pathlib import Path

import yaml
from helpers import SCENARIO_DIR
from typer.testing import CliRunner

from privy.cli import app
from privy.simulator.episode import Episode, load_episode
from privy.simulator.probes import Probe, knowledge_questions


def test_run_with_probe_every_logs_probes_and_the_same_transcript(tmp_path: Path) -> None:
    scenario = str(SCENARIO_DIR / "mutual_friends.yaml")
    for name, extra in (("plain", []), ("probed", ["--probe-every", "2"])):
        r = CliRunner().invoke(app, ["run", scenario, "--backend", "scripted", "--out", str(tmp_path / f"{name}.json"),
                                     *extra])
        assert r.exit_code == 0, r.output
    plain, probed = load_episode(tmp_path / "plain.json"), load_episode(tmp_path / "probed.json")
    assert plain.probes == [] and probed.probes
    assert probed.probe_settings is not None and probed.probe_settings.every == 2
    for agent in probed.scenario.agent_ids:  # each agent before its 1st, 3rd, ... turn
        own = [m.turn for m in probed.messages if m.sender == agent]
        assert [p.turn for p in probed.probes if p.agent == agent and not p.final] == own[::2], agent
    assert [m.content for m in plain.messages] == [m.content for m in probed.messages]


def test_bad_probe_every_is_refused_before_anything_runs(tmp_path: Path) -> None:
    out = tmp_path / "ep.json"
    r = CliRunner().invoke(app, ["run", str(SCENARIO_DIR / "mutual_friends.yaml"), "--backend", "scripted",
                                 "--probe-every", "0", "--out", str(out)])
    assert r.exit_code == 2 and "--probe-every" in r.output and not out.exists()


def test_a_suite_with_bad_probes_is_one_clear_error(tmp_path: Path) -> None:
    suite = tmp_path / "s.suite.yaml"
    suite.write_text(yaml.safe_dump({"name": "p", "scenarios": [{"path": str(SCENARIO_DIR / "mutual_friends.yaml")}],
                                     "backends": [{"name": "scripted"}], "probes": {"every": 0}}), encoding="utf-8")
    r = CliRunner().invoke(app, ["bench", str(suite), "--out", str(tmp_path / "r.db")])
    assert r.exit_code == 2, r.output
    assert "probes.every" in r.output and not (tmp_path / "r.db").exists()


def test_compare_with_probe_every_logs_probes_in_every_mode_and_the_same_transcripts(tmp_path: Path) -> None:
    scenario = str(SCENARIO_DIR / "hidden_profile.yaml")
    modes = "agents,mindreaders,omniscient,script"
    for name, extra in (("plain", []), ("probed", ["--probe-every", "3", "--probe-final"])):
        r = CliRunner().invoke(app, ["compare", scenario, "--modes", modes, "--backend", "scripted",
                                     "--out-dir", str(tmp_path / name), *extra])
        assert r.exit_code == 0, r.output
    for mode in modes.split(","):
        file = f"hidden_profile_demo.{mode}.scripted.seed0.json"
        plain, probed = load_episode(tmp_path / "plain" / file), load_episode(tmp_path / "probed" / file)
        assert plain.probes == [] and plain.probe_settings is None
        assert probed.probe_settings is not None and probed.probe_settings.every == 3
        for agent in probed.scenario.agent_ids:  # each agent before its 1st, 4th, 7th, ... turn
            own = [m.turn for m in probed.messages if m.sender == agent]
            assert [p.turn for p in probed.probes if p.agent == agent and not p.final] == own[::3], (mode, agent)
        assert {p.agent for p in probed.probes if p.final} == set(probed.scenario.agent_ids), mode
        assert [(m.sender, m.content) for m in plain.messages] == [(m.sender, m.content) for m in probed.messages]


def test_compare_refuses_a_bad_probe_every_before_anything_runs(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["compare", str(SCENARIO_DIR / "mutual_friends.yaml"), "--backend", "scripted",
                                 "--probe-every", "0", "--out-dir", str(tmp_path / "out")])
    assert r.exit_code == 2 and "--probe-every" in r.output and not (tmp_path / "out").exists()


def test_probes_ask_belief_only_by_default_and_knowledge_questions_with_probe_facts(tmp_path: Path) -> None:
    scenario = str(SCENARIO_DIR / "hidden_profile.yaml")
    for name, extra in (("belief", []), ("facts", ["--probe-facts", "2"])):
        r = CliRunner().invoke(app, ["run", scenario, "--backend", "scripted", "--out", str(tmp_path / f"{name}.json"),
                                     "--probe-every", "1", *extra])
        assert r.exit_code == 0, r.output
    belief, facts = load_episode(tmp_path / "belief.json"), load_episode(tmp_path / "facts.json")
    assert belief.probe_settings is not None and belief.probe_settings.facts == 0
    assert not belief.probe_settings.final and not any(p.final for p in belief.probes)  # --probe-final: opt-in
    assert belief.probes and {p.kind for p in belief.probes} == {"belief"}
    assert facts.probe_settings is not None and facts.probe_settings.facts == 2
    # each probe asks, for each other agent, about 2 of the probed agent's checkable facts (1 if it holds one)
    s = facts.scenario
    asked = [(p.turn, p.agent, p.final) for p in facts.probes if p.kind == "belief"]
    got = [sum(1 for p in facts.probes if p.kind == "knowledge" and (p.turn, p.agent, p.final) == key) for key in asked]
    assert got == [len(knowledge_questions(s, agent, 2)) for _, agent, _ in asked]
    assert sum(got) > sum(len(knowledge_questions(s, agent, 1)) for _, agent, _ in asked)  # more than facts=1
    def asked(probes: list[Probe]) -> list[dict[str, object]]:
        return [p.model_dump(exclude={"latency_s"}) for p in probes if p.kind == "belief"]
    assert asked(facts.probes) == asked(belief.probes)
    assert [m.content for m in belief.messages] == [m.content for m in facts.messages]


def test_probe_facts_or_final_without_probe_every_is_refused_before_anything_runs(tmp_path: Path) -> None:
    scenario = str(SCENARIO_DIR / "mutual_friends.yaml")
    out = tmp_path / "ep.json"
    r = CliRunner().invoke(app, ["run", scenario, "--backend", "scripted", "--probe-facts", "1", "--out", str(out)])
    assert r.exit_code == 2 and "--probe-facts needs --probe-every" in r.output and not out.exists()
    r = CliRunner().invoke(app, ["compare", scenario, "--backend", "scripted", "--probe-facts", "1",
                                 "--out-dir", str(tmp_path / "out")])
    assert r.exit_code == 2 and "--probe-facts needs --probe-every" in r.output and not (tmp_path / "out").exists()
    suite = tmp_path / "s.suite.yaml"
    suite.write_text(yaml.safe_dump({"name": "p", "scenarios": [{"path": scenario}],
                                     "backends": [{"name": "scripted"}]}), encoding="utf-8")
    r = CliRunner().invoke(app, ["bench", str(suite), "--out", str(tmp_path / "r.db"), "--probe-facts", "1"])
    assert r.exit_code == 2 and "--probe-facts needs --probe-every" in r.output and not (tmp_path / "r.db").exists()
    r = CliRunner().invoke(app, ["bench", str(suite), "--out", str(tmp_path / "r.db"), "--probe-final"])
    assert r.exit_code == 2 and "--probe-final needs --probe-every" in r.output and not (tmp_path / "r.db").exists()
    r = CliRunner().invoke(app, ["run", scenario, "--backend", "scripted", "--probe-every", "1",
                                 "--probe-facts", "-1", "--out", str(out)])
    assert r.exit_code == 2 and "--probe-facts" in r.output and not out.exists()


def test_bench_flags_change_only_their_fields_of_a_suites_probes(tmp_path: Path) -> None:
    from privy.bench.store import open_reader

    suite = tmp_path / "s.suite.yaml"
    suite.write_text(yaml.safe_dump({"name": "p", "scenarios": [{"path": str(SCENARIO_DIR / "mutual_friends.yaml")}],
                                     "modes": ["agents"], "backends": [{"name": "scripted"}],
                                     "probes": {"every": 2, "facts": 1, "final": True}}), encoding="utf-8")
    for name, flags, expected in (("own", [], {"every": 2, "facts": 1, "final": True}),
                                  ("every", ["--probe-every", "1"], {"every": 1, "facts": 1, "final": True}),
                                  ("final", ["--no-probe-final"], {"every": 2, "facts": 1, "final": False}),
                                  ("facts", ["--probe-facts", "0"], {"every": 2, "facts": 0, "final": True})):
        r = CliRunner().invoke(app, ["bench", str(suite), "--out", str(tmp_path / f"{name}.db"), *flags])
        assert r.exit_code == 0, r.output
        with open_reader(tmp_path / f"{name}.db") as store:
            (row,) = store.episodes()
        ep = Episode.model_validate_json(row.episode_json or "{}")
        assert ep.probe_settings is not None and ep.probe_settings.model_dump() == expected, name
        assert any(p.final for p in ep.probes) == expected["final"], name
        assert any(p.kind == "knowledge" for p in ep.probes) == bool(expected["facts"]), name
