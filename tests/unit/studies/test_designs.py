"""Designs (factorial, Latin hypercube, Saltelli), Sobol' indices and the EMA archive format."""

from __future__ import annotations

import json
import math
import tarfile

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from sim.analysis.sobol import estimate_at_full_sample, sobol_indices
from sim.base.errors import InputError
from sim.studies import ema
from sim.studies.designs import Design, factorial_points, set_line


@pytest.mark.parametrize(
    "value", [1e-05, 1e20, 0.1, 3.0, -2.5e-300, 123456789.123, 7, 0, True, False, "calm", "3"]
)
def test_set_lines_read_back_exactly(value):
    key, text = set_line("a.b", value).split("=", 1)
    back = yaml.safe_load(text)
    assert key == "a.b" and back == value and type(back) is type(value)


def test_factorial_grid_has_every_combination_once():
    pts = factorial_points({"a": [1, 2, 3], "b": ["x", "y"]})
    assert [p.name for p in pts] == [f"fac{i:04d}" for i in range(6)]
    assert {(p.values["a"], p.values["b"]) for p in pts} == {
        (a, b) for a in (1, 2, 3) for b in ("x", "y")
    }


def test_latin_hypercube_puts_one_point_in_each_stratum_of_each_parameter():
    n = 16
    d = Design.model_validate(
        {
            "method": "lhs",
            "n": n,
            "seed": 5,
            "parameters": {"a": {"low": 0, "high": 1}, "b": {"low": 10, "high": 20}},
        }
    )
    pts = d.points()
    for key, (lo, hi) in (("a", (0, 1)), ("b", (10, 20))):
        strata = sorted(int((p.values[key] - lo) / (hi - lo) * n) for p in pts)
        assert strata == list(range(n))
    # Same seed, same design; another seed, another design.
    assert [p.values for p in d.points()] == [p.values for p in pts]
    other = d.model_copy(update={"seed": 6}).points()
    assert [p.values for p in other] != [p.values for p in pts]


def test_saltelli_blocks_swap_one_column_each():
    d = Design.model_validate(
        {
            "method": "sobol",
            "n": 8,
            "seed": 1,
            "parameters": {
                "a": {"low": 0, "high": 1},
                "b": {"dist": "normal", "mean": 5, "sd": 1, "low": 0},
                "c": {"dist": "choice", "values": ["x", "y", "z"]},
                "k": {"low": 2, "high": 4, "integer": True},
            },
        }
    )
    pts = d.points()
    keys = ["a", "b", "c", "k"]
    assert len(pts) == 8 * (len(keys) + 2)
    block = {p.name: p for p in pts}
    for j in range(8):
        a, b = block[f"sobA_{j:04d}"].values, block[f"sobB_{j:04d}"].values
        for i, key in enumerate(keys):
            ab = block[f"sobAB{i}_{j:04d}"].values
            assert ab[key] == b[key]
            assert all(ab[k] == a[k] for k in keys if k != key)
    assert {p.values["k"] for p in pts} <= {2, 3, 4}
    assert all(p.values["b"] >= 0 for p in pts)


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ({"method": "sobol", "n": 12}, "power of 2"),
        ({"method": "lhs", "n": 4, "parameters": {"a": {"dist": "beta"}}}, "unknown dist"),
        ({"method": "lhs", "n": 4, "parameters": {"a": {"low": 2, "high": 1}}}, "low < high"),
    ],
)
def test_bad_designs_are_rejected(spec, fragment):
    spec = {"parameters": {"a": {"low": 0, "high": 1}}, **spec}
    with pytest.raises(ValueError, match=fragment):
        Design.model_validate(spec)


def _ishigami_truth(a: float = 7.0, b: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Analytic first- and total-order indices of the Ishigami function."""
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = 8 * b**2 * math.pi**8 / 225
    var = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / var, np.array([v1 + v13, v2, v13]) / var


def test_sobol_indices_of_the_ishigami_function():
    s1_true, st_true = _ishigami_truth()
    assert np.allclose(s1_true, [0.314, 0.442, 0.0], atol=5e-4)
    assert np.allclose(st_true, [0.558, 0.442, 0.244], atol=5e-4)
    n = 1024
    design = Design.model_validate(
        {
            "method": "sobol",
            "n": n,
            "seed": 2024,
            "parameters": {k: {"low": -math.pi, "high": math.pi} for k in ("x1", "x2", "x3")},
        }
    )
    pts = design.points()
    x = np.array([[p.values[k] for k in ("x1", "x2", "x3")] for p in pts])
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    f_a, f_b, f_ab = y[:n], y[n : 2 * n], y[2 * n :].reshape(3, n)
    tab = sobol_indices(f_a, f_b, f_ab, ["x1", "x2", "x3"], seed=7)
    # The bootstrap treats the design rows as iid, so its standard error is conservative
    # for scrambled Sobol' points; 3 standard errors is a loose but meaningful bound.
    for col, truth in (("S1", s1_true), ("ST", st_true)):
        se = tab[f"{col}_se"].to_numpy()
        assert (se > 0).all() and (se < 0.06).all()
        assert np.all(np.abs(tab[col].to_numpy() - truth) < 3 * se), (col, tab)
        assert np.all(tab[f"{col}_low"] <= tab[col]) and np.all(tab[col] <= tab[f"{col}_high"])
    # The bootstrap statistic reproduces SciPy's point estimates at the full sample.
    full = estimate_at_full_sample(f_a, f_b, f_ab)
    assert np.allclose(full, np.concatenate([tab["S1"], tab["ST"]]), rtol=1e-12, atol=1e-15)
    # The same seed gives the same intervals.
    again = sobol_indices(f_a, f_b, f_ab, ["x1", "x2", "x3"], seed=7)
    pd.testing.assert_frame_equal(tab, again)


def test_a_parameter_without_effect_gets_zero_indices_with_a_point_interval():
    rng = np.random.default_rng(0)
    n = 16
    f_a = rng.normal(size=n)
    f_b = rng.normal(size=n)
    f_ab = np.vstack([f_b, f_a])  # the first parameter explains everything, the second nothing
    tab = sobol_indices(f_a, f_b, f_ab, ["all", "none"], n_resamples=199)
    none = tab.set_index("parameter").loc["none"]
    assert none["S1"] == 0 and none["ST"] == 0
    assert none["ST_low"] == none["ST_high"] == 0
    const = sobol_indices(np.ones(n), np.ones(n), np.ones((2, n)), ["a", "b"])
    assert (const[["S1", "ST", "S1_low", "ST_high"]].to_numpy() == 0).all()


def test_ema_archive_round_trip_and_layout(tmp_path):
    experiments = pd.DataFrame(
        {
            "storages.tank.capacity_mt": [0.2, 0.2, 0.4, 0.4],
            "regimes.initial": pd.Series(["calm", "calm", "war", "war"], dtype="string"),
            "scenario": pd.Categorical([0, 1, 0, 1]),
            "policy": pd.Categorical(["base", "base", "big", "big"]),
            "model": pd.Categorical(["corridor_sim"] * 4),
        }
    )
    outcomes = {
        "revenue_loss_usd": np.array([1.5e6, 0.0, 2.25e6, 1e-3]),
        "spare_used_mt.btc": np.array([0.1, 0.2, 0.3, 0.4]),
    }
    path = ema.save_results((experiments, outcomes), tmp_path / ema.ARCHIVE)
    with tarfile.open(path, "r:gz") as tar:
        names = set(tar.getnames())
        meta = json.loads(tar.extractfile("metadata.json").read())
    assert names == {
        "experiments.csv",
        "metadata.json",
        "revenue_loss_usd.cls",
        "spare_used_mt.btc.cls",
    }
    assert meta["version"] == 0.1
    assert meta["outcomes"][0] == ["ScalarOutcome", "revenue_loss_usd", "revenue_loss_usd.cls"]
    assert meta["experiments"]["policy"] == "category"
    exp2, out2 = ema.load_results(path)
    assert list(exp2.columns) == list(experiments.columns)
    assert exp2["storages.tank.capacity_mt"].tolist() == [0.2, 0.2, 0.4, 0.4]
    assert (
        exp2["policy"].dtype == "category" and exp2["policy"].tolist() == ["base"] * 2 + ["big"] * 2
    )
    assert exp2["regimes.initial"].astype(str).tolist() == ["calm", "calm", "war", "war"]
    for k, v in outcomes.items():
        np.testing.assert_array_equal(out2[k], v)
        assert out2[k].ndim == 1
    bad = tmp_path / "x.tar.gz"
    bad.write_bytes(b"not a tarball")
    with pytest.raises(InputError, match="not an EMA Workbench results archive"):
        ema.load_results(bad)


def test_bootstrap_seed_is_independent_of_global_state():
    f = stats.norm.rvs(size=(4, 8), random_state=1)
    np.random.seed(1)
    a = sobol_indices(f[0], f[1], f[2:], ["p", "q"], n_resamples=99, seed=3)
    np.random.seed(2)
    b = sobol_indices(f[0], f[1], f[2:], ["p", "q"], n_resamples=99, seed=3)
    pd.testing.assert_frame_equal(a, b)
