"""One discounting convention (sim/base/discount.py) in the engine's revenue and in lever economics.

An annual effective rate r: cash at day t is worth (1 + r) ** (-t / 365.25). Checked against
closed forms: an annuity of year-end payments, and the revenue of runs whose flows are constant,
integral of rate x value x (1 + r) ** (-t / 365.25) dt = rate x value x (1 - d(H)) / k with
k = ln(1 + r) / 365.25.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import sim
from sim.analysis.comparison import Cost, economics
from sim.base.discount import annuity_factor, discount_factor, step_discount_factors
from sim.base.units import DAYS_PER_YEAR

RATES = [0.0, 0.03, 0.08, 0.12]


def _integral(rate: float, horizon: float) -> float:
    """Integral of (1 + r) ** (-t / 365.25) over [0, horizon] days, in closed form."""
    if rate == 0:
        return horizon
    k = math.log1p(rate) / DAYS_PER_YEAR
    return (1 - (1 + rate) ** (-horizon / DAYS_PER_YEAR)) / k


@pytest.mark.parametrize("rate", RATES)
def test_ten_year_annuity_matches_closed_form(rate):
    want = 10.0 if rate == 0 else (1 - (1 + rate) ** -10) / rate
    paid = sum(discount_factor(rate, n * DAYS_PER_YEAR) for n in range(1, 11))
    assert paid == pytest.approx(want, abs=1e-6)
    assert annuity_factor(rate, 10) == pytest.approx(want, abs=1e-6)
    # the lever economics use the same factor: capex now, avoided loss and opex at year ends
    cost = Cost(capex_usd=5.0, opex_usd_per_year=0.5, lifetime_years=10, discount_rate=rate)
    out = economics(2.0, 0.25, cost)
    assert out["npv_usd"] == pytest.approx(2.0 * want - 5.0 - 0.5 * want, abs=1e-6)
    assert out["npv_ci95_high"] - out["npv_usd"] == pytest.approx(0.25 * want, abs=1e-6)


def test_factor_is_annual_effective():
    assert discount_factor(0.08, DAYS_PER_YEAR) == pytest.approx(1 / 1.08, rel=1e-15)
    assert discount_factor(0.08, 0.0) == 1.0
    days = np.array([0.0, 182.625, 730.5])
    assert np.allclose(discount_factor(0.08, days), 1.08 ** (-days / DAYS_PER_YEAR), rtol=1e-15)


@pytest.mark.parametrize("rate", RATES)
def test_step_factors_integrate_the_factor(rate):
    """mean d over each step x step length adds up to the integral, whatever the steps."""
    edges = np.array([0.0, 0.5, 7.0, 7.25, 100.0, 365.0])
    got = float(np.sum(step_discount_factors(rate, edges) * np.diff(edges)))
    assert got == pytest.approx(_integral(rate, 365.0), rel=1e-12)


@pytest.mark.parametrize(
    "rate, step_days, horizon",
    [(0.08, 1.0, 365.0), (0.08, 7.0, 365.0), (0.12, 30.0, 1000.5), (0.0, 7.0, 365.0)],
)
def test_constant_flow_revenue_is_the_discounted_integral(make_cfg, rate, step_days, horizon):
    """One field (10 Mt/yr) through one pipe (tariff 4 USD/t) at a fixed 70 USD/bbl."""
    cfg = make_cfg(
        run={"horizon_days": horizon},
        economics={
            "price": {"model": "fixed", "brent_usd_per_bbl": 70.0, "step_days": step_days},
            "discount_rate_per_year": rate,
        },
        pipelines=[{"id": "pipe", "capacity_mt_per_year": 12.0, "tariff_usd_per_t": 4.0}],
    )
    row = sim.Model(cfg).simulate(replication=0).row
    flow = 10.0 / DAYS_PER_YEAR * 1e6  # t/day
    netback = 70.0 * 7.5 - 4.0
    want = flow * netback * _integral(rate, horizon)
    assert row["revenue_usd"] == pytest.approx(want, rel=1e-9)
    assert row["twin_revenue_usd"] == row["revenue_usd"]


def test_oil_held_at_the_horizon_is_discounted_to_it(make_cfg):
    """10 Mt/yr into a tank, 4 Mt/yr out to market: 6 Mt/yr held, valued at the horizon."""
    rate, horizon = 0.08, 365.0
    cfg = make_cfg(
        economics={
            "price": {"model": "fixed", "brent_usd_per_bbl": 70.0, "step_days": 7.0},
            "discount_rate_per_year": rate,
        },
        storages=[{"id": "tank", "capacity_mt": 100.0}],
        pipelines=[
            {"id": "pin", "capacity_mt_per_year": 20.0},
            {"id": "pout", "capacity_mt_per_year": 4.0},
        ],
        routes=[{"id": "r", "source": "field", "path": ["pin", "tank", "pout"], "market": "mkt"}],
    )
    row = sim.Model(cfg).simulate(replication=0).row
    value = 70.0 * 7.5 * 1e6  # USD per Mt
    sold = 4.0 / DAYS_PER_YEAR * value * _integral(rate, horizon)
    held = 6.0 / DAYS_PER_YEAR * horizon * value * discount_factor(rate, horizon)
    assert row["storage_change_mt"] == pytest.approx(6.0 / DAYS_PER_YEAR * horizon, rel=1e-12)
    assert row["revenue_usd"] == pytest.approx(sold + held, rel=1e-9)
