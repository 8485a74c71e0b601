"""The 2022 backtest (scripts/backtest_2022.py) on configs/kazakhstan_2022.yaml."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import load_script

from sim.base.errors import InputError
from sim.base.units import DAYS_PER_YEAR
from sim.calibration import load_catalog
from sim.config import load_config
from sim.replay import load_recorded, load_schedule

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"


backtest = load_script("backtest_2022")


@pytest.fixture(scope="module")
def inputs():
    cfg = load_config(ROOT / "configs" / "kazakhstan_2022.yaml")
    schedule = load_schedule(
        SEEDS / "replay_2022.csv", cfg, 2022, load_catalog(SEEDS / "disruption_events.csv")
    )
    return cfg, schedule, load_recorded(SEEDS / "recorded_throughput.csv", cfg)


@pytest.fixture(scope="module")
def table(inputs):
    return backtest.evaluate(*inputs).set_index("target")


def test_2022_network_keeps_the_default_structure_and_hazards(inputs):
    cfg, _, _ = inputs
    default = load_config(ROOT / "configs" / "kazakhstan.yaml")
    assert cfg.asset_ids() == default.asset_ids()
    assert [r.id for r in cfg.routes] == [r.id for r in default.routes]
    assert cfg.hazards == default.hazards and cfg.regimes == default.regimes
    assert cfg.economics.price.brent_usd_per_bbl == 100.5  # seeds/parameters.csv#brent_2022
    caps = {p.id: p.capacity_mt_per_year for p in cfg.pipelines}
    assert caps["cpc_pipeline"] == cfg.terminals[0].capacity_mt_per_year == 59.6


def test_2022_network_carries_its_potentials_without_events(table, inputs):
    cfg, _, _ = inputs
    potential = sum(s.production_mt_per_year for s in cfg.sources) * 365 / DAYS_PER_YEAR
    shortfall = table.loc["event shortfall (undisrupted - exports)"]
    undisrupted = shortfall["recorded_mt"] + 64.3
    # only the shuttle's cargo timing keeps BTC deliveries a little below the 0.25 contract
    assert undisrupted == pytest.approx(potential, abs=0.03)


def test_e19_band_and_monthly_target(table, inputs):
    _, schedule, _ = inputs
    late = backtest.with_event_end(schedule, "E19", dt.date(2022, 12, 15))
    e19 = late.table[late.table["catalog_event"] == "E19"]
    ends = {
        dt.date.fromisoformat(s) + dt.timedelta(days=d)
        for s, d in zip(e19["start_date"], e19["duration_days"])
    }
    assert ends == {dt.date(2022, 12, 15)} and len(e19) == 2
    other = late.table["catalog_event"] != "E19"
    assert late.table[other].equals(schedule.table[other])
    short = table.loc["event shortfall (undisrupted - exports)"]
    # SPMs back later: more oil lost, fewer exports; September is before either end
    assert short["value_latest_mt"] > short["value_lower_mt"] + 1.0
    exports = table.loc["exports, year"]
    assert exports["value_latest_mt"] == pytest.approx(
        exports["value_lower_mt"] - (short["value_latest_mt"] - short["value_lower_mt"])
    )
    sep = table.loc["CPC terminal, 2022-09"]
    assert sep["value_lower_mt"] == sep["value_latest_mt"] and sep["recorded_mt"] == 3.377
    with pytest.raises(InputError, match="no row of E99"):
        backtest.with_event_end(schedule, "E99", dt.date(2022, 12, 15))


def test_backtest_2022_targets_hold(capsys):
    assert backtest.main([]) == 0
    assert "3 of 3 targets pass" in capsys.readouterr().out


def test_backtest_script_reports_each_target_and_fails_cleanly(capsys, tmp_path):
    # a one-SPM share of 0.45 is refuted by the record: every target fails, exit code 1
    code = backtest.main(["--set", "terminals.cpc_terminal.capacity_by_berths.1=0.45"])
    out = capsys.readouterr().out
    assert code == 1 and "0 of 3 targets pass (3 fail)" in out
    assert "E19 to 8 Nov" in out and "E19 to 15 Dec" in out and "±40%" in out
    bad = tmp_path / "s.csv"
    bad.write_text("catalog_event,asset,start_date,duration_days\nE19,nowhere,2022-08-05,3\n")
    assert backtest.main(["--events", str(bad)]) == 2
    assert f"{bad}: line 2: asset" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("values", "holds_at", "passed"),
    [
        ((60.442, 58.371), "lower end", True),  # -6.0 % and -9.2 %: the band meets -6 %
        ((71.0, 72.0), "neither", False),  # +10.4 % and +12.0 %
        ((58.0, 70.6), "neither", True),  # -9.8 % and +9.8 %: the band crosses zero
        ((64.3, 64.0), "both", True),
    ],
)
def test_a_target_passes_when_its_band_meets_the_tolerance(values, holds_at, passed):
    row = backtest._target("exports, year", 64.3, 0.06, list(values), [64.3, 64.3])
    assert row["error_lower_pct"] == pytest.approx(100 * (values[0] - 64.3) / 64.3)
    assert row["holds_at"] == holds_at and row["passed"] is passed
