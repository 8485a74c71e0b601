"""The APPROXIMATE screening mode (sim.studies.screening) against closed forms and the DES.

Tolerances come from standard errors: |screen - truth| < 4 SE (closed form) and
|screen - DES| < 4 x the SE of the difference of the two means (hand-made network whose
features the screen models exactly in the mean: outages, fractional capacity loss,
rerouting to spare capacity, field ramps; no storage, surge or tankers), and on a network
built to exercise the engine's restart-ramp rules with a buffer (a full outage inside a
partial one: the cut eases part way, ramps empty the buffer, which takes blocked oil again).
"""

from __future__ import annotations

import math

import numpy as np
from conftest import build_cfg
from scipy import integrate

from sim.base.discount import discount_factor
from sim.base.units import DAYS_PER_YEAR
from sim.studies.screening import APPROX_HEADER, check_against_des, format_table, screen

Z = 4.0

RATE, MEAN_DAYS, PROD = 3.0, 12.0, 10.0


def _single_pipeline():
    return build_cfg(
        hazards={
            "pipe_out": {
                "assets": ["pipe"],
                "cause": "technical",
                "arrivals": {"process": "poisson", "rate_per_year": RATE},
                "duration": {"dist": "exponential", "mean_days": MEAN_DAYS},
            }
        }
    )


def _p_down(t: float) -> float:
    """P(pipe down at day t): Poisson outages with exponential durations, all up at t = 0."""
    lam = RATE / DAYS_PER_YEAR
    return 1.0 - math.exp(-lam * MEAN_DAYS * (1.0 - math.exp(-t / MEAN_DAYS)))


def test_closed_form_single_pipeline():
    """Expected lost volume = throughput x expected down time (about rate x mean duration)."""
    cfg = _single_pipeline()
    res = screen(cfg, 20_000, seed=7)
    horizon = cfg.run.horizon_days
    down, _ = integrate.quad(_p_down, 0.0, horizon)
    truth = PROD / DAYS_PER_YEAR * down
    # rate x mean duration x throughput, less the overlaps of outages:
    assert abs(truth - RATE * MEAN_DAYS * PROD / DAYS_PER_YEAR) / truth < 0.1
    x = res.volume_lost_mt
    se = x.std(ddof=1) / math.sqrt(x.size)
    assert abs(x.mean() - truth) < Z * se, (x.mean(), truth, se)
    # Revenue: fixed price x bbl/t (no tariff here), discounted at each loss's time.
    unit = 70.0 * 7.5 * 1e6 * PROD / DAYS_PER_YEAR
    r = cfg.economics.discount_rate_per_year
    rev_truth, _ = integrate.quad(lambda t: _p_down(t) * discount_factor(r, t), 0, horizon)
    y = res.revenue_lost_usd
    assert abs(y.mean() - unit * rev_truth) < Z * y.std(ddof=1) / math.sqrt(y.size)
    assert np.allclose(res.availability, 1 - x / (PROD * horizon / DAYS_PER_YEAR))


def _reroute_network():
    """Two fields, a main pipeline with a spare alternative, fractional outages and a trip."""
    return build_cfg(
        sources=[
            {"id": "field", "production_mt_per_year": 10.0, "ramp_up_days": 6.0},
            {"id": "small", "production_mt_per_year": 2.0},
        ],
        pipelines=[
            {"id": "pipe", "capacity_mt_per_year": 12.5},
            {"id": "alt", "capacity_mt_per_year": 4.0},
        ],
        routes=[
            {"id": "r", "source": "field", "path": ["pipe"], "market": "mkt"},
            {"id": "r_alt", "source": "field", "path": ["alt"], "market": "mkt"},
            {"id": "s", "source": "small", "path": ["pipe"], "market": "mkt"},
        ],
        hazards={
            "pipe_out": {
                "assets": ["pipe"],
                "cause": "technical",
                "arrivals": {
                    "process": "poisson",
                    "rate_per_year": 2.0,
                    "monthly_multipliers": [2, 2, 2, 1, 1, 0, 0, 0, 1, 1, 2, 2],
                },
                "duration": {"dist": "lognormal", "median_days": 8.0, "sigma": 0.6},
                "effect": {"capacity_lost": {"dist": "uniform", "low": 0.3, "high": 1.0}},
            },
            "trip": {
                "assets": ["field"],
                "cause": "technical",
                "arrivals": {"process": "poisson", "rate_per_year": 1.5},
                "duration": {"dist": "triangular", "low_days": 2, "mode_days": 4, "high_days": 9},
                "effect": {"capacity_lost": 0.5},
            },
        },
    )


def test_screen_matches_des_on_small_network():
    cfg = _reroute_network()
    res = screen(cfg, 20_000, seed=3)
    check = check_against_des(cfg, res, 400, seed=3, screen_seconds=1.0)
    for bias in (check.volume, check.revenue):
        se = math.hypot(bias.screen_se, bias.des_se)
        assert abs(bias.screen_mean - bias.des_mean) < Z * se, bias
    table = format_table(res, 1.0, check)
    assert table.splitlines()[0] == f"# {APPROX_HEADER}"
    assert "bias" in table and "APPROXIMATE" in screen.__doc__


def _ramp_buffer_network():
    """Two fields behind one buffered outlet: storms (full) and long half outages overlap."""
    fields = [
        {"id": "a", "production_mt_per_year": 8.0, "restart_ramp_days": 4.0},
        {"id": "b", "production_mt_per_year": 4.0, "restart_ramp_days": 4.0},
    ]
    path = ["pipe", "tank", "outlet"]
    return build_cfg(
        sources=fields,
        storages=[{"id": "tank", "capacity_mt": 0.03}],
        pipelines=[
            {"id": "pipe", "capacity_mt_per_year": 14.0},
            {"id": "outlet", "capacity_mt_per_year": 13.0},
        ],
        routes=[
            {"id": "ra", "source": "a", "path": path, "market": "mkt"},
            {"id": "rb", "source": "b", "path": path, "market": "mkt"},
        ],
        hazards={
            "storm": {
                "assets": ["outlet"],
                "cause": "weather",
                "arrivals": {"process": "poisson", "rate_per_year": 8.0},
                "duration": {"dist": "lognormal", "median_days": 3.0, "sigma": 0.5},
            },
            "half": {
                "assets": ["outlet"],
                "cause": "technical",
                "arrivals": {"process": "poisson", "rate_per_year": 4.0},
                "duration": {"dist": "fixed", "value_days": 15.0},
                "effect": {"capacity_lost": 0.5},
            },
        },
    )


def test_screen_follows_the_engines_restart_ramps_and_buffer():
    """Before it followed the engine's ramp rules the screen was +6.8% here (15 SE, 5,000 DES)."""
    cfg = _ramp_buffer_network()
    res = screen(cfg, 20_000, seed=3)
    bias = check_against_des(cfg, res, 1_500, seed=3, screen_seconds=1.0).volume
    se = math.hypot(bias.screen_se, bias.des_se)
    assert abs(bias.screen_mean - bias.des_mean) < Z * se, bias
