"""The tanker shuttle without a SimPy process per tanker (``run.shuttle_mode: exact``).

See docs/background/shuttle-exact.md. Each tanker is plain data stepping through the same
actions as the process of :mod:`sim.model.tankers`, at the same times, drawing from the same
streams in the same order. Its timed steps go to the run's side queue
(:func:`sim.model.clock.side_queue`), each with the event id the process's event would take at
that point, and the run loop carries them out in their turn among the SimPy events: no event
object, no generator, no berth request event. Berths of a shuttle without third-party traffic are
private to it: counters with first come, first served queues, as
:class:`~sim.model.berths.Berths` grants them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from heapq import heappush

import simpy

from sim.config.models import Shuttle
from sim.model.clock import id_source, side_queue, start_urgent
from sim.model.clock import now as clock_now
from sim.model.engine import FlowEngine
from sim.model.tankers import ShuttleState, TankerSpec, TankerStats, leg_times

_Step = Callable[["_Tanker"], None]


def eligible(shuttle: Shuttle) -> bool:
    """Return True when ``shuttle`` can run without tanker processes (no third-party calls)."""
    return shuttle.origin_traffic is None and shuttle.destination_traffic is None


class _Tanker:
    """One tanker's loop state (the locals of :func:`sim.model.tankers._tanker`)."""

    __slots__ = (
        "spec",
        "st",
        "sail",
        "port",
        "load_rate",
        "discharge_rate",
        "cargo",
        "t_mark",
        "waited",
        "p1",
        "p2",
        "s1",
        "s2",
    )

    def __init__(self, spec: TankerSpec, st: TankerStats) -> None:
        self.spec = spec
        self.st = st
        self.sail, self.port, self.load_rate, self.discharge_rate = leg_times(
            spec.shuttle, spec.speed_knots
        )
        self.cargo = 0.0
        self.t_mark = 0.0
        self.waited = 0.0
        self.p1 = self.p2 = self.s1 = self.s2 = 0.0


class ExactShuttle:
    """The tankers of one shuttle, stepped by the run loop between the other events of the run.

    Parameters
    ----------
    env, engine, state:
        The environment, the flow engine and the shuttle's sailing permission.
    tankers:
        Spec and statistics of every tanker, fleet order (:func:`~sim.model.tankers.tanker_specs`).
    """

    def __init__(
        self,
        env: simpy.Environment,
        engine: FlowEngine,
        state: ShuttleState,
        tankers: list[tuple[TankerSpec, TankerStats]],
    ) -> None:
        self.env = env
        self.engine = engine
        self.state = state
        self.tankers = [_Tanker(spec, st) for spec, st in tankers]
        sh = tankers[0][0].shuttle if tankers else None
        self._free = [sh.origin_berths, sh.destination_berths] if sh is not None else [0, 0]
        self._berth_queue: list[deque[_Tanker]] = [deque(), deque()]
        self._side = side_queue(env)
        """The run's side queue: (time, event id, tanker, step), a heap shared with any other
        exact shuttle of the run. The id is taken where the tanker process would schedule its
        event, so the step sorts among other events of the same instant as that event would."""
        self._next_id = id_source(env)

    def close(self) -> None:
        """Drop the berth queues (at the end of a run: no reference cycles left)."""
        for queue in self._berth_queue:
            queue.clear()

    def start(self) -> None:
        """Start every tanker at the current time, queued as the tanker processes would be."""
        if self.tankers:
            start_urgent(self.env, self._start)

    def _start(self, _ev: simpy.Event) -> None:
        for tk in self.tankers:
            self._request_origin(tk)

    # ------------------------------------------------------------------ scheduling
    def _at(self, t: float, tk: _Tanker, step: _Step) -> None:
        heappush(self._side, (t, self._next_id(), tk, step))

    def _resume(self, tk: _Tanker, step: _Step) -> Callable[[simpy.Event], None]:
        """Return a callback that carries out ``step`` when an awaited event fires."""

        def resume(_ev: simpy.Event) -> None:
            step(tk)

        return resume

    def _when_done(self, tk: _Tanker, step: _Step) -> Callable[[], None]:
        """Return what the engine calls when a waiting transfer of ``tk`` is made.

        ``step`` becomes due at once, with the event id the transfer's event would take there
        (see :meth:`FlowEngine.transfer_then <sim.model.engine.FlowEngine.transfer_then>`).
        """
        return lambda: self._at(clock_now(self.env), tk, step)

    # ------------------------------------------------------------------ berths
    def _request(self, end: int, tk: _Tanker, step: _Step) -> None:
        queue = self._berth_queue[end]
        if self._free[end] > 0 and not queue:
            self._free[end] -= 1
            step(tk)
        else:
            queue.append(tk)

    def _release(self, end: int, step: _Step) -> None:
        queue = self._berth_queue[end]
        if queue:  # the berth passes to the first in line, at this instant, after the releaser
            self._at(clock_now(self.env), queue.popleft(), step)
        else:
            self._free[end] += 1

    # ------------------------------------------------------------------ the loop
    def _request_origin(self, tk: _Tanker) -> None:
        spec = tk.spec
        tk.cargo = spec.dwt_mt * spec.payload(spec.rng_payload)
        tk.t_mark = clock_now(self.env)
        self._request(0, tk, self._lift)

    def _lift(self, tk: _Tanker) -> None:
        if self.engine.transfer_then(tk.spec.origin, -tk.cargo, self._when_done(tk, self._lifted)):
            self._lifted(tk)

    def _lifted(self, tk: _Tanker) -> None:
        spec, now = tk.spec, clock_now(self.env)
        tk.st.lifted_mt += tk.cargo
        tk.waited = now - tk.t_mark
        if spec.port_delay is not None:
            tk.p1, tk.p2 = spec.port_delay(spec.rng_port), spec.port_delay(spec.rng_port)
        if spec.sail_delay is not None:
            tk.s1, tk.s2 = spec.sail_delay(spec.rng_voyage), spec.sail_delay(spec.rng_voyage)
        self._at(now + (tk.cargo / tk.load_rate + tk.port + tk.p1), tk, self._loaded)

    def _loaded(self, tk: _Tanker) -> None:
        self._release(0, self._lift)
        self._when_clear(tk, self._sail_out)

    def _sail_out(self, tk: _Tanker) -> None:
        now = clock_now(self.env)
        tk.waited += now - tk.t_mark
        self._at(now + (tk.sail + tk.s1), tk, self._arrived)

    def _arrived(self, tk: _Tanker) -> None:
        tk.t_mark = clock_now(self.env)
        self._request(1, tk, self._land)

    def _land(self, tk: _Tanker) -> None:
        if self.engine.transfer_then(
            tk.spec.destination, tk.cargo, self._when_done(tk, self._landed)
        ):
            self._landed(tk)

    def _landed(self, tk: _Tanker) -> None:
        now, st = clock_now(self.env), tk.st
        st.landings.append((now, tk.cargo))
        st.delivered_mt += tk.cargo
        tk.waited += now - tk.t_mark
        self._at(now + (tk.cargo / tk.discharge_rate + tk.port + tk.p2), tk, self._discharged)

    def _discharged(self, tk: _Tanker) -> None:
        self._release(1, self._land)
        tk.st.trips += 1
        self._when_clear(tk, self._sail_back)

    def _sail_back(self, tk: _Tanker) -> None:
        now = clock_now(self.env)
        tk.waited += now - tk.t_mark
        tk.st.waits.append(tk.waited)
        self._at(now + (tk.sail + tk.s2), tk, self._back)

    def _back(self, tk: _Tanker) -> None:
        tk.st.busy_days += (
            2 * tk.sail
            + tk.cargo / tk.load_rate
            + tk.cargo / tk.discharge_rate
            + 2 * tk.port
            + (tk.p1 + tk.p2 + tk.s1 + tk.s2)
        )
        self._request_origin(tk)

    def _when_clear(self, tk: _Tanker, step: _Step) -> None:
        """Carry out ``step`` once sailings are allowed (marking the start of the wait)."""
        tk.t_mark = clock_now(self.env)
        if self.state.blocked:
            self.state.clear.callbacks.append(self._resume(tk, step))
        else:
            step(tk)
