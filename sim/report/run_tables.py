"""The tables of the run report, each in display units (USD in millions, units in headers).

Every function takes the run's tables (or the run for its config and manifest) and returns a
:class:`pandas.DataFrame` ready for :func:`sim.report.html.table`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from sim.analysis import losses, resilience
from sim.base.columns import HEADLINE_METRICS, metric_scale, unit_scale, unit_words
from sim.base.units import DAYS_PER_YEAR
from sim.config.models import Config


class StoredRun(Protocol):
    """What the report reads of a stored run (:class:`sim.RunResult` provides it)."""

    @property
    def path(self) -> Path:
        """The run directory."""

    @property
    def manifest(self) -> dict[str, Any]:
        """The run's manifest."""

    @property
    def config(self) -> Config:
        """The run's resolved config."""

    @property
    def replications(self) -> pd.DataFrame:
        """One row per replication."""

    @property
    def events(self) -> pd.DataFrame:
        """One row per event record."""

    @property
    def timeseries(self) -> pd.DataFrame:
        """Daily series (empty without ``--timeseries``)."""

    def year_bounds(self) -> np.ndarray:
        """Year boundaries of the horizon, in days."""


USD, USD_UNIT = unit_scale("USD")
"""Divisor and short label of USD amounts in the tables (millions, "USD m")."""


def assumptions_table(run: StoredRun) -> pd.DataFrame:
    """Each asset and hazard of the run's config with its key value and its ``source``."""
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


def meta_table(run: StoredRun, summary: dict) -> pd.DataFrame:
    """Return the run's metadata: config and hash, seed, replications, horizon, version."""
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


def summary_stats_table(metrics: dict) -> pd.DataFrame:
    """Per-replication statistics of the headline metrics and the spare capacity used."""
    names = [k for k in HEADLINE_METRICS if k in metrics]
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


def aal_table(ylt: pd.DataFrame) -> pd.DataFrame:
    """Average annual loss with its standard error, 95% CI and PML, for both measures."""
    tab = losses.aal_table(ylt)
    rows = []
    for r in tab.itertuples(index=False):
        k, unit = unit_words(losses.MEASURE_UNITS[r.measure])
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


def return_periods_table(ylt: pd.DataFrame) -> pd.DataFrame:
    """Losses and TVaR at return periods (AEP and OEP, both measures); ``≥`` when extrapolated."""
    rp = losses.return_period_table(ylt)
    out = pd.DataFrame({"return period (years)": sorted(set(rp["return_period"]))})
    for measure in losses.MEASURES:
        k, unit = unit_scale(losses.MEASURE_UNITS[measure])
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


def largest_years_table(ylt: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """Return the ``n`` replication-years with the largest revenue loss."""
    top = ylt.sort_values("loss_usd", ascending=False).head(n)
    return pd.DataFrame(
        {
            "replication": top["replication"].to_numpy(),
            "year": top["year"].to_numpy(),
            f"loss ({USD_UNIT})": top["loss_usd"].to_numpy() / USD,
            "volume lost (Mt)": top["volume_lost_mt"].to_numpy(),
            f"largest event ({USD_UNIT})": top["max_event_loss_usd"].to_numpy() / USD,
            "events": top["n_events"].to_numpy(),
        }
    )


def largest_events_table(elt: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """Return the ``n`` events with the largest allocated revenue loss (over their years)."""
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
            f"loss ({USD_UNIT})": per_event["loss"].to_numpy() / USD,
            "volume lost (Mt)": per_event["volume"].to_numpy(),
        }
    )


def by_cause_table(elt: pd.DataFrame, years: int) -> pd.DataFrame:
    """Events, loss and volume per year by cause, with each cause's share of the loss."""
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
            f"loss ({USD_UNIT} per year)": loss.to_numpy() / USD / max(years, 1),
            "volume (Mt per year)": g["volume_lost_mt"].sum().to_numpy() / max(years, 1),
            "share of loss (%)": 100 * loss.to_numpy() / total,
        }
    ).sort_values(f"loss ({USD_UNIT} per year)", ascending=False)


def resilience_table(events: pd.DataFrame, years: float) -> pd.DataFrame:
    """Per hazard: frequency, shut-in share, TTS, TTR, peak shortfall and where oil went."""
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


def ledger_table(reps: pd.DataFrame, years_per_rep: float) -> pd.DataFrame:
    """Return the offset ledger: blocked volume per year and where it went."""
    tab = resilience.offset_ledger(reps, years_per_rep)
    return pd.DataFrame(
        {
            "item": tab["item"].astype(str),
            "Mt per year": tab["mean_mt_per_year"],
            "± 95% CI": tab["ci95_half_mt_per_year"],
            "share of blocked (%)": 100 * tab["share_of_blocked"],
        }
    )


def convergence_table(ylt: pd.DataFrame) -> pd.DataFrame:
    """Return the AAL and its 95% CI over the first n replications."""
    tab = losses.convergence_table(ylt, points=8)
    return pd.DataFrame(
        {
            "replications": tab["replications"],
            f"AAL ({USD_UNIT})": tab["mean"] / USD,
            f"95% CI ({USD_UNIT})": [
                f"{a / USD:,.0f} – {b / USD:,.0f}" if not math.isnan(a) else "–"
                for a, b in zip(tab["ci95_low"], tab["ci95_high"])
            ],
            "relative half-width (%)": 100 * tab["rel_ci95_half"],
        }
    )
