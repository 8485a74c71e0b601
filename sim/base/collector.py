"""Garbage-collector settings for the replication loop.

A replication allocates tens of thousands of small container objects (tuples of the trace and
of the event queues, generator frames, dicts of rows). Almost all of them are freed by reference
counting as soon as they are dropped; the cyclic collector finds only a handful of reference
cycles per replication (``benchmarks/bench_engine.py`` counts them). CPython's default
young-generation threshold (700 net container allocations) nevertheless starts a young
collection several times per replication, and every tenth one a middle-generation collection,
each traversing the objects still alive: a measurable share of the run for nothing found.

:func:`lean_collector` raises the young threshold while a replication runs and restores the
previous settings afterwards, so code around the engine is left as it was. Collection never
changes results, only when memory held by cycles is returned.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 10_000
"""Net container allocations between two young collections while a replication runs (CPython's
default is 700); the older generations keep their thresholds."""


@contextmanager
def lean_collector() -> Iterator[None]:
    """Run the body with the young-generation threshold at least :data:`YOUNG_THRESHOLD`.

    A threshold already at least as high, or 0 (automatic collection switched off), is left
    alone, so nested uses and callers' own settings win.
    """
    old = gc.get_threshold()
    if old[0] == 0 or old[0] >= YOUNG_THRESHOLD:
        yield
        return
    gc.set_threshold(YOUNG_THRESHOLD, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)
