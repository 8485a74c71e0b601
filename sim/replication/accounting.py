"""Turn the engine's breakpoints into volumes, revenue and the tables of one replication.

Everything here reads what the engine recorded (:mod:`~sim.replication.breakpoints`); nothing
reaches back into the processes. Revenue is valued step by step of the price path
(:mod:`sim.replication.valuation`). How a run fell behind its twin and recovered is measured in
:mod:`sim.replication.response`.
"""

from __future__ import annotations

import datetime as dt
from itertools import chain

import numpy as np

from sim.base.units import DAYS_PER_YEAR, HOURS_PER_DAY
from sim.model.network import Network, shuttle_capacity_mt_per_day
from sim.replication import response
from sim.replication.breakpoints import PointVolumes, RawRun, delivered_total, held_at, on_grid
from sim.replication.grades import held_grades
from sim.replication.ledger import corridors, offset_ledger, window_ledger
from sim.replication.valuation import GridFlows, TwinView, Valuation

__all__ = [
    "GridFlows",
    "RawRun",
    "TwinView",
    "Valuation",
    "corridors",
    "delivered",
    "delivered_total",
    "event_rows",
    "held_at",
    "held_grades",
    "offset_ledger",
    "on_grid",
    "replication_row",
    "timeseries",
]

_TINY_RATE = response.TINY_RATE
_TINY_VOLUME = 1e-9
"""Mt; differences smaller than this (about a tonne) are floating-point noise."""


def delivered(net: Network, raw: RawRun) -> np.ndarray:
    """Deliveries per route over the run (Mt), for reporting.

    Routes sharing a final leg split it in proportion to what entered their first legs over the
    run (see :meth:`Network.route_shares`): an attribution, exact only for routes that share no
    storage. Revenue does not use it (see :class:`GridFlows`).
    """
    seg_total = raw.total("segment_flow")
    shares = np.asarray(net.route_shares(seg_total.tolist()))
    finals = [r.segments[-1] for r in net.routes]
    return seg_total[finals] * shares


def replication_row(
    net: Network, raw: RawRun, twin: TwinView, val: Valuation, replication: int
) -> dict[str, float | int]:
    """Compute the one-row summary of a replication (see :mod:`sim.base.columns`)."""
    horizon = float(raw.times[-1])
    by_route = delivered(net, raw)
    shut_c = raw.total("shut_in_congestion")
    shut_f = raw.total("shut_in_field")
    row = _balance_fields(net, raw, twin, val, replication, by_route, shut_c, shut_f)
    _tanker_fields(row, raw, horizon)
    _asset_fields(row, net, raw, twin, by_route, horizon)
    _port_fields(row, raw)
    if net.cfg.regimes is not None:
        _regime_fields(row, net, raw, horizon)
    _offset_fields(row, net, raw, twin, horizon)
    peaks = _storage_peaks(raw)
    for k, name in enumerate(net.storage_ids):
        row[f"max_storage_mt.{name}"] = float(peaks[k])
    for i, name in enumerate(net.source_ids):
        row[f"shut_in_mt.{name}"] = float(shut_c[i] + shut_f[i])
    return row


def _balance_fields(
    net: Network,
    raw: RawRun,
    twin: TwinView,
    val: Valuation,
    replication: int,
    by_route: np.ndarray,
    shut_c: np.ndarray,
    shut_f: np.ndarray,
) -> dict[str, float | int]:
    """Start a replication row: the volume balance, revenue against the twin, events."""
    horizon = float(raw.times[-1])
    potential = float(np.sum(net.source_rate) * horizon)
    storage_change = float(np.sum(raw.levels[-1] - raw.levels[0]))
    transit_change = float(raw.transit[-1] - raw.transit[0])
    exported = float(by_route.sum())
    shut_in = float(shut_c.sum() + shut_f.sum())
    revenue = val.revenue(GridFlows.build(net, raw, val.grid)) + val.inventory_change(net, raw)
    twin_revenue = val.revenue(twin.flows) + val.inventory_change(net, twin.raw)
    return {
        "replication": replication,
        "exported_mt": exported,
        "potential_mt": potential,
        "shut_in_mt": shut_in,
        "shut_in_congestion_mt": float(shut_c.sum()),
        "shut_in_field_mt": float(shut_f.sum()),
        "deferred_mt": response.deferred(net, raw, twin.raw),
        "storage_change_mt": storage_change,
        "in_transit_change_mt": transit_change,
        "mass_balance_error_mt": potential - shut_in - exported - storage_change - transit_change,
        "revenue_usd": revenue,
        "twin_revenue_usd": twin_revenue,
        "revenue_loss_usd": twin_revenue - revenue,
        "shut_in_days": _shut_in_days(raw),
        "n_events": sum(1 for r in raw.records if r.effective),
    }


def _tanker_fields(row: dict, raw: RawRun, horizon: float) -> None:
    """Add the fleet-wide tanker trips, utilisation and mean wait to ``row``."""
    all_tankers = [t for ts in raw.tankers.values() for t in ts]
    n_tankers = len(all_tankers)
    trips = sum(t.trips for t in all_tankers)
    waits = np.fromiter(chain.from_iterable(t.waits for t in all_tankers), dtype=float)
    row["tanker_trips"] = trips
    row["tanker_utilisation"] = (
        sum(t.busy_days for t in all_tankers) / (n_tankers * horizon) if n_tankers else 0.0
    )
    row["tanker_wait_hours_mean"] = float(waits.mean() * HOURS_PER_DAY) if len(waits) else 0.0


def _asset_fields(
    row: dict, net: Network, raw: RawRun, twin: TwinView, by_route: np.ndarray, horizon: float
) -> None:
    """Add exports per route and throughput and spare capacity used per link and shuttle."""
    years = horizon / DAYS_PER_YEAR
    links = raw.total("link_flow")
    twin_links = twin.raw.total("link_flow")
    for i, route in enumerate(net.routes):
        row[f"exported_mt.{route.id}"] = float(by_route[i])
    for i, name in enumerate(net.link_ids):
        cap = (net.link_cap[i] + net.link_surge[i]) * horizon  # usable plus any surge
        _spare(row, name, float(links[i]), float(twin_links[i]), cap, years)
    for sh in net.cfg.shuttles:
        got = sum(t.delivered_mt for t in raw.tankers.get(sh.id, []))
        base = sum(t.delivered_mt for t in twin.raw.tankers.get(sh.id, []))
        _spare(row, sh.id, got, base, shuttle_capacity_mt_per_day(sh) * horizon, years)
        row[f"tanker_trips.{sh.id}"] = sum(t.trips for t in raw.tankers.get(sh.id, []))


def _port_fields(row: dict, raw: RawRun) -> None:
    """Add the queue statistics of each port with third-party traffic."""
    for port, stats in raw.ports.items():
        row[f"port_calls.{port}"] = stats.calls
        row[f"port_waiting_mean.{port}"] = stats.waiting_mean
        row[f"port_wait_hours_mean.{port}"] = stats.wait_days_mean * HOURS_PER_DAY
        row[f"port_berth_utilisation.{port}"] = stats.utilisation


def _regime_fields(row: dict, net: Network, raw: RawRun, horizon: float) -> None:
    """Add the days spent in each regime state."""
    starts = [t for t, _ in raw.regimes] + [horizon]
    for state in net.cfg.regimes.states:
        row[f"regime_days.{state}"] = float(
            sum(min(b, horizon) - a for (a, st), b in zip(raw.regimes, starts[1:]) if st == state)
        )


def _offset_fields(row: dict, net: Network, raw: RawRun, twin: TwinView, horizon: float) -> None:
    """Add the offset ledger of the whole run (blocked oil and where it went instead)."""
    names = net.corridor_of_leg[0]
    # offset_ledger of the whole run; the twin's side is the same in every replication.
    pts = np.array([0.0, horizon])
    base = twin.raw.cached(("whole_run", horizon), lambda: PointVolumes(twin.raw, pts))
    whole = window_ledger(net, PointVolumes(raw, pts), base, 1)
    row["blocked_mt"] = float(whole["blocked"][0])
    row["offset_routes_mt"] = float(whole["routes"][0])
    row["offset_storage_mt"] = float(whole["storage"][0])
    row["offset_shut_in_mt"] = float(whole["shut_in"][0])
    for j, name in enumerate(names):
        row[f"offset_mt.{name}"] = float(whole["by_corridor"][0, j])


def _spare(row: dict, name: str, used: float, base: float, capacity: float, years: float) -> None:
    extra = used - base
    extra = extra if extra > _TINY_VOLUME else 0.0
    spare = capacity - base
    row[f"throughput_mt.{name}"] = used / years
    row[f"spare_used_mt.{name}"] = extra
    row[f"spare_used_pct.{name}"] = 100.0 * extra / spare if spare > 1e-12 else 0.0


def _storage_peaks(raw: RawRun) -> np.ndarray:
    if raw.levels.shape[1] == 0:
        return np.zeros(0)
    return np.maximum(_column_max(raw.levels), _column_max(raw.levels_before_next, 0.0))


def _column_max(x: np.ndarray, initial: float | None = None) -> np.ndarray:
    """``x.max(axis=0)`` (with ``initial``), reduced column by column in contiguous memory.

    A maximum is one of the values (or ``initial``) whatever the order of comparison, so only
    a zero maximum can come out with another sign: then the columns are reduced row by row, as
    ``x.max(axis=0)`` does.
    """
    kwargs = {} if initial is None else {"initial": initial}
    out = np.ascontiguousarray(x.T).max(axis=1, **kwargs)
    return out if out.all() else x.max(axis=0, **kwargs)


def _shut_in_days(raw: RawRun) -> float:
    lost = raw.rate_sum("shut_in_congestion") + raw.rate_sum("shut_in_field")
    return float(np.sum(raw.spans[lost > _TINY_RATE]))


def event_rows(
    net: Network, raw: RawRun, twin: TwinView, val: Valuation, replication: int
) -> list[dict]:
    """One row per event record, with the volumes measured over the event's window."""
    records = raw.records
    if not records:
        return []
    m = _event_measures(net, raw, twin, val)
    day0 = net.cfg.run.start_date
    unit = m["unit"]
    rows = []
    for i, r in enumerate(records):
        rows.append(
            {
                "replication": replication,
                "event": r.event,
                "hazard": r.hazard,
                "asset": r.asset,
                "asset_kind": r.asset_kind,
                "cause": r.cause,
                "start_day": r.start_day,
                "start_date": (day0 + dt.timedelta(days=int(r.start_day))).isoformat(),
                "duration_days": r.duration_days,
                "recovery_days": r.recovery_days,
                "capacity_lost": r.capacity_lost,
                "berths_lost": r.berths_lost,
                "effective": r.effective,
                "scripted": r.scripted,
                "volume_lost_mt": m["lost"][i],
                "volume_deferred_mt": max(0.0, m["deferred"][i]),
                "revenue_lost_usd": m["lost"][i] * unit * 1e6,
                "blocked_mt": m["blocked"][i],
                "offset_routes_mt": m["routes"][i],
                "offset_storage_mt": m["storage"][i],
                "offset_shut_in_mt": m["shut_in"][i],
                "time_to_survive_days": m["tts"][i],
                "time_to_recover_days": m["ttr"][i],
                "peak_shortfall_mt_per_day": m["peak"][i],
            }
        )
    return rows


def _event_measures(net: Network, raw: RawRun, twin: TwinView, val: Valuation) -> dict:
    """Volumes and response times over each event's window (lists, one entry per record).

    ``"unit"`` is the twin's mean revenue per tonne sold, USD/t.
    """
    records = raw.records
    horizon = float(raw.times[-1])
    start = np.array([r.start_day for r in records])
    length = np.array([r.duration_days + r.recovery_days for r in records])
    end = np.minimum(horizon, start + length)
    pts = np.concatenate([start, end])
    n = len(start)
    ours = PointVolumes(raw, pts)
    base = PointVolumes(twin.raw, pts)
    lost_c = ours.shut_in
    lost_t = base.congestion
    exp_a = ours.delivered(net)
    exp_t = base.delivered(net)
    lost = (lost_c[n:] - lost_c[:n]) - (lost_t[n:] - lost_t[:n])
    shortfall = (exp_t[n:] - exp_t[:n]) - (exp_a[n:] - exp_a[:n])
    twin_vol = twin.sold_mt
    unit = val.revenue(twin.flows) / (twin_vol * 1e6) if twin_vol > 0 else 0.0
    ledger = window_ledger(net, ours, base, n)
    profile = response.shortfall_profile(net, raw, twin.raw)
    recovered = response.recovered(net, raw, twin.raw)
    return {
        "unit": unit,
        "tts": response.time_to_survive(raw, start, end).tolist(),
        "ttr": response.time_to_recover(recovered, start, end).tolist(),
        "peak": response.peak_shortfall(profile, start, end).tolist(),
        "blocked": ledger["blocked"].tolist(),
        "routes": ledger["routes"].tolist(),
        "storage": ledger["storage"].tolist(),
        "shut_in": ledger["shut_in"].tolist(),
        "deferred": (shortfall - lost).tolist(),
        "lost": lost.tolist(),
    }


def timeseries(net: Network, raw: RawRun) -> dict[str, np.ndarray]:
    """Daily series: mean link flows, link capacity, end-of-day levels and shut-in."""
    horizon = float(raw.times[-1])
    days = np.arange(0.0, np.floor(horizon) + 1)
    grid = np.append(days, horizon) if days[-1] < horizon else days
    n = len(grid) - 1
    span = np.diff(grid)
    out: dict[str, np.ndarray] = {"day": np.arange(n)}
    flows = on_grid(raw, "link_flow", grid) / span[:, None]
    idx = np.searchsorted(raw.times, grid[:-1], side="right") - 1
    for i, name in enumerate(net.link_ids):
        out[f"flow_mt.{name}"] = flows[:, i]
        out[f"capacity_mt.{name}"] = raw.link_cap[idx, i]
    end_idx = np.searchsorted(raw.times, grid[1:], side="right") - 1
    net_rates = np.vstack(
        [raw.rates[:, raw.layout["storage_net"]], np.zeros((1, len(net.storage_ids)))]
    )
    for k, name in enumerate(net.storage_ids):
        lv = raw.levels[end_idx, k] + net_rates[end_idx, k] * (grid[1:] - raw.times[end_idx])
        out[f"level_mt.{name}"] = lv
    lost = on_grid(raw, "shut_in_congestion", grid).sum(axis=1) + on_grid(
        raw, "shut_in_field", grid
    ).sum(axis=1)
    out["shut_in_mt"] = lost
    return out
