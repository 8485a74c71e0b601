"""Value one replication's flows: price-step volumes, netback revenue, oil still held.

:class:`GridFlows` bins a run's flows on the price grid (sold per market, through each link,
landed by each shuttle); :class:`Valuation` prices them step by step, each step's cash
discounted by the mean discount factor over the step (:mod:`sim.base.discount`: annual effective
rate, days from the start date), and values the oil held in storage and on tankers;
:class:`TwinView` keeps what every replication needs from its undisrupted twin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import chain

import numpy as np

from sim.base.discount import discount_factor, step_discount_factors
from sim.base.units import DAYS_PER_YEAR
from sim.model.network import Network
from sim.replication.breakpoints import PointVolumes, RawRun
from sim.replication.grades import held_grades, sold_barrels

__all__ = ["GridFlows", "TwinView", "Valuation"]


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
