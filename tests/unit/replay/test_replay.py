"""Historical replay: schedules, recorded figures, exact volumes, the replay command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.base.errors import InputError
from sim.base.units import DAYS_PER_YEAR
from sim.calibration import load_catalog
from sim.cli.main import main
from sim.config import load_config
from sim.replay import load_recorded, load_schedule, replay

ROOT = Path(__file__).resolve().parents[3]
SEEDS = ROOT / "seeds"
HEADER = "catalog_event,asset,start_date,duration_days,capacity_lost,berths_lost,cause,notes"
REC_HEADER = "year,period,quantity,measure,value_mt,confidence,source_url,notes"
TERMINAL = {
    "id": "term",
    "capacity_mt_per_year": 14.0,
    "berths": 3,
    "capacity_by_berths": {0: 0.0, 1: 0.5, 2: 1.0, 3: 1.0},
}


@pytest.fixture()
def tiny(make_cfg):
    """field (10 Mt/yr) -> pipe (12) -> term (14, 3 berths) -> mkt, no storage, no hazards."""
    hz = {
        "h": {
            "assets": ["pipe"],
            "cause": "technical",
            "arrivals": {"process": "poisson", "rate_per_year": 50},
            "duration": {"dist": "fixed", "value_days": 9},
        }
    }
    return make_cfg(
        terminals=[TERMINAL],
        routes=[{"id": "r", "source": "field", "path": ["pipe", "term"], "market": "mkt"}],
        hazards=hz,
    )


def _csv(tmp_path: Path, name: str, header: str, rows: list[str]) -> Path:
    p = tmp_path / name
    p.write_text("\n".join([header, *rows]) + "\n")
    return p


SCHEDULE = [
    "E1,pipe,2026-01-30,5,1.0,,technical,spans the end of January",
    "E2,term,2026-06-10,10,,2,military,one berth left: half the terminal",
    "E3,pipe,2026-12-30,5,0.5,,weather,runs past the end of the year",
    "E4,pipe,2025-12-30,5,1.0,,weather,started the year before",
]


def test_replay_reproduces_exact_volumes(tmp_path, tiny):
    schedule = load_schedule(_csv(tmp_path, "s.csv", HEADER, SCHEDULE), tiny, 2026)
    assert schedule.table["clipped_days"].tolist() == [0, 0, 0, 2]
    res = replay(tiny, schedule, 2026)
    r = 10.0 / DAYS_PER_YEAR  # Mt/day produced; the hazard (50/yr) must be switched off
    days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)
    want = days * r
    want[0] -= 2 * r + 3 * r  # E1: 30-31 Jan; E4: 1-3 Jan (clipped)
    want[1] -= 3 * r  # E1: 1-3 Feb
    want[5] -= 10 * (r - 7.0 / DAYS_PER_YEAR)  # E2: terminal at 7 Mt/yr for 10 days
    want[11] -= 2 * (r - 6.0 / DAYS_PER_YEAR)  # E3: pipe at 6 Mt/yr on 30-31 Dec
    m = res.monthly.set_index(["quantity", "period"])
    months = [f"2026-{k:02d}" for k in range(1, 13)]
    for q in ("pipe", "term", "exports_total"):
        got = m.loc[[(q, p) for p in months], "simulated_mt"].to_numpy()
        assert got == pytest.approx(want, abs=1e-9, rel=0)
        assert m.loc[(q, "year"), "simulated_mt"] == pytest.approx(want.sum(), abs=1e-9, rel=0)
        base = m.loc[[(q, p) for p in months], "undisrupted_mt"].to_numpy()
        assert base == pytest.approx(days * r, abs=1e-9, rel=0)
    # the annual figure agrees with the replication row (throughput per year of horizon)
    years = 365 / DAYS_PER_YEAR
    assert res.summary["throughput_mt.pipe"] * years == pytest.approx(want.sum(), abs=1e-9)
    assert res.summary["exported_mt"] == pytest.approx(want.sum(), abs=1e-9)
    assert res.config.hazards == {} and res.config.run.horizon_days == 365
    assert set(res.events["hazard"]) == {"E1_1", "E2_1", "E3_1", "E4_1"}
    assert res.events["scripted"].all()


def test_comparison_with_recorded_figures(tmp_path, tiny):
    schedule = load_schedule(_csv(tmp_path, "s.csv", HEADER, SCHEDULE[:2]), tiny, 2026)
    rec = _csv(
        tmp_path,
        "r.csv",
        REC_HEADER,
        [
            "2026,year,exports_total,volume,9.0,H,http://a,",
            "2026,2026-06,pipe+term,change_vs_undisrupted,-0.1,M,http://b,",
            "2026,year,pipe,volume,,,,not published",
            "2025,year,pipe,volume,3,H,http://c,another year",
        ],
    )
    res = replay(tiny, schedule, 2026, load_recorded(rec, tiny))
    c = res.comparison
    assert len(c) == 3 and c["status"].tolist() == ["compared", "compared", "missing"]
    m = res.monthly.set_index(["quantity", "period"])
    sim = m.loc[("exports_total", "year"), "simulated_mt"]
    assert c.loc[0, "error_mt"] == pytest.approx(sim - 9.0)
    assert c.loc[0, "error_pct"] == pytest.approx(100 * (sim - 9.0) / 9.0)
    june = 2 * m.loc[("pipe", "2026-06"), "event_effect_mt"]
    assert c.loc[1, "simulated_mt"] == pytest.approx(june)
    assert june == pytest.approx(-10 * 3.0 / DAYS_PER_YEAR * 2)
    assert np.isnan(c.loc[2, "error_mt"])


def test_schedule_errors_name_line_and_column(tmp_path, tiny):
    catalog = _csv(
        tmp_path,
        "cat.csv",
        "event_id,start_date,end_date,duration_days,end_is_censored,asset,cause_class,"
        "capacity_lost_fraction,berths_lost,volume_lost_mt,source_url,notes",
        ["E1,2026-01-01,2026-01-10,9,false,pipe,technical,1,,,u,n"],
    )
    rows = [
        "E1,pipe,2026-01-02,3,1.0,,technical,fine",  # line 2
        "E9,pipe,2026-01-02,3,1.0,,technical,not in the catalog",  # line 3
        "E1,nowhere,2026-13-02,x,1.5,,aliens,everything wrong",  # line 4
        "E1,pipe,2026-01-02,3,,2,technical,berths on a pipeline",  # line 5
        "E1,term,2026-01-02,3,0.5,1,technical,both effects",  # line 6
        "E1,pipe,2027-03-01,3,1.0,,technical,after the year",  # line 7
        "E1,pipe,2026-02-01,3,1.0,,technical,after the catalog event",  # line 8
        "E1,pipe,2026-01-02,1e9,1.0,,technical,past any calendar",  # line 9
    ]
    path = _csv(tmp_path, "s.csv", HEADER, rows)
    with pytest.raises(InputError) as info:
        load_schedule(path, tiny, 2026, load_catalog(catalog))
    paths = [p.path for p in info.value.problems]
    assert paths == [
        "line 3: catalog_event",
        "line 4: asset",
        "line 4: start_date",
        "line 4: duration_days",
        "line 4: capacity_lost",
        "line 4: cause",
        "line 5: berths_lost",
        "line 6: berths_lost",
        "line 7: start_date",
        "line 8: start_date",
        "line 9: duration_days",
    ]
    assert info.value.file == str(path)
    assert "expected a number of days in 0..36525 (got '1e9')" in info.value.render()
    assert "outside E1 (2026-01-01 to 2026-01-10)" in info.value.render()


def test_recorded_errors_name_line_and_column(tmp_path, tiny):
    rows = [
        "20x6,year,pipe,volume,1,H,http://a,",
        "2026,2026-13,pipe,volume,1,H,http://a,",
        "2026,2025-01,pipe,volume,1,H,http://a,",
        "2026,year,pipe+nowhere,volume,1,H,http://a,",
        "2026,year,pipe,speed,1,H,http://a,",
        "2026,year,pipe,volume,-1,H,http://a,",
        "2026,year,pipe,volume,1,X,,",
    ]
    with pytest.raises(InputError) as info:
        load_recorded(_csv(tmp_path, "r.csv", REC_HEADER, rows), tiny)
    assert [p.path for p in info.value.problems] == [
        "line 2: year",
        "line 3: period",
        "line 4: period",
        "line 5: quantity",
        "line 6: measure",
        "line 7: value_mt",
        "line 8: source_url",
        "line 8: confidence",
    ]


def test_shipped_schedules_cite_the_catalog_and_records_are_sourced():
    cfg = load_config(ROOT / "configs" / "kazakhstan.yaml")
    catalog = load_catalog(SEEDS / "disruption_events.csv")
    s22 = load_schedule(SEEDS / "replay_2022.csv", cfg, 2022, catalog)
    s25 = load_schedule(SEEDS / "replay_2025.csv", cfg, 2025, catalog)
    assert {"E13", "E15", "E16", "E19"} <= set(s22.table["catalog_event"])
    assert {"E31", "E33", "E41"} <= set(s25.table["catalog_event"])
    rec = load_recorded(SEEDS / "recorded_throughput.csv", cfg)
    assert set(rec["year"]) == {2022, 2025}
    valued = rec[rec["value_mt"].notna()]
    assert valued["source_url"].str.startswith("http").all()
    assert (rec.loc[rec["value_mt"].isna(), "notes"].str.len() > 0).all()


def test_cli_replay_writes_report_and_refuses_bad_input(tmp_path, tiny, capsys):
    cfg_path = tmp_path / "tiny.yaml"
    cfg_path.write_text(yaml.safe_dump(tiny.model_dump(mode="json")))
    good = _csv(tmp_path, "s.csv", HEADER, SCHEDULE[:2])
    rec = _csv(tmp_path, "r.csv", REC_HEADER, ["2026,year,pipe,volume,9.5,H,http://a,"])
    out = tmp_path / "out"
    args = ["replay", str(cfg_path), "--events", str(good), "--year", "2026", "--out", str(out)]
    assert main([*args, "--recorded", str(rec), "--catalog", "none"]) == 0
    printed = capsys.readouterr().out
    assert "error_pct" in printed
    names = {p.name for p in out.iterdir()}
    assert {"comparison.parquet", "comparison.csv", "monthly.parquet", "report.html"} <= names
    assert {"replay.png", "events.csv", "schedule.csv", "config.resolved.yaml"} <= names
    comparison = pd.read_parquet(out / "comparison.parquet")
    assert comparison.loc[0, "recorded_mt"] == 9.5 and np.isfinite(comparison.loc[0, "error_pct"])
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "http://a" in html
    # bad schedule: one error line per problem, exit 2, nothing written
    bad = _csv(tmp_path, "bad.csv", HEADER, ["E1,pipe,2026-02-30,3,1.0,,technical,bad date"])
    out2 = tmp_path / "out2"
    args = ["replay", str(cfg_path), "--events", str(bad), "--year", "2026", "--out", str(out2)]
    assert main([*args, "--recorded", "none", "--catalog", "none"]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: line 2: start_date" in err and "Traceback" not in err
    assert not out2.exists()
    # the output directory must be new or empty
    assert main(["replay", str(cfg_path), "--events", str(good), "--year", "2026"]
                + ["--out", str(out), "--catalog", "none"]) == 2  # fmt: skip
    assert "not empty" in capsys.readouterr().err
