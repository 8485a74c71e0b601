"""Fan charts: daily series of a run across its replications, as median and quantile bands.

One small panel per series (storage levels, link flows); the time axis is in calendar dates
when the series carry them or the run's start date is given, in day numbers otherwise.
"""

from __future__ import annotations

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.figures.labels import asset_label
from sim.figures.style import (
    OKABE_ITO,
    WIDTH_IN,
    legend,
    new_grid,
    thousands_formatter,
)


def _dates_by_day(timeseries: pd.DataFrame, start_date: object = None) -> pd.Series | None:
    """Map day index to calendar date: the ``date`` column, else ``start_date`` + day."""
    if not len(timeseries):
        return None
    if "date" in timeseries.columns:
        pairs = timeseries[["day", "date"]].drop_duplicates("day").set_index("day")["date"]
        dates = pd.to_datetime(pairs.astype(str), errors="coerce")
        return None if dates.isna().any() else dates
    if start_date is None:
        return None
    days = np.unique(timeseries["day"].to_numpy())
    start = pd.Timestamp(str(start_date))
    return pd.Series(start + pd.to_timedelta(days, unit="D"), index=days)


def _fan_grid(n: int) -> tuple[Figure, np.ndarray, int]:
    """Return the figure, its axes and the number of columns of ``n`` fan panels."""
    ncols = 1 if n <= 2 else 2
    nrows = -(-n // ncols)
    fig, axes = new_grid(
        nrows,
        ncols,
        (WIDTH_IN, 1.0 + 1.9 * nrows),
        layout="constrained",
        sharex=True,
        squeeze=False,
    )
    return fig, axes, ncols


def _fan_panel(ax: Axes, q: pd.DataFrame, color: str, title: str) -> None:
    """Draw one series' P5-P95 and P25-P75 bands and its median (``q``: quantiles by day)."""
    ax.grid(True, alpha=0.3)
    ax.fill_between(q.index, q[0.05], q[0.95], color=color, alpha=0.18, linewidth=0, label="P5-P95")
    ax.fill_between(q.index, q[0.25], q[0.75], color=color, alpha=0.4, linewidth=0, label="P25-P75")
    ax.plot(q.index, q[0.5], color=color, linewidth=1.3, label="median")
    ax.set_title(title, fontsize=9.5)
    ax.yaxis.set_major_formatter(thousands_formatter())
    ax.tick_params(labelsize=8.5)
    ax.set_ylim(bottom=min(0.0, float(q[0.05].min())))


def _fan_time_axis(panels: list[Axes], ncols: int, dated: bool) -> None:
    """Label the time axis under the bottom panel of each column; calendar ticks when dated."""
    for i, ax in enumerate(panels):
        if i + ncols >= len(panels):  # nothing below: this panel carries the day axis
            ax.xaxis.set_tick_params(labelbottom=True)
            label = "Date" if dated else "Day of the run (0 = start date)"
            ax.set_xlabel(label, fontsize=8.5)
    if dated:
        locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
        for ax in panels:
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def fan_chart(
    timeseries: pd.DataFrame,
    columns: list[str],
    ylabel: str,
    title: str,
    start_date: object = None,
) -> Figure:
    """Small multiples, one per series: median, P25-P75 and P5-P95 bands across replications.

    The time axis shows calendar months when the series carry dates or ``start_date`` (the
    run's ``run.start_date``) is given, day numbers otherwise.
    """
    fig, axes, ncols = _fan_grid(max(1, len(columns)))
    dates = _dates_by_day(timeseries, start_date)
    panels = list(axes.flat[: len(columns)])
    for ax in axes.flat[len(columns) :]:
        ax.set_axis_off()
    for i, (ax, col) in enumerate(zip(panels, columns)):
        q = timeseries.groupby("day")[col].quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
        if dates is not None:
            q.index = dates.reindex(q.index).to_numpy()
        _fan_panel(ax, q, OKABE_ITO[i % len(OKABE_ITO)], asset_label(col.split(".", 1)[-1]))
        if i % ncols == 0:
            ax.set_ylabel(ylabel, fontsize=8.5)
        if i == 0:
            legend(ax, loc="best")
    _fan_time_axis(panels, ncols, dates is not None)
    fig.suptitle(title)
    return fig


def fan_storage(timeseries: pd.DataFrame, start_date: object = None) -> Figure | None:
    """Fan chart of every storage level (``None`` without storages)."""
    levels = [c for c in timeseries.columns if c.startswith("level_mt.")]
    if not levels:
        return None
    return fan_chart(
        timeseries,
        levels,
        "Level, end of day (Mt)",
        "Storage levels across replications",
        start_date,
    )


def fan_flows(timeseries: pd.DataFrame, top: int = 4, start_date: object = None) -> Figure | None:
    """Fan chart of the ``top`` link flows that vary most across replications and days."""
    flows = [c for c in timeseries.columns if c.startswith("flow_mt.")]
    if not flows:
        return None
    chosen = sorted(flows, key=lambda c: -timeseries[c].std())[:top]
    return fan_chart(
        timeseries,
        chosen,
        "Flow, daily mean (Mt/day)",
        "Route flows across replications (the most variable links)",
        start_date,
    )


__all__ = ["fan_chart", "fan_flows", "fan_storage"]
