"""Scenario validation: each bad file reports exactly its problem, at the right line and field.

Every file in tests/data/bad/ is a small scenario with the defect named in its first
comment; the tables below give the problem the loader must report for it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import ROOT
from typer.testing import CliRunner

from privy import cli
from privy.cli import app
from privy.simulator.loader import Problem, ScenarioError, load_scenario, parse_scenario, validate_files

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
    assert lines[-1] == f"{len(EXPECTED_CLI_LINES)} problem(s) in 11 file(s)"


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
