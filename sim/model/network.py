"""Compile a validated config into the index structures the engine works with.

Routes are cut into **segments** at every storage: a segment carries oil from a source or a
storage, through capacity-limited links (pipelines, terminals), into a storage or a market.
A shuttle sits between its origin and destination storages and has no segment: tankers move
that oil in discrete cargoes. All rates here are in Mt/day and all money in USD.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sim.base.units import DAYS_PER_YEAR, HOURS_PER_DAY
from sim.config.distributions import fraction_mean
from sim.config.models import Config, Pipeline, PortTraffic, Shuttle, Terminal

STORE_WEIGHT = 1.0
"""Routing weight (USD/t) of moving oil into a storage; see :meth:`Network.segment_weights`."""


@dataclass(frozen=True)
class Segment:
    """A leg between two nodes carrying one LP flow variable; routes with the same leg share it."""

    start_source: int | None
    start_storage: int | None
    end_storage: int | None
    end_market: int | None
    links: tuple[int, ...]


@dataclass(frozen=True)
class RouteInfo:
    """A compiled route."""

    id: str
    source: int
    market: int
    links: tuple[int, ...]
    shuttles: tuple[int, ...]
    segments: tuple[int, ...]
    contract_mt_per_day: float


@dataclass
class Network:
    """Everything about the network that does not change during a run."""

    cfg: Config
    link_ids: list[str]
    link_cap: list[float]
    link_kind: list[str]
    terminal_of_link: dict[int, Terminal]
    storage_ids: list[str]
    storage_cap: list[float]
    storage_init: list[float]
    source_ids: list[str]
    source_rate: list[float]
    market_ids: list[str]
    shuttle_ids: list[str]
    routes: list[RouteInfo]
    segments: list[Segment]
    asset_kind: dict[str, str] = field(default_factory=dict)
    asset_index: dict[str, int] = field(default_factory=dict)
    link_surge: list[float] = field(default_factory=list)
    """Extra capacity (Mt/day) each link can get after a nomination lag (0 without a surge)."""

    @cached_property
    def graded(self) -> bool:
        """True when some source declares its own crude grade (``bbl_per_t``)."""
        return any(s.bbl_per_t is not None for s in self.cfg.sources)

    @cached_property
    def route_grade(self) -> tuple[float, ...]:
        """Barrels per tonne of the oil sold by each route.

        Its source's grade, unless the market is a blend (or the source declares none): then
        the market's ``bbl_per_t``.
        """
        cfg = self.cfg
        out = []
        for r in self.routes:
            market = cfg.markets[r.market]
            grade = cfg.sources[r.source].bbl_per_t
            out.append(market.bbl_per_t if market.blend or grade is None else grade)
        return tuple(out)

    @cached_property
    def leg_grade(self) -> tuple[float, ...]:
        """Nominal barrels per tonne of each leg: the mean grade of the routes passing it.

        Exact for a leg out of a source (one grade); for a leg out of a storage that pools
        several grades it ranks routes only (revenue uses the mix actually sold, see
        :meth:`grade_mix`). Legs no route passes get their market's (or 0 for storage legs).
        """
        sums = [0.0] * len(self.segments)
        counts = [0] * len(self.segments)
        for r, grade in zip(self.routes, self.route_grade):
            for leg in r.segments:
                sums[leg] += grade
                counts[leg] += 1
        return tuple(t / n if n else 0.0 for t, n in zip(sums, counts))

    @cached_property
    def grade_mix(self) -> tuple[tuple[int, tuple[tuple[int, float, float], ...]], ...]:
        """For each leg to a market: (leg, ((first leg, share of it, grade), ...)).

        The oil sold through a leg that pools routes is taken to be the mix of what entered
        those routes' first legs over the same price step; ``share`` splits a first leg that
        several of the pooled routes start with.
        """
        out = []
        for members in self._routes_by_final_leg:
            leg = self.routes[members[0][0]].segments[-1]
            out.append(
                (leg, tuple((first, 1.0 / n, self.route_grade[ri]) for ri, first, n in members))
            )
        return tuple(out)

    @property
    def n_links(self) -> int:
        """Number of capacity-limited links (pipelines and terminals)."""
        return len(self.link_ids)

    @cached_property
    def market_legs(self) -> tuple[int, ...]:
        """Legs that end in a market, in leg order."""
        return tuple(i for i, s in enumerate(self.segments) if s.end_market is not None)

    @cached_property
    def corridor_of_leg(self) -> tuple[tuple[str, ...], tuple[int, ...]]:
        """Corridor names (the last link of each leg to a market) and the corridor of each leg.

        The corridor of a leg that does not end in a market is -1.
        """
        names: list[str] = []
        of_leg = []
        for seg in self.segments:
            if seg.end_market is None:
                of_leg.append(-1)
                continue
            name = self.link_ids[seg.links[-1]]
            if name not in names:
                names.append(name)
            of_leg.append(names.index(name))
        return tuple(names), tuple(of_leg)

    @cached_property
    def non_shuttle_storages(self) -> tuple[int, ...]:
        """Storages that are neither the origin nor the destination of a shuttle."""
        ends = {
            self.asset_index[x] for sh in self.cfg.shuttles for x in (sh.origin, sh.destination)
        }
        return tuple(k for k in range(len(self.storage_ids)) if k not in ends)

    def segment_weights(self, brent_usd_per_bbl: float) -> list[float]:
        """Routing weight of each leg, USD/t: the value it adds, net of its own tariffs.

        * A leg into a storage weighs ``STORE_WEIGHT`` (1 USD/t) minus its tariffs: putting oil
          into storage is worth almost nothing by itself, so oil only accumulates when it
          cannot move on (rerouting to any outlet with positive netback comes first; shut-in
          comes last), and the cheaper way into a storage is preferred.
        * A leg to a market weighs the market value of a tonne (price, differential, transport
          cost) minus its tariffs; from a source that is the route's netback.
        * A leg to a market from a storage that is not the storage's best way out weighs
          ``value - best - 1`` (negative), so it only keeps oil moving when the best is blocked.

        Oil passing straight through empty storages earns the route's netback plus
        ``STORE_WEIGHT`` per storage, so in normal operation all routes rank by netback.
        """
        cfg = self.cfg
        tariff = [a.tariff_usd_per_t for a in (*cfg.pipelines, *cfg.terminals)]
        value = []
        for i, seg in enumerate(self.segments):
            cost = sum(tariff[i] for i in seg.links)
            if seg.end_market is None:
                value.append(STORE_WEIGHT - cost)
            else:
                m = cfg.markets[seg.end_market]
                grade = self.leg_grade[i] if self.graded else m.bbl_per_t
                sale = (brent_usd_per_bbl + m.price_differential_usd_per_bbl) * grade
                value.append(sale - m.transport_cost_usd_per_t - cost)
        best = [-float("inf")] * len(self.storage_ids)
        for s, seg in enumerate(self.segments):
            if seg.start_storage is not None and seg.end_market is not None:
                best[seg.start_storage] = max(best[seg.start_storage], value[s])
        out = []
        for s, seg in enumerate(self.segments):
            k = seg.start_storage
            if seg.end_market is None or k is None or value[s] >= best[k]:
                out.append(value[s])
            else:
                out.append(value[s] - best[k] - 1.0)
        return out

    def route_shares(self, first_leg_volume: list[float]) -> list[float]:
        """Share of its final leg's deliveries that belongs to each route.

        Routes that end on the same leg split its deliveries in proportion to the volume that
        entered their first legs (equal shares when nothing entered).
        """
        shares = [0.0] * len(self.routes)
        for members in self._routes_by_final_leg:
            if len(members) == 1:
                shares[members[0][0]] = 1.0
                continue
            vols = {ri: first_leg_volume[first] / n_first for ri, first, n_first in members}
            total = sum(vols.values())
            for ri, _, _ in members:
                shares[ri] = vols[ri] / total if total > 0 else 1.0 / len(members)
        return shares

    @cached_property
    def _routes_by_final_leg(self) -> list[list[tuple[int, int, int]]]:
        """Routes grouped by final leg: (route, its first leg, routes of the group on that leg)."""
        by_final: dict[int, list[int]] = {}
        for ri, r in enumerate(self.routes):
            by_final.setdefault(r.segments[-1], []).append(ri)
        groups = []
        for members in by_final.values():
            firsts: dict[int, int] = {}
            for ri in members:
                first = self.routes[ri].segments[0]
                firsts[first] = firsts.get(first, 0) + 1
            groups.append(
                [
                    (ri, self.routes[ri].segments[0], firsts[self.routes[ri].segments[0]])
                    for ri in members
                ]
            )
        return groups


def compile_network(cfg: Config) -> Network:
    """Build the :class:`Network` of a validated config."""
    links = [*cfg.pipelines, *cfg.terminals]
    link_ids = [a.id for a in links]
    link_index = {a: i for i, a in enumerate(link_ids)}
    storage_index = {s.id: i for i, s in enumerate(cfg.storages)}
    source_index = {s.id: i for i, s in enumerate(cfg.sources)}
    market_index = {m.id: i for i, m in enumerate(cfg.markets)}
    shuttle_index = {s.id: i for i, s in enumerate(cfg.shuttles)}
    routes, segments = _compile_routes(
        cfg, link_index, storage_index, source_index, market_index, shuttle_index
    )

    kinds = cfg.asset_ids()
    index: dict[str, int] = {}
    index.update(link_index)
    index.update(storage_index)
    index.update(source_index)
    index.update(market_index)
    index.update(shuttle_index)
    return Network(
        cfg=cfg,
        link_ids=link_ids,
        link_cap=[
            (a.usable_mt_per_year if isinstance(a, Pipeline) else a.capacity_mt_per_year)
            / DAYS_PER_YEAR
            for a in links
        ],
        link_surge=[
            a.surge.extra_mt_per_year / DAYS_PER_YEAR
            if isinstance(a, Pipeline) and a.surge is not None
            else 0.0
            for a in links
        ],
        link_kind=["pipeline"] * len(cfg.pipelines) + ["terminal"] * len(cfg.terminals),
        terminal_of_link={link_index[t.id]: t for t in cfg.terminals},
        storage_ids=[s.id for s in cfg.storages],
        storage_cap=[s.capacity_mt for s in cfg.storages],
        storage_init=[s.initial_level_mt for s in cfg.storages],
        source_ids=[s.id for s in cfg.sources],
        source_rate=[s.production_mt_per_year / DAYS_PER_YEAR for s in cfg.sources],
        market_ids=[m.id for m in cfg.markets],
        shuttle_ids=[s.id for s in cfg.shuttles],
        routes=routes,
        segments=segments,
        asset_kind=kinds,
        asset_index=index,
    )


def _compile_routes(
    cfg: Config,
    link_index: dict[str, int],
    storage_index: dict[str, int],
    source_index: dict[str, int],
    market_index: dict[str, int],
    shuttle_index: dict[str, int],
) -> tuple[list[RouteInfo], list[Segment]]:
    """Cut each route of ``cfg`` into legs between storages; return the routes and the legs.

    A leg runs from a source or a storage, over links, to a storage or a market: each storage
    on the path ends a leg and starts the next; after a shuttle (which follows its origin
    storage) the next leg starts at the shuttle's destination storage.
    Identical legs of different routes are one shared :class:`Segment`.
    """
    segments: list[Segment] = []
    seg_index: dict[tuple, int] = {}
    routes: list[RouteInfo] = []

    def leg(key: tuple) -> int:
        """Index of the leg with this (start, links, end); identical legs are shared."""
        if key not in seg_index:
            seg_index[key] = len(segments)
            segments.append(Segment(*key))
        return seg_index[key]

    for r in cfg.routes:
        seg_ids: list[int] = []
        start_src: int | None = source_index[r.source]
        start_st: int | None = None
        acc: list[int] = []
        skip_next = False
        for name in r.path:
            if skip_next:  # destination storage of a shuttle: a new leg starts there
                skip_next = False
                start_src, start_st, acc = None, storage_index[name], []
                continue
            if name in storage_index:
                seg_ids.append(leg((start_src, start_st, storage_index[name], None, tuple(acc))))
                start_src, start_st, acc = None, storage_index[name], []
            elif name in shuttle_index:
                skip_next = True
            else:
                acc.append(link_index[name])
        seg_ids.append(leg((start_src, start_st, None, market_index[r.market], tuple(acc))))
        routes.append(
            RouteInfo(
                id=r.id,
                source=source_index[r.source],
                market=market_index[r.market],
                links=tuple(link_index[n] for n in r.path if n in link_index),
                shuttles=tuple(shuttle_index[n] for n in r.path if n in shuttle_index),
                segments=tuple(seg_ids),
                contract_mt_per_day=r.contract_mt_per_year / DAYS_PER_YEAR,
            )
        )
    return routes, segments


def shuttle_capacity_mt_per_day(shuttle: Shuttle) -> float:
    """Steady-state lifting capacity of a shuttle with cargo always waiting and room always free.

    Each tanker delivers ``dwt x mean payload factor`` per cycle (two sailings, loading,
    discharging and two port calls, each with its mean delay). If the fleet needs more berth
    time per day than the berths at either end offer (less the mean berth time third-party
    calls take there), throughput scales down by that shortfall. Exact for a deterministic
    shuttle of identical tankers without third-party calls.
    """
    factor = fraction_mean(shuttle.payload_factor)
    port = shuttle.port_time_hours / HOURS_PER_DAY
    if shuttle.port_delay is not None:
        port += shuttle.port_delay.mean()
    sail_delay = 0.0 if shuttle.sailing_delay is None else shuttle.sailing_delay.mean()
    rate = origin_busy = dest_busy = 0.0
    for cls in shuttle.fleet:
        if cls.count == 0:
            continue
        cargo_t = cls.dwt_t * factor
        load = cargo_t / (shuttle.load_rate_t_per_hour * HOURS_PER_DAY)
        dis = cargo_t / (shuttle.discharge_rate_t_per_hour * HOURS_PER_DAY)
        sail = shuttle.distance_nm / (cls.speed_knots * HOURS_PER_DAY) + sail_delay
        cargoes_per_day = cls.count / (2 * sail + load + dis + 2 * port)
        rate += cargoes_per_day * cargo_t * 1e-6
        origin_busy += cargoes_per_day * (load + port)
        dest_busy += cargoes_per_day * (dis + port)
    if rate == 0.0:
        return 0.0
    free_origin = shuttle.origin_berths - _traffic_berths(shuttle.origin_traffic)
    free_dest = shuttle.destination_berths - _traffic_berths(shuttle.destination_traffic)
    berth_limit = max(0.0, min(free_origin / origin_busy, free_dest / dest_busy))
    return rate * min(1.0, berth_limit)


def _traffic_berths(traffic: PortTraffic | None) -> float:
    """Mean number of berths third-party calls occupy (offered load, calls/day x days)."""
    if traffic is None:
        return 0.0
    if traffic.calls_per_year is not None:
        per_day = traffic.calls_per_year / DAYS_PER_YEAR
    else:
        assert traffic.interarrival is not None
        gap = traffic.interarrival.mean()
        per_day = 1.0 / gap if gap > 0 else float("inf")
    return per_day * traffic.berth_time.mean()
