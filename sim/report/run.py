"""The self-contained HTML report of a run directory.

:func:`build_report` shows run metadata (config hash, seed, version), key figures, the loss
tables (AAL, return periods, PML, largest years and events, loss by cause, convergence),
resilience summaries and the assumptions of the config with their ``source`` fields, rendered
from ``templates/run.html``. Tables are formatted for reading (:mod:`sim.report.run_tables`:
USD in millions, units in the headers). The experiment comparison report is in
:mod:`sim.report.experiment`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from sim.analysis import losses
from sim.analysis.variance import split_table
from sim.base.columns import unit_words
from sim.base.units import DAYS_PER_YEAR
from sim.figures import fans
from sim.figures import run as plots
from sim.figures.style import png_bytes
from sim.report import run_tables as tables
from sim.report.experiment import build_comparison_report
from sim.report.html import figure, num, render, table
from sim.report.run_tables import StoredRun
from sim.store.layout import atomic_write_bytes, read_summary

__all__ = ["build_comparison_report", "build_report", "write_report"]

USD, USD_WORDS = unit_words("USD")


def _figures(run: StoredRun, elt: pd.DataFrame, ylt: pd.DataFrame) -> list[Markup]:
    """Return the key figures of the run, inlined with their captions."""
    reps = run.replications
    drawn = [
        (plots.loss_histogram(ylt), "Annual revenue loss against the undisrupted twin."),
        (
            plots.ep_curves(ylt),
            "Revenue loss exceedance curves: annual total (AEP) and largest event (OEP), "
            "with 90% order-statistic bands.",
        ),
        (plots.ep_curves(ylt, "volume_mt"), "Exceedance curves of the volume not produced."),
        (plots.spare_capacity(reps), "Spare capacity of alternative routes used."),
        (plots.event_scatter(elt), "Events: duration against allocated revenue loss, by cause."),
        (plots.convergence(ylt), "Average annual loss as replications accumulate."),
    ]
    ts, start = run.timeseries, run.config.run.start_date
    if len(ts):
        drawn += [
            (fans.fan_storage(ts, start), "Storage levels over the run."),
            (
                fans.fan_flows(ts, start_date=start),
                "Flows on the most variable links over the run.",
            ),
        ]
    return [figure(png_bytes(fig), caption) for fig, caption in drawn if fig is not None]


def _headline(ylt: pd.DataFrame) -> dict[str, str]:
    """Return the numbers of the opening sentence, formatted."""
    a = losses.aal(ylt)
    v = losses.aal(ylt, "volume_mt")
    return {
        "aal": f"{a['aal'] / USD:,.1f}",
        "aal_se": f"{a['se'] / USD:,.1f}",
        "volume": f"{v['aal']:,.2f}",
        "volume_se": f"{v['se']:,.2f}",
        "pml": f"{losses.pml(ylt, 100) / USD:,.0f}",
        "replications": f"{a['n']:,}",
        "years": f"{a['years']:,}",
    }


def _band(summary: dict) -> dict[str, str] | None:
    """Return the parameter-uncertainty band of the mean loss (second-order runs only)."""
    split = (summary.get("parameter_uncertainty") or {}).get("revenue_loss_usd")
    if not split:
        return None
    return {
        "sets": f"{int(split['parameter_sets']):,}",
        "p5": f"{split['conditional_mean_p5'] / USD:,.0f}",
        "p95": f"{split['conditional_mean_p95'] / USD:,.0f}",
        "se": f"{split['se_mean'] / USD:,.0f}",
    }


def _historical_fit(run: StoredRun) -> Markup | None:
    """Return the recorded years placed in this run's distribution, when that was computed."""
    path = run.path / "tables" / "historical_fit.csv"
    if not path.is_file():
        return None
    fit = pd.read_csv(path)
    shown = pd.DataFrame(
        {
            "year": fit["year"].astype(int).astype(str),
            "events left out": fit["left_out"].fillna("").astype(str),
            f"revenue loss ({tables.USD_UNIT})": fit["loss_usd"] / USD,
            "percentile": fit["revenue_percentile"],
            "volume lost (Mt)": fit["volume_lost_mt"],
            "volume percentile": fit["volume_percentile"],
        }
    )
    formats = {"percentile": num(1), "volume lost (Mt)": num(2), "volume percentile": num(1)}
    return table(shown, formats)


def _loss_tables(ylt: pd.DataFrame, elt: pd.DataFrame) -> dict[str, Markup]:
    """Return the loss tables, rendered."""
    return {
        "aal": table(tables.aal_table(ylt), {"AAL": num(2), "standard error": num(2)}),
        "return_periods": table(tables.return_periods_table(ylt)),
        "largest_years": table(tables.largest_years_table(ylt), {"volume lost (Mt)": num(2)}),
        "largest_events": table(
            tables.largest_events_table(elt),
            {"start (day)": num(0), "duration (days)": num(1), "volume lost (Mt)": num(2)},
        ),
        "by_cause": table(tables.by_cause_table(elt, len(ylt)), {"share of loss (%)": num(1)}),
        "convergence": table(
            tables.convergence_table(ylt),
            {f"AAL ({tables.USD_UNIT})": num(0), "relative half-width (%)": num(1)},
        ),
    }


def _run_tables(run: StoredRun, summary: dict, years_per_rep: float) -> dict[str, Any]:
    """Return the resilience, uncertainty, fit, summary and assumption tables, rendered."""
    reps, events = run.replications, run.events
    split = summary.get("parameter_uncertainty")
    resilience_formats = {"per year": num(2), "with shut-in (%)": num(0), "rerouted (%)": num(0)}
    resilience_formats |= {"stored (%)": num(0), "shut in (%)": num(0)}
    return {
        "meta": table(tables.meta_table(run, summary), numeric_text=False),
        "resilience": table(
            tables.resilience_table(events, len(reps) * years_per_rep), resilience_formats
        ),
        "ledger": table(tables.ledger_table(reps, years_per_rep), {"share of blocked (%)": num(1)}),
        "split": table(split_table(split)) if split else None,
        "historical_fit": _historical_fit(run),
        "summary": table(tables.summary_stats_table(summary["metrics"]), {"P(>0)": num(2)}),
        "assumptions": table(tables.assumptions_table(run)),
    }


def build_report(run: StoredRun) -> str:
    """Return the report of ``run`` as one HTML string."""
    man = run.manifest
    summary = read_summary(run.path, man)
    bounds: np.ndarray = run.year_bounds()
    years_per_rep = float(bounds[-1] - bounds[0]) / DAYS_PER_YEAR
    elt = losses.event_loss_table(run.replications, run.events, bounds)
    ylt = losses.year_loss_table(run.replications, elt, bounds)
    return render(
        "run.html",
        title=str(man.get("config_name")),
        name=str(man.get("config_name")),
        usd=USD_WORDS,
        head=_headline(ylt),
        band=_band(summary),
        short_horizon=f"{bounds[-1]:g}" if years_per_rep < 0.99 else None,
        figures=_figures(run, elt, ylt),
        tables=_loss_tables(ylt, elt) | _run_tables(run, summary, years_per_rep),
        run_path=str(run.path),
    )


def write_report(run: StoredRun, path: Path | None = None) -> Path:
    """Write the report to ``path`` (default ``<run>/report.html``)."""
    target = path or run.path / "report.html"
    atomic_write_bytes(target, build_report(run).encode("utf-8"))
    return target
