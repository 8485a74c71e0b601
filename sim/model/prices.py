"""Benchmark price paths.

A path is a step function: ``prices[k]`` holds on ``[grid[k], grid[k+1])`` (days). The
mean-reverting model is an Ornstein-Uhlenbeck process on log price, advanced with its exact
transition law, so the step size changes resolution but not the distribution at grid points.
"""

from __future__ import annotations

import math

import numpy as np

from sim.base.units import DAYS_PER_YEAR
from sim.config.models import Price
from sim.model.streams import Streams


def price_grid(price: Price, horizon_days: float) -> np.ndarray:
    """Return the step boundaries (days), from 0 to ``horizon_days`` inclusive."""
    n = max(1, math.ceil(horizon_days / price.step_days - 1e-9))
    grid = np.arange(n + 1, dtype=float) * price.step_days
    grid[-1] = horizon_days
    return grid


def price_path(
    price: Price, horizon_days: float, streams: Streams
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(grid, prices)`` with ``len(prices) == len(grid) - 1`` (USD/bbl)."""
    grid = price_grid(price, horizon_days)
    n = len(grid) - 1
    if price.model == "fixed" or price.volatility_per_sqrt_year == 0:
        return grid, np.full(n, price.brent_usd_per_bbl)
    rng = streams.get("price")
    kappa = price.mean_reversion_per_year
    sigma = price.volatility_per_sqrt_year
    mu = math.log(price.brent_usd_per_bbl)
    dt = (np.diff(grid) / DAYS_PER_YEAR).tolist()
    z = rng.standard_normal(n).tolist()
    # The grid has few distinct step lengths: compute each one's transition law once.
    law = {h: _transition(kappa, sigma, h) for h in set(dt)}
    x = []
    cur = mu
    for h, zk in zip(dt, z):
        x.append(cur)
        a, sd = law[h]
        cur = mu + (cur - mu) * a + sd * zk
    return grid, np.exp(np.array(x))


def _transition(kappa: float, sigma: float, years: float) -> tuple[float, float]:
    """Autoregression factor and innovation sd of the log price over ``years``."""
    if kappa > 0:
        a = math.exp(-kappa * years)
        return a, sigma * math.sqrt((1 - a * a) / (2 * kappa))
    return 1.0, sigma * math.sqrt(years)
