"""Numerical edge cases: mass balance and determinism hold at the edges of the inputs.

Near-zero and very high hazard rates, events that start (and end) at the same instant,
capacities exactly equal to the flow they carry, tanks exactly full (or exactly one cargo
big), zero-capacity junctions and tiny horizons. For each replication: every number in the row
is finite, ``mass_balance_error_mt`` is at rounding level, and the same (config, seed,
replication) gives the identical row from a fresh model and from a model that has already
simulated other replications.
"""

from __future__ import annotations

import copy
import math

from conftest import KAZAKHSTAN_YAML, cfg_dict
from fuzz_support import COUNTS, fuzz_settings, get, paths
from hypothesis import given
from hypothesis import strategies as st

import sim
from sim.base.errors import ConfigError
from sim.config import read_yaml, validate_config

SEEDS = st.integers(0, 2**32)


def _check(data: dict, seed: int, replications=(0, 1)) -> dict:
    """Simulate, check finiteness, mass balance and determinism; return the first row."""
    cfg = validate_config(data)
    model = sim.Model(cfg)
    rows = [model.simulate(seed=seed, replication=k).row for k in replications]
    for k, row in zip(replications, rows):
        bad = [c for c, v in row.items() if isinstance(v, float) and not math.isfinite(v)]
        assert not bad, bad
        scale = max(1.0, abs(row["potential_mt"]))
        assert abs(row["mass_balance_error_mt"]) <= 1e-9 * scale, row["mass_balance_error_mt"]
        assert sim.Model(cfg).simulate(seed=seed, replication=k).row == row  # fresh model
    assert model.simulate(seed=seed, replication=replications[0]).row == rows[0]  # reused
    COUNTS["numerics"]["cases"] += 1
    return rows[0]


def _hazard(assets, rate, duration, **extra) -> dict:
    return {
        "assets": assets,
        "cause": "technical",
        "arrivals": {"process": "poisson", "rate_per_year": rate},
        "duration": duration,
        **extra,
    }


def _tank_net(production: float, pipe: float, term: float, cap: float, level: float) -> dict:
    """field -> pipe -> tank -> terminal -> market."""
    return cfg_dict(
        sources=[{"id": "field", "production_mt_per_year": production}],
        pipelines=[{"id": "pipe", "capacity_mt_per_year": pipe}],
        storages=[{"id": "tank", "capacity_mt": cap, "initial_level_mt": level}],
        terminals=[{"id": "term", "capacity_mt_per_year": term, "berths": 2}],
        routes=[{"id": "r", "source": "field", "path": ["pipe", "tank", "term"], "market": "mkt"}],
    )


@fuzz_settings(12)
@given(
    rate=st.sampled_from([0.0, 1e-300, 1e-12, 1e-3, 1.0, 50.0, 2_000.0]),
    duration=st.sampled_from(
        [
            {"dist": "fixed", "value_days": 0.0},
            {"dist": "fixed", "value_days": 1e-9},
            {"dist": "exponential", "mean_days": 1e-6},
            {"dist": "exponential", "mean_days": 3.0},
            {"dist": "lognormal", "median_days": 2.0, "sigma": 3.0},
        ]
    ),
    horizon=st.sampled_from([1e-6, 0.5, 30.0, 365.0]),
    seed=SEEDS,
)
def test_near_zero_and_huge_hazard_rates(rate, duration, horizon, seed):
    data = _tank_net(10.0, 12.0, 12.0, 0.05, 0.0)
    data["run"]["horizon_days"] = horizon
    data["hazards"] = {
        "trip": _hazard(["pipe"], rate, duration),
        "storm": _hazard(["term"], rate, duration, per_berth=True),
        "field": _hazard(["field"], rate, duration, effect={"capacity_lost": 0.5}),
    }
    _check(data, seed)


@fuzz_settings(20)
@given(
    start=st.integers(0, 20),
    durations=st.lists(st.sampled_from([0.0, 1.0, 2.5, 5.0]), min_size=2, max_size=4),
    assets=st.lists(st.sampled_from(["pipe", "term", "field"]), min_size=2, max_size=4),
    seed=SEEDS,
)
def test_simultaneous_events(start, durations, assets, seed):
    """Scripted events on one or several assets starting at the same instant, some ending
    together or exactly when another starts; plus a common-cause hazard with fixed times."""
    data = _tank_net(10.0, 12.0, 12.0, 0.05, 0.0)
    data["run"]["horizon_days"] = 40.0
    date = f"2026-01-{start + 1:02d}"
    events = [
        {"asset": a, "start": date, "duration_days": d, "capacity_lost": 1.0}
        for a, d in zip(assets, durations)
    ]
    # An event starting exactly when the first one ends.
    end = start + durations[0]
    if end == int(end) and end < 39:
        events.append(
            {"asset": assets[-1], "start": f"2026-01-{int(end) + 1:02d}", "duration_days": 1.0}
        )
    data["scripted_events"] = events
    data["hazards"] = {
        "common": {
            "assets": ["pipe", "term"],
            "cause": "weather",
            "arrivals": {"process": "renewal", "uptime": {"dist": "fixed", "value_days": 5.0}},
            "duration": {"dist": "fixed", "value_days": 5.0},
        },
        "twin": {
            "assets": ["pipe"],
            "cause": "technical",
            "arrivals": {"process": "renewal", "uptime": {"dist": "fixed", "value_days": 5.0}},
            "duration": {"dist": "fixed", "value_days": 5.0},
        },
    }
    _check(data, seed)


@fuzz_settings(20)
@given(
    production=st.sampled_from([1e-9, 0.001, 1.0, 10.0, 1e4]),
    level=st.sampled_from(["empty", "full", "half"]),
    downstream=st.sampled_from(["equal", "less", "more", "zero"]),
    cap=st.sampled_from([0.0, 1e-12, 0.01, 1.0]),
    seed=SEEDS,
)
def test_capacity_equal_to_flow_and_full_tanks(production, level, downstream, cap, seed):
    """Pipeline capacity exactly equal to production; terminal equal, below, above or zero;
    the tank empty, half full or exactly full (a zero-capacity tank is a junction)."""
    term = {"equal": production, "less": production / 2, "more": production * 2, "zero": 0.0}
    initial = {"empty": 0.0, "full": cap, "half": cap / 2}[level]
    data = _tank_net(production, production, term[downstream], cap, initial)
    data["run"]["horizon_days"] = 60.0
    data["hazards"] = {"trip": _hazard(["term"], 12.0, {"dist": "fixed", "value_days": 2.0})}
    row = _check(data, seed)
    if downstream == "equal" and level == "empty" and row["n_events"] == 0:
        assert row["shut_in_mt"] <= 1e-9 * max(1.0, row["potential_mt"])


@fuzz_settings(12)
@given(
    full=st.booleans(),
    cargoes=st.sampled_from([1.0, 1.0 + 1e-12, 2.0]),
    seed=SEEDS,
)
def test_tank_exactly_one_cargo_and_full_at_start(full, cargoes, seed):
    """A shuttle whose origin tank holds exactly one cargo (or one cargo and a hair), full or
    empty at the start, with storms stopping sailings."""
    cargo = 12_000 * 0.8 * 1e-6
    cap = cargo * cargoes
    data = cfg_dict(
        sources=[{"id": "field", "production_mt_per_year": 2.0}],
        pipelines=[
            {"id": "p_in", "capacity_mt_per_year": 2.0},
            {"id": "p_out", "capacity_mt_per_year": 2.0},
        ],
        storages=[
            {"id": "orig", "capacity_mt": cap, "initial_level_mt": cap if full else 0.0},
            {"id": "dest", "capacity_mt": cap, "initial_level_mt": cap if full else 0.0},
        ],
        shuttles=[
            {
                "id": "sh",
                "origin": "orig",
                "destination": "dest",
                "distance_nm": 100.0,
                "fleet": [{"name": "t", "count": 2, "dwt_t": 12_000, "speed_knots": 10}],
                "load_rate_t_per_hour": 1000,
                "discharge_rate_t_per_hour": 1000,
                "payload_factor": 0.8,
            }
        ],
        routes=[
            {
                "id": "r",
                "source": "field",
                "path": ["p_in", "orig", "sh", "dest", "p_out"],
                "market": "mkt",
            }
        ],
        hazards={"storm": _hazard(["sh"], 10.0, {"dist": "fixed", "value_days": 1.0})},
    )
    data["run"]["horizon_days"] = 60.0
    _check(data, seed)


KAZ = read_yaml(KAZAKHSTAN_YAML)
NUMERIC_PATHS = [
    p
    for p in paths(KAZ)
    if isinstance(get(KAZ, p), (int, float))
    and not isinstance(get(KAZ, p), bool)
    and p[0] not in ("run",)
]


@fuzz_settings(6)
@given(
    changes=st.lists(
        st.tuples(st.sampled_from(NUMERIC_PATHS), st.sampled_from([0.0, 1e-6, 1e-3, 0.5, 2, 1e3])),
        min_size=1,
        max_size=4,
    ),
    seed=SEEDS,
)
def test_shipped_config_with_extreme_parameters(changes, seed):
    """Scale numbers of the shipped config far up or down; when the result is still a valid
    config, a replication keeps mass balance and determinism."""
    data = copy.deepcopy(KAZ)
    data["run"]["horizon_days"] = 120
    for path, factor in changes:
        parent = get(data, path[:-1])
        parent[path[-1]] = parent[path[-1]] * factor
    try:
        validate_config(data)
    except ConfigError:
        COUNTS["numerics:shipped"]["invalid"] += 1
        return
    _check(data, seed, replications=(0,))
    COUNTS["numerics:shipped"]["valid"] += 1
