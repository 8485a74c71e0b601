"""Typed config models: the network, its hazards, economics and run settings.

Every model rejects unknown keys (``extra="forbid"``) and carries its unit in each key name.
Cross-references (a route naming an asset, a hazard naming a regime, ...) are checked in
:mod:`sim.config.references` so that each broken reference gets its own key path.
Each asset may carry a free-text ``source`` naming the row of ``seeds/`` it was calibrated from.
The disruption models (hazards, regimes, scripted events) live in :mod:`sim.config.hazards` and
the shared field types in :mod:`sim.config.fields`; both are re-exported here.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sim.base.limits import MAX_HORIZON_DAYS, MAX_MAGNITUDE, MAX_REPLICATIONS, MAX_VOLATILITY
from sim.base.strict import Strict
from sim.config.distributions import (
    DurationDist,
    FractionDist,
    NonNeg,
    Positive,
    fraction_mean,
)
from sim.config.fields import Date, Ident
from sim.config.hazards import (
    Cause,
    Effect,
    Hazard,
    Planning,
    PoissonArrivals,
    RateUncertainty,
    Regimes,
    RegimeState,
    RenewalArrivals,
    ScriptedEvent,
)

__all__ = [
    "Cause",
    "Config",
    "Date",
    "Economics",
    "Effect",
    "Hazard",
    "Ident",
    "Market",
    "Pipeline",
    "Planning",
    "PoissonArrivals",
    "PortTraffic",
    "Price",
    "RateUncertainty",
    "RegimeState",
    "Regimes",
    "RenewalArrivals",
    "Route",
    "RunSettings",
    "ScriptedEvent",
    "Shuttle",
    "Source",
    "Storage",
    "Surge",
    "TankerClass",
    "Terminal",
]


# --------------------------------------------------------------------------- network assets


class Source(Strict):
    """An oil field (or group of fields) producing at a constant potential rate."""

    id: Ident
    production_mt_per_year: NonNeg
    ramp_up_days: NonNeg = 0.0
    """After one of its own outages ends, production returns to full over this many days."""
    ramp_steps: Annotated[int, Field(ge=1, le=100)] = 4
    """The ramp is a staircase of this many equal steps (flows stay piecewise constant)."""
    restart_ramp_days: NonNeg = 0.0
    """After a congestion shut-in (no way out for its oil) ends, production returns from the
    level it was cut to over this many days, in ``ramp_steps`` steps (wells, separators and
    pumps restart gradually). 0: at once."""
    bbl_per_t: Annotated[float, Field(gt=5, lt=10)] | None = None
    """Barrels per tonne of this source's crude grade; ``None`` uses each market's
    ``bbl_per_t``. Revenue counts the barrels of the oil actually sold (see
    :mod:`sim.replication.accounting`)."""
    source: str | None = None


class Storage(Strict):
    """A tank farm: oil accumulates here when what flows in exceeds what flows out."""

    id: Ident
    capacity_mt: NonNeg
    initial_level_mt: NonNeg = 0.0
    source: str | None = None

    @model_validator(mode="after")
    def _level_fits(self) -> Storage:
        if self.initial_level_mt > self.capacity_mt:
            raise ValueError("initial_level_mt must not exceed capacity_mt")
        return self


class Surge(Strict):
    """Extra capacity a link can offer only after shippers renominate (a nomination lag).

    When oil is shut in anywhere for want of a way out, the link asks for ``extra_mt_per_year``
    more; nothing extra flows for ``lag_days`` (nominations, rail transit, tank-car
    positioning), then the extra comes in ``steps`` equal steps, the first at ``lag_days`` and
    the last at ``lag_days + ramp_days``. A request is dropped if the shut-in ends before the
    lag is over; the extra is withdrawn once the link carries no more than its capacity
    without it (the need is over). Each new need waits the full lag again.
    """

    extra_mt_per_year: NonNeg
    lag_days: NonNeg = 0.0
    ramp_days: NonNeg = 0.0
    steps: Annotated[int, Field(ge=1, le=100)] = 1


class Pipeline(Strict):
    """A capacity-limited link: pipeline, rail corridor, or a sea lane modelled as a flow.

    ``capacity_mt_per_year`` is what the link can carry for the network's shippers at once.
    ``access_mt_per_year`` caps it further where contracts, not pipe, limit the shippers (e.g.
    booked capacity in a third party's pipeline); routing uses the smaller of the two and spare
    capacity is counted against it. ``surge`` adds capacity after a nomination lag.
    """

    id: Ident
    capacity_mt_per_year: NonNeg
    access_mt_per_year: NonNeg | None = None
    surge: Surge | None = None
    tariff_usd_per_t: NonNeg = 0.0
    mode: Literal["pipeline", "rail", "sea", "other"] = "pipeline"
    source: str | None = None

    @property
    def usable_mt_per_year(self) -> float:
        """Capacity the routing may use before any surge: ``min(capacity, access)``."""
        if self.access_mt_per_year is None:
            return self.capacity_mt_per_year
        return min(self.capacity_mt_per_year, self.access_mt_per_year)


class Terminal(Strict):
    """A marine loading terminal with ``berths`` berths or single point moorings.

    ``capacity_by_berths`` gives the share of ``capacity_mt_per_year`` available with k berths
    up: ``proportional`` (k / berths) or a table such as ``{3: 1.0, 2: 1.0, 1: 0.55, 0: 0.0}``.
    An entry may be a fraction distribution (``{dist: uniform, low: 0.55, high: 0.8}``): a
    share is then drawn each time the terminal comes down to that many berths, and holds until
    the count changes (how well one mooring copes differs from outage to outage).
    """

    id: Ident
    capacity_mt_per_year: NonNeg
    berths: Annotated[int, Field(ge=1, le=64)]
    capacity_by_berths: Literal["proportional"] | dict[int, FractionDist] = "proportional"
    tariff_usd_per_t: NonNeg = 0.0
    source: str | None = None

    @model_validator(mode="after")
    def _table_complete(self) -> Terminal:
        if isinstance(self.capacity_by_berths, dict):
            want = set(range(self.berths + 1))
            if set(self.capacity_by_berths) != want:
                raise ValueError(
                    f"capacity_by_berths must have one entry for each of 0..{self.berths} berths"
                )
            shares = [fraction_mean(self.capacity_by_berths[k]) for k in sorted(want)]
            if any(b < a for a, b in zip(shares, shares[1:])):
                raise ValueError(
                    "capacity_by_berths must not decrease (in mean) as berths are added"
                )
        return self

    def share(self, berths_up: int) -> FractionDist:
        """Return the share with ``berths_up`` berths up (a number or a distribution)."""
        if self.capacity_by_berths == "proportional":
            return berths_up / self.berths
        return self.capacity_by_berths[berths_up]


class TankerClass(Strict):
    """A group of identical tankers in a shuttle fleet."""

    name: Ident
    count: Annotated[int, Field(ge=0, le=500)] = 1
    dwt_t: Positive
    speed_knots: Positive


class PortTraffic(Strict):
    """Tankers of other shippers calling at one of a shuttle's ports.

    Calls arrive as a Poisson process (``calls_per_year``) or a renewal process
    (``interarrival``, the days between calls); give exactly one. Each call holds a berth for a
    time drawn from ``berth_time`` and queues for the shuttle's berths at that port with its
    tankers, first come first served (see :mod:`sim.model.port_traffic`).
    """

    calls_per_year: Annotated[float, Field(gt=0, le=1e6, allow_inf_nan=False)] | None = None
    interarrival: DurationDist | None = None
    berth_time: DurationDist
    source: str | None = None

    @model_validator(mode="after")
    def _one_arrival_process(self) -> PortTraffic:
        if (self.calls_per_year is None) == (self.interarrival is None):
            raise ValueError("give exactly one of calls_per_year or interarrival")
        return self


class Shuttle(Strict):
    """A tanker shuttle lifting cargoes from one storage and discharging into another.

    Each tanker waits for a berth and for a full cargo at ``origin``, loads, sails
    ``distance_nm``, waits for a berth and for room at ``destination``, discharges and sails back.
    Sailings do not start while a hazard on the shuttle is active (storms). ``port_delay`` and
    ``sailing_delay`` make port calls and sailings random; ``origin_traffic`` and
    ``destination_traffic`` add third-party tankers competing for the berths.
    """

    id: Ident
    origin: Ident
    destination: Ident
    distance_nm: Positive
    fleet: Annotated[list[TankerClass], Field(min_length=1)]
    load_rate_t_per_hour: Positive
    discharge_rate_t_per_hour: Positive
    origin_berths: Annotated[int, Field(ge=1, le=64)] = 1
    destination_berths: Annotated[int, Field(ge=1, le=64)] = 1
    port_time_hours: NonNeg = 0.0
    """Extra time at each port call (mooring, hoses, paperwork), on top of pumping time."""
    payload_factor: FractionDist = 1.0
    """Cargo carried as a share of deadweight (draft limits); a distribution is drawn per trip."""
    port_delay: DurationDist | None = None
    """Extra time at each port call, drawn per call and added to ``port_time_hours`` (the
    tanker holds the berth); ``None`` draws nothing."""
    sailing_delay: DurationDist | None = None
    """Extra time on each sailing (weather, anchorage), drawn per sailing and added to
    ``distance_nm`` / speed; ``None`` draws nothing."""
    origin_traffic: PortTraffic | None = None
    """Third-party tanker calls competing for the origin berths."""
    destination_traffic: PortTraffic | None = None
    """Third-party tanker calls competing for the destination berths."""
    freight_usd_per_t: NonNeg = 0.0
    source: str | None = None

    @field_validator("payload_factor")
    @classmethod
    def _payload_positive(cls, v: FractionDist) -> FractionDist:
        if isinstance(v, (int, float)) and v <= 0:
            raise ValueError("payload_factor must be greater than 0")
        return v


class Market(Strict):
    """Where exported oil is sold: a price differential to the benchmark and a unit conversion."""

    id: Ident
    price_differential_usd_per_bbl: Annotated[
        float, Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE, allow_inf_nan=False)
    ] = 0.0
    bbl_per_t: Annotated[float, Field(gt=5, lt=10)] = 7.5
    blend: bool = False
    """Oil sold here is priced as the market's own stream (``bbl_per_t``), whatever its source
    grade: a pipeline blend settled by a quality bank (Transneft's Urals/KEBCO, say).
    Otherwise a source's ``bbl_per_t`` applies where set."""
    transport_cost_usd_per_t: NonNeg = 0.0
    source: str | None = None


class Route(Strict):
    """A path from a source through assets to a market.

    ``path`` lists pipelines, terminals, storages and shuttles in the order oil passes them.
    ``contract_mt_per_year`` is a contracted volume that is served before netback ranking.
    """

    id: Ident
    source: Ident
    path: Annotated[list[Ident], Field(min_length=1, max_length=64)]
    market: Ident
    contract_mt_per_year: NonNeg = 0.0


# --------------------------------------------------------------------------- economics and run


class Price(Strict):
    """Benchmark (Brent) price path.

    ``fixed`` keeps ``brent_usd_per_bbl`` all run. ``mean_reverting`` is an Ornstein-Uhlenbeck
    process on log price around log(``brent_usd_per_bbl``), sampled exactly every ``step_days``.
    Routing always uses netbacks at ``brent_usd_per_bbl``; the path only values the flows.
    """

    model: Literal["fixed", "mean_reverting"] = "fixed"
    brent_usd_per_bbl: Positive
    volatility_per_sqrt_year: Annotated[
        float, Field(ge=0, le=MAX_VOLATILITY, allow_inf_nan=False)
    ] = 0.0
    mean_reversion_per_year: NonNeg = 1.0
    step_days: Annotated[float, Field(gt=0, le=366)] = 1.0


class Economics(Strict):
    """Prices and discounting."""

    price: Price
    discount_rate_per_year: Annotated[float, Field(ge=0, le=1)] = 0.0
    """Annual effective rate: cash at day t is worth (1 + r) ** (-t / 365.25) (base/discount)."""


class RunSettings(Strict):
    """Calendar, horizon and Monte Carlo defaults of a run."""

    start_date: Date = dt.date(2026, 1, 1)
    horizon_days: Annotated[float, Field(gt=0, le=MAX_HORIZON_DAYS, allow_inf_nan=False)] = 365.0
    replications: Annotated[int, Field(ge=1, le=MAX_REPLICATIONS)] = 1000
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 20_260_101
    timeseries: bool = False
    """Keep a daily time series of flows and storage levels in each replication's results."""
    parameter_sets: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    """Second-order Monte Carlo: replication k uses parameter set ``k mod parameter_sets``, whose
    hazard rates are drawn from their ``rate_uncertainty``; ``None`` keeps every rate fixed."""
    shuttle_mode: Literal["discrete", "exact"] = "exact"
    """How tanker shuttles are simulated: ``exact`` (tankers as plain data whose steps the run
    loop takes in turn among the other events; docs/background/shuttle-exact.md) or
    ``discrete`` (each tanker a SimPy process, the reference it is tested against). The two give
    the same results to the last bit, so the mode is left out of the config hash, like the
    number of workers."""


class Config(Strict):
    """A complete corridor-sim configuration."""

    name: str = "unnamed"
    description: str = ""
    run: RunSettings = RunSettings()
    economics: Economics
    sources: Annotated[list[Source], Field(min_length=1)]
    storages: list[Storage] = []
    pipelines: list[Pipeline] = []
    terminals: list[Terminal] = []
    shuttles: list[Shuttle] = []
    markets: Annotated[list[Market], Field(min_length=1)]
    routes: Annotated[list[Route], Field(min_length=1)]
    hazards: dict[Ident, Hazard] = {}
    regimes: Regimes | None = None
    scripted_events: list[ScriptedEvent] = []

    def asset_ids(self) -> dict[str, str]:
        """Map every asset id to its kind (source, storage, pipeline, terminal, shuttle, market)."""
        kinds: dict[str, str] = {}
        for kind, items in (
            ("source", self.sources),
            ("storage", self.storages),
            ("pipeline", self.pipelines),
            ("terminal", self.terminals),
            ("shuttle", self.shuttles),
            ("market", self.markets),
        ):
            for item in items:
                kinds.setdefault(item.id, kind)
        return kinds
