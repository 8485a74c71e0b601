"""Property-based checks on random small networks (hypothesis).

Each example is a network of 1-3 fields and 1-3 pipelines to one or two markets, optionally with
a tank and a terminal behind some pipelines, random Poisson hazards and a random seed.
"""

from __future__ import annotations

import copy

import numpy as np
from conftest import cfg_dict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.config import validate_config
from sim.model.streams import Streams

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

rates = st.floats(min_value=0.5, max_value=20.0, allow_nan=False, allow_infinity=False)


@st.composite
def networks(draw, storage: bool | None = None) -> dict:
    """A random small network as a config dict."""
    n_src = draw(st.integers(1, 3))
    n_pipe = draw(st.integers(1, 3))
    with_storage = draw(st.booleans()) if storage is None else storage
    data = cfg_dict(
        run={"horizon_days": draw(st.floats(30.0, 365.0)), "seed": draw(st.integers(0, 2**32))},
        sources=[
            {"id": f"s{i}", "production_mt_per_year": draw(rates)} for i in range(n_src)
        ],
        pipelines=[
            {
                "id": f"p{j}",
                "capacity_mt_per_year": draw(rates),
                "tariff_usd_per_t": draw(st.floats(0.0, 50.0)),
            }
            for j in range(n_pipe)
        ],
        markets=[
            {"id": "m0", "price_differential_usd_per_bbl": draw(st.floats(-5.0, 0.0))},
            {"id": "m1", "price_differential_usd_per_bbl": draw(st.floats(-5.0, 0.0))},
        ],
    )
    assets = [f"s{i}" for i in range(n_src)] + [f"p{j}" for j in range(n_pipe)]
    if with_storage:
        cap = draw(st.floats(0.01, 1.0))
        data["storages"] = [
            {"id": "tank", "capacity_mt": cap, "initial_level_mt": cap * draw(st.floats(0, 1))}
        ]
        data["terminals"] = [
            {
                "id": "term",
                "capacity_mt_per_year": draw(rates),
                "berths": draw(st.integers(1, 3)),
                "tariff_usd_per_t": draw(st.floats(0.0, 20.0)),
            }
        ]
        assets.append("term")
    routes = []
    for i in range(n_src):
        pipes = draw(
            st.lists(st.integers(0, n_pipe - 1), min_size=1, max_size=n_pipe, unique=True)
        )
        for j in pipes:
            via_tank = with_storage and draw(st.booleans())
            path = [f"p{j}", "tank", "term"] if via_tank else [f"p{j}"]
            routes.append(
                {
                    "id": f"r{i}_{j}",
                    "source": f"s{i}",
                    "path": path,
                    "market": f"m{draw(st.integers(0, 1))}",
                }
            )
    data["routes"] = routes
    hazards = {}
    for h in range(draw(st.integers(0, 3))):
        lost = draw(
            st.one_of(
                st.floats(0.1, 1.0),
                st.builds(
                    lambda lo, width: {"dist": "uniform", "low": lo, "high": min(1.0, lo + width)},
                    st.floats(0.0, 0.8),
                    st.floats(0.1, 1.0),
                ),
            )
        )
        hazards[f"h{h}"] = {
            "assets": [draw(st.sampled_from(assets))],
            "cause": "technical",
            "arrivals": {"process": "poisson", "rate_per_year": draw(st.floats(0.5, 12.0))},
            "duration": {"dist": "exponential", "mean_days": draw(st.floats(0.5, 30.0))},
            "effect": {"capacity_lost": lost},
        }
    data["hazards"] = hazards
    return data


def _row(data: dict) -> dict:
    cfg = validate_config(data)
    return sim.Model(cfg).simulate(seed=cfg.run.seed, replication=0).row


# --------------------------------------------------------------------------- invariants


@SETTINGS
@given(networks())
def test_invariants(data):
    cfg = validate_config(data)
    model = sim.Model(cfg)
    rep = model.simulate(seed=cfg.run.seed, replication=0)
    row = rep.row
    potential = row["potential_mt"]
    assert abs(row["mass_balance_error_mt"]) < 1e-8 * max(1.0, potential)
    for key in ("shut_in_mt", "shut_in_congestion_mt", "shut_in_field_mt"):
        assert row[key] >= -1e-9, key
    for s in cfg.sources:
        assert row[f"shut_in_mt.{s.id}"] >= -1e-9
    # fixed prices: the undisrupted twin never earns less than the disrupted run
    assert row["revenue_loss_usd"] >= -1e-6 * abs(row["revenue_usd"])

    raw = model.run_raw(Streams(cfg.run.seed, 0), disrupted=True)
    caps = np.array([s.capacity_mt for s in cfg.storages])
    if len(caps):
        assert np.all(raw.levels >= -1e-9)
        assert np.all(raw.levels <= caps + 1e-9)
        # levels are linear between breakpoints: check just before each next breakpoint too
        net_rates = raw.rates[:, raw.layout["storage_net"]]
        before = raw.levels[:-1] + net_rates * np.diff(raw.times)[:, None]
        assert np.all(before >= -1e-9)
        assert np.all(before <= caps + 1e-9)
    # capacities never exceed nominal nor go negative
    nominal = np.asarray(model.net.link_cap)
    assert np.all(raw.link_cap >= 0.0)
    assert np.all(raw.link_cap <= nominal + 1e-15)
    # link flows respect the capacity in force
    flows = raw.rates[:, raw.layout["link_flow"]]
    assert np.all(flows <= raw.link_cap + 1e-9)


# --------------------------------------------------------------------------- monotonicity


@SETTINGS
@given(networks(storage=False), st.data())
def test_more_pipeline_capacity_never_increases_shut_in(data, extra):
    j = extra.draw(st.integers(0, len(data["pipelines"]) - 1))
    factor = extra.draw(st.floats(1.0, 3.0))
    bigger = copy.deepcopy(data)
    bigger["pipelines"][j]["capacity_mt_per_year"] *= factor
    assert _row(bigger)["shut_in_mt"] <= _row(data)["shut_in_mt"] + 1e-9


@SETTINGS
@given(networks(storage=True), st.data())
def test_more_pipeline_capacity_never_increases_shut_in_with_storage(data, extra):
    j = extra.draw(st.integers(0, len(data["pipelines"]) - 1))
    factor = extra.draw(st.floats(1.0, 3.0))
    bigger = copy.deepcopy(data)
    bigger["pipelines"][j]["capacity_mt_per_year"] *= factor
    assert _row(bigger)["shut_in_mt"] <= _row(data)["shut_in_mt"] + 1e-9


@SETTINGS
@given(networks(storage=True), st.floats(1.0, 5.0))
def test_more_storage_never_increases_shut_in(data, factor):
    bigger = copy.deepcopy(data)
    bigger["storages"][0]["capacity_mt"] *= factor
    assert _row(bigger)["shut_in_mt"] <= _row(data)["shut_in_mt"] + 1e-9
