"""The result of the APPROXIMATE screening mode: per-replication losses, timing, DES check.

:class:`Check` holds the screen against the DES (see :mod:`.check`); :func:`format_table`
prints a result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

APPROX_HEADER = "APPROXIMATE screening (fluid network, no tankers, mean price path): not the DES"


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


def mean_se(x: np.ndarray) -> tuple[float, float]:
    """Return the mean of ``x`` and its standard error (``nan`` for one value)."""
    x = np.asarray(x, dtype=float)
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else math.nan


@dataclass
class ScreenResult:
    """Per-replication results of the screening mode (approximate, not the DES).

    Everything ``corridor-sim screen`` prints or writes comes from here: :meth:`report` is
    the printed table, :meth:`table` the per-replication table of ``--out``.
    """

    volume_lost_mt: np.ndarray
    """Volume lost (Mt) per replication."""
    revenue_lost_usd: np.ndarray
    """Revenue lost (USD, discounted) per replication."""
    potential_mt: np.ndarray
    """Potential production (Mt) per replication."""
    n_states: int
    """Distinct capacity states."""
    n_lp_solves: int
    """Routing LPs solved."""
    volume_lost_by_source: dict[str, np.ndarray]
    """Source id -> volume lost (Mt) per replication."""
    seconds: float = 0.0
    """Wall time of the screen (s); 0 when not timed."""
    check: Check | None = None
    """The cross-check against the DES, when one was run."""

    @property
    def availability(self) -> np.ndarray:
        """Share of potential production exported (1 - volume lost / potential)."""
        return 1.0 - self.volume_lost_mt / self.potential_mt

    def table(self) -> pd.DataFrame:
        """Return one row per replication: volume and revenue lost and availability."""
        return pd.DataFrame(
            {
                "replication": np.arange(self.volume_lost_mt.size),
                "volume_lost_mt": self.volume_lost_mt,
                "revenue_lost_usd": self.revenue_lost_usd,
                "availability": self.availability,
            }
        )

    def report(self) -> str:
        """Return the printed table (first line: the APPROXIMATE label; bias if checked)."""
        return format_table(self, self.seconds, self.check)


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
        m, se = mean_se(x * k)
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
