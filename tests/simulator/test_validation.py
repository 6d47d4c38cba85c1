"""Scenario validation: each bad file reports exactly its problem, at the right line and field.

Every file in tests/data/bad/ is a small scenario with the defect named in its first
comment; the tables below give the problem the loader must report for it.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import ROOT
from pydantic import BaseModel, ConfigDict, ValidationError
from typer.testing import CliRunner

from privy import cli
from privy.cli import app
from privy.simulator import yamlcheck, yamlio
from privy.simulator.loader import (
    NoScenarioFiles,
    Problem,
    ScenarioError,
    load_scenario,
    parse_scenario,
    validate_files,
)
from privy.simulator.scenario import Scenario

BAD = ROOT / "tests" / "data" / "bad"

UNKNOWN_AGENT = "unknown agent id '{}'; expected one of ['alice', 'bob']"
BAD_REGEX = "expected a valid regular expression (missing ), unterminated subpattern at position 5)"

# file in tests/data/bad, line (1-based), field path, the whole message
ONE_DEFECT = [
    pytest.param(
        "unknown_edge_agent.yaml", 20, "topology.edges[0][1]", UNKNOWN_AGENT.format("carol"),
        id="unknown agent in edge",
    ),
    pytest.param(
        "duplicate_fact_id.yaml", 22, "facts[3].id",
        "duplicate fact id 'a_tess'; expected unique ids",
        id="duplicate fact id",
    ),
    pytest.param(
        "unknown_needed_fact.yaml", 23, "task.needed_facts[0]",
        "unknown fact id 'c_tess'; expected one of ['a_tess', 'b_tess']",
        id="task needs missing fact",
    ),
    pytest.param(
        "bad_regex.yaml", 17, "facts[0].mentions[0].regex", BAD_REGEX,
        id="bad regex",
    ),
    pytest.param(
        "yaml_syntax_error.yaml", 14, "(yaml)",
        "YAML syntax error: mapping values are not allowed here",
        id="yaml syntax error",
    ),
    pytest.param(
        "unknown_holder.yaml", 15, "facts[0].holders[1]", UNKNOWN_AGENT.format("carol"),
        id="unknown agent in holders",
    ),
    pytest.param(
        # the field is missing, so the line is its parent's: `task:`
        "missing_answer.yaml", 16, "task.answer", "required field is missing for kind 'select'",
        id="missing required field",
    ),
    pytest.param(
        "misspelled_field.yaml", 16, "facts[0].mention",
        "unknown field; check the spelling (see `privy schema`)",
        id="misspelled field",
    ),
    pytest.param(
        "decide_answer_not_option.yaml", 20, "task.answer",
        "'Dana' is not an option; expected one of ['Avery', 'Blake', 'Casey']",
        id="decide answer not an option",
    ),
    pytest.param(
        # the comment is line 1; the list starts on line 2
        "top_level_list.yaml", 2, "(top level)",
        "expected a mapping of scenario fields, got a list",
        id="top level is a list",
    ),
    pytest.param(
        "duplicate_key.yaml", 12, "id", "duplicate key (first at line 3)",
        id="duplicate key",
    ),
    pytest.param(
        # the agent is missing, so the line is its parent's: `values:`
        "deal_values_missing_agent.yaml", 18, "task.deal.values.bob",
        "missing values for agent 'bob'; expected every agent's value of every item ['book', 'hat']",
        id="deal values missing an agent",
    ),
    pytest.param(
        "deal_values_missing_item.yaml", 19, "task.deal.values.bob.hat",
        "missing value of item 'hat' for agent 'bob'; expected a value for every item ['book', 'hat']",
        id="deal values missing an item",
    ),
]

# several_problems.yaml: schema errors and cross-field errors, all reported, in line order
SEVERAL = [
    (16, "facts[0].mentions[0].regex", BAD_REGEX),
    (19, "facts[1].holders[0]", UNKNOWN_AGENT.format("robert")),
    (21, "limits.max_turns", "Input should be greater than or equal to 1, got 0"),
    (25, "task.needed_facts[1]", "unknown fact id 'b_tes'; expected one of ['a_tess', 'b_tess']"),
]


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == "\n".join(str(p) for p in info.value.problems)
    return info.value.problems


@pytest.mark.parametrize(("name", "line", "field", "message"), ONE_DEFECT)
def test_one_defect_is_one_problem(name: str, line: int, field: str, message: str) -> None:
    path = BAD / name
    assert problems_of(path) == [Problem(str(path), line, field, message)]


def test_several_problems_are_all_reported_in_line_order() -> None:
    path = BAD / "several_problems.yaml"
    assert problems_of(path) == [Problem(str(path), *p) for p in SEVERAL]


def test_every_bad_file_has_a_case() -> None:
    cased = {p.values[0] for p in ONE_DEFECT} | {"several_problems.yaml"}
    assert sorted(cased) == sorted(p.name for p in BAD.glob("*.yaml"))


def test_non_existent_file() -> None:
    path = BAD / "no_such_file.yaml"
    message = "cannot read file: No such file or directory"
    assert problems_of(path) == [Problem(str(path), 0, "(file)", message)]
    assert validate_files([path]) == [Problem(str(path), 0, "(file)", message)]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        pytest.param("", 1, "expected a mapping of scenario fields, got an empty file", id="empty"),
        pytest.param("# only a comment\nplain text\n", 2,
                     "expected a mapping of scenario fields, got a str", id="scalar"),
    ],
)
def test_top_level_not_a_mapping(text: str, line: int, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "x.yaml")
    assert info.value.problems == [Problem("x.yaml", line, "(top level)", message)]


def test_yaml_error_message_keeps_its_context() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario("id: a\n---\nid: b\n", "two_docs.yaml")
    message = (
        "YAML syntax error: expected a single document in the stream, but found another document"
    )
    assert info.value.problems == [Problem("two_docs.yaml", 2, "(yaml)", message)]


def test_good_scenarios_have_no_problems() -> None:
    assert validate_files([ROOT / "scenarios"]) == []


# --- the CLI ---------------------------------------------------------------------------------
# typer 0.29 / click 8.2+: CliRunner takes no `mix_stderr`; result.output is stdout and stderr
# interleaved, result.stdout and result.stderr are each stream alone.

EXPECTED_CLI_LINES = [
    f"tests/data/bad/{p.values[0]}:{p.values[1]}: {p.values[2]}: " for p in ONE_DEFECT
] + [f"tests/data/bad/several_problems.yaml:{line}: {field}: " for line, field, _ in SEVERAL]


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(ROOT)  # so that the printed paths are the relative ones passed in
    return CliRunner()


def test_cli_validate_bad_files_exits_2_listing_every_problem(runner: CliRunner) -> None:
    result = runner.invoke(app, ["validate", "tests/data/bad"])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    for expected in EXPECTED_CLI_LINES:
        assert any(line.startswith(expected) for line in lines), expected
    assert lines[-1] == f"{len(EXPECTED_CLI_LINES)} problem(s) in 14 file(s)"


def test_cli_validate_prints_each_problem_on_one_line(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli.err, "width", 80)
    result = runner.invoke(app, ["validate", "tests/data/bad"])
    problems = validate_files([Path("tests/data/bad")])
    assert len(problems) == len(EXPECTED_CLI_LINES)
    lines = result.stderr.splitlines()
    for p in problems:
        assert str(p) in lines


def test_cli_validate_good_scenarios_exits_0(runner: CliRunner) -> None:
    result = runner.invoke(app, ["validate", "scenarios/"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout == "all valid\n"


# --- duplicate keys, the one-parse loader -----------------------------------------------------

TWO_FRIENDS = """\
id: two
title: Two friends
agents:
  - id: alice
    name: Alice
    goal: Find the friend you share with Bob.
  - id: bob
    name: Bob
    name: Robert
    goal: Find the friend you share with Alice.
facts:
  - {id: a_tess, text: Tess, holders: [alice], holders: [bob]}
task: {kind: select, answer: Tess}
"""


def test_duplicate_keys_anywhere_are_reported_with_both_lines_and_the_path() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(TWO_FRIENDS, "two.yaml")
    assert info.value.problems == [
        Problem("two.yaml", 9, "agents[1].name", "duplicate key (first at line 8)"),
        Problem("two.yaml", 12, "facts[0].holders", "duplicate key (first at line 12)"),
    ]


def test_a_key_given_once_in_each_of_two_mappings_is_no_duplicate() -> None:
    s = parse_scenario(TWO_FRIENDS.replace("    name: Robert\n", "").replace(", holders: [bob]", ""), "two.yaml")
    assert [a.name for a in s.agents] == ["Alice", "Bob"]


class _Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    seeds: list[int] = []


def test_yaml_models_refuse_duplicate_keys_too(tmp_path: Path) -> None:
    path = tmp_path / "x.suite.yaml"
    path.write_text("name: a\nseeds: [1]\nname: b\n")
    checked = yamlcheck.check_yaml_model(path, _Suite, "a suite")
    assert checked.model is None
    assert [str(p) for p in checked.problems] == [f"{path}:3: name: duplicate key (first at line 1)"]


YAML_DOCUMENTS = [
    "a: 1\nb: [1.5, true, null, ~, '3', 0x1f, 2024-01-02, .inf]\nc: {d: e}\n",
    "base: &b {x: 1, y: [1, 2]}\nuse: *b\nmerged: {<<: *b, y: 3}\n",
    "s: !!set {a, b}\n",
    "- !!binary aGVsbG8=\n- !!omap [{a: 1}, {b: 2}]\n- !!pairs [{a: 1}]\n",
    "plain: text\nquoted: '1'\nyes_: yes\nint_key: {1: one, 2: two}\n",
    "",
    "just a string\n",
    "- [a, [b, [c, {d: [e]}]]]\n",
    "multi: |\n  line one\n  line two\nfolded: >-\n  a\n  b\n",
]


@pytest.mark.parametrize("text", YAML_DOCUMENTS)
def test_the_data_is_what_safe_load_gives(text: str) -> None:
    assert yamlio.parse_yaml(text).data == yaml.safe_load(text)


def test_aliases_are_the_same_object_and_recursive_ones_end() -> None:
    data = yamlio.parse_yaml("a: &x [1, 2]\nb: *x\n").data
    assert data["a"] is data["b"]
    loop = yamlio.parse_yaml("&l [1, *l]\n").data
    assert loop[1] is loop


@pytest.mark.parametrize(("text", "line", "reason"), [
    ("a: *nowhere\n", 1, "found undefined alias 'nowhere'"),
    ("a: !custom 3\n", 1, "could not determine a constructor for the tag '!custom'"),
    ("a: 1\n? [1, 2]\n: 3\n", 2, "while constructing a mapping, found unhashable key"),
    ("a: [1, 2\nb: 3\n", 2, "while parsing a flow sequence, expected ',' or ']', but got ':'"),
])
def test_yaml_errors_keep_the_pure_parsers_wording(text: str, line: int, reason: str) -> None:
    with pytest.raises(yamlio.YamlSyntaxError) as info:
        yamlio.parse_yaml(text)
    assert (info.value.line, info.value.reason) == (line, reason)


def test_a_valid_file_is_parsed_once_by_libyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    assert yaml.__with_libyaml__ and yamlio._LOADER is yaml.CSafeLoader
    parses = []

    class Counting(yaml.CSafeLoader):  # type: ignore[misc]
        def get_single_node(self) -> Any:
            parses.append(1)
            return super().get_single_node()

    def no_pure_python(*args: object, **kwargs: object) -> None:
        raise AssertionError("the pure-Python parser ran")

    monkeypatch.setattr(yamlio, "_LOADER", Counting)
    monkeypatch.setattr(yaml, "compose", no_pure_python)
    monkeypatch.setattr(yaml, "safe_load", no_pure_python)
    load_scenario(ROOT / "scenarios" / "mutual_friends.yaml")
    assert len(parses) == 1
    # a problem needs its line: the tree is composed again, only then
    with pytest.raises(ScenarioError):
        load_scenario(BAD / "unknown_holder.yaml")
    assert len(parses) == 3


def test_loading_leaves_the_garbage_collector_as_it_was() -> None:
    load_scenario(ROOT / "scenarios" / "mutual_friends.yaml")
    assert gc.isenabled()
    gc.disable()
    try:
        load_scenario(ROOT / "scenarios" / "mutual_friends.yaml")
        with pytest.raises(ScenarioError):
            load_scenario(BAD / "yaml_syntax_error.yaml")
        assert not gc.isenabled()
    finally:
        gc.enable()


# --- deal values: every agent, every item ---------------------------------------------------


def test_a_deal_without_one_sides_values_is_not_a_scenario() -> None:
    """Before: it validated, and judge_deal scored a grab by alice as valid and Pareto optimal."""
    data = yaml.safe_load((BAD / "deal_values_missing_agent.yaml").read_text())
    with pytest.raises(ValidationError, match=r"task\.deal\.values\.bob: missing values for agent 'bob'"):
        Scenario.model_validate(data)
    data["task"]["deal"]["values"]["bob"] = {"book": 1, "hat": 1}
    assert Scenario.model_validate(data).task.deal is not None


# --- warnings and empty folders ---------------------------------------------------------------


def _isolated(tmp_path: Path) -> Path:
    text = (ROOT / "tests" / "data" / "labelled" / "scenarios" / "relay.yaml").read_text()
    path = tmp_path / "isolated.yaml"
    path.write_text(text.replace("edges: [[pia, quin], [quin, rae], [rae, pia]]", "edges: [[pia, quin]]"))
    return path


def test_an_agent_that_can_send_to_no_one_is_a_warning(tmp_path: Path) -> None:
    path = _isolated(tmp_path)
    assert validate_files([path]) == [
        Problem(str(path), 15, "agents[1].id", "agent 'quin' has no neighbours to send to: every edge to it is "
                "directed towards it (directed: true); its messages reach no one", warning=True),
        Problem(str(path), 18, "agents[2].id", "agent 'rae' has no neighbours to send to: no edge of the topology "
                "has it; its messages reach no one", warning=True),
    ]
    assert load_scenario(path).agent_ids == ["pia", "quin", "rae"]  # a warning is not an error


def test_cli_validate_prints_warnings_and_exits_0(runner: CliRunner, tmp_path: Path) -> None:
    path = _isolated(tmp_path)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "all valid (2 warning(s))\n"
    assert f"{path}:18: agents[2].id: warning: agent 'rae' has no neighbours to send to" in result.stderr


@pytest.mark.parametrize("files", [[], ["only.suite.yaml"], ["notes.txt"]])
def test_cli_validate_a_folder_without_scenarios_exits_2(runner: CliRunner, tmp_path: Path, files: list[str]) -> None:
    folder = tmp_path / "emptydir"
    folder.mkdir()
    for name in files:
        (folder / name).write_text("name: x\n")
    result = runner.invoke(app, ["validate", str(folder) + "/"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: no scenario files in {folder}/")
    with pytest.raises(NoScenarioFiles):
        validate_files([ROOT / "scenarios", folder])  # one empty folder among others is refused too


def test_a_large_file_with_a_syntax_error_keeps_libyamls_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlio, "_REWORD_BELOW", 10)  # the pure-Python parser would take seconds per MB
    with pytest.raises(yamlio.YamlSyntaxError) as info:
        yamlio.parse_yaml("a: [1, 2\nb: 3\n")
    reason = "while parsing a flow sequence, did not find expected ',' or ']'"
    assert (info.value.line, info.value.reason) == (2, reason)
