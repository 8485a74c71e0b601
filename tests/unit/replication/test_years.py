"""Multi-year horizons: per-year splits and the year/event loss tables, on a scripted case.

One field (10 Mt/yr) -> one pipeline -> one market at a fixed 70 USD/bbl and 7.5 bbl/t, no
storage, no tariffs, no discounting: every day the pipeline is down loses 10/365.25 Mt and
525 M USD per Mt. Horizon 2026-01-01 + 730 days = the years 2026 and 2027 (365 days each).
Scripted outages: ``a`` 10 days in March 2026, ``c`` 10 days from 27 December 2026 (5 days in
each year), ``b`` 20 days in June 2027.
"""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import cfg_dict

import sim
from sim.analysis import losses
from sim.base.units import DAYS_PER_YEAR
from sim.config import validate_config
from sim.replication.years import year_bounds

MT_PER_DAY = 10.0 / DAYS_PER_YEAR
USD_PER_MT = 70.0 * 7.5 * 1e6


def _two_year_cfg(**run):
    return validate_config(
        cfg_dict(
            run={"horizon_days": 730.0, **run},
            scripted_events=[
                {"id": "a", "asset": "pipe", "start": "2026-03-01", "duration_days": 10},
                {"id": "c", "asset": "pipe", "start": "2026-12-27", "duration_days": 10},
                {"id": "b", "asset": "pipe", "start": "2027-06-01", "duration_days": 20},
            ],
        )
    )


@pytest.fixture(scope="module")
def two_year_run(tmp_path_factory):
    return sim.run(
        _two_year_cfg(),
        replications=3,
        seed=1,
        executor="serial",
        out=tmp_path_factory.mktemp("years") / "run",
    )


def test_year_bounds_are_anniversaries():
    assert year_bounds(dt.date(2026, 1, 1), 365.0).tolist() == [0.0, 365.0]
    assert year_bounds(dt.date(2026, 1, 1), 730.0).tolist() == [0.0, 365.0, 730.0]
    # 2028 is a leap year; a remainder under a day is folded into the last year.
    assert year_bounds(dt.date(2026, 1, 1), 1096.5).tolist() == [0.0, 365.0, 730.0, 1096.5]
    assert year_bounds(dt.date(2026, 1, 1), 800.0).tolist() == [0.0, 365.0, 730.0, 800.0]
    assert year_bounds(dt.date(2024, 2, 29), 400.0).tolist() == [0.0, 366.0, 400.0]


def test_per_year_columns_have_the_known_losses():
    row = sim.simulate(_two_year_cfg(), seed=1).row
    assert row["year_volume_lost_mt.0"] == pytest.approx(15 * MT_PER_DAY, rel=1e-12)
    assert row["year_volume_lost_mt.1"] == pytest.approx(25 * MT_PER_DAY, rel=1e-12)
    assert row["year_revenue_loss_usd.0"] == pytest.approx(15 * MT_PER_DAY * USD_PER_MT, rel=1e-9)
    assert row["year_revenue_loss_usd.1"] == pytest.approx(25 * MT_PER_DAY * USD_PER_MT, rel=1e-9)
    assert "year_revenue_loss_usd.2" not in row


def test_one_year_horizons_get_no_per_year_columns(make_cfg):
    row = sim.simulate(make_cfg(run={"horizon_days": 365.0}), seed=1).row
    assert not [k for k in row if k.startswith("year_")]


def test_years_add_up_to_the_run_with_prices_storage_and_tankers():
    cfg = sim.load_config(
        "tests/data/small.yaml",
        [
            "run.horizon_days=1096",
            "economics.price.model=mean_reverting",
            "economics.price.volatility_per_sqrt_year=0.3",
            "economics.price.step_days=7",
            "economics.discount_rate_per_year=0.08",
        ],
    )
    model = sim.Model(cfg)
    for k in range(3):
        row = model.simulate(seed=5, replication=k).row
        years = [row[f"year_revenue_loss_usd.{y}"] for y in range(3)]
        lost = [row[f"year_volume_lost_mt.{y}"] for y in range(3)]
        assert sum(years) == pytest.approx(row["revenue_loss_usd"], rel=1e-9, abs=1e-3)
        assert sum(lost) == pytest.approx(row["offset_shut_in_mt"], rel=1e-9, abs=1e-12)


def test_year_loss_table_has_one_row_per_replication_year(two_year_run):
    day = MT_PER_DAY * USD_PER_MT
    ylt = two_year_run.ylt()
    assert len(ylt) == 6 and ylt["year"].tolist() == [0, 1] * 3
    assert (ylt["days"] == 365.0).all()
    assert ylt["loss_usd"].to_numpy() == pytest.approx([15 * day, 25 * day] * 3, rel=1e-9)
    assert ylt["volume_lost_mt"].to_numpy() == pytest.approx([15 * MT_PER_DAY, 25 * MT_PER_DAY] * 3)
    # OEP: the largest event of 2026 is a (10 days; c has 5 days in it), of 2027 b (20 days).
    assert ylt["max_event_loss_usd"].to_numpy() == pytest.approx([10 * day, 20 * day] * 3, rel=1e-9)
    assert ylt["max_event_volume_lost_mt"].to_numpy() == pytest.approx(
        [10 * MT_PER_DAY, 20 * MT_PER_DAY] * 3, rel=1e-9
    )
    assert ylt["n_events"].tolist() == [2, 2] * 3


def test_event_loss_table_splits_an_event_across_years(two_year_run):
    day = MT_PER_DAY * USD_PER_MT
    elt = two_year_run.elt()
    one = elt[elt["replication"] == 0].set_index(["hazard", "year"])["loss_usd"]
    assert one.loc[("a", 0)] == pytest.approx(10 * day, rel=1e-9)
    assert one.loc[("c", 0)] == pytest.approx(5 * day, rel=1e-9)
    assert one.loc[("c", 1)] == pytest.approx(5 * day, rel=1e-9)
    assert one.loc[("b", 1)] == pytest.approx(20 * day, rel=1e-9)
    # Each year's event losses add up to its YLT loss.
    ylt = two_year_run.ylt().set_index(["replication", "year"])["loss_usd"]
    per_year = elt.groupby(["replication", "year"])["loss_usd"].sum()
    assert per_year.to_numpy() == pytest.approx(ylt.loc[per_year.index].to_numpy(), rel=1e-12)


def test_annual_measures_of_a_multi_year_run(two_year_run):
    day = MT_PER_DAY * USD_PER_MT
    a = two_year_run.aal()
    assert a["aal"] == pytest.approx(20 * day, rel=1e-9)
    assert (a["n"], a["years"]) == (3, 6)
    assert a["se"] == pytest.approx(0.0, abs=1e-3)  # every replication is the same
    assert two_year_run.aal("volume_mt")["aal"] == pytest.approx(20 * MT_PER_DAY, rel=1e-9)
    aep = two_year_run.ep_curve("aep")
    assert len(aep) == 6
    assert aep["loss"].iloc[0] == pytest.approx(25 * day, rel=1e-9)
    # 6 years: half of them (2027s) reach 25 days' loss, so the 2-year loss is 25 days'.
    assert two_year_run.pml(2) == pytest.approx(25 * day, rel=1e-9)
    rp = two_year_run.return_periods()
    assert rp[rp["return_period"] == 10]["extrapolated"].all()


def test_multi_year_tables_need_the_year_bounds(two_year_run):
    with pytest.raises(ValueError, match="year bounds"):
        losses.year_loss_table(two_year_run.replications)


def test_oil_stored_over_new_year_is_not_a_loss_of_either_year():
    # The terminal stops for 10 days from 27 December: 5 days' output (0.137 Mt) sits in the tank
    # at New Year and is exported in January. Nothing is shut in, prices are fixed and not
    # discounted, so neither year loses revenue; the oil held at New Year is valued at what it
    # fetches, not counted as lost in 2026 and gained in 2027.
    cfg = validate_config(
        cfg_dict(
            run={"horizon_days": 730.0},
            storages=[{"id": "tank", "capacity_mt": 0.5}],
            terminals=[{"id": "term", "capacity_mt_per_year": 20.0, "berths": 1}],
            routes=[
                {"id": "r", "source": "field", "path": ["pipe", "tank", "term"], "market": "mkt"}
            ],
            scripted_events=[{"asset": "term", "start": "2026-12-27", "duration_days": 10}],
        )
    )
    row = sim.simulate(cfg, seed=1).row
    assert row["deferred_mt"] == pytest.approx(10 * MT_PER_DAY, rel=1e-9)
    assert row["year_volume_lost_mt.0"] == pytest.approx(0.0, abs=1e-12)
    assert row["year_revenue_loss_usd.0"] == pytest.approx(0.0, abs=1.0)
    assert row["year_revenue_loss_usd.1"] == pytest.approx(0.0, abs=1.0)
