"""Issue 18: a person takes a seat. ``privy play`` driven through a real pseudo-terminal (pexpect).

The other seats are the ``scripted`` reference policies (no model), so these are fast;
one test marked ``llm`` plays against the embedded SmolLM2.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pexpect
import pytest
import yaml
from helpers import SCENARIO_DIR

from privy.simulator import load_episode, load_scenario
from privy.simulator.scenario import Topology

MUTUAL = SCENARIO_DIR / "mutual_friends.yaml"
COMMITTEE = SCENARIO_DIR / "hidden_profile.yaml"  # Ana, Ben, Cleo speak in that order
DM = "TO Ben: psst, Blake cheats at cards"
ENV = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "120"}


def spawn(*args: str | Path, timeout: float = 180) -> pexpect.spawn:
    """``privy ARGS`` in a pseudo-terminal, its output readable as text.

    ``timeout`` bounds a hang, it is no speed goal: on a loaded machine starting Python
    and importing privy alone can take tens of seconds."""
    child = pexpect.spawn(sys.executable, ["-m", "privy", *map(str, args)], encoding="utf-8", timeout=timeout,
                          dimensions=(40, 120), env=ENV)
    return child


def listed_under(text: str, label: str) -> list[str]:
    """The ``  - item`` lines right after the line ``label`` of ``text``."""
    lines = [line.rstrip() for line in text.splitlines()]
    out = []
    for line in lines[lines.index(label) + 1:]:
        if not line.startswith("  - "):
            break
        out.append(line[4:])
    return out


def finish(child: pexpect.spawn) -> tuple[str, int]:
    """Everything ``child`` printed until it exited, and its exit status."""
    child.expect(pexpect.EOF)
    text = child.before
    child.close()
    assert child.exitstatus is not None, f"killed by signal {child.signalstatus}"
    return text, child.exitstatus


@pytest.fixture
def star(tmp_path: Path) -> Path:
    """The hidden-profile committee as a star: Cleo talks with Ana and Ben, who cannot talk to each other."""
    s = load_scenario(SCENARIO_DIR / "hidden_profile.yaml")
    s = s.model_copy(update={"topology": Topology(kind="edges", edges=[("cleo", "ana"), ("cleo", "ben")])})
    path = tmp_path / "star.yaml"
    path.write_text(yaml.safe_dump(s.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
    return path


def test_a_person_plays_bob_against_the_scripted_alice(tmp_path: Path) -> None:
    out = tmp_path / "ep.json"
    child = spawn("play", MUTUAL, "--as", "bob", "--backend", "scripted", "--out", out)
    child.expect_exact("what you know (only you):")
    child.expect_exact("Alice → you")  # the briefing, then Alice's first message, then the prompt
    briefing = child.before
    assert "Tess Moreau: works at Acme" in briefing and "you can write to: Alice" in briefing
    assert "to commit: /commit ANSWER writes 'SELECT: ANSWER'" in briefing
    assert "Maya Chen" not in briefing, "Alice's private list before she said it"
    child.expect_exact("Bob → Alice > ")
    assert "My friends: Maya Chen" in child.before  # now she has said it
    child.sendline("I know Tess Moreau and Ivan Petrov.")
    child.expect_exact("We both know Tess Moreau.")
    child.expect_exact("Bob → Alice > ")
    child.sendline("/commit Tess Moreau")
    text, status = finish(child)
    assert status == 0, text
    assert "game over: ended by committed" in text
    ep = load_episode(out)
    assert [m.sender for m in ep.messages] == ["alice", "bob", "alice", "bob"]
    assert ep.messages[1].content == "I know Tess Moreau and Ivan Petrov."
    assert ep.messages[3].content == "SELECT: Tess Moreau"
    assert ep.outcome.ended_by == "committed" and ep.outcome.success
    assert ep.backend["per_agent"] == {"bob": {"backend": "human", "human": True, "seat": "terminal"}}
    assert ep.backend["backend"] == "scripted"
    human_calls = [c for c in ep.calls if c.speaker == "bob"]
    assert [c.output for c in human_calls] == [ep.messages[1].content, ep.messages[3].content]


def test_bad_input_is_refused_with_a_reason_and_asked_again(star: Path, tmp_path: Path) -> None:
    out = tmp_path / "ep.json"
    child = spawn("play", star, "--as", "cleo", "--backend", "scripted", "--out", out)
    child.expect_exact("you can write to: Ana, Ben")
    child.expect_exact("Cleo → Ana, Ben > ")
    for line, why in [
        ("/frobnicate", "not sent: unknown command /frobnicate"),
        ("TO Zoe: hello", "not sent: you cannot write to 'Zoe'; you can write to: Ana, Ben"),
        ("/commit Dana", "not sent: 'Dana' is not an option; expected one of: Avery, Blake, Casey"),
        ("We pick Dana. DECIDE: Dana", "not sent: 'Dana' is not an option"),
        ("", "not sent: empty message"),
        ("TO Ana:", "not sent: empty message after the address"),
        ("/commit", "not sent: /commit needs a value"),
    ]:
        child.sendline(line)
        child.expect_exact(why)
        child.expect_exact("Cleo → Ana, Ben > ")
    child.sendline("/help")
    child.expect_exact("/commit VALUE")
    child.expect_exact("Cleo → Ana, Ben > ")
    child.sendline("TO Ana: Avery led a team of twelve, says Ana?")  # a direct message, in privy's protocol
    child.expect_exact("Cleo → Ana, Ben > ")
    child.sendline("/leave")
    text, status = finish(child)
    assert status == 0, text
    ep = load_episode(out)
    assert ep.outcome.ended_by == "left"
    # the text of the turn, as the runner got it (the runner reads the TO prefix from it, as from a model's)
    assert [c.output for c in ep.calls if c.speaker == "cleo"] == ["TO Ana: Avery led a team of twelve, says Ana?",
                                                                     None]
    assert [m.sender for m in ep.messages].count("cleo") == 1
    assert all(c.output is None or "Dana" not in c.output for c in ep.calls), "a refused line was sent"


def test_ctrl_c_mid_game_saves_what_was_played_and_exits_130(tmp_path: Path) -> None:
    out = tmp_path / "ep.json"
    child = spawn("play", MUTUAL, "--as", "bob", "--backend", "scripted", "--out", out)
    child.expect_exact("Bob → Alice > ")
    child.sendline("Hello Alice, which of them likes jazz?")
    child.expect_exact("Bob → Alice > ")
    child.sendintr()
    text, status = finish(child)
    assert status == 130, text
    assert "ended by interrupted" in text and "Traceback" not in text
    ep = load_episode(out)
    assert ep.outcome.ended_by == "interrupted"
    assert [m.sender for m in ep.messages] == ["alice", "bob", "alice"]
    assert ep.messages[1].content == "Hello Alice, which of them likes jazz?"
    assert ep.calls[-1].speaker == "bob" and "Ctrl-C" in (ep.calls[-1].error or "")


def test_the_seat_shows_hostile_text_as_text(tmp_path: Path) -> None:
    s = load_scenario(MUTUAL)
    alice, bob = s.agents
    bob = bob.model_copy(update={"goal": "Find them. \x1b]0;pwned\x07 [bold red]not markup[/bold red] \u202eevil"})
    s = s.model_copy(update={"agents": [alice, bob]})
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(s.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
    child = spawn("play", path, "--as", "bob", "--backend", "scripted", "--out", tmp_path / "ep.json")
    child.expect_exact("Bob → Alice > ")
    shown = child.before
    child.sendintr()
    finish(child)
    assert "\\x1b]0;pwned\\x07" in shown and "\x1b]0;pwned" not in shown
    assert "[bold red]not markup[/bold red]" in shown
    assert "\\u202eevil" in shown


@pytest.mark.parametrize("mode", ["omniscient", "script"])
def test_a_mode_without_a_per_agent_seat_is_refused_before_any_model_loads(mode: str, tmp_path: Path) -> None:
    out = tmp_path / "ep.json"
    child = spawn("play", MUTUAL, "--as", "bob", "--mode", mode, "--backend", "llama", "--out", out, timeout=180)
    text, status = finish(child)
    assert status == 2, text
    said = " ".join(text.split())
    assert f"--mode {mode}: there is no seat to play" in said
    assert "a person plays one agent in mode 'agents' (you see its own observation) or 'mindreaders'" in said
    assert "loading model" not in text and not out.exists()


def test_each_message_appears_as_it_is_delivered_while_the_models_play(tmp_path: Path) -> None:
    """Cleo is third: Ana's message is on the screen before Ben's model starts, and Ben's before Cleo's prompt."""
    config = tmp_path / "backends.yaml"
    config.write_text("default: {name: scripted}\nagents:\n  ana: {name: mock, options: {outputs: "
                      f"[{DM!r}, 'Ana again: Avery led a team of twelve.']}}}}\n", encoding="utf-8")
    out = tmp_path / "ep.json"
    child = spawn("play", COMMITTEE, "--as", "cleo", "--backends", config, "--out", out)
    child.expect_exact("what you know (only you):")
    child.expect_exact("Ana is writing…")  # the briefing first, then the status while Ana's model writes
    child.expect_exact("Ben is writing…")
    assert "Ana → Ben" not in child.before and "psst" not in child.before  # her DM to Ben: never on Cleo's screen
    child.expect_exact("Cleo → Ana, Ben > ")
    assert "Ben → " in child.before  # Ben's message, delivered before the prompt
    child.sendline("Cleo here: Avery's reports rated her the best manager.")
    child.expect_exact("Ana is writing…")
    child.expect_exact("Ana again: Avery led a team of twelve.")
    child.expect_exact("Ben is writing…")  # Ana's message was on the screen before Ben's model started
    child.expect_exact("Cleo → Ana, Ben > ")
    child.sendintr()
    text, status = finish(child)
    assert status == 130, text
    assert "psst" not in text
    ep = load_episode(out)
    assert any("psst" in m.content and m.recipients == frozenset({"ben"}) for m in ep.messages)


def test_a_person_plays_a_mindreader_and_sees_everyones_facts(tmp_path: Path) -> None:
    out = tmp_path / "ep.json"
    s = load_scenario(MUTUAL)
    child = spawn("play", MUTUAL, "--as", "bob", "--mode", "mindreaders", "--backend", "scripted", "--out", out)
    child.expect_exact("mindreaders mode: you see what the model at this seat sees")
    child.expect_exact("you can write to: Alice")
    brief = child.before
    for a in s.agents:  # each agent's facts, under whose they are
        label, other = ("what you know:", "Alice") if a.id == "bob" else ("what Alice knows:", "you")
        also = f"  (also known to {other})"  # a fact both hold (two agents here)
        assert listed_under(brief, label) == [f.text + (also if len(f.holders) > 1 else "") for f in s.facts_of(a.id)]
    child.expect_exact("Bob → Alice > ")
    child.sendline("TO Zoe: hello")  # bad input is refused as in agents mode
    child.expect_exact("not sent: you cannot write to 'Zoe'; you can write to: Alice")
    child.expect_exact("Bob → Alice > ")
    child.sendline("Hello Alice.")
    child.expect_exact("Bob → Alice > ")
    child.sendintr()  # Ctrl-C saves what was played
    text, status = finish(child)
    assert status == 130, text
    assert "ended by interrupted" in text and "Traceback" not in text
    ep = load_episode(out)
    assert ep.mode == "mindreaders" and ep.outcome.ended_by == "interrupted"
    assert ep.backend["per_agent"] == {"bob": {"backend": "human", "human": True, "seat": "terminal"}}
    bob = next(c for c in ep.calls if c.speaker == "bob")
    assert bob.output == "Hello Alice."
    prompt = bob.input[0].content  # the mindreader prompt a model at Bob's seat had: the facts the person saw
    assert all(f"{a.name} knows: {f.text}" in prompt for a in s.agents for f in s.facts_of(a.id))


def test_an_unknown_seat_is_refused(tmp_path: Path) -> None:
    child = spawn("play", MUTUAL, "--as", "carol", "--backend", "scripted", "--out", tmp_path / "ep.json")
    text, status = finish(child)
    assert status == 2 and "--as carol: no such agent" in text and not (tmp_path / "ep.json").exists()


@pytest.mark.llm
def test_a_person_plays_against_the_embedded_model(tmp_path: Path) -> None:
    path = _short(tmp_path, max_turns=4, max_tokens=24)
    out = tmp_path / "ep.json"
    child = spawn("play", path, "--as", "bob", "--backend", "llama", "--out", out, timeout=300)
    child.expect_exact("Alice is writing…")  # the briefing is up while the model writes Alice's first turn
    child.expect_exact("Alice → you")  # the model wrote Alice's first turn
    child.expect_exact("Bob → Alice > ")
    child.sendline("I know Tess Moreau, Ivan Petrov, Sofia Rossi, Kenji Ito and Nora Walsh.")
    child.expect_exact("Alice is writing…")
    child.expect_exact("Alice → you")  # her reply, printed as it was delivered
    child.expect_exact("Bob → Alice > ")
    child.sendline("/commit Tess Moreau")
    text, status = finish(child)
    assert status == 0, text
    ep = load_episode(out)
    assert ep.backend["backend"] == "llama" and ep.backend["per_agent"]["bob"]["backend"] == "human"
    assert [m.sender for m in ep.messages] == ["alice", "bob", "alice", "bob"]
    assert ep.messages[3].content == "SELECT: Tess Moreau"
    assert ep.outcome.ended_by == "turn_limit" or ep.outcome.ended_by == "committed"
    alice = [c for c in ep.calls if c.speaker == "alice"]
    assert len(alice) == 2 and all(c.error is None and c.prompt_tokens for c in alice)
    # Alice's model was given Bob's message as he typed it, and nothing of his screen
    assert "I know Tess Moreau, Ivan Petrov" in alice[1].input[-2].content
    assert "/commit" not in " ".join(m.content for c in alice for m in c.input)


def test_the_other_agents_see_the_same_transcript_as_with_a_scripted_seat(star: Path, tmp_path: Path) -> None:
    """Nothing of the person's screen (briefing, help, refused lines, commands) reaches a model's context."""
    out = tmp_path / "ep.json"
    child = spawn("play", star, "--as", "cleo", "--backend", "scripted", "--out", out)
    typed = ["/help", "/history", "TO Nobody: x", "/brief", "Ana, what do you know about Avery?",
             "/to ben: Ben, anything on Blake?", "/commit Casey", "DECIDE: Avery"]
    for line in typed:
        child.expect_exact("Cleo → Ana, Ben > ")
        child.sendline(line)
    text, status = finish(child)
    assert status == 0, text
    human = load_episode(out)
    said = [c.output for c in human.calls if c.speaker == "cleo"]
    assert said == ["Ana, what do you know about Avery?", "TO Ben: Ben, anything on Blake?", "DECIDE: Casey",
                    "DECIDE: Avery"]

    from privy.simulator import backends, run_episode

    scripted = asyncio.run(run_episode(human.scenario, "agents", backends.create("scripted"), 0,
                                       agent_backends={"cleo": backends.create("mock", outputs=said)}))
    assert [m.model_dump() for m in scripted.messages] == [m.model_dump() for m in human.messages]
    others = [(c.speaker, c.input) for c in human.calls if c.speaker != "cleo"]
    assert others and others == [(c.speaker, c.input) for c in scripted.calls if c.speaker != "cleo"]


@pytest.mark.llm
def test_a_person_plays_the_people_suite_against_the_embedded_model(tmp_path: Path) -> None:
    db = tmp_path / "people.db"
    child = spawn("bench", SCENARIO_DIR / "suites" / "people.suite.yaml", "--out", db, timeout=600)
    child.expect_exact("you are Bob")
    child.expect_exact("Bob → Alice > ")
    child.sendline("I know Tess Moreau, Ivan Petrov, Sofia Rossi, Kenji Ito and Nora Walsh.")
    child.expect_exact("Bob → Alice > ")
    child.sendline("/commit Tess Moreau")
    if child.expect_exact(["Bob → Alice > ", "you are Ben"]) == 0:  # the model has not committed yet
        child.sendline("/leave")
        child.expect_exact("you are Ben")  # the next episode: the committee, Ben's seat
    child.expect_exact("Ben → Ana, Cleo > ")
    child.sendline("TO Cleo: Avery mentored four junior engineers who were all promoted.")
    child.expect_exact("Ben → Ana, Cleo > ")
    child.sendline("/leave")
    text, status = finish(child)
    assert status == 0, text
    assert "2 episodes run, 0 failed" in " ".join(text.split())
    from privy.bench import ResultStore

    with ResultStore(db) as store:
        rows = store.query("SELECT scenario_id, ended_by, episode_json FROM episodes ORDER BY scenario_id")
    ended = {r[0]: r[1] for r in rows}
    assert ended["mutual_friends_demo"] in ("committed", "left") and ended["hidden_profile_demo"] == "left"
    seats = {r[0]: json.loads(r[2])["backend"]["per_agent"] for r in rows}
    assert seats == {"hidden_profile_demo": {"ben": {"backend": "human", "human": True, "seat": "terminal"}},
                     "mutual_friends_demo": {"bob": {"backend": "human", "human": True, "seat": "terminal"}}}


@pytest.mark.parametrize(("backends", "args", "expected"), [
    ("agents: {bob: {name: human}}", ["--mode", "omniscient"],
     "agent bob: backend 'human' cannot play mode 'omniscient'; it plays agents, mindreaders"),
    ("default: {name: human}", [], "a person plays one agent of an episode"),
    ("agents: {alice: {name: human}, bob: {name: human}}", [], "a person plays one agent of an episode"),
])
def test_run_refuses_a_human_seat_it_cannot_give(backends: str, args: list[str], expected: str,
                                                 tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from privy.cli import app

    config = tmp_path / "b.yaml"
    config.write_text(backends, encoding="utf-8")
    out = tmp_path / "ep.json"
    result = CliRunner().invoke(app, ["run", str(MUTUAL), "--backends", str(config), "--out", str(out), *args],
                                env={"COLUMNS": "2000"})
    assert result.exit_code == 2, result.output
    assert expected in result.stderr and not out.exists()


@pytest.mark.llm
def test_a_person_plays_a_mindreader_against_the_embedded_model(tmp_path: Path) -> None:
    path = _short(tmp_path, max_turns=4, max_tokens=24)
    out = tmp_path / "ep.json"
    child = spawn("play", path, "--as", "bob", "--mode", "mindreaders", "--backend", "llama", "--out", out,
                  timeout=300)
    child.expect_exact("what Alice knows:")
    child.expect_exact("Alice is writing…")
    child.expect_exact("Bob → Alice > ")
    screen = child.before
    child.sendline("/commit Tess Moreau")
    if child.expect_exact(["Bob → Alice > ", pexpect.EOF]) == 0:  # Alice has not committed yet
        child.sendline("/leave")
    text, status = finish(child)
    assert status == 0, text
    ep = load_episode(out)
    assert ep.mode == "mindreaders" and ep.backend["backend"] == "llama"
    alice = [c for c in ep.calls if c.speaker == "alice"]
    assert alice and all(c.error is None and c.prompt_tokens for c in alice)
    assert ep.messages[0].sender == "alice" and ep.messages[0].content.strip()
    assert " ".join(ep.messages[0].content.split()[:3]) in " ".join(screen.split())  # on the screen before the prompt
    # Alice's model and the person at Bob's seat were both shown every agent's facts
    s = load_scenario(path)
    bob = next(c for c in ep.calls if c.speaker == "bob")
    for a in s.agents:
        for f in s.facts_of(a.id):
            assert f"{a.name} knows: {f.text}" in alice[0].input[0].content
            assert f"{a.name} knows: {f.text}" in bob.input[0].content
    assert ep.messages[1].sender == "bob" and ep.messages[1].content == "SELECT: Tess Moreau"


@pytest.mark.llm
def test_ctrl_c_while_the_model_writes_lets_the_call_finish_and_saves(tmp_path: Path) -> None:
    path = _short(tmp_path, max_turns=6, max_tokens=96)
    out = tmp_path / "ep.json"
    child = spawn("play", path, "--as", "bob", "--backend", "llama", "--out", out, timeout=300)
    child.expect_exact("Bob → Alice > ")
    child.sendline("Which of your friends likes jazz?")
    child.expect_exact("Which of your friends likes jazz?")  # delivered, then Alice's model is told to write
    child.expect_exact("Alice is writing…")
    child.sendintr()
    text, status = finish(child)
    assert status == 130, text
    assert "Traceback" not in text and "ended by interrupted" in text
    ep = load_episode(out)
    assert ep.outcome.ended_by == "interrupted"
    assert [m.sender for m in ep.messages][:2] == ["alice", "bob"]
    # A call in flight when Ctrl-C came finished whole; one not yet started was refused before it
    # began (the signal can land between "Alice is writing…" and the call): none was cut.
    refused = "interrupted (Ctrl-C) while the models played"
    for c in ep.calls:
        assert c.error is None or (c.error == refused and not c.output), (c.speaker, c.error, c.output)
    assert ep.calls[0].speaker == "alice" and ep.calls[0].error is None and ep.calls[0].output


def _short(tmp_path: Path, max_turns: int, max_tokens: int) -> Path:
    """The mutual-friends example with lower limits, written as a scenario file (a game on the real model)."""
    s = load_scenario(MUTUAL)
    s = s.model_copy(update={"limits": s.limits.model_copy(update={"max_turns": max_turns, "max_tokens": max_tokens})})
    path = tmp_path / "short.yaml"
    path.write_text(yaml.safe_dump(s.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
    return path
