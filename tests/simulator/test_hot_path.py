"""The per-turn hot path: models built without validation equal validated ones; its shortcuts equal the long way."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import BaseModel, Field

from privy.scenarios import families
from privy.scenarios.baselines import ScriptedBackend
from privy.simulator.backends.base import ChatMessage, ChatRequest
from privy.simulator.bus import Message
from privy.simulator.env import PrivyEnv
from privy.simulator.episode import Episode
from privy.simulator.modes import Mode, request_for
from privy.simulator.prompts import AgentPrompts
from privy.simulator.runner import run_episode
from privy.simulator.spaces import Utterance
from privy.simulator.trusted import constructor, trusted
from privy.simulator.views import Observation


class _Defaults(BaseModel):
    name: str
    tags: list[str] = ["a"]
    count: int = 3
    made: list[int] = Field(default_factory=lambda: [1, 2])


def _revalidated(model: BaseModel) -> BaseModel:
    """The same data through the model's constructor (a python-mode dump keeps nested models)."""
    return type(model).model_validate({k: getattr(model, k) for k in type(model).model_fields})


def test_every_hot_path_model_equals_its_validated_twin() -> None:
    scenario = families.generate("mutual_friends", 1, 3, {})[0]
    env = PrivyEnv(scenario)
    env.reset(seed=3)
    prompts = AgentPrompts()
    for turn in range(6):
        agent = env.agent_selection
        req = request_for(env, Mode.AGENTS, agent, turn, prompts)
        obs = req.view
        assert isinstance(obs, Observation) and isinstance(req, ChatRequest)
        for model in (obs, req, *req.messages):
            twin = _revalidated(model)
            assert twin == model
            assert twin.model_dump_json() == model.model_dump_json()  # same fields, same order
        env.step(Utterance(content=f"line {turn}: SELECT: nobody" if turn == 5 else f"line {turn}"))
    for m in env.bus.messages:
        assert isinstance(m, Message) and _revalidated(m) == m
        assert _revalidated(m).model_dump_json() == m.model_dump_json()


def test_a_trusted_episode_round_trips_through_json() -> None:
    scenario = families.generate("mutual_friends", 1, 4, {})[0]
    ep = asyncio.run(run_episode(scenario, Mode.AGENTS, ScriptedBackend(), seed=4))
    again = Episode.model_validate_json(ep.to_json())
    assert again == ep
    assert again.to_json() == ep.to_json()


def test_defaults_are_filled_as_the_constructor_fills_them() -> None:
    make = constructor(_Defaults)
    a, b = make(name="x"), make(name="y")
    assert a == _Defaults(name="x") and list(a.model_dump()) == ["name", "tags", "count", "made"]
    a.tags.append("b")
    a.made.append(3)
    assert b.tags == ["a"] and b.made == [1, 2]  # mutable defaults copied, factories called per model
    assert make(made=[9], count=1, name="z") == _Defaults(name="z", count=1, made=[9])  # any order
    assert list(make(made=[9], name="z").model_dump()) == ["name", "tags", "count", "made"]
    assert constructor(_Defaults) is make  # compiled once per model


def test_missing_and_unknown_fields_are_type_errors_that_name_them() -> None:
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'name'"):
        trusted(_Defaults, count=2)
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        trusted(_Defaults, name="x", colour="red")
    with pytest.raises(TypeError, match="trusted\\(_Defaults\\)"):
        trusted(_Defaults)


def test_a_trusted_frozen_model_stays_frozen() -> None:
    line = constructor(ChatMessage)(role="user", content="hi")
    assert line == ChatMessage(role="user", content="hi") and hash(line) == hash(ChatMessage(role="user", content="hi"))
    with pytest.raises(Exception, match="frozen"):
        line.content = "changed"  # type: ignore[misc]


@pytest.mark.parametrize(("text", "expected"), [
    ("  Alice: hello  ", "hello"),
    ("**Alice**: hi: there", "hi: there"),
    ("alice : lower case label", "lower case label"),
    ("Bob: someone else's label stays", "Bob: someone else's label stays"),
    ("no label here", "no label here"),
    ("  SELECT: Jordan  ", "SELECT: Jordan"),
])
def test_clean_turn_drops_only_the_speakers_own_label(text: str, expected: str) -> None:
    from privy.simulator.modes import clean_turn

    assert clean_turn(text, "Alice") == expected


def test_a_copy_of_a_trusted_frozen_model_does_not_share_its_fields_set() -> None:
    make = constructor(ChatMessage)
    a, b = make(role="user", content="a"), make(role="user", content="b")
    c = a.model_copy(update={"content": "c"})
    assert c.content == "c" and a.content == "a"
    assert c.model_fields_set is not a.model_fields_set
    assert a.model_fields_set == b.model_fields_set == {"role", "content"}


def test_next_seed_draws_what_randrange_draws() -> None:
    import random

    from privy.simulator.modes import next_seed

    a, b = random.Random(11), random.Random(11)
    assert [next_seed(a) for _ in range(5000)] == [b.randrange(2**31) for _ in range(5000)]


def test_a_field_named_like_the_generated_code_is_kept() -> None:
    class Odd(BaseModel):
        obj: int
        make: str = "m"

    o = trusted(Odd, obj=3)
    assert (o.obj, o.make) == (3, "m") and o == Odd(obj=3)


def test_a_factory_that_takes_the_data_is_refused_at_compile_time() -> None:
    class Derived(BaseModel):
        a: int
        b: int = Field(default_factory=lambda data: data["a"] + 1)

    with pytest.raises(TypeError, match=r"Derived\.b: a default_factory that takes the data"):
        constructor(Derived)


def test_a_look_alike_completion_is_checked_and_a_bad_one_is_a_recorded_error() -> None:
    class LookAlike:
        def __init__(self, tokens: object) -> None:
            self.text, self.prompt_tokens, self.completion_tokens = "hello", tokens, 2
            self.finish_reason, self.attempts, self.cached = "stop", [], False

    class Plugin:
        name = "plugin"

        def __init__(self, tokens: object) -> None:
            self.tokens = tokens

        def settings(self) -> dict[str, str]:
            return {"backend": self.name}

        async def complete(self, request: ChatRequest) -> LookAlike:
            return LookAlike(self.tokens)

    scenario = families.generate("mutual_friends", 1, 5, {})[0]
    good = asyncio.run(run_episode(scenario, Mode.AGENTS, Plugin(7), seed=5))  # type: ignore[arg-type]
    assert good.calls[0].prompt_tokens == 7 and good.calls[0].output == "hello"
    bad = asyncio.run(run_episode(scenario, Mode.AGENTS, Plugin("many"), seed=5))  # type: ignore[arg-type]
    assert bad.outcome.ended_by == "error" and "prompt_tokens" in (bad.calls[0].error or "")
