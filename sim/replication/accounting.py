"""Turn the engine's breakpoints into volumes, revenue and the tables of one replication.

Everything here reads what the engine recorded (:mod:`~sim.replication.breakpoints`); nothing
reaches
back into the processes. Revenue is valued step by step of the price path; each step's cash is
discounted by the mean discount factor over the step (:mod:`sim.base.discount`: annual effective
rate, days from the start date). How a run fell behind its twin and recovered is measured in
:mod:`sim.replication.response`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import chain

import numpy as np

from sim.base.discount import discount_factor, step_discount_factors
from sim.base.units import DAYS_PER_YEAR, HOURS_PER_DAY
from sim.model.network import Network, shuttle_capacity_mt_per_day
from sim.replication import response
from sim.replication.breakpoints import PointVolumes, RawRun, delivered_total, held_at, on_grid
from sim.replication.grades import held_grades, sold_barrels
from sim.replication.ledger import corridors, offset_ledger, window_ledger

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


@dataclass
class GridFlows:
    """Volumes (Mt) per price step: sold in each market, through each link, landed by each shuttle.

    Revenue is computed from these, so costs follow the assets the oil really used.
    """

    markets: np.ndarray
    links: np.ndarray
    shuttles: np.ndarray
    barrels: np.ndarray | None = None
    """Barrels sold per step and market when sources declare crude grades (else ``None``:
    each market's ``bbl_per_t`` applies)."""

    @classmethod
    def build(cls, net: Network, raw: RawRun, grid: np.ndarray) -> GridFlows:
        """Bin one run's flows on ``grid``."""
        volumes = PointVolumes(raw, grid).volumes
        steps = np.diff(volumes, axis=0)
        legs = steps[:, raw.layout["segment_flow"]]
        markets = np.zeros((len(grid) - 1, len(net.market_ids)))
        for i in net.market_legs:
            markets[:, net.segments[i].end_market] += legs[:, i]
        shuttles = np.zeros((len(grid) - 1, len(net.shuttle_ids)))
        for j, sid in enumerate(net.shuttle_ids):
            landings = chain.from_iterable(st.landings for st in raw.tankers.get(sid, []))
            pts = np.fromiter(chain.from_iterable(landings), dtype=float).reshape(-1, 2)
            if len(pts):
                shuttles[:, j] = _weighted_histogram(pts[:, 0], pts[:, 1], grid)
        links = np.ascontiguousarray(steps[:, raw.layout["link_flow"]])
        barrels = sold_barrels(net, legs, markets.shape) if net.graded else None
        return cls(markets, links, shuttles, barrels)


def _weighted_histogram(values: np.ndarray, weights: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``np.histogram(values, bins=edges, weights=weights)[0]`` for increasing ``edges``.

    The steps NumPy takes for explicit bin edges (cumulative sums of the weights in value order,
    differenced at the edges, the last one inclusive), so the same bits, without its argument
    checks.
    """
    if len(values) > 65536:  # NumPy sums larger inputs block by block
        return np.histogram(values, bins=edges, weights=weights)[0]
    values = np.ascontiguousarray(values)
    order = np.argsort(values)
    ordered = values[order]
    cum = np.concatenate((np.zeros(1), weights[order].cumsum()))
    at = np.concatenate(
        (ordered.searchsorted(edges[:-1], "left"), ordered.searchsorted(edges[-1:], "right"))
    )
    return np.diff(cum[at])


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
    _market_bbl: np.ndarray = field(default_factory=lambda: np.ones(0))
    _market_transport: np.ndarray = field(default_factory=lambda: np.zeros(0))
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    """Results already computed, by argument identity (the arguments are kept alive here)."""

    @classmethod
    def build(cls, net: Network, grid: np.ndarray, prices: np.ndarray) -> Valuation:
        """Value each market's tonne at each step's price, discounted over the step."""
        rate = net.cfg.economics.discount_rate_per_year
        disc = _discount(rate, np.asarray(grid, dtype=float).tobytes())
        markets = net.cfg.markets
        differential = np.array([m.price_differential_usd_per_bbl for m in markets])
        bbl_per_t = np.array([m.bbl_per_t for m in markets])
        transport = np.array([m.transport_cost_usd_per_t for m in markets])
        unit = ((prices[:, None] + differential) * bbl_per_t - transport) * disc[:, None]
        links = [*net.cfg.pipelines, *net.cfg.terminals]
        return cls(
            grid,
            prices,
            unit,
            np.asarray([a.tariff_usd_per_t for a in links]),
            np.asarray([s.freight_usd_per_t for s in net.cfg.shuttles]),
            disc,
            bbl_per_t,
            transport,
        )

    def revenue(self, flows: GridFlows) -> float:
        """Netback revenue (USD): sales minus tariffs and freight, discounted.

        Computed once per ``flows`` object (flows are not modified once built).
        """
        hit = self._memo.get(("revenue", id(flows)))
        if hit is None:
            hit = self._memo[("revenue", id(flows))] = (flows, self._revenue(flows))
        return hit[1]

    def _revenue(self, flows: GridFlows) -> float:
        if flows.barrels is None:
            sales = np.sum(flows.markets * self.market_unit)
        else:
            sales = np.sum(self.step_sales(flows))
        costs = flows.links @ self.link_tariff + flows.shuttles @ self.shuttle_freight
        return float((sales - np.sum(costs * self.discount)) * 1e6)

    def step_sales(self, flows: GridFlows, steps: np.ndarray | None = None) -> np.ndarray:
        """Discounted sales (Mt x USD/t) per price step of ``flows``.

        ``steps`` gives, for each row of ``flows``, the price step it falls in (default: row i
        is step i). With crude grades the barrels actually sold are priced; otherwise each
        market's tonne value applies.
        """
        rows = slice(None) if steps is None else steps
        if flows.barrels is None:
            return np.sum(flows.markets * self.market_unit[rows], axis=1)
        per_bbl = self.per_barrel[rows]
        transport = self.transport_unit[rows]
        return np.sum(flows.barrels * per_bbl - flows.markets * transport, axis=1)

    @cached_property
    def per_barrel(self) -> np.ndarray:
        """Discounted USD per barrel sold, per price step and market (crude grades)."""
        unit_bbl = self.market_unit + self.transport_unit
        return unit_bbl / self._market_bbl

    @cached_property
    def transport_unit(self) -> np.ndarray:
        """Discounted transport cost per tonne, per price step and market."""
        return self.discount[:, None] * self._market_transport

    def storage_values(
        self,
        net: Network,
        step: int = -1,
        at: float | None = None,
        grades: tuple[float, ...] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """USD per tonne of oil held in each storage and on each shuttle at the horizon.

        Oil in a storage is worth its best way to a market at the last price step, net of the
        tariffs and freight still to pay, discounted to the horizon; oil on a tanker is worth
        its destination storage's value less the freight paid on landing. ``step`` and ``at``
        value it instead at another price step, discounted to day ``at`` (year ends). With crude
        grades, ``grades`` gives the barrels per tonne of the oil on each leg (see
        :func:`held_grades`; default :attr:`Network.leg_grade`).
        The arrays are shared by all calls with the same arguments: do not modify them.
        """
        key = ("storage_values", id(net), step, at, grades)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = (net, self._storage_values(net, step, at, grades))
        return hit[1]

    def _storage_values(
        self, net: Network, step: int, at: float | None, grades: tuple[float, ...] | None
    ) -> tuple[np.ndarray, np.ndarray]:
        at_day = self.grid[-1] if at is None else at
        market_value = (
            self.market_unit[step]
            / self.discount[step]
            * discount_factor(net.cfg.economics.discount_rate_per_year, float(at_day))
        ).tolist()
        tariff = self.link_tariff.tolist()
        freight = self.shuttle_freight.tolist()
        if net.graded:  # value each leg's oil at its own grade
            rate = net.cfg.economics.discount_rate_per_year
            scale = float(np.exp(-rate * at_day / DAYS_PER_YEAR) / self.discount[step])
            per_bbl, transport = self.per_barrel[step], self.transport_unit[step]
            grade = net.leg_grade if grades is None else grades
            leg_value = [
                (per_bbl[s.end_market] * grade[i] - transport[s.end_market]) * scale
                if s.end_market is not None
                else 0.0
                for i, s in enumerate(net.segments)
            ]
        else:
            leg_value = [
                market_value[s.end_market] if s.end_market is not None else 0.0
                for s in net.segments
            ]
        legs = [
            (seg.start_storage, leg_value[i], seg.end_storage, sum(tariff[k] for k in seg.links))
            for i, seg in enumerate(net.segments)
            if seg.start_storage is not None
        ]
        ends = [
            (net.asset_index[sh.origin], net.asset_index[sh.destination]) for sh in net.cfg.shuttles
        ]
        n_st = len(net.storage_ids)
        value = [0.0] * n_st
        # Values propagate upstream; a storage chain is at most as long as the storage count.
        for _ in range(n_st + 1):
            new = [-math.inf] * n_st
            for start, sale, end, cost in legs:
                v = (sale if end is None else value[end]) - cost
                new[start] = max(new[start], v)
            for j, (o, d) in enumerate(ends):
                new[o] = max(new[o], value[d] - freight[j])
            new = [0.0 if math.isinf(v) else v for v in new]
            if new == value:
                break
            value = new
        on_board = np.array([value[d] - freight[j] for j, (_, d) in enumerate(ends)])
        return np.array(value, dtype=float), on_board

    def inventory_change(self, net: Network, raw: RawRun) -> float:
        """Value (USD) of the change in oil held in storage and on tankers over the run."""
        per_storage, per_shuttle = self.storage_values(net, grades=held_grades(net, raw))
        held = float((raw.levels[-1] - raw.levels[0]) @ per_storage) if len(per_storage) else 0.0
        for j, sid in enumerate(net.shuttle_ids):
            tankers = raw.tankers.get(sid, [])
            on_board = sum(t.lifted_mt - t.delivered_mt for t in tankers)
            held += on_board * per_shuttle[j]
        return held * 1e6


@lru_cache(maxsize=64)
def _discount(rate: float, grid: bytes) -> np.ndarray:
    """Mean discount factor (read-only) over each step of a price grid (given as its bytes)."""
    disc = step_discount_factors(rate, np.frombuffer(grid))
    disc.flags.writeable = False
    return disc


@dataclass
class TwinView:
    """What a replication needs from its undisrupted twin."""

    raw: RawRun
    flows: GridFlows

    @classmethod
    def build(cls, net: Network, raw: RawRun, grid: np.ndarray) -> TwinView:
        """Precompute the twin's flows on the price grid."""
        return cls(raw, GridFlows.build(net, raw, grid))

    @cached_property
    def sold_mt(self) -> float:
        """Volume the twin sold to all markets over the run, Mt."""
        return float(self.flows.markets.sum())


def replication_row(
    net: Network, raw: RawRun, twin: TwinView, val: Valuation, replication: int
) -> dict[str, float | int]:
    """Compute the one-row summary of a replication (see :mod:`sim.base.columns`)."""
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
    all_tankers = [t for ts in raw.tankers.values() for t in ts]
    n_tankers = len(all_tankers)
    trips = sum(t.trips for t in all_tankers)
    waits = np.fromiter(chain.from_iterable(t.waits for t in all_tankers), dtype=float)
    row["tanker_trips"] = trips
    row["tanker_utilisation"] = (
        sum(t.busy_days for t in all_tankers) / (n_tankers * horizon) if n_tankers else 0.0
    )
    row["tanker_wait_hours_mean"] = float(waits.mean() * HOURS_PER_DAY) if len(waits) else 0.0

    for i, route in enumerate(net.routes):
        row[f"exported_mt.{route.id}"] = float(by_route[i])
    for i, name in enumerate(net.link_ids):
        cap = (net.link_cap[i] + net.link_surge[i]) * horizon  # usable plus any surge
        _spare(row, name, float(links[i]), float(twin_links[i]), cap, years)
    for _j, sh in enumerate(net.cfg.shuttles):
        got = sum(t.delivered_mt for t in raw.tankers.get(sh.id, []))
        base = sum(t.delivered_mt for t in twin.raw.tankers.get(sh.id, []))
        _spare(row, sh.id, got, base, shuttle_capacity_mt_per_day(sh) * horizon, years)
        row[f"tanker_trips.{sh.id}"] = sum(t.trips for t in raw.tankers.get(sh.id, []))
    for port, stats in raw.ports.items():
        row[f"port_calls.{port}"] = stats.calls
        row[f"port_waiting_mean.{port}"] = stats.waiting_mean
        row[f"port_wait_hours_mean.{port}"] = stats.wait_days_mean * HOURS_PER_DAY
        row[f"port_berth_utilisation.{port}"] = stats.utilisation
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
    tts = response.time_to_survive(raw, start, end).tolist()
    ttr = response.time_to_recover(response.recovered(net, raw, twin.raw), start, end).tolist()
    peak = response.peak_shortfall(profile, start, end).tolist()
    blocked, routes = ledger["blocked"].tolist(), ledger["routes"].tolist()
    storage, shut_in = ledger["storage"].tolist(), ledger["shut_in"].tolist()
    deferred = (shortfall - lost).tolist()
    lost = lost.tolist()
    day0 = net.cfg.run.start_date
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
                "volume_lost_mt": lost[i],
                "volume_deferred_mt": max(0.0, deferred[i]),
                "revenue_lost_usd": lost[i] * unit * 1e6,
                "blocked_mt": blocked[i],
                "offset_routes_mt": routes[i],
                "offset_storage_mt": storage[i],
                "offset_shut_in_mt": shut_in[i],
                "time_to_survive_days": tts[i],
                "time_to_recover_days": ttr[i],
                "peak_shortfall_mt_per_day": peak[i],
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
