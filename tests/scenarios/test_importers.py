"""Importers: transcripts (JSONL, CSV, YAML) and Deal or No Deal (CoCoA JSON, FAIR text) as human episodes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import DATA, SCENARIO_DIR

from privy.scenarios.families.deal_or_no_deal import parse_values
from privy.scenarios.importers import ImportInputError, import_files, plan, write
from privy.simulator import Mode, load_episode, load_scenario
from privy.simulator.task import judge_deal

IMPORT = DATA / "import"
HIDDEN = SCENARIO_DIR / "hidden_profile.yaml"
COCOA = IMPORT / "cocoa.json"
FAIR = IMPORT / "fair.txt"


# ---------------------------------------------------------------- transcript


@pytest.mark.parametrize("name", ["committee.jsonl", "committee.csv", "committee.yaml"])
def test_the_three_transcript_shapes_give_the_same_episode(name: str) -> None:
    [item] = import_files("transcript", [IMPORT / name], HIDDEN).imported
    ep = item.episode
    assert ep.mode is Mode.HUMAN and ep.calls == [] and ep.source is not None
    assert ep.source.format == "transcript" and ep.source.file.endswith(name) and ep.source.record == name
    assert [m.sender for m in ep.messages] == ["ana", "ana", "cleo", "ben", "cleo", "ben", "ana", "cleo", "ana"]
    assert [m.turn for m in ep.messages] == list(range(9))
    assert ep.messages[2].recipients == {"ana"}  # the DM
    assert ep.messages[0].recipients == {"ben", "cleo"}  # default: the sender's neighbours
    assert ep.outcome.ended_by == "committed" and ep.outcome.success and ep.outcome.decision == "Avery"
    assert ep.source.times is not None and ep.source.times[0] == "2024-05-01T10:00:00" and ep.source.times[-1] is None
    assert item.scenario == load_scenario(HIDDEN)


def bad(tmp_path: Path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ImportInputError) as err:
        import_files("transcript", [p], HIDDEN)
    return str(err.value).replace(str(tmp_path) + "/", "")


def test_bad_transcripts_name_file_line_and_field(tmp_path: Path) -> None:
    ok = '{"sender": "ana", "text": "hi"}\n'
    assert bad(tmp_path, "a.jsonl", ok + '{"sender": "dora", "text": "hi"}\n') == (
        f"a.jsonl:2: sender: unknown agent 'dora'; expected one of ['ana', 'ben', 'cleo'] "
        f"(agent ids or names in {HIDDEN})")
    assert bad(tmp_path, "b.jsonl", ok + '\n{"sender": "Ben", "text": "x", "recipients": ["Eve"]}\n').startswith(
        "b.jsonl:3: recipients: unknown agent 'Eve'; expected one of ['ana', 'ben', 'cleo']")
    assert bad(tmp_path, "c.csv", "sender,text\nana,hi\nbob,hello\n").startswith("c.csv:3: sender: unknown agent 'bob'")
    assert bad(tmp_path, "c2.csv", "sender,text\nana,hi\nben,yes, Avery\n") == (
        "c2.csv:3: (row): expected 2 cells (sender, text), got more; quote a text that holds a comma")
    assert bad(tmp_path, "d.csv", "sender,message\nana,hi\n") == (
        "d.csv:1: message: unknown column; expected some of ['sender', 'text', 'recipients', 'time']")
    assert bad(tmp_path, "e.yaml", "- sender: ana\n  text: hi\n- sender: ben\n") == (
        "e.yaml:3: text: required field is missing")
    assert bad(tmp_path, "f.jsonl", '{"sender": "ana", "txt": "hi"}\n') == (
        "f.jsonl:1: txt: unknown field; expected one of ['sender', 'text', 'recipients', 'time']")
    assert bad(tmp_path, "g.jsonl", '{"sender": "ana", "text": "hi", "recipients": ["ana"]}\n').startswith(
        "g.jsonl:1: recipients: 'ana' may not send to ['ana']")
    assert bad(tmp_path, "h.jsonl", ok + "{not json\n").startswith("h.jsonl:2: (json): expected one JSON object")
    assert bad(tmp_path, "i.txt", ok).startswith("i.txt: (file): unknown transcript suffix '.txt'")


def test_a_transcript_needs_a_scenario_and_other_formats_refuse_one(tmp_path: Path) -> None:
    with pytest.raises(ImportInputError, match="the transcript format needs a scenario file"):
        import_files("transcript", [IMPORT / "committee.jsonl"])
    with pytest.raises(ImportInputError, match="only the transcript format takes a scenario file"):
        import_files("dealornodeal", [COCOA], HIDDEN)
    with pytest.raises(ImportInputError, match="unknown format 'sotopia'"):
        import_files("sotopia", [COCOA])


# ---------------------------------------------------------------- Deal or No Deal


def fair_reward(line: str) -> tuple[dict[str, int], dict[str, int]] | None:
    """The reward of each side of a FAIR line, as CoCoA's fb_data_to_json computes it (None: no split recorded)."""
    t = line.split()

    def tag(name: str) -> list[str]:
        return t[t.index(f"<{name}>") + 1:t.index(f"</{name}>")]

    out = tag("output")
    if not out[0].startswith("item"):
        return None
    mine, theirs = [int(x) for x in tag("input")], [int(x) for x in tag("partner_input")]
    takes = [int(x.split("=")[1]) for x in out]
    return ({"alice": sum(takes[i] * mine[2 * i + 1] for i in range(3))},
            {"bob": sum(takes[3 + i] * theirs[2 * i + 1] for i in range(3))})


def test_cocoa_dialogues_become_deal_scenarios_whose_judge_agrees_with_the_recorded_rewards() -> None:
    result = import_files("dealornodeal", [COCOA])
    recorded = json.loads(COCOA.read_text(encoding="utf-8"))
    assert len(result.imported) == 3 and not result.skipped and not result.notes
    for item, d in zip(result.imported, recorded, strict=True):
        s, ep = item.scenario, item.episode
        assert s.family == "deal_or_no_deal" and s.task.kind == "deal" and s.task.deal is not None
        assert ep.source is not None and ep.source.record == d["uuid"] and ep.source.format == "dealornodeal"
        kbs = d["scenario"]["kbs"]
        assert s.task.deal.items == {it["Name"]: it["Count"] for it in kbs[0]}
        for agent, kb in zip(("alice", "bob"), kbs, strict=True):
            values = {it["Name"]: it["Value"] for it in kb}
            assert s.task.deal.values[agent] == values
            [fact] = s.facts_of(agent)
            assert fact.holders == [agent] and parse_values(fact.text, s.task.deal.items) == values
        assert ep.calls == [] and ep.mode is Mode.HUMAN
        said = [e["data"] for e in d["events"] if e["action"] == "message"]
        assert [m.content for m in ep.messages if not m.actions] == said
        deal = ep.outcome.deal
        assert deal is not None
        # privy's judge, from the DEAL messages, agrees with the recorded reward and validity
        assert deal.points == {"alice": d["outcome"]["reward"]["0"], "bob": d["outcome"]["reward"]["1"]}
        assert deal.valid == d["outcome"]["valid_deal"] == ep.outcome.success
        assert judge_deal(s.task.deal.items, s.task.deal.values, ep.outcome.commitments) == deal
    deal_ep, quit_ep, even_ep = (i.episode for i in result.imported)
    assert [m.content for m in deal_ep.messages[-2:]] == ["DEAL: book=2 hat=0 ball=1", "DEAL: book=1 hat=2 ball=0"]
    assert [m.sender for m in deal_ep.messages[-2:]] == ["bob", "alice"]  # the recorded order of the selections
    assert deal_ep.outcome.deal is not None and deal_ep.outcome.deal.pareto_optimal
    assert quit_ep.outcome.ended_by == "transcript_end" and quit_ep.outcome.commitments == {}
    assert even_ep.outcome.deal is not None and even_ep.outcome.success and not even_ep.outcome.deal.pareto_optimal


def test_fair_lines_are_imported_once_and_the_judge_agrees_with_their_output() -> None:
    result = import_files("dealornodeal", [FAIR])
    lines = FAIR.read_text(encoding="utf-8").splitlines()
    assert [i.episode.source.line for i in result.imported if i.episode.source] == [1, 3, 5]
    assert [(s.record, s.reason.split(":")[0]) for s in result.skipped] == [
        ("line 2", "the dialogue of line 1, from the other side"), ("line 4", "<disagree>")]
    for item in result.imported:
        ep = item.episode
        assert ep.source is not None and ep.source.line is not None
        expected = fair_reward(lines[ep.source.line - 1])
        deal = ep.outcome.deal
        assert deal is not None
        if expected is None:  # <no_agreement>: no one committed, no deal
            assert ep.outcome.commitments == {} and not deal.valid and deal.points == {"alice": 0, "bob": 0}
        else:
            assert deal.valid and deal.points == {**expected[0], **expected[1]}
    # the same dialogue in CoCoA's JSON and in FAIR text: the same messages and outcome
    cocoa = import_files("dealornodeal", [COCOA]).imported[0].episode
    fair = result.imported[0].episode
    said = [[(m.sender, m.content) for m in ep.messages] for ep in (cocoa, fair)]
    assert said[0][:4] == said[1][:4] and set(said[0][4:]) == set(said[1][4:])  # the selections in each file's order
    assert [m.sender for m in fair.messages[4:]] == ["alice", "bob"]  # YOU: <selection>, so YOU's first
    assert cocoa.outcome.deal == fair.outcome.deal


def test_bad_deal_input_names_file_line_and_field(tmp_path: Path) -> None:
    text = FAIR.read_text(encoding="utf-8").splitlines()
    p = tmp_path / "bad.txt"
    p.write_text(text[0] + "\n" + text[2].replace("<input> 1 4 3 2 2 0 </input>", "<input> 1 4 3 2 </input>") + "\n")
    with pytest.raises(ImportInputError, match=r"bad.txt:2: input: expected 6 integers"):
        import_files("dealornodeal", [p])
    data = json.loads(COCOA.read_text(encoding="utf-8"))
    data[1]["events"][0]["agent"] = 2
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(data))
    with pytest.raises(ImportInputError, match=r"bad.json: \[1\]\.events\[0\]\.agent: expected 0 or 1, got 2"):
        import_files("dealornodeal", [p])
    data = json.loads(COCOA.read_text(encoding="utf-8"))
    data[0]["events"][1]["action"] = "offer"
    p.write_text(json.dumps(data))
    result = import_files("dealornodeal", [p])
    assert len(result.imported) == 2 and [s.record for s in result.skipped] == ["E_fixtureDeal01"]
    assert "action 'offer'" in result.skipped[0].reason


def test_a_recorded_reward_the_judge_does_not_reproduce_is_noted(tmp_path: Path) -> None:
    data = json.loads(COCOA.read_text(encoding="utf-8"))
    data[0]["outcome"]["reward"] = {"0": 9, "1": 8}
    p = tmp_path / "c.json"
    p.write_text(json.dumps(data))
    result = import_files("dealornodeal", [p])
    assert result.notes == ["E_fixtureDeal01: recorded reward {'alice': 9, 'bob': 8}, privy's deal judge gives "
                            "{'alice': 5, 'bob': 8}"]
    assert result.imported[0].episode.outcome.deal is not None
    assert result.imported[0].episode.outcome.deal.points == {"alice": 5, "bob": 8}  # privy's, not the source's


# ---------------------------------------------------------------- writing


def test_write_puts_scenarios_and_episodes_apart_and_never_overwrites(tmp_path: Path) -> None:
    result = import_files("transcript", [IMPORT / "committee.jsonl", IMPORT / "committee.csv"], HIDDEN)
    planned = plan(result, tmp_path)
    paths = write(planned)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in paths) == [
        "episodes/hidden_profile_demo_committee.human.json", "episodes/hidden_profile_demo_committee.human_2.json",
        "scenarios/hidden_profile_demo.yaml"]
    eps = [load_episode(p) for p in paths if p.suffix == ".json"]
    assert [e.seed for e in eps] == [0, 1]  # each dialogue of a scenario its own number
    assert all(e.scenario_path == str(tmp_path / "scenarios" / "hidden_profile_demo.yaml") for e in eps)
    assert load_scenario(tmp_path / "scenarios" / "hidden_profile_demo.yaml") == load_scenario(HIDDEN)
    before = {p: p.read_text() for p in paths}
    with pytest.raises(FileExistsError, match="exists already"):
        write(plan(result, tmp_path))
    assert {p: p.read_text() for p in paths} == before
    assert write(plan(result, tmp_path), force=True) == paths
