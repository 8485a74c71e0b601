"""The only module that touches SimPy internals.

The engine avoids a few of SimPy's per-event costs by reading the clock directly, queueing bare
events itself and stepping the event queue in its own loop. Every access to an underscore
attribute of a SimPy object (``Environment._now``, ``_queue``, ``_eid``; ``Event._ok``,
``_value``, ``_defused``) lives here, behind a small named function, so a SimPy upgrade has one
place to check. Each function does exactly what SimPy itself does at that
point (same queue entries, same order), so results do not depend on going through here.

Some functions sit in the engine's inner loop: they are plain module-level functions (or C-level
attribute getters), meant to be bound to a local name where the code is hot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from heapq import heappop, heappush
from operator import attrgetter
from typing import Any

import simpy
from simpy.core import NORMAL, URGENT, StopSimulation
from simpy.events import Event

now: Callable[[simpy.Environment], float] = attrgetter("_now")
"""``now(env)``: the current simulation time of ``env`` (as ``env.now``, without the property
call)."""


def processed(event: Event) -> Event:
    """Mark ``event`` as already processed (succeeded, value ``None``, no callbacks left).

    A process that yields a processed event continues at once, without a trip through the
    event queue. Works on an instance whose ``__init__`` did not call ``Event.__init__``.
    Returns ``event``.
    """
    event.callbacks = None
    event._ok = True
    event._value = None
    return event


def add_callback(event: Event, callback: Callable[[Event], Any]) -> None:
    """Call ``callback(event)`` when ``event`` is processed (after the callbacks already set)."""
    event.callbacks.append(callback)


def wake_at(env: simpy.Environment, at: float, callback: Callable[[Event], Any]) -> None:
    """Call ``callback`` at absolute time ``at``, as a bare event (cheaper than a timeout).

    The event is queued exactly as ``env.timeout(at - now)`` would queue it.
    """
    event = Event(env)
    event._ok = True
    event._value = None
    event.callbacks.append(callback)
    heappush(env._queue, (at, NORMAL, next(env._eid), event))


SideStep = tuple[float, int, Any, Callable[[Any], Any]]
"""A side-queue entry: (time, event id, owner, step); the loop calls ``step(owner)``."""
_SIDE = "_corridor_side_queue"


def run_steps(env: simpy.Environment, horizon: float, max_steps: int) -> bool:
    """Process events of ``env`` until ``horizon``, at most ``max_steps`` of them.

    The stop event is scheduled as :meth:`simpy.Environment.run` does it (urgent, at
    ``horizon``) and the loop body is :meth:`simpy.Environment.step` written out (same order,
    same effects: the call and its exception frame cost about a tenth of a bare event), so the
    results are those of ``env.run(until=horizon)``. Steps of the side queue (see
    :func:`side_queue`) are taken in their turn and count as events.

    Returns
    -------
    bool
        True when the horizon was reached, False when ``max_steps`` events ran out first.
    """
    schedule_stop(env, horizon)
    side = getattr(env, _SIDE, None)
    try:
        _run(env, [] if side is None else side, max_steps)
    except StopSimulation:  # the queue never runs dry: the stop event is in it
        return True
    return False


def _run(env: simpy.Environment, side: list[SideStep], max_steps: int) -> None:
    """Step the queue as :meth:`simpy.Environment.step` does, and the side queue in turn.

    A side step is taken where its key ``(t, NORMAL, id)`` sorts among the queued events.
    """
    queue = env._queue
    for _ in range(max_steps):
        if side:
            t, eid, owner, step = side[0]
            qt, qp, qid, _ = queue[0]
            if t < qt or (t == qt and qp == NORMAL and eid < qid):
                heappop(side)
                env._now = t
                step(owner)
                continue
        env._now, _, _, event = heappop(queue)
        callbacks, event.callbacks = event.callbacks, None
        for callback in callbacks:
            callback(event)
        if not event._ok and not hasattr(event, "_defused"):
            exc = type(event._value)(*event._value.args)
            exc.__cause__ = event._value
            raise exc


def side_queue(env: simpy.Environment) -> list[SideStep]:
    """Return the side queue of ``env`` (created empty on first use), a heap of steps.

    A step pushed there as ``(t, id_source(env)(), owner, step)`` is carried out by the run loop
    (:func:`run_steps`) as if it were a normal event queued at that point with that id: it
    sorts among the queued events by ``(time, priority, id)``, the clock is set to ``t`` and
    ``step(owner)`` is called, without an event object. The exact shuttle's tankers step this
    way (docs/background/shuttle-exact.md).
    """
    side = getattr(env, _SIDE, None)
    if side is None:
        side = []
        setattr(env, _SIDE, side)
    return side


def schedule_stop(env: simpy.Environment, horizon: float) -> Event:
    """Queue the event that ends a run at ``horizon``, as :meth:`simpy.Environment.run` does.

    Stepping ``env`` (``env.step()``) raises :class:`simpy.core.StopSimulation` when it is
    processed. Returns the stop event.
    """
    stop = Event(env)
    stop._ok = True
    stop._value = None
    env.schedule(stop, URGENT, horizon - env.now)
    stop.callbacks.append(StopSimulation.callback)
    return stop


def processed_count(env: simpy.Environment) -> int:
    """Return how many events ``env`` has processed (numbered minus still queued).

    For diagnostics after a run: it uses up one event id.
    """
    return next(env._eid) - len(env._queue) - len(getattr(env, _SIDE, ()))


def discard(env: simpy.Environment, waiting: Iterable[Event] = ()) -> None:
    """End a finished run for good: forget its queued events and the callbacks of ``waiting``.

    A process waiting on an event is referenced by that event's callbacks, and references it
    back (its target), a reference cycle that only the cyclic garbage collector frees. Dropping
    the callbacks of every queued event and of the given pending ones (events that processes
    still wait on outside the queue) lets reference counting free those processes, their
    generators and all they hold as soon as the run is dropped. ``env`` must not run again.
    """
    queue = env._queue
    for entry in queue:
        entry[3].callbacks = None
    queue.clear()
    getattr(env, _SIDE, []).clear()
    for event in waiting:
        event.callbacks = None


def id_source(env: simpy.Environment) -> Callable[[], int]:
    """Return a function that takes the next event id of ``env``, as scheduling an event would.

    A side step queued with an id taken at some point (:func:`side_queue`) sorts among
    same-time events exactly where an event scheduled at that point would have; ids only order
    events, so a skipped id changes nothing. The function is the bound method of SimPy's id
    counter (no Python call around it: it is called once per side step).
    """
    return env._eid.__next__


def start_urgent(env: simpy.Environment, callback: Callable[[Event], Any]) -> None:
    """Call ``callback`` now, queued as :meth:`simpy.Environment.process` queues a new process.

    (An urgent event at the current time: it runs before the normal events of this instant.)
    """
    event = Event(env)
    event._ok = True
    event._value = None
    event.callbacks.append(callback)
    heappush(env._queue, (env._now, URGENT, next(env._eid), event))
