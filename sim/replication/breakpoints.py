"""What one run recorded at its breakpoints, and exact interpolation between them.

Between breakpoints every rate is constant, so cumulative volumes and storage levels are
piecewise linear and any binning (price steps, days, event windows) is an exact interpolation
of them. Everything here reads what the engine recorded; nothing reaches back into the
processes.

Quantities derived from a run alone (row sums of rates, the columns of some members) are
computed on first use and kept on the :class:`RawRun`, so the undisrupted twin, which is reused
across replications, computes them once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

import numpy as np

from sim.model.hazards import EventRecord
from sim.model.network import Network
from sim.model.port_traffic import PortStats
from sim.model.tankers import TankerStats

T = TypeVar("T")


class _Cached:
    """Values derived once per object, by key."""

    _memo: dict[Any, Any]

    def cached(self, key: Hashable, make: Callable[[], T]) -> T:
        """Return ``make()``, computed on the first call with ``key`` and kept on the object."""
        try:
            return self._memo[key]
        except KeyError:
            out = self._memo[key] = make()
            return out


@dataclass
class RawRun(_Cached):
    """What one simulation (disrupted or twin) recorded."""

    times: np.ndarray
    """Breakpoints, the last one being the horizon (n + 1 values)."""
    rates: np.ndarray
    """Accounting rates after each breakpoint (n rows), Mt/day."""
    levels: np.ndarray
    transit: np.ndarray
    cap_trace: list[tuple[float, ...]]
    """Link capacities after each breakpoint (n tuples; one object per distinct state), Mt/day;
    see :attr:`link_cap`."""
    layout: dict[str, slice]
    records: list[EventRecord] = field(default_factory=list)
    regimes: list[tuple[float, str]] = field(default_factory=list)
    """(day, regime) at the start and at every regime change."""
    tankers: dict[str, list[TankerStats]] = field(default_factory=dict)
    ports: dict[str, PortStats] = field(default_factory=dict)
    """Queue statistics of the shuttle ports with third-party traffic, ``<shuttle>.<end>``."""
    cum: np.ndarray = field(init=False)
    spans: np.ndarray = field(init=False)
    """Length of each interval between breakpoints (n values), days."""
    _memo: dict[Any, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.spans = np.diff(self.times)
        self.cum = np.vstack(
            [np.zeros(self.rates.shape[1]), np.cumsum(self.rates * self.spans[:, None], axis=0)]
        )
        self._memo = {}

    @property
    def link_cap(self) -> np.ndarray:
        """Link capacities after each breakpoint (n rows), Mt/day.

        Stacked on first use: only the daily series read them.
        """
        return self.cached("link_cap", lambda: stack_distinct(self.cap_trace))

    def total(self, name: str) -> np.ndarray:
        """Volumes of quantity ``name`` over the whole run (Mt)."""
        return self.cum[-1, self.layout[name]]

    def interval(self, at: np.ndarray) -> np.ndarray:
        """Index of the interval holding each time ``at`` (the first or last beyond the run)."""
        return np.maximum(np.searchsorted(self.times[:-1], at, side="right") - 1, 0)

    def locate(self, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Interval of each time ``at`` (clipped to the run) and the days into it.

        Returns
        -------
        tuple of numpy.ndarray
            Interval indices (0 to n - 1) and the offsets ``at - times[index]``.
        """
        times = self.times
        at = np.minimum(np.maximum(np.asarray(at, dtype=float), times[0]), times[-1])
        idx = self.interval(at)
        return idx, at - times[idx]

    def cumulative(self, name: str, at: np.ndarray) -> np.ndarray:
        """Cumulative volumes of ``name`` at times ``at`` (rows) for each of its members.

        Cumulative volumes are linear between breakpoints, so this interpolates exactly.
        """
        cols = self.layout[name]
        idx, off = self.locate(at)
        return self.cum[idx, cols] + self.rates[idx, cols] * off[:, None]

    def rate_sum(self, name: str, which: tuple[int, ...] | None = None) -> np.ndarray:
        """Sum of the rates of the members of ``name`` (all, or ``which``) after each breakpoint.

        Cached. A ``which`` selection is added up member by member (see :meth:`members`).
        """

        def make() -> np.ndarray:
            if which is None:
                return self.rates[:, self.layout[name]].sum(axis=1)
            return self.members(name, which)[1].T.sum(axis=1)

        return self.cached(("rate_sum", name, which), make)

    def members(self, name: str, which: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Cumulative volumes (n + 1 columns) and rates (n columns) of members ``which`` (rows).

        Cached. One row per member, so the transposes are column-major like a list selection
        of columns (``x[:, [i, j, ...]]``), and their row sums (the members' totals at each
        breakpoint) add the members up one by one, as those of such a selection do.
        """

        def make() -> tuple[np.ndarray, np.ndarray]:
            cols = np.arange(self.rates.shape[1])[self.layout[name]][list(which)]
            return self.cum.T[cols], self.rates.T[cols]

        return self.cached(("members", name, which), make)

    def delivered_at(self, legs: tuple[int, ...], idx: np.ndarray, off: np.ndarray) -> np.ndarray:
        """Cumulative volumes through ``legs``, summed, ``off`` days into intervals ``idx``."""
        cum, rates = self.members("segment_flow", legs)
        volumes = np.take(cum, idx, axis=1) + np.take(rates, idx, axis=1) * off
        return volumes.T.sum(axis=1)

    @cached_property
    def breakpoint_intervals(self) -> np.ndarray:
        """:meth:`interval` of each breakpoint but the last: its own, unless it is repeated."""
        if (self.spans[:-1] > 0).all():
            return np.arange(len(self.spans))
        return self.interval(self.times[:-1])

    @cached_property
    def levels_before_next(self) -> np.ndarray:
        """Storage levels just before each next breakpoint (n rows), Mt."""
        net_rates = self.rates[:, self.layout["storage_net"]]
        return self.levels[:-1] + net_rates * self.spans[:, None]


class PointVolumes(_Cached):
    """Cumulative volumes (all quantities) and oil held of one run at times ``at``.

    For windows and other times within the run; each quantity is computed on first use.
    """

    def __init__(self, run: RawRun, at: np.ndarray) -> None:
        self._memo = {}
        self.run = run
        self.idx, self.off = run.locate(at)
        self.rates = run.rates[self.idx]
        self.volumes = run.cum[self.idx] + self.rates * self.off[:, None]
        """Cumulative volumes of every rate column (rows: times), Mt."""

    def of(self, name: str) -> np.ndarray:
        """Cumulative volumes of ``name`` (rows: times, columns: its members), Mt."""
        return self.volumes[:, self.run.layout[name]]

    @cached_property
    def congestion(self) -> np.ndarray:
        """Production not produced for lack of outlets, cumulative, Mt."""
        return self.of("shut_in_congestion").sum(axis=1)

    @cached_property
    def shut_in(self) -> np.ndarray:
        """Production not produced (congestion and field shut-in), cumulative, Mt."""
        return self.congestion + self.of("shut_in_field").sum(axis=1)

    @cached_property
    def held(self) -> np.ndarray:
        """Oil held in all storages and on tankers, Mt."""
        run = self.run
        st = run.layout["storage_net"]
        levels = run.levels[self.idx] + self.rates[:, st] * self.off[:, None]
        return np.column_stack([levels, run.transit[self.idx]]).sum(axis=1)

    def delivered(self, net: Network) -> np.ndarray:
        """Cumulative deliveries to all markets, Mt."""
        return self.of("segment_flow")[:, list(net.market_legs)].sum(axis=1)


def on_grid(raw: RawRun, name: str, grid: np.ndarray) -> np.ndarray:
    """Volumes of ``name`` in each interval of ``grid`` (rows) for each member (columns)."""
    return np.diff(raw.cumulative(name, grid), axis=0)


def delivered_total(net: Network, raw: RawRun, at: np.ndarray) -> np.ndarray:
    """Cumulative deliveries to all markets at times ``at``."""
    idx, off = raw.locate(at)
    return raw.delivered_at(net.market_legs, idx, off)


def held_at(raw: RawRun, at: np.ndarray) -> np.ndarray:
    """Oil held in each storage (columns) plus on tankers (last column) at times ``at``, Mt."""
    idx = raw.interval(at)
    rates = raw.rates[idx, raw.layout["storage_net"]]
    levels = raw.levels[idx] + rates * (at - raw.times[idx])[:, None]
    return np.column_stack([levels, raw.transit[idx]])


def stack_distinct(items: list) -> np.ndarray:
    """``np.array(items, dtype=float)``, converting each distinct object (by identity) once."""
    slot: dict[int, int] = {}
    distinct = []
    which = []
    for item in items:
        k = slot.get(id(item))
        if k is None:
            k = slot[id(item)] = len(distinct)
            distinct.append(item)
        which.append(k)
    return np.array(distinct, dtype=float)[which]
