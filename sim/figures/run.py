"""Figures of a run, from its stored tables (never by re-simulating).

Every function takes the tables it needs and returns a :class:`matplotlib.figure.Figure` in the
common style (:mod:`sim.figures.style`: Okabe-Ito palette with marker shapes as a second cue,
sized for an A4 text column); axes carry units, amounts in their display unit
(:func:`sim.base.columns.unit_words`: USD in millions). :func:`run_figures` draws every figure a
run supports; :class:`RunPlots` is the ``run.plot`` accessor.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator
from scipy import stats as sps

from sim.analysis import losses
from sim.analysis.stats import var_cvar
from sim.base.columns import unit_words
from sim.figures.fans import fan_flows, fan_storage
from sim.figures.labels import asset_label
from sim.figures.style import (
    MARKERS,
    OKABE_ITO,
    close,
    empty,
    legend,
    new_figure,
    thousands_formatter,
)

RETURN_PERIOD_TICKS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000)
RASTER_POINTS = 2000
"""Scatter plots with more points than this draw them as an image inside the SVG."""
USD_SCALE, USD_UNIT = unit_words("USD")
_WHAT = {"revenue_usd": "revenue loss", "volume_mt": "volume not produced"}


def _measure(measure: str) -> tuple[float, str, str]:
    """Divisor, unit in words and what is measured, of a loss measure."""
    if measure not in _WHAT:
        raise ValueError(f"measure must be one of {list(_WHAT)}, got {measure!r}")
    return (*unit_words(losses.MEASURE_UNITS[measure]), _WHAT[measure])


def loss_histogram(ylt: pd.DataFrame, measure: str = "revenue_usd") -> Figure:
    """Histogram and KDE of the annual loss with mean, VaR 95/99 and CVaR 95/99 marked."""
    scale, unit, what = _measure(measure)
    x = ylt[losses.MEASURES[measure][0]].to_numpy(dtype=float) / scale
    fig, ax = new_figure()
    if len(x) == 0:
        empty(ax, "No results")
        return fig
    bins = min(60, max(10, len(x) // 20))
    counts, edges, _ = ax.hist(
        x, bins=bins, color=OKABE_ITO[5], edgecolor="white", alpha=0.8, label="replication-years"
    )
    if len(x) >= 5 and np.std(x) > 0:
        grid = np.linspace(edges[0], edges[-1], 400)
        kde = sps.gaussian_kde(x)(grid) * len(x) * (edges[1] - edges[0])
        ax.plot(grid, kde, color=OKABE_ITO[7], linewidth=1.2, label="kernel density")
    var95, cvar95 = var_cvar(x, 0.95)
    var99, cvar99 = var_cvar(x, 0.99)
    marks = [
        ("mean", float(np.mean(x)), OKABE_ITO[0], "-"),
        ("VaR 95%", var95, OKABE_ITO[3], "--"),
        ("CVaR 95%", cvar95, OKABE_ITO[3], "-."),
        ("VaR 99%", var99, OKABE_ITO[1], "--"),
        ("CVaR 99%", cvar99, OKABE_ITO[1], "-."),
    ]
    digits = 0 if measure == "revenue_usd" else 2
    for label, v, color, style in marks:
        ax.axvline(
            v, color=color, linestyle=style, linewidth=1.6, label=f"{label}: {v:,.{digits}f}"
        )
    ax.set_xlabel(f"Annual {what} vs the undisrupted twin ({unit})")
    ax.set_ylabel("Replication-years")
    ax.set_title(f"Distribution of the annual {what} ({len(x):,} replication-years)")
    legend(ax, loc="upper right", title=unit, title_fontsize=8.5)
    return fig


def _return_period_axis(ax: Axes, longest: float) -> None:
    ax.set_xscale("log")
    ticks = [t for t in RETURN_PERIOD_TICKS if t <= max(longest, 1) * 1.01]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(thousands_formatter())
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlim(1, max(longest, 2))


def ep_curves(ylt: pd.DataFrame, measure: str = "revenue_usd") -> Figure:
    """AEP (annual total) and OEP (largest event) curves on a log return-period axis."""
    scale, unit, what = _measure(measure)
    fig, ax = new_figure()
    if len(ylt) == 0:
        empty(ax, "No results")
        return fig
    for curve, label, color in (
        ("AEP", "AEP: annual total", OKABE_ITO[0]),
        ("OEP", "OEP: largest event of the year", OKABE_ITO[3]),
    ):
        c = losses.ep_curve(ylt, curve, measure)
        ax.plot(c["return_period"], c["loss"] / scale, color=color, label=label)
        ax.fill_between(
            c["return_period"],
            c["loss_low"] / scale,
            c["loss_high"] / scale,
            color=color,
            alpha=0.2,
            linewidth=0,
            label=f"{curve} 90% band",
        )
    _return_period_axis(ax, float(len(ylt)))
    ax.set_xlabel("Return period (years, log scale)")
    ax.set_ylabel(f"Annual {what} ({unit})")
    ax.set_title(f"Exceedance curves of the {what} ({len(ylt):,} replication-years)")
    legend(ax, loc="upper left")
    return fig


def spare_capacity(replications: pd.DataFrame) -> Figure:
    """Share of each alternative asset's spare capacity used (box per asset)."""
    cols = [c for c in replications.columns if c.startswith("spare_used_pct.")]
    used = [c for c in cols if replications[c].max() > 0]
    fig, ax = new_figure(max(2.5, 0.45 * len(used) + 1.4))
    if not used:
        empty(ax, "No spare capacity was used")
        return fig
    used.sort(key=lambda c: replications[c].mean())
    ax.boxplot(
        [replications[c].to_numpy() for c in used],
        orientation="horizontal",
        whis=(5, 95),
        showfliers=False,
        patch_artist=True,
        boxprops={"facecolor": OKABE_ITO[2], "alpha": 0.6},
        medianprops={"color": "black"},
    )
    ax.set_yticks(range(1, len(used) + 1), [asset_label(c.split(".", 1)[1]) for c in used])
    ax.set_xlabel("Spare capacity used over the horizon (% of the asset's spare)")
    ax.set_ylabel("Asset")
    ax.set_title(
        "Use of alternative routes' spare capacity\n(box: P25-P75 with median; whiskers: P5-P95)"
    )
    return fig


def event_scatter(elt: pd.DataFrame) -> Figure:
    """Event duration vs allocated revenue loss, one colour and marker per cause."""
    fig, ax = new_figure()
    if len(elt) == 0:
        empty(ax, "No events")
        return fig
    per_event = (
        elt.groupby(["replication", "event"])
        .agg(
            cause=("cause", "first"),
            duration_days=("duration_days", "first"),
            loss=("loss_usd", "sum"),
        )
        .reset_index()
    )
    per_event = per_event[per_event["duration_days"] > 0]
    dense = len(per_event) > RASTER_POINTS  # thousands of vector markers make a huge SVG
    for i, (cause, grp) in enumerate(per_event.groupby("cause", sort=True)):
        ax.scatter(
            grp["duration_days"],
            grp["loss"] / USD_SCALE,
            s=12,
            alpha=0.6,
            color=OKABE_ITO[i % len(OKABE_ITO)],
            marker=MARKERS[i % len(MARKERS)],
            label=f"{cause} ({len(grp):,})",
            rasterized=dense,
        )
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(thousands_formatter())
    ax.set_xlabel("Event duration (days, log scale)")
    ax.set_ylabel(f"Allocated revenue loss ({USD_UNIT})")
    ax.set_title("Disruption events by cause")
    legend(ax, loc="upper left", ncols=2, title="cause (events)", title_fontsize=8.5)
    return fig


def convergence(ylt: pd.DataFrame, measure: str = "revenue_usd") -> Figure:
    """Plot the average annual loss over the first n replications with its 95% CI."""
    scale, unit, what = _measure(measure)
    tab = losses.convergence_table(ylt, measure)
    fig, ax = new_figure()
    if len(tab) == 0:
        empty(ax, "No results")
        return fig
    n = tab["replications"]
    ax.fill_between(
        n,
        tab["ci95_low"].fillna(tab["mean"]) / scale,
        tab["ci95_high"].fillna(tab["mean"]) / scale,
        color=OKABE_ITO[0],
        alpha=0.2,
        label="95% CI",
    )
    ax.plot(n, tab["mean"] / scale, color=OKABE_ITO[0], marker="o", label="mean")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(thousands_formatter())
    ax.set_xlabel("Replications (log scale)")
    ax.set_ylabel(f"Average annual {what} ({unit})")
    ax.set_title(f"Convergence of the average annual {what}")
    legend(ax, loc="upper right")
    return fig


def run_figures(
    replications: pd.DataFrame,
    events: pd.DataFrame,
    timeseries: pd.DataFrame | None = None,
    bounds: np.ndarray | None = None,
    start_date: object = None,
) -> dict[str, Figure]:
    """Return every figure the tables support, by file stem.

    ``start_date`` (the run's) puts calendar dates on the fan charts' time axis; the fan charts
    are drawn only with a time series that has their columns.
    """
    elt = losses.event_loss_table(replications, events, bounds)
    ylt = losses.year_loss_table(replications, elt, bounds)
    figures: dict[str, Figure | None] = {
        "loss_histogram": loss_histogram(ylt),
        "ep_curves": ep_curves(ylt),
        "ep_curves_volume": ep_curves(ylt, "volume_mt"),
        "spare_capacity": spare_capacity(replications),
        "event_scatter": event_scatter(elt),
        "convergence": convergence(ylt),
    }
    if timeseries is not None and len(timeseries):
        figures["fan_storage"] = fan_storage(timeseries, start_date)
        figures["fan_flows"] = fan_flows(timeseries, start_date=start_date)
    return {name: fig for name, fig in figures.items() if fig is not None}


SaveFigures = Callable[[dict[str, Figure], "Path | None"], list[Path]]
"""Writes figures by file stem to a directory (``None``: the run's own) and returns the paths."""


class RunPlots:
    """Figures of one stored run (``run.plot``); each method returns a Figure.

    Parameters
    ----------
    run:
        The run (:class:`~sim.results.RunResult`): its tables and config.
    save:
        How :meth:`save_all` writes files (given by the run, which owns its directory).
    """

    def __init__(self, run: Any, save: SaveFigures) -> None:
        self._run = run
        self._save = save

    def loss_histogram(self, measure: str = "revenue_usd") -> Figure:
        """Histogram and KDE of the annual loss with mean, VaR and CVaR."""
        return loss_histogram(self._run.ylt(), measure)

    def ep_curves(self, measure: str = "revenue_usd") -> Figure:
        """AEP and OEP curves with confidence bands."""
        return ep_curves(self._run.ylt(), measure)

    def spare_capacity(self) -> Figure:
        """Spare capacity used per alternative asset."""
        return spare_capacity(self._run.replications)

    def event_scatter(self) -> Figure:
        """Event duration vs loss by cause."""
        return event_scatter(self._run.elt())

    def convergence(self, measure: str = "revenue_usd") -> Figure:
        """Plot the AAL over the first n replications with its CI."""
        return convergence(self._run.ylt(), measure)

    def fan_storage(self) -> Figure | None:
        """Storage levels over the run (needs a run with ``--timeseries``)."""
        return fan_storage(self._run.timeseries, self._run.config.run.start_date)

    def fan_flows(self) -> Figure | None:
        """Most variable link flows over the run (needs ``--timeseries``)."""
        return fan_flows(self._run.timeseries, start_date=self._run.config.run.start_date)

    def all(self) -> dict[str, Figure]:
        """Every figure the run supports, by file stem (see :func:`run_figures`)."""
        run = self._run
        ts = run.timeseries
        return run_figures(
            run.replications,
            run.events,
            ts if len(ts) else None,
            run.year_bounds(),
            run.config.run.start_date,
        )

    def save_all(self, out_dir: str | Path | None = None) -> list[Path]:
        """Write all figures (PNG and SVG) to ``out_dir`` (default: ``<run>/figures``)."""
        figures = self.all()
        try:
            return self._save(figures, Path(out_dir) if out_dir else None)
        finally:
            for fig in figures.values():
                close(fig)


__all__ = [
    "RunPlots",
    "convergence",
    "ep_curves",
    "event_scatter",
    "loss_histogram",
    "run_figures",
    "spare_capacity",
]
