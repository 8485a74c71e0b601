"""Asset criticality: knock-outs with closed-form losses on a hand-made network."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.base.units import DAYS_PER_YEAR
from sim.cli.main import main
from sim.figures import studies as plots
from sim.figures.style import close
from sim.studies.criticality import (
    CriticalityOptions,
    criticality,
    month_starts,
    repair_mixture,
    targets,
)

RATE = 10.0  # Mt/yr produced
BUFFER = 0.2  # Mt of free storage in front of the export pipeline
DAYS = 30.0
PRICE, BBL = 70.0, 7.5


def _network(**extra):
    """field (10 Mt/yr) -> feeder (20) -> tank (0.2 Mt, empty) -> export (12) -> market.

    There is no other way out, so a knock-out of the export pipeline for D days shuts in
    rate x D minus the tank's free space, and one of the feeder or the tank shuts in rate x D.
    """
    return dict(
        storages=[{"id": "tank", "capacity_mt": BUFFER}],
        pipelines=[
            {"id": "feeder", "capacity_mt_per_year": 20.0},
            {"id": "export", "capacity_mt_per_year": 12.0},
        ],
        routes=[
            {"id": "r", "source": "field", "path": ["feeder", "tank", "export"], "market": "mkt"}
        ],
        **extra,
    )


def test_knockouts_lose_rate_times_duration_minus_headroom(make_cfg):
    cfg = make_cfg(**_network())
    res = criticality(cfg, CriticalityOptions(duration_days=DAYS))
    table = res.table.set_index("asset")
    full = RATE / DAYS_PER_YEAR * DAYS
    expected = {"feeder": full, "tank": full, "export": full - BUFFER}
    for asset, lost in expected.items():
        assert table.loc[asset, "shut_in_mt"] == pytest.approx(lost, rel=1e-9)
        # Fixed price, no tariffs, no discounting: revenue lost = tonnes x price x bbl/t.
        assert table.loc[asset, "revenue_loss_usd"] == pytest.approx(
            lost * 1e6 * PRICE * BBL, rel=1e-9
        )
    assert table.loc["tank", "stopped"] == "feeder,export"
    assert list(res.table["rank"]) == [1, 2, 3] and res.table["asset"].iloc[2] == "export"
    # Twelve monthly starts were tried for each asset (a 30-day outage fits in all of them).
    assert len(res.by_start) == 3 * 12
    assert set(res.table["kind"]) == {"pipeline", "storage"}


def test_own_repair_draws_the_assets_repair_time(make_cfg):
    # A hazard on the export pipeline with a fixed 10-day repair and a negligible rate: every
    # replication knocks the pipeline out for exactly 10 days among (almost) no other events.
    hazards = {
        "export_leak": {
            "assets": ["export"],
            "cause": "technical",
            "arrivals": {"process": "poisson", "rate_per_year": 1e-9},
            "duration": {"dist": "fixed", "value_days": 10.0},
        }
    }
    cfg = make_cfg(**_network(hazards=hazards))
    assert [name for _, name, _ in repair_mixture(cfg, "export")] == ["export_leak"]
    res = criticality(cfg, CriticalityOptions(own_repair=True, replications=3, start="2026-03-01"))
    table = res.table.set_index("asset")
    assert table.loc["export", "duration_days"] == 10.0
    assert table.loc["export", "shut_in_mt"] == pytest.approx(
        RATE / DAYS_PER_YEAR * 10 - BUFFER, rel=1e-9
    )
    assert table.loc["export", "shut_in_mt_ci95_half"] == pytest.approx(0, abs=1e-12)
    assert table.loc["export", "repair"] == "own: export_leak"
    # No hazard names the feeder: it gets the fixed duration.
    assert table.loc["feeder", "duration_days"] == DAYS
    assert "no hazard names this asset" in table.loc["feeder", "repair"]
    assert set(table["start"]) == {"2026-03-01"}


def test_targets_and_start_dates(make_cfg):
    cfg = make_cfg(**_network())
    assert [t.asset for t in targets(cfg)] == ["feeder", "export", "tank"]
    assert [t.asset for t in targets(cfg, include_sources=True)][0] == "field"
    starts = month_starts(cfg, 30.0)
    assert starts[0] == dt.date(2026, 1, 1) and starts[-1] == dt.date(2026, 12, 1)
    assert len(month_starts(cfg, 60.0)) == 11  # a December start would run past the horizon


def test_cli_writes_tables_and_chart(tmp_path, capsys, make_cfg_dict):
    path = tmp_path / "net.yaml"
    path.write_text(yaml.safe_dump(make_cfg_dict(**_network())))
    out = tmp_path / "crit"
    argv = ["criticality", str(path), "--executor", "serial", "--out", str(out), "-q"]
    assert main(argv + ["--duration-days", "10", "--start", "2026-06-01"]) == 0
    text = capsys.readouterr().out
    assert "export" in text and "hazards off" in text
    table = pd.read_parquet(out / "criticality.parquet")
    assert list(table["asset"])[-1] == "export" and table["start"].unique().tolist() == [
        "2026-06-01"
    ]
    for name in (
        "criticality.csv",
        "criticality_by_start.csv",
        "criticality.png",
        "criticality.json",
    ):
        assert (out / name).is_file()


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--start", "2026-13-01"], "--start: expected 'worst' or a date YYYY-MM-DD"),
        (["--start", "2030-01-01"], "--start: 2030-01-01 is outside the run"),
        (["--duration-days", "400"], "--duration-days: an outage of 400 days"),
        (["--duration-days", "-1"], "--duration-days: expected a positive number"),
        (["--set", "pipelines.nope.capacity_mt_per_year=1"], "pipelines.nope"),
    ],
)
def test_bad_arguments_give_one_clear_error(tmp_path, capsys, make_cfg_dict, extra, fragment):
    path = tmp_path / "net.yaml"
    path.write_text(yaml.safe_dump(make_cfg_dict(**_network())))
    out = tmp_path / "crit"
    rc = main(["criticality", str(path), "--executor", "serial", "--out", str(out), *extra])
    err = capsys.readouterr().err
    assert rc == 2 and fragment in err and "Traceback" not in err, err
    assert not out.exists()


def test_chart_keeps_every_text_inside_the_figure():
    # Long names, a loss in the thousands of millions with a CI, a negative one: once, the
    # shut-in notes beside the longest bars and the axis label ran off the figure's edges.
    n = 14
    table = pd.DataFrame(
        {
            "asset": ["mangystau_to_aktau_" + "x" * 20] + [f"asset_{i}" for i in range(1, n)],
            "kind": ["pipeline", "storage"] * (n // 2),
            "start": ["2026-01-01"] * n,
            "duration_days": [30.0] * n,
            "shut_in_mt": np.linspace(4.75, 0.0, n),
            "revenue_loss_usd": np.linspace(2.4e9, -6e6, n),
            "revenue_loss_usd_ci95_half": np.full(n, 1e8),
        }
    )
    fig = plots.criticality(table)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    # The tight box holds every drawn artist: tick labels, axis labels, title, texts.
    drawn = fig.get_tightbbox(renderer)
    page = fig.bbox_inches
    tol = 0.01  # inches
    assert drawn.x0 >= page.x0 - tol and drawn.x1 <= page.x1 + tol, (drawn, page)
    assert drawn.y0 >= page.y0 - tol and drawn.y1 <= page.y1 + tol, (drawn, page)
    ax = fig.axes[0]
    for t in [ax.xaxis.label, ax.title, *ax.texts]:
        ext = t.get_window_extent(renderer)
        assert fig.bbox.x0 - 1 <= ext.x0 and ext.x1 <= fig.bbox.x1 + 1, t.get_text()
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[-1].startswith("Mangystau to Aktau") and "4.75 Mt shut in" in labels[-1]
    close(fig)
