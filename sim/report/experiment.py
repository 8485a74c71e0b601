"""The self-contained HTML report of an experiment directory (scenarios against the base)."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from sim.figures import run as plots
from sim.figures.run import metric_scale
from sim.report.html import figure, num, page, sig, table
from sim.store.experiments import read_comparison, read_meta, read_sobol


def _comparison_tables(comparison: pd.DataFrame) -> list[str]:
    """One table per metric (scenarios as rows), values in the metric's display unit."""
    parts = []
    for metric, grp in comparison.groupby("metric", sort=False):
        scale, unit = metric_scale(str(metric))
        rows = [
            {
                "scenario": str(r.scenario),
                "base mean": r.base_mean / scale,
                "scenario mean": r.scenario_mean / scale,
                "change": r.mean_diff / scale,
                "paired 95% CI": f"{sig(r.ci95_low / scale)} – {sig(r.ci95_high / scale)}",
                "unpaired ±": r.unpaired_ci95_half / scale,
                "variance reduction (×)": r.variance_reduction,
            }
            for r in grp.itertuples(index=False)
        ]
        parts.append(
            f"<h3>{html.escape(str(metric))} ({html.escape(unit or 'as the metric')})</h3>"
        )
        parts.append(table(pd.DataFrame(rows), {"variance reduction (×)": num(1)}))
    return parts


def _economics_rows(comparison: pd.DataFrame, meta: dict) -> pd.DataFrame:
    if "npv_usd" not in comparison:
        return pd.DataFrame()
    tab = comparison[comparison["npv_usd"].notna()]
    rows = []
    for r in tab.itertuples(index=False):
        cost = (meta["scenarios"].get(str(r.scenario), {}) or {}).get("cost") or {}
        rows.append(
            {
                "scenario": str(r.scenario),
                "avoided loss (USD m/yr)": r.avoided_loss_usd_per_year / 1e6,
                "NPV (USD m)": r.npv_usd / 1e6,
                "NPV 95% CI (USD m)": f"{r.npv_ci95_low / 1e6:,.0f} – {r.npv_ci95_high / 1e6:,.0f}",
                "benefit/cost": r.benefit_cost_ratio,
                "cost source": cost.get("source") or "",
            }
        )
    return pd.DataFrame(rows)


def build_comparison_report(exp_dir: Path) -> str:
    """Return the HTML report of an experiment directory (``comparison.parquet``).

    Raises
    ------
    InputError
        When a file the report needs is missing or damaged (see :mod:`sim.store.experiments`).
    """
    comparison = read_comparison(exp_dir)
    meta = read_meta(exp_dir)
    metrics = list(dict.fromkeys(comparison["metric"].astype(str)))
    if "kind" in comparison:
        named = comparison[comparison["kind"] == "scenario"]
    elif "parameter" in comparison:
        named = comparison[comparison["parameter"] == ""]
    else:
        named = comparison
    figs = [
        (plots.scenario_comparison(named, m), f"Paired change in mean {m} against the base.")
        for m in metrics
        if len(named)
    ]
    if "parameter" in comparison and (comparison["parameter"] != "").any():
        figs += [
            (plots.tornado(comparison, m), f"One-at-a-time sensitivity of mean {m}.")
            for m in metrics
        ]
    swept = list(meta.get("factorial") or {}) + list(
        (meta.get("design") or {}).get("parameters") or {}
    )
    if swept:
        figs += [
            (plots.design_scatter(comparison, swept, m), f"Design points: mean {m}.")
            for m in metrics
        ]
    indices = read_sobol(exp_dir)
    if len(indices):
        figs += [
            (plots.sobol_indices(indices, m), f"Sobol' indices of mean {m} (95% bootstrap CIs).")
            for m in metrics
        ]
    descriptions = pd.DataFrame(
        [(k, v.get("description", "")) for k, v in meta["scenarios"].items()],
        columns=["scenario", "description"],
    )
    econ = _economics_rows(comparison, meta)
    title = html.escape(meta["name"])
    parts = [
        f"<h1>Experiment: {title}</h1>",
        f"<p>{meta['replications']:,} replications per scenario, root seed {meta['seed']}; "
        "every scenario uses the base's random streams (common random numbers), so each "
        "difference is paired replication by replication. The paired CI is the one to read; the "
        "unpaired half-width shows what independent runs would have given.</p>",
        "<h2>Scenarios</h2>",
        table(descriptions),
        "<h2>Figures</h2>",
        *[figure(f, c) for f, c in figs],
        "<h2>Comparison</h2>",
        *_comparison_tables(comparison),
    ]
    if len(indices):
        parts += [
            "<h2>Sobol' indices</h2>",
            "<p class='note'>First-order (S1) and total (ST) indices of each design point's mean "
            "over its replications, with 95% bootstrap confidence intervals.</p>",
            table(indices),
        ]
    if len(econ):
        parts += [
            "<h2>Economics</h2>",
            "<p class='note'>Avoided loss = minus the paired change in mean revenue loss; NPV "
            "over the lever's lifetime at its discount rate; costs as given in the experiment "
            "file (see their sources).</p>",
            table(econ, {"benefit/cost": num(2), "NPV (USD m)": num(0)}),
        ]
    parts.append(
        "<p class='note'>All columns: <code>comparison.csv</code> in the experiment directory.</p>"
    )
    return page(f"corridor-sim experiment: {meta['name']}", parts)
