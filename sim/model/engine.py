"""The fluid flow engine: piecewise-constant rates recomputed only at events.

:class:`FlowEngine` holds the state of the network during one SimPy run: link capacities,
source availability, storage levels and the current routing. Any change (an outage starting or
ending, a tanker lifting or landing a cargo) calls :meth:`FlowEngine.refresh`, which

1. integrates storage levels exactly up to now (levels are linear between events);
2. re-solves the routing for the new state (a cached LP, see :mod:`sim.model.solver`);
3. records a breakpoint (time, routing, levels, oil in transit) for the accounting layer;
4. schedules a wake-up at the next analytic threshold: a storage filling or emptying, or the
   level a waiting tanker needs. There is no fixed time step anywhere.

Link capacities and source availability under outages are kept by its base class
:class:`~sim.model.capacity.CapacityEffects`; SimPy internals are reached through
:mod:`sim.model.clock`.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable
from dataclasses import dataclass, field
from heapq import heappop, heappush

import simpy

from sim.model.capacity import CapacityEffects
from sim.model.clock import SideStep, id_source, side_queue, wake_at
from sim.model.clock import now as _now
from sim.model.network import Network
from sim.model.reactions import Reactions as _Reactions
from sim.model.solver import EMPTY, FREE, FULL, JUNCTION, FlowSolution, FlowSolver
from sim.model.streams import Streams

LEVEL_EPS = 1e-9
"""Mt; a storage within this of a bound counts as full or empty (about one tonne)."""
_MIN_DT = 1e-12
_INF = float("inf")


@dataclass
class Trace:
    """Breakpoints of one run: after ``times[i]`` the routing is ``solutions[i]``."""

    times: list[float] = field(default_factory=list)
    solutions: list[FlowSolution] = field(default_factory=list)
    levels: list[tuple[float, ...]] = field(default_factory=list)
    in_transit: list[float] = field(default_factory=list)
    link_cap: list[tuple[float, ...]] = field(default_factory=list)


class FlowEngine(CapacityEffects):
    """Network state of one replication, driven by SimPy processes.

    Capacity effects (outages, berths, surges) are the methods of
    :class:`~sim.model.capacity.CapacityEffects`.

    Parameters
    ----------
    env:
        The SimPy environment (time unit: days).
    net:
        The compiled network.
    solver:
        Routing solver (may be shared between replications of the same network).
    """

    def __init__(
        self,
        env: simpy.Environment,
        net: Network,
        solver: FlowSolver,
        streams: Streams | None = None,
    ) -> None:
        self.env = env
        self.net = net
        self.solver = solver
        self.streams = streams
        self._init_capacity(net)
        self.levels = list(net.storage_init)
        self._full_at = [c - LEVEL_EPS for c in net.storage_cap]
        self._room_at = [c + LEVEL_EPS for c in net.storage_cap]
        n_st = len(net.storage_ids)
        fills = [any(s.end_storage == k for s in net.segments) for k in range(n_st)]
        drains = [any(s.start_storage == k for s in net.segments) for k in range(n_st)]
        junction = [c <= LEVEL_EPS for c in net.storage_cap]
        self._by_level = [
            (JUNCTION,) * 3
            if junction[k]
            else (FULL if fills[k] else FREE, FREE, EMPTY if drains[k] else FREE)
            for k in range(n_st)
        ]
        """Per storage, its state when full, partly full and empty. A full storage that no
        routed leg enters, or an empty one that no leg leaves, routes as a partly full one: the
        bound its full or empty row would add already holds (flows are non-negative), so the LP
        is the same and the storage keeps one routing key. A zero-capacity storage is always a
        junction."""
        self._states = [self._classify(k) for k in range(len(self.levels))]
        """Current state of each storage (FREE, FULL, EMPTY or JUNCTION), kept up to date
        wherever a level changes."""
        self._caps = net.storage_cap
        self.net_rate: tuple[float, ...] = (0.0,) * len(net.storage_ids)
        self._moving: tuple[tuple[int, float], ...] = ()
        """(storage, net rate) of every storage whose level changes under the current routing."""
        self.in_transit = 0.0
        self.t_last = 0.0
        self._points: list[tuple[float, FlowSolution, tuple[float, ...], float, tuple]] = []
        self._queues: list[list[tuple[float, Callable[[], object]]]] = [[] for _ in net.storage_ids]
        """Per storage, the transfers waiting for level or room, first in first out: (level
        change, what to call when it is done: an event's ``succeed`` or a plain callback)."""
        self._waiting: list[int] = []
        """Storages with a non-empty queue, in index order."""
        self._wakes: list[float] = []
        """Times of the pending wake-ups (a heap)."""
        self._target = _INF
        self._side: list[SideStep] | None = None
        self._next_id = id_source(env)
        self._last_key: tuple | None = None
        self.solution: FlowSolution | None = None
        self._reactions = _Reactions.build(self) if _Reactions.needed(net) else None

    @property
    def storage_states(self) -> list[int]:
        """Current state of each storage (``FREE``, ``FULL``, ``EMPTY`` or ``JUNCTION``)."""
        return self._states

    # ------------------------------------------------------------------ storage and cargoes
    def lift(self, storage: int, amount: float) -> simpy.Event | None:
        """Lift a cargo of ``amount`` Mt from a storage onto a tanker.

        Returns ``None`` when the storage holds enough and the cargo left at once; otherwise an
        event that fires when the level has reached ``amount`` and the cargo has left (waiting
        tankers are served first come, first served).
        """
        return self._transfer(storage, -amount)

    def land(self, storage: int, amount: float) -> simpy.Event | None:
        """Discharge a cargo of ``amount`` Mt into a storage once it has room; see :meth:`lift`."""
        return self._transfer(storage, amount)

    def transfer_then(self, storage: int, delta: float, done: Callable[[], object]) -> bool:
        """Move ``delta`` Mt into a storage (negative: out of it) as soon as it fits.

        Returns True when the transfer was made at once; otherwise ``done()`` is called when it
        is made, from inside a later refresh (first come, first served with the transfers of
        :meth:`lift` and :meth:`land`), exactly where their events would succeed. ``done`` must
        not change the engine.
        """
        if self._transfer_now(storage, delta):
            return True
        self._enqueue(storage, delta, done)
        return False

    def _transfer(self, storage: int, delta: float) -> simpy.Event | None:
        if self._transfer_now(storage, delta):
            return None
        event = simpy.Event(self.env)
        self._enqueue(storage, delta, event.succeed)
        return event

    def _transfer_now(self, storage: int, delta: float) -> bool:
        """Make the transfer and refresh if nobody waits there and it fits; else False."""
        now = _now(self.env)
        if now > self.t_last:
            self._advance(now)
        if self._queues[storage]:
            return False
        lvl = self.levels[storage] + delta
        if not ((lvl >= -LEVEL_EPS) if delta < 0 else (lvl <= self._room_at[storage])):
            return False
        self.levels[storage] = lvl
        self._states[storage] = self._classify(storage)
        self.in_transit -= delta
        self.refresh()
        return True

    def _enqueue(self, storage: int, delta: float, done: Callable[[], object]) -> None:
        queue = self._queues[storage]
        if not queue:
            insort(self._waiting, storage)
        queue.append((delta, done))
        self._schedule()

    # ------------------------------------------------------------------ core
    def _advance(self, now: float) -> None:
        """Integrate the levels from ``t_last`` to ``now`` and classify the storages that moved.

        Rates are constant in between; the other levels and states stay as they are.
        """
        dt = now - self.t_last
        levels, states, full_at, by_level = self.levels, self._states, self._full_at, self._by_level
        for k, rate in self._moving:
            lvl = levels[k] = levels[k] + rate * dt
            states[k] = by_level[k][0 if lvl >= full_at[k] else 2 if lvl <= LEVEL_EPS else 1]
        self.t_last = now

    def refresh(self) -> None:
        """Bring the state to the present, re-route, record and reschedule."""
        now = _now(self.env)
        if now > self.t_last:
            self._advance(now)
        if self._waiting:
            self._release_waiters()
        levels = self.levels
        key = (self._cap_key, self._avail_key, tuple(self._states))
        if key != self._last_key:
            self._last_key = key
            self.solution = self.solver.solve(*key)
            if self._reactions is not None:
                self._reactions.check(self.solution)
        sol = self.solution
        self.net_rate = sol.storage_net
        self._moving = sol.moving
        point = (now, sol, tuple(levels), self.in_transit, self._cap_key)
        points = self._points
        if points and points[-1][0] == now:
            points[-1] = point  # several changes at one instant: keep the last state
        else:
            points.append(point)
        self._schedule()

    def _classify(self, k: int) -> int:
        """State of storage ``k`` at its current level."""
        lvl = self.levels[k]
        return self._by_level[k][0 if lvl >= self._full_at[k] else 2 if lvl <= LEVEL_EPS else 1]

    def _release_waiters(self) -> None:
        """Carry out waiting transfers that now fit, first come first served per storage."""
        levels, room_at, queues = self.levels, self._room_at, self._queues
        emptied = False
        for k in self._waiting:
            queue = queues[k]
            while queue:
                delta, done = queue[0]
                lvl = levels[k] + delta
                if not ((lvl >= -LEVEL_EPS) if delta < 0 else (lvl <= room_at[k])):
                    break
                levels[k] = lvl
                self._states[k] = self._classify(k)
                self.in_transit -= delta
                del queue[0]
                done()
            emptied = emptied or not queue
        if emptied:
            self._waiting = [k for k in self._waiting if queues[k]]

    def _waiter_threshold(self, best: float) -> float:
        """``best``, or the days until a waiting transfer fits if that comes sooner.

        Only the first transfer waiting at each storage counts: the others are served after
        it (first come, first served), so their levels are never the next thing to happen.
        """
        levels, rates, queues = self.levels, self.net_rate, self._queues
        caps = self._caps
        for k in self._waiting:
            delta = queues[k][0][0]
            rate = rates[k]
            if delta < 0:  # the level must rise to -delta
                gap = -delta - levels[k]
                if rate > _MIN_DT and 0 < gap < best * rate:
                    best = gap / rate
            else:  # the level must fall to capacity - delta
                gap = levels[k] + delta - caps[k]
                if rate < -_MIN_DT and 0 < gap < -best * rate:
                    best = gap / -rate
        return best

    def _schedule(self) -> None:
        """Make sure a wake-up is pending at the next threshold (see :meth:`_wake`).

        The threshold is the first time a storage reaches a bound or the level a waiting
        transfer needs, at the current rates.
        """
        now = self.t_last
        best = _INF
        levels, caps = self.levels, self._caps
        for k, rate in self._moving:
            if rate > _MIN_DT:
                room = caps[k] - levels[k]
                if room > LEVEL_EPS and room < best * rate:
                    best = room / rate
            elif rate < -_MIN_DT:
                lvl = levels[k]
                if lvl > LEVEL_EPS and lvl < -best * rate:
                    best = lvl / -rate
        if self._waiting:
            best = self._waiter_threshold(best)
        target = self._target = now + (best if best > _MIN_DT else _MIN_DT)
        wakes = self._wakes
        if not wakes or wakes[0] > target + _MIN_DT:
            self._arm(now, target - now)

    def use_side_queue(self) -> None:
        """Queue the engine's wake-ups as side steps (:func:`sim.model.clock.side_queue`).

        Same order as bare events (same time, priority and id), without an event object; for
        runs whose loop merges the side queue anyway (an exact shuttle).
        """
        self._side = side_queue(self.env)

    def _arm(self, now: float, dt: float) -> None:
        # A bare event queued as env.timeout(dt) would queue it; ``now`` is the environment's
        # current time.
        at = now + dt
        if self._side is None:
            wake_at(self.env, at, self._wake)
        else:
            heappush(self._side, (at, self._next_id(), None, self._wake))
        heappush(self._wakes, at)

    def _wake(self, _ev: object = None) -> None:
        """Handle a wake-up: refresh if the threshold is due, else keep one pending.

        Wake-ups are never cancelled. One that comes early (the threshold moved later, as
        every cargo lift moves it) re-arms only if no later wake-up is pending before the
        threshold; a pending wake-up up to ``_MIN_DT`` after the threshold is close enough.
        """
        wakes = self._wakes
        heappop(wakes)
        target = self._target
        if target == _INF:
            return
        now = _now(self.env)
        if target > now + _MIN_DT:
            if not wakes or wakes[0] > target + _MIN_DT:
                self._arm(now, target - now)
        else:
            self.refresh()

    def waiting(self) -> list[simpy.Event]:
        """Return the events of the transfers still waiting for level or room."""
        return [
            done.__self__
            for queue in self._queues
            for _, done in queue
            if isinstance(getattr(done, "__self__", None), simpy.Event)
        ]

    def close(self) -> None:
        """Forget the waiting transfers (after :meth:`waiting` was read).

        Their callbacks may refer back to the engine (through the exact shuttle): the run
        leaves no reference cycle behind.
        """
        for queue in self._queues:
            queue.clear()
        self._waiting = []

    def finish(self, horizon: float) -> Trace:
        """Integrate to ``horizon`` and return the trace (call once, after ``env.run``).

        The engine then holds no breakpoints and no reactions any more.
        """
        if _now(self.env) > self.t_last:
            self._advance(_now(self.env))
        times, solutions, levels, transit, caps = (list(c) for c in zip(*self._points))
        self._points = []
        self._reactions = None  # it refers back to the engine: no cycle left behind
        return Trace(
            times + [horizon],
            solutions,
            levels + [tuple(self.levels)],
            transit + [self.in_transit],
            caps,
        )
