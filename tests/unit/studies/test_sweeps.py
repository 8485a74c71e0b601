"""Sweeps in experiment files (factorial, Sobol'), new assets (`add`), EMA export, `plan`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import SMALL_YAML

from sim.cli.main import main
from sim.studies import ema
from sim.studies.experiments import load_experiment, parameter_table, run_experiment

TANK = "storages.port_tank.capacity_mt"
ALT = "pipelines.alt_pipe.capacity_mt_per_year"


@pytest.fixture(scope="module")
def short_base(tmp_path_factory) -> Path:
    """The small network over 90 days (the stormy season), to keep runs short."""
    data = yaml.safe_load(SMALL_YAML.read_text())
    data["run"]["horizon_days"] = 90
    path = tmp_path_factory.mktemp("base") / "small90.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _write(tmp_path: Path, base: Path, body: str, reps: int = 4) -> Path:
    # The base sits beside the experiment: `base:` may not lead out of its directory.
    (tmp_path / base.name).write_bytes(base.read_bytes())
    path = tmp_path / "exp.yaml"
    path.write_text(f"name: t\nbase: {base.name}\nreplications: {reps}\nseed: 4\n" + body)
    return path


def test_factorial_grid_under_common_random_numbers_and_ema_export(tmp_path, short_base):
    exp = _write(
        tmp_path,
        short_base,
        f"metrics: [revenue_loss_usd, shut_in_mt]\nfactorial:\n  {TANK}: [0.1, 0.2]\n"
        f"  {ALT}: [4, 6]\n",
    )
    out = tmp_path / "out"
    table = run_experiment(exp, out, executor="serial")
    rows = table[table["metric"] == "revenue_loss_usd"].set_index("scenario")
    assert list(rows.index) == ["fac0000", "fac0001", "fac0002", "fac0003"]
    assert set(rows["kind"]) == {"factorial"}
    assert rows[TANK].tolist() == [0.1, 0.1, 0.2, 0.2]
    assert rows[ALT].tolist() == [4.0, 6.0, 4.0, 6.0]
    # fac0002 is the base itself (0.2 Mt, 4 Mt/yr): same streams, so exactly no difference.
    assert rows.loc["fac0002", "mean_diff"] == 0
    assert rows.loc["fac0002", "ci95_low"] == rows.loc["fac0002", "ci95_high"] == 0
    assert rows.loc["fac0000", "mean_diff"] >= 0  # less buffer never helps here
    # EMA Workbench results: one row per run and replication, base values where unchanged.
    experiments, outcomes = ema.load_results(out / ema.ARCHIVE)
    assert len(experiments) == 5 * 4
    assert list(experiments.columns) == [TANK, ALT, "added", "scenario", "policy", "model"]
    assert not experiments.isna().any().any() and set(experiments["added"]) == {"none"}
    base_rows = experiments[experiments["policy"] == "base"]
    assert base_rows[TANK].tolist() == [0.2] * 4 and base_rows[ALT].tolist() == [4.0] * 4
    assert experiments["scenario"].astype(int).tolist() == [0, 1, 2, 3] * 5
    assert set(outcomes) == {"revenue_loss_usd", "shut_in_mt"}
    assert outcomes["revenue_loss_usd"].shape == (20,)
    fac0 = experiments["policy"] == "fac0000"
    assert outcomes["revenue_loss_usd"][fac0.to_numpy()].mean() == pytest.approx(
        rows.loc["fac0000", "scenario_mean"]
    )
    exp_d, out_d = ema.experiment_results(out, ["revenue_loss_usd"], level="design")
    assert len(exp_d) == 5 and set(exp_d["scenario"]) == {"mean"}
    assert out_d["revenue_loss_usd"][0] == pytest.approx(rows["base_mean"].iloc[0])


def test_sobol_design_writes_indices_and_a_report(tmp_path, short_base):
    exp = _write(
        tmp_path,
        short_base,
        "metrics: [revenue_loss_usd]\n"
        "design:\n  method: sobol\n  n: 4\n  seed: 3\n  parameters:\n"
        "    hazards.storm.arrivals.rate_per_year: {low: 1.0, high: 6.0}\n"
        # field_b never has an outage, so its ramp cannot matter: a parameter without effect.
        "    sources.field_b.ramp_steps: {low: 1, high: 8, integer: true}\n",
        reps=3,
    )
    out = tmp_path / "out"
    table = run_experiment(exp, out, executor="serial")
    assert (table["kind"] == "sobol").sum() == 4 * (2 + 2)
    indices = pd.read_parquet(out / "sobol.parquet")
    assert list(indices["parameter"]) == [
        "hazards.storm.arrivals.rate_per_year",
        "sources.field_b.ramp_steps",
    ]
    dead = indices.set_index("parameter").loc["sources.field_b.ramp_steps"]
    assert dead["S1"] == 0 and dead["ST"] == 0 and dead["ST_high"] == 0
    storm = indices.set_index("parameter").loc["hazards.storm.arrivals.rate_per_year"]
    assert storm["ST"] > 0 and np.isfinite(storm[["S1_low", "ST_high"]].astype(float)).all()
    assert (out / "sobol.csv").is_file()
    assert main(["report", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert "Sobol&#x27; indices" in html or "Sobol' indices" in html


def test_add_block_appends_new_assets_validated_by_the_schema(tmp_path, short_base):
    exp = _write(
        tmp_path,
        short_base,
        "scenarios:\n  upstream_tank:\n    add:\n"
        "      storages: [{id: field_tank, capacity_mt: 0.3}]\n"
        "      pipelines: [{id: field_link, capacity_mt_per_year: 20}]\n"
        "      routes:\n        - {id: a_buffered, source: field_a, path: [field_link, "
        "field_tank, main_pipe, port_tank, term], market: med}\n"
        "    set: [storages.port_tank.capacity_mt=0.25]\n",
    )
    _, base, scenarios = load_experiment(exp)
    cfg = scenarios["upstream_tank"]
    assert [s.id for s in cfg.storages] == [s.id for s in base.storages] + ["field_tank"]
    assert cfg.routes[-1].id == "a_buffered" and cfg.storages[0].capacity_mt == 0.25
    table = run_experiment(exp, tmp_path / "out", executor="serial")
    assert list(table["scenario"].unique()) == ["upstream_tank"]
    reps = pd.read_parquet(tmp_path / "out" / "scenarios" / "upstream_tank" / "replications")
    assert (reps["throughput_mt.field_link"] > 0).all()  # the new link carries oil
    assert reps["mass_balance_error_mt"].abs().max() < 1e-9
    params = pd.read_parquet(tmp_path / "out" / ema.PARAMETERS).set_index("policy")
    assert params.loc["upstream_tank", "added"] == (
        "storages:field_tank,pipelines:field_link,routes:a_buffered"
    )
    assert params.loc["base", TANK] == 0.2 and params.loc["upstream_tank", TANK] == 0.25


@pytest.mark.parametrize(
    "body, fragment",
    [
        (
            "scenarios:\n  x: {add: {storages: [{id: aktau, capacity_mt: 1}]}}\n",
            "scenarios.x: add.storages[0].id: 'aktau' already exists (storages)",
        ),
        (
            "scenarios:\n  x: {add: {pipelines: [{id: port_tank, capacity_mt_per_year: 1}]}}\n",
            "add.pipelines[0].id: 'port_tank' already exists (storages)",
        ),
        (
            "scenarios:\n  x: {add: {storages: [{capacity_mt: 1}]}}\n",
            "scenarios.x: add.storages[0].id: required key is missing",
        ),
        (
            "scenarios:\n  x: {add: {storages: [{id: t2, capacity_mt: -1}]}}\n",
            "scenarios.x: add.storages[0].capacity_mt",
        ),
        (
            "scenarios:\n  x: {add: {routes: [{id: r9, source: field_a, path: [nope], "
            "market: med}]}}\n",
            "scenarios.x: add.routes[0].path[0]: unknown id 'nope'",
        ),
        (
            "scenarios:\n  x: {add: {hazards: {storm: {assets: [term], cause: weather, "
            "arrivals: {process: poisson, rate_per_year: 1}, duration: {dist: fixed, "
            "value_days: 1}}}}}\n",
            "add.hazards.storm: 'storm' already exists (hazards)",
        ),
        ("scenarios:\n  x: {add: {depots: []}}\n", "scenarios.x.add.depots: unknown key"),
        ("factorial:\n  storages.nope.capacity_mt: [1, 2]\n", "factorial.storages.nope"),
        (f"factorial:\n  {TANK}: [0.2, -1]\n", "factorial (point fac0001): storages[0]"),
        (
            "design: {method: sobol, n: 6, parameters: {" + TANK + ": {low: 0.1, high: 0.3}}}\n",
            "design: n must be a power of 2 for a Sobol' design (got 6; try 4 or 8)",
        ),
        (
            "design: {method: lhs, n: 4, parameters: {" + TANK + ": {dist: beta}}}\n",
            "unknown dist",
        ),
        (
            "design: {method: lhs, n: 4, parameters: {storages.port_tank.size: {low: 0, "
            "high: 1}}}\n",
            "design.parameters.storages.port_tank.size: storages.port_tank.size: no such key",
        ),
        ("scenarios:\n  base: {description: x}\n", "'base' is the name of the base run"),
    ],
    ids=[
        "add-collision",
        "add-collision-other-section",
        "add-no-id",
        "add-bad-value",
        "add-bad-reference",
        "add-hazard-collision",
        "add-unknown-section",
        "factorial-missing-key",
        "factorial-bad-value",
        "sobol-n",
        "unknown-dist",
        "design-missing-key",
        "reserved-name",
    ],
)
def test_bad_sweeps_and_additions_give_one_clear_error(tmp_path, capsys, body, fragment):
    exp = _write(tmp_path, SMALL_YAML, body)
    for argv in (
        ["experiment", str(exp), "--out", str(tmp_path / "out"), "--executor", "serial"],
        ["plan", str(exp)],
    ):
        rc = main(argv)
        err = capsys.readouterr().err
        assert rc == 2
        assert str(exp) in err and fragment in err and "Traceback" not in err, err
    assert not (tmp_path / "out").exists()


def test_plan_counts_runs_times_a_pilot_and_writes_nothing(tmp_path, capsys, short_base):
    exp = _write(
        tmp_path,
        short_base,
        "scenarios:\n  same: {description: nothing}\none_at_a_time:\n  " + TANK + ": [0.1, 0.3]\n"
        f"factorial:\n  {ALT}: [3, 5, 6]\n",
        reps=40,
    )
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["plan", str(exp), "--pilot", "3", "--workers", "2"]) == 0
    text = capsys.readouterr().out
    assert (
        "1 base + 1 named scenarios + 2 one-at-a-time levels + 3 factorial points = 7 runs" in text
    )
    assert "40 per run, 280 in all" in text and "on 2 workers" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_shipped_experiments_with_new_levers_and_sweeps_load():
    exp, base, scenarios = load_experiment("configs/experiments/middle_corridor.yaml")
    for name in ("atyrau_storage", "cpc_spare_spm", "aktau_20_mt", "long_conflict"):
        assert name in scenarios
    atyrau = scenarios["atyrau_storage"]
    assert "atyrau_storage" in {s.id for s in atyrau.storages}
    assert "atyrau_storage" not in {s.id for s in base.storages}
    assert scenarios["cpc_spare_spm"].terminals[0].berths == 4
    for name, scn in exp.scenarios.items():
        if scn.cost is not None:
            assert scn.cost.source, name  # every cost says where it comes from
    # Parameter columns for EMA Workbench are complete: base values where a lever is silent,
    # "unset" for null (read_csv would read "null" back as missing).
    params = parameter_table(exp, base).set_index("policy")
    assert not params.isna().any().any()
    assert params.loc["long_conflict", "regimes.states.conflict.mean_sojourn_days"] == "unset"
    assert params.loc["base", "terminals.cpc_terminal.berths"] == 3.0
    assert "storages:atyrau_storage" in params.loc["atyrau_storage", "added"]
    assert params["hazards.btc_kz_access.enabled"].dtype == bool
    gsa, _, points = load_experiment("configs/experiments/global_sensitivity.yaml")
    assert gsa.design is not None and gsa.design.method == "sobol"
    assert len(points) == gsa.design.n * (len(gsa.design.parameters) + 2)
