"""Kaplan-Meier estimate of a duration distribution from right-censored observations.

The empirical distribution function of durations when some are only lower bounds: at each
completed duration ``t_j`` with ``d_j`` completions among the ``n_j`` events still running
(durations and censoring times ``>= t_j``; a censored time equal to ``t_j`` counts as still
running), survival drops by the factor ``1 - d_j / n_j``. Censored events thus count while they
are known to run and drop out after, without being taken for completions. The empirical CDF is
``1 - S``; when the longest duration is censored, ``S`` never reaches 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class KaplanMeier:
    """A Kaplan-Meier step function.

    Attributes
    ----------
    times:
        Distinct completed durations, ascending.
    survival:
        ``S(t)`` just after each of ``times``.
    at_risk, completed:
        ``n_j`` and ``d_j`` at each of ``times``.
    se:
        Greenwood standard error of ``S`` at each of ``times``.
    """

    times: np.ndarray
    survival: np.ndarray
    at_risk: np.ndarray
    completed: np.ndarray
    se: np.ndarray

    def cdf(self, t: np.ndarray | float) -> np.ndarray:
        """Return the empirical CDF ``1 - S(t)`` (right-continuous steps)."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        if not len(self.times):
            return np.zeros_like(t)
        idx = np.searchsorted(self.times, t, side="right") - 1
        s = np.where(idx >= 0, self.survival[np.clip(idx, 0, None)], 1.0)
        return 1.0 - s


def kaplan_meier(durations, censored) -> KaplanMeier:
    """Estimate the survival function of right-censored durations.

    Parameters
    ----------
    durations:
        Observed times (NaN values are dropped).
    censored:
        ``True`` where the time is a lower bound.

    Returns
    -------
    KaplanMeier
        The estimate (empty arrays when no duration is completed).

    Raises
    ------
    ValueError
        On mismatched lengths or negative durations.
    """
    t = np.asarray(list(durations), dtype=float)
    c = np.asarray(list(censored), dtype=bool)
    if len(t) != len(c):
        raise ValueError(f"{len(t)} durations but {len(c)} censoring flags")
    keep = ~np.isnan(t)
    t, c = t[keep], c[keep]
    if (t < 0).any():
        raise ValueError("durations must be >= 0")
    times = np.unique(t[~c])
    at_risk = np.array([np.sum(t >= x) for x in times], dtype=float)
    completed = np.array([np.sum((t == x) & ~c) for x in times], dtype=float)
    factors = 1.0 - completed / np.where(at_risk > 0, at_risk, 1.0)
    surv = np.cumprod(factors)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = completed / (at_risk * (at_risk - completed))
    greenwood = np.cumsum(np.where(np.isfinite(terms), terms, 0.0))
    se = surv * np.sqrt(greenwood)
    return KaplanMeier(times, surv, at_risk, completed, se)
