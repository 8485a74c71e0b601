"""Discounting: one convention for the engine's revenue, year splits and lever economics.

A rate ``r`` is an **annual effective** rate: one USD at day ``t`` is worth

    d(t) = (1 + r) ** (-t / 365.25)

USD at day 0, with ``t`` in days from ``run.start_date`` (:data:`~sim.base.units.DAYS_PER_YEAR`
days to the year). Every discount factor in corridor-sim comes from :func:`discount_factor`:

* revenue: the cash of a price step ``[a, b)`` is discounted by the mean of ``d`` over the step
  (:func:`step_discount_factors`), exact for flows constant over the step; oil held at a day
  (the horizon, a year boundary) is valued at ``d`` of that day;
* a policy lever's economics (:func:`annuity_factor`): year ``n`` of its lifetime is a cash flow
  at the end of that year, ``t = n x 365.25`` days from the lever's start (taken as the run's
  start date), so the factor is ``(1 + r) ** -n``; capex is paid at ``t = 0``.
"""

from __future__ import annotations

import math

import numpy as np

from sim.base.units import DAYS_PER_YEAR


def discount_factor(rate: float, days: float | np.ndarray) -> float | np.ndarray:
    """Return ``(1 + rate) ** (-days / 365.25)``: the value today of 1 USD at day ``days``.

    Parameters
    ----------
    rate:
        Annual effective discount rate (0.08 for 8% a year), at least 0.
    days:
        Days from the start date (a number or an array).

    Returns
    -------
    float or numpy.ndarray
        The discount factor(s), the shape of ``days``.
    """
    k = math.log1p(rate) / DAYS_PER_YEAR
    if isinstance(days, np.ndarray):
        return np.exp(-k * days)
    return math.exp(-k * float(days))


def step_discount_factors(rate: float, edges: np.ndarray) -> np.ndarray:
    """Return the mean of :func:`discount_factor` over each step ``[edges[i], edges[i+1]]``.

    A flow constant over a step is discounted exactly: ``mean d x volume = integral of
    flow x d(t) dt``. For a step of ``h`` days starting at ``a`` the mean is
    ``d(a) x (1 - exp(-k h)) / (k h)`` with ``k = ln(1 + rate) / 365.25``.

    Parameters
    ----------
    rate:
        Annual effective discount rate.
    edges:
        Increasing step boundaries in days (``n + 1`` values for ``n`` steps).

    Returns
    -------
    numpy.ndarray
        ``n`` factors.
    """
    edges = np.asarray(edges, dtype=float)
    k = math.log1p(rate) / DAYS_PER_YEAR
    start = np.exp(-k * edges[:-1])
    x = k * np.diff(edges)
    mean = np.ones_like(x)
    np.divide(-np.expm1(-x), x, out=mean, where=x > 0)
    return start * mean


def annuity_factor(rate: float, years: int) -> float:
    """Return the value today of 1 USD at the end of each of ``years`` years.

    The sum of :func:`discount_factor` at ``n x 365.25`` days for ``n = 1 .. years``, which is
    ``(1 - (1 + rate) ** -years) / rate`` (``years`` when the rate is 0).

    Parameters
    ----------
    rate:
        Annual effective discount rate.
    years:
        Number of yearly payments (a lever's lifetime).

    Returns
    -------
    float
        The annuity factor.
    """
    return math.fsum(discount_factor(rate, n * DAYS_PER_YEAR) for n in range(1, years + 1))
