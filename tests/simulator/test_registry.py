"""The backend registry (built-ins, register(), the ``privy.backends`` entry points) and spec.build()."""

from __future__ import annotations

import asyncio
import importlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import SCENARIO_DIR
from typer.testing import CliRunner, Result

from privy.cli import app
from privy.simulator import load_episode
from privy.simulator.backends import registry
from privy.simulator.backends.base import ChatMessage, ChatRequest, Completion
from privy.simulator.backends.cache import CachedBackend
from privy.simulator.backends.errors import BackendError
from privy.simulator.backends.limit import LimitedBackend
from privy.simulator.backends.mock import MockBackend
from privy.simulator.backends.retry import RetryingBackend, RetryPolicy
from privy.simulator.backends.spec import BackendsConfig, BackendSpec, build, load_backends_config

BUILTINS = {"llama", "openai", "scripted", "mock", "replay"}
MUTUAL = SCENARIO_DIR / "mutual_friends.yaml"
REQ = ChatRequest(messages=(ChatMessage(role="user", content="ping"),))


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def info(name: str) -> registry.BackendInfo:
    found = [i for i in registry.describe() if i.name == name]
    assert len(found) == 1, [i.name for i in registry.describe()]
    return found[0]


def table_row(output: str, name: str) -> str:
    rows = [line for line in output.splitlines() if line.split()[:1] == [name]]
    assert len(rows) == 1, output
    return rows[0]


@pytest.fixture
def no_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """register() writes into a fresh table, dropped after the test."""
    monkeypatch.setattr(registry, "_FACTORIES", {})


# --- built-ins ---------------------------------------------------------------------------------


def test_available_lists_the_builtins() -> None:
    names = registry.available()
    assert set(names) >= BUILTINS
    assert names == sorted(names)


def test_describe_marks_the_pure_python_builtins_usable() -> None:
    for name in ("mock", "replay"):
        i = info(name)
        assert (i.origin, i.available) == ("built-in", True)
        assert i.detail == f"privy.simulator.backends.{name}"


def test_the_scripted_references_come_from_the_scenarios_layer_by_entry_point() -> None:
    i = info("scripted")
    assert (i.origin, i.available) == ("privy.scenarios.baselines:ScriptedBackend", True)
    assert i.detail == "entry point from privy-sim"


def test_create_builds_a_builtin_with_its_options() -> None:
    b = registry.create("mock", outputs=["pong"])
    assert isinstance(b, MockBackend)
    assert asyncio.run(b.complete(REQ)).text == "pong"


def test_unknown_backend_lists_the_known_names() -> None:
    with pytest.raises(BackendError) as err:
        registry.create("nope")
    msg = str(err.value)
    assert "unknown backend 'nope'" in msg
    for name in BUILTINS:
        assert repr(name) in msg


def test_bad_options_name_the_backend_and_the_options() -> None:
    with pytest.raises(BackendError) as err:
        registry.create("mock", bogus=1, outputs=["x"])
    msg = str(err.value)
    assert "backend 'mock'" in msg
    assert "bad options" in msg and "bogus" in msg


def test_register_adds_a_backend(no_registered: None) -> None:
    made: list[dict[str, Any]] = []

    def factory(**options: Any) -> MockBackend:
        made.append(options)
        return MockBackend([options.get("reply", "hi")])

    registry.register("custom", factory)
    assert "custom" in registry.available()
    assert (info("custom").origin, info("custom").available) == ("registered", True)
    b = registry.create("custom", reply="yo")
    assert made == [{"reply": "yo"}]
    assert asyncio.run(b.complete(REQ)).text == "yo"


def test_register_overrides_a_builtin(no_registered: None) -> None:
    registry.register("mock", lambda **_: MockBackend(["overridden"]))
    assert info("mock").origin == "registered"
    assert asyncio.run(registry.create("mock").complete(REQ)).text == "overridden"


def test_a_missing_package_is_reported_by_describe_and_create(monkeypatch: pytest.MonkeyPatch) -> None:
    # the target module imports fine (as llama.py and openai_compat.py do: they import their
    # package lazily), so only the `needs` check can tell that the backend cannot work here
    entry = registry._Builtin("privy.simulator.backends.mock:MockBackend", "privy_no_such_module_xyz",
                              "privy-no-such-pkg")
    monkeypatch.setitem(registry._BUILTIN, "needy", entry)
    i = info("needy")
    assert i.available is False
    assert "pip install privy-no-such-pkg" in i.detail
    with pytest.raises(BackendError) as err:
        registry.create("needy")
    assert "backend 'needy'" in str(err.value)
    assert "pip install privy-no-such-pkg" in str(err.value)


def test_a_missing_backend_module_is_reported_by_create(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = registry._Builtin("privy_no_such_module_xyz.backend:Thing", None, "privy-no-such-pkg")
    monkeypatch.setitem(registry._BUILTIN, "gone", entry)
    with pytest.raises(BackendError) as err:
        registry.create("gone")
    assert "privy_no_such_module_xyz" in str(err.value)
    assert "pip install privy-no-such-pkg" in str(err.value)


# --- entry points from a throwaway distribution --------------------------------------------------

FAKE_MODULE = '''
from privy.simulator.backends.base import Completion


class EchoBackend:
    name = "echo"

    def __init__(self, prefix="echo: "):
        self.prefix = prefix

    def settings(self):
        return {"backend": self.name, "prefix": self.prefix}

    async def complete(self, request):
        return Completion(text=self.prefix + request.messages[-1].content[:40])
'''

ENTRY_POINTS = """[privy.backends]
fake_echo = fakepkg_privy:EchoBackend
fake_broken = fakepkg_privy:NoSuchFactory
fake_missing = fakepkg_privy_not_installed:Backend
"""


@pytest.fixture
def fake_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    site = tmp_path / "site"
    (site / "fakepkg_privy").mkdir(parents=True)
    (site / "fakepkg_privy" / "__init__.py").write_text(FAKE_MODULE, encoding="utf-8")
    meta = site / "fakepkg_privy-0.1.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text("Metadata-Version: 2.1\nName: fakepkg-privy\nVersion: 0.1\n", encoding="utf-8")
    (meta / "entry_points.txt").write_text(ENTRY_POINTS, encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    yield site
    sys.modules.pop("fakepkg_privy", None)


def test_entry_points_are_invisible_without_the_distribution() -> None:
    assert "fake_echo" not in registry.available()


def test_entry_point_backend_is_listed_described_and_created(fake_dist: Path) -> None:
    assert {"fake_echo", "fake_broken", "fake_missing"} <= set(registry.available())
    echo = info("fake_echo")
    assert (echo.origin, echo.available) == ("fakepkg_privy:EchoBackend", True)
    assert echo.detail == "entry point from fakepkg-privy"
    b = registry.create("fake_echo", prefix="> ")
    assert b.settings() == {"backend": "echo", "prefix": "> "}
    assert asyncio.run(b.complete(REQ)).text == "> ping"


def test_broken_entry_points_are_unusable_not_fatal(fake_dist: Path) -> None:
    broken, missing = info("fake_broken"), info("fake_missing")
    assert broken.available is False and "NoSuchFactory" in broken.detail
    assert missing.available is False and "fakepkg_privy_not_installed" in missing.detail
    assert info("fake_echo").available is True  # the others are still fine
    for name, why in (("fake_broken", "NoSuchFactory"), ("fake_missing", "fakepkg_privy_not_installed")):
        with pytest.raises(BackendError) as err:
            registry.create(name)
        assert f"backend '{name}'" in str(err.value) and why in str(err.value)


def test_entry_point_backend_bad_options(fake_dist: Path) -> None:
    with pytest.raises(BackendError, match=r"backend 'fake_echo': bad options \['colour'\]"):
        registry.create("fake_echo", colour="red")


def test_cli_backends_lists_builtins_and_entry_points(fake_dist: Path) -> None:
    result = invoke("backends")
    assert result.exit_code == 0, result.output
    for name in ("scripted", "mock", "replay"):
        assert table_row(result.stdout, name).split()[1] == "yes"
    echo = table_row(result.stdout, "fake_echo")
    assert echo.split()[1] == "yes"
    assert "fakepkg_privy:EchoBackend" in echo and "entry point from fakepkg-privy" in echo
    broken = table_row(result.stdout, "fake_broken")
    assert broken.split()[1] == "no" and "NoSuchFactory" in broken


def test_cli_backends_shows_a_missing_package(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = registry._Builtin("privy.simulator.backends.mock:MockBackend", "privy_no_such_module_xyz",
                              "privy-no-such-pkg")
    monkeypatch.setitem(registry._BUILTIN, "needy", entry)
    row = table_row(invoke("backends").stdout, "needy")
    assert row.split()[1] == "no" and "pip install privy-no-such-pkg" in row


def test_cli_run_uses_an_entry_point_backend(fake_dist: Path, tmp_path: Path) -> None:
    out = tmp_path / "ep.json"
    result = invoke("run", MUTUAL, "--backend", "fake_echo", "--opt", 'prefix="SELECT: "', "--out", out)
    assert result.exit_code == 0, result.output
    ep = load_episode(out)
    assert ep.backend == {"backend": "echo", "prefix": "SELECT: "}
    assert ep.messages[0].content.startswith("SELECT: ")


# --- spec.build and backends files -----------------------------------------------------------------


def test_build_plain_mock_is_not_wrapped() -> None:
    b = build(BackendSpec(name="mock", options={"outputs": ["hi"]}))
    assert type(b) is MockBackend
    assert asyncio.run(b.complete(REQ)).text == "hi"


def test_build_wraps_cache_outside_limit(tmp_path: Path) -> None:
    b = build(BackendSpec(name="mock", cache=tmp_path / "c.db", max_concurrent=2))
    assert isinstance(b, CachedBackend)
    assert isinstance(b.inner, LimitedBackend) and b.inner.max_concurrent == 2
    assert type(b.inner.inner) is MockBackend  # mock is not a network backend: no retries by default
    assert b.cache.path == tmp_path / "c.db"
    assert (tmp_path / "c.db").exists()
    assert b.settings() == {"backend": "mock", "max_concurrent": 2, "cache": "c.db"}


def test_build_with_a_retry_policy_puts_retries_innermost(tmp_path: Path) -> None:
    policy = RetryPolicy(max_attempts=2)
    b = build(BackendSpec(name="mock", retry=policy, cache=tmp_path / "c.db", max_concurrent=3))
    assert isinstance(b, CachedBackend) and isinstance(b.inner, LimitedBackend)
    assert isinstance(b.inner.inner, RetryingBackend) and b.inner.inner.policy == policy
    assert type(b.inner.inner.inner) is MockBackend


def test_build_retries_network_backends_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from privy.simulator.backends import spec

    monkeypatch.setattr(spec, "_NETWORK", {"mock"})
    b = build(BackendSpec(name="mock"))
    assert isinstance(b, RetryingBackend) and b.policy == RetryPolicy()


def test_build_unknown_backend_is_a_backend_error() -> None:
    with pytest.raises(BackendError, match="unknown backend 'nope'"):
        build(BackendSpec(name="nope"))


def write(path: Path, data: Any) -> Path:
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def test_load_backends_config_reads_default_and_agents(tmp_path: Path) -> None:
    f = write(tmp_path / "b.yaml", {
        "default": {"name": "mock", "options": {"outputs": ["a"]}, "max_concurrent": 2},
        "agents": {"bob": {"name": "scripted", "retry": {"max_attempts": 2, "initial_wait_s": 0.1}}},
    })
    cfg = load_backends_config(f)
    assert isinstance(cfg, BackendsConfig)
    assert cfg.default.name == "mock" and cfg.default.options == {"outputs": ["a"]}
    assert cfg.agents["bob"].retry == RetryPolicy(max_attempts=2, initial_wait_s=0.1)


def test_an_empty_backends_file_is_the_default(tmp_path: Path) -> None:
    assert load_backends_config(write(tmp_path / "b.yaml", "")) == BackendsConfig()


@pytest.mark.parametrize(("data", "field"), [
    ({"default": {"name": "mock", "retires": 3}}, "default.retires"),
    ({"agents": {"alice": {"name": "mock", "max_concurrent": 0}}}, "agents.alice.max_concurrent"),
    ({"default": {"retry": {"max_attempts": 0}}}, "default.retry.max_attempts"),
    ({"defaults": {}}, "defaults"),
])
def test_load_backends_config_errors_name_the_file_and_the_field(tmp_path: Path, data: Any, field: str) -> None:
    f = write(tmp_path / "b.yaml", data)
    with pytest.raises(BackendError) as err:
        load_backends_config(f)
    assert re.search(rf"^{re.escape(str(f))}:\d+: {re.escape(field)}: ", str(err.value), re.M)


def test_load_backends_config_reports_yaml_syntax_and_missing_files(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.yaml", "default: {name: mock\n")
    with pytest.raises(BackendError) as err:
        load_backends_config(bad)
    assert str(err.value).startswith(f"{bad}:2: (yaml): YAML syntax error")
    missing = tmp_path / "none.yaml"
    with pytest.raises(BackendError) as err:
        load_backends_config(missing)
    assert str(err.value).startswith(f"{missing}:0: (file): cannot read")


def test_cli_run_reports_a_bad_backends_file(tmp_path: Path) -> None:
    f = write(tmp_path / "b.yaml", {"default": {"name": "mock", "retires": 3}})
    result = invoke("run", MUTUAL, "--backends", f, "--out", tmp_path / "ep.json")
    assert result.exit_code == 2
    assert str(f) in result.stderr and "default.retires" in result.stderr
    assert not (tmp_path / "ep.json").exists()


def test_cli_run_with_a_backends_file_uses_per_agent_backends(tmp_path: Path) -> None:
    f = write(tmp_path / "b.yaml", {
        "default": {"name": "mock", "options": {"outputs": ["from default"]}},
        "agents": {"bob": {"name": "mock", "options": {"outputs": ["from bob"]}}},
    })
    out = tmp_path / "ep.json"
    result = invoke("run", MUTUAL, "--backends", f, "--out", out)
    assert result.exit_code == 0, result.output
    ep = load_episode(out)
    assert {m.sender: m.content for m in ep.messages} == {"alice": "from default", "bob": "from bob"}


def test_a_completion_from_a_registered_backend_flows_through_build(no_registered: None) -> None:
    class Fixed:
        name = "fixed"

        def settings(self) -> dict[str, Any]:
            return {"backend": "fixed"}

        async def complete(self, request: ChatRequest) -> Completion:
            return Completion(text="fixed")

    registry.register("fixed", Fixed)
    b = build(BackendSpec(name="fixed", max_concurrent=1))
    assert isinstance(b, LimitedBackend)
    assert asyncio.run(b.complete(REQ)).text == "fixed"
