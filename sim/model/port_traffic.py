"""Third-party tanker calls at a shuttle port, and the port's queue statistics.

Tankers of other shippers call at a shuttle's origin or destination port (``origin_traffic`` /
``destination_traffic`` of the shuttle): calls arrive as a Poisson process (``calls_per_year``)
or a renewal process (``interarrival`` days between calls), and each holds a berth for a time
drawn from ``berth_time``. They queue with the shuttle's own tankers for the same berths, first
come first served (:class:`~sim.model.berths.Berths`). Arrivals and berth times come from their
own streams, ``("port", <shuttle>, "origin"|"destination", "arrivals"|"berth_time")``, so the
twin sees the same calls (common random numbers) and no other draw moves.

A port with third-party traffic records, over the horizon, the calls (all vessels, the shuttle's
included), the time-average number waiting for a berth, the mean wait per call and the berth
utilisation. A wait still running at the horizon counts up to the horizon, so the recorded values
obey Little's law ``waiting = calls / horizon x wait`` exactly (the two sides are accumulated
independently: one from the queue length over time, one call by call).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import simpy
from simpy.events import Event

from sim.base.units import DAYS_PER_YEAR
from sim.config.models import PortTraffic
from sim.model.berths import Berths
from sim.model.clock import now as clock_now
from sim.model.sampling import duration_sampler
from sim.model.streams import Streams


@dataclass(frozen=True)
class PortStats:
    """Queue statistics of one port over a run.

    Attributes
    ----------
    calls:
        Berth requests made during the run (shuttle tankers and third-party calls).
    waiting_mean:
        Time-average number of vessels waiting for a berth.
    wait_days_mean:
        Mean wait for a berth per call, days (0 when there was no call).
    utilisation:
        Time-average share of the berths occupied.
    """

    calls: int
    waiting_mean: float
    wait_days_mean: float
    utilisation: float


class MonitoredBerths(Berths):
    """:class:`~sim.model.berths.Berths` that integrates its queue length and occupancy.

    Same grants in the same order as the plain resource; only ports with third-party traffic
    use it, so shuttles without it pay nothing for the bookkeeping.
    """

    def __init__(self, env: simpy.Environment, capacity: int = 1) -> None:
        super().__init__(env, capacity)
        self.calls = 0
        self.waited = 0.0
        """Days waited by the requests that left the queue so far."""
        self.queue_area = 0.0
        """Integral of the number waiting over time, vessel-days."""
        self.busy_area = 0.0
        """Integral of the number of berths occupied over time, berth-days."""
        self._last = env.now

    def _tick(self) -> float:
        now = clock_now(self.env)
        dt = now - self._last
        if dt:
            self.queue_area += len(self.put_queue) * dt
            self.busy_area += len(self.users) * dt
            self._last = now
        return now

    def request(self) -> Event:  # type: ignore[override]
        """Ask for a berth (see :meth:`Berths.request`), counting the call."""
        now = self._tick()
        self.calls += 1
        req = super().request()
        req.requested_at = now  # type: ignore[attr-defined]
        return req

    def release(self, request: Event) -> Event:  # type: ignore[override]
        """Give a berth back or withdraw a waiting request (see :meth:`Berths.release`)."""
        now = self._tick()
        if request in self.users:
            if self.put_queue:
                self.waited += now - self.put_queue[0].requested_at
        elif request in self.put_queue:
            self.waited += now - request.requested_at
        return super().release(request)

    def stats(self) -> PortStats:
        """Statistics from the start of the run to now (call at the horizon)."""
        now = self._tick()
        waited = self.waited + sum(now - q.requested_at for q in self.put_queue)
        span = now if now > 0 else 1.0
        return PortStats(
            calls=self.calls,
            waiting_mean=self.queue_area / span,
            wait_days_mean=waited / self.calls if self.calls else 0.0,
            utilisation=self.busy_area / (self.capacity * span),
        )


def start_port_traffic(
    env: simpy.Environment,
    berths: Berths,
    traffic: PortTraffic,
    streams: Streams,
    shuttle: str,
    end: str,
) -> None:
    """Start the third-party calls at one port (``end`` is ``"origin"`` or ``"destination"``)."""
    env.process(_arrivals(env, berths, traffic, streams, shuttle, end))


def _arrivals(
    env: simpy.Environment,
    berths: Berths,
    traffic: PortTraffic,
    streams: Streams,
    shuttle: str,
    end: str,
) -> Generator[Any, Any, None]:
    rng_arr = streams.get("port", shuttle, end, "arrivals")
    rng_time = streams.lazy("port", shuttle, end, "berth_time")
    berth_time = duration_sampler(traffic.berth_time)
    if traffic.calls_per_year is not None:
        mean_gap = DAYS_PER_YEAR / traffic.calls_per_year
        gap = lambda rng: float(rng.exponential(mean_gap))  # noqa: E731
    else:
        assert traffic.interarrival is not None
        gap = duration_sampler(traffic.interarrival)
    timeout, process = env.timeout, env.process
    while True:
        yield timeout(gap(rng_arr))
        process(_call(env, berths, berth_time(rng_time)))


def _call(env: simpy.Environment, berths: Berths, days: float) -> Generator[Any, Any, None]:
    req = berths.request()
    yield req
    yield env.timeout(days)
    berths.release(req)
