"""Turn the engine's breakpoints into volumes, revenue and the tables of one replication.

Everything here reads what the engine recorded; nothing reaches back into the processes.
Between breakpoints every rate is constant, so cumulative volumes are piecewise linear and any
binning (price steps, days, event windows) is an exact interpolation of the cumulative curves.
Revenue is valued step by step of the price path; each step's cash is discounted at its
midpoint.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from sim.model.hazards import EventRecord
from sim.model.network import Network, shuttle_capacity_mt_per_day
from sim.model.tankers import TankerStats
from sim.units import DAYS_PER_YEAR, HOURS_PER_DAY

_TINY_RATE = 1e-9
_TINY_VOLUME = 1e-9
"""Mt; differences smaller than this (about a tonne) are floating-point noise."""


@dataclass
class RawRun:
    """What one simulation (disrupted or twin) recorded."""

    times: np.ndarray
    """Breakpoints, the last one being the horizon (n + 1 values)."""
    rates: np.ndarray
    """Accounting rates after each breakpoint (n rows), Mt/day."""
    levels: np.ndarray
    transit: np.ndarray
    link_cap: np.ndarray
    layout: dict[str, slice]
    records: list[EventRecord] = field(default_factory=list)
    regimes: list[tuple[float, str]] = field(default_factory=list)
    """(day, regime) at the start and at every regime change."""
    tankers: dict[str, list[TankerStats]] = field(default_factory=dict)
    cum: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        dt_ = np.diff(self.times)
        self.cum = np.vstack(
            [np.zeros(self.rates.shape[1]), np.cumsum(self.rates * dt_[:, None], axis=0)]
        )

    def total(self, name: str) -> np.ndarray:
        """Volumes of quantity ``name`` over the whole run (Mt)."""
        return self.cum[-1, self.layout[name]]

    def cumulative(self, name: str, at: np.ndarray) -> np.ndarray:
        """Cumulative volumes of ``name`` at times ``at`` (rows) for each of its members.

        Cumulative volumes are linear between breakpoints, so this interpolates exactly.
        """
        cols = self.layout[name]
        at = np.clip(np.asarray(at, dtype=float), self.times[0], self.times[-1])
        idx = np.clip(np.searchsorted(self.times, at, side="right") - 1, 0, len(self.times) - 2)
        return self.cum[idx, cols] + self.rates[idx, cols] * (at - self.times[idx])[:, None]


def on_grid(raw: RawRun, name: str, grid: np.ndarray) -> np.ndarray:
    """Volumes of ``name`` in each interval of ``grid`` (rows) for each member (columns)."""
    return np.diff(raw.cumulative(name, grid), axis=0)


def delivered(net: Network, raw: RawRun) -> np.ndarray:
    """Deliveries per route over the run (Mt), for reporting.

    Routes sharing a final leg split it in proportion to what entered their first legs over the
    run (see :meth:`Network.route_shares`): an attribution, exact only for routes that share no
    storage. Revenue does not use it (see :class:`GridFlows`).
    """
    seg_total = raw.total("segment_flow")
    shares = np.asarray(net.route_shares(list(seg_total)))
    finals = [r.segments[-1] for r in net.routes]
    return seg_total[finals] * shares


def delivered_total(net: Network, raw: RawRun, at: np.ndarray) -> np.ndarray:
    """Cumulative deliveries to all markets at times ``at``."""
    markets = [i for i, s in enumerate(net.segments) if s.end_market is not None]
    return raw.cumulative("segment_flow", at)[:, markets].sum(axis=1)


@dataclass
class GridFlows:
    """Volumes (Mt) per price step: sold in each market, through each link, landed by each shuttle.

    Revenue is computed from these, so costs follow the assets the oil really used.
    """

    markets: np.ndarray
    links: np.ndarray
    shuttles: np.ndarray

    @classmethod
    def build(cls, net: Network, raw: RawRun, grid: np.ndarray) -> GridFlows:
        """Bin one run's flows on ``grid``."""
        legs = on_grid(raw, "segment_flow", grid)
        markets = np.zeros((len(grid) - 1, len(net.market_ids)))
        for i, seg in enumerate(net.segments):
            if seg.end_market is not None:
                markets[:, seg.end_market] += legs[:, i]
        shuttles = np.zeros((len(grid) - 1, len(net.shuttle_ids)))
        for j, sid in enumerate(net.shuttle_ids):
            pts = [(t, v) for st in raw.tankers.get(sid, []) for t, v in st.landings]
            if pts:
                t, v = np.asarray(pts).T
                shuttles[:, j] = np.histogram(t, bins=grid, weights=v)[0]
        return cls(markets, on_grid(raw, "link_flow", grid), shuttles)


@dataclass
class Valuation:
    """Price path of one replication and what it makes each tonne worth."""

    grid: np.ndarray
    prices: np.ndarray
    market_unit: np.ndarray
    """USD per tonne sold, per price step (rows) and market (columns), discounted."""
    link_tariff: np.ndarray
    shuttle_freight: np.ndarray
    discount: np.ndarray

    @classmethod
    def build(cls, net: Network, grid: np.ndarray, prices: np.ndarray) -> Valuation:
        """Value each market's tonne at each step's price, discounted at the step midpoint."""
        rate = net.cfg.economics.discount_rate_per_year
        mid = (grid[:-1] + grid[1:]) / 2
        disc = np.exp(-rate * mid / DAYS_PER_YEAR)
        unit = np.column_stack(
            [
                (
                    (prices + m.price_differential_usd_per_bbl) * m.bbl_per_t
                    - m.transport_cost_usd_per_t
                )
                * disc
                for m in net.cfg.markets
            ]
        )
        links = [*net.cfg.pipelines, *net.cfg.terminals]
        return cls(
            grid,
            prices,
            unit,
            np.asarray([a.tariff_usd_per_t for a in links]),
            np.asarray([s.freight_usd_per_t for s in net.cfg.shuttles]),
            disc,
        )

    def revenue(self, flows: GridFlows) -> float:
        """Netback revenue (USD): sales minus tariffs and freight, discounted."""
        sales = np.sum(flows.markets * self.market_unit)
        costs = flows.links @ self.link_tariff + flows.shuttles @ self.shuttle_freight
        return float((sales - np.sum(costs * self.discount)) * 1e6)

    def storage_values(
        self, net: Network, step: int = -1, at: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """USD per tonne of oil held in each storage and on each shuttle at the horizon.

        Oil in a storage is worth its best way to a market at the last price step, net of the
        tariffs and freight still to pay, discounted to the horizon; oil on a tanker is worth
        its destination storage's value less the freight paid on landing. ``step`` and ``at``
        value it instead at another price step, discounted to day ``at`` (year ends).
        """
        at_day = self.grid[-1] if at is None else at
        market_value = (
            self.market_unit[step]
            / self.discount[step]
            * np.exp(-net.cfg.economics.discount_rate_per_year * at_day / DAYS_PER_YEAR)
        )
        n_st = len(net.storage_ids)
        value = np.zeros(n_st)
        # Values propagate upstream; a storage chain is at most as long as the storage count.
        for _ in range(n_st + 1):
            new = np.full(n_st, -np.inf)
            for seg in net.segments:
                if seg.start_storage is None:
                    continue
                cost = sum(self.link_tariff[i] for i in seg.links)
                if seg.end_market is not None:
                    v = market_value[seg.end_market] - cost
                else:
                    v = value[seg.end_storage] - cost
                new[seg.start_storage] = max(new[seg.start_storage], v)
            for j, sh in enumerate(net.cfg.shuttles):
                o, d = net.asset_index[sh.origin], net.asset_index[sh.destination]
                new[o] = max(new[o], value[d] - self.shuttle_freight[j])
            new[np.isinf(new)] = 0.0
            if np.array_equal(new, value):
                break
            value = new
        on_board = np.array(
            [
                value[net.asset_index[sh.destination]] - self.shuttle_freight[j]
                for j, sh in enumerate(net.cfg.shuttles)
            ]
        )
        return value, on_board

    def inventory_change(self, net: Network, raw: RawRun) -> float:
        """Value (USD) of the change in oil held in storage and on tankers over the run."""
        per_storage, per_shuttle = self.storage_values(net)
        held = float((raw.levels[-1] - raw.levels[0]) @ per_storage) if len(per_storage) else 0.0
        for j, sid in enumerate(net.shuttle_ids):
            tankers = raw.tankers.get(sid, [])
            on_board = sum(t.lifted_mt - t.delivered_mt for t in tankers)
            held += on_board * per_shuttle[j]
        return held * 1e6


@dataclass
class TwinView:
    """What a replication needs from its undisrupted twin."""

    raw: RawRun
    flows: GridFlows

    @classmethod
    def build(cls, net: Network, raw: RawRun, grid: np.ndarray) -> TwinView:
        """Precompute the twin's flows on the price grid."""
        return cls(raw, GridFlows.build(net, raw, grid))


def replication_row(
    net: Network, raw: RawRun, twin: TwinView, val: Valuation, replication: int
) -> dict[str, float | int]:
    """Compute the one-row summary of a replication (see :mod:`sim.columns`)."""
    horizon = float(raw.times[-1])
    years = horizon / DAYS_PER_YEAR
    by_route = delivered(net, raw)
    links = raw.total("link_flow")
    twin_links = twin.raw.total("link_flow")
    shut_c = raw.total("shut_in_congestion")
    shut_f = raw.total("shut_in_field")
    potential = float(np.sum(net.source_rate) * horizon)
    storage_change = float(np.sum(raw.levels[-1] - raw.levels[0]))
    transit_change = float(raw.transit[-1] - raw.transit[0])
    exported = float(by_route.sum())
    shut_in = float(shut_c.sum() + shut_f.sum())
    revenue = val.revenue(GridFlows.build(net, raw, val.grid)) + val.inventory_change(net, raw)
    twin_revenue = val.revenue(twin.flows) + val.inventory_change(net, twin.raw)

    row: dict[str, float | int] = {
        "replication": replication,
        "exported_mt": exported,
        "potential_mt": potential,
        "shut_in_mt": shut_in,
        "shut_in_congestion_mt": float(shut_c.sum()),
        "shut_in_field_mt": float(shut_f.sum()),
        "deferred_mt": _deferred(net, raw, twin.raw),
        "storage_change_mt": storage_change,
        "in_transit_change_mt": transit_change,
        "mass_balance_error_mt": potential - shut_in - exported - storage_change - transit_change,
        "revenue_usd": revenue,
        "twin_revenue_usd": twin_revenue,
        "revenue_loss_usd": twin_revenue - revenue,
        "shut_in_days": _shut_in_days(raw),
        "n_events": sum(1 for r in raw.records if r.effective),
    }
    all_tankers = [t for ts in raw.tankers.values() for t in ts]
    n_tankers = len(all_tankers)
    trips = sum(t.trips for t in all_tankers)
    waits = [w for t in all_tankers for w in t.waits]
    row["tanker_trips"] = trips
    row["tanker_utilisation"] = (
        sum(t.busy_days for t in all_tankers) / (n_tankers * horizon) if n_tankers else 0.0
    )
    row["tanker_wait_hours_mean"] = float(np.mean(waits) * HOURS_PER_DAY) if waits else 0.0

    for i, route in enumerate(net.routes):
        row[f"exported_mt.{route.id}"] = float(by_route[i])
    for i, name in enumerate(net.link_ids):
        _spare(row, name, float(links[i]), float(twin_links[i]), net.link_cap[i] * horizon, years)
    for _j, sh in enumerate(net.cfg.shuttles):
        got = sum(t.delivered_mt for t in raw.tankers.get(sh.id, []))
        base = sum(t.delivered_mt for t in twin.raw.tankers.get(sh.id, []))
        _spare(row, sh.id, got, base, shuttle_capacity_mt_per_day(sh) * horizon, years)
        row[f"tanker_trips.{sh.id}"] = sum(t.trips for t in raw.tankers.get(sh.id, []))
    if net.cfg.regimes is not None:
        starts = [t for t, _ in raw.regimes] + [horizon]
        for state in net.cfg.regimes.states:
            row[f"regime_days.{state}"] = float(
                sum(
                    min(b, horizon) - a
                    for (a, st), b in zip(raw.regimes, starts[1:])
                    if st == state
                )
            )
    names, _ = corridors(net)
    whole = offset_ledger(net, raw, twin.raw, np.array([0.0]), np.array([horizon]))
    row["blocked_mt"] = float(whole["blocked"][0])
    row["offset_routes_mt"] = float(whole["routes"][0])
    row["offset_storage_mt"] = float(whole["storage"][0])
    row["offset_shut_in_mt"] = float(whole["shut_in"][0])
    for j, name in enumerate(names):
        row[f"offset_mt.{name}"] = float(whole["by_corridor"][0, j])
    peaks = _storage_peaks(raw)
    for k, name in enumerate(net.storage_ids):
        row[f"max_storage_mt.{name}"] = float(peaks[k])
    for i, name in enumerate(net.source_ids):
        row[f"shut_in_mt.{name}"] = float(shut_c[i] + shut_f[i])
    return row


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
    net_rates = raw.rates[:, raw.layout["storage_net"]]
    before_next = raw.levels[:-1] + net_rates * np.diff(raw.times)[:, None]
    return np.maximum(raw.levels.max(axis=0), before_next.max(axis=0, initial=0.0))


def _shut_in_days(raw: RawRun) -> float:
    lay = raw.layout
    lost = raw.rates[:, lay["shut_in_congestion"]].sum(axis=1) + raw.rates[
        :, lay["shut_in_field"]
    ].sum(axis=1)
    return float(np.sum(np.diff(raw.times)[lost > _TINY_RATE]))


def _deferred(net: Network, raw: RawRun, twin: RawRun) -> float:
    """Sum the catch-up moves: exports that fell behind the twin and were made up later."""
    grid = np.union1d(raw.times, twin.times)
    ours = delivered_total(net, raw, grid)
    base = delivered_total(net, twin, grid)
    gap = base - ours
    return float(np.sum(np.maximum(0.0, -np.diff(gap))))


def held_at(raw: RawRun, at: np.ndarray) -> np.ndarray:
    """Oil held in each storage (columns) plus on tankers (last column) at times ``at``, Mt."""
    idx = np.clip(np.searchsorted(raw.times, at, side="right") - 1, 0, len(raw.rates) - 1)
    rates = raw.rates[:, raw.layout["storage_net"]]
    levels = raw.levels[idx] + rates[idx] * (at - raw.times[idx])[:, None]
    return np.column_stack([levels, raw.transit[idx]])


def corridors(net: Network) -> tuple[list[str], np.ndarray]:
    """Corridor names (the last link of each leg to a market) and a leg-to-corridor matrix."""
    names: list[str] = []
    legs = []
    for i, seg in enumerate(net.segments):
        if seg.end_market is not None:
            name = net.link_ids[seg.links[-1]]
            if name not in names:
                names.append(name)
            legs.append((i, names.index(name)))
    m = np.zeros((len(net.segments), len(names)))
    for i, j in legs:
        m[i, j] = 1.0
    return names, m


def offset_ledger(
    net: Network, raw: RawRun, twin: RawRun, start: np.ndarray, end: np.ndarray
) -> dict[str, np.ndarray]:
    """Where the volume blocked in each window ``[start, end]`` went, against the twin (Mt).

    ``blocked`` is the sum of export shortfalls on corridors that carried less than the twin;
    it equals exactly ``routes`` (extra exports on corridors that carried more) + ``storage``
    (extra oil held in storages and on tankers) + ``shut_in`` (extra production not produced).
    ``by_corridor`` holds the signed export change per corridor (columns).
    """
    pts = np.concatenate([start, end])
    n = len(start)
    _, to_corridor = corridors(net)

    def window(run: RawRun) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        legs = run.cumulative("segment_flow", pts) @ to_corridor
        held = held_at(run, pts).sum(axis=1)
        lost = run.cumulative("shut_in_congestion", pts).sum(axis=1) + run.cumulative(
            "shut_in_field", pts
        ).sum(axis=1)
        return legs[n:] - legs[:n], held[n:] - held[:n], lost[n:] - lost[:n]

    legs_a, held_a, lost_a = window(raw)
    legs_t, held_t, lost_t = window(twin)
    delta = legs_a - legs_t
    return {
        "by_corridor": delta,
        "blocked": np.clip(-delta, 0.0, None).sum(axis=1),
        "routes": np.clip(delta, 0.0, None).sum(axis=1),
        "storage": held_a - held_t,
        "shut_in": lost_a - lost_t,
    }


def _recovered(net: Network, raw: RawRun, twin: RawRun) -> tuple[np.ndarray, np.ndarray]:
    """Breakpoints of ``raw`` and whether the system is back to normal from each on.

    Normal means no congestion shut-in and every storage that is not a shuttle terminal holding
    no more than the twin does at that time (shuttle terminals swing by whole cargoes).
    """
    shuttle_ends = {
        net.asset_index[x] for sh in net.cfg.shuttles for x in (sh.origin, sh.destination)
    }
    keep = [k for k in range(len(net.storage_ids)) if k not in shuttle_ends]
    t = raw.times[:-1]
    quiet = raw.rates[:, raw.layout["shut_in_congestion"]].sum(axis=1) <= _TINY_RATE
    if keep:
        # Levels are linear between breakpoints, so checking both ends of an interval suffices.
        t_end = raw.times[1:]
        ours_a = held_at(raw, t)[:, keep]
        ours_b = (
            raw.levels[:-1][:, keep]
            + raw.rates[:, raw.layout["storage_net"]][:, keep] * (t_end - t)[:, None]
        )
        base_a = held_at(twin, t)[:, keep]
        base_b = held_at(twin, np.maximum(t, np.nextafter(t_end, t)))[:, keep]
        tol = 1e-6
        quiet &= ((ours_a <= base_a + tol) & (ours_b <= base_b + tol)).all(axis=1)
    return t, quiet


def _time_to_recover(
    recovered: tuple[np.ndarray, np.ndarray], start: np.ndarray, end: np.ndarray
) -> np.ndarray:
    """Days from each ``start`` until back to normal after ``end`` (NaN: not in the run)."""
    t, quiet = recovered
    i0 = np.maximum(0, np.searchsorted(t, end, side="right") - 1)
    # next_quiet[i]: the first breakpoint at or after i from which the system is normal.
    n = len(t)
    marks = np.where(quiet, np.arange(n), n)
    next_quiet = np.append(np.minimum.accumulate(marks[::-1])[::-1], n)
    j = next_quiet[np.minimum(i0, n)]
    found = j < n
    out = np.full(len(start), np.nan)
    out[found] = np.maximum(end[found], t[j[found]]) - start[found]
    return out


def _time_to_survive(raw: RawRun, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Days from each ``start`` until congestion shut-in begins (NaN if none before ``end``)."""
    lost = raw.rates[:, raw.layout["shut_in_congestion"]].sum(axis=1) > _TINY_RATE
    where = np.flatnonzero(lost)
    out = np.full(len(start), np.nan)
    if not len(where):
        return out
    t0 = raw.times[:-1][where]
    t1 = raw.times[1:][where]
    # The first shut-in interval ending after the start; it counts if it begins before the end.
    j = np.searchsorted(t1, start, side="right")
    ok = j < len(where)
    jj = np.minimum(j, len(where) - 1)
    ok &= t0[jj] < end
    out[ok] = np.maximum(start[ok], t0[jj[ok]]) - start[ok]
    return out


def _shortfall_profile(net: Network, raw: RawRun, twin: RawRun) -> tuple[np.ndarray, np.ndarray]:
    """Return the times either run's export rate changes, and twin minus actual rate after."""
    markets = [i for i, s in enumerate(net.segments) if s.end_market is not None]
    grid = np.union1d(raw.times[:-1], twin.times[:-1])

    def rate(run: RawRun) -> np.ndarray:
        idx = np.clip(np.searchsorted(run.times, grid, side="right") - 1, 0, len(run.rates) - 1)
        return run.rates[idx][:, run.layout["segment_flow"]][:, markets].sum(axis=1)

    return grid, rate(twin) - rate(raw)


def _peak_shortfall(
    profile: tuple[np.ndarray, np.ndarray], start: np.ndarray, end: np.ndarray
) -> np.ndarray:
    """Largest export rate below the twin's within each ``[start, end)`` (Mt/day)."""
    grid, gap = profile
    i0 = np.maximum(0, np.searchsorted(grid, start, side="right") - 1)
    i1 = np.maximum(i0 + 1, np.searchsorted(grid, end, side="left"))
    padded = np.append(gap, -np.inf)  # so that a window may end at len(gap)
    bounds = np.column_stack([i0, i1]).ravel()
    return np.maximum(0.0, np.maximum.reduceat(padded, bounds)[::2])


def event_rows(
    net: Network, raw: RawRun, twin: TwinView, val: Valuation, replication: int
) -> list[dict]:
    """One row per event record, with the volumes measured over the event's window."""
    if not raw.records:
        return []
    horizon = float(raw.times[-1])
    start = np.array([r.start_day for r in raw.records])
    end = np.minimum(
        horizon, start + np.array([r.duration_days + r.recovery_days for r in raw.records])
    )
    pts = np.concatenate([start, end])
    lost_c = raw.cumulative("shut_in_congestion", pts).sum(axis=1) + raw.cumulative(
        "shut_in_field", pts
    ).sum(axis=1)
    lost_t = twin.raw.cumulative("shut_in_congestion", pts).sum(axis=1)
    exp_a = delivered_total(net, raw, pts)
    exp_t = delivered_total(net, twin.raw, pts)
    n = len(start)
    lost = (lost_c[n:] - lost_c[:n]) - (lost_t[n:] - lost_t[:n])
    shortfall = (exp_t[n:] - exp_t[:n]) - (exp_a[n:] - exp_a[:n])
    twin_vol = float(twin.flows.markets.sum())
    unit = val.revenue(twin.flows) / (twin_vol * 1e6) if twin_vol > 0 else 0.0
    ledger = offset_ledger(net, raw, twin.raw, start, end)
    profile = _shortfall_profile(net, raw, twin.raw)
    recovered = _recovered(net, raw, twin.raw)
    tts = _time_to_survive(raw, start, end)
    ttr = _time_to_recover(recovered, start, end)
    peak = _peak_shortfall(profile, start, end)
    day0 = net.cfg.run.start_date
    rows = []
    for i, r in enumerate(raw.records):
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
                "volume_lost_mt": float(lost[i]),
                "volume_deferred_mt": float(max(0.0, shortfall[i] - lost[i])),
                "revenue_lost_usd": float(lost[i]) * unit * 1e6,
                "blocked_mt": float(ledger["blocked"][i]),
                "offset_routes_mt": float(ledger["routes"][i]),
                "offset_storage_mt": float(ledger["storage"][i]),
                "offset_shut_in_mt": float(ledger["shut_in"][i]),
                "time_to_survive_days": float(tts[i]),
                "time_to_recover_days": float(ttr[i]),
                "peak_shortfall_mt_per_day": float(peak[i]),
            }
        )
    return rows


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
