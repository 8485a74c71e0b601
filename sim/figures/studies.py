"""Figures of studies: scenario comparisons, sensitivities, design points and criticality.

Each function takes the study's table and returns a :class:`matplotlib.figure.Figure` drawn
in the common style (:mod:`sim.figures.style`); values are shown in the display unit of their
column (:func:`sim.base.columns.metric_scale`: USD in millions).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.base.columns import metric_scale, unit_words
from sim.figures.labels import asset_label
from sim.figures.style import OKABE_ITO, WIDTH_IN, empty, legend, new_figure, new_grid

USD_SCALE, USD_UNIT = unit_words("USD")
"""Divisor and unit of USD amounts on the axes (shown in millions)."""


def scenario_comparison(comparison: pd.DataFrame, metric: str = "revenue_loss_usd") -> Figure:
    """Paired mean differences vs the base with their 95% CIs, one bar per scenario."""
    tab = comparison[comparison["metric"] == metric].sort_values("mean_diff")
    scale, unit = metric_scale(metric)
    fig, ax = new_figure(max(2.6, 0.55 * len(tab) + 1.5))
    if len(tab) == 0:
        empty(ax, f"No scenario reports {metric}")
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
    legend(ax, loc="best")
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
    fig, ax = new_figure(max(2.6, 0.55 * len(rows) + 1.5))
    y = np.arange(len(rows))
    # Side by side, so a low and a high change of the same sign do not hide each other.
    ax.barh(y - 0.19, [r[1] for r in rows], height=0.38, color=OKABE_ITO[0], label="low value")
    ax.barh(y + 0.19, [r[2] for r in rows], height=0.38, color=OKABE_ITO[1], label="high value")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, [f"{r[0]}\n(low {r[3]} / high {r[4]})" for r in rows], fontsize=8)
    ax.set_xlabel(f"Change in mean {metric} vs base ({unit or 'as the metric'})")
    ax.set_ylabel("Parameter (low / high value)")
    ax.set_title(f"One-at-a-time sensitivity of {metric}")
    legend(ax, loc="best")
    return fig


def sobol_indices(indices: pd.DataFrame, metric: str = "revenue_loss_usd") -> Figure:
    """First- and total-order Sobol' indices of one metric with their bootstrap CIs."""
    tab = indices[indices["metric"] == metric].sort_values("ST")
    fig, ax = new_figure(max(2.5, 0.55 * len(tab) + 1.4))
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
    scale, unit = metric_scale(metric)
    cols = min(3, max(1, len(keys)))
    rows = math.ceil(len(keys) / cols)
    fig, axes = new_grid(
        rows, cols, (WIDTH_IN, 2.4 * rows + 0.6), layout="constrained", squeeze=False
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
    fig, ax = new_figure(max(2.5, 0.5 * len(tab) + 1.5))
    y = np.arange(len(tab))
    loss = tab["revenue_loss_usd"].to_numpy(dtype=float) / USD_SCALE
    half = tab["revenue_loss_usd_ci95_half"].to_numpy(dtype=float) / USD_SCALE
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
    ax.set_xlabel(f"Revenue loss of the knock-out ({USD_UNIT})\nmean outage {days:,.0f} days")
    ax.set_title("Asset criticality: one asset out at a time")
    return fig


__all__ = ["criticality", "design_scatter", "scenario_comparison", "sobol_indices", "tornado"]
