"""Figures from stored results (never by re-simulating).

Every function takes the tables it needs and returns a :class:`matplotlib.figure.Figure`; axes
carry units, the palette is Okabe-Ito (colour-blind safe) and sizes read well on A4.
:func:`save_all` writes every figure a run directory supports as PNG and SVG.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sim import losses  # noqa: E402
from sim.stats import var_cvar  # noqa: E402

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
WIDTH_IN = 7.0  # fits an A4 text column
USD_M = 1e6


def _fig(height: float = 4.2) -> tuple[Figure, plt.Axes]:
    fig, ax = plt.subplots(figsize=(WIDTH_IN, height), dpi=120, layout="constrained")
    ax.grid(True, alpha=0.3)
    return fig, ax


def loss_histogram(replications: pd.DataFrame) -> Figure:
    """Histogram of annual revenue loss with mean, VaR 95/99 and CVaR 99 marked."""
    x = replications["revenue_loss_usd"].to_numpy(dtype=float) / USD_M
    fig, ax = _fig()
    ax.hist(x, bins=min(60, max(10, len(x) // 20)), color=OKABE_ITO[5], edgecolor="white")
    marks = [("mean", float(np.mean(x)), OKABE_ITO[0], "-")]
    for level, style in ((0.95, "--"), (0.99, ":")):
        var, cvar = var_cvar(x, level)
        marks.append((f"VaR {int(level * 100)}%", var, OKABE_ITO[3], style))
        if level == 0.99:
            marks.append(("CVaR 99%", cvar, OKABE_ITO[1], "-."))
    for label, v, color, style in marks:
        ax.axvline(v, color=color, linestyle=style, linewidth=1.8, label=f"{label}: {v:,.0f}")
    ax.set_xlabel("Annual revenue loss vs undisrupted twin (USD million)")
    ax.set_ylabel("Replications")
    ax.set_title("Distribution of annual revenue loss")
    ax.legend(frameon=False)
    return fig


def ep_curves(ylt: pd.DataFrame) -> Figure:
    """Aggregate (AEP) and largest-event (OEP) exceedance curves on a log return-period axis."""
    fig, ax = _fig()
    for kind, col, color in (
        ("AEP (annual total)", "loss_usd", OKABE_ITO[0]),
        ("OEP (largest event)", "max_event_loss_usd", OKABE_ITO[3]),
    ):
        curve = losses.exceedance_curve(ylt[col].to_numpy())
        ax.plot(curve["return_period"], curve["loss_usd"] / USD_M, color=color, label=kind)
        ax.fill_between(
            curve["return_period"],
            curve["loss_low"] / USD_M,
            curve["loss_high"] / USD_M,
            color=color,
            alpha=0.2,
            linewidth=0,
        )
    ax.set_xscale("log")
    ax.set_xlabel("Return period (years, log scale)")
    ax.set_ylabel("Revenue loss (USD million)")
    ax.set_title("Exceedance curves with 90% confidence bands")
    ax.legend(frameon=False)
    return fig


def spare_capacity(replications: pd.DataFrame) -> Figure:
    """Share of each alternative asset's spare capacity used (box per asset)."""
    cols = [c for c in replications.columns if c.startswith("spare_used_pct.")]
    used = [c for c in cols if replications[c].max() > 0]
    fig, ax = _fig(max(2.5, 0.45 * len(used) + 1.2))
    if not used:
        ax.text(
            0.5, 0.5, "No spare capacity was used", ha="center", va="center", transform=ax.transAxes
        )
        ax.set_axis_off()
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
    ax.set_yticks(range(1, len(used) + 1), [c.split(".", 1)[1] for c in used])
    ax.set_xlabel("Spare capacity used over the year (% of the asset's spare; whiskers P5-P95)")
    ax.set_title("Use of alternative routes' spare capacity")
    return fig


def event_scatter(elt: pd.DataFrame) -> Figure:
    """Event duration vs allocated loss, coloured by cause."""
    fig, ax = _fig()
    if len(elt) == 0:
        ax.text(0.5, 0.5, "No events", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    for i, (cause, grp) in enumerate(elt.groupby("cause", sort=True)):
        ax.scatter(
            grp["duration_days"],
            grp["loss_usd"] / USD_M,
            s=10,
            alpha=0.6,
            color=OKABE_ITO[i % len(OKABE_ITO)],
            label=str(cause),
        )
    ax.set_xscale("log")
    ax.set_xlabel("Event duration (days, log scale)")
    ax.set_ylabel("Revenue loss allocated to the event (USD million)")
    ax.set_title("Disruption events by cause")
    ax.legend(frameon=False, fontsize=8, ncols=2)
    return fig


def convergence(ylt: pd.DataFrame) -> Figure:
    """Plot the running mean of annual loss with its 95% confidence interval."""
    tab = losses.convergence_table(ylt)
    fig, ax = _fig()
    m = tab["mean"] / USD_M
    h = tab["ci95_half"].fillna(0) / USD_M
    ax.plot(tab["replications"], m, color=OKABE_ITO[0], marker="o", label="mean")
    ax.fill_between(
        tab["replications"], m - h, m + h, color=OKABE_ITO[0], alpha=0.2, label="95% CI"
    )
    ax.set_xscale("log")
    ax.set_xlabel("Replications (log scale)")
    ax.set_ylabel("Mean annual revenue loss (USD million)")
    ax.set_title("Convergence of the mean loss")
    ax.legend(frameon=False)
    return fig


def scenario_comparison(comparison: pd.DataFrame, metric: str = "revenue_loss_usd") -> Figure:
    """Paired mean differences vs the base with 95% CIs, one bar per scenario."""
    tab = comparison[comparison["metric"] == metric].sort_values("mean_diff")
    base = metric.split(".", 1)[0]
    scale, unit = (USD_M, "USD million") if base.endswith("_usd") else (1.0, "")
    unit = unit or {"_mt": "Mt", "_days": "days", "_pct": "%"}.get(
        "_" + base.rsplit("_", 1)[-1], ""
    )
    fig, ax = _fig(max(2.5, 0.5 * len(tab) + 1.2))
    y = np.arange(len(tab))
    diff = tab["mean_diff"].to_numpy() / scale
    err = np.vstack(
        [diff - tab["ci95_low"].to_numpy() / scale, tab["ci95_high"].to_numpy() / scale - diff]
    )
    colors = [OKABE_ITO[2] if d < 0 else OKABE_ITO[3] for d in diff]
    ax.barh(y, diff, xerr=err, color=colors, capsize=4, alpha=0.85)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, tab["scenario"].astype(str).tolist())
    ax.set_xlabel(f"Change in mean {metric} vs base ({unit or 'as the metric'}), paired 95% CI")
    ax.set_title("Scenarios against the base (common random numbers)")
    return fig


def tornado(comparison: pd.DataFrame, metric: str = "revenue_loss_usd") -> Figure:
    """One-at-a-time sensitivity: change of the mean metric at each parameter's low and high."""
    tab = comparison[(comparison["metric"] == metric) & (comparison["parameter"] != "")]
    scale, unit = (USD_M, "USD million") if metric.split(".")[0].endswith("_usd") else (1.0, "")
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
    fig, ax = _fig(max(2.5, 0.5 * len(rows) + 1.2))
    y = np.arange(len(rows))
    ax.barh(y, [r[1] for r in rows], color=OKABE_ITO[0], label="low value")
    ax.barh(y, [r[2] for r in rows], color=OKABE_ITO[1], alpha=0.8, label="high value")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, [f"{r[0]}\n({r[3]} / {r[4]})" for r in rows], fontsize=8)
    ax.set_xlabel(f"Change in mean {metric} vs base ({unit or 'as the metric'})")
    ax.set_title("One-at-a-time sensitivity (common random numbers)")
    ax.legend(frameon=False)
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
    """Revenue loss of knocking out each asset (largest first), shut-in Mt written beside."""
    tab = table.head(top).iloc[::-1]
    fig, ax = _fig(max(2.5, 0.42 * len(tab) + 1.4))
    y = np.arange(len(tab))
    loss = tab["revenue_loss_usd"].to_numpy(dtype=float) / USD_M
    half = tab["revenue_loss_usd_ci95_half"].to_numpy(dtype=float) / USD_M
    colors = [OKABE_ITO[3] if v > 0 else OKABE_ITO[2] for v in loss]
    err = None if np.isnan(half).all() else np.nan_to_num(half)
    ax.barh(y, loss, xerr=err, capsize=3, color=colors, alpha=0.85)
    for yi, v, mt in zip(y, loss, tab["shut_in_mt"].to_numpy(dtype=float)):
        ax.annotate(
            f" {round(mt, 2) + 0.0:.2f} Mt",
            (max(v, 0), yi),
            va="center",
            fontsize=7,
            xytext=(4, 0),
            textcoords="offset points",
        )
    ax.axvline(0, color="black", linewidth=0.8)
    labels = [f"{a} ({k}, from {s})" for a, k, s in zip(tab["asset"], tab["kind"], tab["start"])]
    ax.set_yticks(y, labels, fontsize=8)
    days = tab["duration_days"].mean() if len(tab) else 0
    ax.set_xlabel(
        f"Revenue loss of the knock-out (USD million; mean outage {days:.0f} days)\n"
        "beside the bars: production shut in"
    )
    ax.margins(x=0.15)
    ax.set_title("Asset criticality: one asset out at a time")
    return fig


def fan_chart(timeseries: pd.DataFrame, columns: list[str], ylabel: str, title: str) -> Figure:
    """P5-P95 and P25-P75 bands and the median of daily series across replications."""
    fig, ax = _fig()
    for i, col in enumerate(columns):
        q = timeseries.groupby("day")[col].quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
        color = OKABE_ITO[i % len(OKABE_ITO)]
        ax.fill_between(q.index, q[0.05], q[0.95], color=color, alpha=0.15, linewidth=0)
        ax.fill_between(q.index, q[0.25], q[0.75], color=color, alpha=0.3, linewidth=0)
        ax.plot(q.index, q[0.5], color=color, label=col.split(".", 1)[-1])
    ax.set_xlabel("Day of the run")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    return fig


def save_all(
    replications: pd.DataFrame,
    events: pd.DataFrame,
    out_dir: Path,
    timeseries: pd.DataFrame | None = None,
) -> list[Path]:
    """Write every figure the tables support to ``out_dir`` as PNG and SVG; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    elt = losses.event_loss_table(replications, events)
    ylt = losses.year_loss_table(replications, elt)
    figures = {
        "loss_histogram": loss_histogram(replications),
        "ep_curves": ep_curves(ylt),
        "spare_capacity": spare_capacity(replications),
        "event_scatter": event_scatter(elt),
        "convergence": convergence(ylt),
    }
    if timeseries is not None and len(timeseries):
        levels = [c for c in timeseries.columns if c.startswith("level_mt.")]
        flows = [c for c in timeseries.columns if c.startswith("flow_mt.")]
        if levels:
            figures["fan_storage"] = fan_chart(
                timeseries, levels, "Storage level (Mt)", "Storage levels across replications"
            )
        if flows:
            top = sorted(flows, key=lambda c: -timeseries[c].std())[:4]
            figures["fan_flows"] = fan_chart(
                timeseries, top, "Flow (Mt/day)", "Most variable link flows across replications"
            )
    paths = []
    for name, fig in figures.items():
        for ext in ("png", "svg"):
            path = out_dir / f"{name}.{ext}"
            fig.savefig(path)
            paths.append(path)
        plt.close(fig)
    return paths
