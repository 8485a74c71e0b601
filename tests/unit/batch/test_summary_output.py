"""What a run prints at the end (and ``summary`` prints): meaning, baseline, one format per unit.

Also the tails of VaR and CVaR (declared per column in ``sim/base/columns.py``) and the progress
lines of experiments and ``--target-rel-ci`` runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.analysis.stats import describe, var_cvar
from sim.base.columns import adverse_tail, display_unit
from sim.batch.summary import WIDTH, format_summary
from sim.cli.main import main
from sim.studies.experiments import run_experiment

SMALL = Path(__file__).resolve().parents[2] / "data" / "small.yaml"


def _metric(mean: float, spread: float) -> dict[str, float]:
    return {
        "mean": mean,
        "ci95_half": spread / 10,
        "p5": mean - spread,
        "p50": mean,
        "p95": mean + spread,
        "cvar99": mean + 2 * spread,
        "p_positive": 0.97,
    }


def test_summary_fits_100_columns_with_one_format_per_unit():
    long_id = "x" * 60
    summary = {
        "metrics": {
            "revenue_loss_usd": _metric(1.114e10, 3e9),  # 11,140 USD m: once printed 1.114e+04
            "twin_revenue_usd": _metric(3.8663e11, 2e10),  # a ten-year horizon's revenue
            "exported_mt": _metric(738.6, 14.0),
            "n_events": _metric(171.5, 20.0),
            f"spare_used_mt.{long_id}": _metric(0.71, 0.2),
            "spare_used_mt.btc": _metric(0.40, 0.1),
        },
        "replications": 20,
    }
    text = format_summary(summary, "runs/demo", 3652.5, "2026-01-01")
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= WIDTH, text
    assert "e+" not in text and "e-" not in text
    row = next(line for line in lines if line.startswith("revenue_loss_usd"))
    assert "USD m" in row and "11,140.0" in row and "14,140.0" in row  # mean, P95
    assert next(line for line in lines if line.startswith("exported_mt")).split()[2] == "738.60"
    # What the numbers mean, the baseline and the loss as a share of it.
    assert "undisrupted twin" in text and "same price path" in text
    assert "386,630.0 USD m" in text and "2.9% of it" in text  # 1.114e10 / 3.8663e11
    for command in ("losses", "plot", "report"):
        assert f"corridor-sim {command} runs/demo" in text
    assert "the lowest for twin_revenue_usd, exported_mt" in " ".join(text.split())


def test_display_units_come_from_the_declared_units():
    assert display_unit("revenue_loss_usd") == (1e6, "USD m", 1)
    assert display_unit("spare_used_mt.btc")[1] == "Mt"
    assert display_unit("shut_in_days")[1] == "days"


def test_var_and_cvar_on_the_adverse_tail_closed_form():
    x = np.arange(1.0, 101.0)  # quantile q (linear) of 1..100 is 1 + 99 q
    assert var_cvar(x, 0.95) == pytest.approx((95.05, 98.0))  # mean of 96..100
    assert var_cvar(x, 0.99) == pytest.approx((99.01, 100.0))
    assert var_cvar(x, 0.95, "low") == pytest.approx((5.95, 3.0))  # mean of 1..5
    assert var_cvar(x, 0.99, "low") == pytest.approx((1.99, 1.0))
    d = describe(x[::-1], "low")
    assert (d["var95"], d["cvar95"], d["cvar99"]) == pytest.approx((5.95, 3.0, 1.0))
    with pytest.raises(ValueError, match="'high' or 'low'"):
        var_cvar(x, 0.95, "down")


def test_adverse_tails_are_declared_per_column():
    for name in ("exported_mt", "revenue_usd", "twin_revenue_usd", "exported_mt.some_route"):
        assert adverse_tail(name) == "low", name
    for name in ("revenue_loss_usd", "shut_in_mt", "spare_used_mt.btc", "not_a_column"):
        assert adverse_tail(name) == "high", name


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("s") / "run"
    argv = ["run", str(SMALL), "-n", "6", "--seed", "3", "--executor", "serial", "-q"]
    return out, argv + ["--out", str(out)]


def test_run_and_summary_print_the_same_table(cli_run, capsys):
    out, argv = cli_run
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert main(["summary", str(out)]) == 0
    summary = capsys.readouterr().out
    assert printed.startswith(summary)  # `run` adds the timing block after it
    assert f"corridor-sim report {out}" in summary and "one simulated year" in summary
    assert max(len(line) for line in summary.splitlines()) <= WIDTH
    # summary.json: exports' CVaR is their worst years (low tail), losses' their largest.
    metrics = json.loads((out / "summary.json").read_text())["metrics"]
    assert metrics["exported_mt"]["cvar99"] <= metrics["exported_mt"]["p5"]
    assert metrics["revenue_usd"]["var95"] <= metrics["revenue_usd"]["p50"]
    assert metrics["revenue_loss_usd"]["cvar99"] >= metrics["revenue_loss_usd"]["p95"]


def test_experiment_progress_names_the_scenario_and_run_k_of_n(tmp_path, capsys):
    (tmp_path / "small.yaml").write_bytes(SMALL.read_bytes())
    exp = tmp_path / "exp.yaml"
    exp.write_text(
        "name: t\nbase: small.yaml\nreplications: 2\nseed: 4\n"
        "scenarios:\n  bigger_tank: {set: [storages.port_tank.capacity_mt=0.3]}\n"
    )
    run_experiment(exp, tmp_path / "out", executor="serial", progress=True)
    err = capsys.readouterr().err
    assert "[corridor-sim] base (run 1 of 2): 2/2 replications" in err
    assert "[corridor-sim] scenario bigger_tank (run 2 of 2): 2/2 replications" in err


def test_target_rel_ci_progress_reports_precision_and_replications(tmp_path, capsys):
    res = sim.run(
        sim.load_config(SMALL),
        replications=5,
        seed=5,
        executor="serial",
        out=tmp_path / "run",
        target_rel_ci=1.0,
        progress=True,
    )
    notes = [line for line in capsys.readouterr().err.splitlines() if "known to" in line]
    used = res.manifest["replications"]
    assert len(notes) == used // 5 >= 2, notes
    for k, note in enumerate(notes, start=1):
        assert note.startswith(f"[corridor-sim] {5 * k} replications: mean revenue_loss_usd known")
    assert all(n.endswith("(95% CI; target ±100.00%: not reached yet)") for n in notes[1:-1])
    assert notes[-1].endswith("(95% CI; target ±100.00%: reached)")


def test_damaged_summary_entries_print_as_missing_not_a_traceback():
    summary = {
        "metrics": {
            "revenue_loss_usd": "garbage",
            "twin_revenue_usd": {"mean": "x"},
            "shut_in_mt": {"mean": 1.5, "p5": None, "cvar99": True},
            "spare_used_mt.a": [],
        },
        "parameter_uncertainty": {"n_events": {"mean": 1}, "x": 5},
    }
    text = format_summary(summary)
    row = next(line for line in text.splitlines() if line.startswith("shut_in_mt"))
    assert row.split()[2:5] == ["1.50", "–", "–"]
    assert "variance split" in text and "% of it" not in text
