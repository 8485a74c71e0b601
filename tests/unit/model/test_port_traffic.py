"""Random port and sailing times of a shuttle, and third-party tanker calls at its ports.

Third-party traffic alone at a port must behave as the textbook queue: M/M/c (Erlang C) with
Poisson calls and exponential berth times, M/D/1 (Pollaczek-Khinchine) with fixed berth times,
and the recorded outputs obey Little's law exactly. Only third-party calls reach the destination
port below: the field produces nothing, so the shuttle's one tanker waits for its first cargo at
the origin for ever. Means are compared across independent replications (each a long batch) with
a Student-t tolerance at 99.9% from their standard error; each replication starts empty, which
biases its averages by about (relaxation time / horizon), under 0.5% here, well inside the
tolerance.
"""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pytest
from conftest import cfg_dict
from scipy import stats

import sim
from sim.base.errors import ConfigError
from sim.base.units import DAYS_PER_YEAR, HOURS_PER_DAY
from sim.config import validate_config
from sim.config.loader import config_hash
from sim.model.streams import Streams

SHUTTLE = {
    "id": "sh",
    "origin": "orig",
    "destination": "dest",
    "distance_nm": 240,
    "fleet": [{"name": "t", "count": 1, "dwt_t": 10000, "speed_knots": 10}],
    "load_rate_t_per_hour": 1000,
    "discharge_rate_t_per_hour": 1000,
    "port_time_hours": 6,
}


def _cfg(shuttle: dict, production: float = 2.0, horizon: float = 365.0, **extra):
    """A field -> tank -> shuttle -> tank -> pipeline network with the given shuttle."""
    return validate_config(
        cfg_dict(
            run={"horizon_days": horizon},
            sources=[{"id": "field", "production_mt_per_year": production}],
            storages=[
                {"id": "orig", "capacity_mt": 0.5, "initial_level_mt": 0.2},
                {"id": "dest", "capacity_mt": 0.5},
            ],
            pipelines=[{"id": "pout", "capacity_mt_per_year": 50.0}],
            routes=[
                {
                    "id": "r",
                    "source": "field",
                    "path": ["orig", "sh", "dest", "pout"],
                    "market": "mkt",
                }
            ],
            shuttles=[shuttle],
            **extra,
        )
    )


# --------------------------------------------------------------------------- delays


def test_fixed_port_delay_is_port_time():
    """A fixed port delay of 6 h on top of 0 h of port time gives the same trips as 6 h."""
    a = sim.Model(_cfg(SHUTTLE)).simulate(replication=0).row
    other = dict(SHUTTLE, port_time_hours=0, port_delay={"dist": "fixed", "value_days": 0.25})
    b = sim.Model(_cfg(other)).simulate(replication=0).row
    assert a["tanker_trips"] == b["tanker_trips"] > 0
    assert b["exported_mt"] == pytest.approx(a["exported_mt"], rel=1e-12)
    assert b["tanker_utilisation"] == pytest.approx(a["tanker_utilisation"], rel=1e-12)


def test_random_delays_come_from_the_tankers_keyed_streams():
    """Landing to landing is the fixed cycle plus the drawn delays, in stream order.

    The tanker never waits (oil and room to spare), so between two landings it discharges,
    sails back, loads and sails out: fixed times plus the second port and sailing delays of one
    trip and the first of the next (each trip draws port, port from "port" and sailing,
    sailing from "voyage").
    """
    port = {"dist": "exponential", "mean_days": 0.3}
    sail = {"dist": "lognormal", "median_days": 0.5, "sigma": 0.4}
    shuttle = dict(SHUTTLE, port_delay=port, sailing_delay=sail)
    cfg = _cfg(shuttle, production=4.0, horizon=200.0)
    raw = sim.Model(cfg).run_raw(Streams(9, 3))
    landings = np.array([t for t, _ in raw.tankers["sh"][0].landings])
    assert len(landings) > 20
    rng_p = Streams(9, 3).get("shuttle", "sh", "t-1", "port")
    rng_s = Streams(9, 3).get("shuttle", "sh", "t-1", "voyage")
    n = len(landings)
    p = np.array([[rng_p.exponential(0.3) for _ in range(2)] for _ in range(n)])
    mu, sigma = math.log(0.5), 0.4
    s = np.array([[rng_s.lognormal(mu, sigma) for _ in range(2)] for _ in range(n)])
    fixed = 2 * 240 / (10 * HOURS_PER_DAY) + 2 * 10 / 24 + 2 * 0.25
    want = fixed + p[:-1, 1] + s[:-1, 1] + p[1:, 0] + s[1:, 0]
    assert np.allclose(np.diff(landings), want[: n - 1], rtol=0, atol=1e-9)


def test_random_shuttle_has_a_paired_twin():
    """With random delays the twin is simulated per replication on the same streams."""
    shuttle = dict(SHUTTLE, sailing_delay={"dist": "exponential", "mean_days": 0.5})
    model = sim.Model(_cfg(shuttle))
    assert not model.twin_is_deterministic
    rows = [model.simulate(replication=k).row for k in range(2)]
    assert rows[0]["tanker_trips"] != rows[1]["tanker_trips"] or (
        rows[0]["exported_mt"] != rows[1]["exported_mt"]
    )
    assert all(r["revenue_loss_usd"] == 0.0 for r in rows)


def test_port_traffic_needs_one_arrival_process():
    traffic = {"berth_time": {"dist": "fixed", "value_days": 1}}
    for bad in (traffic, dict(traffic, calls_per_year=5, interarrival=traffic["berth_time"])):
        with pytest.raises(ConfigError, match=r"shuttles\[0\]\.origin_traffic: give exactly one"):
            _cfg(dict(SHUTTLE, origin_traffic=bad))


def test_absurd_call_rate_is_refused_before_running():
    gap = {"dist": "fixed", "value_days": 0.0}
    traffic = {"interarrival": gap, "berth_time": {"dist": "fixed", "value_days": 1}}
    with pytest.raises(ConfigError, match="destination_traffic.interarrival: infinitely many"):
        _cfg(dict(SHUTTLE, destination_traffic=traffic))
    traffic = {"calls_per_year": 1e6, "berth_time": {"dist": "fixed", "value_days": 1}}
    with pytest.raises(ConfigError, match="destination_traffic.calls_per_year: ~9.99e"):
        _cfg(dict(SHUTTLE, destination_traffic=traffic), horizon=36500.0)


# --------------------------------------------------------------------------- queues


def _third_party_only(c: int, traffic: dict, horizon: float):
    shuttle = dict(SHUTTLE, destination_berths=c, destination_traffic=traffic)
    cfg = validate_config(
        cfg_dict(
            run={"horizon_days": horizon},
            sources=[{"id": "field", "production_mt_per_year": 0.0}],
            storages=[{"id": "orig", "capacity_mt": 0.5}, {"id": "dest", "capacity_mt": 0.5}],
            pipelines=[{"id": "pout", "capacity_mt_per_year": 50.0}],
            routes=[
                {
                    "id": "r",
                    "source": "field",
                    "path": ["orig", "sh", "dest", "pout"],
                    "market": "mkt",
                }
            ],
            shuttles=[shuttle],
        )
    )
    return sim.Model(cfg)


def _port_means(model, reps: int):
    """Per replication: (waiting_mean, wait_days_mean, utilisation) of the destination port."""
    out = []
    for k in range(reps):
        st = model.run_raw(Streams(20261127, k)).ports["sh.destination"]
        out.append((st.waiting_mean, st.wait_days_mean, st.utilisation))
    return np.array(out)


def _close(x: np.ndarray, expected: float) -> None:
    n = len(x)
    se = x.std(ddof=1) / math.sqrt(n)
    q = stats.t.ppf(1 - 0.0005, n - 1)
    assert abs(x.mean() - expected) < q * se, (x.mean(), expected, se)


def _erlang_c_wait(lam: float, mu: float, c: int) -> float:
    a = lam / mu
    rho = a / c
    top = a**c / math.factorial(c) / (1 - rho)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c * mu - lam)


@pytest.mark.parametrize("arrivals", ["calls_per_year", "interarrival"])
def test_third_party_calls_match_mmc(arrivals):
    lam, mu, c = 1.5, 1.0, 2
    traffic = {"berth_time": {"dist": "exponential", "mean_days": 1 / mu}}
    if arrivals == "calls_per_year":
        traffic["calls_per_year"] = lam * DAYS_PER_YEAR
    else:
        traffic["interarrival"] = {"dist": "exponential", "mean_days": 1 / lam}
    x = _port_means(_third_party_only(c, traffic, 10_000.0), 20)
    wq = _erlang_c_wait(lam, mu, c)
    _close(x[:, 1], wq)
    _close(x[:, 0], lam * wq)
    _close(x[:, 2], lam / (c * mu))


def test_third_party_calls_match_md1():
    lam, d = 0.7, 1.0
    traffic = {
        "calls_per_year": lam * DAYS_PER_YEAR,
        "berth_time": {"dist": "fixed", "value_days": d},
    }
    x = _port_means(_third_party_only(1, traffic, 10_000.0), 20)
    rho = lam * d
    _close(x[:, 1], rho * d / (2 * (1 - rho)))
    _close(x[:, 2], rho)


def test_recorded_port_columns_obey_littles_law():
    """waiting = calls / horizon x wait on every row (accumulated independently)."""
    traffic = {
        "calls_per_year": 200.0,
        "berth_time": {"dist": "gamma", "shape": 2, "scale_days": 0.6},
    }
    shuttle = dict(SHUTTLE, origin_traffic=traffic, origin_berths=1)
    model = sim.Model(_cfg(shuttle, production=3.0, horizon=400.0))
    for k in range(3):
        row = model.simulate(replication=k).row
        calls = row["port_calls.sh.origin"]
        wait_days = row["port_wait_hours_mean.sh.origin"] / HOURS_PER_DAY
        assert row["port_waiting_mean.sh.origin"] > 0
        assert row["port_waiting_mean.sh.origin"] == pytest.approx(
            calls / 400.0 * wait_days, rel=1e-9
        )
        assert 0 < row["port_berth_utilisation.sh.origin"] <= 1
        assert "port_calls.sh.destination" not in row


def test_deterministic_calls_give_exact_counts():
    """A call every day holding the berth 12 h: calls on days 1..99, no wait, 49.5 busy days."""
    traffic = {
        "interarrival": {"dist": "fixed", "value_days": 1.0},
        "berth_time": {"dist": "fixed", "value_days": 0.5},
    }
    st = _third_party_only(1, traffic, 100.0).run_raw(Streams(1, 0)).ports["sh.destination"]
    assert st.calls == 99
    assert st.wait_days_mean == 0.0 and st.waiting_mean == 0.0
    assert st.utilisation == pytest.approx(49.5 / 100.0, rel=1e-12)


def test_third_party_calls_slow_the_shuttle():
    """Calls holding the only origin berth delay the tanker: fewer trips, less capacity."""
    from sim.model.network import shuttle_capacity_mt_per_day

    traffic = {"calls_per_year": 150.0, "berth_time": {"dist": "exponential", "mean_days": 1}}
    plain, busy = (
        _cfg(SHUTTLE, production=6.0),
        _cfg(dict(SHUTTLE, origin_traffic=traffic), production=6.0),
    )
    a = sim.Model(plain).simulate(replication=0).row
    b = sim.Model(busy).simulate(replication=0).row
    assert b["tanker_trips"] < a["tanker_trips"]
    assert shuttle_capacity_mt_per_day(busy.shuttles[0]) <= shuttle_capacity_mt_per_day(
        plain.shuttles[0]
    )


def test_unused_keys_leave_the_config_hash_alone():
    """The new shuttle keys are left out of the hash while unset (older run directories resume)."""
    plain = _cfg(SHUTTLE)
    data = plain.model_dump(mode="json")
    for key in ("port_delay", "sailing_delay", "origin_traffic", "destination_traffic"):
        assert data["shuttles"][0].pop(key) is None
    assert data["run"].pop("parameter_sets") is None  # an earlier addition, also left out
    assert data["run"].pop("shuttle_mode") == "exact"  # issue 13, never hashed
    for source in data["sources"]:  # later additions too (sim.config.loader._LATER_KEYS)
        assert source.pop("restart_ramp_days") == 0.0 and source.pop("bbl_per_t") is None
    for pipe in data["pipelines"]:
        assert pipe.pop("access_mt_per_year") is None and pipe.pop("surge") is None
    for market in data["markets"]:
        assert market.pop("blend") is False
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"))
    assert config_hash(plain) == hashlib.sha256(payload.encode()).hexdigest()
    busy = _cfg(dict(SHUTTLE, sailing_delay={"dist": "exponential", "mean_days": 0.2}))
    assert config_hash(busy) != config_hash(plain)
