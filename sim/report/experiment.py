"""The self-contained HTML report of an experiment directory (scenarios against the base).

Rendered from ``templates/experiment.html``: the scenarios, figures of the paired changes
(and of sensitivities, design points and Sobol' indices when the experiment has them), one
comparison table per metric in its display unit, and the economics of the levers.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from markupsafe import Markup
from matplotlib.figure import Figure

from sim.base.columns import metric_scale, unit_scale
from sim.figures import studies as plots
from sim.figures.style import png_bytes
from sim.report.html import figure, num, render, sig, table
from sim.store.experiments import read_comparison, read_meta, read_sobol

USD, USD_UNIT = unit_scale("USD")


def _comparison_tables(comparison: pd.DataFrame) -> list[tuple[str, str, Markup]]:
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
        tab = table(pd.DataFrame(rows), {"variance reduction (×)": num(1)})
        parts.append((str(metric), unit or "as the metric", tab))
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
                f"avoided loss ({USD_UNIT}/yr)": r.avoided_loss_usd_per_year / USD,
                f"NPV ({USD_UNIT})": r.npv_usd / USD,
                f"NPV 95% CI ({USD_UNIT})": f"{r.npv_ci95_low / USD:,.0f} – "
                f"{r.npv_ci95_high / USD:,.0f}",
                "benefit/cost": r.benefit_cost_ratio,
                "cost source": cost.get("source") or "",
            }
        )
    return pd.DataFrame(rows)


def _named(comparison: pd.DataFrame) -> pd.DataFrame:
    """Return the rows of named scenarios (not one-at-a-time or design points)."""
    if "kind" in comparison:
        return comparison[comparison["kind"] == "scenario"]
    if "parameter" in comparison:
        return comparison[comparison["parameter"] == ""]
    return comparison


def _figures(comparison: pd.DataFrame, meta: dict, indices: pd.DataFrame) -> list[Markup]:
    """Return the experiment's figures, inlined with their captions."""
    metrics = list(dict.fromkeys(comparison["metric"].astype(str)))
    named = _named(comparison)
    figs: list[tuple[Figure, str]] = [
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
    if len(indices):
        figs += [
            (plots.sobol_indices(indices, m), f"Sobol' indices of mean {m} (95% bootstrap CIs).")
            for m in metrics
        ]
    return [figure(png_bytes(fig), caption) for fig, caption in figs]


def build_comparison_report(exp_dir: Path) -> str:
    """Return the HTML report of an experiment directory (``comparison.parquet``).

    Raises
    ------
    InputError
        When a file the report needs is missing or damaged (see :mod:`sim.store.experiments`).
    """
    comparison = read_comparison(exp_dir)
    meta = read_meta(exp_dir)
    indices = read_sobol(exp_dir)
    descriptions = pd.DataFrame(
        [(k, v.get("description", "")) for k, v in meta["scenarios"].items()],
        columns=["scenario", "description"],
    )
    econ = _economics_rows(comparison, meta)
    econ_formats = {"benefit/cost": num(2), f"NPV ({USD_UNIT})": num(0)}
    return render(
        "experiment.html",
        name=meta["name"],
        replications=f"{meta['replications']:,}",
        seed=meta["seed"],
        scenarios=table(descriptions),
        figures=_figures(comparison, meta, indices),
        comparison=_comparison_tables(comparison),
        sobol=table(indices) if len(indices) else None,
        economics=table(econ, econ_formats) if len(econ) else None,
    )
