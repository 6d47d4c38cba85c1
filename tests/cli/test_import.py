"""``privy import``: human episodes in, and every command that reads episodes or stores takes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import DATA, SCENARIO_DIR
from typer.testing import CliRunner, Result

from privy.bench import open_reader
from privy.cli import app
from privy.simulator import Mode, load_episode

IMPORT = DATA / "import"
COCOA, FAIR = IMPORT / "cocoa.json", IMPORT / "fair.txt"
HIDDEN = SCENARIO_DIR / "hidden_profile.yaml"
WIDE = {"COLUMNS": "2000"}


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env=WIDE)


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("imported")
    r = invoke("import", "dealornodeal", COCOA, FAIR, "--out", out, "--db", out / "results.db")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("6 dialogue(s) imported, 2 skipped: 6 scenario(s)")
    assert "fair.txt: line 4: <disagree>" in r.stdout
    return out


def test_import_writes_scenarios_and_human_episodes(imported: Path) -> None:
    scenarios = sorted(p.name for p in (imported / "scenarios").glob("*.yaml"))
    episodes = sorted((imported / "episodes").glob("*.json"))
    assert len(scenarios) == 6 and len(episodes) == 6
    assert invoke("validate", imported / "scenarios").exit_code == 0
    for p in episodes:
        ep = load_episode(p)
        assert ep.mode is Mode.HUMAN and ep.calls == [] and ep.source is not None
        assert ep.backend == {"backend": "human"} and Path(str(ep.scenario_path)).name in scenarios


def test_evaluate_and_view_accept_imported_episodes(imported: Path, tmp_path: Path) -> None:
    episodes = sorted((imported / "episodes").glob("*.json"))
    r = invoke("evaluate", *episodes, "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert {e["mode"] for e in data["episodes"]} == {"human"} and len(data["episodes"]) == 6
    # task_success recomputed by privy's judge: 4 of the 6 dialogues reached a valid deal
    assert data["mean_by_backend_and_mode"]["human"]["human"]["task_success"] == pytest.approx(4 / 6)
    for args in ([imported / "episodes"], [imported / "results.db"]):
        page = tmp_path / "view.html"
        r = invoke("view", *args, "--out", page, "--force")
        assert r.exit_code == 0, r.output
        assert "6 runs of" in r.stdout and '"mode": "human"' in page.read_text(encoding="utf-8").replace('":"', '": "')


def test_report_shows_humans_beside_the_modes(imported: Path, tmp_path: Path) -> None:
    db = tmp_path / "both.db"
    db.write_bytes((imported / "results.db").read_bytes())
    with open_reader(db) as store:
        assert {row.mode for row in store.scores()} == {"human"}
    r = invoke("report", db)
    assert r.exit_code == 0, r.output
    assert "Means per mode · human" in r.stdout and "human: humans (imported transcripts; no model)" in r.stdout
    # models on the same (imported) scenarios: the humans become a column of the models' table, and a gap
    suite = imported / "vs-humans.suite.yaml"
    suite.write_text("name: vs-humans\nscenarios: [{glob: 'scenarios/*.yaml'}]\nmodes: [agents]\n"
                     "backends: [{name: scripted}]\nseeds: [0]\n", encoding="utf-8")
    assert invoke("bench", suite, "--out", db).exit_code == 0
    r = invoke("report", db)
    assert r.exit_code == 0, r.output
    table = r.stdout.split("Means per mode · scripted")[1].split("Asymmetry gaps")[0]
    assert table.splitlines()[2].split() == ["metric", "agents", "human", "n"]
    assert "Means per mode · human" not in r.stdout
    assert "agents − human" in r.stdout.split("Asymmetry gaps · scripted")[1]


def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "chat.jsonl"
    bad.write_text('{"sender": "ana", "text": "hi"}\n{"sender": "zoe", "text": "hello"}\n', encoding="utf-8")
    out = tmp_path / "out"
    r = invoke("import", "transcript", bad, "--scenario", HIDDEN, "--out", out, "--db", tmp_path / "r.db")
    assert r.exit_code == 2
    assert f"{bad}:2: sender: unknown agent 'zoe'; expected one of ['ana', 'ben', 'cleo']" in r.stderr
    assert not out.exists() and not (tmp_path / "r.db").exists()
    r = invoke("import", "transcript", IMPORT / "committee.yaml", "--out", out)
    assert r.exit_code == 2 and "the transcript format needs a scenario file" in r.stderr and not out.exists()


def test_no_silent_overwrite_of_files_or_stored_episodes(tmp_path: Path) -> None:
    out, db = tmp_path / "out", tmp_path / "r.db"
    args = ("import", "transcript", IMPORT / "committee.jsonl", "--scenario", HIDDEN, "--out", out)
    assert invoke(*args, "--db", db).exit_code == 0
    episode = out / "episodes" / "hidden_profile_demo_committee.human.json"
    before = episode.read_text(encoding="utf-8")
    r = invoke(*args)
    assert r.exit_code == 2 and "exists already" in r.stderr and "--force" in r.stderr
    r = invoke("import", "transcript", IMPORT / "committee.jsonl", "--scenario", HIDDEN, "--out", tmp_path / "new",
               "--db", db)
    assert r.exit_code == 2 and "holds 1 of these dialogues already" in r.stderr and not (tmp_path / "new").exists()
    assert episode.read_text(encoding="utf-8") == before
    assert invoke(*args, "--db", db, "--force").exit_code == 0
    before = episode.read_text(encoding="utf-8")
    with open_reader(db) as store:
        assert len({row.key for row in store.scores()}) == 1
    # another dialogue of the same scenario, later, into the same folder and store: added beside, not replacing
    other = tmp_path / "other.csv"
    other.write_text("sender,text\nben,DECIDE: Blake\n", encoding="utf-8")
    r = invoke("import", "transcript", other, "--scenario", HIDDEN, "--out", out, "--db", db)
    assert r.exit_code == 0, r.output
    with open_reader(db) as store:
        keys = sorted({row.key for row in store.scores()})
    assert [k.rsplit("|", 1)[1] for k in keys] == ["0", "1"]
    assert load_episode(out / "episodes" / "hidden_profile_demo_other.human.json").seed == 1
    assert episode.read_text(encoding="utf-8") == before


def test_the_human_mode_cannot_be_run(tmp_path: Path) -> None:
    r = invoke("run", HIDDEN, "--mode", "human", "--backend", "scripted", "--out", tmp_path / "ep.json")
    assert r.exit_code == 2 and "--mode: mode 'human' is an imported transcript" in r.stderr
    assert not (tmp_path / "ep.json").exists()
    r = invoke("compare", HIDDEN, "--modes", "agents,human", "--backend", "scripted", "--out-dir", tmp_path)
    assert r.exit_code == 2 and "--modes: mode 'human'" in r.stderr
    suite = tmp_path / "h.suite.yaml"
    suite.write_text(f"name: h\nscenarios: [{{path: {HIDDEN}}}]\nmodes: [agents, human]\n", encoding="utf-8")
    r = invoke("bench", suite, "--out", tmp_path / "r.db")
    assert r.exit_code == 2 and "modes" in r.stderr and "mode 'human' is an imported transcript" in r.stderr
