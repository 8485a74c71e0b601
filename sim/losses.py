"""Loss tables as in catastrophe-risk practice, computed from stored results.

* **YLT** (year loss table): one row per replication-year, the paired revenue loss and the volume
  not produced. Return periods read as years when the run's horizon is one year.
* **ELT** (event loss table): one row per disruption event (common-cause records merged), with
  the year's revenue loss allocated to its events in proportion to their window losses, so a
  year's event losses add up to its YLT loss.
* **AAL** with its standard error, **AEP** (aggregate) and **OEP** (largest event) exceedance
  curves with distribution-free confidence bands, losses and TVaR at return periods, PML, and a
  convergence table.

All functions take and return pandas DataFrames with string categories and documented columns.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as sps

RETURN_PERIODS = (5, 10, 25, 50, 100, 250)

YLT_COLUMNS = (
    "replication",
    "year",
    "loss_usd",
    "volume_lost_mt",
    "max_event_loss_usd",
    "n_events",
)
ELT_COLUMNS = (
    "replication",
    "event",
    "hazard",
    "cause",
    "assets",
    "start_day",
    "duration_days",
    "volume_lost_mt",
    "volume_deferred_mt",
    "loss_usd",
)


def event_loss_table(replications: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Build the ELT: one row per event, losses allocated so each year's events sum to its loss.

    A replication whose loss has no effective event (or whose events have no window loss) gets
    its loss allocated to its events by duration; with no events at all it has no ELT row.
    """
    cols = list(ELT_COLUMNS)
    if events is None or len(events) == 0:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in cols}).astype(
            {
                "replication": "int64",
                "event": "int64",
                "hazard": "string",
                "cause": "string",
                "assets": "string",
            }
        )
    ev = events[events["effective"]].copy() if "effective" in events else events.copy()
    grouped = (
        ev.groupby(["replication", "event"], sort=True)
        .agg(
            hazard=("hazard", "first"),
            cause=("cause", "first"),
            assets=("asset", lambda s: ",".join(sorted(map(str, s)))),
            start_day=("start_day", "min"),
            duration_days=("duration_days", "max"),
            volume_lost_mt=("volume_lost_mt", "max"),
            volume_deferred_mt=("volume_deferred_mt", "max"),
            window_loss=("revenue_lost_usd", "max"),
        )
        .reset_index()
    )
    year_loss = replications.set_index("replication")["revenue_loss_usd"]
    grouped["year_loss"] = grouped["replication"].map(year_loss).fillna(0.0)
    weight = grouped["window_loss"].clip(lower=0.0)
    total = weight.groupby(grouped["replication"]).transform("sum")
    fallback = grouped["duration_days"] / grouped.groupby("replication")["duration_days"].transform(
        "sum"
    )
    share = np.where(total > 0, weight / total.where(total > 0, 1.0), fallback.fillna(0.0))
    grouped["loss_usd"] = grouped["year_loss"] * share
    out = grouped[cols]
    return out.astype({"hazard": "string", "cause": "string", "assets": "string"})


def year_loss_table(replications: pd.DataFrame, elt: pd.DataFrame | None = None) -> pd.DataFrame:
    """Build the YLT (one row per replication; ``year`` is 0 for one-year horizons)."""
    ylt = pd.DataFrame(
        {
            "replication": replications["replication"].astype("int64"),
            "year": np.zeros(len(replications), dtype="int64"),
            "loss_usd": replications["revenue_loss_usd"].astype(float),
            "volume_lost_mt": replications["shut_in_mt"].astype(float),
        }
    )
    if elt is not None and len(elt):
        mx = elt.groupby("replication")["loss_usd"].max()
        cnt = elt.groupby("replication").size()
        ylt["max_event_loss_usd"] = ylt["replication"].map(mx).fillna(0.0).clip(lower=0.0)
        ylt["n_events"] = ylt["replication"].map(cnt).fillna(0).astype("int64")
    else:
        ylt["max_event_loss_usd"] = 0.0
        ylt["n_events"] = np.zeros(len(ylt), dtype="int64")
    return ylt.sort_values("replication").reset_index(drop=True)


def aal(ylt: pd.DataFrame, column: str = "loss_usd") -> dict[str, float]:
    """Average annual loss and its standard error."""
    x = ylt[column].to_numpy(dtype=float)
    n = len(x)
    se = float(x.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    return {"aal": float(x.mean()) if n else float("nan"), "se": se, "n": n}


def exceedance_curve(losses: np.ndarray, confidence: float = 0.9) -> pd.DataFrame:
    """Empirical exceedance curve with distribution-free confidence bands.

    Row i (0-based, losses sorted from largest) has exceedance probability ``(i + 1) / n`` and
    return period ``n / (i + 1)``. The band at probability p comes from the binomial law of the
    number of losses above the true p-quantile (order-statistic interval).
    """
    x = np.sort(np.asarray(losses, dtype=float))[::-1]
    n = len(x)
    if n == 0:
        return pd.DataFrame(
            columns=["loss_usd", "exceedance_probability", "return_period", "loss_low", "loss_high"]
        )
    ep = np.arange(1, n + 1) / n
    alpha = (1 - confidence) / 2
    lo_rank = sps.binom.ppf(alpha, n, ep).astype(int)
    hi_rank = sps.binom.ppf(1 - alpha, n, ep).astype(int)
    # More exceedances than expected means the true quantile is lower (a larger index).
    high = x[np.clip(lo_rank - 1, 0, n - 1)]
    low = x[np.clip(hi_rank, 0, n - 1)]
    return pd.DataFrame(
        {
            "loss_usd": x,
            "exceedance_probability": ep,
            "return_period": 1.0 / ep,
            "loss_low": low,
            "loss_high": high,
        }
    )


def loss_at(losses: np.ndarray, return_period: float) -> tuple[float, float]:
    """Loss exceeded with probability 1/return_period, and the TVaR (mean loss at or beyond it).

    Uses the empirical quantile at ``1 - 1/return_period`` (linear interpolation).
    """
    x = np.asarray(losses, dtype=float)
    q = float(np.quantile(x, 1.0 - 1.0 / return_period))
    tail = x[x >= q]
    return q, float(tail.mean()) if len(tail) else q


def return_period_table(
    ylt: pd.DataFrame, periods: tuple[int, ...] = RETURN_PERIODS
) -> pd.DataFrame:
    """Losses and TVaR at return periods, for the aggregate (AEP) and largest-event (OEP) views.

    Periods longer than the number of simulated years are flagged ``extrapolated``.
    """
    rows = []
    n = len(ylt)
    for kind, col in (("AEP", "loss_usd"), ("OEP", "max_event_loss_usd")):
        for rp in periods:
            loss, tvar = loss_at(ylt[col].to_numpy(), rp)
            rows.append(
                {
                    "curve": kind,
                    "return_period": rp,
                    "loss_usd": loss,
                    "tvar_usd": tvar,
                    "extrapolated": rp > n,
                }
            )
    return pd.DataFrame(rows).astype({"curve": "string"})


def pml(ylt: pd.DataFrame, return_period: int = 100) -> float:
    """Probable maximum loss: the aggregate loss at the given return period."""
    return loss_at(ylt["loss_usd"].to_numpy(), return_period)[0]


def convergence_table(
    ylt: pd.DataFrame, column: str = "loss_usd", points: int = 12
) -> pd.DataFrame:
    """Return the running mean and 95% CI of ``column`` as replications accumulate."""
    x = ylt.sort_values("replication")[column].to_numpy(dtype=float)
    n = len(x)
    if n == 0:
        return pd.DataFrame(columns=["replications", "mean", "ci95_half", "rel_ci95_half"])
    sizes = np.unique(np.geomspace(min(2, n), n, num=min(points, n)).astype(int))
    csum, csq = np.cumsum(x), np.cumsum(x * x)
    rows = []
    z = float(sps.norm.ppf(0.975))
    for k in sizes:
        mean = csum[k - 1] / k
        var = max(0.0, (csq[k - 1] - k * mean * mean) / (k - 1)) if k > 1 else float("nan")
        half = z * math.sqrt(var / k) if k > 1 else float("nan")
        rows.append(
            {
                "replications": int(k),
                "mean": mean,
                "ci95_half": half,
                "rel_ci95_half": half / abs(mean) if mean else float("nan"),
            }
        )
    return pd.DataFrame(rows)
