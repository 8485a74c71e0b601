"""How the network reacts to its own congestion: nomination surges and field restart ramps.

Both watch the congestion shut-in of each routing solution (oil produced that has no way out):

* **Surge** (``pipelines[].surge``): when oil that could use the link has no way out (a source
  with a route through it is shut in, or a buffer on such a source's routes is filling), the
  link's shippers renominate. Nothing extra flows for ``lag_days``; then the extra capacity
  comes in ``steps`` equal steps, step k at ``lag_days + ramp_days * k / steps``. A request is
  dropped if the need ends during the lag, and the extra is withdrawn once it is no longer
  needed: no source it serves is held back by a restart ramp, and the link carries no more
  than it could without the extra or the routing without it would have no need either. The
  next need waits the full lag again.
* **Restart ramp** (``sources[].restart_ramp_days``): when a source's congestion cut eases
  (ends, or gets smaller), its production does not jump: it is held at the level it was cut to
  and the cap lifts in ``ramp_steps`` equal steps, step j at
  ``restart_ramp_days * j / ramp_steps``.

Changes are applied by SimPy events at the same instant, never from inside a refresh, so each
refresh solves and records one consistent state (the engine keeps the last state of an
instant). Nothing here draws random numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Protocol

from sim.model.clock import add_callback

if TYPE_CHECKING:
    import simpy

    from sim.model.network import Network
    from sim.model.solver import FlowSolution, FlowSolver

_EPS = 1e-9
"""Mt/day; rates closer than this count as equal (about a third of a tonne a day)."""

_IDLE, _NOMINATED, _GRANTED = 0, 1, 2
_QUIET, _NEEDS = "reactions.quiet", "reactions.needs"
"""Keys of what the reactions derive from a routing solution alone (for its network, which the
solution's solver serves), kept in :attr:`FlowSolution.derived`."""


class FlowEngine(Protocol):
    """What reactions use of :class:`sim.model.engine.FlowEngine` (which builds them)."""

    env: simpy.Environment
    net: Network
    solver: FlowSolver
    link_cap: list[float]
    source_avail: list[float]

    @property
    def storage_states(self) -> list[int]:
        """Current state of each storage."""

    def nominal_capacity(self, link: int) -> float:
        """Return a link's capacity before outages (Mt/day)."""

    def set_nominal(self, link: int, capacity: float) -> None:
        """Set a link's capacity before outages (Mt/day)."""

    def add_effect(self, kind: str, index: int, fraction: float) -> int:
        """Remove ``fraction`` of a link's capacity or a source's production."""

    def set_effect(self, kind: str, index: int, handle: int, fraction: float) -> None:
        """Change the fraction of an active effect."""

    def remove_effect(self, kind: str, index: int, handle: int) -> None:
        """End an effect."""


class Reactions:
    """Surge and restart-ramp state of one replication (see the module docstring)."""

    @staticmethod
    def needed(net: Network) -> bool:
        """Return True when the network has a surge or a restart ramp to watch."""
        return any(x > 0 for x in net.link_surge) or any(
            s.restart_ramp_days > 0 for s in net.cfg.sources
        )

    @classmethod
    def build(cls, engine: FlowEngine) -> Reactions:
        """Reactions for ``engine``'s network."""
        return cls(engine)

    def __init__(self, engine: FlowEngine) -> None:
        self.engine = engine
        net = engine.net
        layout = engine.solver.rate_layout()
        self._flow = layout["link_flow"].start
        pipes = {p.id: p for p in net.cfg.pipelines}
        buffers = set(net.non_shuttle_storages)
        self._surges = []
        for i, extra in enumerate(net.link_surge):
            if extra > 0:
                fed = [r for r in net.routes if i in r.links]
                feeders = tuple(sorted({r.source for r in fed}))
                stores = tuple(
                    sorted(
                        {
                            seg.end_storage
                            for r in net.routes
                            if r.source in feeders
                            for seg in (net.segments[j] for j in r.segments)
                            if seg.end_storage in buffers
                        }
                    )
                )
                self._surges.append((i, pipes[net.link_ids[i]].surge, extra, feeders, stores))
        self._state = {i: _IDLE for i, *_ in self._surges}
        self._generation = {i: 0 for i, *_ in self._surges}
        self._ramps = [
            (k, s.restart_ramp_days, s.ramp_steps)
            for k, s in enumerate(net.cfg.sources)
            if s.restart_ramp_days > 0
        ]
        self._cut = {k: 0.0 for k, *_ in self._ramps}
        self._ramping: set[int] = set()
        self._buffers = buffers
        self._calm = True
        """Nothing requested, granted, cut or ramping (kept up to date by :meth:`check`)."""

    def check(self, sol: FlowSolution) -> None:
        """React to a new routing solution (called when the routing state changes).

        While nothing is requested, granted, cut or ramping, a solution with no congestion
        (no shut-in, no buffer filling) changes nothing, and is passed over at once.
        """
        if self._calm and self._quiet(sol):
            return
        self._react(sol)
        self._calm = not any(self._cut.values()) and all(st == _IDLE for st in self._state.values())

    def _quiet(self, sol: FlowSolution) -> bool:
        """Return True when ``sol`` has no congestion (kept with the solution)."""
        quiet = sol.derived.get(_QUIET)
        if quiet is None:
            quiet = sol.derived[_QUIET] = not any(x > _EPS for x in sol.shut_in) and not any(
                rate > _EPS for k, rate in sol.moving if k in self._buffers
            )
        return quiet

    def _needs(self, sol: FlowSolution) -> tuple[bool, ...]:
        """:meth:`_needed` of every surge link in ``sol`` (kept with the solution)."""
        needs = sol.derived.get(_NEEDS)
        if needs is None:
            needs = sol.derived[_NEEDS] = tuple(
                self._needed(sol, f, s) for _, _, _, f, s in self._surges
            )
        return needs

    def _react(self, sol: FlowSolution) -> None:
        for (i, surge, extra, feeders, stores), needed in zip(self._surges, self._needs(sol)):
            state = self._state[i]
            if state == _IDLE:
                if needed:
                    self._state[i] = _NOMINATED
                    self._generation[i] += 1
                    self.engine.env.process(self._grant(i, surge, extra, self._generation[i]))
            elif (
                not needed
                and not self._ramping.intersection(feeders)  # production still held back
                and (state == _NOMINATED or self._spare(i, sol, feeders, stores))
            ):
                self._state[i] = _IDLE
                self._generation[i] += 1
                if state == _GRANTED:
                    self._later(lambda i=i: self.engine.set_nominal(i, self.engine.net.link_cap[i]))
        if self._ramps:
            self._check_ramps(sol)

    def _check_ramps(self, sol: FlowSolution) -> None:
        """Start a restart ramp for each source whose congestion cut has just eased."""
        shut = sol.shut_in
        avail = self.engine.source_avail
        for k, days, steps in self._ramps:
            if k in self._ramping:
                continue
            cut = min(1.0, shut[k] / avail[k]) if avail[k] > _EPS else 0.0
            before, self._cut[k] = self._cut[k], cut
            if cut < before - _EPS:
                self._ramping.add(k)
                self.engine.env.process(self._restart(k, before, days, steps))

    def _needed(self, sol: FlowSolution, feeders: tuple[int, ...], stores: tuple[int, ...]) -> bool:
        """Return True when oil that could use a link has no way out.

        A source it serves is shut in, or a buffer on their routes is filling.
        """
        shut = sol.shut_in
        net = sol.storage_net
        return any(shut[k] > _EPS for k in feeders) or any(net[k] > _EPS for k in stores)

    def _spare(
        self, i: int, sol: FlowSolution, feeders: tuple[int, ...], stores: tuple[int, ...]
    ) -> bool:
        """Return True when link ``i`` no longer needs its surge.

        Either it carries no more than its capacity without the surge, or the routing with
        that capacity (same outages, storages and production) would not need it either.
        """
        eng = self.engine
        nominal = eng.nominal_capacity(i)
        base = eng.link_cap[i] * eng.net.link_cap[i] / nominal if nominal > 0 else 0.0
        if float(sol.rates[self._flow + i]) <= base + _EPS:
            return True
        caps = list(eng.link_cap)
        caps[i] = base
        without = eng.solver.solve(tuple(caps), tuple(eng.source_avail), tuple(eng.storage_states))
        return not self._needed(without, feeders, stores)

    def _later(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` at the current time, after the refresh in progress."""
        ev = self.engine.env.timeout(0)
        add_callback(ev, lambda _ev: fn())

    def _grant(self, i: int, surge: Any, extra: float, generation: int) -> Generator:
        env, eng = self.engine.env, self.engine
        base = eng.net.link_cap[i]
        yield env.timeout(surge.lag_days + surge.ramp_days / surge.steps)
        for k in range(1, surge.steps + 1):
            if self._generation[i] != generation:
                return
            self._state[i] = _GRANTED
            eng.set_nominal(i, base + extra * k / surge.steps)
            if k < surge.steps:
                yield env.timeout(surge.ramp_days / surge.steps)

    def _restart(self, k: int, lost: float, days: float, steps: int) -> Generator[Any, Any, None]:
        """Hold source ``k`` at ``1 - lost`` of its rate, then ramp it back in ``steps`` steps.

        Step j comes at ``days * j / steps``: the cap is gone after ``days``. Cuts that ease
        while the ramp runs are absorbed by it.
        """
        env, eng = self.engine.env, self.engine
        handle = eng.add_effect("source", k, lost)
        for j in range(1, steps):
            yield env.timeout(days / steps)
            eng.set_effect("source", k, handle, lost * (steps - j) / steps)
        yield env.timeout(days / steps)
        self._ramping.discard(k)
        self._cut[k] = 0.0
        eng.remove_effect("source", k, handle)
