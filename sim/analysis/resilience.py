"""Resilience summaries from stored results: per-hazard response times and the offset ledger.

The per-event metrics (time to survive, time to recover, peak shortfall, offset ledger) are
computed by :mod:`sim.replication.accounting` for every event record; this module only
summarises the
stored tables, so it never re-simulates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis.stats import Z95
from sim.base.columns import LEDGER_COLUMNS, RESILIENCE_COLUMNS, dtypes

_LEDGER_PARTS = (
    ("blocked", "blocked_mt"),
    ("absorbed by other corridors", "offset_routes_mt"),
    ("absorbed by storage and tankers", "offset_storage_mt"),
    ("not produced (shut in)", "offset_shut_in_mt"),
)


def _merge(events: pd.DataFrame) -> pd.DataFrame:
    """One row per (replication, event): common-cause records share one window."""
    ev = events[events["effective"]] if "effective" in events else events
    return (
        ev.groupby(["replication", "event"], sort=False)
        .agg(
            hazard=("hazard", "first"),
            cause=("cause", "first"),
            time_to_survive_days=("time_to_survive_days", "min"),
            time_to_recover_days=("time_to_recover_days", "max"),
            peak_shortfall_mt_per_day=("peak_shortfall_mt_per_day", "max"),
            blocked_mt=("blocked_mt", "max"),
            offset_routes_mt=("offset_routes_mt", "max"),
            offset_storage_mt=("offset_storage_mt", "max"),
            offset_shut_in_mt=("offset_shut_in_mt", "max"),
        )
        .reset_index()
    )


def by_hazard(events: pd.DataFrame, years: float) -> pd.DataFrame:
    """Response of the system to each hazard's events (:data:`sim.base.columns.RESILIENCE_COLUMNS`).

    Parameters
    ----------
    events:
        The run's event table.
    years:
        Simulated years (replications x horizon in years), for the event frequency.
    """
    names = [c.name for c in RESILIENCE_COLUMNS]
    if events is None or len(events) == 0:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes(RESILIENCE_COLUMNS).items()})
    merged = _merge(events)
    rows = []
    for (hazard, cause), g in merged.groupby(["hazard", "cause"], sort=True):
        tts = g["time_to_survive_days"].dropna()
        ttr = g["time_to_recover_days"]
        blocked = float(g["blocked_mt"].sum())

        def share(col: str, total: float = blocked, grp: pd.DataFrame = g) -> float:
            return float(grp[col].sum()) / total if total > 1e-12 else float("nan")

        rows.append(
            {
                "hazard": hazard,
                "cause": cause,
                "events": len(g),
                "events_per_year": len(g) / years if years > 0 else float("nan"),
                "share_with_shut_in": len(tts) / len(g),
                "time_to_survive_median_days": float(tts.median()) if len(tts) else np.nan,
                "time_to_recover_median_days": float(ttr.median()),
                "time_to_recover_p90_days": float(ttr.quantile(0.9)),
                "share_not_recovered": float(ttr.isna().mean()),
                "peak_shortfall_mean_mt_per_day": float(g["peak_shortfall_mt_per_day"].mean()),
                "blocked_mean_mt": blocked / len(g),
                "offset_routes_share": share("offset_routes_mt"),
                "offset_storage_share": share("offset_storage_mt"),
                "offset_shut_in_share": share("offset_shut_in_mt"),
            }
        )
    out = pd.DataFrame(rows, columns=names)
    return (
        out.sort_values("blocked_mean_mt", ascending=False, kind="stable")
        .astype(dtypes(RESILIENCE_COLUMNS))
        .reset_index(drop=True)
    )


def offset_ledger(replications: pd.DataFrame, years_per_replication: float) -> pd.DataFrame:
    """Where the blocked volume went, per year: totals and per corridor, with 95% CIs.

    ``blocked = absorbed by other corridors + by storage and tankers + not produced`` holds
    replication by replication, hence also for the means.
    """
    rows = []
    n = len(replications)
    scale = 1.0 / years_per_replication if years_per_replication > 0 else float("nan")
    blocked = float(replications["blocked_mt"].mean()) * scale if n else float("nan")
    items = list(_LEDGER_PARTS) + [
        (f"corridor {c.split('.', 1)[1]} (signed change)", c)
        for c in replications.columns
        if c.startswith("offset_mt.")
    ]
    for label, col in items:
        x = replications[col].to_numpy(dtype=float) * scale
        half = Z95 * float(x.std(ddof=1)) / np.sqrt(n) if n > 1 else float("nan")
        mean = float(x.mean()) if n else float("nan")
        rows.append(
            {
                "item": label,
                "mean_mt_per_year": mean,
                "ci95_half_mt_per_year": half,
                "share_of_blocked": mean / blocked if blocked and blocked > 1e-12 else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=[c.name for c in LEDGER_COLUMNS]).astype(
        dtypes(LEDGER_COLUMNS)
    )
