"""Issue 14 mechanisms, each against a hand-computed or closed-form result.

* nomination surges on alternative links (lag, staircase, cancel, withdraw);
* field restart ramps after a congestion shut-in;
* access (contract) caps on third-party pipelines;
* planned outages: calendar windows and exclusivity;
* a one-berth terminal share drawn per event;
* crude grades per source (barrels per tonne follow the oil, also through a shared storage).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import sim
from sim.base.units import DAYS_PER_YEAR
from sim.model.streams import Streams

Z = 4.0
"""Standard errors allowed in statistical checks (two-sided p ~ 6e-5 per check)."""


def _two_links(make_cfg, surge: dict | None, events: list[dict], **source) -> sim.Model:
    """Field (10 Mt/yr) -> pipe A (10, best market) or pipe B (capacity 0 plus a surge)."""
    b = {"id": "B", "capacity_mt_per_year": 0.0}
    if surge is not None:
        b["surge"] = surge
    cfg = make_cfg(
        sources=[{"id": "field", "production_mt_per_year": 10.0, **source}],
        pipelines=[{"id": "A", "capacity_mt_per_year": 10.0}, b],
        markets=[
            {"id": "good", "bbl_per_t": 7.5, "price_differential_usd_per_bbl": 0.0},
            {"id": "poor", "bbl_per_t": 7.5, "price_differential_usd_per_bbl": -5.0},
        ],
        routes=[
            {"id": "ra", "source": "field", "path": ["A"], "market": "good"},
            {"id": "rb", "source": "field", "path": ["B"], "market": "poor"},
        ],
        scripted_events=events,
    )
    return sim.Model(cfg)


def _outage(start: str, days: float, lost: float = 1.0) -> dict:
    return {"asset": "A", "start": start, "duration_days": days, "capacity_lost": lost}


SURGE = {"extra_mt_per_year": 6.0, "lag_days": 10.0, "ramp_days": 20.0, "steps": 2}


def test_surge_lag_and_staircase(make_cfg):
    # A out on days [0, 100): shut-in 10 Mt/yr until the first step at 10 + 20/2 = 20, then
    # 7 until the second at 30, then 4 until A returns; B then falls back to 0.
    model = _two_links(make_cfg, SURGE, [_outage("2026-01-01", 100.0)])
    row = model.simulate(seed=1).row
    assert row["shut_in_mt"] == pytest.approx((20 * 10 + 10 * 7 + 70 * 4) / DAYS_PER_YEAR, abs=1e-9)
    assert row["spare_used_mt.B"] == pytest.approx((10 * 3 + 70 * 6) / DAYS_PER_YEAR, abs=1e-9)


def test_surge_withdrawn_and_lag_restarts(make_cfg):
    # Two outages: the second waits the full lag again, since the extra was withdrawn in between.
    model = _two_links(make_cfg, SURGE, [_outage("2026-01-01", 100.0), _outage("2026-06-01", 40.0)])
    row = model.simulate(seed=1).row
    first = 20 * 10 + 10 * 7 + 70 * 4
    second = 20 * 10 + 10 * 7 + 10 * 4
    assert row["shut_in_mt"] == pytest.approx((first + second) / DAYS_PER_YEAR, abs=1e-9)


def test_surge_request_dropped_when_need_ends_within_the_lag(make_cfg):
    model = _two_links(make_cfg, SURGE, [_outage("2026-01-01", 5.0), _outage("2026-01-11", 15.0)])
    row = model.simulate(seed=1).row
    # The first need (5 d) ends inside the lag; the second starts its own lag on day 10, so its
    # first step would come on day 30, after it ended on day 25: B never carries anything.
    assert row["spare_used_mt.B"] == 0.0
    assert row["shut_in_mt"] == pytest.approx(20 * 10 / DAYS_PER_YEAR, abs=1e-9)


def test_surge_not_requested_by_sources_it_cannot_serve(make_cfg):
    cfg = make_cfg(
        sources=[
            {"id": "field", "production_mt_per_year": 10.0},
            {"id": "other", "production_mt_per_year": 5.0},
        ],
        pipelines=[
            {"id": "A", "capacity_mt_per_year": 10.0},
            {"id": "B", "capacity_mt_per_year": 0.0, "surge": SURGE},
            {"id": "C", "capacity_mt_per_year": 5.0},
        ],
        routes=[
            {"id": "ra", "source": "field", "path": ["A"], "market": "mkt"},
            {"id": "rb", "source": "field", "path": ["B"], "market": "mkt"},
            {"id": "rc", "source": "other", "path": ["C"], "market": "mkt"},
        ],
        scripted_events=[{"asset": "C", "start": "2026-01-01", "duration_days": 100.0}],
    )
    row = sim.Model(cfg).simulate(seed=1).row
    assert row["spare_used_mt.B"] == 0.0
    assert row["shut_in_mt"] == pytest.approx(100 * 5 / DAYS_PER_YEAR, abs=1e-9)


@pytest.mark.parametrize("lost", [1.0, 0.5])
def test_restart_ramp_after_congestion(make_cfg, lost):
    # A loses `lost` of its capacity for 50 days; the field is cut to 1 - lost, then held there
    # and given back in 4 steps of 2 days: lost x (1 + 3/4 + 1/2 + 1/4) x 2 days more.
    model = _two_links(
        make_cfg,
        None,
        [_outage("2026-02-01", 50.0, lost)],
        restart_ramp_days=8.0,
        ramp_steps=4,
    )
    row = model.simulate(seed=1).row
    during = 10 * lost * 50
    ramp = 10 * lost * 2 * (1 + 0.75 + 0.5 + 0.25)
    assert row["shut_in_congestion_mt"] == pytest.approx(during / DAYS_PER_YEAR, abs=1e-9)
    assert row["shut_in_field_mt"] == pytest.approx(ramp / DAYS_PER_YEAR, abs=1e-9)
    assert abs(row["mass_balance_error_mt"]) < 1e-9


def test_no_reaction_without_congestion(make_cfg):
    model = _two_links(make_cfg, SURGE, [], restart_ramp_days=8.0)
    row = model.simulate(seed=1).row
    assert row["shut_in_mt"] == 0.0 and row["spare_used_mt.B"] == 0.0


def test_access_caps_a_third_party_pipeline(make_cfg):
    cfg = make_cfg(
        pipelines=[{"id": "pipe", "capacity_mt_per_year": 12.0, "access_mt_per_year": 4.0}]
    )
    row = sim.Model(cfg).simulate(seed=1).row
    years = 365.0 / DAYS_PER_YEAR
    assert row["throughput_mt.pipe"] == pytest.approx(4.0, abs=1e-9)
    assert row["shut_in_mt"] == pytest.approx(6.0 * years, abs=1e-9)


# --------------------------------------------------------------------------- planned outages


def _planned(make_cfg, planning: dict, rate: float, per_berth: bool, duration: float, n_days=365.0):
    return sim.Model(
        make_cfg(
            run={"horizon_days": n_days},
            sources=[{"id": "field", "production_mt_per_year": 20.0}],
            pipelines=[],
            terminals=[
                {
                    "id": "term",
                    "capacity_mt_per_year": 10.0,
                    "berths": 3,
                    "capacity_by_berths": {0: 0.0, 1: 0.5, 2: 1.0, 3: 1.0},
                }
            ],
            routes=[{"id": "r", "source": "field", "path": ["term"], "market": "mkt"}],
            hazards={
                "maint": {
                    "assets": ["term"],
                    "cause": "maintenance",
                    "per_berth": per_berth,
                    "arrivals": {"process": "poisson", "rate_per_year": rate},
                    "duration": {"dist": "fixed", "value_days": duration},
                    "planning": planning,
                }
            },
        )
    )


def test_planned_window_counts_are_poisson(make_cfg):
    # Work falling due Jan 1 - May 31 (151 d) starts on June 1; due Jun 1 - Aug 31 starts at
    # once; due from Sep 1 it waits for next June, past the horizon. Counts are Poisson.
    lam = 6.0
    model = _planned(make_cfg, {"months": [6, 7, 8]}, lam, per_berth=False, duration=1.0)
    on_june_1, started = [], []
    for k in range(300):
        raw = model.run_raw(Streams(3, k))
        starts = np.array([r.start_day for r in raw.records])
        assert np.all((starts >= 151) & (starts < 243))
        on_june_1.append(int(np.sum(starts == 151.0)))
        started.append(len(starts))
    for counts, days in ((on_june_1, 151), (started, 243)):
        mu = lam * days / DAYS_PER_YEAR
        mean = float(np.mean(counts))
        assert abs(mean - mu) < Z * math.sqrt(mu / len(counts)), (mean, mu, days)


def test_exclusive_planned_outages_never_overlap(make_cfg):
    model = _planned(
        make_cfg, {"exclusive": True, "retry_days": 3.0}, 2.0, per_berth=True, duration=20.0
    )
    n_started = 0
    for k in range(100):
        raw = model.run_raw(Streams(4, k))
        spans = sorted((r.start_day, r.start_day + r.duration_days) for r in raw.records)
        n_started += len(spans)
        for (_, end), (start, _) in zip(spans, spans[1:]):
            assert start >= end - 1e-9
        # one berth down at most: the terminal never falls below its full two-berth rate
        assert np.all(raw.link_cap[:, 0] == pytest.approx(10.0 / DAYS_PER_YEAR))
    assert n_started > 100  # the rule defers work, it does not drop it


# --------------------------------------------------------------------------- drawn berth share


def test_one_berth_share_drawn_per_event(make_cfg):
    def model(table_1):
        return sim.Model(
            make_cfg(
                sources=[{"id": "field", "production_mt_per_year": 10.0}],
                pipelines=[],
                terminals=[
                    {
                        "id": "term",
                        "capacity_mt_per_year": 10.0,
                        "berths": 3,
                        "capacity_by_berths": {0: 0.0, 1: table_1, 2: 1.0, 3: 1.0},
                    }
                ],
                routes=[{"id": "r", "source": "field", "path": ["term"], "market": "mkt"}],
                scripted_events=[
                    {"asset": "term", "start": "2026-02-01", "duration_days": 30, "berths_lost": 2},
                    {"asset": "term", "start": "2026-06-01", "duration_days": 30, "berths_lost": 2},
                ],
            )
        )

    fixed = model(0.6).simulate(seed=1).row
    assert fixed["shut_in_mt"] == pytest.approx(2 * 30 * 10 * 0.4 / DAYS_PER_YEAR, abs=1e-9)
    m = model({"dist": "uniform", "low": 0.4, "high": 0.8})
    nominal = m.net.link_cap[0]
    shares = []
    for k in range(400):
        raw = m.run_raw(Streams(5, k))
        drawn = sorted(set(np.round(raw.link_cap[:, 0] / nominal, 12)) - {1.0})
        assert len(drawn) == 2 and all(0.4 <= s <= 0.8 for s in drawn)  # one draw per event
        shares.extend(drawn)
    assert m.run_raw(Streams(5, 0), disrupted=False).link_cap[:, 0].min() == nominal
    mean, se = float(np.mean(shares)), 0.4 / math.sqrt(12) / math.sqrt(len(shares))
    assert abs(mean - 0.6) < Z * se


# --------------------------------------------------------------------------- crude grades


def _graded(make_cfg, shared: bool):
    path_a = ["pa", "tank", "out"] if shared else ["pa"]
    path_b = ["pb", "tank", "out"] if shared else ["pb"]
    return make_cfg(
        sources=[
            {"id": "heavy", "production_mt_per_year": 10.0, "bbl_per_t": 7.3},
            {"id": "light", "production_mt_per_year": 5.0, "bbl_per_t": 7.9},
        ],
        storages=[{"id": "tank", "capacity_mt": 0.0}] if shared else [],
        pipelines=[
            {"id": "pa", "capacity_mt_per_year": 10.0},
            {"id": "pb", "capacity_mt_per_year": 5.0},
            {"id": "out", "capacity_mt_per_year": 20.0},
        ],
        markets=[{"id": "mkt", "bbl_per_t": 7.5}],
        routes=[
            {"id": "ra", "source": "heavy", "path": path_a, "market": "mkt"},
            {"id": "rb", "source": "light", "path": path_b, "market": "mkt"},
        ],
    )


@pytest.mark.parametrize("shared", [False, True], ids=["own-legs", "shared-storage"])
def test_revenue_counts_the_barrels_of_each_grade(make_cfg, shared):
    row = sim.Model(_graded(make_cfg, shared)).simulate(seed=1).row
    years = 365.0 / DAYS_PER_YEAR
    want = (10.0 * 7.3 + 5.0 * 7.9) * 70.0 * years * 1e6
    assert row["revenue_usd"] == pytest.approx(want, rel=1e-12)
