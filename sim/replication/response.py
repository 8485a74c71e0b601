"""How a run fell behind its undisrupted twin and caught up again, from both runs' breakpoints.

The measures compare the two runs on their merged breakpoints (between two merged breakpoints
both runs' rates are constant): exports deferred and made up later, the export shortfall
profile and its peak in a window, the time until congestion shut-in begins and the time until
the system is back to normal after a window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.network import Network
from sim.replication.breakpoints import RawRun, delivered_total

TINY_RATE = 1e-9
"""Mt/day; rates smaller than this are floating-point noise."""


@dataclass(frozen=True)
class Merged:
    """Breakpoints of either run, sorted and unique, and the interval of each in both runs."""

    twin: RawRun
    times: np.ndarray
    ours: np.ndarray
    """Interval of ``raw`` holding each merged time."""
    base: np.ndarray
    """Interval of ``twin`` holding each merged time."""


def merged(raw: RawRun, twin: RawRun) -> Merged:
    """Merge the breakpoints of ``raw`` and ``twin`` (kept on ``raw``)."""

    def make() -> Merged:
        # np.union1d without its generality: sort, then keep the first of equal values.
        times = np.concatenate([raw.times, twin.times])
        times.sort()
        first = np.empty(len(times), dtype=bool)
        first[0] = True
        np.not_equal(times[1:], times[:-1], out=first[1:])
        times = times[first]
        return Merged(twin, times, raw.interval(times), twin.interval(times))

    # The cached value holds the twin, so its id cannot be reused while ``raw`` lives.
    return raw.cached(("merged", id(twin)), make)


def deferred(net: Network, raw: RawRun, twin: RawRun) -> float:
    """Sum the catch-up moves: exports that fell behind the twin and were made up later."""
    m = merged(raw, twin)
    ours = _delivered(net, raw, m.times, m.ours)
    base = _delivered(net, twin, m.times, m.base)
    gap = base - ours
    return float(np.sum(np.maximum(0.0, -np.diff(gap))))


def _delivered(net: Network, run: RawRun, at: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """:func:`delivered_total` at sorted times ``at`` whose intervals ``idx`` are known."""
    if at[0] < run.times[0] or at[-1] > run.times[-1]:
        return delivered_total(net, run, at)  # times beyond the run: clipped there
    return run.delivered_at(net.market_legs, idx, at - run.times[idx])


def _levels(run: RawRun, at: np.ndarray, which: tuple[int, ...]) -> np.ndarray:
    """Levels of storages ``which`` (columns) at times ``at`` (as :func:`held_at` gives them)."""
    cols = list(which)
    levels, rates = run.cached(
        ("storages", which),
        lambda: (run.levels[:, cols], run.rates[:, run.layout["storage_net"]][:, cols]),
    )
    idx = run.interval(at)
    return levels[idx] + rates[idx] * (at - run.times[idx])[:, None]


def recovered(net: Network, raw: RawRun, twin: RawRun) -> tuple[np.ndarray, np.ndarray]:
    """Breakpoints of ``raw`` and whether the system is back to normal from each on.

    Normal means no congestion shut-in and every storage that is not a shuttle terminal holding
    no more than the twin does at that time (shuttle terminals swing by whole cargoes).
    """
    keep = net.non_shuttle_storages
    t = raw.times[:-1]
    quiet = raw.rate_sum("shut_in_congestion") <= TINY_RATE
    if keep:
        # Levels are linear between breakpoints, so checking both ends of an interval suffices.
        t_end = raw.times[1:]
        # At its own breakpoints a run holds its recorded levels (plus rate x 0 days).
        ours_a = raw.levels[raw.breakpoint_intervals][:, list(keep)]
        ours_b = raw.levels_before_next[:, list(keep)]
        base = _levels(twin, np.concatenate([t, np.maximum(t, np.nextafter(t_end, t))]), keep)
        base_a, base_b = base[: len(t)], base[len(t) :]
        tol = 1e-6
        quiet &= ((ours_a <= base_a + tol) & (ours_b <= base_b + tol)).all(axis=1)
    return t, quiet


def time_to_recover(
    recovered: tuple[np.ndarray, np.ndarray], start: np.ndarray, end: np.ndarray
) -> np.ndarray:
    """Days from each ``start`` until back to normal after ``end`` (NaN: not in the run)."""
    t, quiet = recovered
    i0 = np.maximum(0, np.searchsorted(t, end, side="right") - 1)
    # next_quiet[i]: the first breakpoint at or after i from which the system is normal.
    n = len(t)
    marks = np.where(quiet, np.arange(n), n)
    next_quiet = np.append(np.minimum.accumulate(marks[::-1])[::-1], n)
    j = next_quiet[np.minimum(i0, n)]
    found = j < n
    out = np.full(len(start), np.nan)
    out[found] = np.maximum(end[found], t[j[found]]) - start[found]
    return out


def time_to_survive(raw: RawRun, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Days from each ``start`` until congestion shut-in begins (NaN if none before ``end``)."""
    where = np.flatnonzero(raw.rate_sum("shut_in_congestion") > TINY_RATE)
    out = np.full(len(start), np.nan)
    if not len(where):
        return out
    t0 = raw.times[:-1][where]
    t1 = raw.times[1:][where]
    # The first shut-in interval ending after the start; it counts if it begins before the end.
    j = np.searchsorted(t1, start, side="right")
    ok = j < len(where)
    jj = np.minimum(j, len(where) - 1)
    ok &= t0[jj] < end
    out[ok] = np.maximum(start[ok], t0[jj[ok]]) - start[ok]
    return out


def shortfall_profile(net: Network, raw: RawRun, twin: RawRun) -> tuple[np.ndarray, np.ndarray]:
    """Return the times either run's export rate changes, and twin minus actual rate after."""
    m = merged(raw, twin)
    horizon = raw.times[-1]
    if twin.times[-1] != horizon:
        grid = np.union1d(raw.times[:-1], twin.times[:-1])
        ours, base = raw.interval(grid), twin.interval(grid)
    else:
        # The horizon ends both runs; it starts no interval unless a breakpoint falls on it.
        inner = raw.times[-2] == horizon or twin.times[-2] == horizon
        n = len(m.times) if inner else len(m.times) - 1
        grid, ours, base = m.times[:n], m.ours[:n], m.base[:n]
    legs = net.market_legs
    gap = twin.rate_sum("segment_flow", legs)[base] - raw.rate_sum("segment_flow", legs)[ours]
    return grid, gap


def peak_shortfall(
    profile: tuple[np.ndarray, np.ndarray], start: np.ndarray, end: np.ndarray
) -> np.ndarray:
    """Largest export rate below the twin's within each ``[start, end)`` (Mt/day)."""
    grid, gap = profile
    i0 = np.maximum(0, np.searchsorted(grid, start, side="right") - 1)
    i1 = np.maximum(i0 + 1, np.searchsorted(grid, end, side="left"))
    padded = np.append(gap, -np.inf)  # so that a window may end at len(gap)
    bounds = np.column_stack([i0, i1]).ravel()
    return np.maximum(0.0, np.maximum.reduceat(padded, bounds)[::2])
