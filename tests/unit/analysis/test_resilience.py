"""Offset ledger identity and resilience metrics against hand-checkable cases."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import cfg_dict

import sim
from sim.base.units import DAYS_PER_YEAR
from sim.config import validate_config


def _ledger_error(frame):
    return (
        frame["blocked_mt"]
        - frame["offset_routes_mt"]
        - frame["offset_storage_mt"]
        - frame["offset_shut_in_mt"]
    ).abs()


@pytest.mark.parametrize("config", ["tests/data/small.yaml", "configs/kazakhstan.yaml"])
def test_offset_ledger_sums_to_the_blocked_volume(config):
    model = sim.Model(sim.load_config(config))
    for k in range(4):
        rep = model.simulate(seed=3, replication=k)
        row = rep.summary
        assert float(_ledger_error(row).iloc[0]) < 1e-9
        corridors = [c for c in row.columns if c.startswith("offset_mt.")]
        delta = row[corridors].to_numpy()[0]
        assert np.clip(-delta, 0, None).sum() == pytest.approx(row["blocked_mt"].iloc[0], abs=1e-9)
        if len(rep.events):
            assert float(_ledger_error(rep.events).max()) < 1e-9


def _buffer_case(buffer_mt, outage_days, alt_capacity=0.0):
    rate = 3.6525  # Mt/yr = 0.01 Mt/day
    pipelines = [{"id": "pipe", "capacity_mt_per_year": 10.0}]
    routes = [{"id": "main", "source": "field", "path": ["pipe", "tank", "term"], "market": "mkt"}]
    if alt_capacity:
        pipelines.append(
            {"id": "alt", "capacity_mt_per_year": alt_capacity, "tariff_usd_per_t": 5.0}
        )
        routes.append({"id": "other", "source": "field", "path": ["alt"], "market": "mkt"})
    return validate_config(
        cfg_dict(
            run={"horizon_days": 200.0},
            sources=[{"id": "field", "production_mt_per_year": rate}],
            storages=[{"id": "tank", "capacity_mt": buffer_mt}],
            pipelines=pipelines,
            terminals=[{"id": "term", "capacity_mt_per_year": 10.0, "berths": 1}],
            routes=routes,
            scripted_events=[
                {"asset": "term", "start": "2026-02-01", "duration_days": outage_days}
            ],
        )
    )


def test_time_to_survive_is_buffer_over_inflow_and_ledger_splits_as_expected():
    # 0.01 Mt/day into an empty 0.05 Mt tank: shut-in starts 5 days into a 12-day outage.
    rep = sim.Model(_buffer_case(0.05, 12.0)).simulate(seed=1)
    ev = rep.events.iloc[0]
    assert ev["time_to_survive_days"] == pytest.approx(5.0, abs=1e-9)
    assert ev["peak_shortfall_mt_per_day"] == pytest.approx(0.01, rel=1e-9)
    assert ev["blocked_mt"] == pytest.approx(0.12, rel=1e-9)
    assert ev["offset_storage_mt"] == pytest.approx(0.05, rel=1e-9)
    assert ev["offset_shut_in_mt"] == pytest.approx(0.07, rel=1e-9)
    assert ev["offset_routes_mt"] == pytest.approx(0.0, abs=1e-12)


def test_no_shut_in_gives_no_time_to_survive():
    rep = sim.Model(_buffer_case(0.5, 12.0)).simulate(seed=1)
    assert np.isnan(rep.events["time_to_survive_days"].iloc[0])


def test_alternative_route_absorbs_up_to_its_capacity():
    # Alternative of 1.826 Mt/yr = 0.005 Mt/day takes half; the tank (0.03 Mt) the next 0.03.
    rep = sim.Model(_buffer_case(0.03, 10.0, alt_capacity=0.005 * DAYS_PER_YEAR)).simulate(seed=1)
    ev = rep.events.iloc[0]
    assert ev["offset_routes_mt"] == pytest.approx(0.05, rel=1e-9)
    assert ev["offset_storage_mt"] == pytest.approx(0.03, rel=1e-9)
    assert ev["offset_shut_in_mt"] == pytest.approx(0.02, rel=1e-9)
    assert ev["time_to_survive_days"] == pytest.approx(6.0, abs=1e-9)


def test_runaway_hazard_rates_stop_with_a_clear_error(monkeypatch):
    from sim.model import hazards

    monkeypatch.setattr(hazards, "MAX_EVENTS_PER_REPLICATION", 50)
    cfg = validate_config(
        cfg_dict(
            hazards={
                "flicker": {
                    "assets": ["pipe"],
                    "cause": "technical",
                    "arrivals": {"process": "poisson", "rate_per_year": 5000},
                    "duration": {"dist": "fixed", "value_days": 0.01},
                }
            }
        )
    )
    with pytest.raises(hazards.TooManyEventsError, match="more than 50 disruption events"):
        sim.Model(cfg).simulate(seed=1)


def test_time_to_recover_includes_draining_the_buffer():
    # After the 12-day outage the full 0.05 Mt tank drains at terminal minus inflow rate.
    rep = sim.Model(_buffer_case(0.05, 12.0)).simulate(seed=1)
    drain = 0.05 / (10.0 / DAYS_PER_YEAR - 0.01)
    assert rep.events["time_to_recover_days"].iloc[0] == pytest.approx(12.0 + drain, rel=1e-9)


def test_time_to_recover_is_the_outage_when_nothing_is_stored():
    rep = sim.Model(_buffer_case(0.0, 12.0)).simulate(seed=1)
    assert rep.events["time_to_recover_days"].iloc[0] == pytest.approx(12.0, rel=1e-12)
