"""Privacy is enforced by code, never by a prompt.

The central property (``agents`` mode): no model call made for agent A contains the
text of a private fact A does not hold, unless a message containing that text was
delivered to A (A sender or recipient) at an earlier turn. It is checked with
hypothesis over many generated scenarios, with a mock model that leaks every fact it
can see, so that facts really travel and the property is not vacuously true.

The oracles here never use the code under test to decide what an agent may know:
holders are read from ``Fact.holders``, out-neighbours are recomputed from the
scenario's topology, and deliveries are checked against ``sender``/``recipients``.
"""

from __future__ import annotations

import asyncio
import random
import string
from collections import Counter
from collections.abc import Callable

import pytest
from helpers import SCENARIO_DIR
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privy.scenarios.baselines import ScriptedBackend
from privy.simulator import (
    Episode,
    MessageBus,
    ModelCall,
    PrivyEnv,
    Scenario,
    TopologyError,
    Utterance,
    load_scenario,
    run_episode,
)
from privy.simulator import env as env_module
from privy.simulator.backends.base import ChatRequest
from privy.simulator.backends.mock import MockBackend
from privy.simulator.prompts import agent_prompt

MUTUAL_FRIENDS = SCENARIO_DIR / "mutual_friends.yaml"

# Agent id schemes. "p1"/"p10"/"p100" are substrings of each other: a visibility check
# written as a substring test ("p1" in "p10,p100") would leak between them.
ID_SCHEMES: list[list[str]] = [
    ["a0", "a1", "a2", "a3", "a4", "a5"],
    ["p1", "p10", "p100", "p0", "p11", "p101"],
]

# Public text (names, personas, goals, context, answers, filler) is lowercase ASCII.
# Fact texts always contain "~k<i>~", and "~" never occurs in public text or in the
# prompt templates, so a fact text can only appear in a prompt through a fact or a
# message that carries it, and no fact text is a substring of another.
PUBLIC_WORD = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=8)
PUBLIC_TEXT = st.lists(PUBLIC_WORD, min_size=1, max_size=6).map(" ".join)
# Fact tokens: any printable Unicode except "~" and whitespace (so that stripping a
# model's output never cuts a fact text at its ends).
FACT_TOKEN = st.text(
    alphabet=st.characters(
        exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), exclude_characters="~"
    ),
    min_size=1,
    max_size=6,
)
FILLER = ["ok", "hmm", "let us see", "what do you know", "interesting", "tell me more"]

EXAMPLES = 400  # agents-mode episodes
ENV_EXAMPLES = 300  # direct PrivyEnv runs


# ---------------------------------------------------------------------------------------
# Scenario strategy and independent oracles
# ---------------------------------------------------------------------------------------


@st.composite
def agent_ids(draw: st.DrawFn) -> list[str]:
    n = draw(st.integers(min_value=2, max_value=6))
    scheme = draw(st.sampled_from(["a", "p", "p", "prefix", "random"]))
    if scheme == "a":
        base = ID_SCHEMES[0][:n]
    elif scheme == "p":
        base = ID_SCHEMES[1][:n]  # always contains both p1 and p10
    elif scheme == "prefix":  # a random id, and longer ids that start with it
        root = draw(st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,3}", fullmatch=True))
        base = [root + suffix for suffix in ["", "0", "1", "00", "_", "-1"][:n]]
    else:
        base = draw(
            st.lists(
                st.from_regex(r"[A-Za-z][A-Za-z0-9_\-]{0,4}", fullmatch=True),
                min_size=n, max_size=n, unique=True,
            )
        )
    return list(draw(st.permutations(base)))


@st.composite
def topologies(draw: st.DrawFn, ids: list[str]) -> dict:
    """Complete, or random edges (directed or not); some agents may have no out-neighbour."""
    kind = draw(st.sampled_from(["complete", "directed", "undirected"]))
    if kind == "complete":
        return {"kind": "complete"}
    edges: list[tuple[str, str]] = []
    for a in ids:
        others = [b for b in ids if b != a]
        if draw(st.integers(0, 4)) == 0:
            continue  # a possible sink: no out-edge of its own (it may still get some)
        if kind == "directed":
            outs = draw(st.lists(st.sampled_from(others), min_size=1, unique=True))
            edges += [(a, b) for b in outs]
        else:
            b = draw(st.sampled_from(others))
            edges.append((a, b) if draw(st.booleans()) else (b, a))
    extra = draw(
        st.lists(
            st.tuples(st.sampled_from(ids), st.sampled_from(ids)).filter(lambda e: e[0] != e[1]),
            max_size=4,
        )
    )
    edges = list(draw(st.permutations(edges + extra))) or [(ids[0], ids[1])]
    return {"kind": "edges", "edges": edges, "directed": kind == "directed"}


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    ids = draw(agent_ids())
    n = len(ids)
    names = draw(st.lists(PUBLIC_WORD, min_size=n, max_size=n, unique=True))
    agents = [
        {
            "id": a,
            "name": name.capitalize(),
            "persona": draw(PUBLIC_TEXT),
            "goal": draw(PUBLIC_TEXT),
        }
        for a, name in zip(ids, names, strict=True)
    ]
    facts = []
    for i in range(draw(st.integers(min_value=1, max_value=8))):
        left = " ".join(draw(st.lists(FACT_TOKEN, min_size=1, max_size=3)))
        right = " ".join(draw(st.lists(FACT_TOKEN, min_size=1, max_size=3)))
        text = f"{left}~k{i}~{right}"
        facts.append({
            "id": f"f{i}",
            "text": text,
            "holders": draw(st.lists(st.sampled_from(ids), min_size=1, max_size=n, unique=True)),
            "mentions": [text] if draw(st.booleans()) else [],
        })
    fact_ids = [f["id"] for f in facts]
    task = {
        "kind": "select",
        "commitment": {"verb": draw(st.from_regex(r"[A-Z][A-Z_]{0,7}", fullmatch=True))},
        "answer": draw(PUBLIC_TEXT),
        "needed_facts": draw(st.lists(st.sampled_from(fact_ids), unique=True)),
        "ends_when": draw(st.sampled_from(["all_committed", "any_committed"])),
    }
    return Scenario.model_validate({
        "id": "generated",
        "title": "generated scenario",
        "context": draw(PUBLIC_TEXT),
        "agents": agents,
        "facts": facts,
        "topology": draw(topologies(ids)),
        "limits": {"max_turns": draw(st.integers(min_value=2, max_value=12))},
        "task": task,
    })


def out_neighbours(s: Scenario) -> dict[str, frozenset[str]]:
    """Who each agent may send to, recomputed from the scenario (not from simulator.bus)."""
    ids = s.agent_ids
    if s.topology.kind == "complete":
        return {a: frozenset(b for b in ids if b != a) for a in ids}
    out: dict[str, set[str]] = {a: set() for a in ids}
    for a, b in s.topology.edges:
        out[a].add(b)
        if not s.topology.directed:
            out[b].add(a)
    return {a: frozenset(bs) for a, bs in out.items()}


def held_texts(s: Scenario, agent: str) -> set[str]:
    return {f.text for f in s.facts if agent in f.holders}


def reached(agent: str, sender: str, recipients: frozenset[str]) -> bool:
    return agent == sender or agent in recipients


def isolation_violations(s: Scenario, episode: Episode) -> list[str]:
    """One line per (call, input message, fact text) the call's speaker may not know."""
    texts = {f.text for f in s.facts}
    problems = []
    for call in episode.calls:
        a = call.speaker
        assert a in s.agent_ids, f"call {call.index} has no agent speaker: {a!r}"
        delivered = [
            m for m in episode.messages
            if m.turn < call.turn and reached(a, m.sender, m.recipients)
        ]
        heard = {t for t in texts if any(t in m.content for m in delivered)}
        forbidden = texts - held_texts(s, a) - heard
        for j, chat in enumerate(call.input):
            for t in sorted(forbidden):
                if t in chat.content:
                    problems.append(
                        f"call {call.index} (speaker {a}, turn {call.turn}) input[{j}] "
                        f"contains fact text {t!r}"
                    )
    return problems


def leaky_respond(
    s: Scenario, p_leak: float = 1.0, p_commit: float = 0.0
) -> Callable[[ChatRequest], str]:
    """A model that repeats fact texts found in its own prompt (and sometimes commits)."""
    texts = [f.text for f in s.facts]
    verb = s.task.commitment.verb

    def respond(req: ChatRequest) -> str:
        rng = random.Random(req.seed)
        seen = [t for t in texts if any(t in m.content for m in req.messages)]
        parts: list[str] = []
        if seen and rng.random() < p_leak:
            parts += rng.sample(seen, rng.randint(1, len(seen)))
        if rng.random() < 0.3:
            parts.insert(rng.randint(0, len(parts)), rng.choice(FILLER))
        if rng.random() < p_commit:
            parts.append(f"{verb}: {rng.choice([s.task.answer, *FILLER])}")
        return rng.choice(["\n", " ", "; "]).join(parts) or rng.choice(FILLER)

    return respond


# ---------------------------------------------------------------------------------------
# 1-3. agents mode: no call sees a fact its speaker neither holds nor received earlier
# ---------------------------------------------------------------------------------------


def test_agents_mode_calls_only_contain_held_or_received_facts() -> None:
    stats: Counter[str] = Counter()

    @settings(
        max_examples=EXAMPLES, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        scenario=scenarios(),
        seed=st.integers(min_value=0, max_value=2**16),
        p_leak=st.sampled_from([0.6, 0.9, 1.0]),
        p_commit=st.sampled_from([0.0, 0.05, 0.2]),
    )
    def prop(scenario: Scenario, seed: int, p_leak: float, p_commit: float) -> None:
        backend = MockBackend(respond=leaky_respond(scenario, p_leak, p_commit))
        episode = asyncio.run(run_episode(scenario, "agents", backend, seed))
        stats["examples"] += 1
        assert episode.calls, "agents mode made no model call"
        assert [c.error for c in episode.calls] == [None] * len(episode.calls)

        # The record the oracle relies on is itself grounded in the scenario: the
        # runner broadcasts, so each message reaches exactly the sender's out-neighbours.
        nbrs = out_neighbours(scenario)
        for m in episode.messages:
            assert m.recipients == nbrs[m.sender], (m.sender, m.recipients, nbrs[m.sender])
            stats["sink_spoke"] += not m.recipients

        # The substring trap: a message that reaches an id containing X but not X,
        # followed by a call for X.
        for m in episode.messages:
            for x in set(scenario.agent_ids) - m.recipients - {m.sender}:
                if any(x in r for r in m.recipients) and any(
                    c.speaker == x and c.turn > m.turn for c in episode.calls
                ):
                    stats["substring_trap"] += 1
        violations = isolation_violations(scenario, episode)
        assert not violations, "\n".join(violations)

        # How much actually travelled: a call containing a fact its speaker did not hold.
        texts = {f.text for f in scenario.facts}
        received = [
            c for c in episode.calls
            if any(t in ch.content for ch in c.input for t in texts - held_texts(scenario, c.speaker))
        ]
        stats["with_received_fact"] += bool(received)
        stats["committed"] += episode.outcome.ended_by == "committed"
        stats["calls"] += len(episode.calls)

    prop()
    print(dict(stats))
    assert stats["examples"] >= EXAMPLES // 2
    # The property must not hold only because nothing was ever delivered.
    assert stats["with_received_fact"] >= 0.3 * stats["examples"], dict(stats)
    assert stats["committed"] >= 1, dict(stats)
    assert stats["sink_spoke"] >= 1, dict(stats)
    assert stats["substring_trap"] >= 10, dict(stats)


@pytest.mark.parametrize("bug", ["every_message_visible", "every_fact_held"])
def test_isolation_oracle_detects_a_leaky_simulator(
    bug: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Negative control: with a visibility bug patched in, the oracle above must fire."""
    s = Scenario.model_validate({
        "id": "control", "title": "control",
        "agents": [{"id": a, "name": a.upper(), "goal": "g"} for a in ("p1", "p10", "p100")],
        "facts": [
            {"id": "f0", "text": "alpha~k0~", "holders": ["p1"]},
            {"id": "f1", "text": "beta~k1~", "holders": ["p10"]},
            {"id": "f2", "text": "gamma~k2~", "holders": ["p100"]},
        ],
        # p1 and p10 talk to each other; p100 may only talk to p1 and hears nothing.
        "topology": {"kind": "edges", "directed": True,
                     "edges": [["p1", "p10"], ["p10", "p1"], ["p100", "p1"]]},
        "limits": {"max_turns": 6},
        "task": {"kind": "select", "answer": "x"},
    })
    clean = asyncio.run(run_episode(s, "agents", MockBackend(respond=leaky_respond(s)), 0))
    assert isolation_violations(s, clean) == []
    if bug == "every_message_visible":
        monkeypatch.setattr(MessageBus, "seen_by", lambda self, agent: list(self.messages))
    else:
        monkeypatch.setattr(Scenario, "facts_of", lambda self, agent: list(self.facts))
        # the environment derives each agent's facts once per scenario object: forget the
        # clean run's, so that the injected bug reaches the environment
        monkeypatch.setattr(env_module, "_LAYOUTS", type(env_module._LAYOUTS)())
    leaky = asyncio.run(run_episode(s, "agents", MockBackend(respond=leaky_respond(s)), 0))
    assert any("speaker p100" in v for v in isolation_violations(s, leaky))


# ---------------------------------------------------------------------------------------
# 4. The other modes see everything, on purpose; agents mode does not
# ---------------------------------------------------------------------------------------


def _only_others(s: Scenario, agent: str) -> set[str]:
    """Texts of facts held by someone else and not (under the same text) by ``agent``."""
    return {f.text for f in s.facts} - held_texts(s, agent)


def _input_text(call: ModelCall) -> str:
    return "\n".join(m.content for m in call.input)


@pytest.mark.parametrize("mode", ["mindreaders", "omniscient"])
def test_state_modes_see_other_agents_facts(mode: str) -> None:
    s = load_scenario(MUTUAL_FRIENDS)
    episode = asyncio.run(run_episode(s, mode, MockBackend(outputs=["Hello."]), 0))
    first = episode.calls[0]
    assert first.speaker == "alice"
    bob_only = _only_others(s, "alice")
    assert bob_only and bob_only <= held_texts(s, "bob")
    assert any(t in _input_text(first) for t in bob_only)


def test_script_mode_sees_both_agents_facts() -> None:
    s = load_scenario(MUTUAL_FRIENDS)
    backend = MockBackend(outputs=["Alice: Hi Bob.\nBob: Hi Alice."])
    episode = asyncio.run(run_episode(s, "script", backend, 0))
    assert len(episode.calls) == 1
    text = _input_text(episode.calls[0])
    for agent in ("alice", "bob"):
        own_only = held_texts(s, agent) - held_texts(s, "bob" if agent == "alice" else "alice")
        assert own_only
        assert any(t in text for t in own_only), agent


def test_agents_mode_alice_does_not_see_bobs_facts() -> None:
    s = load_scenario(MUTUAL_FRIENDS)
    episode = asyncio.run(run_episode(s, "agents", ScriptedBackend(), 0))
    alice_calls = [c for c in episode.calls if c.speaker == "alice"]
    first = alice_calls[0]
    assert first.turn == 0
    bob_only = _only_others(s, "alice")
    assert bob_only
    assert not [t for t in bob_only if t in _input_text(first)]
    assert any(t in _input_text(first) for t in held_texts(s, "alice"))
    # Positive control: facts do travel through messages. Alice shares her list at
    # turn 0, so Bob's first call contains facts only Alice holds.
    bob_first = next(c for c in episode.calls if c.speaker == "bob")
    assert any(t in _input_text(bob_first) for t in _only_others(s, "bob"))
    assert isolation_violations(s, episode) == []


# ---------------------------------------------------------------------------------------
# 5. The environment: deliveries follow the topology; observe() shows exactly one's own
# ---------------------------------------------------------------------------------------


def _check_views(
    env: PrivyEnv,
    s: Scenario,
    nbrs: dict[str, frozenset[str]],
    log: list[tuple[str, frozenset[str], str, int]],
    known: dict[str, set[str]],
) -> None:
    texts = {f.text for f in s.facts}
    everything = [(m.sender, m.recipients, m.content, m.turn) for m in env.state().messages]
    assert everything == log
    for sender, recipients, _, _ in log:
        assert recipients <= nbrs[sender], (sender, recipients, nbrs[sender])
        assert recipients or not nbrs[sender], "a message was delivered to nobody"
    for x in s.agent_ids:
        obs = env.observe(x)
        assert obs.agent.id == x
        assert obs.neighbours == nbrs[x]
        assert [f.id for f in obs.facts] == [f.id for f in s.facts if x in f.holders]
        got = [(m.sender, m.recipients, m.content, m.turn) for m in obs.messages]
        assert got == [e for e in log if reached(x, e[0], e[1])], x
        for m in env.state().messages:
            assert m.visible_to(x) == reached(x, m.sender, m.recipients)
        for j, chat in enumerate(agent_prompt(obs)):
            leaked = [t for t in texts - known[x] if t in chat.content]
            assert not leaked, (x, j, leaked)


def test_env_delivers_along_topology_and_observe_is_exact() -> None:
    stats: Counter[str] = Counter()

    @settings(
        max_examples=ENV_EXAMPLES, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(scenario=scenarios(), data=st.data())
    def prop(scenario: Scenario, data: st.DataObject) -> None:
        stats["examples"] += 1
        ids = scenario.agent_ids
        if {"p1", "p10"} <= set(ids):
            stats["p1_and_p10"] += 1
        nbrs = out_neighbours(scenario)
        texts = [f.text for f in scenario.facts]
        verb = scenario.task.commitment.verb
        known = {a: held_texts(scenario, a) for a in ids}
        env = PrivyEnv(scenario)
        env.reset(seed=0)
        log: list[tuple[str, frozenset[str], str, int]] = []
        _check_views(env, scenario, nbrs, log, known)

        for _ in range(3 * scenario.limits.max_turns):
            agent = env.agent_selection
            if env.terminations[agent] or env.truncations[agent]:
                break
            mine = sorted(t for t in texts if t in known[agent])
            parts = data.draw(st.lists(st.sampled_from(mine), unique=True)) if mine else []
            parts.append(data.draw(st.sampled_from(FILLER)))
            if data.draw(st.integers(0, 9)) == 0:
                parts.append(f"{verb}: {data.draw(PUBLIC_WORD)}")
            content = "\n".join(parts)
            neighbours = sorted(nbrs[agent])
            hows = ["broadcast", "subset", "subset", "illegal"]
            how = data.draw(st.sampled_from(hows if neighbours else ["broadcast", "illegal"]))
            if how == "illegal":
                outsiders = sorted(set(ids) - nbrs[agent])  # always holds the agent itself
                bad = data.draw(st.lists(st.sampled_from(outsiders), max_size=2, unique=True))
                ok = data.draw(st.lists(st.sampled_from(neighbours), unique=True)) if neighbours else []
                # Either nobody at all, or at least one non-neighbour (possibly itself).
                to = frozenset(ok) | frozenset(bad) if bad else frozenset()
                if bad:
                    assert not env.action_space(agent).contains(Utterance(content=content, to=to))
                before = (len(env.state().messages), env.turn, env.agent_selection)
                with pytest.raises(TopologyError):
                    env.step(Utterance(content=content, to=to))
                assert (len(env.state().messages), env.turn, env.agent_selection) == before
                stats["refused"] += 1
                _check_views(env, scenario, nbrs, log, known)
                continue
            if how == "broadcast":
                to = None
                recipients = nbrs[agent]
            else:
                chosen = data.draw(
                    st.lists(st.sampled_from(neighbours), min_size=1, unique=True)
                )
                to = recipients = frozenset(chosen)
                if recipients != nbrs[agent]:
                    stats["directed"] += 1
                    if {"p1", "p10"} & (nbrs[agent] - recipients):
                        stats["directed_excluding_p1_or_p10"] += 1
            action = Utterance(content=content, to=to)
            assert env.action_space(agent).contains(action)
            turn = env.turn
            env.step(action)
            log.append((agent, recipients, content, turn))
            carried = {t for t in texts if t in content}
            for x in recipients | {agent}:
                known[x] |= carried
            if carried and set(ids) - recipients - {agent}:
                stats["fact_kept_from_someone"] += 1
            _check_views(env, scenario, nbrs, log, known)

    prop()
    print(dict(stats))
    assert stats["examples"] >= ENV_EXAMPLES // 2
    # Directed messages, refusals and facts withheld from someone must really happen.
    assert stats["p1_and_p10"] >= 0.15 * stats["examples"], dict(stats)
    assert stats["directed"] >= 0.3 * stats["examples"], dict(stats)
    assert stats["directed_excluding_p1_or_p10"] >= 10, dict(stats)
    assert stats["refused"] >= 0.3 * stats["examples"], dict(stats)
    assert stats["fact_kept_from_someone"] >= 0.3 * stats["examples"], dict(stats)


def test_p1_does_not_see_messages_to_p10() -> None:
    """A fixed case of the substring trap: ids p1, p10, p100 in a complete graph."""
    s = Scenario.model_validate({
        "id": "prefixes", "title": "prefixes",
        "agents": [{"id": a, "name": a.upper(), "goal": "g"} for a in ("p1", "p10", "p100")],
        "facts": [{"id": "f0", "text": "secret~k0~", "holders": ["p1"]}],
        "task": {"kind": "select", "answer": "x"},
    })
    env = PrivyEnv(s)
    env.step(Utterance(content="to p10 only: secret~k0~", to=frozenset({"p10"})))  # p1 speaks
    env.step(Utterance(content="to p100 only", to=frozenset({"p100"})))  # p10 speaks
    assert [m.content for m in env.observe("p1").messages] == ["to p10 only: secret~k0~"]
    assert [m.content for m in env.observe("p10").messages] == [
        "to p10 only: secret~k0~", "to p100 only",
    ]
    assert [m.content for m in env.observe("p100").messages] == ["to p100 only"]
    assert "secret~k0~" not in "\n".join(c.content for c in agent_prompt(env.observe("p100")))
    assert "secret~k0~" in "\n".join(c.content for c in agent_prompt(env.observe("p10")))


# ---------------------------------------------------------------------------------------
# An agent without out-neighbours speaks to no one (and is not a way around isolation)
# ---------------------------------------------------------------------------------------


def test_agent_without_out_neighbours_reaches_no_one() -> None:
    s = Scenario.model_validate({
        "id": "sink", "title": "sink",
        "agents": [{"id": a, "name": a.upper(), "goal": "g"} for a in ("a0", "a1", "a2")],
        "facts": [
            {"id": "f0", "text": "zero~k0~", "holders": ["a0"]},
            {"id": "f1", "text": "one~k1~", "holders": ["a1"]},
        ],
        # a1 is a sink: it hears a0 but may send to no one.
        "topology": {"kind": "edges", "directed": True,
                     "edges": [["a0", "a1"], ["a0", "a2"], ["a2", "a0"]]},
        "limits": {"max_turns": 6},
        "task": {"kind": "select", "answer": "x"},
    })
    episode = asyncio.run(run_episode(s, "agents", MockBackend(respond=leaky_respond(s)), 0))
    assert episode.outcome.ended_by == "turn_limit"
    assert [m.sender for m in episode.messages] == ["a0", "a1", "a2"] * 2
    from_sink = [m for m in episode.messages if m.sender == "a1"]
    assert all(m.recipients == frozenset() for m in from_sink)
    assert any("one~k1~" in m.content for m in from_sink)  # it did try to leak its fact
    for call in episode.calls:
        if call.speaker != "a1":
            assert "one~k1~" not in _input_text(call)
    assert isolation_violations(s, episode) == []


# ---------------------------------------------------------------------------------------
# 5. The runner's incremental prompts are agent_prompt's, turn by turn
# ---------------------------------------------------------------------------------------


def test_incremental_prompts_equal_agent_prompt_at_every_turn() -> None:
    """``AgentPrompts`` (what the runner sends) builds each prompt by extending the last;
    it must give exactly ``agent_prompt(obs)`` (a pure function of the Observation)."""
    from privy.simulator.prompts import AgentPrompts

    stats: Counter[str] = Counter()

    @settings(max_examples=150, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(scenario=scenarios(), seed=st.integers(min_value=0, max_value=2**16))
    def prop(scenario: Scenario, seed: int) -> None:
        env = PrivyEnv(scenario)
        env.reset(seed=seed)
        prompts = AgentPrompts()
        respond = leaky_respond(scenario)
        rng = random.Random(seed)
        for agent in env.agent_iter():
            _, _, terminated, truncated, _ = env.last(observe=False)
            if terminated or truncated:
                env.step(None)
                continue
            obs = env.observe(agent)
            got = prompts(obs)
            assert list(got) == agent_prompt(obs)
            stats["lines"] += len(got)
            req = ChatRequest(messages=got, view=obs, speaker=agent, seed=rng.randrange(2**31))
            env.step(Utterance(content=respond(req)))
        # an Observation that does not extend the agent's last one is built from scratch
        first = scenario.agent_ids[0]
        fresh = PrivyEnv(scenario).observe(first)
        assert list(prompts(fresh)) == agent_prompt(fresh)
        stats["examples"] += 1

    prop()
    assert stats["examples"] >= 75 and stats["lines"] > 10 * stats["examples"], dict(stats)


# ---------------------------------------------------------------------------------------
# Direct messages: a DM reaches its addressees only (simulator/moves.py, issue 18)
# ---------------------------------------------------------------------------------------


def dm_respond(s: Scenario) -> Callable[[ChatRequest], str]:
    """A model that addresses a random subset of its neighbours (or everyone) with a unique marker."""

    def respond(req: ChatRequest) -> str:
        rng = random.Random(req.seed)
        obs = req.view
        assert obs is not None and not hasattr(obs, "scenario"), "agents mode: the request carries an Observation"
        marker = f"~dm{req.seed}~"
        nbrs = sorted(obs.neighbours)  # type: ignore[union-attr]
        if nbrs and rng.random() < 0.8:
            chosen = rng.sample(nbrs, rng.randint(1, len(nbrs)))
            return "TO " + ", ".join(obs.names[a] for a in chosen) + f": {marker} {rng.choice(FILLER)}"  # type: ignore[union-attr]
        return f"{marker} {rng.choice(FILLER)}"

    return respond


def test_a_dm_is_never_in_a_third_agents_prompt() -> None:
    stats: Counter[str] = Counter()

    @settings(
        max_examples=150, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(scenario=scenarios(), seed=st.integers(min_value=0, max_value=2**16))
    def prop(scenario: Scenario, seed: int) -> None:
        names = {a.id: a.name for a in scenario.agents}
        by_name = {n: a for a, n in names.items()}
        nbrs = out_neighbours(scenario)  # recomputed from the scenario, not from simulator.bus
        episode = asyncio.run(run_episode(scenario, "agents", MockBackend(respond=dm_respond(scenario)), seed))
        sent: dict[str, tuple[str, frozenset[str], int]] = {}
        for m, call in zip(episode.messages, episode.calls, strict=True):
            out = call.output or ""
            marker = out[out.index("~dm"):out.index("~", out.index("~dm") + 1) + 1]
            if out.startswith("TO "):
                chosen = frozenset(by_name[n] for n in out[3:out.index(": ")].split(", "))
                assert m.recipients == chosen, (out, m.recipients)
                assert m.content == out[out.index(": ") + 2:]
                assert not [n for n in call.notes if "address" in n or "send to" in n], call.notes
                stats["dm"] += 1
                stats["dm_excludes_a_neighbour"] += chosen < nbrs[m.sender]
            else:
                assert m.recipients == nbrs[m.sender]
            sent[marker] = (m.sender, m.recipients, m.turn)
        for call in episode.calls:
            for marker, (sender, recipients, turn) in sent.items():
                if any(marker in line.content for line in call.input):
                    assert call.speaker in recipients | {sender} and turn < call.turn, (call.speaker, marker)
                    stats["dm_seen"] += call.speaker != sender

    prop()
    print(dict(stats))
    # not vacuous: DMs were sent, some leaving out a neighbour, and some were read by their addressees
    assert stats["dm"] >= 100 and stats["dm_excludes_a_neighbour"] >= 20 and stats["dm_seen"] >= 50, dict(stats)
