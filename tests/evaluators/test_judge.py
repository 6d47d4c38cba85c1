"""The LLM judge: parsing and range checks on recorded replies, retries, reported failures, real model.

Replies live in tests/data/judge/ (see its README: good_* and bad_* are hand-written,
smollm2_* are verbatim SmolLM2-135M replies). The mock backend feeds them through the
whole ``LLMJudge.evaluate``; the last test runs the embedded model for real.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import DATA, SCENARIO_DIR, solve

from privy import evaluators
from privy.evaluators.base import Score
from privy.evaluators.judge import RANGES, LLMJudge, build_prompt, grammar_schema, parse, response_format
from privy.simulator import Episode, backends, load_scenario
from privy.simulator.backends.base import ChatMessage, ChatRequest, Completion
from privy.simulator.backends.errors import BackendError
from privy.simulator.backends.llama import LlamaBackend
from privy.simulator.backends.mock import MockBackend

JUDGE = DATA / "judge"
GOOD = {"good_fenced.txt": 9, "good_prose.txt": 10, "good_wrapped.txt": 10}  # file -> its goal score
# file -> what the rejection must say (agent / dimension, and what was expected)
BAD = {
    "bad_goal_11.txt": ["alice.goal.score", "less than or equal to 10", "integer 0..10", "got 11"],
    "bad_secret_plus_3.txt": ["alice.secret.score", "less than or equal to 0", "integer -10..0", "got 3"],
    "bad_missing_secret.txt": ["alice: missing secret (-10..0)", '{"reasoning": "text", "score": integer}'],
    "bad_goal_float.txt": ["alice.goal.score", "valid integer", "integer 0..10", "got 7.5"],
    "bad_goal_string.txt": ["alice.goal.score", "valid integer", "got \"8\""],
    "bad_goal_bool.txt": ["alice.goal.score", "valid integer", "got true"],
    "bad_goal_null.txt": ["alice.goal.score", "valid integer", "got null"],
    "bad_not_json.txt": ["alice:", "no JSON object", "expected one JSON object with the 7 dimensions"],
    "bad_list.txt": ["alice:", "expected one JSON object with the 7 dimensions, got a list"],
    "bad_extra_dimension.txt": ["alice: unexpected keys ['honesty']", "expected only believability, relationship"],
    "bad_duplicate_goal.txt": ["alice:", "duplicate key 'goal'"],
    "bad_flat_scores.txt": ["alice.believability: not an object", "integer 0..10", "got 8"],
    "bad_placeholder_reasoning.txt": ["alice.social_rules.reasoning", "placeholder"],
    "smollm2_missing_scores.txt": ["alice: missing secret", "alice.believability.score: Field required", "0..10"],
    "smollm2_python_fence.txt": ["alice: unexpected keys ['name', 'age']", "alice: missing believability (0..10)"],
    "smollm2_duplicate_scores.txt": ["alice:", "duplicate key 'score'; expected each key once"],
    "smollm2_truncated_repeats.txt": ["alice:", "not valid JSON", "expected one JSON object"],
    "smollm2_unterminated_fence.txt": ["alice:", "not valid JSON"],
}


def reply(name: str) -> str:
    return (JUDGE / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def episode() -> Episode:
    return solve(load_scenario(SCENARIO_DIR / "mutual_friends.yaml"))


def judge(ep: Episode, outputs: list[str], max_attempts: int = 3) -> tuple[Score, MockBackend]:
    mock = backends.create("mock", outputs=outputs)
    assert isinstance(mock, MockBackend)
    return asyncio.run(LLMJudge(mock, max_attempts=max_attempts).evaluate(ep)), mock


def assert_in_range(score: Score) -> None:
    for key, value in score.metrics.items():
        dim = key.split(".")[-1]
        if dim in RANGES:
            lo, hi = RANGES[dim]
            assert value is not None and lo <= value <= hi, (key, value)


def test_every_recorded_reply_is_covered() -> None:
    assert {p.name for p in JUDGE.glob("*.txt")} == set(GOOD) | set(BAD)


@pytest.mark.parametrize("name", sorted(GOOD))
def test_good_reply_parses(name: str) -> None:
    judged = parse(reply(name), "alice", "Alice")
    assert list(judged) == list(RANGES)
    assert judged["goal"][0] == GOOD[name]
    assert all(RANGES[d][0] <= s <= RANGES[d][1] and why.strip() for d, (s, why) in judged.items())


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_reply_rejected_with_reason(name: str) -> None:
    with pytest.raises(ValueError) as err:
        parse(reply(name), "alice", "Alice")
    for expected in BAD[name]:
        assert expected in str(err.value), str(err.value)


def test_wrapper_must_be_this_agents() -> None:
    wrapped = reply("good_wrapped.txt")
    with pytest.raises(ValueError, match=r"bob: unexpected keys \['Alice'\]"):
        parse(wrapped, "bob", "Bob")


def test_valid_replies_are_scored(episode: Episode) -> None:
    score, mock = judge(episode, [reply("good_fenced.txt"), reply("good_prose.txt")])
    assert score.error is None and len(mock.requests) == 2
    assert score.metrics["alice.goal"] == 9 and score.metrics["bob.goal"] == 10
    assert score.metrics["alice.secret"] == -3 and score.metrics["bob.secret"] == -1
    assert score.metrics["goal"] == score.value == 9.5
    assert score.metrics["secret"] == -2 and score.metrics["alice.attempts"] == score.metrics["bob.attempts"] == 1
    assert_in_range(score)
    # one finding per agent per dimension, with the judge's reasoning
    by_kind = {(f.agent, f.kind): f.reason for f in score.findings}
    assert len(score.findings) == 2 * len(RANGES) and set(by_kind) == {(a, d) for a in ("alice", "bob") for d in RANGES}
    assert by_kind[("alice", "goal")] == "goal=9 (range 0..10): She finds Tess Moreau and selects her."


def test_requests_ask_per_agent_and_are_seeded(episode: Episode) -> None:
    _, mock = judge(episode, [reply("good_fenced.txt")])
    assert [r.speaker for r in mock.requests] == ["alice", "bob"]
    assert all(r.seed == 0 and r.temperature == 0.0 and r.max_tokens == 400 for r in mock.requests)
    prompt = mock.requests[0].messages[-1].content
    assert prompt == build_prompt(episode, "alice") and "Judge Alice only." in prompt
    assert "Judge Bob only." in mock.requests[1].messages[-1].content


def test_prompt_shows_scenario_private_facts_and_transcript(episode: Episode) -> None:
    prompt = build_prompt(episode, "bob")
    s = episode.scenario
    assert s.context in prompt and "Correct answer of the task: Tess Moreau" in prompt
    assert all(a.goal in prompt for a in s.agents)
    assert all(f.text in prompt for f in s.facts)  # omniscient: both agents' private lists
    assert all(m.content in prompt for m in episode.messages)
    assert "Alice to Bob: My friends:" in prompt
    for d, (lo, hi) in RANGES.items():
        assert f"- {d} {lo}..{hi}:" in prompt and f'"{d}": {{"reasoning": "...", "score": null}}' in prompt


@pytest.mark.parametrize("bad", ["bad_goal_11.txt", "bad_secret_plus_3.txt", "bad_not_json.txt", "bad_list.txt"])
def test_bad_then_good_is_retried_and_recorded(episode: Episode, bad: str) -> None:
    score, mock = judge(episode, [reply(bad), reply("good_fenced.txt"), reply("good_prose.txt")])
    assert score.error is None and score.value == 9.5
    assert score.metrics["alice.attempts"] == 2 and score.metrics["bob.attempts"] == 1
    assert_in_range(score)
    retries = [f for f in score.findings if f.kind == "judge_retry"]
    assert len(retries) == 1 and retries[0].agent == "alice"
    assert "attempt 1 rejected: alice" in retries[0].reason and reply(bad) in retries[0].reason
    # the retry is a new request: next seed, sampled, shown its reply and what was wrong
    retry = mock.requests[1]
    assert retry.seed == 1 and retry.temperature > 0 and retry.speaker == "alice"
    assert [m.role for m in retry.messages] == ["system", "user", "assistant", "user"]
    assert retry.messages[2].content == reply(bad)
    assert "That reply was rejected: alice" in retry.messages[3].content
    assert BAD[bad][0] in retry.messages[3].content


def test_bad_every_time_is_reported_never_scored(episode: Episode) -> None:
    bad = ["bad_goal_11.txt", "bad_secret_plus_3.txt", "bad_goal_float.txt"]
    score, mock = judge(episode, [reply(b) for b in bad] + [reply("good_prose.txt")])
    assert score.value is None and score.error is not None
    assert score.error.startswith("alice: no valid judgement after 3 attempts; last problem: alice.goal.score")
    assert "got 7.5" in score.error and "bob" not in score.error
    rejected = [f for f in score.findings if f.kind == "judge_rejected"]
    assert [f.agent for f in rejected] == ["alice"] * 3
    for i, (f, b) in enumerate(zip(rejected, bad, strict=True), 1):
        assert f.reason.startswith(f"attempt {i} rejected: ") and f.reason.endswith("raw output: " + reply(b))
    # nothing of alice's is scored, no means and no value; bob's valid judgement is kept
    assert not any(k.startswith("alice.") and k != "alice.attempts" for k in score.metrics)
    assert score.metrics["alice.attempts"] == 3 and "goal" not in score.metrics
    assert score.metrics["bob.goal"] == 10 and score.metrics["bob.attempts"] == 1
    assert_in_range(score)
    assert [r.seed for r in mock.requests] == [0, 1, 2, 0]


def test_max_attempts_is_respected(episode: Episode) -> None:
    score, mock = judge(episode, [reply("bad_list.txt")], max_attempts=1)
    assert score.value is None and len(mock.requests) == 2
    assert "alice: no valid judgement after 1 attempts" in (score.error or "")
    assert "bob: no valid judgement after 1 attempts" in (score.error or "")
    assert [f.agent for f in score.findings if f.kind == "judge_rejected"] == ["alice", "bob"]
    with pytest.raises(ValueError, match="max_attempts"):
        LLMJudge(mock, max_attempts=0)


def test_truncated_reply_says_so(episode: Episode) -> None:
    class Cut(MockBackend):
        async def complete(self, request: ChatRequest) -> Completion:
            out = await super().complete(request)
            return out.model_copy(update={"finish_reason": "length"})

    score = asyncio.run(LLMJudge(Cut([reply("smollm2_truncated_repeats.txt")]), max_tokens=256).evaluate(episode))
    assert score.value is None and "(reply cut off at max_tokens=256)" in (score.error or "")


def test_backend_failure_is_reported(episode: Episode) -> None:
    class Down(MockBackend):
        async def complete(self, request: ChatRequest) -> Completion:
            raise BackendError("connection refused")

    score = asyncio.run(LLMJudge(Down()).evaluate(episode))
    assert score.value is None and "alice: backend failed: connection refused" in (score.error or "")
    assert score.metrics["alice.attempts"] == 1


def test_backend_by_name_and_through_the_registry(episode: Episode) -> None:
    by_name = LLMJudge("mock")
    assert by_name.backend.name == "mock" and by_name.name == "llm_judge"
    ev = evaluators.create("llm_judge", backend=backends.create("mock", outputs=[reply("good_wrapped.txt")]))
    assert isinstance(ev, LLMJudge) and "llm_judge" in evaluators.available()
    score = asyncio.run(ev.evaluate(episode))  # {"Alice": {...}} only unwraps for Alice
    assert score.metrics["alice.goal"] == 10 and score.value is None
    assert "bob: unexpected keys ['Alice']" in (score.error or "")


def test_response_format_schema() -> None:
    fmt = response_format()
    schema: dict[str, Any] = fmt["json_schema"]["schema"]
    assert fmt["type"] == "json_schema" and schema["required"] == list(RANGES)
    assert schema["additionalProperties"] is False


def test_the_embedded_models_grammar_schema_admits_exactly_the_valid_judgements() -> None:
    jsonschema = pytest.importorskip("jsonschema")  # comes with ray, in the test extra

    schema = grammar_schema()
    assert list(schema["properties"]) == schema["required"] == list(RANGES)  # every dimension, in order
    good = {d: {"reasoning": "Fair enough.", "score": lo} for d, (lo, _) in RANGES.items()}
    jsonschema.validate(good, schema)
    assert parse(json.dumps(good), "alice")["goal"] == (0, "Fair enough.")
    for d, (lo, hi) in RANGES.items():  # what parse() rejects, the grammar cannot produce
        for bad in ({"reasoning": "ok then", "score": hi + 1}, {"reasoning": "ok then", "score": lo - 1},
                    {"reasoning": "...", "score": lo}, {"reasoning": "", "score": lo},
                    {"reasoning": "ok then", "score": lo, "extra": 1}, {"reasoning": "ok then", "score": str(lo)}):
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate({**good, d: bad}, schema)


def test_the_judge_asks_the_embedded_model_for_grammar_constrained_json(monkeypatch: pytest.MonkeyPatch) -> None:
    made: dict[str, Any] = {}

    def create(name: str, **options: Any) -> MockBackend:
        made[name] = options
        return MockBackend()

    monkeypatch.setattr(backends, "create", create)
    LLMJudge("llama")
    LLMJudge("mock")
    assert made == {"llama": {"response_format": {"type": "json_object", "schema": grammar_schema()}}, "mock": {}}


def test_the_llama_backend_passes_the_json_format_to_llama_cpp(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    from privy.simulator.backends import llama

    class FakeLlama:
        def __init__(self) -> None:
            self.kwargs: dict[str, Any] = {}

        def reset(self) -> None:
            pass

        def create_chat_completion(self, **kwargs: Any) -> dict[str, Any]:
            self.kwargs = kwargs
            return {"choices": [{"message": {"content": "{}"}, "finish_reason": "stop"}], "usage": {}}

    fake = FakeLlama()
    monkeypatch.setattr(llama, "shared_model", lambda *a: fake)
    monkeypatch.setattr(llama, "_prompt_tokens_evaluated", lambda llm: 0)
    monkeypatch.setattr(llama, "prompt_tokens", lambda llm, messages: ([1, 2], ""))
    monkeypatch.setattr(llama, "eval_prompt", lambda llm, tokens, block, start, saved: (len(tokens), None))
    model = tmp_path / "x.gguf"
    model.write_bytes(b"GGUF" + bytes(64))  # never loaded: shared_model is replaced
    schema = grammar_schema()
    request = ChatRequest(messages=(ChatMessage(role="user", content="judge"),))
    for given in ({"type": "json_object", "schema": schema}, response_format()):
        b = LlamaBackend(model=model, response_format=given)
        asyncio.run(b.complete(request))
        want = {"type": "json_object", "schema": schema if given["type"] == "json_object"
                else response_format()["json_schema"]["schema"]}
        assert fake.kwargs["response_format"] == want and b.settings()["response_format"] == given
    asyncio.run(LlamaBackend(model=model).complete(request))
    assert fake.kwargs["response_format"] is None
    with pytest.raises(BackendError, match="response_format: type must be json_object or json_schema"):
        LlamaBackend(model=model, response_format={"type": "text"})


def test_evaluate_shows_progress_and_fails_when_an_evaluator_scored_nothing(
        episode: Episode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from privy.cli import app
    from privy.simulator.backends import registry

    files = [episode.save(tmp_path / f"ep{i}.json") for i in range(2)]
    monkeypatch.setattr(registry, "_FACTORIES", {})
    registry.register("never_json", lambda: MockBackend(outputs=["I think they did well."]))
    registry.register("judges_well", lambda: MockBackend(outputs=[reply("good_prose.txt")]))
    runner = CliRunner()

    bad = runner.invoke(app, ["evaluate", *map(str, files), "-e", "task_success,llm_judge",
                              "--judge-backend", "never_json"], env={"COLUMNS": "300"})
    assert bad.exit_code == 1, bad.output
    assert "evaluate: 1/2 episodes" in bad.stderr and "evaluate: 2/2 episodes" in bad.stderr  # per episode
    assert ("error: llm_judge could not score any of the 2 episode(s): alice: no valid judgement after 3 attempts; "
            "last problem: alice: no JSON object in the reply") in bad.stderr
    assert "task_success could not" not in bad.stderr  # it scored them

    good = runner.invoke(app, ["evaluate", *map(str, files), "-e", "llm_judge", "--judge-backend", "judges_well"],
                         env={"COLUMNS": "300"})
    assert good.exit_code == 0, good.output
    assert "could not score" not in good.stderr


@pytest.mark.llm
def test_the_embedded_model_gives_a_valid_judgement_of_a_short_episode(episode: Episode) -> None:
    """SmolLM2-135M under the judgement grammar: a valid judgement of every agent, on the first attempt."""
    judge = LLMJudge("llama", max_attempts=1)
    assert len(episode.messages) <= 4  # a short episode
    score = asyncio.run(judge.evaluate(episode))
    assert score.error is None, score.error
    assert score.value is not None and 0 <= score.value <= 10
    assert {f"{a}.{d}" for a in ("alice", "bob") for d in RANGES} <= set(score.metrics)
    assert_in_range(score)
    assert score.metrics["alice.attempts"] == score.metrics["bob.attempts"] == 1


@pytest.mark.llm
def test_real_model_judgement_is_valid_or_reported(episode: Episode) -> None:
    """SmolLM2-135M judges a scripted episode: a valid score or a reported error, never a bad number."""
    judge = LLMJudge("llama", max_attempts=2, max_tokens=200)

    class Counting:
        name = "counting"

        def __init__(self, inner: Any) -> None:
            self.inner, self.outs = inner, list[Completion]()

        def settings(self) -> dict[str, Any]:
            return dict(self.inner.settings())

        async def complete(self, request: ChatRequest) -> Completion:
            out: Completion = await self.inner.complete(request)
            self.outs.append(out)
            return out

    assert isinstance(judge.backend, LlamaBackend)
    counting = Counting(judge.backend)
    judge.backend = counting
    t0 = time.perf_counter()
    score = asyncio.run(judge.evaluate(episode))
    took, replies = time.perf_counter() - t0, [o.text for o in counting.outs]
    print(f"\n{len(replies)} calls in {took:.1f}s; value={score.value} error={score.error}")
    for text in replies:
        print("---\n" + text[:400])

    assert 2 <= len(replies) <= 4  # one to two requests per agent, each really generated
    assert all(o.completion_tokens and o.prompt_tokens and o.prompt_tokens > 500 for o in counting.outs)
    assert_in_range(score)
    judged = {f.agent for f in score.findings if f.kind in RANGES}
    raws = [f.reason for f in score.findings if f.kind in ("judge_retry", "judge_rejected")]
    # every reply is either one agent's valid judgement or reported verbatim
    reported = [t for t in replies if any(r.endswith("raw output: " + t) for r in raws)]
    assert len(reported) == len(raws) and len(raws) + len(judged) == len(replies)
    if score.error is None:
        assert score.value is not None and 0 <= score.value <= 10 and judged == {"alice", "bob"}
        assert {f"{a}.{d}" for a in ("alice", "bob") for d in RANGES} <= set(score.metrics)
    else:
        assert score.value is None and "no valid judgement after 2 attempts" in score.error
        assert any(f.kind == "judge_rejected" for f in score.findings) and "goal" not in score.metrics
