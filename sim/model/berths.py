"""Berths: a SimPy resource that grants a free berth without a trip through the event queue.

:class:`Berths` is a :class:`simpy.Resource` (same ``request``/``release``/``users``/``queue``
interface, first come first served) with shortcuts that leave its behaviour unchanged:

* a request that finds a berth free and nobody queued is granted at once, as an event that is
  already processed, so the requesting process continues without being scheduled again;
* a request that must wait is a plain event at the back of the queue;
* a release frees the berth at once and grants it to the first queued request (whose event is
  then scheduled as usual), instead of scheduling a release event first.

With SimPy's stock resource every berth use costs four queue events; a tanker trip uses two
berths, so these shortcuts remove about a third of a shuttle's events. ``tests/test_queues.py``
checks the resource against M/M/c and M/D/1 queueing formulas and Little's law.
"""

from __future__ import annotations

from typing import Any

import simpy
from simpy.events import Event

from sim.model.clock import now, processed


class Granted(Event):
    """A berth request granted on the spot (an already processed event).

    Usable like a :class:`simpy.resources.resource.Request`: yield it (the process continues
    at once) and release it with ``with`` or :meth:`Berths.release`.
    """

    def __init__(self, resource: Berths) -> None:
        # Event.__init__ would make a pending event; this one is born processed, so yielding
        # it does not suspend the process.
        self.env = resource.env
        self.resource = resource
        self.usage_since = now(self.env)
        processed(self)

    def __enter__(self) -> Granted:
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is not GeneratorExit:  # as SimPy: no release when a process is discarded
            self.resource.release(self)


class Queued(Event):
    """A berth request waiting in the queue; it fires when a berth is granted.

    Usable like a :class:`simpy.resources.resource.Request` (see :class:`Granted`).
    """

    def __init__(self, resource: Berths) -> None:
        super().__init__(resource.env)
        self.resource = resource
        self.usage_since: float | None = None

    __enter__ = Granted.__enter__
    __exit__ = Granted.__exit__


class Berths(simpy.Resource):
    """``capacity`` identical berths served first come, first served.

    Parameters
    ----------
    env:
        The SimPy environment.
    capacity:
        Number of berths (at least 1).
    """

    def __init__(self, env: simpy.Environment, capacity: int = 1) -> None:
        super().__init__(env, capacity)
        self.env = env
        """The environment (SimPy keeps it only as a private attribute)."""
        self._released = processed(Event(env))
        """What :meth:`release` returns: an already processed event (it never waits)."""

    def request(self) -> Event:  # type: ignore[override]
        """Ask for a berth; yield the returned event to wait until one is yours."""
        if len(self.users) < self.capacity and not self.put_queue:
            granted = Granted(self)
            self.users.append(granted)
            return granted
        queued = Queued(self)
        self.put_queue.append(queued)
        return queued

    def release(self, request: Event) -> Event:  # type: ignore[override]
        """Give a berth back (or withdraw a request still waiting); never waits."""
        if request in self.users:
            self.users.remove(request)
            if self.put_queue:
                nxt = self.put_queue.pop(0)
                nxt.usage_since = now(self.env)
                self.users.append(nxt)
                nxt.succeed()
        elif request in self.put_queue:
            self.put_queue.remove(request)
        return self._released
