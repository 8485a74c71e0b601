"""The tanker shuttle: each tanker is a SimPy process, berths are SimPy resources.

A tanker waits for an origin berth and for a full cargo in the origin storage, loads, waits
while sailings are stopped (storms), sails, waits for a destination berth and for room in the
destination storage, discharges and sails back. Cargo leaves the origin storage when loading
starts and enters the destination storage when discharging starts; pumping time is spent
holding the berth. Oil on board counts as in transit.

A shuttle's ``port_delay`` and ``sailing_delay`` add a drawn time to each port call and each
sailing, from the tanker's streams ``("shuttle", <id>, <tanker>, "port"|"voyage")``; without them
nothing is drawn. Ports with third-party traffic use monitored berths and start the calls of
:mod:`sim.model.port_traffic`.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from sim.base.units import HOURS_PER_DAY
from sim.config.models import Shuttle
from sim.model.berths import Berths
from sim.model.clock import now as clock_now
from sim.model.engine import FlowEngine
from sim.model.port_traffic import MonitoredBerths, start_port_traffic
from sim.model.sampling import Sampler, duration_sampler, fraction_sampler
from sim.model.streams import LazyGenerator, Streams


@dataclass
class TankerStats:
    """What one tanker did during a run (days and Mt)."""

    name: str
    trips: int = 0
    lifted_mt: float = 0.0
    delivered_mt: float = 0.0
    busy_days: float = 0.0
    waits: list[float] = field(default_factory=list)
    landings: list[tuple[float, float]] = field(default_factory=list)
    """(day, Mt) of every cargo landed at the destination."""


@dataclass(frozen=True)
class TankerSpec:
    """The fixed parameters of one tanker's loop (see :func:`start_shuttle`)."""

    shuttle: Shuttle
    dwt_mt: float
    """Deadweight, Mt."""
    speed_knots: float
    origin: int
    """Origin storage index."""
    destination: int
    """Destination storage index."""
    origin_berths: Berths
    destination_berths: Berths
    payload: Sampler
    """Payload factor sampler (share of the deadweight loaded)."""
    rng_payload: LazyGenerator
    port_delay: Sampler | None
    """Sampler of the extra time of a port call (days), or None for none."""
    rng_port: LazyGenerator | None
    sail_delay: Sampler | None
    """Sampler of the extra time of a sailing (days), or None for none."""
    rng_voyage: LazyGenerator | None


class ShuttleState:
    """Sailing permission of one shuttle, shared by its tankers and its hazards."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.blocked = 0
        self._clear: simpy.Event = env.event()
        self.berths: list[Berths] = []
        """The shuttle's berths (origin, destination), set by :func:`start_shuttle`."""

    def block(self, delta: int) -> None:
        """Stop (``+1``) or free (``-1``) sailings; overlapping stops nest."""
        if delta > 0 and self.blocked == 0:
            self._clear = self.env.event()
        self.blocked += delta
        if self.blocked == 0:
            self._clear.succeed()

    def waiting(self) -> list[simpy.Event]:
        """Return the events processes still wait on: sailings clear, a free berth."""
        return [self._clear, *(q for b in self.berths for q in b.put_queue)]

    @property
    def clear(self) -> simpy.Event:
        """Event that fires when sailings may start again."""
        return self._clear


def start_shuttle(
    env: simpy.Environment,
    engine: FlowEngine,
    shuttle: Shuttle,
    origin: int,
    destination: int,
    state: ShuttleState,
    streams: Streams,
    ports: dict[str, MonitoredBerths] | None = None,
) -> list[TankerStats]:
    """Start one process per tanker of ``shuttle``; return their (live) statistics.

    Third-party calls start at the ports that have them; their berths are added to ``ports``
    (when given) as ``"<shuttle>.origin"`` / ``"<shuttle>.destination"``.
    """
    stats: list[TankerStats] = []
    specs = tanker_specs(env, shuttle, origin, destination, streams, ports)
    if specs:  # their berths: processes waiting there are dropped when the run ends
        state.berths = [specs[0][0].origin_berths, specs[0][0].destination_berths]
    for spec, st in specs:
        stats.append(st)
        env.process(_tanker(env, engine, spec, state, st))
    return stats


def tanker_specs(
    env: simpy.Environment,
    shuttle: Shuttle,
    origin: int,
    destination: int,
    streams: Streams,
    ports: dict[str, MonitoredBerths] | None = None,
) -> list[tuple[TankerSpec, TankerStats]]:
    """Return the spec and (empty) statistics of every tanker of ``shuttle``, fleet order.

    Builds the shuttle's berths and starts the third-party calls at its ports (see
    :func:`start_shuttle`).
    """
    o_berths = _port(env, shuttle, "origin", shuttle.origin_berths, streams, ports)
    d_berths = _port(env, shuttle, "destination", shuttle.destination_berths, streams, ports)
    payload = fraction_sampler(shuttle.payload_factor)
    port_delay = None if shuttle.port_delay is None else duration_sampler(shuttle.port_delay)
    sail_delay = None if shuttle.sailing_delay is None else duration_sampler(shuttle.sailing_delay)
    out: list[tuple[TankerSpec, TankerStats]] = []
    for cls in shuttle.fleet:
        for k in range(cls.count):
            name = f"{cls.name}-{k + 1}"
            key = ("shuttle", shuttle.id, name)
            spec = TankerSpec(
                shuttle=shuttle,
                dwt_mt=cls.dwt_t * 1e-6,
                speed_knots=cls.speed_knots,
                origin=origin,
                destination=destination,
                origin_berths=o_berths,
                destination_berths=d_berths,
                payload=payload,
                rng_payload=streams.lazy(*key, "payload"),
                port_delay=port_delay,
                rng_port=None if port_delay is None else streams.lazy(*key, "port"),
                sail_delay=sail_delay,
                rng_voyage=None if sail_delay is None else streams.lazy(*key, "voyage"),
            )
            out.append((spec, TankerStats(name)))
    return out


def _port(
    env: simpy.Environment,
    shuttle: Shuttle,
    end: str,
    capacity: int,
    streams: Streams,
    ports: dict[str, MonitoredBerths] | None,
) -> Berths:
    """Return the berths at one end of a shuttle, with its third-party calls started."""
    traffic = shuttle.origin_traffic if end == "origin" else shuttle.destination_traffic
    if traffic is None:
        return Berths(env, capacity=capacity)
    berths = MonitoredBerths(env, capacity=capacity)
    start_port_traffic(env, berths, traffic, streams, shuttle.id, end)
    if ports is not None:
        ports[f"{shuttle.id}.{end}"] = berths
    return berths


def _tanker(
    env: simpy.Environment,
    engine: FlowEngine,
    spec: TankerSpec,
    state: ShuttleState,
    st: TankerStats,
) -> Generator[Any, Any, None]:
    """Run one tanker's loop: load, sail, discharge, sail back; forever."""
    sail, port, load_rate, discharge_rate = leg_times(spec.shuttle, spec.speed_knots)
    timeout, now, lift, land = env.timeout, clock_now, engine.lift, engine.land
    o_berths, d_berths = spec.origin_berths, spec.destination_berths
    waits, landings = st.waits, st.landings
    port_delay, rng_port = spec.port_delay, spec.rng_port
    sail_delay, rng_voyage = spec.sail_delay, spec.rng_voyage
    # Without delays every drawn time is 0.0, and x + 0.0 == x: the same times as before.
    p1 = p2 = s1 = s2 = 0.0
    # Berths are taken and given back explicitly (no ``with``): a tanker process is never
    # interrupted, and when it is discarded at the end of a run nothing is released anyway.
    while True:
        cargo = spec.dwt_mt * spec.payload(spec.rng_payload)
        t0 = now(env)
        req = o_berths.request()
        yield req
        wait = lift(spec.origin, cargo)
        if wait is not None:
            yield wait
        st.lifted_mt += cargo
        waited = now(env) - t0
        if port_delay is not None:
            p1, p2 = port_delay(rng_port), port_delay(rng_port)
        if sail_delay is not None:
            s1, s2 = sail_delay(rng_voyage), sail_delay(rng_voyage)
        yield timeout(cargo / load_rate + port + p1)
        o_berths.release(req)
        t1 = now(env)
        if state.blocked:
            yield state.clear
        waited += now(env) - t1
        yield timeout(sail + s1)
        t2 = now(env)
        req = d_berths.request()
        yield req
        wait = land(spec.destination, cargo)
        if wait is not None:
            yield wait
        landings.append((now(env), cargo))
        st.delivered_mt += cargo
        waited += now(env) - t2
        yield timeout(cargo / discharge_rate + port + p2)
        d_berths.release(req)
        st.trips += 1
        t3 = now(env)
        if state.blocked:
            yield state.clear
        waited += now(env) - t3
        waits.append(waited)
        yield timeout(sail + s2)
        st.busy_days += (
            2 * sail + cargo / load_rate + cargo / discharge_rate + 2 * port + (p1 + p2 + s1 + s2)
        )


def leg_times(sh: Shuttle, speed_knots: float) -> tuple[float, float, float, float]:
    """Return a tanker's sailing and port-call days and its load and discharge rates, Mt/day."""
    sail = sh.distance_nm / (speed_knots * HOURS_PER_DAY)
    port = sh.port_time_hours / HOURS_PER_DAY
    load_rate = sh.load_rate_t_per_hour * HOURS_PER_DAY * 1e-6
    discharge_rate = sh.discharge_rate_t_per_hour * HOURS_PER_DAY * 1e-6
    return sail, port, load_rate, discharge_rate
