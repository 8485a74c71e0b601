"""Variance-based (Sobol') sensitivity indices from the outputs of a Saltelli design.

Given an output evaluated at the points of a Saltelli design (:class:`~sim.studies.designs.Design`,
``method: sobol``), this module returns for each parameter

* the first-order index S1 (share of the output variance explained by the parameter alone),
* the total-order index ST (share explained by the parameter including all its interactions),

with bootstrap confidence intervals and standard errors.

Point estimates come from :func:`scipy.stats.sobol_indices` fed with the precomputed outputs
(``func={'f_A': ..., 'f_B': ..., 'f_AB': ...}``; estimators of Saltelli et al. 2010: S1 from
f_B (f_AB_i - f_A), ST from Jansen's (f_A - f_AB_i)^2, both over the variance of f_A and f_B).
``SobolResult.bootstrap`` draws from NumPy's global random state, which would make the CIs
change from run to run; the intervals here are the same BCa bootstrap over design rows, with the
same statistic on the same centred outputs, but driven by a seeded ``numpy.random.Generator``
through :func:`scipy.stats.bootstrap`. At the full sample the statistic reproduces SciPy's point
estimates exactly (tested).

With a stochastic simulator the output at a design point is a mean over replications, so
Monte Carlo noise adds variance that no parameter explains: it inflates total-order indices and
widens the intervals. Common random numbers (every point uses the same streams) keep the noise
in f_AB_i - f_A small.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pandas as pd
from scipy import stats

_DEGENERATE = getattr(stats, "DegenerateDataWarning", RuntimeWarning)

SOBOL_COLUMNS = [
    "parameter",
    "S1",
    "S1_low",
    "S1_high",
    "S1_se",
    "ST",
    "ST_low",
    "ST_high",
    "ST_se",
]


def _rng_kwargs(seed: int) -> dict[str, np.random.Generator]:
    """Seed ``scipy.stats.bootstrap`` (``rng`` in recent SciPy, ``random_state`` before)."""
    key = "rng" if "rng" in inspect.signature(stats.bootstrap).parameters else "random_state"
    return {key: np.random.default_rng(seed)}


def _estimate(f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray) -> np.ndarray:
    """S1 and ST stacked (2d,) from centred outputs: f_a, f_b of shape (n,), f_ab (d, n)."""
    var = np.var(np.concatenate([f_a, f_b]))
    with np.errstate(divide="ignore", invalid="ignore"):
        first = np.mean(f_b * (f_ab - f_a), axis=-1) / var
        total = 0.5 * np.mean((f_a - f_ab) ** 2, axis=-1) / var
    return np.concatenate([first, total])


def _checked(
    f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray, d: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the outputs as float arrays after checking their shapes and finiteness."""
    f_a = np.asarray(f_a, dtype=float)
    f_b = np.asarray(f_b, dtype=float)
    f_ab = np.asarray(f_ab, dtype=float)
    n = len(f_a)
    if f_b.shape != (n,) or f_ab.shape != (d, n):
        raise ValueError(f"expected f_A, f_B of shape ({n},) and f_AB of shape ({d}, {n})")
    if not (np.isfinite(f_a).all() and np.isfinite(f_b).all() and np.isfinite(f_ab).all()):
        raise ValueError("outputs must be finite")
    return f_a, f_b, f_ab


def _bootstrap(
    centred: tuple[np.ndarray, np.ndarray, np.ndarray],
    point: np.ndarray,
    confidence: float,
    n_resamples: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BCa intervals (low, high) and standard errors of S1 then ST, resampling design rows."""
    ca, cb, cab = centred
    n, k = len(ca), len(point)
    if n < 3:
        return np.full(k, np.nan), np.full(k, np.nan), np.full(k, np.nan)
    if np.var(np.concatenate([ca, cb])) == 0:
        return np.zeros(k), np.zeros(k), np.zeros(k)  # a constant output: every index is 0

    def statistic(idx: np.ndarray) -> np.ndarray:
        idx = np.asarray(idx, dtype=int)
        return _estimate(ca[idx], cb[idx], cab[:, idx])

    with warnings.catch_warnings():
        # An index that is exactly 0 in every resample (a parameter without effect) makes
        # the BCa acceleration 0/0; such intervals are set to the point below.
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", _DEGENERATE)
        boot = stats.bootstrap(
            (np.arange(n),),
            statistic,
            vectorized=False,
            method="BCa",
            n_resamples=n_resamples,
            confidence_level=confidence,
            **_rng_kwargs(seed),
        )
    low = np.asarray(boot.confidence_interval.low, dtype=float)
    high = np.asarray(boot.confidence_interval.high, dtype=float)
    se = np.asarray(boot.standard_error, dtype=float)
    dist = np.asarray(boot.bootstrap_distribution, dtype=float)
    for j in range(k):
        if np.ptp(dist[j]) == 0:
            low[j] = high[j] = point[j]
        elif not (np.isfinite(low[j]) and np.isfinite(high[j])):
            # BCa undefined: fall back to the percentile interval.
            alpha = (1 - confidence) / 2
            low[j], high[j] = np.nanpercentile(dist[j], [100 * alpha, 100 * (1 - alpha)])
    return low, high, se


def sobol_indices(
    f_a: np.ndarray,
    f_b: np.ndarray,
    f_ab: np.ndarray,
    names: list[str],
    confidence: float = 0.95,
    n_resamples: int = 999,
    seed: int = 0,
) -> pd.DataFrame:
    """First- and total-order Sobol' indices with bootstrap CIs.

    Parameters
    ----------
    f_a, f_b:
        Output at the rows of A and of B, shape (n,); n a power of 2.
    f_ab:
        Output at the rows of each AB_i, shape (d, n).
    names:
        The d parameter names, in the order of the AB_i.
    confidence:
        Confidence level of the intervals.
    n_resamples:
        Bootstrap resamples (BCa intervals).
    seed:
        Seed of the bootstrap's random generator.

    Returns
    -------
    pandas.DataFrame
        One row per parameter: :data:`SOBOL_COLUMNS`.

    Raises
    ------
    ValueError
        If shapes disagree, n is not a power of 2 or an output is not finite.
    """
    d = len(names)
    f_a, f_b, f_ab = _checked(f_a, f_b, f_ab, d)
    n = len(f_a)
    res = stats.sobol_indices(
        func={"f_A": f_a[None, :], "f_B": f_b[None, :], "f_AB": f_ab[:, None, :]}, n=n
    )
    first = np.atleast_1d(np.asarray(res.first_order, dtype=float)).reshape(d)
    total = np.atleast_1d(np.asarray(res.total_order, dtype=float)).reshape(d)
    mean = np.mean(np.concatenate([f_a, f_b]))
    centred = (f_a - mean, f_b - mean, f_ab - mean)
    point = np.concatenate([first, total])
    return _table(names, point, *_bootstrap(centred, point, confidence, n_resamples, seed))


def _table(
    names: list[str], point: np.ndarray, low: np.ndarray, high: np.ndarray, se: np.ndarray
) -> pd.DataFrame:
    """Return the indices as :data:`SOBOL_COLUMNS` (arrays hold S1 then ST of each parameter)."""
    d = len(names)
    return pd.DataFrame(
        {
            "parameter": pd.array(list(names), dtype="string"),
            "S1": point[:d],
            "S1_low": low[:d],
            "S1_high": high[:d],
            "S1_se": se[:d],
            "ST": point[d:],
            "ST_low": low[d:],
            "ST_high": high[d:],
            "ST_se": se[d:],
        }
    )


def estimate_at_full_sample(f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray) -> np.ndarray:
    """Return the bootstrap statistic at the full sample: S1 then ST (SciPy's estimates)."""
    f_a, f_b, f_ab = (np.asarray(x, dtype=float) for x in (f_a, f_b, f_ab))
    mean = np.mean(np.concatenate([f_a, f_b]))
    return _estimate(f_a - mean, f_b - mean, f_ab - mean)


__all__ = ["SOBOL_COLUMNS", "estimate_at_full_sample", "sobol_indices"]
