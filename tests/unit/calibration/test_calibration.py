"""Hazard calibration: catalog validation, rate and duration fits, the calibrate command."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from sim.base.errors import InputError
from sim.calibration import (
    CATALOG_ASSETS,
    COLUMNS,
    calibrate,
    duration_config,
    fit_duration,
    fit_rate,
    load_catalog,
    observation_windows,
)
from sim.calibration.fit import MIN_DURATION_DAYS
from sim.cli.main import main
from sim.config.models import Hazard

ROOT = Path(__file__).resolve().parents[3]
SEED_CATALOG = ROOT / "seeds" / "disruption_events.csv"
MODEL_ASSETS = {
    "cpc_terminal", "cpc_spm", "cpc_pipeline", "novorossiysk_transneft", "atyrau_samara", "kcp",
    "btc", "baku_supsa", "caspian_shuttle", "tengiz", "kashagan", "karachaganak",
    "black_sea_shipping",
}  # fmt: skip

HEADER = ",".join(COLUMNS)
GOOD = "E01,2020-01-01,2020-01-05,4,false,btc,weather,1.0,,,http://x,ok"


def _write(tmp_path: Path, rows: list[str], name: str = "cat.csv") -> Path:
    p = tmp_path / name
    p.write_text("\n".join([HEADER, *rows]) + "\n")
    return p


# --------------------------------------------------------------------------- rate


def test_rate_exact_ci_coverage():
    rng = np.random.default_rng(20240601)
    trials, rate = 400, 2.0
    exposure = rng.uniform(5.0, 30.0, trials)
    counts = rng.poisson(rate * exposure)
    covered = 0
    for n, t in zip(counts, exposure):
        f = fit_rate(int(n), float(t))
        assert f.lower <= f.rate_per_year <= f.upper
        covered += f.lower <= rate <= f.upper
    coverage = covered / trials
    se = math.sqrt(0.95 * 0.05 / trials)
    assert abs(coverage - 0.95) < 3 * se, coverage


def test_rate_zero_events_and_known_values():
    f = fit_rate(0, 10.0)
    assert f.rate_per_year == 0.0 and f.lower == 0.0
    # Garwood upper bound for n = 0 is -ln(0.025) / T
    assert f.upper == pytest.approx(-math.log(0.025) / 10.0, rel=1e-9)
    f = fit_rate(8, 4.0, confidence=0.9)
    assert f.rate_per_year == 2.0
    assert f.lower == pytest.approx(stats.chi2.ppf(0.05, 16) / 8)
    assert f.upper == pytest.approx(stats.chi2.ppf(0.95, 18) / 8)
    with pytest.raises(ValueError):
        fit_rate(3, 0.0)
    with pytest.raises(ValueError):
        fit_rate(-1, 1.0)


# --------------------------------------------------------------------------- durations


def _censored_sample(dist, n: int, seed: int):
    """Draw n durations; half the events (chosen at random) get an independent censoring time
    from the same distribution, so about 25% end up right-censored."""
    rng = np.random.default_rng(seed)
    t = dist.rvs(size=n, random_state=rng)
    c = np.where(rng.random(n) < 0.5, dist.rvs(size=n, random_state=rng), np.inf)
    cens = c < t
    return np.minimum(t, c), cens


def test_lognormal_recovered_with_censoring():
    sigma, median = 0.8, 10.0
    obs, cens = _censored_sample(stats.lognorm(sigma, scale=median), 400, seed=11)
    assert 0.18 < cens.mean() < 0.32
    res = fit_duration(obs, cens)
    assert res.best == "lognormal"
    fit = res.fits["lognormal"]
    assert fit.n == 400 and fit.n_censored == int(cens.sum())
    r = fit.n - fit.n_censored  # censored rows carry some information: n_uncensored is conservative
    se_log_median, se_sigma = sigma / math.sqrt(r), sigma / math.sqrt(2 * r)
    assert abs(math.log(fit.params["median_days"] / median)) < 4 * se_log_median
    assert abs(fit.params["sigma"] - sigma) < 4 * se_sigma
    assert fit.aic == pytest.approx(4 - 2 * fit.loglik)
    assert 0 <= fit.ks_stat < 1
    assert duration_config(fit) == {
        "dist": "lognormal",
        "median_days": pytest.approx(fit.params["median_days"], rel=1e-5),
        "sigma": pytest.approx(fit.params["sigma"], rel=1e-5),
    }


def test_exponential_recovered_with_censoring():
    mean = 5.0
    obs, cens = _censored_sample(stats.expon(scale=mean), 400, seed=12)
    res = fit_duration(obs, cens)
    assert res.best == "exponential"
    fit = res.chosen
    r = fit.n - fit.n_censored
    assert abs(fit.params["mean_days"] - mean) < 4 * mean / math.sqrt(r)
    # censored MLE of the exponential is total time / completed events (tiny durations floored)
    assert fit.params["mean_days"] == pytest.approx(np.maximum(obs, MIN_DURATION_DAYS).sum() / r)
    assert duration_config(fit)["dist"] == "exponential"


def test_weibull_recovered_with_censoring():
    shape, scale = 2.0, 10.0
    obs, cens = _censored_sample(stats.weibull_min(shape, scale=scale), 400, seed=13)
    res = fit_duration(obs, cens)
    assert res.best == "weibull"
    fit = res.chosen
    r = fit.n - fit.n_censored
    # asymptotic SEs of the Weibull MLE: sd(k) = 0.78 k / sqrt(n),
    # sd(log lambda) = 1.053 / (k sqrt(n))
    assert abs(fit.params["shape"] - shape) < 4 * 0.78 * shape / math.sqrt(r)
    assert abs(math.log(fit.params["scale_days"] / scale)) < 4 * 1.053 / (shape * math.sqrt(r))
    cfg = duration_config(fit)
    assert set(cfg) == {"dist", "shape", "scale_days"}


def test_censoring_matters():
    sigma, median = 0.8, 10.0
    truth = stats.lognorm(sigma, scale=median).mean()
    obs, cens = _censored_sample(stats.lognorm(sigma, scale=median), 400, seed=14)
    with_cens = fit_duration(obs, cens, families=("lognormal",)).chosen.mean()
    dropped = fit_duration(obs[~cens], cens[~cens], families=("lognormal",)).chosen.mean()
    assert dropped < truth
    assert abs(with_cens - truth) < abs(dropped - truth)


def test_fallbacks_and_zero_durations():
    res = fit_duration([4.0, 6.0], [False, True])
    assert res.best == "exponential" and list(res.fits) == ["exponential"]
    assert res.chosen.params["mean_days"] == pytest.approx(10.0)
    assert "fallback" in res.chosen.note
    res = fit_duration([26.0], [True])
    assert res.chosen.params["mean_days"] == pytest.approx(26.0)
    assert "lower bound" in res.chosen.note
    res = fit_duration([0.0, 0.2, float("nan"), 3.0], [False, False, True, False])
    assert res.chosen.n == 3 and np.isfinite(res.chosen.loglik)
    with pytest.raises(ValueError):
        fit_duration([float("nan")], [True])
    with pytest.raises(ValueError):
        fit_duration([1.0, 2.0], [False, False], families=("pareto",))


# --------------------------------------------------------------------------- catalog


def test_shipped_catalog_loads():
    df = load_catalog(SEED_CATALOG, MODEL_ASSETS)
    assert len(df) == 44
    assert df["start_date"].dtype.kind == "M" and df["end_date"].dtype.kind == "M"
    assert df["end_is_censored"].dtype == bool
    assert df["asset"].dtype == "string" and df["cause_class"].dtype == "string"
    assert df["berths_lost"].dtype == "Int64"
    assert df["csv_line"].tolist() == list(range(2, 46))
    e01 = df.set_index("event_id").loc["E01"]
    assert bool(e01["end_is_censored"]) and math.isnan(e01["duration_days"])
    assert set(df["asset"]) <= CATALOG_ASSETS


def test_duration_filled_from_dates(tmp_path):
    p = _write(tmp_path, ["E01,2020-01-01,2020-01-05,,false,btc,weather,1.0,,,u,n"])
    assert load_catalog(p)["duration_days"].tolist() == [4.0]


def test_malformed_rows_all_reported(tmp_path):
    rows = [
        GOOD,  # line 2
        "E02,2022-13-01,,3,false,btc,weather,1.0,,,u,bad date",  # line 3
        "E03,2022-05-10,2022-05-01,,false,btc,weather,1.0,,,u,end before start",  # line 4
        "E04,2022-05-01,2022-05-03,2,false,mars_pipeline,weather,1.0,,,u,unknown asset",  # 5
        "E05,2022-05-01,2022-05-03,2,false,btc,aliens,1.0,,,u,bad cause",  # line 6
        "E06,2022-05-01,2022-05-03,2,false,btc,weather,1.5,,,u,fraction",  # line 7
        'E07,2022-05-01,,-2,maybe,btc,weather,0.5,,,u,"multi\nline note"',  # line 8-9
        "E08,2022-05-01,,x,true,btc,weather,0.5,,,u,after a quoted newline",  # line 10
        "E09,2022-05-01,,1e9,false,btc,weather,0.5,,,u,past any calendar",  # line 11
    ]
    p = _write(tmp_path, rows)
    with pytest.raises(InputError) as info:
        load_catalog(p, MODEL_ASSETS)
    msg = str(info.value)
    paths = {pr.path for pr in info.value.problems}
    assert paths == {
        "line 3: start_date",
        "line 4: end_date",
        "line 5: asset",
        "line 6: cause_class",
        "line 7: capacity_lost_fraction",
        "line 8: duration_days",
        "line 8: end_is_censored",
        "line 10: duration_days",
        "line 11: duration_days",
    }
    assert "expected at most 36525 days (got 1e9)" in msg
    assert "not a date (got '2022-13-01')" in msg
    assert "mars_pipeline" in msg and "aliens" in msg and "1.5" in msg
    assert msg.startswith(str(p))
    # without known assets the unknown asset is accepted
    with pytest.raises(InputError) as info:
        load_catalog(p)
    assert "line 5: asset" not in {pr.path for pr in info.value.problems}


def test_missing_column(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("event_id,start_date\nE01,2020-01-01\n")
    with pytest.raises(InputError, match="missing required column"):
        load_catalog(p)


def test_observation_windows():
    df = load_catalog(SEED_CATALOG)
    w = observation_windows(df)
    assert (w["window_end"] == pd.Timestamp("2026-01-28")).all()
    assert w.loc["atyrau_samara", "window_start"] == pd.Timestamp("2004-01-31")
    w = observation_windows(df, as_of="2026-12-31", start="catalog")
    assert (w["window_start"] == pd.Timestamp("2004-01-31")).all()
    assert w.loc["btc", "exposure_years"] == pytest.approx(
        (pd.Timestamp("2026-12-31") - pd.Timestamp("2004-01-31")).days / 365.25
    )
    with pytest.raises(ValueError):
        observation_windows(df, as_of="2010-01-01", start="asset")


def test_calibrate_table_and_hazards():
    df = load_catalog(SEED_CATALOG)
    table, out = calibrate(
        df, model_assets={"cpc_terminal", "btc"}, asset_map={"cpc_spm": "cpc_terminal"}
    )
    assert len(table) == df.groupby(["asset", "cause_class"]).ngroups
    assert table["n"].sum() == 44
    storms = table.set_index(["asset", "cause"]).loc[("cpc_terminal", "weather")]
    assert storms["n"] == 8 and not storms["small_sample"]
    assert storms["rate_per_year"] == pytest.approx(8 / storms["years"])
    hz = out["hazards"]
    assert "cpc_terminal_weather" in hz and "btc_quality" in hz
    assert hz["cpc_spm_maintenance"]["assets"] == ["cpc_terminal"]
    assert "kcp_quality" not in hz  # not a model asset here and not mapped
    assert "not a model asset" in table.set_index("hazard_id", drop=False).loc[""].note.iloc[0]
    for h in hz.values():
        Hazard.model_validate(h)


# --------------------------------------------------------------------------- command line


def test_cli_calibrate(tmp_path, capsys):
    out = tmp_path / "h.yaml"
    assert main(["calibrate", str(SEED_CATALOG), "--out", str(out), "--no-report"]) == 0
    printed = capsys.readouterr().out
    assert "cpc_terminal" in printed and "SMALL SAMPLE" in printed
    text = out.read_text()
    assert text.startswith("# Hazards FITTED")
    hazards = yaml.safe_load(text)["hazards"]
    assert len(hazards) >= 10
    for h in hazards.values():
        Hazard.model_validate(h)
        assert h["source"].startswith("fitted from disruption_events.csv")


def test_cli_calibrate_bad_input(tmp_path, capsys):
    bad = _write(tmp_path, [GOOD, "E02,2022-13-01,,3,false,btc,weather,1.5,,,u,n"])
    out = tmp_path / "h.yaml"
    assert main(["calibrate", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "line 3: start_date" in err and "line 3: capacity_lost_fraction" in err
    assert "Traceback" not in err
    assert not out.exists()
    assert main(["calibrate", str(SEED_CATALOG), "--out", str(out), "--as-of", "2026-02-30"]) == 2
    assert main(["calibrate", str(tmp_path / "missing.csv"), "--out", str(out)]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_lognormal_uncensored_matches_closed_form_mle():
    x = stats.lognorm(0.8, scale=10.0).rvs(size=200, random_state=np.random.default_rng(5))
    fit = fit_duration(x, np.zeros(len(x), bool), families=("lognormal",)).chosen
    logs = np.log(x)
    assert fit.params["median_days"] == pytest.approx(math.exp(logs.mean()), rel=1e-5)
    assert fit.params["sigma"] == pytest.approx(logs.std(), rel=1e-5)
