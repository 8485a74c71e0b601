"""Explicit limits (sim/base/limits.py): refused up front, or stopped at runtime."""

from __future__ import annotations

import json
import math

import pytest
import yaml
from conftest import SMALL_YAML, cfg_dict
from fuzz_support import run_cli

import sim
from sim.base import limits
from sim.base.errors import MAX_PROBLEMS_SHOWN, ConfigError
from sim.config import validate_config
from sim.config.budget import EXPECTED_EVENTS_LIMIT, expected_hazard_events, expected_steps
from sim.replication import runner


def _validate(tmp_path, data: dict) -> tuple[int, str]:
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    rc, out, err = run_cli(["validate", path])
    return rc, err


def _hazard(**arrivals) -> dict:
    return {
        "h": {
            "assets": ["pipe"],
            "cause": "technical",
            "arrivals": {"process": "poisson", "rate_per_year": 1, **arrivals},
            "duration": {"dist": "fixed", "value_days": 1},
        }
    }


@pytest.mark.parametrize(
    "data, fragment",
    [
        (cfg_dict(run={"replications": limits.MAX_REPLICATIONS + 1}), "run.replications"),
        (cfg_dict(run={"horizon_days": limits.MAX_HORIZON_DAYS + 1}), "run.horizon_days"),
        (cfg_dict(run={"start_date": "1850-01-01"}), "run.start_date"),
        (cfg_dict(run={"start_date": "9999-12-01"}), "run.start_date"),
        (
            cfg_dict(run={"horizon_days": 36_525}, hazards=_hazard(rate_per_year=10_000)),
            "hazards.h.arrivals.rate_per_year: one replication would see ~1e+06",
        ),
        (
            cfg_dict(hazards=_hazard(monthly_multipliers=[1e9] + [0] * 11)),
            "hazards.h.arrivals.rate_per_year",
        ),
        (
            cfg_dict(
                hazards={
                    "h": {
                        "assets": ["pipe"],
                        "cause": "technical",
                        "arrivals": {
                            "process": "renewal",
                            "uptime": {"dist": "fixed", "value_days": 0},
                        },
                        "duration": {"dist": "fixed", "value_days": 0},
                    }
                }
            ),
            "one replication would see infinitely many disruption events",
        ),
        (
            cfg_dict(economics={"price": {"brent_usd_per_bbl": 70, "step_days": 1e-3}}),
            "economics.price.step_days",
        ),
        (
            cfg_dict(economics={"price": {"brent_usd_per_bbl": 1e12}}),
            "economics.price.brent_usd_per_bbl",
        ),
        (
            cfg_dict(
                economics={"price": {"brent_usd_per_bbl": 70, "volatility_per_sqrt_year": 50}}
            ),
            "economics.price.volatility_per_sqrt_year",
        ),
        (
            cfg_dict(sources=[{"id": "field", "production_mt_per_year": 1e300}]),
            "sources[0].production_mt_per_year",
        ),
        (
            cfg_dict(pipelines=[{"id": f"p{i}", "capacity_mt_per_year": 1} for i in range(1001)]),
            "1003 assets; at most 1000",
        ),
    ],
    ids=[
        "replications",
        "horizon",
        "date-early",
        "date-late",
        "events-rate",
        "events-multiplier",
        "events-renewal-zero",
        "price-steps",
        "price-huge",
        "volatility",
        "production-huge",
        "assets",
    ],
)
def test_config_past_a_limit_is_refused(tmp_path, data, fragment):
    if "assets" in fragment:
        data["routes"][0]["path"] = ["p0"]
    rc, err = _validate(tmp_path, data)
    assert rc == 2 and fragment in err, err
    assert len(err.strip().splitlines()) == 1


def test_expected_events_just_under_the_limit_are_accepted():
    rate = 9_000.0
    horizon = 0.99 * EXPECTED_EVENTS_LIMIT / rate * 365.25
    validate_config(cfg_dict(run={"horizon_days": horizon}, hazards=_hazard(rate_per_year=rate)))
    with pytest.raises(ConfigError, match="disruption events"):
        validate_config(
            cfg_dict(run={"horizon_days": horizon * 1.02}, hazards=_hazard(rate_per_year=rate))
        )


def test_regime_chain_switching_too_often_is_refused():
    """Before: sojourns of 1e-9 days ran ~70 s into the step guard, then failed the replication."""
    data = cfg_dict(
        regimes={
            "initial": "calm",
            "states": {"calm": {"mean_sojourn_days": 1e-9}, "war": {"mean_sojourn_days": 30}},
        }
    )
    with pytest.raises(ConfigError, match=r"regimes\.states\.calm\.mean_sojourn_days: 1e-09 days"):
        validate_config(data)
    data["regimes"]["states"]["calm"]["mean_sojourn_days"] = 0.01
    validate_config(data)


def test_per_berth_hazards_count_every_berth():
    terminal = {"id": "term", "capacity_mt_per_year": 12, "berths": 50}
    data = cfg_dict(
        terminals=[terminal],
        routes=[{"id": "r", "source": "field", "path": ["pipe", "term"], "market": "mkt"}],
        hazards={
            "spm": {
                "assets": ["term"],
                "cause": "technical",
                "per_berth": True,
                "arrivals": {"process": "poisson", "rate_per_year": 2_500},
                "duration": {"dist": "fixed", "value_days": 0.001},
            }
        },
    )
    with pytest.raises(ConfigError, match=r"~1\.25e\+05"):
        validate_config(data)


def test_too_short_tanker_round_trip_is_refused(tmp_path):
    data = yaml.safe_load(SMALL_YAML.read_text())
    data["shuttles"][0].update(
        distance_nm=0.01,
        port_time_hours=0,
        fleet=[{"name": "t", "count": 3, "dwt_t": 12000, "speed_knots": 100}],
    )
    rc, err = _validate(tmp_path, data)
    assert rc == 2 and "shuttles[0]: a round trip takes" in err


@pytest.mark.parametrize(
    "option, value",
    [
        ("--replications", str(limits.MAX_REPLICATIONS + 1)),
        ("--replications", "0"),
        ("--chunk-size", "0"),
        ("--chunk-size", "-3"),
        ("--chunk-size", str(limits.MAX_CHUNK_SIZE + 1)),
        ("--workers", "0"),
        ("--workers", str(limits.MAX_WORKERS + 1)),
        ("--target-rel-ci", "0"),
        ("--target-rel-ci", "-0.1"),
        ("--target-rel-ci", "nan"),
        ("--target-rel-ci", "1.5"),
    ],
)
def test_run_option_past_a_limit_is_refused(tmp_path, option, value):
    out = tmp_path / "out"
    argv = ["run", SMALL_YAML, "--executor", "serial", "-q", "--out", out, option, value]
    rc, stdout, err = run_cli(argv)
    assert rc == 2 and stdout == "" and err.startswith(f"error: {option}: ")
    assert not out.exists()


@pytest.mark.parametrize("n", ["0", "1", str(limits.MAX_REPLICATIONS + 1)])
def test_experiment_replications_out_of_range_are_refused(tmp_path, n):
    (tmp_path / "small.yaml").write_bytes(SMALL_YAML.read_bytes())
    exp = tmp_path / "e.yaml"
    exp.write_text("name: t\nbase: small.yaml\nscenarios: {a: {}}\n")
    out = tmp_path / "out"
    rc, _, err = run_cli(["experiment", exp, "-n", n, "--executor", "serial", "-q", "--out", out])
    assert rc == 2 and err.startswith("error: --replications: expected 2 to")
    assert not out.exists()


def test_many_problems_are_listed_up_to_a_limit(tmp_path):
    data = cfg_dict(
        pipelines=[{"id": f"p{i}", "capacity_mt_per_year": -1} for i in range(30)],
    )
    rc, err = _validate(tmp_path, data)
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == MAX_PROBLEMS_SHOWN + 1
    assert lines[-1] == f"... and {30 - MAX_PROBLEMS_SHOWN} more problems"


def test_control_characters_in_keys_stay_on_one_line(tmp_path):
    data = cfg_dict()
    data["run"]["bad\nkey\x1b[2J"] = 1
    rc, err = _validate(tmp_path, data)
    assert rc == 2 and len(err.strip().splitlines()) == 1
    assert "\x1b" not in err and "bad\\nkey\\x1b[2J" in err


def test_a_replication_that_never_advances_stops_with_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "MAX_STEPS_PER_REPLICATION", 200)
    cfg = sim.load_config(SMALL_YAML)
    with pytest.raises(runner.TooManyStepsError, match="more than 200 simulation events"):
        sim.Model(cfg).simulate(seed=1)
    out = tmp_path / "out"
    rc, _, _ = run_cli(["run", SMALL_YAML, "-n", 2, "--executor", "serial", "-q", "--out", out])
    assert rc == 1  # recorded as failed replications, the batch completes
    failures = json.loads((out / "failures" / "chunk-000000000-000000002.json").read_text())
    assert [f["replication"] for f in failures] == [0, 1]
    assert "TooManyStepsError" in failures[0]["error"]


def test_bounded_stepping_equals_env_run():
    """run_until gives exactly what simpy's env.run(until=...) gives.

    ``env.run`` knows nothing of the side queue, so the plain run uses discrete tankers; the
    bounded run is checked in both shuttle modes against it.
    """
    cfg = sim.load_config(SMALL_YAML)
    modes = {
        mode: cfg.model_copy(update={"run": cfg.run.model_copy(update={"shuttle_mode": mode})})
        for mode in ("discrete", "exact")
    }
    bounded = {m: sim.Model(c).simulate(seed=4, replication=3).row for m, c in modes.items()}
    original = runner.run_until

    def plain(env, horizon, max_steps):
        env.run(until=horizon)

    runner.run_until = plain
    try:
        unbounded = sim.Model(modes["discrete"]).simulate(seed=4, replication=3).row
    finally:
        runner.run_until = original
    assert bounded["discrete"] == unbounded
    assert bounded["exact"] == unbounded


# --------------------------------------------------------------------------- simulation steps


def _hz(assets: list[str], rate: float, **extra) -> dict:
    return {
        "h": {
            "assets": assets,
            "cause": "technical",
            "arrivals": {"process": "poisson", "rate_per_year": rate},
            "duration": {"dist": "fixed", "value_days": 1e-4},
            **extra,
        }
    }


def _ramping(steps: int) -> list[dict]:
    return [
        {"id": "field", "production_mt_per_year": 10, "ramp_up_days": 1e-3, "ramp_steps": steps}
    ]


def _pipes(n: int) -> dict:
    return {
        "pipelines": [{"id": f"p{i}", "capacity_mt_per_year": 12} for i in range(n)],
        "routes": [
            {"id": f"r{i}", "source": "field", "path": [f"p{i}"], "market": "mkt"} for i in range(n)
        ],
    }


def _terminal(berths: int) -> dict:
    return {
        "terminals": [{"id": "term", "capacity_mt_per_year": 12, "berths": berths}],
        "routes": [{"id": "r", "source": "field", "path": ["pipe", "term"], "market": "mkt"}],
    }


def _scripted(n: int) -> list[dict]:
    return [{"asset": "field", "start": "2026-02-01", "duration_days": 1e-4} for _ in range(n)]


RENEWAL = {
    "h": {
        "assets": ["pipe"],
        "cause": "technical",
        "arrivals": {"process": "renewal", "uptime": {"dist": "fixed", "value_days": 0.2}},
        "duration": {"dist": "fixed", "value_days": 0.1},
    }
}

STEP_CASES = {
    "pipe": cfg_dict(hazards=_hz(["pipe"], 2000)),
    "ramp": cfg_dict(sources=_ramping(10), hazards=_hz(["field"], 2000)),
    "assets": cfg_dict(**_pipes(5), hazards=_hz([f"p{i}" for i in range(5)], 2000)),
    "berths_lost": cfg_dict(**_terminal(8), hazards=_hz(["term"], 2000, effect={"berths_lost": 8})),
    "per_berth": cfg_dict(**_terminal(8), hazards=_hz(["term"], 250, per_berth=True)),
    "scripted-ramp": cfg_dict(sources=_ramping(10), scripted_events=_scripted(500)),
    "renewal": cfg_dict(hazards=RENEWAL),
}


def _measured_steps(cfg, monkeypatch) -> int:
    """SimPy events and routing re-solves of the disrupted run of one replication."""
    from simpy.core import StopSimulation

    from sim.model.clock import schedule_stop
    from sim.model.engine import FlowEngine

    counts = {"refresh": 0, "steps": []}
    refresh = FlowEngine.refresh

    def counting_refresh(self, *args, **kwargs):
        counts["refresh"] += 1
        return refresh(self, *args, **kwargs)

    def counting_run(env, horizon, max_steps):
        counts["refresh"] = 0
        schedule_stop(env, horizon)
        n = 0
        try:
            while True:
                n += 1
                env.step()
        except StopSimulation:
            counts["steps"].append(n + counts["refresh"])

    monkeypatch.setattr(FlowEngine, "refresh", counting_refresh)
    monkeypatch.setattr(runner, "run_until", counting_run)
    sim.Model(cfg).simulate(seed=3)
    return counts["steps"][0]  # the disrupted run comes first, then its twin


@pytest.mark.parametrize("case", list(STEP_CASES))
def test_expected_steps_match_a_replication(case, monkeypatch):
    """The budget's step estimate is what a replication does, within Poisson noise (4 sd)."""
    cfg = validate_config(STEP_CASES[case])
    parts = expected_steps(cfg)
    estimate = sum(steps for steps, _ in parts.values())
    events = sum(expected_hazard_events(cfg, hz) for hz in cfg.hazards.values())
    measured = _measured_steps(cfg, monkeypatch)
    # Poisson counts have a relative sd of 1/sqrt(events); scripted and renewal counts are
    # fixed. The 1% covers the few steps of a run without events.
    poisson = any(hz.arrivals.process == "poisson" for hz in cfg.hazards.values())
    tolerance = 4 / math.sqrt(events) if poisson else 0.0
    assert abs(measured / estimate - 1) <= tolerance + 0.01, (measured, estimate)


def test_tanker_steps_are_bounded_by_the_estimate(monkeypatch):
    cfg = sim.load_config(SMALL_YAML, ["hazards={}", "scripted_events=[]"])
    estimate = sum(steps for steps, _ in expected_steps(cfg).values())
    assert _measured_steps(cfg, monkeypatch) <= estimate


THREE_YEARS = {"horizon_days": 3 * 365.25}  # 30,000 events at the largest rate, 10,000/yr
EXPLOITS = {
    # Before: ~110 s per replication (into the step guard) while passing every limit.
    "ramp_steps": (
        cfg_dict(run=THREE_YEARS, sources=_ramping(100), hazards=_hz(["field"], 10_000)),
        "sources[0].ramp_steps: one replication would take ~6.18e+06 simulation steps",
    ),
    "berths_lost": (
        cfg_dict(
            run=THREE_YEARS,
            **_terminal(64),
            hazards=_hz(["term"], 10_000, effect={"berths_lost": 64}),
        ),
        "hazards.h.effect.berths_lost: one replication would take ~3.96e+06 simulation steps",
    ),
    "assets": (
        cfg_dict(**_pipes(64), hazards=_hz([f"p{i}" for i in range(64)], 2_000)),
        "hazards.h.arrivals.rate_per_year: one replication would see ~1.28e+05 disruption "
        "events (hazard 'h' alone: ~1.28e+05, 64 assets per event)",
    ),
    # Issue 14's mechanisms: restart ramps and planned-outage retries multiply work per event.
    "restart_ramp": (
        cfg_dict(
            run=THREE_YEARS,
            sources=[
                {"id": "field", "production_mt_per_year": 10, "restart_ramp_days": 1e-3}
                | {"ramp_steps": 100}
            ],
            hazards=_hz(["pipe"], 10_000),
        ),
        "sources[0].restart_ramp_days: one replication would take ~6.",
    ),
    "planning_retries": (
        cfg_dict(
            run=THREE_YEARS,
            hazards=_hz(["pipe"], 5_000, planning={"exclusive": True, "retry_days": 0.5}),
        ),
        "hazards.h.planning.retry_days: one replication would take ~3.",
    ),
    "voyages-and-events": (
        None,  # built from SMALL_YAML below
        "shuttles[0]: one replication would take ~2.",
    ),
}


def _voyages_and_events() -> dict:
    """Tanker voyages and events each just under their own limits, together over the steps."""
    data = yaml.safe_load(SMALL_YAML.read_text())
    rate = 9_000
    horizon = 0.95 * EXPECTED_EVENTS_LIMIT / rate * 365.25
    data["run"]["horizon_days"] = horizon
    data["hazards"] = _hz(["main_pipe"], rate)
    data["scripted_events"] = []
    voyages = 0.95 * limits.MAX_TANKER_VOYAGES_PER_REPLICATION
    trip_days = 3 * horizon / voyages  # 3 tankers; sailing time negligible, port time twice
    data["shuttles"][0].update(distance_nm=0.001, port_time_hours=trip_days / 2 * 24)
    return data


@pytest.mark.parametrize("case", list(EXPLOITS))
def test_configs_multiplying_work_per_event_are_refused(tmp_path, case):
    data, fragment = EXPLOITS[case]
    if data is None:
        data = _voyages_and_events()
    rc, err = _validate(tmp_path, data)
    assert rc == 2 and fragment in err, err
    assert len(err.strip().splitlines()) == 1
