"""Replay a calendar year: the network driven by a dated schedule, compared with the record.

The replay config is the given config with every random element switched off: no hazards, no
regime chain, the schedule as its ``scripted_events``, a fixed price (volumes do not depend on
prices; routing always uses netbacks at ``brent_usd_per_bbl``), payload factors at their means,
and a horizon of exactly the calendar year. The run is therefore deterministic: its volumes are
exact arithmetic of the network and the schedule. The undisrupted twin of the same year (no
events) is run too, so each simulated volume can be split into the baseline the network
delivers and the effect of the events.

Monthly and annual volumes come from the accounting layer's daily series (link flows per day,
exact interpolations of the engine's piecewise-constant rates), deliveries to markets and
tanker landings, summed by calendar month.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.config.distributions import fraction_mean
from sim.config.loader import validate_config
from sim.config.models import Config
from sim.model.streams import Streams
from sim.replay.recorded import TOTAL
from sim.replay.schedule import Schedule
from sim.replication import accounting
from sim.replication.runner import Model


@dataclass
class ReplayResult:
    """A replayed year.

    Attributes
    ----------
    year:
        The calendar year.
    config:
        The deterministic replay config (schedule included).
    schedule:
        The schedule that was replayed.
    monthly:
        Long table ``quantity, period, simulated_mt, undisrupted_mt, event_effect_mt`` for every
        link, shuttle and ``exports_total``, per month and for the ``year``.
    comparison:
        The recorded figures of the year against the simulation (see :func:`compare`); empty
        without recorded figures.
    events:
        The event table of the replayed year (volumes lost and deferred per scripted event).
    summary:
        The replication's one-row summary (``exported_mt``, ``shut_in_mt``, ...).
    """

    year: int
    config: Config
    schedule: Schedule
    monthly: pd.DataFrame
    comparison: pd.DataFrame
    events: pd.DataFrame
    summary: dict

    def figure(self):
        """Return the figure of simulated against recorded volumes (see ``replay_figure``)."""
        from sim.replay.report import replay_figure

        return replay_figure(self)


def replay_config(cfg: Config, schedule: Schedule, year: int) -> Config:
    """Return the deterministic config that replays ``schedule`` over calendar year ``year``.

    Hazards and regimes are off, the price is fixed, and what would be drawn (payload factors,
    berth shares) is set to its mean.
    """
    data = cfg.model_dump(mode="json")
    data["name"] = f"{cfg.name}-replay-{year}"
    data["hazards"] = {}
    data["regimes"] = None
    data["scripted_events"] = [ev.model_dump(mode="json") for ev in schedule.events]
    days = 366 if calendar.isleap(year) else 365
    data["run"].update(
        start_date=f"{year}-01-01",
        horizon_days=float(days),
        replications=1,
        timeseries=False,
        parameter_sets=None,
    )
    data["economics"]["price"].update(model="fixed", volatility_per_sqrt_year=0.0)
    for shuttle, raw in zip(cfg.shuttles, data["shuttles"]):
        raw["payload_factor"] = fraction_mean(shuttle.payload_factor)
    for term, raw in zip(cfg.terminals, data["terminals"]):
        if isinstance(term.capacity_by_berths, dict):  # drawn shares at their means
            raw["capacity_by_berths"] = {
                k: fraction_mean(v) for k, v in term.capacity_by_berths.items()
            }
    return validate_config(data, f"{schedule.file} (replay of {year})")


def _day_grid(horizon: float) -> np.ndarray:
    """Return the grid of :func:`sim.replication.accounting.timeseries` (whole days, horizon)."""
    days = np.arange(0.0, np.floor(horizon) + 1)
    return np.append(days, horizon) if days[-1] < horizon else days


def daily_volumes(model: Model, raw: accounting.RawRun) -> pd.DataFrame:
    """Volumes (Mt) per day of every link, shuttle and of all deliveries to markets."""
    net = model.net
    grid = _day_grid(float(raw.times[-1]))
    span = np.diff(grid)
    series = accounting.timeseries(net, raw)
    out = {name: series[f"flow_mt.{name}"] * span for name in net.link_ids}
    for sid in net.shuttle_ids:
        pts = [(t, v) for st in raw.tankers.get(sid, []) for t, v in st.landings]
        landed = np.zeros(len(span))
        if pts:
            t, v = np.asarray(pts).T
            landed = np.histogram(t, bins=grid, weights=v)[0]
        out[sid] = landed
    out[TOTAL] = np.diff(accounting.delivered_total(net, raw, grid))
    day0 = model.cfg.run.start_date
    df = pd.DataFrame(out)
    df.insert(0, "date", [day0 + dt.timedelta(days=int(d)) for d in grid[:-1]])
    return df


def _by_month(daily: pd.DataFrame) -> pd.DataFrame:
    months = daily["date"].map(lambda d: f"{d.year:04d}-{d.month:02d}")
    table = daily.drop(columns="date").groupby(months.to_numpy()).sum()
    table.loc["year"] = daily.drop(columns="date").sum()
    return table


def monthly_table(model: Model, raw: accounting.RawRun, twin: accounting.RawRun) -> pd.DataFrame:
    """Long table of simulated and undisrupted volumes per quantity and month (and year)."""
    sim = _by_month(daily_volumes(model, raw))
    base = _by_month(daily_volumes(model, twin))
    out = pd.DataFrame(
        {
            "quantity": np.repeat(sim.columns.to_numpy(), len(sim)),
            "period": np.tile(sim.index.to_numpy(), len(sim.columns)),
            "simulated_mt": sim.to_numpy().T.ravel(),
            "undisrupted_mt": base.reindex(sim.index).to_numpy().T.ravel(),
        }
    )
    out["event_effect_mt"] = out["simulated_mt"] - out["undisrupted_mt"]
    return out


def compare(monthly: pd.DataFrame, recorded: pd.DataFrame, year: int) -> pd.DataFrame:
    """Put the recorded figures of ``year`` beside the simulated ones.

    ``volume`` rows compare the simulated volume; ``change_vs_undisrupted`` rows compare the
    simulated minus the undisrupted volume. ``error_mt`` is simulated minus recorded and
    ``error_pct`` that error as a percentage of the recorded figure. Rows without a recorded
    value stay in the table with ``status`` ``missing``.
    """
    rows = []
    table = monthly.set_index(["quantity", "period"])
    for r in recorded[recorded["year"] == year].to_dict("records"):
        terms = r["quantity"].split("+")
        sim = sum(float(table.loc[(t, r["period"]), "simulated_mt"]) for t in terms)
        base = sum(float(table.loc[(t, r["period"]), "undisrupted_mt"]) for t in terms)
        compared = sim if r["measure"] == "volume" else sim - base
        value = r["value_mt"]
        error = compared - value
        pct = 100 * error / abs(value) if value == value and value != 0 else float("nan")
        rows.append(
            {
                "year": year,
                "period": r["period"],
                "quantity": r["quantity"],
                "measure": r["measure"],
                "recorded_mt": value,
                "simulated_mt": compared,
                "undisrupted_mt": base if r["measure"] == "volume" else float("nan"),
                "event_effect_mt": sim - base,
                "error_mt": error,
                "error_pct": pct,
                "status": "compared" if value == value else "missing",
                "confidence": r["confidence"],
                "source_url": r["source_url"],
                "notes": r["notes"],
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "year", "period", "quantity", "measure", "recorded_mt", "simulated_mt",
            "undisrupted_mt", "event_effect_mt", "error_mt", "error_pct", "status",
            "confidence", "source_url", "notes",
        ],
    )  # fmt: skip


def replay(
    cfg: Config, schedule: Schedule, year: int, recorded: pd.DataFrame | None = None
) -> ReplayResult:
    """Replay ``schedule`` over calendar year ``year`` of ``cfg`` and compare with the record.

    Parameters
    ----------
    cfg:
        The network (its hazards, regimes and scripted events are replaced).
    schedule:
        From :func:`sim.replay.schedule.load_schedule`.
    year:
        The calendar year.
    recorded:
        From :func:`sim.replay.recorded.load_recorded` (rows of other years are ignored).

    Returns
    -------
    ReplayResult
        Monthly volumes, the comparison, the event table and the summary row.
    """
    rcfg = replay_config(cfg, schedule, year)
    model = Model(rcfg)
    streams = Streams(rcfg.run.seed, 0)
    raw = model.run_raw(streams, disrupted=True)
    twin = model.run_raw(streams, disrupted=False)
    monthly = monthly_table(model, raw, twin)
    rep = model.simulate(replication=0)
    comparison = compare(monthly, recorded if recorded is not None else _no_record(), year)
    return ReplayResult(year, rcfg, schedule, monthly, comparison, rep.events, rep.row)


def _no_record() -> pd.DataFrame:
    return pd.DataFrame(
        columns=["year", "period", "quantity", "measure", "value_mt", "confidence"]
        + ["source_url", "notes"]
    )
