"""Bootstrap intervals against distributions whose mean is known."""

from __future__ import annotations

import numpy as np
import pytest

from privy.bench.stats import Estimate, bootstrap_mean, paired_difference


def coverage(draw: object, true_mean: float, reps: int = 400, level: float = 0.95, seed: int = 1) -> float:
    """Share of ``reps`` samples whose bootstrap interval contains ``true_mean``."""
    rng = np.random.default_rng(seed)
    hits = 0
    for i in range(reps):
        sample = draw(rng)  # type: ignore[operator]
        hits += bootstrap_mean(sample, level=level, n_resamples=2000, seed=i).contains(true_mean)
    return hits / reps


def test_95_interval_covers_a_normal_mean_about_95_percent_of_the_time() -> None:
    c = coverage(lambda g: g.normal(5.0, 2.0, 50), 5.0)
    assert 0.93 <= c <= 0.97, c


def test_95_interval_covers_a_bernoulli_p_about_95_percent_of_the_time() -> None:
    c = coverage(lambda g: (g.random(80) < 0.3).astype(float), 0.3)
    assert 0.92 <= c <= 0.975, c


def test_level_is_honoured_a_50_percent_interval_covers_about_half_the_time() -> None:
    c = coverage(lambda g: g.normal(0.0, 1.0, 50), 0.0, level=0.5)
    assert 0.40 <= c <= 0.60, c


def test_interval_width_shrinks_like_one_over_sqrt_n() -> None:
    rng = np.random.default_rng(7)
    widths = {}
    for n in (25, 100, 400):
        w = [bootstrap_mean(rng.normal(0, 1, n), seed=s) for s in range(20)]
        widths[n] = float(np.mean([e.high - e.low for e in w if e.high is not None and e.low is not None]))
    # the normal theory width 2 * 1.96 / sqrt(n): 0.784, 0.392, 0.196
    assert widths[25] == pytest.approx(2 * 1.96 / 5, rel=0.15)
    assert widths[25] / widths[100] == pytest.approx(2.0, rel=0.15)
    assert widths[100] / widths[400] == pytest.approx(2.0, rel=0.15)


def test_paired_difference_recovers_a_known_shift_and_ignores_shared_noise() -> None:
    rng = np.random.default_rng(3)
    base = rng.normal(0, 5, 60)  # large between-instance variation, shared by both modes
    a = {(f"s{i}", 0): float(x + 0.5 + rng.normal(0, 0.2)) for i, x in enumerate(base)}
    b = {(f"s{i}", 0): float(x) for i, x in enumerate(base)}
    b[("only_b", 0)] = 100.0  # unpaired: must be left out
    d = paired_difference(a, b)
    assert d.n == 60
    assert d.mean == pytest.approx(0.5, abs=0.1)
    assert d.contains(0.5) and not d.contains(0.0)
    assert d.high is not None and d.low is not None and d.high - d.low < 0.3  # pairing removes the shared noise
    unpaired = bootstrap_mean(list(a.values())).high - bootstrap_mean(list(a.values())).low  # type: ignore[operator]
    assert unpaired > 5 * (d.high - d.low)
    assert d.mean_a is not None and d.mean_b is not None and d.mean_a - d.mean_b == pytest.approx(d.mean)


def test_edge_cases() -> None:
    assert bootstrap_mean([]) == Estimate(0, None, None, None)
    one = bootstrap_mean([3.0])
    assert (one.n, one.mean, one.low, one.high) == (1, 3.0, None, None)
    same = bootstrap_mean([2.5] * 7)
    assert (same.mean, same.low, same.high) == (2.5, 2.5, 2.5)
    none = paired_difference({"x": 1.0}, {"y": 1.0})
    assert (none.n, none.mean, none.mean_a) == (0, None, None)
    with pytest.raises(ValueError):
        bootstrap_mean([1.0, float("nan")])
    with pytest.raises(ValueError):
        bootstrap_mean([1.0, 2.0], level=1.0)


def test_seeded_and_reproducible_and_large_samples_fit_in_memory() -> None:
    x = np.random.default_rng(0).normal(size=30)
    assert bootstrap_mean(x, seed=5) == bootstrap_mean(x, seed=5)
    assert bootstrap_mean(x, seed=5) != bootstrap_mean(x, seed=6)
    big = bootstrap_mean(np.random.default_rng(1).random(200_000), n_resamples=200)  # resampled in chunks
    assert big.low is not None and big.high is not None and big.low < 0.5 < big.high
