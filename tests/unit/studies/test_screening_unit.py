"""The screening mode's plumbing: draws, states, the command line (its accuracy is in
tests/validation/test_screening.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.cli.main import main
from sim.config import load_config
from sim.studies.screening import APPROX_HEADER, screen
from sim.studies.screening.draws import sample_duration
from sim.studies.screening.fluid import fluid_config
from tests.conftest import KAZAKHSTAN_YAML, SMALL_YAML, build_cfg


def test_no_hazards_no_loss():
    res = screen(build_cfg(), 50, seed=1)
    assert np.all(res.volume_lost_mt == 0) and np.all(res.revenue_lost_usd == 0)
    assert np.all(res.availability == 1)


def test_same_seed_same_numbers_and_sources_add_up():
    cfg = load_config(KAZAKHSTAN_YAML)
    a, b = screen(cfg, 300, seed=5), screen(cfg, 300, seed=5)
    assert np.array_equal(a.volume_lost_mt, b.volume_lost_mt)
    total = sum(a.volume_lost_by_source.values())
    assert np.allclose(total, a.volume_lost_mt)
    assert np.all(a.volume_lost_mt >= -1e-9)


def test_shuttles_become_pipelines():
    cfg = fluid_config(load_config(KAZAKHSTAN_YAML))
    assert not cfg.shuttles
    assert any(p.id == "caspian_shuttle" for p in cfg.pipelines)


@pytest.mark.parametrize(
    "dist",
    [
        {"dist": "lognormal", "median_days": 3, "sigma": 1.0},
        {"dist": "triangular", "low_days": 1, "mode_days": 2, "high_days": 6},
        {"dist": "weibull", "shape": 1.5, "scale_days": 4},
        {"dist": "gamma", "shape": 2, "scale_days": 3},
        {"dist": "empirical", "values_days": [1, 5], "weights": [1, 3]},
    ],
)
def test_duration_means(dist):
    from pydantic import TypeAdapter

    from sim.config.distributions import DurationDist

    d = TypeAdapter(DurationDist).validate_python(dist)
    x = sample_duration(d, np.random.default_rng(0), 200_000)
    assert abs(x.mean() - d.mean()) < 4 * x.std() / np.sqrt(x.size)


def test_cli_prints_approximate_table_and_writes(tmp_path, capsys):
    out = tmp_path / "screen"
    assert main(["screen", str(SMALL_YAML), "-n", "200", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0] == f"# {APPROX_HEADER}"
    assert "volume lost (Mt)" in text
    df = pd.read_parquet(out / "screening.parquet")
    assert len(df) == 200 and set(df.columns) >= {"volume_lost_mt", "revenue_lost_usd"}
    assert main(["screen", str(SMALL_YAML), "-n", "1"]) == 2
