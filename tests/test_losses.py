"""Loss tables on hand-made data with known answers, and figures from a small stored run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim import losses, plots


def _reps(loss):
    n = len(loss)
    return pd.DataFrame(
        {
            "replication": np.arange(n),
            "revenue_loss_usd": np.asarray(loss, float),
            "shut_in_mt": np.zeros(n),
        }
    )


def _events(rows):
    cols = [
        "replication",
        "event",
        "hazard",
        "asset",
        "cause",
        "start_day",
        "duration_days",
        "volume_lost_mt",
        "volume_deferred_mt",
        "revenue_lost_usd",
        "effective",
    ]
    return pd.DataFrame(rows, columns=cols)


def test_exceedance_curve_and_return_periods_on_known_losses():
    # 10 years with losses 1..10: the k-th largest is exceeded with probability k/10.
    ylt = losses.year_loss_table(_reps(np.arange(1, 11) * 1e6))
    curve = losses.exceedance_curve(ylt["loss_usd"].to_numpy())
    assert list(curve["loss_usd"]) == [v * 1e6 for v in range(10, 0, -1)]
    assert curve["exceedance_probability"].tolist() == pytest.approx([k / 10 for k in range(1, 11)])
    assert curve["return_period"].iloc[1] == pytest.approx(5.0)
    assert (curve["loss_low"] <= curve["loss_usd"]).all()
    assert (curve["loss_high"] >= curve["loss_usd"]).all()
    # 5-year loss: the 0.8 quantile of 1..10 with linear interpolation is 8.2; TVaR = mean(9, 10).
    loss, tvar = losses.loss_at(ylt["loss_usd"].to_numpy(), 5)
    assert loss == pytest.approx(8.2e6)
    assert tvar == pytest.approx(9.5e6)
    table = losses.return_period_table(ylt, periods=(5, 10, 25))
    aep = table[table["curve"] == "AEP"].set_index("return_period")
    assert aep.loc[10, "loss_usd"] == pytest.approx(9.1e6)
    assert bool(aep.loc[25, "extrapolated"]) and not bool(aep.loc[5, "extrapolated"])
    assert losses.pml(ylt, 10) == pytest.approx(9.1e6)


def test_aal_is_the_mean_of_the_ylt_and_tvar_dominates_var():
    rng = np.random.default_rng(0)
    x = rng.lognormal(3, 1.2, size=500)
    ylt = losses.year_loss_table(_reps(x))
    a = losses.aal(ylt)
    assert a["aal"] == pytest.approx(x.mean())
    assert a["se"] == pytest.approx(x.std(ddof=1) / np.sqrt(500))
    for rp in losses.RETURN_PERIODS:
        var, tvar = losses.loss_at(x, rp)
        assert tvar >= var


def test_elt_allocates_each_years_loss_to_its_events_and_oep_below_aep():
    reps = _reps([100.0, 50.0, 0.0])
    ev = _events(
        [
            (0, 0, "storm", "t", "weather", 1.0, 2.0, 0.1, 0.0, 30.0, True),
            (0, 1, "strike", "p", "military", 5.0, 9.0, 0.2, 0.0, 10.0, True),
            (0, 1, "strike", "q", "military", 5.0, 9.0, 0.2, 0.0, 10.0, True),  # common cause
            (1, 0, "storm", "t", "weather", 3.0, 4.0, 0.0, 0.1, 0.0, True),
            (1, 1, "trip", "f", "technical", 7.0, 12.0, 0.0, 0.0, 0.0, True),
            (2, 0, "noop", "t", "regulatory", 1.0, 1.0, 0.0, 0.0, 0.0, False),
        ]
    )
    elt = losses.event_loss_table(reps, ev)
    assert len(elt) == 4  # common-cause records merged, ineffective event dropped
    per_year = elt.groupby("replication")["loss_usd"].sum()
    assert per_year.loc[0] == pytest.approx(100.0) and per_year.loc[1] == pytest.approx(50.0)
    first = elt[(elt["replication"] == 0)].set_index("event")["loss_usd"]
    assert first.loc[0] == pytest.approx(75.0) and first.loc[1] == pytest.approx(25.0)
    assert elt.loc[elt["replication"] == 0, "assets"].tolist()[1] == "p,q"
    # Year 1 has no window loss: its loss is split by duration (4 and 12 days).
    second = elt[(elt["replication"] == 1)].set_index("event")["loss_usd"]
    assert second.loc[0] == pytest.approx(12.5) and second.loc[1] == pytest.approx(37.5)
    ylt = losses.year_loss_table(reps, elt)
    aep = np.sort(ylt["loss_usd"].to_numpy())
    oep = np.sort(ylt["max_event_loss_usd"].to_numpy())
    assert (oep <= aep + 1e-9).all()


def test_convergence_table_ends_at_the_full_mean():
    x = np.arange(1.0, 101.0)
    tab = losses.convergence_table(losses.year_loss_table(_reps(x)))
    assert tab["replications"].iloc[-1] == 100
    assert tab["mean"].iloc[-1] == pytest.approx(x.mean())
    assert tab["ci95_half"].iloc[-1] == pytest.approx(1.959964 * x.std(ddof=1) / 10, rel=1e-5)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    cfg = sim.load_config("tests/data/small.yaml")
    cfg = cfg.model_copy(
        update={"run": cfg.run.model_copy(update={"timeseries": True, "horizon_days": 120.0})}
    )
    return sim.run(
        cfg, replications=12, seed=2, executor="serial", out=tmp_path_factory.mktemp("r") / "run"
    )


def test_every_figure_is_written_and_not_empty(small_run):
    paths = small_run.plot.save_all()
    names = {p.stem for p in paths}
    assert {
        "loss_histogram",
        "ep_curves",
        "spare_capacity",
        "event_scatter",
        "convergence",
        "fan_storage",
        "fan_flows",
    } <= names
    for p in paths:
        assert p.stat().st_size > 2000, p


def test_figure_functions_return_figures_with_content(small_run):
    figs = [
        small_run.plot.loss_histogram(),
        small_run.plot.ep_curves(),
        small_run.plot.spare_capacity(),
        small_run.plot.event_scatter(),
        small_run.plot.convergence(),
    ]
    for fig in figs:
        assert fig.axes and (
            fig.axes[0].lines or fig.axes[0].patches or fig.axes[0].collections or fig.axes[0].texts
        )
        plots.plt.close(fig)


def test_run_result_loss_accessors_agree(small_run):
    ylt = small_run.ylt()
    mean_loss = small_run.replications["revenue_loss_usd"].mean()
    assert small_run.aal()["aal"] == pytest.approx(mean_loss)
    assert len(small_run.ep_curve("aep")) == len(ylt)
    assert (small_run.return_periods()["tvar_usd"] >= small_run.return_periods()["loss_usd"]).all()


def test_cli_losses_and_plot(small_run, capsys):
    from sim.cli import main

    assert main(["losses", str(small_run.path)]) == 0
    out = capsys.readouterr().out
    assert "AAL:" in out and (small_run.path / "tables" / "ylt.parquet").is_file()
    assert main(["plot", str(small_run.path)]) == 0
    assert (small_run.path / "figures" / "ep_curves.png").is_file()


def test_report_is_self_contained(small_run):
    from sim.cli import main

    assert main(["report", str(small_run.path)]) == 0
    text = (small_run.path / "report.html").read_text()
    assert text.count("data:image/png;base64,") == 5
    assert "http://" not in text and "https://" not in text and "<script" not in text
    assert small_run.manifest["config_hash"] in text and "Assumptions and sources" in text
