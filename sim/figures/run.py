"""Figures from stored results (never by re-simulating).

Every function takes the tables it needs and returns a :class:`matplotlib.figure.Figure`; axes
carry units, the palette is Okabe-Ito (colour-blind safe, with marker shapes as a second cue)
and sizes read well in an A4 text column. :func:`save_all` writes every figure a run directory
supports as PNG and SVG; :class:`RunPlots` is the ``run.plot`` accessor.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator  # noqa: E402
from scipy import stats as sps  # noqa: E402

from sim.analysis import losses  # noqa: E402
from sim.analysis.stats import var_cvar  # noqa: E402
from sim.base.columns import unit_of  # noqa: E402
from sim.figures.labels import asset_label, thousands  # noqa: E402
from sim.store.outputs import check_target, owned_subdir, save_figure  # noqa: E402

if TYPE_CHECKING:
    from sim.results import RunResult

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
WIDTH_IN = 7.0  # fits an A4 text column
USD_M = 1e6
RETURN_PERIOD_TICKS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000)
_MEASURE = {
    "revenue_usd": (USD_M, "USD million", "revenue loss"),
    "volume_mt": (1.0, "Mt", "volume not produced"),
}


RASTER_POINTS = 2000
"""Scatter plots with more points than this draw them as an image inside the SVG."""


def _thousands() -> FuncFormatter:
    """Tick labels with thousands separators (no offset or scientific notation)."""
    return FuncFormatter(lambda v, _: thousands(v))


def _fig(height: float = 4.2) -> tuple[Figure, plt.Axes]:
    fig, ax = plt.subplots(figsize=(WIDTH_IN, height), dpi=120, layout="constrained")
    ax.grid(True, alpha=0.3)
    ax.xaxis.set_major_formatter(_thousands())
    ax.yaxis.set_major_formatter(_thousands())
    return fig, ax


def _legend(ax: plt.Axes, **kw) -> None:
    ax.legend(frameon=True, framealpha=0.92, edgecolor="#cccccc", fontsize=8.5, **kw)


def _empty(ax: plt.Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def metric_scale(metric: str) -> tuple[float, str]:
    """Return the divisor and display unit of a replication metric (USD shown in millions)."""
    unit = unit_of(metric)
    if unit == "USD":
        return USD_M, "USD million"
    return 1.0, unit


def _measure(measure: str) -> tuple[float, str, str]:
    try:
        return _MEASURE[measure]
    except KeyError:
        raise ValueError(f"measure must be one of {list(_MEASURE)}, got {measure!r}") from None


def loss_histogram(ylt: pd.DataFrame, measure: str = "revenue_usd") -> Figure:
    """Histogram and KDE of the annual loss with mean, VaR 95/99 and CVaR 95/99 marked."""
    scale, unit, what = _measure(measure)
    x = ylt[losses.MEASURES[measure][0]].to_numpy(dtype=float) / scale
    fig, ax = _fig()
    if len(x) == 0:
        _empty(ax, "No results")
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
    _legend(ax, loc="upper right", title=unit, title_fontsize=8.5)
    return fig


def _return_period_axis(ax: plt.Axes, longest: float) -> None:
    ax.set_xscale("log")
    ticks = [t for t in RETURN_PERIOD_TICKS if t <= max(longest, 1) * 1.01]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(_thousands())
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlim(1, max(longest, 2))


def ep_curves(ylt: pd.DataFrame, measure: str = "revenue_usd") -> Figure:
    """AEP (annual total) and OEP (largest event) curves on a log return-period axis."""
    scale, unit, what = _measure(measure)
    fig, ax = _fig()
    if len(ylt) == 0:
        _empty(ax, "No results")
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
    _legend(ax, loc="upper left")
    return fig


def spare_capacity(replications: pd.DataFrame) -> Figure:
    """Share of each alternative asset's spare capacity used (box per asset)."""
    cols = [c for c in replications.columns if c.startswith("spare_used_pct.")]
    used = [c for c in cols if replications[c].max() > 0]
    fig, ax = _fig(max(2.5, 0.45 * len(used) + 1.4))
    if not used:
        _empty(ax, "No spare capacity was used")
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
    fig, ax = _fig()
    if len(elt) == 0:
        _empty(ax, "No events")
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
            grp["loss"] / USD_M,
            s=12,
            alpha=0.6,
            color=OKABE_ITO[i % len(OKABE_ITO)],
            marker=MARKERS[i % len(MARKERS)],
            label=f"{cause} ({len(grp):,})",
            rasterized=dense,
        )
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(_thousands())
    ax.set_xlabel("Event duration (days, log scale)")
    ax.set_ylabel("Allocated revenue loss (USD million)")
    ax.set_title("Disruption events by cause")
    _legend(ax, loc="upper left", ncols=2, title="cause (events)", title_fontsize=8.5)
    return fig


def convergence(ylt: pd.DataFrame, measure: str = "revenue_usd") -> Figure:
    """Plot the average annual loss over the first n replications with its 95% CI."""
    scale, unit, what = _measure(measure)
    tab = losses.convergence_table(ylt, measure)
    fig, ax = _fig()
    if len(tab) == 0:
        _empty(ax, "No results")
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
    ax.xaxis.set_major_formatter(_thousands())
    ax.set_xlabel("Replications (log scale)")
    ax.set_ylabel(f"Average annual {what} ({unit})")
    ax.set_title(f"Convergence of the average annual {what}")
    _legend(ax, loc="upper right")
    return fig


def scenario_comparison(comparison: pd.DataFrame, metric: str = "revenue_loss_usd") -> Figure:
    """Paired mean differences vs the base with their 95% CIs, one bar per scenario."""
    tab = comparison[comparison["metric"] == metric].sort_values("mean_diff")
    scale, unit = metric_scale(metric)
    fig, ax = _fig(max(2.6, 0.55 * len(tab) + 1.5))
    if len(tab) == 0:
        _empty(ax, f"No scenario reports {metric}")
        return fig
    y = np.arange(len(tab))
    diff = tab["mean_diff"].to_numpy(dtype=float) / scale
    err = np.vstack(
        [
            diff - tab["ci95_low"].to_numpy(dtype=float) / scale,
            tab["ci95_high"].to_numpy(dtype=float) / scale - diff,
        ]
    )
    colors = [OKABE_ITO[2] if d < 0 else OKABE_ITO[3] for d in diff]
    ax.barh(y, diff, color=colors, alpha=0.85, height=0.6)
    ax.errorbar(diff, y, xerr=err, fmt="none", ecolor="black", capsize=4, label="paired 95% CI")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, tab["scenario"].astype(str).tolist())
    ax.set_ylabel("Scenario")
    ax.set_xlabel(f"Change in mean {metric} vs base ({unit or 'as the metric'})")
    ax.set_title(f"Scenarios against the base: {metric}")
    _legend(ax, loc="best")
    return fig


def tornado(comparison: pd.DataFrame, metric: str = "revenue_loss_usd") -> Figure:
    """One-at-a-time sensitivity: change of the mean metric at each parameter's low and high."""
    tab = comparison[(comparison["metric"] == metric) & (comparison["parameter"] != "")]
    scale, unit = metric_scale(metric)
    rows = []
    for param, grp in tab.groupby("parameter", sort=False):
        lo = grp[grp["scenario"].str.endswith("_low")]
        hi = grp[grp["scenario"].str.endswith("_high")]
        if len(lo) and len(hi):
            rows.append(
                (
                    str(param),
                    float(lo["mean_diff"].iloc[0]) / scale,
                    float(hi["mean_diff"].iloc[0]) / scale,
                    str(lo["value"].iloc[0]),
                    str(hi["value"].iloc[0]),
                )
            )
    rows.sort(key=lambda r: abs(r[2] - r[1]))
    fig, ax = _fig(max(2.6, 0.55 * len(rows) + 1.5))
    y = np.arange(len(rows))
    # Side by side, so a low and a high change of the same sign do not hide each other.
    ax.barh(y - 0.19, [r[1] for r in rows], height=0.38, color=OKABE_ITO[0], label="low value")
    ax.barh(y + 0.19, [r[2] for r in rows], height=0.38, color=OKABE_ITO[1], label="high value")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, [f"{r[0]}\n(low {r[3]} / high {r[4]})" for r in rows], fontsize=8)
    ax.set_xlabel(f"Change in mean {metric} vs base ({unit or 'as the metric'})")
    ax.set_ylabel("Parameter (low / high value)")
    ax.set_title(f"One-at-a-time sensitivity of {metric}")
    _legend(ax, loc="best")
    return fig


def _scale(metric: str) -> tuple[float, str]:
    base = metric.split(".", 1)[0]
    if base.endswith("_usd"):
        return USD_M, "USD million"
    return 1.0, {"_mt": "Mt", "_days": "days", "_pct": "%"}.get("_" + base.rsplit("_", 1)[-1], "")


def sobol_indices(indices: pd.DataFrame, metric: str = "revenue_loss_usd") -> Figure:
    """First- and total-order Sobol' indices of one metric with their bootstrap CIs."""
    tab = indices[indices["metric"] == metric].sort_values("ST")
    fig, ax = _fig(max(2.5, 0.55 * len(tab) + 1.4))
    y = np.arange(len(tab))
    h = 0.38
    for offset, col, label, color in (
        (h / 2, "ST", "total order (S_T)", OKABE_ITO[1]),
        (-h / 2, "S1", "first order (S_1)", OKABE_ITO[0]),
    ):
        v = tab[col].to_numpy(dtype=float)
        err = np.vstack(
            [
                np.clip(v - tab[f"{col}_low"].to_numpy(dtype=float), 0, None),
                np.clip(tab[f"{col}_high"].to_numpy(dtype=float) - v, 0, None),
            ]
        )
        ax.barh(y + offset, v, height=h, xerr=err, capsize=3, color=color, label=label)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, tab["parameter"].astype(str).tolist(), fontsize=8)
    n = int(tab["n"].iloc[0]) if "n" in tab and len(tab) else 0
    ax.set_xlabel(f"Share of the variance of mean {metric}\n(bars: 95% bootstrap CIs)")
    ax.set_title(f"Sobol' sensitivity (n = {n} base points)")
    ax.legend(frameon=False, loc="lower right")
    return fig


def design_scatter(
    comparison: pd.DataFrame, keys: list[str], metric: str = "revenue_loss_usd"
) -> Figure:
    """Mean of ``metric`` at each design point against each swept parameter (one panel each)."""
    tab = comparison[comparison["metric"] == metric]
    scale, unit = _scale(metric)
    cols = min(3, max(1, len(keys)))
    rows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(WIDTH_IN, 2.4 * rows + 0.6),
        dpi=120,
        layout="constrained",
        squeeze=False,
    )
    y = tab["scenario_mean"].to_numpy(dtype=float) / scale
    for ax, key in zip(axes.flat, keys):
        x = pd.to_numeric(tab[key], errors="coerce").to_numpy(dtype=float)
        if np.isnan(x).all():
            labels = tab[key].astype(str).to_numpy()
            cats = sorted(set(labels))
            x = np.array([cats.index(v) for v in labels], dtype=float)
            ax.set_xticks(range(len(cats)), cats, fontsize=7)
        ax.scatter(x, y, s=10, alpha=0.7, color=OKABE_ITO[0])
        head, _, tail = key.rpartition(".")
        ax.set_xlabel(f"{head}\n.{tail}" if head else key, fontsize=7)
        ax.grid(True, alpha=0.3)
    for ax in list(axes.flat)[len(keys) :]:
        ax.set_axis_off()
    axes[0][0].set_ylabel(f"mean {metric} ({unit or 'as the metric'})", fontsize=8)
    fig.suptitle("Design points: mean outcome against each swept parameter")
    return fig


def criticality(table: pd.DataFrame, top: int = 20) -> Figure:
    """Revenue loss of knocking out each asset (largest first), with its kind, start and shut-in.

    Everything written sits in tick labels and axis labels, which the constrained layout keeps
    inside the figure (texts beside the bars were cut off at the edge).
    """
    tab = table.head(top).iloc[::-1]
    fig, ax = _fig(max(2.5, 0.5 * len(tab) + 1.5))
    y = np.arange(len(tab))
    loss = tab["revenue_loss_usd"].to_numpy(dtype=float) / USD_M
    half = tab["revenue_loss_usd_ci95_half"].to_numpy(dtype=float) / USD_M
    colors = [OKABE_ITO[3] if v > 0 else OKABE_ITO[2] for v in loss]
    err = None if np.isnan(half).all() else np.nan_to_num(half)
    ax.barh(y, loss, xerr=err, capsize=3, color=colors, alpha=0.85)
    ax.axvline(0, color="black", linewidth=0.8)
    labels = [
        f"{asset_label(str(a))}\n{k} from {s}, {round(mt, 2) + 0.0:.2f} Mt shut in"
        for a, k, s, mt in zip(tab["asset"], tab["kind"], tab["start"], tab["shut_in_mt"])
    ]
    ax.set_yticks(y, labels, fontsize=7.5)
    days = tab["duration_days"].mean() if len(tab) else 0
    ax.set_xlabel(f"Revenue loss of the knock-out (USD million)\nmean outage {days:,.0f} days")
    ax.set_title("Asset criticality: one asset out at a time")
    return fig


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
    n = max(1, len(columns))
    ncols = 1 if n <= 2 else 2
    dates = _dates_by_day(timeseries, start_date)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(WIDTH_IN, 1.0 + 1.9 * nrows),
        dpi=120,
        layout="constrained",
        sharex=True,
        squeeze=False,
    )
    for i, ax in enumerate(axes.flat):
        if i >= len(columns):
            ax.set_axis_off()
            continue
        col = columns[i]
        q = timeseries.groupby("day")[col].quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
        if dates is not None:
            q.index = dates.reindex(q.index).to_numpy()
        color = OKABE_ITO[i % len(OKABE_ITO)]
        ax.grid(True, alpha=0.3)
        ax.fill_between(
            q.index, q[0.05], q[0.95], color=color, alpha=0.18, linewidth=0, label="P5-P95"
        )
        ax.fill_between(
            q.index, q[0.25], q[0.75], color=color, alpha=0.4, linewidth=0, label="P25-P75"
        )
        ax.plot(q.index, q[0.5], color=color, linewidth=1.3, label="median")
        ax.set_title(asset_label(col.split(".", 1)[-1]), fontsize=9.5)
        ax.yaxis.set_major_formatter(_thousands())
        ax.tick_params(labelsize=8.5)
        ax.set_ylim(bottom=min(0.0, float(q[0.05].min())))
        if i % ncols == 0:
            ax.set_ylabel(ylabel, fontsize=8.5)
        if i == 0:
            _legend(ax, loc="best")
    for i, ax in enumerate(axes.flat[: len(columns)]):
        if i + ncols >= len(columns):  # nothing below: this panel carries the day axis
            ax.xaxis.set_tick_params(labelbottom=True)
            if dates is None:
                ax.set_xlabel("Day of the run (0 = start date)", fontsize=8.5)
            else:
                ax.set_xlabel("Date", fontsize=8.5)
    if dates is not None:
        locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
        for ax in axes.flat[: len(columns)]:
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
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


def save_all(
    replications: pd.DataFrame,
    events: pd.DataFrame,
    out_dir: Path,
    timeseries: pd.DataFrame | None = None,
    bounds: np.ndarray | None = None,
    start_date: object = None,
) -> list[Path]:
    """Write every figure the tables support to ``out_dir`` as PNG and SVG; return the paths.

    ``start_date`` (the run's) puts calendar dates on the fan charts' time axis.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
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
    paths = [out_dir / f"{n}.{ext}" for n, f in figures.items() if f for ext in ("png", "svg")]
    for path in paths:
        check_target(path)  # before any is written: no symlink, device or directory replaced
    for path in paths:
        save_figure(figures[path.stem], path)
    for fig in figures.values():
        if fig is not None:
            plt.close(fig)
    return paths


class RunPlots:
    """Figures of one stored run (``run.plot``); each method returns a Figure."""

    def __init__(self, run: RunResult) -> None:
        self._run = run

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

    def save_all(self, out_dir: str | Path | None = None) -> list[Path]:
        """Write all figures (PNG and SVG) to ``out_dir`` (default: ``<run>/figures``)."""
        run = self._run
        ts = run.timeseries
        return save_all(
            run.replications,
            run.events,
            Path(out_dir) if out_dir else owned_subdir(run.path, "figures"),
            ts if len(ts) else None,
            run.year_bounds(),
            run.config.run.start_date,
        )
