"""The move protocol (simulator/moves.py): moves generated from the scenario, the grammar, one parser.

No model here: the moves of every family's generated instances, the parser on typed
text, addressing through the runner with a mock backend, and the prompts' neighbours.
"""

from __future__ import annotations

import asyncio
import re

import pytest
from helpers import SCENARIO_DIR

from privy.scenarios.families import generate, names
from privy.simulator import PrivyEnv, Scenario, load_scenario, run_episode
from privy.simulator.backends.base import ChatRequest
from privy.simulator.backends.mock import MockBackend
from privy.simulator.modes import RUNNABLE, Mode, request_for, script_request, turn_moves
from privy.simulator.moves import Moves, grammar, observed_moves, parse_move, script_grammar, state_moves
from privy.simulator.prompts import agent_prompt


def instance(family: str) -> Scenario:
    return generate(family, 1, seed=3)[0]


def star() -> Scenario:
    """Carol talks with Alice and Bob, who cannot talk to each other."""
    return Scenario.model_validate({
        "id": "star", "title": "star",
        "agents": [{"id": i, "name": i.capitalize(), "goal": "agree"} for i in ("alice", "bob", "carol")],
        "facts": [{"id": "a_secret", "text": "Alice's secret: the code is 4711.", "holders": ["alice"]}],
        "topology": {"kind": "edges", "edges": [["carol", "alice"], ["carol", "bob"]]},
        "limits": {"max_turns": 6},
        "task": {"kind": "decide", "commitment": {"verb": "DECIDE"}, "options": ["red", "blue"], "answer": "red"},
    })


# ---------------------------------------------------------------------------------------
# generating the moves, every family
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("family", names())
def test_moves_of_every_family_come_from_its_scenario(family: str) -> None:
    s = instance(family)
    env = PrivyEnv(s)
    env.reset(seed=0)
    names = {a.id: a.name for a in s.agents}
    committers = s.task.committers or s.agent_ids
    for agent in s.agent_ids:
        obs = env.observe(agent)
        m = observed_moves(obs)
        assert [a for a, _ in m.neighbours] == [a for a in s.agent_ids if a != agent]  # complete topology
        assert (m.verb is not None) == (agent in committers)
        if m.verb is not None:
            assert m.verb == s.task.commitment.verb
        if s.task.kind == "decide":
            assert m.values == tuple(s.task.options)
        elif s.task.kind == "select":
            # the names the agent's own facts mention, the shared answer among them
            assert m.values and s.task.answer in m.values
            assert set(m.values) <= {x.literal for f in s.facts_of(agent) for x in f.mentions}
        elif s.task.kind == "deal":
            assert s.task.deal is not None and dict(m.deal_items) == s.task.deal.items
        else:
            assert m.values is None  # free answers
        # the omniscient writer may commit to any name of any agent's facts
        full = state_moves(env.state(), agent)
        if s.task.kind == "select":
            assert full.values is not None and m.values is not None and set(m.values) < set(full.values)
        g = grammar(m)
        for _, name in m.neighbours:
            assert f'"{name}"' in g
        if m.verb is not None:
            assert f'"{m.verb}: "' in g
        assert names[agent] == m.name


@pytest.mark.parametrize("family", names())
def test_every_grammar_compiles_in_llama_cpp(family: str) -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    s = instance(family)
    env = PrivyEnv(s)
    env.reset(seed=0)
    for mode in (Mode.AGENTS, Mode.OMNISCIENT):
        for agent in s.agent_ids:
            llama_cpp.LlamaGrammar.from_string(request_for(env, mode, agent, 0).grammar or "", verbose=False)
    req = script_request(env, 0)
    assert req.grammar is not None
    llama_cpp.LlamaGrammar.from_string(req.grammar, verbose=False)


def test_a_committers_last_turn_allows_only_a_commitment() -> None:
    s = load_scenario(SCENARIO_DIR / "mutual_friends.yaml")  # 2 agents, 10 turns
    env = PrivyEnv(s)
    env.reset(seed=0)
    m = observed_moves(env.observe("alice"))
    assert not m.must_commit and m.turns_left == 10
    for turn in range(8):
        env.step(env.action_space(env.agent_selection).sample().model_copy(update={"content": "hello"}))
        assert env.turn == turn + 1
    m = observed_moves(env.observe("alice"))
    assert m.must_commit and m.turns_left == 2
    g = grammar(m)
    assert "say" not in g and re.search(r'^move ::= addr\? \(commit\)$', g, re.M)
    prompt = agent_prompt(env.observe("alice"))
    assert "This is your last message: commit now with 'SELECT: <name>'" in prompt[-1].content
    # an agent that has committed already is not forced again
    env2 = PrivyEnv(s)
    env2.reset(seed=0)
    env2.step(env2.action_space("alice").sample().model_copy(update={"content": "SELECT: Tess Moreau"}))
    for _ in range(7):
        env2.step(env2.action_space(env2.agent_selection).sample().model_copy(update={"content": "hm"}))
    assert not observed_moves(env2.observe("alice")).must_commit


def test_non_committers_have_no_commit_move() -> None:
    s = instance("tutoring")  # only the student commits
    env = PrivyEnv(s)
    env.reset(seed=0)
    teacher = next(a for a in s.agent_ids if a not in s.task.committers)
    m = observed_moves(env.observe(teacher))
    assert m.verb is None and "commit" not in grammar(m)
    assert "does not commit" in agent_prompt(env.observe(teacher))[0].content


def test_script_grammar_is_name_lines_in_turn_order_with_commit_lines_last() -> None:
    s = load_scenario(SCENARIO_DIR / "hidden_profile.yaml")
    env = PrivyEnv(s)
    env.reset(seed=0)
    g = script_request(env, 0).grammar
    assert g is not None
    root = re.search(r"^root ::= (.*)$", g, re.M)
    assert root is not None and root.group(1).split() == [f"t{i}" for i in range(s.limits.max_turns)]
    names = [a.name for a in s.agents]
    for i in range(s.limits.max_turns):
        line = re.search(rf'^t{i} ::= "(.+?): " (\w+) "\\n"$', g, re.M)
        assert line is not None and line.group(1) == names[i % len(names)]
        last = i >= s.limits.max_turns - len(names)
        move = re.search(rf"^{line.group(2)} ::= (.*)$", g, re.M)
        assert move is not None and ("say" not in move.group(1)) == last, (i, move.group(1))
    assert script_grammar([]) == "root ::= \n"


# ---------------------------------------------------------------------------------------
# parsing
# ---------------------------------------------------------------------------------------


def moves_of(s: Scenario, agent: str) -> Moves:
    env = PrivyEnv(s)
    env.reset(seed=0)
    return observed_moves(env.observe(agent))


def test_parse_addresses_and_strips_the_prefix() -> None:
    s = star()
    carol = moves_of(s, "carol")
    names = {a.id: a.name for a in s.agents}
    u, notes = parse_move("TO Bob: just between us, pick red", carol, names)
    assert u.to == frozenset({"bob"}) and u.content == "just between us, pick red" and notes == []
    u, notes = parse_move("TO Alice, bob: hello both", carol, names)
    assert u.to == frozenset({"alice", "bob"}) and u.content == "hello both" and notes == []
    u, notes = parse_move("plain broadcast\nDECIDE: red", carol, names)
    assert u.to is None and u.content == "plain broadcast\nDECIDE: red" and notes == []


def test_unreachable_and_unknown_addresses_are_noted_not_raised() -> None:
    s = star()
    alice = moves_of(s, "alice")  # Alice reaches Carol only
    names = {a.id: a.name for a in s.agents}
    u, notes = parse_move("TO Bob: psst", alice, names)
    assert u.to is None and u.content == "TO Bob: psst"  # as written, to her neighbours
    assert notes[0] == "move: Alice cannot send to Bob: not a neighbour (neighbours: Carol)"
    assert notes[1] == "move: no reachable addressee; sent to every neighbour as written"
    u, notes = parse_move("TO Zed, Carol: hi", alice, names)
    assert u.to == frozenset({"carol"}) and u.content == "hi"
    assert notes == ["move: address 'Zed' names no agent; expected one of Carol"]


def test_illegal_commitments_are_noted() -> None:
    s = star()
    carol = moves_of(s, "carol")
    assert parse_move("DECIDE: Blue", carol)[1] == []  # any case
    assert parse_move("DECIDE: green", carol)[1] == ["move: DECIDE value 'green' is not one of red, blue"]
    deal = instance("deal_or_no_deal")
    m = moves_of(deal, deal.agent_ids[0])
    items = dict(m.deal_items)
    ok = " ".join(f"{i}={n}" for i, n in items.items())
    assert parse_move(f"fine\nDEAL: {ok}", m)[1] == []
    too_many = " ".join(f"{i}={n + 1}" for i, n in items.items())
    assert parse_move(f"DEAL: {too_many}", m)[1][0].startswith("move: DEAL value")
    assert parse_move("DEAL: pony=1", m)[1][0].startswith("move: DEAL value")
    assert parse_move("   ", m)[1] == ["move: empty message"]


# ---------------------------------------------------------------------------------------
# through the runner, with a mock model
# ---------------------------------------------------------------------------------------


def test_runner_delivers_a_dm_only_to_its_addressee() -> None:
    s = star()
    lines = {"alice": "I told Carol.", "bob": "ok", "carol": "TO Bob: Alice's secret: the code is 4711."}

    def respond(req: ChatRequest) -> str:
        assert req.speaker is not None
        return lines[req.speaker]

    ep = asyncio.run(run_episode(s, "agents", MockBackend(respond=respond), seed=0))
    dm = [m for m in ep.messages if m.sender == "carol"]
    assert dm and all(m.recipients == frozenset({"bob"}) for m in dm)
    assert all(m.content == "Alice's secret: the code is 4711." for m in dm)
    # Alice never sees Carol's DM to Bob in any later prompt (she holds the fact herself: check the DM line)
    for c in ep.calls:
        if c.speaker == "alice":
            assert not any(line.content.startswith("Carol") for line in c.input)
        if c.speaker == "bob" and c.turn > dm[0].turn:
            assert any(line.content == "Carol (to Bob): Alice's secret: the code is 4711." for line in c.input)
        if c.speaker == "carol" and c.turn > dm[0].turn:
            assert any(line.content == "TO Bob: Alice's secret: the code is 4711." for line in c.input)


def test_runner_notes_an_unreachable_address_and_goes_on() -> None:
    s = star()
    ep = asyncio.run(run_episode(s, "agents", MockBackend(outputs=["TO Bob: hi"]), seed=0))
    assert ep.outcome.ended_by == "turn_limit" and len(ep.messages) == s.limits.max_turns
    alice_calls = [c for c in ep.calls if c.speaker == "alice"]
    assert alice_calls and all("move: Alice cannot send to Bob: not a neighbour (neighbours: Carol)" in c.notes
                               for c in alice_calls)
    assert all(m.recipients == frozenset({"carol"}) for m in ep.messages if m.sender == "alice")


def test_script_lines_may_address_too() -> None:
    s = star()
    script = ("Alice: hi\nBob: hello\nCarol: TO Alice: only you\n"
              "Alice: DECIDE: red\nBob: DECIDE: red\nCarol: DECIDE: red\n")
    ep = asyncio.run(run_episode(s, "script", MockBackend(outputs=[script]), seed=0))
    carol = [m for m in ep.messages if m.sender == "carol"]
    assert carol[0].recipients == frozenset({"alice"}) and carol[0].content == "only you"
    assert ep.outcome.ended_by == "committed" and ep.calls[0].notes == []


def test_prompts_list_exactly_the_neighbours_in_every_mode() -> None:
    s = star()
    env = PrivyEnv(s)
    env.reset(seed=0)
    for mode in RUNNABLE:
        if mode is Mode.SCRIPT:
            text = "\n".join(m.content for m in script_request(env, 0).messages)
            assert "Alice can send messages to: Carol." in text and "Bob can send messages to: Carol." in text
            assert "Carol can send messages to: Alice, Bob." in text
            continue
        req = request_for(env, mode, "alice", 0)
        text = "\n".join(m.content for m in req.messages)
        assert "Alice can send messages to: Carol." in text, mode
        assert "You are talking with" not in text
        assert turn_moves(env, mode, "alice").neighbours == (("carol", "Carol"),)


def test_the_rules_text_is_the_same_in_every_mode() -> None:
    s = load_scenario(SCENARIO_DIR / "hidden_profile.yaml")
    env = PrivyEnv(s)
    env.reset(seed=0)
    agent = s.agent_ids[0]
    texts = {mode: "\n".join(m.content for m in request_for(env, mode, agent, 0).messages)
             for mode in (Mode.AGENTS, Mode.MINDREADERS, Mode.OMNISCIENT)}
    rules = request_for(env, Mode.AGENTS, agent, 0).messages[0].content.splitlines()[-1]  # the moves
    cue = request_for(env, Mode.AGENTS, agent, 0).messages[-1].content
    for text in [*texts.values(), "\n".join(m.content for m in script_request(env, 0).messages)]:
        assert rules in text
    for mode in (Mode.MINDREADERS, Mode.OMNISCIENT):
        assert cue in texts[mode]


# ---------------------------------------------------------------------------------------
# limits.commit_after: commitments held back, the same rule in every mode
# ---------------------------------------------------------------------------------------


def held_back(k: int) -> Scenario:
    s = load_scenario(SCENARIO_DIR / "mutual_friends.yaml")  # 2 agents, 10 turns
    return s.model_copy(update={"limits": s.limits.model_copy(update={"commit_after": k})})


def test_commit_after_holds_the_commit_move_back_in_every_mode() -> None:
    s = held_back(1)
    env = PrivyEnv(s)
    env.reset(seed=0)
    for mode in (Mode.AGENTS, Mode.MINDREADERS, Mode.OMNISCIENT):
        m = turn_moves(env, mode, "alice")
        assert m.held == 1 and not m.may_commit and m.can_commit, mode
        g = request_for(env, mode, "alice", 0, moves=m).grammar or ""
        assert "commit" not in g and "SELECT" not in g, mode
        text = "\n".join(x.content for x in request_for(env, mode, "alice", 0).messages)
        assert "Alice may commit only after sending 1 message." in text, mode
        assert "it cannot be a commitment yet" in text, mode
    utterance, notes = parse_move("SELECT: Tess Moreau", turn_moves(env, Mode.AGENTS, "alice"))
    assert notes == ["move: Alice may not commit yet: 1 more message first (limits.commit_after: 1)"]
    env.step(env.action_space("alice").sample().model_copy(update={"content": "hello"}))
    env.step(env.action_space("bob").sample().model_copy(update={"content": "hi"}))
    for mode in (Mode.AGENTS, Mode.MINDREADERS, Mode.OMNISCIENT):
        m = turn_moves(env, mode, "alice")
        assert m.held == 0 and m.may_commit, mode
        assert '"SELECT: "' in (request_for(env, mode, "alice", 0, moves=m).grammar or "")
        assert "it cannot be a commitment yet" not in request_for(env, mode, "alice", 0).messages[-1].content
    assert parse_move("SELECT: Tess Moreau", turn_moves(env, Mode.AGENTS, "alice"))[1] == []
    # without the rule (the default) the first message may commit, and the prompt says nothing of it
    plain = PrivyEnv(held_back(0))
    plain.reset(seed=0)
    m = turn_moves(plain, Mode.AGENTS, "alice")
    assert m.may_commit and m.held == 0
    assert "may commit only after" not in agent_prompt(plain.observe("alice"))[0].content


def test_commit_after_never_overrides_the_last_turns_commitment() -> None:
    s = held_back(5)  # more than the 5 messages each agent gets: only the last one may (and must) commit
    env = PrivyEnv(s)
    env.reset(seed=0)
    for _ in range(8):
        m = turn_moves(env, Mode.AGENTS, env.agent_selection)
        assert not m.may_commit and "commit" not in grammar(m)
        env.step(env.action_space(env.agent_selection).sample().model_copy(update={"content": "hello"}))
    m = turn_moves(env, Mode.OMNISCIENT, "alice")
    assert m.must_commit and m.may_commit and m.held == 1
    assert re.search(r'^move ::= addr\? \(commit\)$', grammar(m), re.M)


def test_commit_after_in_a_script_counts_the_scripts_earlier_lines() -> None:
    s = held_back(1)
    env = PrivyEnv(s)
    env.reset(seed=0)
    g = script_request(env, 0).grammar or ""
    for i in range(s.limits.max_turns):
        line = re.search(rf'^t{i} ::= "(.+?): " (\w+) "\\n"$', g, re.M)
        assert line is not None
        move = re.search(rf"^{line.group(2)} ::= (.*)$", g, re.M)
        assert move is not None
        # each agent's first line (turns 0 and 1) may not commit; later ones may; the last two must
        assert ("commit" in move.group(1)) == (i >= 2), (i, move.group(1))
        assert ("say" in move.group(1)) == (i < s.limits.max_turns - 2), (i, move.group(1))


def test_commit_after_is_written_only_when_set() -> None:
    """Scenario files, logs and cell keys from before the field stay the same; a set value round-trips."""
    plain = load_scenario(SCENARIO_DIR / "mutual_friends.yaml")
    assert plain.limits.commit_after == 0 and "commit_after" not in plain.model_dump(mode="json")["limits"]
    held = held_back(2)
    assert held.model_dump(mode="json")["limits"]["commit_after"] == 2
    assert Scenario.model_validate_json(held.model_dump_json()).limits.commit_after == 2
