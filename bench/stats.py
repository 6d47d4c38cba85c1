"""Bootstrap confidence intervals for benchmark reports.

- :func:`bootstrap_mean`: the mean of a sample with a percentile bootstrap interval.
- :func:`paired_difference`: the mean of ``a[k] - b[k]`` over the keys both have (the
  same scenario instance, backend and seed run in two modes), with a bootstrap interval
  over those pairs.

Resampling uses ``numpy.random.default_rng(seed)``, so a report is reproducible. With
fewer than two values there is no interval (``low`` and ``high`` are ``None``).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

DEFAULT_RESAMPLES = 5000
_CHUNK = 2_000_000  # resampled values held in memory at once
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Estimate:
    """A mean and its confidence interval (``None`` where undefined)."""

    n: int
    mean: float | None
    low: float | None
    high: float | None
    level: float = 0.95

    def contains(self, x: float) -> bool:
        return self.low is not None and self.high is not None and self.low <= x <= self.high


@dataclass(frozen=True)
class PairedEstimate(Estimate):
    """The mean difference ``a - b`` over matched pairs, with the two means it came from."""

    mean_a: float | None = None
    mean_b: float | None = None


def bootstrap_mean(
    values: Iterable[float], *, level: float = 0.95, n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> Estimate:
    """The sample mean with a percentile bootstrap interval at ``level``."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be positive, got {n_resamples}")
    x = np.asarray(list(values), dtype=float)
    if x.ndim != 1 or np.isnan(x).any():
        raise ValueError("values must be a flat sequence of numbers (no NaN)")
    n = int(x.size)
    if n == 0:
        return Estimate(0, None, None, None, level)
    mean = float(x.mean())
    if n == 1:
        return Estimate(1, mean, None, None, level)
    if np.all(x == x[0]):  # every resample has the same mean
        return Estimate(n, mean, mean, mean, level)
    rng = np.random.default_rng(seed)
    means = np.empty(n_resamples)
    step = max(1, _CHUNK // n)
    for start in range(0, n_resamples, step):
        stop = min(n_resamples, start + step)
        means[start:stop] = x[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    alpha = (1 - level) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return Estimate(n, mean, float(low), float(high), level)


def paired_difference(
    a: Mapping[K, float],
    b: Mapping[K, float],
    *,
    level: float = 0.95,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> PairedEstimate:
    """Mean of ``a[k] - b[k]`` over the keys in both, with a bootstrap interval over the pairs."""
    keys = [k for k in a if k in b]
    diff = bootstrap_mean([a[k] - b[k] for k in keys], level=level, n_resamples=n_resamples, seed=seed)
    mean_a = float(np.mean([a[k] for k in keys])) if keys else None
    mean_b = float(np.mean([b[k] for k in keys])) if keys else None
    return PairedEstimate(diff.n, diff.mean, diff.low, diff.high, level, mean_a, mean_b)
