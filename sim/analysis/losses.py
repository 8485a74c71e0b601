"""Loss tables as in catastrophe-risk practice, computed from stored results.

Two measures, both paired against the undisrupted twin: ``revenue_usd`` (revenue loss, USD) and
``volume_mt`` (production not produced, Mt).

* **YLT** (year loss table): one row per replication-year. A one-year horizon gives one row
  per replication; longer horizons one row per year of the horizon (from the per-year columns
  of :mod:`sim.replication.years`), shorter ones one row per replication whose ``days`` say
  how long the
  "year" really was.
* **ELT** (event loss table): one row per disruption event and year it touches (common-cause
  records merged). Each year's loss is allocated to the events whose windows overlap it, in
  proportion to their window losses within the year, so a year's event losses add up to its
  YLT loss and OEP <= AEP. A year with a loss but no event of its own (the tail of an event
  that ended in the year before) has no ELT row.
* **AAL** with its standard error (between replications), **AEP** (annual total) and **OEP**
  (largest event of the year) exceedance curves with distribution-free confidence bands and
  TVaR, losses and TVaR at return periods read off those curves, PML, and a convergence table.

Column names and meanings are declared in :mod:`sim.base.columns`; categories are strings. The
curves themselves are in :mod:`sim.analysis.exceedance`, the return periods' validation in
:mod:`sim.analysis.periods`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as sps

from sim.analysis.exceedance import exceedance_curve, loss_at
from sim.analysis.periods import RETURN_PERIODS, check_return_periods
from sim.base.columns import (
    AAL_COLUMNS,
    CONVERGENCE_COLUMNS,
    ELT_COLUMNS,
    EP_CURVE_COLUMNS,
    RETURN_PERIOD_COLUMNS,
    YLT_COLUMNS,
    Column,
    dtypes,
)

MEASURES: dict[str, tuple[str, str]] = {
    "revenue_usd": ("loss_usd", "max_event_loss_usd"),
    "volume_mt": ("volume_lost_mt", "max_event_volume_lost_mt"),
}
"""Measure -> (YLT column of the annual total, YLT column of the largest event)."""
MEASURE_UNITS: dict[str, str] = {"revenue_usd": "USD", "volume_mt": "Mt"}
"""Measure -> declared unit of its columns (shown by :func:`sim.base.columns.unit_scale`)."""
CURVES = ("AEP", "OEP")
YEAR_LOSS = "year_revenue_loss_usd"
YEAR_VOLUME = "year_volume_lost_mt"


def _frame(data: dict | pd.DataFrame, columns: list[Column]) -> pd.DataFrame:
    df = pd.DataFrame(data) if isinstance(data, dict) else data
    names = [c.name for c in columns]
    for name in names:
        if name not in df:
            df[name] = pd.Series(dtype="float64")
    return df[names].astype(dtypes(columns)).reset_index(drop=True)


def _columns(measure: str) -> tuple[str, str]:
    try:
        return MEASURES[measure]
    except KeyError:
        raise ValueError(f"measure must be one of {list(MEASURES)}, got {measure!r}") from None


def _year_family(replications: pd.DataFrame, base: str) -> list[str]:
    cols = [c for c in replications.columns if c.startswith(base + ".")]
    return sorted(cols, key=lambda c: int(c.rsplit(".", 1)[1]))


def _volume(replications: pd.DataFrame) -> pd.Series:
    """Paired volume lost per replication (older runs without the ledger: absolute shut-in)."""
    col = "offset_shut_in_mt" if "offset_shut_in_mt" in replications else "shut_in_mt"
    return replications[col].astype(float)


def _year_totals(replications: pd.DataFrame, bounds: np.ndarray | None) -> pd.DataFrame:
    """One row per replication-year: replication, year, days, loss_usd, volume_lost_mt."""
    reps = replications["replication"].to_numpy(dtype="int64")
    loss_cols = _year_family(replications, YEAR_LOSS)
    if len(loss_cols) > 1:
        if bounds is None or len(bounds) != len(loss_cols) + 1:
            raise ValueError(
                f"the run has {len(loss_cols)} years per replication: pass the year bounds "
                "(sim.replication.years.year_bounds(start_date, horizon_days))"
            )
        vol_cols = _year_family(replications, YEAR_VOLUME)
        n_years = len(loss_cols)
        return pd.DataFrame(
            {
                "replication": np.repeat(reps, n_years),
                "year": np.tile(np.arange(n_years), len(reps)),
                "days": np.tile(np.diff(bounds), len(reps)),
                "loss_usd": replications[loss_cols].to_numpy(float).ravel(),
                "volume_lost_mt": replications[vol_cols].to_numpy(float).ravel(),
            }
        )
    days = float(bounds[-1] - bounds[0]) if bounds is not None else float("nan")
    return pd.DataFrame(
        {
            "replication": reps,
            "year": np.zeros(len(reps), dtype="int64"),
            "days": np.full(len(reps), days),
            "loss_usd": replications["revenue_loss_usd"].to_numpy(float),
            "volume_lost_mt": _volume(replications).to_numpy(),
        }
    )


def _merged_events(events: pd.DataFrame) -> pd.DataFrame:
    """Effective event records merged per (replication, event)."""
    ev = events[events["effective"]] if "effective" in events else events
    ev = ev.assign(
        end_day=ev["start_day"]
        + ev["duration_days"]
        + (ev["recovery_days"] if "recovery_days" in ev else 0.0)
    )
    return (
        ev.groupby(["replication", "event"], sort=True)
        .agg(
            hazard=("hazard", "first"),
            cause=("cause", "first"),
            assets=("asset", lambda s: ",".join(sorted(map(str, s)))),
            start_day=("start_day", "min"),
            end_day=("end_day", "max"),
            duration_days=("duration_days", "max"),
            window_volume_lost_mt=("volume_lost_mt", "max"),
            window_volume_deferred_mt=("volume_deferred_mt", "max"),
            window_loss_usd=("revenue_lost_usd", "max"),
        )
        .reset_index()
    )


def _event_years(merged: pd.DataFrame, bounds: np.ndarray | None) -> pd.DataFrame:
    """One row per event and year its window touches, with the overlap in days and as a share."""
    if bounds is None or len(bounds) <= 2:
        span = (merged["end_day"] - merged["start_day"]).clip(lower=0.0)
        return merged.assign(year=0, overlap_days=span, share_of_window=1.0)
    n_years = len(bounds) - 1
    rows = merged.loc[merged.index.repeat(n_years)].reset_index(drop=True)
    rows["year"] = np.tile(np.arange(n_years), len(merged))
    lo, hi = bounds[rows["year"].to_numpy()], bounds[rows["year"].to_numpy() + 1]
    start, end = rows["start_day"].to_numpy(), rows["end_day"].to_numpy()
    overlap = np.minimum(end, hi) - np.maximum(start, lo)
    instant = end <= start
    inside = np.where(instant, (start >= lo) & (start < hi), overlap > 0)
    # An instant event at the very end of the horizon belongs to the last year.
    inside |= instant & (rows["year"].to_numpy() == n_years - 1) & (start >= hi)
    length = end - start
    share = np.where(instant, 1.0, np.clip(overlap, 0.0, None) / np.where(instant, 1.0, length))
    rows["overlap_days"] = np.clip(overlap, 0.0, None)
    rows["share_of_window"] = share
    return rows[inside].reset_index(drop=True)


def event_loss_table(
    replications: pd.DataFrame, events: pd.DataFrame, bounds: np.ndarray | None = None
) -> pd.DataFrame:
    """Build the ELT: one row per event and year, each year's losses allocated to its events.

    Parameters
    ----------
    replications:
        The run's replication table.
    events:
        The run's event table (one row per event record).
    bounds:
        Year boundaries of the horizon (:func:`sim.replication.years.year_bounds`); required when
        the run has per-year columns.

    Notes
    -----
    Within a (replication, year), an event's weight is its window loss (clipped at 0) times the
    share of its window inside the year. When no event of the year has a positive weight the
    loss is shared by days of overlap, and when those are all zero, equally.
    """
    if events is None or len(events) == 0:
        return _frame({}, ELT_COLUMNS)
    rows = _event_years(_merged_events(events), bounds)
    totals = _year_totals(replications, bounds).set_index(["replication", "year"])
    key = pd.MultiIndex.from_frame(rows[["replication", "year"]])
    year_loss = totals["loss_usd"].reindex(key).fillna(0.0).to_numpy()
    year_volume = totals["volume_lost_mt"].reindex(key).fillna(0.0).to_numpy()
    groups = [rows["replication"], rows["year"]]
    weight = rows["window_loss_usd"].clip(lower=0.0) * rows["share_of_window"]
    by_days = rows["overlap_days"]
    ones = pd.Series(1.0, index=rows.index)
    share = np.zeros(len(rows))
    chosen = np.zeros(len(rows), dtype=bool)
    for w in (weight, by_days, ones):
        total = w.groupby(groups).transform("sum").to_numpy()
        use = ~chosen & (total > 0)
        share[use] = w.to_numpy()[use] / total[use]
        chosen |= use
    rows["loss_usd"] = year_loss * share
    rows["volume_lost_mt"] = year_volume * share
    return _frame(rows.sort_values(["replication", "year", "event"]), ELT_COLUMNS)


def year_loss_table(
    replications: pd.DataFrame,
    elt: pd.DataFrame | None = None,
    bounds: np.ndarray | None = None,
) -> pd.DataFrame:
    """Build the YLT: one row per replication-year.

    Parameters
    ----------
    replications:
        The run's replication table.
    elt:
        The event loss table (for the largest event of each year); without it the OEP
        columns are 0.
    bounds:
        Year boundaries of the horizon (:func:`sim.replication.years.year_bounds`); needed for
        runs with
        per-year columns, and gives ``days`` otherwise.
    """
    ylt = _year_totals(replications, bounds)
    if elt is not None and len(elt):
        g = elt.groupby(["replication", "year"])
        key = pd.MultiIndex.from_frame(ylt[["replication", "year"]])
        ylt["max_event_loss_usd"] = g["loss_usd"].max().reindex(key).fillna(0.0).clip(0).values
        ylt["max_event_volume_lost_mt"] = (
            g["volume_lost_mt"].max().reindex(key).fillna(0.0).clip(0).values
        )
        ylt["n_events"] = g.size().reindex(key).fillna(0).astype("int64").values
    else:
        ylt["max_event_loss_usd"] = 0.0
        ylt["max_event_volume_lost_mt"] = 0.0
        ylt["n_events"] = 0
    return _frame(ylt.sort_values(["replication", "year"]), YLT_COLUMNS)


def _per_replication(ylt: pd.DataFrame, column: str) -> np.ndarray:
    """Mean loss per year of each replication, in replication order."""
    return ylt.groupby("replication", sort=True)[column].mean().to_numpy(dtype=float)


def aal(ylt: pd.DataFrame, measure: str = "revenue_usd") -> dict[str, float]:
    """Average annual loss and its standard error.

    The AAL is the mean over replication-years; its standard error comes from the spread of the
    replications' own annual means, so correlated years of one replication are not counted as
    independent.

    Returns
    -------
    dict
        ``aal``, ``se``, ``n`` (replications) and ``years`` (YLT rows).
    """
    x = _per_replication(ylt, _columns(measure)[0])
    n = len(x)
    se = float(x.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    return {
        "aal": float(x.mean()) if n else float("nan"),
        "se": se,
        "n": n,
        "years": len(ylt),
    }


def ep_curve(ylt: pd.DataFrame, curve: str = "AEP", measure: str = "revenue_usd") -> pd.DataFrame:
    """AEP or OEP exceedance curve of a YLT, labelled with its curve and measure."""
    curve = curve.upper()
    if curve not in CURVES:
        raise ValueError(f"curve must be AEP or OEP, got {curve!r}")
    column = _columns(measure)[CURVES.index(curve)]
    out = exceedance_curve(ylt[column].to_numpy())
    out.insert(0, "curve", curve)
    out.insert(0, "measure", measure)
    return _frame(out, EP_CURVE_COLUMNS)


def return_period_table(
    ylt: pd.DataFrame, periods: tuple[int, ...] = RETURN_PERIODS
) -> pd.DataFrame:
    """Losses and TVaR at return periods, for both measures and both curves.

    Periods longer than the number of simulated years are flagged ``extrapolated`` (their
    values are the largest simulated loss, a lower bound).

    Parameters
    ----------
    ylt:
        Year loss table.
    periods:
        Return periods in years (validated by :func:`check_return_periods`).
    """
    periods = check_return_periods(periods)
    rows = []
    n = len(ylt)
    for measure, columns in MEASURES.items():
        for curve, col in zip(CURVES, columns):
            values = ylt[col].to_numpy()
            for rp in periods:
                loss, tvar = loss_at(values, rp)
                rows.append(
                    {
                        "measure": measure,
                        "curve": curve,
                        "return_period": rp,
                        "loss": loss,
                        "tvar": tvar,
                        "extrapolated": rp > n,
                    }
                )
    return _frame(
        pd.DataFrame(rows, columns=[c.name for c in RETURN_PERIOD_COLUMNS]), RETURN_PERIOD_COLUMNS
    )


def pml(
    ylt: pd.DataFrame, return_period: int = 100, measure: str = "revenue_usd", curve: str = "AEP"
) -> float:
    """Probable maximum loss: the loss at ``return_period`` on the AEP (or OEP) curve."""
    column = _columns(measure)[CURVES.index(curve.upper())]
    return loss_at(ylt[column].to_numpy(), return_period)[0]


def aal_table(ylt: pd.DataFrame) -> pd.DataFrame:
    """AAL with standard error and 95% CI, and PML at 100 and 250 years, for both measures."""
    z = float(sps.norm.ppf(0.975))
    rows = []
    for measure in MEASURES:
        a = aal(ylt, measure)
        rows.append(
            {
                "measure": measure,
                "aal": a["aal"],
                "se": a["se"],
                "ci95_low": a["aal"] - z * a["se"],
                "ci95_high": a["aal"] + z * a["se"],
                "pml_100": pml(ylt, 100, measure),
                "pml_250": pml(ylt, 250, measure),
                "replications": a["n"],
                "years": a["years"],
            }
        )
    return _frame(pd.DataFrame(rows), AAL_COLUMNS)


def convergence_table(
    ylt: pd.DataFrame, measure: str = "revenue_usd", points: int = 12
) -> pd.DataFrame:
    """AAL and its 95% CI over the first n replications, for n on a geometric grid.

    Replications are taken in index order (each one's years together), so the last row is the
    run's AAL.
    """
    x = _per_replication(ylt, _columns(measure)[0])
    n = len(x)
    if n == 0:
        return _frame({}, CONVERGENCE_COLUMNS)
    sizes = np.unique(np.geomspace(min(2, n), n, num=min(points, n)).astype(int))
    csum, csq = np.cumsum(x), np.cumsum(x * x)
    z = float(sps.norm.ppf(0.975))
    mean = csum[sizes - 1] / sizes
    var = np.where(
        sizes > 1,
        np.maximum(0.0, (csq[sizes - 1] - sizes * mean**2) / np.maximum(sizes - 1, 1)),
        np.nan,
    )
    half = z * np.sqrt(var / sizes)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(mean != 0, half / np.abs(mean), np.nan)
    return _frame(
        {
            "measure": measure,
            "replications": sizes,
            "mean": mean,
            "ci95_low": mean - half,
            "ci95_high": mean + half,
            "ci95_half": half,
            "rel_ci95_half": rel,
        },
        CONVERGENCE_COLUMNS,
    )
