"""Seasonal profiles: twelve monthly rate multipliers from event counts by calendar month.

With a handful of events per group, raw monthly rates are mostly noise (a month with no event
is not a month with no risk), so the profile is shrunk towards a flat one:

* ``c_m`` events started in calendar month ``m`` of the window, ``n = sum(c_m)``;
* ``w_m = E_m / T`` is the share of the window's exposure that falls in month ``m``;
* the shares of events by month get a Dirichlet prior with mean ``w`` and weight ``k``
  (``prior_events``, pseudo-events spread over the months like the exposure); their
  posterior mean is ``p_m = (c_m + k w_m) / (n + k)``;
* the month's rate relative to the average is ``p_m / w_m``, scaled so that the multipliers,
  weighted by the days of an average year's months, average exactly 1 (so ``rate_per_year``
  stays the expected count per year).

``k = 0`` gives the raw profile; large ``k`` a flat one. The default ``k = 12`` (one
pseudo-event per month) lets a group's own pattern dominate only once it has well over 12
events; a group with fewer events than ``k`` is flagged, because its profile is then mostly
the prior.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.calibration.windows import monthly_exposure

DEFAULT_PRIOR_EVENTS = 12.0
"""Weight of the flat prior, in pseudo-events (see the module docstring)."""

MONTH_DAYS = np.array([31, 28.25, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)
"""Days of each month in an average (365.25-day) year."""


@dataclass(frozen=True)
class SeasonalFit:
    """A shrunk seasonal profile.

    Attributes
    ----------
    counts:
        Events by start month (12 values, January first).
    exposure_years:
        Years of the window in each calendar month.
    raw:
        Unshrunk multipliers ``(c_m / E_m) / (n / T)`` (NaN for months with no exposure).
    multipliers:
        Shrunk multipliers, day-weighted mean 1.
    prior_events:
        The prior weight ``k`` used.
    n:
        Events behind the profile.
    note:
        A warning when the profile rests mostly on the prior, else empty.
    """

    counts: np.ndarray
    exposure_years: np.ndarray
    raw: np.ndarray
    multipliers: np.ndarray
    prior_events: float
    n: int
    note: str = ""

    def config(self, digits: int = 4) -> list[float]:
        """Return the multipliers as the config's ``monthly_multipliers`` list."""
        return [float(f"{v:.{digits}g}") for v in self.multipliers]


def fit_seasonal(
    starts: pd.Series | list,
    window_start: pd.Timestamp,
    window_end: pd.Timestamp,
    prior_events: float = DEFAULT_PRIOR_EVENTS,
) -> SeasonalFit:
    """Fit a shrunk seasonal profile to the start dates of one group's events.

    Parameters
    ----------
    starts:
        Event start dates (those outside the window are ignored).
    window_start, window_end:
        The observation window.
    prior_events:
        Weight ``k`` of the flat prior in pseudo-events (>= 0).

    Returns
    -------
    SeasonalFit
        Counts, exposure, raw and shrunk multipliers.

    Raises
    ------
    ValueError
        On a negative prior weight or an empty window.
    """
    if not prior_events >= 0 or not np.isfinite(prior_events):
        raise ValueError(f"prior_events must be >= 0 (got {prior_events})")
    exposure = monthly_exposure(window_start, window_end)
    total = float(exposure.sum())
    if total <= 0:
        raise ValueError("the window is empty: no seasonal profile")
    s = pd.to_datetime(pd.Series(starts))
    s = s[(s >= window_start) & (s <= window_end)]
    counts = np.bincount(s.dt.month.to_numpy() - 1, minlength=12).astype(float)
    n = int(counts.sum())
    w = exposure / total
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.where(w > 0, (counts / max(n, 1)) / w, np.nan) if n else np.full(12, np.nan)
        p = (counts + prior_events * w) / (n + prior_events) if n + prior_events > 0 else w
        mult = np.where(w > 0, p / w, 1.0)
    mult = mult / (np.sum(mult * MONTH_DAYS) / MONTH_DAYS.sum())
    note = ""
    if n < prior_events:
        note = f"season from {n} events < prior {prior_events:g}: mostly flat"
    return SeasonalFit(counts, exposure, raw, mult, float(prior_events), n, note)
