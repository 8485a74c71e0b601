"""Cross-check of the APPROXIMATE screening against the discrete-event simulation.

:func:`check_against_des` runs ``N`` DES replications of the same config and seed (so the
same parameter sets, see :mod:`sim.model.parameters`) and reports, for mean volume lost and
mean revenue lost, the screen's relative bias ``screen / DES - 1`` with its standard error
(delta method over both means), and the wall time of the screen against the DES time
extrapolated to the screen's replications. :func:`format_table` prints both.
"""

from __future__ import annotations

import math
import shutil
import time
from dataclasses import dataclass

import numpy as np

from sim.batch import coordinator
from sim.batch.options import RunOptions
from sim.config.models import Config
from sim.results import STATISTICS, result_of
from sim.studies.screening.result import APPROX_HEADER, ScreenResult


@dataclass(frozen=True)
class Bias:
    """Relative bias of a screened mean against the DES mean, with its standard error."""

    screen_mean: float
    screen_se: float
    des_mean: float
    des_se: float

    @property
    def rel(self) -> float:
        """``screen / DES - 1``."""
        return self.screen_mean / self.des_mean - 1.0 if self.des_mean else math.nan

    @property
    def rel_se(self) -> float:
        """Standard error of :attr:`rel` (delta method, independent means)."""
        d, s = self.des_mean, self.screen_mean
        if not d:
            return math.nan
        return math.sqrt((self.screen_se / d) ** 2 + (s * self.des_se / d**2) ** 2)


@dataclass(frozen=True)
class Check:
    """The screen against ``n_des`` DES replications."""

    n_des: int
    volume: Bias
    revenue: Bias
    des_seconds: float
    screen_seconds: float
    n_screen: int

    @property
    def time_ratio(self) -> float:
        """Screen time / DES time extrapolated to the screen's replications."""
        return self.screen_seconds / (self.des_seconds * self.n_screen / self.n_des)


def _mean_se(x: np.ndarray) -> tuple[float, float]:
    x = np.asarray(x, dtype=float)
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else math.nan


def des_losses(cfg: Config, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Volume lost (Mt) and revenue lost (USD) per DES replication, and the wall seconds."""
    t0 = time.perf_counter()
    options = RunOptions(replications=n, seed=seed, workers=1, executor="serial")
    outcome = coordinator.run(cfg, options, STATISTICS)
    seconds = time.perf_counter() - t0
    try:
        ylt = result_of(outcome).ylt().groupby("replication")[["volume_lost_mt", "loss_usd"]]
        table = ylt.sum()
    finally:
        if outcome.temporary:
            shutil.rmtree(outcome.path, ignore_errors=True)
    return table["volume_lost_mt"].to_numpy(), table["loss_usd"].to_numpy(), seconds


def check_against_des(
    cfg: Config, res: ScreenResult, n_des: int, seed: int, screen_seconds: float
) -> Check:
    """Compare ``res`` with ``n_des`` DES replications of ``cfg`` at ``seed``."""
    vol, rev, seconds = des_losses(cfg, n_des, seed)
    volume = Bias(*_mean_se(res.volume_lost_mt), *_mean_se(vol))
    revenue = Bias(*_mean_se(res.revenue_lost_usd), *_mean_se(rev))
    return Check(n_des, volume, revenue, seconds, screen_seconds, res.volume_lost_mt.size)


def format_table(res: ScreenResult, seconds: float, check: Check | None = None) -> str:
    """Return the screen's results as a printed table (first line: the APPROXIMATE label)."""
    n = res.volume_lost_mt.size
    lines = [f"# {APPROX_HEADER}", f"replications: {n}   wall time: {seconds:.2f} s"]
    rows = [
        ("volume lost (Mt)", res.volume_lost_mt, 1.0, check.volume if check else None),
        ("revenue lost (USD m)", res.revenue_lost_usd, 1e-6, check.revenue if check else None),
        ("availability", res.availability, 1.0, None),
    ]
    head = f"{'measure':<22}{'mean':>12}{'se':>10}{'p50':>10}{'p95':>10}{'p99':>10}"
    if check:
        head += f"{'DES mean':>12}{'bias':>9}{'± se':>8}"
    lines.append(head)
    for name, x, k, b in rows:
        m, se = _mean_se(x * k)
        p = np.percentile(x * k, [50, 95, 99])
        line = f"{name:<22}{m:>12.4g}{se:>10.3g}{p[0]:>10.4g}{p[1]:>10.4g}{p[2]:>10.4g}"
        if b is not None:
            line += f"{b.des_mean * k:>12.4g}{b.rel:>+9.1%}{b.rel_se:>8.1%}"
        lines.append(line)
    lines.append(f"distinct capacity states: {res.n_states}, routing LPs solved: {res.n_lp_solves}")
    if check:
        lines.append(
            f"check: {check.n_des} DES replications in {check.des_seconds:.1f} s; screen time / "
            f"DES time for {n}: 1/{1 / check.time_ratio:.0f}"
        )
    return "\n".join(lines)
