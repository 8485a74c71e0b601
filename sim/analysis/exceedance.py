"""Empirical exceedance curves and losses at return periods, from a sample of annual losses.

Row i (0-based, losses sorted from largest) of a sample of n has exceedance probability
``(i + 1) / n`` and return period ``n / (i + 1)``; :func:`exceedance_curve` adds
distribution-free confidence bands and TVaR, :func:`loss_at` reads a loss and its TVaR off the
curve at any return period. :mod:`sim.analysis.losses` applies them to the year loss table.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as sps

from sim.base.columns import EP_CURVE_COLUMNS


def exceedance_curve(losses: np.ndarray, confidence: float = 0.9) -> pd.DataFrame:
    """Empirical exceedance curve with distribution-free confidence bands and TVaR.

    Row i (0-based, losses sorted from largest) has exceedance probability ``(i + 1) / n`` and
    return period ``n / (i + 1)``. The band at probability p comes from the binomial law of the
    number of losses above the true p-quantile (order-statistic interval). ``tvar`` is the mean
    of the losses from the largest down to this one.

    Returns
    -------
    pandas.DataFrame
        ``exceedance_probability``, ``return_period``, ``loss``, ``loss_low``, ``loss_high``,
        ``tvar`` (see :data:`sim.base.columns.EP_CURVE_COLUMNS`).
    """
    x = np.sort(np.asarray(losses, dtype=float))[::-1]
    n = len(x)
    names = [c.name for c in EP_CURVE_COLUMNS if c.name not in ("measure", "curve")]
    if n == 0:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in names})
    ep = np.arange(1, n + 1) / n
    alpha = (1 - confidence) / 2
    lo_rank = sps.binom.ppf(alpha, n, ep).astype(int)
    hi_rank = sps.binom.ppf(1 - alpha, n, ep).astype(int)
    # More exceedances than expected means the true quantile is lower (a larger index).
    high = x[np.clip(lo_rank - 1, 0, n - 1)]
    low = x[np.clip(hi_rank, 0, n - 1)]
    return pd.DataFrame(
        {
            "exceedance_probability": ep,
            "return_period": 1.0 / ep,
            "loss": x,
            "loss_low": low,
            "loss_high": high,
            "tvar": np.cumsum(x) / np.arange(1, n + 1),
        }
    )


def loss_at(losses: np.ndarray, return_period: float) -> tuple[float, float]:
    """Loss at a return period read off the empirical exceedance curve, and its TVaR.

    With n years sorted from the largest, rank k has return period n / k (as in
    :func:`exceedance_curve`). The loss at return period T sits at rank n / T, interpolated
    linearly in return period between neighbouring ranks; the TVaR is the mean of the n / T
    largest losses (the last one weighted by the fractional part). Beyond the longest simulated
    return period (T > n) both are the largest loss, a lower bound.
    """
    x = np.sort(np.asarray(losses, dtype=float))[::-1]
    n = len(x)
    if n == 0:
        return float("nan"), float("nan")
    k = n / float(return_period)
    if k <= 1.0:
        return float(x[0]), float(x[0])
    i = int(math.floor(k + 1e-12))
    frac = k - i
    if i >= n:
        return float(x[-1]), float(x.mean())
    if frac <= 1e-12:
        loss = float(x[i - 1])
    else:
        rp_hi, rp_lo = n / i, n / (i + 1)
        w = (return_period - rp_lo) / (rp_hi - rp_lo)
        loss = float(x[i] + w * (x[i - 1] - x[i]))
    tvar = float((x[:i].sum() + frac * x[i]) / k)
    return loss, tvar


__all__ = ["exceedance_curve", "loss_at"]
