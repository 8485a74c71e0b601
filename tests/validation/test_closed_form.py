"""Checks against results known in closed form.

Statistical checks use fixed seeds and accept |estimate - truth| < 4 standard errors, the SE
coming from theory (Poisson, binomial) or from the spread across replications. Deterministic
fluid and shuttle checks are exact up to floating-point noise.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

import sim
from sim.base.units import DAYS_PER_YEAR, HOURS_PER_DAY
from sim.model.network import shuttle_capacity_mt_per_day
from sim.model.streams import Streams

Z = 4.0  # tolerance in standard errors


def capacity_share(raw, link: int, nominal: float) -> float:
    """Time-average share of a link's nominal capacity over the run (from the breakpoints)."""
    dt_ = np.diff(raw.times)
    return float(np.sum(raw.link_cap[:, link] * dt_) / (nominal * raw.times[-1]))


def mean_and_se(values) -> tuple[float, float]:
    x = np.asarray(values, dtype=float)
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(len(x)))


# --------------------------------------------------------------------------- availability

MTTF, MTTR = 30.0, 5.0
HORIZON_LONG = 3650.0
N_AVAIL = 40


def _renewal_pipeline(make_cfg, repair: dict):
    return make_cfg(
        run={"horizon_days": HORIZON_LONG},
        # the field always offers more than the pipeline can carry
        sources=[{"id": "field", "production_mt_per_year": 20.0}],
        pipelines=[{"id": "pipe", "capacity_mt_per_year": 10.0}],
        hazards={
            "failure": {
                "assets": ["pipe"],
                "cause": "technical",
                "arrivals": {
                    "process": "renewal",
                    "uptime": {"dist": "exponential", "mean_days": MTTF},
                },
                "duration": repair,
            }
        },
    )


@pytest.mark.parametrize(
    "repair",
    [
        {"dist": "exponential", "mean_days": MTTR},
        {"dist": "lognormal", "mean_days": MTTR, "cv": 1.5},
    ],
    ids=["exponential-repair", "lognormal-repair"],
)
def test_renewal_availability(make_cfg, repair):
    cfg = _renewal_pipeline(make_cfg, repair)
    model = sim.Model(cfg)
    nominal = model.net.link_cap[0]
    shares = []
    for k in range(N_AVAIL):
        raw = model.run_raw(Streams(11, k), disrupted=True)
        share = capacity_share(raw, 0, nominal)
        shares.append(share)
        # capacity only ever takes the values 0 and full
        assert set(np.unique(raw.link_cap[:, 0])) <= {0.0, nominal}
    mean, se = mean_and_se(shares)
    avail = MTTF / (MTTF + MTTR)
    if repair["dist"] == "exponential":
        # Exact finite-horizon mean of a two-state Markov chain started up.
        nu = 1 / MTTF + 1 / MTTR
        truth = avail + (1 - avail) * (1 - math.exp(-nu * HORIZON_LONG)) / (nu * HORIZON_LONG)
    else:
        # Long-run value; the start-up transient is O(MTTR / T) ~ 1e-4, far below the SE.
        truth = avail
    assert se > 0
    assert abs(mean - truth) < Z * se, (mean, truth, se)


def test_availability_matches_throughput_when_source_saturates(make_cfg):
    """throughput_mt.<pipe> / capacity is the same time-average when supply always exceeds it."""
    cfg = _renewal_pipeline(make_cfg, {"dist": "exponential", "mean_days": MTTR})
    model = sim.Model(cfg)
    for k in range(3):
        rep = model.simulate(seed=11, replication=k)
        raw = model.run_raw(Streams(11, k), disrupted=True)
        share = capacity_share(raw, 0, model.net.link_cap[0])
        assert rep.row["throughput_mt.pipe"] / 10.0 == pytest.approx(share, rel=1e-12)
        assert rep.row["exported_mt"] == pytest.approx(
            share * 10.0 * HORIZON_LONG / DAYS_PER_YEAR, rel=1e-12
        )
        # the field offers 20 Mt/yr, so everything the pipe cannot carry is shut in
        assert rep.row["shut_in_congestion_mt"] == pytest.approx(
            rep.row["potential_mt"] - rep.row["exported_mt"], rel=1e-12
        )


# --------------------------------------------------------------------------- Poisson counts


def _poisson_pipeline(make_cfg, arrivals: dict, horizon: float, **extra):
    return make_cfg(
        run={"horizon_days": horizon},
        hazards={
            "h": {
                "assets": ["pipe"],
                "cause": "technical",
                "arrivals": arrivals,
                "duration": {"dist": "exponential", "mean_days": 3.0},
                **extra,
            }
        },
    )


def _counts(model, seed: int, n: int) -> tuple[np.ndarray, list[float]]:
    counts, starts = [], []
    for k in range(n):
        recs = model.run_raw(Streams(seed, k), disrupted=True).records
        counts.append(len(recs))
        starts.extend(r.start_day for r in recs)
    return np.asarray(counts), starts


def test_poisson_counts_mean_and_zero_probability(make_cfg):
    lam, horizon, n = 1.0, DAYS_PER_YEAR, 1000
    model = sim.Model(
        _poisson_pipeline(make_cfg, {"process": "poisson", "rate_per_year": lam}, horizon)
    )
    counts, starts = _counts(model, seed=5, n=n)
    mu = lam * horizon / DAYS_PER_YEAR
    assert abs(counts.mean() - mu) < Z * math.sqrt(mu / n)
    p0 = math.exp(-mu)
    assert abs(np.mean(counts == 0) - p0) < Z * math.sqrt(p0 * (1 - p0) / n)
    assert all(0.0 <= s < horizon for s in starts)


def test_seasonal_poisson(make_cfg):
    lam, horizon, n = 2.0, 730.0, 1000
    mult = [2.0, 0, 0, 1.0, 0, 0, 0, 0, 0, 0, 0.5, 3.0]
    model = sim.Model(
        _poisson_pipeline(
            make_cfg,
            {"process": "poisson", "rate_per_year": lam, "monthly_multipliers": mult},
            horizon,
        )
    )
    counts, starts = _counts(model, seed=5, n=n)
    start = dt.date(2026, 1, 1)
    months = {(start + dt.timedelta(days=math.floor(s))).month for s in starts}
    assert months <= {m + 1 for m, x in enumerate(mult) if x > 0}
    assert {1, 4, 11, 12} <= months  # every allowed month is reached
    weighted_days = sum(mult[(start + dt.timedelta(days=i)).month - 1] for i in range(int(horizon)))
    mu = lam * weighted_days / DAYS_PER_YEAR
    assert abs(counts.mean() - mu) < Z * math.sqrt(mu / n)


def test_regime_scaled_poisson(make_cfg):
    """Rate x regime multiplier, with a two-state chain started in 'conflict' (a Cox process)."""
    lam, horizon, n = 4.0, 730.0, 800
    s_conflict, s_calm = 200.0, 400.0  # mean sojourns, days
    m_conflict, m_calm = 1.0, 0.25
    cfg = make_cfg(
        run={"horizon_days": horizon},
        regimes={
            "initial": "conflict",
            "states": {
                "conflict": {"mean_sojourn_days": s_conflict},
                "calm": {"mean_sojourn_days": s_calm},
            },
        },
        hazards={
            "h": {
                "assets": ["pipe"],
                "cause": "military",
                "arrivals": {"process": "poisson", "rate_per_year": lam},
                "regime_multipliers": {"conflict": m_conflict, "calm": m_calm},
                "duration": {"dist": "fixed", "value_days": 1.0},
            }
        },
    )
    counts, _ = _counts(sim.Model(cfg), seed=9, n=n)
    a, b = 1 / s_conflict, 1 / s_calm  # conflict -> calm, calm -> conflict
    # Expected time in 'conflict' over [0, T] starting there.
    t_conflict = horizon * b / (a + b) + a / (a + b) ** 2 * (1 - math.exp(-(a + b) * horizon))
    mu = lam / DAYS_PER_YEAR * (m_conflict * t_conflict + m_calm * (horizon - t_conflict))
    mean, se = mean_and_se(counts)
    assert abs(mean - mu) < Z * se, (mean, mu, se)


# --------------------------------------------------------------------------- fluid buffer


def _buffer_cfg(make_cfg, rate_py: float, buffer_mt: float, outage_days: float):
    return make_cfg(
        sources=[{"id": "field", "production_mt_per_year": rate_py}],
        storages=[{"id": "tank", "capacity_mt": buffer_mt, "initial_level_mt": 0.0}],
        pipelines=[{"id": "pipe", "capacity_mt_per_year": 1.2 * rate_py}],
        terminals=[{"id": "term", "capacity_mt_per_year": 1.5 * rate_py, "berths": 1}],
        routes=[{"id": "r", "source": "field", "path": ["pipe", "tank", "term"], "market": "mkt"}],
        scripted_events=[{"asset": "term", "start": "2026-03-01", "duration_days": outage_days}],
    )


@pytest.mark.parametrize(
    "rate_py, buffer_mt, outage_days",
    [(10.0, 0.2, 20.0), (36.5, 0.3, 7.5), (10.0, 1.0, 20.0)],
    ids=["spill", "spill-fractional", "no-spill"],
)
def test_fluid_buffer_spill(make_cfg, rate_py, buffer_mt, outage_days):
    cfg = _buffer_cfg(make_cfg, rate_py, buffer_mt, outage_days)
    rep = sim.Model(cfg).simulate(seed=1)
    r = rate_py / DAYS_PER_YEAR
    spill = max(0.0, r * outage_days - buffer_mt)
    row = rep.row
    assert abs(row["shut_in_congestion_mt"] - spill) < 1e-9
    assert abs(row["shut_in_mt"] - spill) < 1e-9
    assert row["shut_in_field_mt"] == 0.0
    # the tank filled to min(B, r D) and drained again before the horizon
    assert row["max_storage_mt.tank"] == pytest.approx(min(buffer_mt, r * outage_days), abs=1e-9)
    assert abs(row["storage_change_mt"]) < 1e-9
    assert row["exported_mt"] == pytest.approx(row["potential_mt"] - spill, abs=1e-9)
    assert abs(row["mass_balance_error_mt"]) < 1e-9
    ev = rep.events
    assert len(ev) == 1 and bool(ev.loc[0, "scripted"])
    assert ev.loc[0, "start_day"] == 59.0  # 2026-03-01
    assert abs(ev.loc[0, "volume_lost_mt"] - spill) < 1e-9


# --------------------------------------------------------------------------- k-of-n berths


def test_k_of_n_berths(make_cfg):
    table = {0: 0.0, 1: 0.55, 2: 1.0, 3: 1.0}
    up, down = 20.0, 10.0
    cfg = make_cfg(
        run={"horizon_days": HORIZON_LONG},
        sources=[{"id": "field", "production_mt_per_year": 20.0}],
        pipelines=[],
        terminals=[
            {"id": "term", "capacity_mt_per_year": 10.0, "berths": 3, "capacity_by_berths": table}
        ],
        routes=[{"id": "r", "source": "field", "path": ["term"], "market": "mkt"}],
        hazards={
            "berth_failure": {
                "assets": ["term"],
                "cause": "technical",
                "per_berth": True,
                "arrivals": {
                    "process": "renewal",
                    "uptime": {"dist": "exponential", "mean_days": up},
                },
                "duration": {"dist": "exponential", "mean_days": down},
            }
        },
    )
    model = sim.Model(cfg)
    nominal = model.net.link_cap[0]
    shares = []
    for k in range(N_AVAIL):
        raw = model.run_raw(Streams(2, k), disrupted=True)
        levels = set(np.round(raw.link_cap[:, 0] / nominal, 12))
        assert levels <= set(table.values())
        shares.append(capacity_share(raw, 0, nominal))
    a = up / (up + down)
    truth = sum(math.comb(3, k) * a**k * (1 - a) ** (3 - k) * table[k] for k in range(4))
    mean, se = mean_and_se(shares)
    assert abs(mean - truth) < Z * se, (mean, truth, se)


# --------------------------------------------------------------------------- tanker shuttle

DWT, PAYLOAD, LOAD_TPH, DIS_TPH, DIST_NM, KNOTS, PORT_H = 10_000, 0.9, 1000, 2000, 120, 10, 2


def _shuttle_cfg(make_cfg, n: int, origin_berths: int, dest_berths: int, horizon: float):
    return make_cfg(
        run={"horizon_days": horizon},
        sources=[{"id": "field", "production_mt_per_year": 50.0}],
        # origin starts full and is refilled far faster than tankers lift; destination is
        # drained far faster than tankers land, so cargo and room are always there.
        storages=[
            {"id": "orig", "capacity_mt": 1.0, "initial_level_mt": 1.0},
            {"id": "dest", "capacity_mt": 0.1},
        ],
        pipelines=[
            {"id": "feed", "capacity_mt_per_year": 50.0},
            {"id": "out", "capacity_mt_per_year": 200.0},
        ],
        shuttles=[
            {
                "id": "sh",
                "origin": "orig",
                "destination": "dest",
                "distance_nm": DIST_NM,
                "fleet": [{"name": "t", "count": n, "dwt_t": DWT, "speed_knots": KNOTS}],
                "load_rate_t_per_hour": LOAD_TPH,
                "discharge_rate_t_per_hour": DIS_TPH,
                "origin_berths": origin_berths,
                "destination_berths": dest_berths,
                "port_time_hours": PORT_H,
                "payload_factor": PAYLOAD,
            }
        ],
        routes=[
            {
                "id": "r",
                "source": "field",
                "path": ["feed", "orig", "sh", "dest", "out"],
                "market": "mkt",
            }
        ],
    )


def _legs_days():
    cargo_t = DWT * PAYLOAD
    load = cargo_t / LOAD_TPH / HOURS_PER_DAY
    dis = cargo_t / DIS_TPH / HOURS_PER_DAY
    sail = DIST_NM / KNOTS / HOURS_PER_DAY
    port = PORT_H / HOURS_PER_DAY
    return cargo_t * 1e-6, load, dis, sail, port


def test_deterministic_shuttle_free_running(make_cfg):
    n, horizon = 3, 730.0
    cfg = _shuttle_cfg(make_cfg, n, origin_berths=n, dest_berths=n, horizon=horizon)
    model = sim.Model(cfg)
    raw = model.run_raw(Streams(1, 0), disrupted=True)
    cargo, load, dis, sail, port = _legs_days()
    cycle = 2 * sail + load + dis + 2 * port
    trips = sum(t.trips for t in raw.tankers["sh"])
    delivered = sum(t.delivered_mt for t in raw.tankers["sh"])
    # No queueing: each tanker completes its first trip (load..discharge) at cycle - sail,
    # then one per cycle.
    per_tanker = math.floor((horizon - (cycle - sail)) / cycle) + 1
    assert trips == n * per_tanker
    assert abs(trips - horizon * n / cycle) <= n
    assert delivered == pytest.approx(trips * cargo, rel=1e-12)
    capacity = shuttle_capacity_mt_per_day(cfg.shuttles[0])
    assert capacity == pytest.approx(n * cargo / cycle, rel=1e-12)
    assert abs(delivered - capacity * horizon) <= n * cargo
    rep = model.simulate(seed=1)
    assert rep.row["tanker_trips"] == trips
    assert rep.row["tanker_trips.sh"] == trips
    assert rep.row["tanker_wait_hours_mean"] == pytest.approx(0.0, abs=1e-9)
    assert abs(rep.row["mass_balance_error_mt"]) < 1e-9


def test_shuttle_limited_by_origin_berth(make_cfg):
    n, horizon = 10, 730.0
    cfg = _shuttle_cfg(make_cfg, n, origin_berths=1, dest_berths=n, horizon=horizon)
    model = sim.Model(cfg)
    raw = model.run_raw(Streams(1, 0), disrupted=True)
    cargo, load, dis, sail, port = _legs_days()
    cycle = 2 * sail + load + dis + 2 * port
    berth_time = load + port
    assert n * berth_time > cycle  # the single berth, not the fleet, is the bottleneck
    trips = sum(t.trips for t in raw.tankers["sh"])
    delivered = sum(t.delivered_mt for t in raw.tankers["sh"])
    # The berth is busy from t = 0; the j-th cargo is discharged at j * b + sail + dis + port.
    expected = math.floor((horizon - (berth_time + sail + dis + port)) / berth_time) + 1
    assert trips == expected
    assert abs(trips - horizon / berth_time) <= n
    capacity = shuttle_capacity_mt_per_day(cfg.shuttles[0])
    assert capacity == pytest.approx(cargo / berth_time, rel=1e-12)
    assert abs(delivered - capacity * horizon) <= n * cargo


# --------------------------------------------------------------------------- rerouting


@pytest.mark.parametrize(
    "f_py, s_py, outage_days",
    [(10.0, 4.0, 30.0), (10.0, 15.0, 30.0), (10.0, 4.0, 12.5)],
    ids=["alt-too-small", "alt-large-enough", "fractional-days"],
)
def test_rerouting_onto_spare_capacity(make_cfg, f_py, s_py, outage_days):
    tariff_main, tariff_alt, brent, bbl_per_t = 10.0, 30.0, 70.0, 7.5
    cfg = make_cfg(
        sources=[{"id": "field", "production_mt_per_year": f_py}],
        pipelines=[
            {"id": "main", "capacity_mt_per_year": 1.5 * f_py, "tariff_usd_per_t": tariff_main},
            {"id": "alt", "capacity_mt_per_year": s_py, "tariff_usd_per_t": tariff_alt},
        ],
        routes=[
            {"id": "r_main", "source": "field", "path": ["main"], "market": "mkt"},
            {"id": "r_alt", "source": "field", "path": ["alt"], "market": "mkt"},
        ],
        scripted_events=[{"asset": "main", "start": "2026-05-10", "duration_days": outage_days}],
    )
    row = sim.Model(cfg).simulate(seed=1).row
    f, s = f_py / DAYS_PER_YEAR, s_py / DAYS_PER_YEAR
    shut = max(0.0, f - s) * outage_days
    moved = min(f, s) * outage_days
    assert abs(row["shut_in_congestion_mt"] - shut) < 1e-9
    assert abs(row["spare_used_mt.alt"] - moved) < 1e-9
    assert row["spare_used_mt.main"] == 0.0
    assert abs(row["exported_mt.r_alt"] - moved) < 1e-9
    # Fixed price, no discounting: the loss is the shut-in valued at the main netback plus the
    # netback given up on the rerouted volume.
    nb_main = brent * bbl_per_t - tariff_main
    nb_alt = brent * bbl_per_t - tariff_alt
    loss = 1e6 * (nb_main * shut + (nb_main - nb_alt) * moved)
    assert row["revenue_loss_usd"] == pytest.approx(loss, rel=1e-9)


def test_two_state_regime_time_share_matches_the_markov_chain():
    # Start in "calm" (mean sojourn 50 d) vs "conflict" (100 d); expected calm days over T:
    # b/(a+b) T + a/(a+b)^2 (1 - exp(-(a+b) T)) with a = 1/50, b = 1/100.
    from conftest import build_cfg

    horizon, n = 200.0, 400
    cfg = build_cfg(
        run={"horizon_days": horizon},
        regimes={
            "initial": "calm",
            "states": {
                "calm": {"mean_sojourn_days": 50.0},
                "conflict": {"mean_sojourn_days": 100.0},
            },
        },
    )
    model = sim.Model(cfg)
    days = np.array(
        [model.simulate(seed=5, replication=k).row["regime_days.calm"] for k in range(n)]
    )
    a, b = 1 / 50.0, 1 / 100.0
    expected = b / (a + b) * horizon + a / (a + b) ** 2 * (1 - math.exp(-(a + b) * horizon))
    se = days.std(ddof=1) / math.sqrt(n)
    assert abs(days.mean() - expected) < 4 * se
