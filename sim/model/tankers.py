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
from sim.model.engine import FlowEngine
from sim.model.port_traffic import MonitoredBerths, start_port_traffic
from sim.model.sampling import duration_sampler, fraction_sampler
from sim.model.streams import Streams


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


class ShuttleState:
    """Sailing permission of one shuttle, shared by its tankers and its hazards."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.blocked = 0
        self._clear: simpy.Event = env.event()

    def block(self, delta: int) -> None:
        """Stop (``+1``) or free (``-1``) sailings; overlapping stops nest."""
        if delta > 0 and self.blocked == 0:
            self._clear = self.env.event()
        self.blocked += delta
        if self.blocked == 0:
            self._clear.succeed()

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
    o_berths = _port(env, shuttle, "origin", shuttle.origin_berths, streams, ports)
    d_berths = _port(env, shuttle, "destination", shuttle.destination_berths, streams, ports)
    payload = fraction_sampler(shuttle.payload_factor)
    port_delay = None if shuttle.port_delay is None else duration_sampler(shuttle.port_delay)
    sail_delay = None if shuttle.sailing_delay is None else duration_sampler(shuttle.sailing_delay)
    stats: list[TankerStats] = []
    for cls in shuttle.fleet:
        for k in range(cls.count):
            name = f"{cls.name}-{k + 1}"
            st = TankerStats(name)
            stats.append(st)
            rng = streams.lazy("shuttle", shuttle.id, name, "payload")
            delays = (
                port_delay,
                None if port_delay is None else streams.lazy("shuttle", shuttle.id, name, "port"),
                sail_delay,
                None if sail_delay is None else streams.lazy("shuttle", shuttle.id, name, "voyage"),
            )
            env.process(
                _tanker(
                    env,
                    engine,
                    shuttle,
                    cls.dwt_t * 1e-6,
                    cls.speed_knots,
                    origin,
                    destination,
                    o_berths,
                    d_berths,
                    state,
                    payload,
                    rng,
                    st,
                    delays,
                )
            )
    return stats


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
    env,
    engine,
    sh,
    dwt_mt,
    speed_knots,
    origin,
    dest,
    o_berths,
    d_berths,
    state,
    payload,
    rng,
    st,
    delays,
) -> Generator[Any, Any, None]:
    sail = sh.distance_nm / (speed_knots * HOURS_PER_DAY)
    port = sh.port_time_hours / HOURS_PER_DAY
    load_rate = sh.load_rate_t_per_hour * HOURS_PER_DAY * 1e-6
    discharge_rate = sh.discharge_rate_t_per_hour * HOURS_PER_DAY * 1e-6
    timeout = env.timeout
    lift, land = engine.lift, engine.land
    waits, landings = st.waits, st.landings
    port_delay, rng_port, sail_delay, rng_voyage = delays
    # Without delays every drawn time is 0.0, and x + 0.0 == x: the same times as before.
    p1 = p2 = s1 = s2 = 0.0
    # Berths are taken and given back explicitly (no ``with``): a tanker process is never
    # interrupted, and when it is discarded at the end of a run nothing is released anyway.
    while True:
        cargo = dwt_mt * payload(rng)
        t0 = env._now
        req = o_berths.request()
        yield req
        wait = lift(origin, cargo)
        if wait is not None:
            yield wait
        st.lifted_mt += cargo
        waited = env._now - t0
        if port_delay is not None:
            p1, p2 = port_delay(rng_port), port_delay(rng_port)
        if sail_delay is not None:
            s1, s2 = sail_delay(rng_voyage), sail_delay(rng_voyage)
        yield timeout(cargo / load_rate + port + p1)
        o_berths.release(req)
        t1 = env._now
        if state.blocked:
            yield state.clear
        waited += env._now - t1
        yield timeout(sail + s1)
        t2 = env._now
        req = d_berths.request()
        yield req
        wait = land(dest, cargo)
        if wait is not None:
            yield wait
        landings.append((env._now, cargo))
        st.delivered_mt += cargo
        waited += env._now - t2
        yield timeout(cargo / discharge_rate + port + p2)
        d_berths.release(req)
        st.trips += 1
        t3 = env._now
        if state.blocked:
            yield state.clear
        waited += env._now - t3
        waits.append(waited)
        yield timeout(sail + s2)
        st.busy_days += (
            2 * sail + cargo / load_rate + cargo / discharge_rate + 2 * port + (p1 + p2 + s1 + s2)
        )
