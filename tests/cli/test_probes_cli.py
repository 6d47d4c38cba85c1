"""``--probe-every`` on privy run and bench, and a suite's ``probes``."""

from __future__ import annotations

from pathlib import Path

import yaml
from helpers import SCENARIO_DIR
from typer.testing import CliRunner

from privy.cli import app
from privy.simulator.episode import load_episode
from privy.simulator.probes import Probe


def test_run_with_probe_every_logs_probes_and_the_same_transcript(tmp_path: Path) -> None:
    scenario = str(SCENARIO_DIR / "mutual_friends.yaml")
    for name, extra in (("plain", []), ("probed", ["--probe-every", "2"])):
        r = CliRunner().invoke(app, ["run", scenario, "--backend", "scripted", "--out", str(tmp_path / f"{name}.json"),
                                     *extra])
        assert r.exit_code == 0, r.output
    plain, probed = load_episode(tmp_path / "plain.json"), load_episode(tmp_path / "probed.json")
    assert plain.probes == [] and probed.probes
    assert probed.probe_settings is not None and probed.probe_settings.every == 2
    assert {p.turn for p in probed.probes if not p.final} <= {0, 2, 4, 6, 8, 10}
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
        assert {p.turn for p in probed.probes if not p.final} <= set(range(0, 24, 3)), mode
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
    knowledge = [p for p in facts.probes if p.kind == "knowledge"]
    # every probe of an agent holding checkable facts asks about up to 2 of them, for each other agent
    others = len(facts.scenario.agents) - 1
    assert knowledge and all(0 < sum(1 for p in knowledge if (p.turn, p.agent, p.final) == key) <= 2 * others
                             for key in {(p.turn, p.agent, p.final) for p in knowledge})
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
