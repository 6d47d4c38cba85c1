"""A known-answer test of ΔBelief, with no model: the scripted references in ``agents`` mode, probed every turn.

On generated MutualFriends instances each agent holds a list; exactly one friend is on
both. The agents-mode reference shares its list, and the partner answers by naming the
friend they share. The reference's belief (``reference_rule``: the options of its own list
named in what it was told share the mass, else uniform) is a rule, not a model, so the
answer is known: an agent's belief in the truth is flat until the message that tells it
the fact it was missing (its partner's entry for the shared friend, by the fact ledger),
and rises there. The whole pipeline (suite, probes, ``belief`` evaluator, store, report)
must credit that message, and only that one, in the ΔBelief ranking. A control run where
no friend is shared (the family's ``withhold``) has no such message and no positive
ΔBelief. If probes were taken from the wrong view, credited to the wrong message or ranked
wrongly, this fails.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from privy.bench import Grid, ResultStore, build_report, load_suite, run_bench
from privy.bench.report import Report
from privy.bench.store import open_reader
from privy.evaluators.belief import credits, truth_logprob
from privy.evaluators.ledger import Ledger
from privy.scenarios import families
from privy.simulator.episode import Episode

COUNT = 6
Runs = dict[str, tuple[Report, dict[str, Episode]]]


def _run(d: Path, name: str, scenarios: list[dict[str, object]]) -> tuple[Report, dict[str, Episode]]:
    """The report of an agents-mode suite probed every turn, and its episodes by cell key."""
    path = d / f"{name}.suite.yaml"
    path.write_text(yaml.safe_dump({
        "name": name, "scenarios": scenarios, "modes": ["agents"], "backends": [{"name": "scripted"}],
        "seeds": [0], "evaluators": ["task_success"], "probes": {"every": 1, "facts": 1}}), encoding="utf-8")
    suite, base = load_suite(path)
    with ResultStore(d / f"{name}.db") as store:
        run_bench(suite, Grid(suite, base), store, jobs=1)
    with open_reader(d / f"{name}.db") as reader:
        eps = {r.key: Episode.model_validate_json(r.episode_json) for r in reader.probed_episodes() if r.episode_json}
    return build_report(d / f"{name}.db", n_resamples=50), eps


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    d = tmp_path_factory.mktemp("known_answer_beliefs")
    shared = _run(d, "shared", [{"family": "mutual_friends", "count": COUNT, "seed": 3}])
    # the control: the same instances with the second agent's entry for the shared friend dropped
    fam = families.family("mutual_friends")
    gen = d / "withheld"
    files = families.write([fam.withhold(s) for s in families.generate("mutual_friends", COUNT, 3)], gen)
    withheld = _run(d, "withheld", [{"path": str(p)} for p in files])
    return {"shared": shared, "withheld": withheld}


def telling(ep: Episode) -> dict[str, int]:
    """Each agent's first delivered message after which, by the ledger, it knows a needed fact it did not hold."""
    ledger = Ledger.of(ep)
    needed = set(ep.scenario.task.needed_facts)
    out: dict[str, int] = {}
    for a in ep.scenario.agent_ids:
        for m in ep.messages:
            after = ledger.knew[m.id + 1][a] if m.id + 1 < len(ep.messages) else ledger.final[a]
            if a in m.recipients and (after - ledger.knew[m.id][a]) & needed:
                out[a] = m.id
                break
    return out


def test_belief_in_the_truth_rises_at_the_message_that_tells_the_missing_fact(runs: Runs) -> None:
    _, eps = runs["shared"]
    assert len(eps) == COUNT
    bracketed = 0
    for ep in eps.values():
        assert ep.outcome.success and {p.method for p in ep.probes} == {"reference_rule"}
        told = telling(ep)
        assert set(told) == set(ep.scenario.agent_ids), told  # both learn the partner's entry
        for agent, mid in told.items():
            turn = ep.messages[mid].turn
            mine = [p for p in ep.probes if p.kind == "belief" and p.agent == agent]
            before = [p for p in mine if p.turn <= turn]
            after = [p for p in mine if p.turn > turn or p.final]
            assert after, (agent, mid)
            if not before:  # probed only before its own turns: this agent first spoke after being told
                continue
            bracketed += 1
            p0, p1 = math.exp(truth_logprob(before[-1])), math.exp(truth_logprob(after[0]))
            assert p0 == pytest.approx(1 / len(before[-1].hypotheses))  # nothing it was told named a friend of its list
            assert p1 > 0.9 > p0, (agent, p0, p1)
            mine_credits = [c for c in credits(ep) if c.agent == agent]
            best = max(mine_credits, key=lambda c: c.delta)
            assert best.message_id == mid and best.delta > 1.0, mine_credits
            assert all(abs(c.delta) < 1e-9 for c in mine_credits if c.message_id != mid), mine_credits
    assert bracketed >= COUNT  # at least one agent per episode (the first speaker) had a probe on both sides


def test_the_report_ranks_the_telling_messages_first(runs: Runs) -> None:
    report, eps = runs["shared"]
    told = {(key, a, mid) for key, ep in eps.items() for a, mid in telling(ep).items()}
    ranked = report.beliefs.informative
    assert ranked and report.beliefs.methods.get("reference_rule")
    positive = [x for x in ranked if x.delta > 1e-9]
    assert len(positive) >= COUNT
    for x in positive:
        assert (x.key, x.agent, x.message_id) in told, x
        assert eps[x.key].messages[x.message_id].content.startswith(x.content)
    assert ranked[: len(positive)] == positive  # the positive ones come first


def test_with_nothing_to_tell_no_message_gets_credit(runs: Runs) -> None:
    report, eps = runs["withheld"]
    assert len(eps) == COUNT
    for ep in eps.values():
        # the first agent is never told the fact it lacks (the second agent's entry was dropped); the
        # second is told the first one's entry, a friend not on its own list: nothing to believe more
        assert not ep.outcome.success and ep.scenario.agent_ids[0] not in telling(ep)
        assert credits(ep) and all(c.delta <= 1e-9 for c in credits(ep)), credits(ep)
    assert all(x.delta <= 1e-9 for x in report.beliefs.informative)
