"""Turn distribution configs into sampling functions.

Each ``*_sampler`` returns a callable ``f(rng) -> float`` that draws one value from the given
:class:`numpy.random.Generator`. Deterministic values return a constant and never touch ``rng``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.config.distributions import (
    DurationDist,
    EmpiricalDays,
    ExponentialDays,
    FixedDays,
    FractionDist,
    GammaDays,
    LognormalDays,
    TriangularDays,
    TriangularFraction,
    UniformDays,
    UniformFraction,
    WeibullDays,
)

Sampler = Callable[[np.random.Generator], float]


def duration_sampler(dist: DurationDist) -> Sampler:
    """Return a sampler of durations in days for ``dist``."""
    if isinstance(dist, FixedDays):
        v = float(dist.value_days)
        return lambda rng: v
    if isinstance(dist, ExponentialDays):
        m = float(dist.mean_days)
        return lambda rng: float(rng.exponential(m))
    if isinstance(dist, LognormalDays):
        mu, s = dist.log_params()
        return lambda rng: float(rng.lognormal(mu, s))
    if isinstance(dist, WeibullDays):
        k, lam = float(dist.shape), float(dist.scale_days)
        return lambda rng: lam * float(rng.weibull(k))
    if isinstance(dist, GammaDays):
        k, th = float(dist.shape), float(dist.scale_days)
        return lambda rng: float(rng.gamma(k, th))
    if isinstance(dist, TriangularDays):
        lo, mo, hi = float(dist.low_days), float(dist.mode_days), float(dist.high_days)
        return lambda rng: float(rng.triangular(lo, mo, hi))
    if isinstance(dist, UniformDays):
        lo, hi = float(dist.low_days), float(dist.high_days)
        return lambda rng: float(rng.uniform(lo, hi))
    if isinstance(dist, EmpiricalDays):
        vals = np.asarray(dist.values_days, dtype=float)
        p = None if dist.weights is None else np.asarray(dist.weights) / np.sum(dist.weights)
        return lambda rng: float(vals[rng.choice(len(vals), p=p)])
    raise TypeError(f"unsupported duration distribution {type(dist).__name__}")


def fraction_sampler(dist: FractionDist) -> Sampler:
    """Return a sampler of fractions in [0, 1] for ``dist``."""
    if isinstance(dist, (int, float)):
        v = float(dist)
        return lambda rng: v
    if isinstance(dist, UniformFraction):
        lo, hi = float(dist.low), float(dist.high)
        return lambda rng: float(rng.uniform(lo, hi)) if hi > lo else lo
    if isinstance(dist, TriangularFraction):
        lo, mo, hi = float(dist.low), float(dist.mode), float(dist.high)
        return lambda rng: float(rng.triangular(lo, mo, hi))
    raise TypeError(f"unsupported fraction distribution {type(dist).__name__}")


def is_deterministic(dist: FractionDist | DurationDist) -> bool:
    """Return True when ``dist`` always yields the same value."""
    return isinstance(dist, (int, float, FixedDays))
