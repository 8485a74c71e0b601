"""Second-order Monte Carlo: hazard rates per parameter set, and the variance split."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

import sim
from sim.analysis.variance import variance_split
from sim.base.units import DAYS_PER_YEAR
from sim.cli.runs import print_summary
from sim.config import validate_config
from sim.config.loader import config_hash
from sim.model.parameters import draw_rates
from sim.replication.runner import Model
from sim.report.run import build_report

ROOT = Path(__file__).resolve().parents[2]


def _hazard(rate: float, events: int | None = None, duration: float = 1.0) -> dict:
    h = {
        "assets": ["pipe"],
        "cause": "technical",
        "arrivals": {"process": "poisson", "rate_per_year": rate},
        "duration": {"dist": "fixed", "value_days": duration},
    }
    if events is not None:
        h["rate_uncertainty"] = {"events": events, "exposure_years": 4.0}
    return h


def test_drawn_rates_have_the_gamma_moments(make_cfg):
    cfg = make_cfg(hazards={"a": _hazard(2.0, events=3), "b": _hazard(0.5, events=0)})
    k = 4000
    draws = np.array([[draw_rates(cfg, 11, j)[h] for h in ("a", "b")] for j in range(k)])
    for col, (rate, shape) in enumerate(((2.0, 3.5), (0.5, 0.5))):
        x = draws[:, col]
        var = rate**2 / shape
        assert abs(x.mean() - rate) < 4 * math.sqrt(var / k)
        se_var = var * math.sqrt(2 / (k - 1) + (6 / shape) / k)
        assert abs(x.var(ddof=1) - var) < 4 * se_var
    assert abs(np.corrcoef(draws.T)[0, 1]) < 4 / math.sqrt(k)
    # each hazard has its own stream: adding one leaves the others' draws alone
    more = make_cfg(hazards={"a": _hazard(2.0, events=3), "z": _hazard(1.0, events=1)})
    assert [draw_rates(more, 11, j)["a"] for j in range(5)] == list(draws[:5, 0])


def test_off_means_bit_identical(make_cfg):
    plain = make_cfg(hazards={"a": _hazard(6.0), "b": _hazard(3.0, duration=4.0)})
    blocks = make_cfg(hazards={"a": _hazard(6.0, events=2), "b": _hazard(3.0, 5, duration=4.0)})
    m0, m1 = Model(plain), Model(blocks)
    for k in range(6):
        r0, r1 = m0.simulate(seed=5, replication=k), m1.simulate(seed=5, replication=k)
        assert r0.row == r1.row and r0.event_rows == r1.event_rows
        assert "parameter_set" not in r1.row
    assert config_hash(plain) != config_hash(blocks)


def test_off_means_bit_identical_on_the_default_config():
    data = yaml.safe_load((ROOT / "configs" / "kazakhstan.yaml").read_text())
    data["run"]["parameter_sets"] = None  # the shipped default turns second-order runs on
    base = Model(validate_config(data))
    for hz in data["hazards"].values():
        hz["rate_uncertainty"] = {"events": 3, "exposure_years": 4.0}
    blocks = Model(validate_config(data))
    for k in (0, 1):
        assert (
            base.simulate(seed=3, replication=k).row == blocks.simulate(seed=3, replication=k).row
        )


def test_replications_share_their_parameter_set(make_cfg):
    cfg = make_cfg(
        hazards={"a": _hazard(6.0, events=2), "b": _hazard(3.0)}, run={"parameter_sets": 5}
    )
    model = Model(cfg)
    rows = [model.simulate(seed=9, replication=k).row for k in range(12)]
    assert [r["parameter_set"] for r in rows] == [k % 5 for k in range(12)]
    assert "hazard_rate.b" not in rows[0]
    for r in rows:
        assert r["hazard_rate.a"] == rows[r["parameter_set"]]["hazard_rate.a"]
        assert r["hazard_rate.a"] == draw_rates(cfg, 9, r["parameter_set"])["a"]
    assert len({r["hazard_rate.a"] for r in rows}) == 5


def test_variance_split_recovers_known_components():
    rng = np.random.default_rng(7)
    k, m, sd_theta, sd_eps = 400, 5, 3.0, 2.0
    theta = rng.normal(10.0, sd_theta, k)
    sizes = rng.integers(2, 2 * m, k)  # unbalanced sets
    y = np.concatenate([t + rng.normal(0, sd_eps, s) for t, s in zip(theta, sizes)])
    g = np.repeat(np.arange(k), sizes)
    s = variance_split(y, g)
    n = len(y)
    var_means = sd_theta**2 + sd_eps**2 / sizes.mean()
    assert abs(s["parameter_variance"] - sd_theta**2) < 4 * var_means * math.sqrt(2 / (k - 1))
    assert abs(s["stochastic_variance"] - sd_eps**2) < 4 * sd_eps**2 * math.sqrt(2 / (n - k))
    assert s["total_variance"] == pytest.approx(s["parameter_variance"] + s["stochastic_variance"])
    assert s["f_pvalue"] < 1e-6
    # no parameter effect: the truncated estimate is near 0 and the F test does not reject
    flat = variance_split(rng.normal(0, 1, 2000), np.repeat(np.arange(400), 5))
    assert flat["parameter_variance"] < 4 * math.sqrt(2 / 399) * (1 + 1 / 5)
    with pytest.raises(ValueError):
        variance_split(np.ones(5), np.zeros(5))


def test_second_order_run_matches_the_closed_form(make_cfg, tmp_path):
    """Event counts: Var(E[N | rate]) = T^2 r^2 / shape and E[Var(N | rate)] = r T."""
    rate, events = 12.0, 2
    shape = events + 0.5
    cfg = make_cfg(
        hazards={"a": _hazard(rate, events=events, duration=0.5)},
        run={"parameter_sets": 200, "replications": 600},
    )
    res = sim.run(cfg, seed=21, executor="serial", out=tmp_path / "run")
    split = json.loads((res.path / "summary.json").read_text())["parameter_uncertainty"]
    s = split["n_events"]
    years = 365 / DAYS_PER_YEAR
    param, stoch = (rate * years) ** 2 / shape, rate * years
    var_means = param + stoch / 3
    se_param = var_means * math.sqrt(2 / 199 + (6 / shape) / 200)
    assert abs(s["parameter_variance"] - param) < 4 * se_param, (s, param)
    assert abs(s["stochastic_variance"] - stoch) < 4 * stoch * math.sqrt(
        2 / 400 + 1 / (stoch * 400)
    )
    reps = res.replications
    assert reps["parameter_set"].tolist() == [k % 200 for k in range(600)]
    assert "revenue_loss_usd" in split
    out = io.StringIO()
    print_summary(json.loads((res.path / "summary.json").read_text()), file=out)
    text = " ".join(out.getvalue().split())
    assert "variance split" in text and "parameter share %" in text
    # the headline says the mean loss is uncertain, with the set means' 5-95% band
    band = split["revenue_loss_usd"]
    low, high = (f"{band[k] / 1e6:,.1f}" for k in ("conditional_mean_p5", "conditional_mean_p95"))
    assert "Second-order Monte Carlo (200 parameter sets" in text
    assert f"{low} to {high} USD m across parameter sets (5-95%)" in text
    page = build_report(res)
    assert "Second-order Monte Carlo over 200 parameter sets" in page
    assert "Historical fit" in page and "scripts/historical_fit.py" in page
