"""The self-contained HTML report of a run directory.

:func:`build_report` shows run metadata (config hash, seed, version), key figures, the loss
tables (AAL, return periods, PML, largest years and events, loss by cause, convergence),
resilience summaries and the assumptions of the config with their ``source`` fields. Tables are
formatted for reading (USD in millions, units in the headers). The experiment comparison report
is in :mod:`sim.report.experiment`.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import pandas as pd

from sim.analysis import losses, resilience
from sim.base.units import DAYS_PER_YEAR
from sim.figures import run as plots
from sim.figures.run import metric_scale
from sim.report.experiment import build_comparison_report
from sim.report.html import figure, num, page, table
from sim.results import RunResult
from sim.store.layout import read_summary

__all__ = ["build_comparison_report", "build_report", "write_report"]


def _parameter_uncertainty(summary: dict) -> list[str]:
    """Section on the variance split of a second-order run (empty for ordinary runs)."""
    split = summary.get("parameter_uncertainty")
    if not split:
        return []
    from sim.analysis.variance import split_table

    return [
        "<h2>Parameter uncertainty</h2>",
        "<p>Hazard rates were drawn per parameter set from their <code>rate_uncertainty"
        "</code>. The variance of each outcome splits (law of total variance, one-way "
        "random-effects estimators, see <code>sim/analysis/variance.py</code>) into the spread of "
        "the expected outcome across parameter sets and the year-to-year variability "
        "within a set.</p>",
        table(split_table(split)),
    ]


def _headline_band(summary: dict) -> str:
    """Sentence on the parameter-uncertainty band of the mean loss (second-order runs only)."""
    split = (summary.get("parameter_uncertainty") or {}).get("revenue_loss_usd")
    if not split:
        return ""
    return (
        f" Second-order Monte Carlo over {int(split['parameter_sets']):,} parameter sets: "
        "the expected annual loss itself is uncertain, its 5-95% band across parameter sets "
        f"is <b>{split['conditional_mean_p5'] / 1e6:,.0f} to "
        f"{split['conditional_mean_p95'] / 1e6:,.0f} USD million</b> (standard error of the "
        f"mean, both sources: {split['se_mean'] / 1e6:,.0f})."
    )


def _historical_fit(run: RunResult) -> list[str]:
    """Section placing the recorded years in this run's distribution, when it was computed."""
    path = run.path / "tables" / "historical_fit.csv"
    head = "<h2>Historical fit: 2022-2025 in this distribution</h2>"
    if not path.is_file():
        return [
            head,
            "<p class='note'>Not computed for this run: <code>python scripts/historical_fit.py "
            f"{html.escape(str(run.path))}</code> replays the recorded years on this network and "
            "places them here.</p>",
        ]
    fit = pd.read_csv(path)
    shown = pd.DataFrame(
        {
            "year": fit["year"].astype(int).astype(str),
            "events left out": fit["left_out"].fillna("").astype(str),
            "revenue loss (USD m)": fit["loss_usd"] / 1e6,
            "percentile": fit["revenue_percentile"],
            "volume lost (Mt)": fit["volume_lost_mt"],
            "volume percentile": fit["volume_percentile"],
        }
    )
    return [
        head,
        "<p>Each recorded year's events (<code>seeds/replay_&lt;year&gt;.csv</code>) replayed on "
        "this run's network at its reference price, and the empirical percentile of that loss "
        "among this run's years (<code>scripts/historical_fit.py</code>, "
        "<code>docs/calibration.md</code> §11). A calibrated default puts each between p10 and "
        "p97.</p>",
        table(
            shown,
            {"percentile": num(1), "volume lost (Mt)": num(2), "volume percentile": num(1)},
        ),
    ]


def _assumptions(run: RunResult) -> pd.DataFrame:
    cfg = run.config
    rows = []

    def add(section: str, ident: str, value: str, source: str | None) -> None:
        rows.append(
            {"section": section, "id": ident, "value": value, "source": source or "(none given)"}
        )

    for s in cfg.sources:
        add("source", s.id, f"{s.production_mt_per_year:g} Mt/yr", s.source)
    for s in cfg.storages:
        add("storage", s.id, f"{s.capacity_mt:g} Mt", s.source)
    for s in cfg.pipelines:
        add(
            "pipeline",
            s.id,
            f"{s.capacity_mt_per_year:g} Mt/yr, {s.tariff_usd_per_t:g} USD/t",
            s.source,
        )
    for s in cfg.terminals:
        add("terminal", s.id, f"{s.capacity_mt_per_year:g} Mt/yr, {s.berths} berths", s.source)
    for s in cfg.shuttles:
        fleet = ", ".join(f"{f.count}x{f.dwt_t:g} t" for f in s.fleet)
        add("shuttle", s.id, f"{fleet}; {s.distance_nm:g} nm", s.source)
    for s in cfg.markets:
        add("market", s.id, f"{s.price_differential_usd_per_bbl:+g} USD/bbl vs Brent", s.source)
    for name, hz in cfg.hazards.items():
        rate = getattr(hz.arrivals, "rate_per_year", None)
        when = f"{rate:g}/yr" if rate is not None else hz.arrivals.process
        off = " (disabled)" if not hz.enabled else ""
        value = f"{hz.cause.value}, {when} on {', '.join(hz.assets)}{off}"
        add("hazard", name, value, hz.source)
    return pd.DataFrame(rows)


def _meta(run: RunResult, summary: dict) -> pd.DataFrame:
    man = run.manifest
    cfg = run.config
    price = cfg.economics.price
    horizon = cfg.run.horizon_days
    return pd.DataFrame(
        [
            ("config", str(man.get("config_name"))),
            ("config hash", str(man.get("config_hash"))),
            ("root seed", str(man.get("seed"))),
            ("replications", f"{summary.get('replications', 0):,}"),
            ("failed replications", str(summary.get("failed", 0))),
            (
                "horizon",
                f"{horizon:g} days ({horizon / DAYS_PER_YEAR:.2f} years) from {cfg.run.start_date}",
            ),
            ("price", f"{price.model}, Brent {price.brent_usd_per_bbl:g} USD/bbl"),
            (
                "discount rate",
                f"{cfg.economics.discount_rate_per_year:.1%} per year (annual effective)",
            ),
            ("corridor-sim version", str(man.get("package_version"))),
            ("created", str(man.get("created"))),
            ("executor", f"{man.get('executor')} x {man.get('workers')}"),
        ],
        columns=["item", "value"],
    )


def _summary_stats(metrics: dict) -> pd.DataFrame:
    names = [
        k
        for k in (
            "revenue_loss_usd",
            "shut_in_mt",
            "deferred_mt",
            "exported_mt",
            "shut_in_days",
            "n_events",
            "blocked_mt",
        )
        if k in metrics
    ]
    names += sorted(
        (k for k in metrics if k.startswith("spare_used_mt.") and metrics[k].get("mean", 0) > 0),
        key=lambda k: -metrics[k]["mean"],
    )
    rows = []
    for k in names:
        scale, unit = metric_scale(k)
        m = metrics[k]
        row = {"metric": k, "unit": unit}
        for c in ("mean", "ci95_half", "p5", "p50", "p95", "cvar99"):
            v = m.get(c)
            row[c] = float(v) / scale if v is not None else float("nan")
        row["P(>0)"] = m.get("p_positive", float("nan"))
        rows.append(row)
    df = pd.DataFrame(rows)
    return df.rename(columns={"ci95_half": "± 95% CI", "cvar99": "CVaR 99%"})


def _aal(ylt: pd.DataFrame) -> pd.DataFrame:
    tab = losses.aal_table(ylt)
    rows = []
    for r in tab.itertuples(index=False):
        k, unit = (1e6, "USD million") if r.measure == "revenue_usd" else (1.0, "Mt")
        rows.append(
            {
                "measure": r.measure,
                "unit": unit,
                "AAL": r.aal / k,
                "standard error": r.se / k,
                "95% CI": f"{r.ci95_low / k:,.2f} – {r.ci95_high / k:,.2f}",
                "PML 100 yr": r.pml_100 / k,
                "PML 250 yr": r.pml_250 / k,
            }
        )
    return pd.DataFrame(rows)


def _return_periods(ylt: pd.DataFrame) -> pd.DataFrame:
    rp = losses.return_period_table(ylt)
    out = pd.DataFrame({"return period (years)": sorted(set(rp["return_period"]))})
    for measure, k, unit in (("revenue_usd", 1e6, "USD m"), ("volume_mt", 1.0, "Mt")):
        for curve in losses.CURVES:
            sel = rp[(rp["measure"] == measure) & (rp["curve"] == curve)].set_index("return_period")
            for col, label in (("loss", "loss"), ("tvar", "TVaR")):
                values = []
                for period in out["return period (years)"]:
                    v = sel.loc[period, col] / k
                    mark = "≥ " if sel.loc[period, "extrapolated"] else ""
                    values.append(
                        f"{mark}{v:,.2f}" if measure == "volume_mt" else f"{mark}{v:,.0f}"
                    )
                out[f"{curve} {label} ({unit})"] = values
    return out


def _largest_years(ylt: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    top = ylt.sort_values("loss_usd", ascending=False).head(n)
    return pd.DataFrame(
        {
            "replication": top["replication"].to_numpy(),
            "year": top["year"].to_numpy(),
            "loss (USD m)": top["loss_usd"].to_numpy() / 1e6,
            "volume lost (Mt)": top["volume_lost_mt"].to_numpy(),
            "largest event (USD m)": top["max_event_loss_usd"].to_numpy() / 1e6,
            "events": top["n_events"].to_numpy(),
        }
    )


def _largest_events(elt: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    if len(elt) == 0:
        return pd.DataFrame({"no events": []})
    per_event = (
        elt.groupby(["replication", "event"])
        .agg(
            hazard=("hazard", "first"),
            assets=("assets", "first"),
            year=("year", "first"),
            start_day=("start_day", "first"),
            duration_days=("duration_days", "first"),
            loss=("loss_usd", "sum"),
            volume=("volume_lost_mt", "sum"),
        )
        .reset_index()
        .sort_values("loss", ascending=False)
        .head(n)
    )
    return pd.DataFrame(
        {
            "replication": per_event["replication"].to_numpy(),
            "hazard": per_event["hazard"].astype(str).to_numpy(),
            "assets": per_event["assets"].astype(str).str.replace(",", ", ").to_numpy(),
            "year": per_event["year"].to_numpy(),
            "start (day)": per_event["start_day"].to_numpy(),
            "duration (days)": per_event["duration_days"].to_numpy(),
            "loss (USD m)": per_event["loss"].to_numpy() / 1e6,
            "volume lost (Mt)": per_event["volume"].to_numpy(),
        }
    )


def _by_cause(elt: pd.DataFrame, years: int) -> pd.DataFrame:
    if len(elt) == 0:
        return pd.DataFrame({"no events": []})
    g = elt.groupby("cause")
    loss = g["loss_usd"].sum()
    total = max(float(loss.clip(lower=0).sum()), 1e-9)
    events = elt.drop_duplicates(["replication", "event"]).groupby("cause").size()
    return pd.DataFrame(
        {
            "cause": loss.index.astype(str),
            "events per year": (events.reindex(loss.index) / max(years, 1)).to_numpy(),
            "loss (USD m per year)": loss.to_numpy() / 1e6 / max(years, 1),
            "volume (Mt per year)": g["volume_lost_mt"].sum().to_numpy() / max(years, 1),
            "share of loss (%)": 100 * loss.to_numpy() / total,
        }
    ).sort_values("loss (USD m per year)", ascending=False)


def _resilience(events: pd.DataFrame, years: float) -> pd.DataFrame:
    tab = resilience.by_hazard(events, years)
    return pd.DataFrame(
        {
            "hazard": tab["hazard"].astype(str),
            "per year": tab["events_per_year"],
            "with shut-in (%)": 100 * tab["share_with_shut_in"],
            "TTS median (d)": tab["time_to_survive_median_days"],
            "TTR median (d)": tab["time_to_recover_median_days"],
            "TTR P90 (d)": tab["time_to_recover_p90_days"],
            "peak shortfall (Mt/d)": tab["peak_shortfall_mean_mt_per_day"],
            "blocked (Mt/event)": tab["blocked_mean_mt"],
            "rerouted (%)": 100 * tab["offset_routes_share"],
            "stored (%)": 100 * tab["offset_storage_share"],
            "shut in (%)": 100 * tab["offset_shut_in_share"],
        }
    )


def _ledger(reps: pd.DataFrame, years_per_rep: float) -> pd.DataFrame:
    tab = resilience.offset_ledger(reps, years_per_rep)
    return pd.DataFrame(
        {
            "item": tab["item"].astype(str),
            "Mt per year": tab["mean_mt_per_year"],
            "± 95% CI": tab["ci95_half_mt_per_year"],
            "share of blocked (%)": 100 * tab["share_of_blocked"],
        }
    )


def _convergence(ylt: pd.DataFrame) -> pd.DataFrame:
    tab = losses.convergence_table(ylt, points=8)
    return pd.DataFrame(
        {
            "replications": tab["replications"],
            "AAL (USD m)": tab["mean"] / 1e6,
            "95% CI (USD m)": [
                f"{a / 1e6:,.0f} – {b / 1e6:,.0f}" if not math.isnan(a) else "–"
                for a, b in zip(tab["ci95_low"], tab["ci95_high"])
            ],
            "relative half-width (%)": 100 * tab["rel_ci95_half"],
        }
    )


_NOTES = (
    "<p class='note'>Losses are paired: each replication is compared with an undisrupted twin "
    "on the same price path. Revenue loss is netback revenue (discounted) plus the value of oil "
    "still held at the end; volume lost is production not produced. Event losses are the "
    "year's loss allocated to the events overlapping it, in proportion to their window "
    "losses. Return-period losses are read off the empirical exceedance curve (rank n/T of n "
    "years); values marked ≥ lie beyond the simulated years and are only the largest simulated "
    "loss. Confidence bands treat years as independent; with multi-year horizons, years of one "
    "replication can be correlated (regimes), so bands are then too narrow. The AAL's standard "
    "error is computed between replications.</p>"
)


def build_report(run: RunResult) -> str:
    """Return the report of ``run`` as one HTML string."""
    man = run.manifest
    summary = read_summary(run.path, man)
    reps, events = run.replications, run.events
    bounds = run.year_bounds()
    years_per_rep = float(bounds[-1] - bounds[0]) / DAYS_PER_YEAR
    elt = losses.event_loss_table(reps, events, bounds)
    ylt = losses.year_loss_table(reps, elt, bounds)
    a = losses.aal(ylt)
    v = losses.aal(ylt, "volume_mt")
    name = html.escape(str(man.get("config_name")))
    figures = [
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
    ts = run.timeseries
    if len(ts):
        for fig, caption in (
            (plots.fan_storage(ts, run.config.run.start_date), "Storage levels over the run."),
            (
                plots.fan_flows(ts, start_date=run.config.run.start_date),
                "Flows on the most variable links over the run.",
            ),
        ):
            if fig is not None:
                figures.append((fig, caption))
    horizon_note = ""
    if years_per_rep < 0.99:
        horizon_note = (
            f"<p class='note'><b>The horizon is {bounds[-1]:g} days, shorter than a year:</b> "
            'each "year" below is one replication of that length, so return periods are in '
            "units of that horizon.</p>"
        )
    parts = [
        f"<h1>Disruption risk report: {name}</h1>",
        f"<p>Average annual revenue loss <b>{a['aal'] / 1e6:,.1f} USD million</b> (standard "
        f"error {a['se'] / 1e6:,.1f}); average annual volume not produced "
        f"<b>{v['aal']:,.2f} Mt</b> (standard error {v['se']:,.2f}); 100-year aggregate "
        f"revenue loss (PML) <b>{losses.pml(ylt, 100) / 1e6:,.0f} USD million</b>. "
        f"{a['n']:,} replications, {a['years']:,} replication-years.{_headline_band(summary)}"
        "</p>",
        horizon_note,
        "<h2>Run</h2>",
        table(_meta(run, summary), numeric_text=False),
        "<h2>Key figures</h2>",
        *[figure(f, c) for f, c in figures],
        "<h2>Loss tables</h2>",
        _NOTES,
        "<h3>Average annual loss and PML</h3>",
        table(_aal(ylt), {"AAL": num(2), "standard error": num(2)}),
        "<h3>Losses at return periods (AEP: annual total; OEP: largest event)</h3>",
        table(_return_periods(ylt)),
        "<h3>Largest years</h3>",
        table(_largest_years(ylt), {"volume lost (Mt)": num(2)}),
        "<h3>Largest events</h3>",
        table(
            _largest_events(elt),
            {"start (day)": num(0), "duration (days)": num(1), "volume lost (Mt)": num(2)},
        ),
        "<h3>Loss by cause</h3>",
        table(_by_cause(elt, len(ylt)), {"share of loss (%)": num(1)}),
        "<h3>Convergence of the average annual revenue loss</h3>",
        table(_convergence(ylt), {"AAL (USD m)": num(0), "relative half-width (%)": num(1)}),
        "<h2>Resilience</h2>",
        "<p class='note'>Per hazard, over its events: how often buffers ran out (shut-in), the "
        "time to survive (TTS: start to first shut-in), the time to recover (TTR: until "
        "capacity, production and buffers are back), the largest export shortfall rate, and "
        "where the blocked exports went (a negative stored share: buffers ended the event window "
        "holding less than the twin's).</p>",
        table(
            _resilience(events, len(reps) * years_per_rep),
            {"per year": num(2), "with shut-in (%)": num(0), "rerouted (%)": num(0)}
            | {"stored (%)": num(0), "shut in (%)": num(0)},
        ),
        "<h3>Offset ledger: where blocked exports went</h3>",
        table(_ledger(reps, years_per_rep), {"share of blocked (%)": num(1)}),
        *_parameter_uncertainty(summary),
        *_historical_fit(run),
        "<h2>Summary statistics (per replication, over the whole horizon)</h2>",
        table(_summary_stats(summary["metrics"]), {"P(>0)": num(2)}),
        "<h2>Assumptions and sources</h2>",
        "<p>Each asset and hazard of the config with its key value and its <code>source</code> "
        "field (rows of <code>seeds/</code>); see <code>docs/calibration.md</code>.</p>",
        table(_assumptions(run)),
    ]
    return page(f"corridor-sim report: {man.get('config_name')}", parts)


def write_report(run: RunResult, path: Path | None = None) -> Path:
    """Write the report to ``path`` (default ``<run>/report.html``)."""
    from sim.store.layout import atomic_write_bytes

    target = path or run.path / "report.html"
    atomic_write_bytes(target, build_report(run).encode("utf-8"))
    return target
