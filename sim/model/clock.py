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


def run_steps(env: simpy.Environment, horizon: float, max_steps: int) -> bool:
    """Process events of ``env`` until ``horizon``, at most ``max_steps`` of them.

    The stop event is scheduled as :meth:`simpy.Environment.run` does it (urgent, at
    ``horizon``) and the loop body is :meth:`simpy.Environment.step` written out (same order,
    same effects: the call and its exception frame cost about a tenth of a bare event), so the
    results are those of ``env.run(until=horizon)``.

    Returns
    -------
    bool
        True when the horizon was reached, False when ``max_steps`` events ran out first.
    """
    schedule_stop(env, horizon)
    queue = env._queue
    try:
        for _ in range(max_steps):
            env._now, _, _, event = heappop(queue)
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                exc = type(event._value)(*event._value.args)
                exc.__cause__ = event._value
                raise exc
    except StopSimulation:  # the queue never runs dry: the stop event is in it
        return True
    return False


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
    return next(env._eid) - len(env._queue)


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
    for event in waiting:
        event.callbacks = None


def event_queue(env: simpy.Environment) -> list[tuple[float, int, int, Event]]:
    """Return the event queue of ``env``: a heap of ``(time, priority, id, event)``, read only.

    Its head is the earliest queued event; nothing but what a caller does itself can happen
    before it, since every other change is made by processing a queued event (see
    docs/background/shuttle-exact.md). The list is the same for the whole run.
    """
    return env._queue


def take_id(env: simpy.Environment) -> int:
    """Take the next event id of ``env``, as scheduling an event at this point would.

    An event queued later with this id (:func:`wake_at_id`) sorts among same-time events exactly
    where one scheduled now would have; ids only order events, so a skipped id changes nothing.
    """
    return next(env._eid)


def wake_at_id(
    env: simpy.Environment, at: float, eid: int, callback: Callable[[Event], Any]
) -> None:
    """Call ``callback`` at time ``at``, queued as a normal event with id ``eid``.

    See :func:`take_id`.
    """
    event = Event(env)
    event._ok = True
    event._value = None
    event.callbacks.append(callback)
    heappush(env._queue, (at, NORMAL, eid, event))


def set_now(env: simpy.Environment, at: float) -> None:
    """Move the clock of ``env`` forward to ``at``, which must not pass :func:`queue_head`.

    For work carried out between queued events (the exact shuttle): SimPy would have reached
    ``at`` by processing an event there; the next event processed sets the clock as usual.
    """
    env._now = at


def start_urgent(env: simpy.Environment, callback: Callable[[Event], Any]) -> None:
    """Call ``callback`` now, queued as :meth:`simpy.Environment.process` queues a new process.

    (An urgent event at the current time: it runs before the normal events of this instant.)
    """
    event = Event(env)
    event._ok = True
    event._value = None
    event.callbacks.append(callback)
    heappush(env._queue, (env._now, URGENT, next(env._eid), event))
