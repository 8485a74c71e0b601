"""Loss tables on hand-made data with known answers, and figures from a small stored run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis import losses, periods
from sim.base.columns import (
    CONVERGENCE_COLUMNS,
    ELT_COLUMNS,
    RETURN_PERIOD_COLUMNS,
    YLT_COLUMNS,
)
from sim.figures import run as plots
from sim.figures.style import close


def _reps(loss, volume=None):
    n = len(loss)
    return pd.DataFrame(
        {
            "replication": np.arange(n),
            "revenue_loss_usd": np.asarray(loss, float),
            "shut_in_mt": np.full(n, 99.0),  # absolute shut-in: not the paired volume
            "offset_shut_in_mt": np.zeros(n) if volume is None else np.asarray(volume, float),
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
    # 10 years with losses 1..10 M: the k-th largest is exceeded with probability k/10, so its
    # return period is 10/k years.
    ylt = losses.year_loss_table(_reps(np.arange(1, 11) * 1e6, np.arange(1, 11) / 10))
    curve = losses.ep_curve(ylt, "AEP")
    assert list(curve["loss"]) == [v * 1e6 for v in range(10, 0, -1)]
    assert curve["exceedance_probability"].tolist() == pytest.approx([k / 10 for k in range(1, 11)])
    assert curve["return_period"].tolist() == pytest.approx([10 / k for k in range(1, 11)])
    # TVaR at rank k is the mean of the k largest: 10, 9.5, 9, ...
    assert curve["tvar"].tolist() == pytest.approx([(10 + 11 - k) / 2 * 1e6 for k in range(1, 11)])
    assert set(curve["measure"]) == {"revenue_usd"} and set(curve["curve"]) == {"AEP"}
    # 90% order-statistic bands: Binomial(10, 0.1) has 5%/95% quantiles 0 and 3, so the band of
    # the largest loss (10) runs from the 4th largest (7) to 10; Binomial(10, 0.5) gives 2 and 8,
    # so the band of the 5th largest (6) runs from 2 to 9.
    assert (curve["loss_low"].iloc[0], curve["loss_high"].iloc[0]) == (7e6, 10e6)
    assert (curve["loss_low"].iloc[4], curve["loss_high"].iloc[4]) == (2e6, 9e6)
    # Return periods read off the curve: 5 years is rank 2 (9 M, TVaR mean(10, 9)); 10 years is
    # rank 1; 4 years is rank 2.5, interpolated in return period between 9 (5 yr) and 8 (3.33 yr).
    assert losses.loss_at(ylt["loss_usd"], 5) == pytest.approx((9e6, 9.5e6))
    assert losses.loss_at(ylt["loss_usd"], 10) == pytest.approx((10e6, 10e6))
    assert losses.loss_at(ylt["loss_usd"], 4) == pytest.approx(
        (8.4e6, (10 + 9 + 0.5 * 8) / 2.5 * 1e6)
    )
    assert losses.loss_at(ylt["loss_usd"], 1) == pytest.approx((1e6, 5.5e6))
    table = losses.return_period_table(ylt, periods=(5, 10, 25))
    assert list(table.columns) == [c.name for c in RETURN_PERIOD_COLUMNS]
    aep = table[(table["measure"] == "revenue_usd") & (table["curve"] == "AEP")]
    aep = aep.set_index("return_period")
    assert aep.loc[5, "loss"] == pytest.approx(9e6) and aep.loc[10, "loss"] == pytest.approx(10e6)
    # Beyond the simulated years: the largest loss, flagged.
    assert aep.loc[25, "loss"] == pytest.approx(10e6) and bool(aep.loc[25, "extrapolated"])
    assert not bool(aep.loc[10, "extrapolated"])
    vol = table[(table["measure"] == "volume_mt") & (table["curve"] == "AEP")]
    assert vol.set_index("return_period").loc[5, "loss"] == pytest.approx(0.9)
    assert losses.pml(ylt, 10) == pytest.approx(10e6)
    assert losses.pml(ylt, 5, "volume_mt") == pytest.approx(0.9)
    # Every point of the curve is its own return-period loss.
    for k in range(1, 11):
        assert losses.loss_at(ylt["loss_usd"], 10 / k)[0] == pytest.approx(
            curve["loss"].iloc[k - 1]
        )


def test_ylt_volume_is_the_paired_shut_in():
    ylt = losses.year_loss_table(_reps([1.0, 2.0], [0.25, 0.5]))
    assert ylt["volume_lost_mt"].tolist() == [0.25, 0.5]
    assert list(ylt.columns) == [c.name for c in YLT_COLUMNS]


def test_aal_is_the_mean_of_the_ylt_and_tvar_dominates_var():
    rng = np.random.default_rng(0)
    x = rng.lognormal(3, 1.2, size=500)
    ylt = losses.year_loss_table(_reps(x, x / 100))
    a = losses.aal(ylt)
    assert a["aal"] == pytest.approx(x.mean())
    assert a["se"] == pytest.approx(x.std(ddof=1) / np.sqrt(500))
    assert losses.aal(ylt, "volume_mt")["aal"] == pytest.approx(x.mean() / 100)
    for rp in losses.RETURN_PERIODS:
        var, tvar = losses.loss_at(x, rp)
        assert tvar >= var
    tab = losses.aal_table(ylt).set_index("measure")
    assert tab.loc["revenue_usd", "aal"] == pytest.approx(x.mean())
    assert tab.loc["revenue_usd", "pml_100"] == pytest.approx(losses.loss_at(x, 100)[0])
    assert tab.loc["volume_mt", "ci95_high"] > tab.loc["volume_mt", "aal"]


def test_aal_standard_error_is_between_replications():
    # Two replications of two years: [1, 3] and [5, 7]; AAL 4 from replication means 2 and 6,
    # whose standard error is std([2, 6]) / sqrt(2) = 2 (not the 4 rows' 1.29).
    ylt = pd.DataFrame(
        {
            "replication": [0, 0, 1, 1],
            "year": [0, 1, 0, 1],
            "loss_usd": [1.0, 3.0, 5.0, 7.0],
            "volume_lost_mt": 0.0,
        }
    )
    a = losses.aal(ylt)
    assert (a["aal"], a["n"], a["years"]) == (4.0, 2, 4)
    assert a["se"] == pytest.approx(2.0)


def test_elt_allocates_each_years_loss_to_its_events_and_oep_below_aep():
    reps = _reps([100.0, 50.0, 0.0], [1.0, 0.5, 0.0])
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
    assert list(elt.columns) == [c.name for c in ELT_COLUMNS]
    assert len(elt) == 4  # common-cause records merged, ineffective event dropped
    assert elt["hazard"].dtype == "string" and elt["cause"].dtype == "string"
    per_year = elt.groupby("replication")["loss_usd"].sum()
    assert per_year.loc[0] == pytest.approx(100.0) and per_year.loc[1] == pytest.approx(50.0)
    first = elt[(elt["replication"] == 0)].set_index("event")
    assert first.loc[0, "loss_usd"] == pytest.approx(75.0)
    assert first.loc[1, "loss_usd"] == pytest.approx(25.0)
    assert first.loc[0, "volume_lost_mt"] == pytest.approx(0.75)
    assert first.loc[1, "window_loss_usd"] == pytest.approx(10.0)
    assert first.loc[1, "assets"] == "p,q"
    # Year 1 has no window loss: its loss is split by duration (4 and 12 days).
    second = elt[(elt["replication"] == 1)].set_index("event")["loss_usd"]
    assert second.loc[0] == pytest.approx(12.5) and second.loc[1] == pytest.approx(37.5)
    ylt = losses.year_loss_table(reps, elt)
    assert ylt["max_event_loss_usd"].tolist() == pytest.approx([75.0, 37.5, 0.0])
    assert ylt["max_event_volume_lost_mt"].tolist() == pytest.approx([0.75, 0.375, 0.0])
    assert ylt["n_events"].tolist() == [2, 2, 0]
    aep = np.sort(ylt["loss_usd"].to_numpy())
    oep = np.sort(ylt["max_event_loss_usd"].to_numpy())
    assert (oep <= aep + 1e-9).all()


def test_convergence_table_ends_at_the_full_mean():
    x = np.arange(1.0, 101.0)
    tab = losses.convergence_table(losses.year_loss_table(_reps(x)))
    assert list(tab.columns) == [c.name for c in CONVERGENCE_COLUMNS]
    assert tab["replications"].iloc[-1] == 100
    assert tab["mean"].iloc[-1] == pytest.approx(x.mean())
    assert tab["ci95_half"].iloc[-1] == pytest.approx(1.959964 * x.std(ddof=1) / 10, rel=1e-5)
    # The first 10 replications (1..10) have mean 5.5.
    first = tab[tab["replications"] == 10]
    assert len(first) == 0 or first["mean"].iloc[0] == pytest.approx(5.5)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    cfg = sim.load_config("tests/data/small.yaml")
    cfg = cfg.model_copy(
        update={"run": cfg.run.model_copy(update={"timeseries": True, "horizon_days": 120.0})}
    )
    return sim.run(
        cfg, replications=12, seed=2, executor="serial", out=tmp_path_factory.mktemp("r") / "run"
    )


@pytest.fixture
def no_simulation(monkeypatch):
    """Make any attempt to simulate fail: outputs must come from stored results only."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("outputs must not re-simulate")

    monkeypatch.setattr(sim.replication.runner.Model, "simulate", refuse)
    monkeypatch.setattr(sim.replication.runner.Model, "run_raw", refuse)


def test_figure_functions_return_figures_with_content(small_run, no_simulation):
    figs = [
        small_run.plot.loss_histogram(),
        small_run.plot.loss_histogram("volume_mt"),
        small_run.plot.ep_curves(),
        small_run.plot.ep_curves("volume_mt"),
        small_run.plot.spare_capacity(),
        small_run.plot.event_scatter(),
        small_run.plot.convergence(),
        small_run.plot.fan_storage(),
        small_run.plot.fan_flows(),
    ]
    for fig in figs:
        ax = fig.axes[0]
        assert ax.lines or ax.patches or ax.collections
        # Small multiples label the outer axes only.
        assert any(a.get_xlabel() for a in fig.axes) and any(a.get_ylabel() for a in fig.axes)
        close(fig)


def test_figures_label_units():
    ylt = losses.year_loss_table(_reps(np.arange(1, 41) * 1e7, np.arange(1, 41) / 10))
    fig = plots.ep_curves(ylt)
    ax = fig.axes[0]
    assert "USD million" in ax.get_ylabel() and "years" in ax.get_xlabel()
    assert ax.get_xscale() == "log"
    # 40 years: the 10-year loss (rank 4, 370 M) is on the AEP curve, in USD million.
    x, y = ax.lines[0].get_data()
    assert y[list(x).index(10.0)] == pytest.approx(370.0)
    close(fig)
    fig = plots.loss_histogram(ylt, "volume_mt")
    assert "(Mt)" in fig.axes[0].get_xlabel()
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any(t.startswith("CVaR 99%") for t in labels) and any(
        t.startswith("mean") for t in labels
    )
    close(fig)


def test_run_result_loss_accessors_agree(small_run):
    ylt = small_run.ylt()
    mean_loss = small_run.replications["revenue_loss_usd"].mean()
    assert small_run.aal()["aal"] == pytest.approx(mean_loss)
    assert small_run.aal("volume_mt")["aal"] == pytest.approx(
        small_run.replications["offset_shut_in_mt"].mean()
    )
    assert (ylt["days"] == 120.0).all()
    assert len(small_run.ep_curve("aep")) == len(ylt)
    assert len(small_run.ep_curve("oep", "volume_mt")) == len(ylt)
    rp = small_run.return_periods()
    assert (rp["tvar"] >= rp["loss"] - 1e-9).all()
    assert small_run.pml(10) == pytest.approx(losses.pml(ylt, 10))
    assert set(small_run.aal_table()["measure"]) == {"revenue_usd", "volume_mt"}
    assert small_run.convergence()["replications"].iloc[-1] == 12
    res = small_run.resilience()
    assert len(res) and (res["events"] > 0).all()
    ledger = small_run.offset_ledger().set_index("item")["mean_mt_per_year"]
    parts = ledger.iloc[1:4].sum()
    assert ledger.loc["blocked"] == pytest.approx(parts, abs=1e-9)


def test_cli_losses_and_plot(small_run, capsys, no_simulation):
    from sim.cli.main import main

    assert main(["losses", str(small_run.path)]) == 0
    out = capsys.readouterr().out
    assert "AAL revenue_usd:" in out and "AAL volume_mt:" in out
    tables = small_run.path / "tables"
    for name in ("ylt.parquet", "elt.parquet", "aal.csv", "return_periods.csv", "aep.csv"):
        assert (tables / name).is_file(), name
    for name in ("oep.csv", "convergence.csv", "resilience.csv", "offset_ledger.csv"):
        assert (tables / name).is_file(), name
    rp = pd.read_csv(tables / "return_periods.csv")
    assert set(rp["measure"]) == {"revenue_usd", "volume_mt"} and set(rp["curve"]) == {"AEP", "OEP"}
    assert main(["plot", str(small_run.path)]) == 0
    names = {p.stem for p in (small_run.path / "figures").glob("*.png")}
    assert {
        "loss_histogram",
        "ep_curves",
        "ep_curves_volume",
        "spare_capacity",
        "event_scatter",
        "convergence",
        "fan_storage",
        "fan_flows",
    } <= names
    for p in (small_run.path / "figures").iterdir():
        assert p.stat().st_size > 2000, p


def test_report_is_self_contained(small_run, no_simulation):
    from sim.cli.main import main

    assert main(["report", str(small_run.path)]) == 0
    text = (small_run.path / "report.html").read_text()
    assert text.count("data:image/png;base64,") == 8  # six figures and two fan charts
    assert "http://" not in text and "https://" not in text and "<script" not in text
    assert small_run.manifest["config_hash"] in text and "Assumptions and sources" in text
    for heading in (
        "Average annual loss and PML",
        "Losses at return periods",
        "Largest years",
        "Largest events",
        "Convergence",
        "Resilience",
        "Offset ledger",
    ):
        assert heading in text, heading
    assert "shorter than a year" in text  # the 120-day horizon is flagged


def test_return_periods_are_chosen_and_checked(small_run, capsys, no_simulation):
    from sim.base.errors import InputError
    from sim.cli.main import main

    rp = small_run.return_periods((100, 5, 10, 10.0))
    assert sorted(set(rp["return_period"])) == [5, 10, 100] and len(rp) == 3 * 4
    assert periods.parse_return_periods(" 25, 5") == (5, 25)
    for bad in ((0,), (2.5,), (True,), (), (5, 2_000_000), "5,10", (float("nan"),)):
        with pytest.raises(InputError, match="^return_periods: expected up to 100 whole"):
            small_run.return_periods(bad)
    path = str(small_run.path)
    assert main(["losses", path, "--return-periods", "5,10,100"]) == 0
    table = pd.read_csv(small_run.path / "tables" / "return_periods.csv")
    assert sorted(set(table["return_period"])) == [5, 10, 100]
    capsys.readouterr()
    for bad in ("5,x", "0", "1e3", ""):
        assert main(["losses", path, "--return-periods", bad]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: --return-periods: expected") and err.count("\n") == 1, err
