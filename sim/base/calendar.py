"""The years of a horizon: anniversaries of the run's start date (365 or 366 days).

When the horizon is not a whole number of years the last one is shorter; a remainder under
:data:`MIN_YEAR_DAYS` is folded into the year before.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np

MIN_YEAR_DAYS = 1.0
"""A remainder of the horizon shorter than this (days) is not a year of its own."""


def _anniversary(start: dt.date, years: int) -> dt.date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February in a common year
        return dt.date(start.year + years, 3, 1)


@lru_cache(maxsize=64)
def _bounds(start: dt.date, horizon_days: float) -> tuple[float, ...]:
    out = [0.0]
    k = 1
    while True:
        day = float((_anniversary(start, k) - start).days)
        if day >= horizon_days - MIN_YEAR_DAYS:
            break
        out.append(day)
        k += 1
    out.append(float(horizon_days))
    return tuple(out)


def year_bounds(start: dt.date, horizon_days: float) -> np.ndarray:
    """Return the year boundaries of a horizon, in days: ``[0, b1, ..., horizon]``.

    Parameters
    ----------
    start:
        The run's start date; years end on its anniversaries.
    horizon_days:
        The run's horizon.

    Returns
    -------
    numpy.ndarray
        ``n_years + 1`` increasing values, the first 0 and the last ``horizon_days``.
    """
    return np.asarray(_bounds(start, float(horizon_days)))
