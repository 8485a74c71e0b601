"""The historical-fit check (scripts/historical_fit.py) and the 2023/2024 replay schedules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import load_script

from sim.api import run
from sim.base.errors import InputError
from sim.calibration import load_catalog
from sim.config import load_config
from sim.replay import load_schedule
from sim.report.run import build_report

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"


fit = load_script("historical_fit")


@pytest.fixture(scope="module")
def default():
    return load_config(ROOT / "configs" / "kazakhstan.yaml")


def test_percentile_rank_counts_ties_half():
    sample = [0, 0, 1, 2, 3, 4, 5, 6, 7, 8]
    assert fit.percentile_rank(sample, 0) == 10.0  # two ties of ten: 0 + 2/2
    assert fit.percentile_rank(sample, 4.5) == 60.0  # six below
    assert fit.percentile_rank(sample, 4) == 55.0  # five below, one tie
    assert fit.percentile_rank(sample, -1) == 0.0
    assert fit.percentile_rank(sample, 100) == 100.0
    assert fit.percentile_rank([np.nan, 2.0, 4.0], 3.0) == 50.0  # NaN ignored
    with pytest.raises(ValueError, match="empty sample"):
        fit.percentile_rank([np.nan], 1.0)


def test_fit_table_on_a_hand_made_run():
    run_losses = pd.DataFrame(
        {
            "loss_usd": [100.0 * k for k in range(1, 21)],  # 100 ... 2000
            "volume_lost_mt": [0.1 * k for k in range(20, 0, -1)],  # 2.0 ... 0.1
        }
    )
    years = pd.DataFrame(
        {
            "year": [2022, 2023, 2024, 2025],
            "loss_usd": [2500.0, 150.0, 1000.0, 1950.0],
            "volume_lost_mt": [0.05, 2.0, 1.05, 0.95],
            "left_out": ["", "", "E29", ""],
        }
    )
    out = fit.fit_table(run_losses, years)
    # 2022 above all 20; 2023 above one; 2024 ties one of 20 with 9 below; 2025 19 below
    assert out["revenue_percentile"].tolist() == [100.0, 5.0, 47.5, 95.0]
    # volumes: 0.05 below all; 2.0 ties the largest (19 below); 1.05: 10 below; 0.95: 9 below
    assert out["volume_percentile"].tolist() == pytest.approx([0.0, 97.5, 50.0, 45.0])
    assert out["in_band"].tolist() == [False, False, True, True]  # p10 <= revenue pct <= p97
    assert out["left_out"].tolist() == years["left_out"].tolist()


def test_new_schedules_load_and_flag_planned_maintenance(default):
    catalog = load_catalog(SEEDS / "disruption_events.csv")
    s23 = load_schedule(SEEDS / "replay_2023.csv", default, 2023, catalog)
    s24 = load_schedule(SEEDS / "replay_2024.csv", default, 2024, catalog)
    assert s23.table["catalog_event"].tolist() == ["E21", "E22", "E23", "E24", "E27"]
    assert s24.table["catalog_event"].tolist() == ["E28", "E29"]
    s25 = load_schedule(SEEDS / "replay_2025.csv", default, 2025, catalog)
    for s in (s23, s24, s25):
        planned = s.table["cause"] == "maintenance"
        assert planned.any()
        assert s.table.loc[planned, "notes"].str.startswith("PLANNED MAINTENANCE").all()
    kept, left_out = fit.without_turnarounds(s24, default)
    assert left_out == ["E29"] and kept.table["catalog_event"].tolist() == ["E28"]
    kept, left_out = fit.without_turnarounds(s23, default)  # E23 is on the terminal: kept
    assert left_out == [] and len(kept.events) == 5


def test_turnarounds_follow_the_runs_hazards(default):
    # the default defines turnaround hazards but leaves them off: they are not modelled
    assert fit._leaves_out_turnarounds(default, "auto")
    enabled = default.model_copy(
        update={
            "hazards": {
                k: h.model_copy(update={"enabled": True}) if "turnaround" in k else h
                for k, h in default.hazards.items()
            }
        }
    )
    assert not fit._leaves_out_turnarounds(enabled, "auto")
    no_turnarounds = default.model_copy(
        update={"hazards": {k: h for k, h in default.hazards.items() if "turnaround" not in k}}
    )
    assert fit._leaves_out_turnarounds(no_turnarounds, "auto")
    assert fit._leaves_out_turnarounds(enabled, "exclude")
    assert not fit._leaves_out_turnarounds(no_turnarounds, "include")


def test_script_writes_the_table_and_the_docs_section(tmp_path, default, capsys, monkeypatch):
    res = run(default, replications=8, executor="serial", out=tmp_path / "run")
    doc = tmp_path / "calibration.md"
    doc.write_text(f"before\n{fit.BEGIN}\nold\n{fit.END}\nafter\n")
    monkeypatch.setattr(fit, "DOC", doc)
    assert fit.main([str(res.path), "--years", "2024", "--update-docs"]) == 0
    table = pd.read_csv(res.path / "tables" / "historical_fit.csv")
    assert table["year"].tolist() == [2024] and table["left_out"].tolist() == ["E29"]
    page = build_report(res)  # the run's report shows the stored table
    assert "Historical fit: 2022-2025" in page and "<td class='t'>E29</td>" in page
    reps = res.replications
    assert table.loc[0, "revenue_percentile"] == fit.percentile_rank(
        reps["revenue_loss_usd"], table.loc[0, "loss_usd"]
    )
    md = (res.path / "tables" / "historical_fit.md").read_text()
    text = doc.read_text()
    assert text.startswith(f"before\n{fit.BEGIN}\n") and text.endswith(f"{fit.END}\nafter\n")
    assert md in text and "old" not in text and "| 2024 | 1 | E29 |" in md
    # counting the turnaround raises 2024's loss (E29 cut Kashagan by 60 % for 35 days)
    assert fit.main([str(res.path), "--years", "2024", "--turnarounds", "include"]) == 0
    with_it = pd.read_csv(res.path / "tables" / "historical_fit.csv")
    assert with_it["left_out"].isna().all()
    assert with_it.loc[0, "loss_usd"] > table.loc[0, "loss_usd"] + 1e8
    capsys.readouterr()
    # bad input: one line, exit 2, nothing rewritten
    assert fit.main([]) == 2 and "exactly one" in capsys.readouterr().err
    doc.write_text("no markers\n")
    (res.path / "tables" / "historical_fit.csv").unlink()
    assert fit.main([str(res.path), "--years", "2024", "--update-docs"]) == 2
    assert "historical-fit markers" in capsys.readouterr().err
    assert not (res.path / "tables" / "historical_fit.csv").exists()
    with pytest.raises(InputError):
        fit.year_losses(default, [2019])
