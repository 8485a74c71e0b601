"""The screening mode's plumbing: draws, states, the command line (its accuracy is in
tests/validation/test_screening.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import KAZAKHSTAN_YAML, SMALL_YAML, build_cfg

from sim.cli.main import main
from sim.config import load_config
from sim.studies.screening import APPROX_HEADER, screen
from sim.studies.screening.draws import sample_duration
from sim.studies.screening.fluid import fluid_config


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


def test_python_api_screen_returns_what_the_cli_prints_and_writes():
    import sim
    from sim.base.errors import InputError

    cfg = load_config(SMALL_YAML)
    res = sim.screen(cfg, 200, seed=3)
    assert isinstance(res, sim.ScreenResult)
    assert res.seconds > 0 and res.check is None
    again = screen(cfg, 200, seed=3)
    assert np.array_equal(res.volume_lost_mt, again.volume_lost_mt)
    text = res.report()
    assert text.splitlines()[0] == f"# {APPROX_HEADER}" and "volume lost (Mt)" in text
    df = res.table()
    assert list(df.columns) == ["replication", "volume_lost_mt", "revenue_lost_usd", "availability"]
    assert len(df) == 200 and np.array_equal(df["volume_lost_mt"], res.volume_lost_mt)
    checked = sim.screen(cfg, 200, seed=3, check=4)
    assert checked.check is not None and checked.check.n_des == 4
    assert "DES mean" in checked.report()
    with pytest.raises(InputError):
        sim.screen(cfg, 1)
    with pytest.raises(InputError):
        sim.screen(cfg, 10, check=1)


def _ramps(days=4.0, steps=4, n_src=1):
    from sim.studies.screening.ramps import Ramps

    src = [
        {
            "id": f"f{k}",
            "production_mt_per_year": 10.0,
            "restart_ramp_days": days,
            "ramp_steps": steps,
        }
        for k in range(n_src)
    ]
    routes = [
        {"id": f"r{k}", "source": f"f{k}", "path": ["pipe"], "market": "mkt"} for k in range(n_src)
    ]
    return Ramps(build_cfg(sources=src, routes=routes), 1)


def _run(ramps, cuts):
    """Feed (day, cut) events to ``ramps``; return the output held back beyond each cut."""
    rows, total = np.array([0]), 0.0
    for (x, cut), nxt in zip(cuts, [c[0] for c in cuts[1:]] + [100.0]):
        cut = np.atleast_2d(np.asarray(cut, dtype=float))
        ramps.event(rows, np.array([x]), cut)
        total = total + ramps.excess(rows, np.array([x]), np.array([nxt]), cut)[0]
    return total


def test_ramp_lifts_the_whole_cut_in_steps():
    # A cut of 1 that ends: (1 + 3/4 + 1/2 + 1/4) x 1 day, as r (m + 1) / (2 m) = 2.5.
    assert np.allclose(_run(_ramps(), [(0.0, [1.0]), (10.0, [0.0])]), 2.5)
    # A cut of 1 that eases to 0.25: the ramp lifts the whole 1, the routing still holds 0.25
    # back, so only (3/4 + 1/2 + 1/4) is lost beyond the cut.
    assert np.allclose(_run(_ramps(), [(0.0, [1.0]), (10.0, [0.25])]), 1.5)
    # An easing while the ramp runs starts nothing new: the ramp of 1 from day 10 goes on
    # (cut 0.5 to day 11.5, then 0): 0.5 + 0.25 x 0.5 + 0.75 x 0.5 + 0.5 + 0.25.
    events = [(0.0, [1.0]), (10.0, [0.5]), (11.5, [0.0])]
    assert np.allclose(_run(_ramps(), events), 1.75)


def test_an_easing_ramps_every_source_cut_behind_the_bottleneck():
    # Two sources cut 1 each; the routing frees 0.7 for the first only. The engine's re-routing
    # gives the room the first's ramp leaves to the second, which ramps too: the pool loses
    # max(0, held - cut) summed over both = 0.7 + 0.2 beyond the remaining cut of 1.3.
    out = _run(_ramps(n_src=2), [(0.0, [1.0, 1.0]), (10.0, [0.3, 1.0])])
    assert np.isclose(out.sum(), 0.9)


def test_exclusive_outages_never_overlap():
    names = load_config(KAZAKHSTAN_YAML).hazards
    off = [f"hazards.{h}.enabled=false" for h in names if h != "spm_maintenance"]
    cfg = load_config(KAZAKHSTAN_YAML, off)
    # One SPM out at a time leaves two: full capacity, nothing lost.
    assert np.all(screen(cfg, 3000, seed=2).volume_lost_mt == 0)


def test_mean_price_is_the_mean_of_the_engines_price_path():
    from sim.config.models import Price
    from sim.model.prices import price_path
    from sim.model.streams import Streams
    from sim.studies.screening.core import mean_price

    price = Price(
        model="mean_reverting",
        brent_usd_per_bbl=69.0,
        volatility_per_sqrt_year=0.3,
        mean_reversion_per_year=1.0,
        step_days=7,
    )
    paths = np.array([price_path(price, 365.0, Streams(5, k))[1] for k in range(4000)])
    grid = price_path(price, 365.0, Streams(5, 0))[0]
    days = (grid[:-1] + grid[1:]) / 2
    want = mean_price(price, 365.0, days)
    se = paths.std(axis=0, ddof=1) / np.sqrt(paths.shape[0])
    assert np.all(np.abs(paths.mean(axis=0) - want) <= 4.5 * se + 1e-9)
    # last step starts at day 357: exp(0.045 x (1 - exp(-2 x 357 / 365.25)) / 2) = 1.0195
    assert want[0] == 69.0 and 69.0 * 1.019 < want[-1] < 69.0 * 1.02
    fixed = Price(brent_usd_per_bbl=69.0)
    assert np.all(mean_price(fixed, 365.0, days) == 69.0)
