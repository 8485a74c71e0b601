"""Summary statistics of Monte Carlo outputs.

For every numeric column: mean with a 95% confidence interval (normal approximation, standard
error s/sqrt(n)), standard deviation, percentiles, value-at-risk and conditional value-at-risk
(expected shortfall) at 95% and 99%, and the probability that the value is positive.

VaR and CVaR are taken on the *adverse* tail of each column, declared once in
:mod:`~sim.base.columns`. Losses are "bigger is worse", so VaR_q is the q-quantile and CVaR_q the
mean
of the values at or above it (the tail the risk desk cares about). For outputs where less is
worse (exports, revenue), VaR_q is the (1 - q)-quantile and CVaR_q the mean of the values at or
below it: the worst years, not the best.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as sps

Z95 = float(sps.norm.ppf(0.975))
PERCENTILES = (5, 50, 90, 95, 99)


def describe(values: np.ndarray, adverse: str = "high") -> dict[str, float]:
    """Return the summary statistics of one column (NaNs are ignored).

    Parameters
    ----------
    values:
        One value per replication.
    adverse:
        The tail where bad outcomes lie, ``"high"`` or ``"low"`` (see
        :func:`sim.base.columns.adverse_tail`); VaR and CVaR are taken on it.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    out: dict[str, float] = {"n": float(n)}
    if n == 0:
        return out
    mean = float(x.mean())
    std = float(x.std(ddof=1)) if n > 1 else 0.0
    half = Z95 * std / math.sqrt(n) if n > 1 else float("nan")
    out.update(mean=mean, std=std, ci95_low=mean - half, ci95_high=mean + half, ci95_half=half)
    qs = np.percentile(x, PERCENTILES)
    for p, q in zip(PERCENTILES, qs):
        out[f"p{p}"] = float(q)
    for level in (95, 99):
        var, cvar = var_cvar(x, level / 100, adverse)
        out[f"var{level}"] = var
        out[f"cvar{level}"] = cvar
    out["p_positive"] = float(np.mean(x > 0))
    return out


def var_cvar(x: np.ndarray, level: float, adverse: str = "high") -> tuple[float, float]:
    """Value-at-risk and expected shortfall (CVaR) at ``level`` on the adverse tail.

    Parameters
    ----------
    x:
        Sample values.
    level:
        Confidence level, e.g. 0.99.
    adverse:
        ``"high"``: VaR is the ``level`` quantile and CVaR the mean of the values at or above
        it; ``"low"``: VaR is the ``1 - level`` quantile and CVaR the mean at or below it.

    Returns
    -------
    tuple of float
        ``(var, cvar)``.
    """
    if adverse not in ("high", "low"):
        raise ValueError(f"adverse must be 'high' or 'low', got {adverse!r}")
    x = np.sort(np.asarray(x, dtype=float))
    if adverse == "low":
        var = float(np.quantile(x, 1.0 - level))
        tail = x[x <= var]
    else:
        var = float(np.quantile(x, level))
        tail = x[x >= var]
    return var, float(tail.mean()) if len(tail) else var


def relative_ci_half_width(values: np.ndarray) -> float:
    """Half-width of the 95% CI of the mean, relative to the absolute mean.

    ``inf`` with fewer than two values or a zero mean of varying values; ``0`` when every value
    is the same (the mean is then known exactly, even when it is zero: a batch whose metric is
    identically zero must not keep adding replications for ever).
    """
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n < 2:
        return float("inf")
    std = float(x.std(ddof=1))
    if std == 0:
        return 0.0
    mean = abs(float(x.mean()))
    if mean == 0 or not (math.isfinite(std) and math.isfinite(mean)):
        return float("inf")
    return Z95 * std / math.sqrt(n) / mean
