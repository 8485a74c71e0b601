"""The fluid flow engine: piecewise-constant rates recomputed only at events.

:class:`FlowEngine` holds the state of the network during one SimPy run: link capacities,
source availability, storage levels and the current routing. Any change (an outage starting or
ending, a tanker lifting or landing a cargo) calls :meth:`FlowEngine.refresh`, which

1. integrates storage levels exactly up to now (levels are linear between events);
2. re-solves the routing for the new state (a cached LP, see :mod:`sim.model.solver`);
3. records a breakpoint (time, routing, levels, oil in transit) for the accounting layer;
4. schedules a wake-up at the next analytic threshold: a storage filling or emptying, or the
   level a waiting tanker needs. There is no fixed time step anywhere.
"""

from __future__ import annotations

from bisect import insort
from dataclasses import dataclass, field
from heapq import heappop, heappush

import numpy as np
import simpy
from simpy.core import NORMAL

from sim.config.models import Terminal
from sim.model.network import Network
from sim.model.reactions import Reactions as _Reactions
from sim.model.sampling import fraction_sampler
from sim.model.solver import EMPTY, FREE, FULL, JUNCTION, FlowSolution, FlowSolver
from sim.model.streams import Streams
from sim.model.terminal_berths import TerminalBerths

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


class FlowEngine:
    """Network state of one replication, driven by SimPy processes.

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
        n_link, n_src = net.n_links, len(net.source_ids)
        self._link_effects: list[dict[int, float]] = [{} for _ in range(n_link)]
        self._berths: dict[int, TerminalBerths] = {
            i: TerminalBerths(t.berths) for i, t in net.terminal_of_link.items()
        }
        self._src_effects: list[dict[int, float]] = [{} for _ in range(n_src)]
        self.link_cap = list(net.link_cap)
        self.source_avail = list(net.source_rate)
        self._cap_key = tuple(self.link_cap)
        self._avail_key = tuple(self.source_avail)
        self.levels = list(net.storage_init)
        self._full_at = [c - LEVEL_EPS for c in net.storage_cap]
        self._room_at = [c + LEVEL_EPS for c in net.storage_cap]
        self._junction = [c <= LEVEL_EPS for c in net.storage_cap]
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
        self._queues: list[list[tuple[float, simpy.Event]]] = [[] for _ in net.storage_ids]
        """Per storage, the transfers waiting for level or room: (level change, event), FIFO."""
        self._waiting: list[int] = []
        """Storages with a non-empty queue, in index order."""
        self._wakes: list[float] = []
        """Times of the pending wake-ups (a heap)."""
        self._target = _INF
        self._last_key: tuple | None = None
        self._next_handle = 0
        self.solution: FlowSolution | None = None
        self._nominal = list(net.link_cap)
        """Capacity of each link before outages (Mt/day): its usable capacity plus any surge
        granted so far."""
        self._shares: dict[int, tuple[int, float]] = {}
        """Terminal -> (berths up, share drawn for that count) where the table has a
        distribution."""
        self._share_rngs: dict[int, np.random.Generator] = {}
        self._reactions = _Reactions.build(self) if _Reactions.needed(net) else None

    # ------------------------------------------------------------------ capacity effects
    def add_effect(self, kind: str, index: int, fraction: float) -> int:
        """Remove ``fraction`` of a link's capacity or a source's production; return a handle."""
        handle = self._next_handle
        self._next_handle += 1
        (self._link_effects if kind == "link" else self._src_effects)[index][handle] = fraction
        self._recompute(kind, index)
        return handle

    def set_effect(self, kind: str, index: int, handle: int, fraction: float) -> None:
        """Change the fraction of an active effect (used by production ramp-ups)."""
        (self._link_effects if kind == "link" else self._src_effects)[index][handle] = fraction
        self._recompute(kind, index)

    def remove_effect(self, kind: str, index: int, handle: int) -> None:
        """End an effect added with :meth:`add_effect`."""
        del (self._link_effects if kind == "link" else self._src_effects)[index][handle]
        self._recompute(kind, index)

    def berths_up(self, link: int) -> list[int]:
        """Return the indices of a terminal's berths that are in service."""
        return self._berths[link].up()

    def berth_down(self, link: int, berth: int, delta: int) -> None:
        """Start (``delta=+1``) or end (``delta=-1``) a per-berth outage of one berth."""
        self._berths[link].outage(berth, delta)
        self._recompute("link", link)

    def hold_berths(self, link: int, berths: list[int], demand: int) -> int:
        """Start an event that keeps ``demand`` berths of a terminal out; return its handle.

        It claims ``berths`` (in service) at once and, while it lasts with fewer than
        ``demand``, each berth that comes back into service (see
        :mod:`sim.model.terminal_berths`).
        """
        book = self._berths[link]
        handle = book.open(demand)
        for b in berths:
            book.claim(handle, b)
            self._recompute("link", link)
        return handle

    def release_berths(self, link: int, handle: int) -> None:
        """End an event started with :meth:`hold_berths`; its berths come back one by one."""
        book = self._berths[link]
        for b in book.close(handle):
            book.free(b)
            self._recompute("link", link)

    def _recompute(self, kind: str, index: int) -> None:
        if kind == "link":
            factor = 1.0
            for f in self._link_effects[index].values():
                factor *= 1.0 - f
            term = self.net.terminal_of_link.get(index)
            if term is not None:
                factor *= self._terminal_share(index, term, self._berths[index].n_up)
            self.link_cap[index] = self._nominal[index] * factor
            self._cap_key = tuple(self.link_cap)
        else:
            factor = 1.0
            for f in self._src_effects[index].values():
                factor *= 1.0 - f
            self.source_avail[index] = self.net.source_rate[index] * factor
            self._avail_key = tuple(self.source_avail)
        self.refresh()

    def _terminal_share(self, index: int, term: Terminal, up: int) -> float:
        """Share of a terminal's capacity with ``up`` berths in service.

        A table entry that is a distribution is drawn when the count becomes ``up`` and kept
        while it stays there (stream ``("terminal", id, "share")``).
        """
        share = term.share(up)
        held = self._shares.get(index)
        if isinstance(share, (int, float)):
            if held is not None:
                del self._shares[index]
            return float(share)
        if held is not None and held[0] == up:
            return held[1]
        rng = self._share_rngs.get(index)
        if rng is None:
            if self.streams is None:
                raise RuntimeError("a terminal share distribution needs the replication's streams")
            rng = self._share_rngs[index] = self.streams.get("terminal", term.id, "share")
        drawn = fraction_sampler(share)(rng)
        self._shares[index] = (up, drawn)
        return drawn

    @property
    def storage_states(self) -> list[int]:
        """Current state of each storage (``FREE``, ``FULL``, ``EMPTY`` or ``JUNCTION``)."""
        return self._states

    def nominal_capacity(self, link: int) -> float:
        """Return a link's capacity before outages (Mt/day)."""
        return self._nominal[link]

    def set_nominal(self, link: int, capacity: float) -> None:
        """Set a link's capacity before outages (Mt/day), e.g. as a surge is granted."""
        self._nominal[link] = capacity
        self._recompute("link", link)

    def impaired(self, kind: str, index: int) -> bool:
        """Return True while an outage holds part of a link (``kind="link"``) or source down."""
        if kind == "source":
            return bool(self._src_effects[index])
        if self._link_effects[index]:
            return True
        book = self._berths.get(index)
        return book is not None and book.n_up < len(book.down)

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

    def _transfer(self, storage: int, delta: float) -> simpy.Event | None:
        now = self.env._now
        if now > self.t_last:
            self._advance(now)
        queue = self._queues[storage]
        if not queue:
            lvl = self.levels[storage] + delta
            if (lvl >= -LEVEL_EPS) if delta < 0 else (lvl <= self._room_at[storage]):
                self.levels[storage] = lvl
                self._states[storage] = self._classify(storage)
                self.in_transit -= delta
                self.refresh()
                return None
        event = simpy.Event(self.env)
        if not queue:
            insort(self._waiting, storage)
        queue.append((delta, event))
        self._schedule()
        return event

    # ------------------------------------------------------------------ core
    def _advance(self, now: float) -> None:
        """Integrate the levels from ``t_last`` to ``now`` (rates are constant in between)."""
        dt = now - self.t_last
        levels = self.levels
        for k, rate in self._moving:  # the other levels stay as they are
            levels[k] += rate * dt
        self.t_last = now

    def refresh(self) -> None:
        """Bring the state to the present, re-route, record and reschedule."""
        now = self.env._now
        if now > self.t_last:
            self._advance(now)
        if self._waiting:
            self._release_waiters()
        levels = self.levels
        if self._moving:
            self._reclassify()
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
        if self._junction[k]:
            return JUNCTION
        return FULL if lvl >= self._full_at[k] else EMPTY if lvl <= LEVEL_EPS else FREE

    def _reclassify(self) -> None:
        """Update the states of the storages whose levels moved since the last refresh."""
        states, classify = self._states, self._classify
        for k, _ in self._moving:
            states[k] = classify(k)

    def _release_waiters(self) -> None:
        """Carry out waiting transfers that now fit, first come first served per storage."""
        levels, room_at, queues = self.levels, self._room_at, self._queues
        emptied = False
        for k in self._waiting:
            queue = queues[k]
            while queue:
                delta, event = queue[0]
                lvl = levels[k] + delta
                if not ((lvl >= -LEVEL_EPS) if delta < 0 else (lvl <= room_at[k])):
                    break
                levels[k] = lvl
                self._states[k] = self._classify(k)
                self.in_transit -= delta
                del queue[0]
                event.succeed()
            emptied = emptied or not queue
        if emptied:
            self._waiting = [k for k in self._waiting if queues[k]]

    def _next_threshold(self) -> float:
        """Days until a storage reaches a bound or the level a waiting transfer needs."""
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
        return self._waiter_threshold(best) if self._waiting else best

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
        """Make sure a wake-up is pending at the next threshold (see :meth:`_wake`)."""
        now = self.t_last
        dt = self._next_threshold()
        target = self._target = now + (dt if dt > _MIN_DT else _MIN_DT)
        wakes = self._wakes
        if not wakes or wakes[0] > target + _MIN_DT:
            self._arm(now, target - now)

    def _arm(self, now: float, dt: float) -> None:
        # A bare event queued as env.timeout(dt) would queue it (Environment.schedule written
        # out, without the checks); ``now`` is the environment's current time.
        env = self.env
        ev = simpy.Event(env)
        ev._ok = True
        ev._value = None
        ev.callbacks.append(self._wake)
        at = now + dt
        heappush(env._queue, (at, NORMAL, next(env._eid), ev))
        heappush(self._wakes, at)

    def _wake(self, ev: simpy.Event) -> None:
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
        now = self.env._now
        if target > now + _MIN_DT:
            if not wakes or wakes[0] > target + _MIN_DT:
                self._arm(now, target - now)
        else:
            self.refresh()

    def finish(self, horizon: float) -> Trace:
        """Integrate to ``horizon`` and return the trace (call after ``env.run``)."""
        if self.env._now > self.t_last:
            self._advance(self.env._now)
        times, solutions, levels, transit, caps = (list(c) for c in zip(*self._points))
        return Trace(
            times + [horizon],
            solutions,
            levels + [tuple(self.levels)],
            transit + [self.in_transit],
            caps,
        )
