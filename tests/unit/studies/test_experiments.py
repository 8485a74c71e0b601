"""Scenario experiments: paired differences under common random numbers, and bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli.main import main
from sim.studies.experiments import load_experiment, run_experiment

SMALL = Path(__file__).resolve().parents[2] / "data" / "small.yaml"


def _write(tmp_path, body: str) -> Path:
    # The base sits beside the experiment: `base:` may not lead out of its directory.
    (tmp_path / "small.yaml").write_bytes(SMALL.read_bytes())
    path = tmp_path / "exp.yaml"
    path.write_text("name: t\nbase: small.yaml\nreplications: 12\nseed: 4\n" + body)
    return path


def test_identical_scenario_has_exactly_zero_differences(tmp_path):
    exp = _write(tmp_path, "scenarios:\n  same: {description: nothing changes}\n")
    table = run_experiment(exp, tmp_path / "out", executor="serial")
    assert (table["mean_diff"] == 0).all()
    assert (table["ci95_low"] == 0).all() and (table["ci95_high"] == 0).all()


def test_common_random_numbers_shrink_the_variance_of_small_changes(tmp_path):
    exp = _write(
        tmp_path,
        "scenarios:\n  bigger_tank:\n    overrides: {storages: {port_tank: {capacity_mt: 0.25}}}\n",
    )
    table = run_experiment(exp, tmp_path / "out", executor="serial")
    row = table[table["metric"] == "revenue_loss_usd"].iloc[0]
    # Paired differences of a small change vary far less than two independent samples would.
    assert row["variance_reduction"] > 20
    assert row["ci95_high"] - row["ci95_low"] < 0.2 * 2 * row["unpaired_ci95_half"]
    assert (tmp_path / "out" / "comparison.csv").is_file()
    assert (tmp_path / "out" / "scenarios" / "bigger_tank" / "manifest.json").is_file()
    assert main(["report", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / "report.html").read_text()
    assert "bigger_tank" in text and text.count("data:image/png;base64,") == len(
        table["metric"].unique()
    )


def test_costs_give_npv_and_benefit_cost_ratio(tmp_path):
    exp = _write(
        tmp_path,
        "scenarios:\n  lever:\n    set: [storages.port_tank.capacity_mt=0.4]\n"
        "    cost: {capex_usd: 1.0e6, opex_usd_per_year: 0, lifetime_years: 2,"
        " discount_rate: 0.0}\n",
    )
    table = run_experiment(exp, tmp_path / "out", executor="serial")
    row = table[table["metric"] == "revenue_loss_usd"].iloc[0]
    avoided = -row["mean_diff"]
    assert row["avoided_loss_usd_per_year"] == pytest.approx(avoided)
    assert row["npv_usd"] == pytest.approx(2 * avoided - 1.0e6)
    assert row["benefit_cost_ratio"] == pytest.approx(2 * avoided / 1.0e6)


@pytest.mark.parametrize(
    "body, fragment",
    [
        (
            "scenarios:\n  x: {overrides: {pipelines: {main_pipe: {capacity_mt: 3}}}}\n",
            "scenarios.x: pipelines.main_pipe.capacity_mt: no such key",
        ),
        (
            "scenarios:\n  x: {set: [pipelines.nope.capacity_mt_per_year=3]}\n",
            "scenarios.x: pipelines.nope",
        ),
        (
            "scenarios:\n  x: {set: [pipelines.main_pipe.capacity_mt_per_year=-3]}\n",
            "scenarios.x: pipelines[0].capacity_mt_per_year",
        ),
        ("scenarios: {}\n", "give at least one scenario"),
        ("scenarios:\n  x: {colour: red}\n", "scenarios.x.colour: unknown key"),
    ],
    ids=["missing-key", "missing-id", "bad-value", "no-scenarios", "unknown-key"],
)
def test_bad_experiment_files_give_one_clear_error(tmp_path, capsys, body, fragment):
    exp = _write(tmp_path, body)
    rc = main(["experiment", str(exp), "--out", str(tmp_path / "out"), "--executor", "serial"])
    err = capsys.readouterr().err
    assert rc == 2
    assert str(exp) in err and fragment in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_shipped_experiment_loads():
    exp, base, scenarios = load_experiment("configs/experiments/middle_corridor.yaml")
    assert len(scenarios) == 9 and base.name == "kazakhstan"
    assert scenarios["double_caspian_fleet"].shuttles[0].fleet[0].count == 6


def test_one_at_a_time_sweep_and_tornado(tmp_path):
    from sim.figures import studies as plots
    from sim.figures.style import close

    exp = _write(
        tmp_path,
        "metrics: [revenue_loss_usd]\none_at_a_time:\n"
        "  storages.port_tank.capacity_mt: [0.1, 0.4]\n"
        "  pipelines.alt_pipe.capacity_mt_per_year: [3, 4]\n",
    )
    table = run_experiment(exp, tmp_path / "out", executor="serial")
    assert sorted(table["scenario"]) == ["oat00_high", "oat00_low", "oat01_high", "oat01_low"]
    assert set(table["parameter"]) == {
        "storages.port_tank.capacity_mt",
        "pipelines.alt_pipe.capacity_mt_per_year",
    }
    # More buffer never increases the mean loss here; less buffer never decreases it.
    tank = table[table["parameter"] == "storages.port_tank.capacity_mt"].set_index("scenario")
    assert tank.loc["oat00_high", "mean_diff"] <= 0 <= tank.loc["oat00_low", "mean_diff"]
    fig = plots.tornado(table)
    assert len(fig.axes[0].patches) == 4
    close(fig)
    assert main(["report", str(tmp_path / "out")]) == 0
    assert "One-at-a-time sensitivity" in (tmp_path / "out" / "report.html").read_text()


def test_shipped_sensitivity_and_regime_experiments_load():
    _, _, sens = load_experiment("configs/experiments/sensitivity.yaml")
    assert len(sens) == 16
    _, _, reg = load_experiment("configs/experiments/regimes.yaml")
    assert reg["calm_year"].regimes.states["calm"].mean_sojourn_days is None
