"""Every scenario family: 100 generated instances each are valid, pass PettingZoo's
api_test, have the ground truth the family promises, are solved by the family's
scripted baseline in ``agents`` mode, and are not solved when the needed facts are
withheld. Families appear here as soon as their module exists."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from helpers import solve
from pettingzoo.test import api_test

from privy.scenarios import families
from privy.simulator import PrivyEnv, load_scenario

N = 100
FAMILIES = families.names()


@pytest.mark.parametrize("name", FAMILIES)
def test_instances_are_valid_and_have_their_ground_truth(name: str, tmp_path: Path) -> None:
    fam = families.family(name)
    generated = families.generate(name, N, seed=7)
    assert len({s.id for s in generated}) == N
    for path, s in zip(families.write(generated, tmp_path), generated, strict=True):
        assert load_scenario(path) == s  # round trip through the file format
        assert s.family == name
        fam.check(s)


@pytest.mark.parametrize("name", FAMILIES)
def test_instances_pass_pettingzoo_api_test(name: str) -> None:
    for s in families.generate(name, N, seed=8):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            api_test(PrivyEnv(s), num_cycles=3)


@pytest.mark.parametrize("name", FAMILIES)
def test_baseline_succeeds_and_fails_without_the_facts(name: str) -> None:
    fam = families.family(name)
    for s in families.generate(name, N, seed=9):
        ep = solve(s)
        assert ep.outcome.success, (s.id, [m.content for m in ep.messages])
        withheld = solve(fam.withhold(s))
        assert not withheld.outcome.success, (s.id, [m.content for m in withheld.messages])


@pytest.mark.parametrize("name", FAMILIES)
def test_same_seed_same_files(name: str, tmp_path: Path) -> None:
    a = families.write(families.generate(name, 5, seed=3), tmp_path / "a")
    b = families.write(families.generate(name, 5, seed=3), tmp_path / "b")
    c = families.generate(name, 5, seed=4)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert [s.model_dump() for s in c] != [load_scenario(p).model_dump() for p in a]


def test_unknown_family_and_bad_count() -> None:
    with pytest.raises(families.FamilyError, match="unknown family 'nope'"):
        families.generate("nope", 1, 0)
    if FAMILIES:
        with pytest.raises(families.FamilyError, match="--count must be at least 1"):
            families.generate(FAMILIES[0], 0, 0)
