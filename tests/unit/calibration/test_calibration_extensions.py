"""Calibration extensions: windows, regime split, seasonal shrinkage, effects, report, CLI."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from sim.calibration import (
    COLUMNS,
    fit_effect,
    fit_groups,
    fit_seasonal,
    groups_table,
    hazard_entry,
    load_catalog,
    observation_windows,
)
from sim.calibration.seasonal import MONTH_DAYS
from sim.calibration.survival import kaplan_meier
from sim.cli.main import main
from sim.config.models import Hazard

ROOT = Path(__file__).resolve().parents[3]
SEED_CATALOG = ROOT / "seeds" / "disruption_events.csv"


def _catalog(rows: list[dict]) -> pd.DataFrame:
    """A typed catalog from partial rows (defaults fill the other columns)."""
    base = {
        "end_date": "",
        "duration_days": "2",
        "end_is_censored": "false",
        "asset": "pipe",
        "cause_class": "technical",
        "capacity_lost_fraction": "1.0",
        "berths_lost": "",
        "volume_lost_mt": "",
        "source_url": "u",
        "notes": "",
    }
    full = [{**base, "event_id": f"E{i:03d}", **r} for i, r in enumerate(rows)]
    raw = pd.DataFrame(full)[list(COLUMNS)]
    from sim.calibration import validate_catalog

    return validate_catalog(raw)


# --------------------------------------------------------------------------- windows


def test_default_window_is_catalog_wide():
    df = load_catalog(SEED_CATALOG)
    w = observation_windows(df)
    assert (w["basis"] == "catalog-wide").all()
    years = (pd.Timestamp("2026-01-28") - pd.Timestamp("2004-01-31")).days / 365.25
    assert w["exposure_years"].to_numpy() == pytest.approx(years)
    # Tengiz's only event (E44) is 10 days before the catalog ends: its rate must not blow up.
    small = df[(df["asset"] == "tengiz") | (df["event_id"] == "E01")].reset_index(drop=True)
    fits = {(f.asset, f.cause): f for f in fit_groups(small)}
    tengiz = fits[("tengiz", "technical")]
    assert tengiz.rate.rate_per_year == pytest.approx(1 / years)
    old = {(f.asset, f.cause): f for f in fit_groups(small, window_start="asset")}
    assert old[("tengiz", "technical")].rate.rate_per_year > 30  # the old default: 36.5/yr


def test_explicit_window_counts_only_events_inside():
    df = _catalog(
        [{"start_date": d} for d in ("2010-05-01", "2020-03-01", "2021-06-01", "2022-01-01")]
        + [{"start_date": "2023-01-01", "asset": "other"}]
    )
    windows = {"pipe": (pd.Timestamp("2020-01-01"), None)}
    (_other, fit) = fit_groups(df, windows=windows)
    assert fit.basis == "given" and fit.n == 4 and fit.n_in_window == 3
    assert fit.rate.exposure_years == pytest.approx(
        (pd.Timestamp("2023-01-01") - pd.Timestamp("2020-01-01")).days / 365.25
    )
    assert "1 event(s) outside the window" in "; ".join(fit.notes)


# --------------------------------------------------------------------------- regime split


def test_split_rates_multipliers_and_exact_test():
    starts = ["2012-01-01", "2016-01-01", "2022-06-01", "2023-01-01", "2023-06-01", "2024-01-01"]
    df = _catalog([{"start_date": s, "cause_class": "military"} for s in starts])
    (fit,) = fit_groups(df, as_of="2025-02-24", split_date="2022-02-24")
    sp = fit.split
    t_before = (pd.Timestamp("2022-02-24") - pd.Timestamp("2012-01-01")).days / 365.25
    t_after = (pd.Timestamp("2025-02-24") - pd.Timestamp("2022-02-24")).days / 365.25
    assert sp.before.n_events == 2 and sp.after.n_events == 4
    assert sp.before.rate_per_year == pytest.approx(2 / t_before)
    assert sp.after.rate_per_year == pytest.approx(4 / t_after)
    p = stats.binomtest(4, 6, t_after / (t_after + t_before)).pvalue
    assert sp.pvalue == pytest.approx(p)
    entry = hazard_entry(fit, "test")
    assert entry["arrivals"]["rate_per_year"] == pytest.approx(4 / t_after, rel=1e-5)
    ratio = (2 / t_before) / (4 / t_after)
    assert entry["regime_multipliers"] == {"conflict": 1.0, "calm": pytest.approx(ratio, 1e-3)}
    assert entry["rate_uncertainty"] == {
        "events": 4,
        "exposure_years": pytest.approx(t_after, rel=1e-5),
    }
    Hazard.model_validate(entry)
    # only the named causes are split
    (fit,) = fit_groups(df, split_date="2022-02-24", split_causes=["weather"])
    assert fit.split is None and "regime_multipliers" not in hazard_entry(fit, "t")


def test_split_with_no_event_after_keeps_the_old_rate():
    df = _catalog([{"start_date": "2015-01-01"}, {"start_date": "2019-01-01"}])
    (fit,) = fit_groups(df, as_of="2024-01-01", split_date="2022-02-24")
    entry = hazard_entry(fit, "t")
    assert entry["regime_multipliers"] == {"calm": 1.0, "conflict": 0.0}
    assert entry["rate_uncertainty"]["events"] == 2


# --------------------------------------------------------------------------- seasonal


def test_seasonal_limits_and_normalisation():
    w0, w1 = pd.Timestamp("2000-01-01"), pd.Timestamp("2010-01-01")
    starts = ["2001-01-10", "2003-01-05", "2005-02-01", "2007-12-24"]
    raw = fit_seasonal(starts, w0, w1, prior_events=0)
    flat = fit_seasonal(starts, w0, w1, prior_events=1e9)
    for s in (raw, fit_seasonal(starts, w0, w1)):
        assert np.sum(s.multipliers * MONTH_DAYS) / MONTH_DAYS.sum() == pytest.approx(1.0)
    assert raw.counts.tolist() == [2, 1] + [0] * 9 + [1]
    assert raw.multipliers[3:11] == pytest.approx(0.0, abs=1e-12)
    assert raw.multipliers[0] / raw.multipliers[1] == pytest.approx(
        (2 / raw.exposure_years[0]) / (1 / raw.exposure_years[1])
    )
    assert flat.multipliers == pytest.approx(np.ones(12), abs=1e-6)
    shrunk = fit_seasonal(starts, w0, w1)
    assert 0 < shrunk.multipliers[5] < 1 < shrunk.multipliers[0] < raw.multipliers[0]
    assert "mostly flat" in shrunk.note and fit_seasonal(starts * 4, w0, w1).note == ""


def test_seasonal_recovers_a_known_profile():
    """Events from a seasonal Poisson process: the fit is within a few SEs of the truth."""
    rng = np.random.default_rng(3)
    truth = np.array([2.4, 2.4, 2.4, 0, 0, 0, 0, 0, 0, 0, 2.4, 2.4]) * (365.25 / 151.25 / 2.4)
    days = pd.date_range("1900-01-01", "2020-01-01", inclusive="left")
    rate = 3.0 / 365.25 * truth[days.month - 1]
    hits = rng.random(len(days)) < rate
    fit = fit_seasonal(pd.Series(days[hits]), days[0], pd.Timestamp("2020-01-01"))
    n = fit.n
    assert n > 300
    winter = fit.counts[[0, 1, 2, 10, 11]].sum() / n
    assert winter > 0.97
    for m in range(12):
        se = math.sqrt(max(truth[m], 0.05) / (n / 12))
        assert abs(fit.multipliers[m] - truth[m]) < 4 * se, (m, fit.multipliers[m], truth[m])


# --------------------------------------------------------------------------- effects


def test_effects_from_rows():
    rows = _catalog(
        [
            {"start_date": "2020-01-01", "capacity_lost_fraction": "0.5", "berths_lost": "2"},
            {"start_date": "2021-01-01", "capacity_lost_fraction": "0.0", "berths_lost": "0"},
            {"start_date": "2022-01-01", "capacity_lost_fraction": "0.67", "berths_lost": "2"},
            {"start_date": "2023-01-01", "capacity_lost_fraction": "0.3", "berths_lost": "1"},
        ]
    )
    e = fit_effect(rows, "terminal")
    assert e.effect == {"berths_lost": 2, "probability": 0.75} and e.n == 4
    e = fit_effect(rows, "pipeline")
    assert e.effect == {
        "capacity_lost": {"dist": "uniform", "low": 0.3, "high": 0.67},
        "probability": 0.75,
    }
    assert fit_effect(rows, "shuttle").effect == {}
    full = _catalog([{"start_date": "2020-01-01"}, {"start_date": "2021-01-01"}])
    assert fit_effect(full, "pipeline").effect == {}
    none = _catalog([{"start_date": "2020-01-01", "capacity_lost_fraction": ""}])
    e = fit_effect(none, "pipeline")
    assert e.effect == {} and e.basis == "default"


def test_fitted_hazards_carry_effects_and_evidence():
    df = load_catalog(SEED_CATALOG)
    kinds = {"cpc_terminal": "terminal", "cpc_pipeline": "pipeline", "caspian_shuttle": "shuttle"}
    fits = fit_groups(df, model_assets=kinds, asset_map={"cpc_spm": "cpc_terminal"})
    by = {f.hazard_id: hazard_entry(f, "cat") for f in fits if f.hazard_id}
    assert by["cpc_spm_maintenance"]["effect"] == {"berths_lost": 1}
    assert by["cpc_spm_technical"]["effect"] == {"berths_lost": 2}
    assert by["cpc_pipeline_military"]["effect"] == {"capacity_lost": 0.1, "probability": 0.5}
    assert "effect" not in by["caspian_shuttle_weather"]
    for h in by.values():
        Hazard.model_validate(h)
        assert h["rate_uncertainty"]["events"] >= 1
    table = groups_table(fits)
    assert {"n_in_window", "n_durations", "n_effect", "window_basis"} <= set(table.columns)


# --------------------------------------------------------------------------- Kaplan-Meier


def test_kaplan_meier_known_values():
    km = kaplan_meier([1, 2, 2, 3, 4], [False, False, True, False, True])
    # at 1: 5 at risk, 1 done; at 2: 4 at risk, 1 done (the censored 2 still at risk); at 3: 2, 1
    assert km.times.tolist() == [1, 2, 3]
    assert km.at_risk.tolist() == [5, 4, 2]
    assert km.survival == pytest.approx([0.8, 0.6, 0.3])
    assert km.cdf([0.5, 1, 2.5, 10]) == pytest.approx([0, 0.2, 0.4, 0.7])
    gw = 0.8**2 * (1 / (5 * 4))
    assert km.se[0] == pytest.approx(math.sqrt(gw))
    x = np.array([3.0, 1.0, 2.0, 5.0])
    km = kaplan_meier(x, np.zeros(4, bool))
    assert km.cdf(x) == pytest.approx([0.75, 0.25, 0.5, 1.0])
    assert kaplan_meier([4.0], [True]).cdf(10.0) == pytest.approx([0.0])


# --------------------------------------------------------------------------- command line


def test_cli_calibrate_extensions_and_report(tmp_path, capsys):
    out = tmp_path / "fit.yaml"
    args = ["calibrate", str(SEED_CATALOG), "--out", str(out), "--map", "cpc_spm=cpc_terminal"]
    args += ["--split-date", "2022-02-24", "--split-causes", "military,regulatory,political"]
    args += ["--seasonal", "--window", "kcp=2006-07-01"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "report:" in printed
    hazards = yaml.safe_load(out.read_text())["hazards"]
    assert hazards["cpc_spm_military"]["regime_multipliers"] == {"conflict": 1.0, "calm": 0.0}
    assert "regime_multipliers" not in hazards["cpc_terminal_weather"]
    assert len(hazards["cpc_terminal_weather"]["arrivals"]["monthly_multipliers"]) == 12
    assert "2006-07-01" in hazards["kcp_quality"]["source"]
    report = tmp_path / "fit_report"
    html = (report / "report.html").read_text()
    assert "n &lt; 5" in html and "class='banner warn'" in html
    assert html.count("data:image/png;base64,") == 1
    assert (report / "duration_cdfs.png").stat().st_size > 10_000
    assert len(pd.read_csv(report / "groups.csv")) == 25


@pytest.mark.parametrize(
    "extra, where",
    [
        (["--window", "kcp"], "--window"),
        (["--window", "kcp=2020-01-01:2019-01-01"], "--window"),
        (["--split-date", "2022-02-31"], "--split-date"),
        (["--split-date", "2022-02-24", "--split-regimes", "peace,war"], "--split-regimes"),
        (["--split-date", "2022-02-24", "--split-causes", "aliens"], "--split-causes"),
        (["--season-prior", "-1"], "--season-prior"),
        (["--window", "mars=2020-01-01"], "--window"),
        (["--map", "cpc_spm=novorossiysk_tanks"], "--map"),
        (["--map", "cpc_smp=cpc_terminal"], "--map"),  # misspelt catalog asset
    ],
)
def test_cli_calibrate_bad_options(tmp_path, capsys, extra, where):
    out = tmp_path / "fit.yaml"
    assert main(["calibrate", str(SEED_CATALOG), "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert where in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and not (tmp_path / "fit_report").exists()
