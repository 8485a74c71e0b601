"""The routing LP: where each source's oil goes, given current capacities and storage states.

Variables (all >= 0, Mt/day): one flow ``y`` per segment, one extra contract flow per route with a
contracted volume (bounded by the contract), and one shut-in ``u`` per source. Rows:

* link rows ``sum(y over segments using the link) <= capacity``;
* source rows ``sum(y over the source's first segments) + u == available production``;
* storage rows ``inflow - outflow`` in ``(-inf, inf)`` when partly full, ``<= 0`` when full,
  ``>= 0`` when empty and ``== 0`` for zero-capacity junctions.

Objective: minimise shut-in first (weight ``M``), then serve contracts (bonus ``C``), then
maximise the weighted flow of every leg (see :meth:`Network.segment_weights`: legs out of sources
carry their routes' netback at the reference price; legs out of storages carry their advantage
over the storage's best way out, so storages drain by the best leg).

Most states are solved without HiGHS: an optimal basis found for a fixed set of probe states of
the same storage pattern is reused when it is primal feasible (see :mod:`sim.model.basis`), else
HiGHS (``highspy``) solves the LP from a cold start. A solution depends only on its inputs and is
cached by them. Shut-in and storage rates are recomputed from ``y``: the volumes balance exactly.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np

from sim.model.basis import BasisBank, BoundMap, probe_states
from sim.model.lp_matrix import ColumnMatrix, column_matrix
from sim.model.network import Network

FREE, FULL, EMPTY, JUNCTION = 0, 1, 2, 3
"""Storage states that decide the bounds of a storage row."""

_SCALE = 1000.0
"""The LP works in kt/day so that HiGHS tolerances are far below the volumes that matter."""
_TINY = 1e-12
CACHE_LIMIT = 4_096
"""Solutions kept per solver, emptied when full (stored bases make misses cheap)."""


def _quiet_highs() -> highspy.Highs:
    """Create a HiGHS instance without its start-up banner on stdout."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("presolve", "off")  # costs more than it saves on LPs this small
    return h


def _load_highs(a: ColumnMatrix, cost: np.ndarray, col_upper: np.ndarray) -> highspy.Highs:
    """Create a single-threaded HiGHS instance holding the LP (rows unbounded until solved)."""
    n_row, n_col = a.shape
    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = n_row
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(n_col)
    lp.col_upper_ = col_upper
    lp.row_lower_ = np.full(n_row, -highspy.kHighsInf)
    lp.row_upper_ = np.full(n_row, highspy.kHighsInf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    h = _quiet_highs()
    h.setOptionValue("threads", 1)
    h.passModel(lp)
    return h


@dataclass(frozen=True)
class FlowSolution:
    """One solved routing state. Arrays are in Mt/day and must not be modified."""

    segment_flow: tuple[float, ...]
    storage_net: tuple[float, ...]
    rates: np.ndarray
    """Accounting vector: see :meth:`FlowSolver.rate_layout`."""
    moving: tuple[tuple[int, float], ...] = ()
    """(storage index, net rate) of the storages whose net rate is not zero."""
    shut_in: tuple[float, ...] = ()
    """Congestion shut-in of each source, Mt/day (as in :attr:`rates`; read by the reactions)."""
    derived: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """What other modules derive from this solution alone, kept with it (by key)."""


class FlowSolver:
    """Solve (and cache) the routing LP of a network.

    Parameters
    ----------
    net:
        The compiled network.
    brent_usd_per_bbl:
        Reference benchmark price used to rank routes by netback.
    """

    def __init__(self, net: Network, brent_usd_per_bbl: float) -> None:
        self.net = net
        n_seg = len(net.segments)
        contract_routes = [i for i, r in enumerate(net.routes) if r.contract_mt_per_day > 0]
        self._contract_routes = contract_routes
        n_col = n_seg + len(contract_routes) + len(net.source_ids)
        self._n_seg = n_seg
        self._u0 = n_seg + len(contract_routes)
        cost = self._objective(net.segment_weights(brent_usd_per_bbl), n_col)

        n_link, n_src, n_st = net.n_links, len(net.source_ids), len(net.storage_ids)
        self._row_src0 = n_link
        self._row_st0 = n_link + n_src
        n_row = n_link + n_src + n_st
        a = self._incidence(n_row, n_col)
        self._a = a

        col_upper = np.full(n_col, highspy.kHighsInf)
        for j, ri in enumerate(contract_routes):
            col_upper[n_seg + j] = net.routes[ri].contract_mt_per_day * _SCALE
        self._highs = _load_highs(a, cost, col_upper)
        self._cost = cost
        self._col_upper = col_upper
        self._n_row = n_row
        self._rows_all = np.arange(n_row, dtype=np.int32)
        self._cache: dict[tuple, FlowSolution] = {}
        # The solutions for the last capacity and production tuples, by storage state: the
        # engine passes the same tuple objects until they change, so most lookups hash only the
        # storage states.
        self._recent_key: tuple[tuple[float, ...], tuple[float, ...]] = ((), ())
        self._recent: dict[tuple[int, ...], FlowSolution] = {}
        self._banks: dict[tuple[int, ...], BasisBank] = {}
        self._a_dense = a.toarray()
        self.n_solves = 0
        """States solved by HiGHS (no candidate basis was feasible)."""
        self.n_basis_hits = 0
        """States solved by a stored basis (see :mod:`sim.model.basis`)."""
        self._layout_accounting(n_link, n_src, n_st)
        self._row_templates: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = {}

    def _objective(self, weights: list[float], n_col: int) -> np.ndarray:
        """Return the column costs of the LP.

        Minus each leg's weight, minus weight and bonus for the contract columns, and the
        shut-in penalty for the sources' ``u`` columns.
        """
        net, n_seg = self.net, self._n_seg
        top = max(1.0, max(abs(w) for w in weights))
        bonus = 10.0 * top
        penalty = 1000.0 * (top + bonus)
        cost = np.empty(n_col)
        cost[:n_seg] = [-w for w in weights]
        for j, ri in enumerate(self._contract_routes):
            cost[n_seg + j] = -(weights[net.routes[ri].segments[0]] + bonus)
        cost[self._u0 :] = penalty
        return cost

    def _incidence(self, n_row: int, n_col: int) -> ColumnMatrix:
        """Return the column -> rows incidence matrix of the LP (links, sources, storages)."""
        net, n_seg = self.net, self._n_seg
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []

        def add(col: int, seg_index: int) -> None:
            seg = net.segments[seg_index]
            for link in seg.links:
                rows.append(link)
                cols.append(col)
                vals.append(1.0)
            if seg.start_source is not None:
                rows.append(self._row_src0 + seg.start_source)
                cols.append(col)
                vals.append(1.0)
            if seg.end_storage is not None:
                rows.append(self._row_st0 + seg.end_storage)
                cols.append(col)
                vals.append(1.0)
            if seg.start_storage is not None:
                rows.append(self._row_st0 + seg.start_storage)
                cols.append(col)
                vals.append(-1.0)

        for s in range(n_seg):
            add(s, s)
        for j, ri in enumerate(self._contract_routes):
            add(n_seg + j, net.routes[ri].segments[0])
        for i in range(len(net.source_ids)):
            rows.append(self._row_src0 + i)
            cols.append(self._u0 + i)
            vals.append(1.0)
        return column_matrix(rows, cols, vals, (n_row, n_col))

    def _layout_accounting(self, n_link: int, n_src: int, n_st: int) -> None:
        """Set up the accounting layout of the rate vector.

        Each source's production and each storage's inflow and outflow are sums of leg flows,
        added in leg order.
        """
        net, n_seg = self.net, self._n_seg
        self._link_use = np.zeros((n_link, n_seg))
        for i, s in enumerate(net.segments):
            for link in s.links:
                self._link_use[link, i] = 1.0
        self._sum_legs = (
            [[i for i, s in enumerate(net.segments) if s.start_source == k] for k in range(n_src)]
            + [[i for i, s in enumerate(net.segments) if s.end_storage == k] for k in range(n_st)]
            + [[i for i, s in enumerate(net.segments) if s.start_storage == k] for k in range(n_st)]
        )
        self._contract_legs = [net.routes[ri].segments[0] for ri in self._contract_routes]
        self._n_src, self._n_st = n_src, n_st

    def rate_layout(self) -> dict[str, slice]:
        """Where each quantity sits in :attr:`FlowSolution.rates`."""
        n_l, n_s = self.net.n_links, len(self.net.source_ids)
        n_seg, n_st = self._n_seg, len(self.net.storage_ids)
        o = 0
        out = {}
        for name, n in (
            ("link_flow", n_l),
            ("segment_flow", n_seg),
            ("shut_in_congestion", n_s),
            ("shut_in_field", n_s),
            ("storage_net", n_st),
        ):
            out[name] = slice(o, o + n)
            o += n
        return out

    def solve(
        self,
        link_cap: tuple[float, ...],
        source_avail: tuple[float, ...],
        storage_state: tuple[int, ...],
    ) -> FlowSolution:
        """Return the routing for the given state (cached).

        Parameters
        ----------
        link_cap:
            Current capacity of each link, Mt/day.
        source_avail:
            Current available production of each source, Mt/day.
        storage_state:
            One of ``FREE``, ``FULL``, ``EMPTY``, ``JUNCTION`` per storage.
        """
        recent_cap, recent_avail = self._recent_key
        if link_cap is not recent_cap or source_avail is not recent_avail:
            self._recent_key = (link_cap, source_avail)
            self._recent = {}
        sol = self._recent.get(storage_state)
        if sol is None:
            key = (link_cap, source_avail, storage_state)
            sol = self._cache.get(key)
            if sol is None:
                if len(self._cache) >= CACHE_LIMIT:
                    self.clear_cache()  # solutions are pure, so forgetting never changes results
                sol = self._solve(link_cap, source_avail, storage_state)
                self._cache[key] = sol
            self._recent[storage_state] = sol
        return sol

    def clear_cache(self) -> None:
        """Forget every cached solution (stored bases are kept)."""
        self._cache.clear()
        self._recent.clear()

    def row_bounds(
        self,
        link_cap: tuple[float, ...],
        source_avail: tuple[float, ...],
        storage_state: tuple[int, ...],
    ) -> tuple[np.ndarray, np.ndarray]:
        """Row bounds of the LP for a state (in the solver's kt/day scale)."""
        return self._row_bounds(np.array((*link_cap, *source_avail)) * _SCALE, storage_state)

    def _row_bounds(
        self, rhs: np.ndarray, storage_state: tuple[int, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Row bounds given link capacities and source production ``rhs`` (kt/day)."""
        template = self._row_templates.get(storage_state)
        if template is None:
            inf = highspy.kHighsInf
            lower = np.full(self._n_row, -inf)
            upper = np.full(self._n_row, inf)
            for k, st in enumerate(storage_state):
                row = self._row_st0 + k
                if st in (FULL, JUNCTION):
                    upper[row] = 0.0
                if st in (EMPTY, JUNCTION):
                    lower[row] = 0.0
            template = self._row_templates[storage_state] = (lower, upper)
        lower, upper = template[0].copy(), template[1].copy()
        upper[: self._row_st0] = rhs
        lower[self._row_src0 : self._row_st0] = rhs[self._row_src0 :]
        return lower, upper

    def lp_arrays(self, link_cap, source_avail, storage_state) -> dict[str, np.ndarray]:
        """Return the LP of a state as arrays (cost, matrix, bounds; kt/day) to cross-check it."""
        lower, upper = self.row_bounds(link_cap, source_avail, storage_state)
        return {
            "cost": self._cost.copy(),
            "a": self._a.toarray(),
            "row_lower": lower,
            "row_upper": upper,
            "col_upper": self._col_upper.copy(),
        }

    def _state_vector(self, link_cap, source_avail) -> np.ndarray:
        """State vector ``[link capacities, source production, 1]`` in kt/day; the 1 is exact."""
        return np.array([f * _SCALE for f in (*link_cap, *source_avail)] + [1.0])

    def _bank(self, pattern: tuple[int, ...]) -> BasisBank:
        """Candidate bases of a storage pattern, probed on first use (see ``basis``)."""
        bank = self._banks.get(pattern)
        if bank is None:
            net = self.net
            bounds = BoundMap(net.n_links, len(net.source_ids), self._col_upper, pattern)
            probes = self.probe_states()
            bank = BasisBank(self._a_dense, bounds, lambda v: self._probe(v, pattern), probes)
            self._banks[pattern] = bank
        return bank

    def probe_states(self) -> list[np.ndarray]:
        """State vectors whose optimal bases every storage pattern stores (see ``basis``)."""
        net = self.net
        centres = [self._state_vector(net.link_cap, net.source_rate)]
        if any(x > 0 for x in net.link_surge):  # every surge granted
            surged = tuple(c + x for c, x in zip(net.link_cap, net.link_surge))
            centres.append(self._state_vector(surged, net.source_rate))
        return probe_states(centres, net.n_links)

    def _run_highs(self, v: np.ndarray, pattern: tuple[int, ...]) -> bool:
        # The bounds go through Mt/day and back, as they always have: HiGHS must see the same
        # numbers for its answers to stay the same.
        lower, upper = self._row_bounds(v[: self._row_st0] / _SCALE * _SCALE, pattern)
        h = self._highs
        h.clearSolver()
        h.changeRowsBounds(self._n_row, self._rows_all, lower, upper)
        h.run()
        return h.getModelStatus() == highspy.HighsModelStatus.kOptimal

    def _probe(self, v: np.ndarray, pattern: tuple[int, ...]):
        if not self._run_highs(v, pattern):
            return None
        basis = self._highs.getBasis()
        return list(basis.col_status), list(basis.row_status)

    def _solve(
        self,
        link_cap: tuple[float, ...],
        source_avail: tuple[float, ...],
        storage_state: tuple[int, ...],
    ) -> FlowSolution:
        v = self._state_vector(link_cap, source_avail)
        x = self._bank(storage_state).solve(v)
        if x is not None:
            self.n_basis_hits += 1
            x = x.tolist()
        else:
            self.n_solves += 1
            if not self._run_highs(v, storage_state):
                status = self._highs.getModelStatus()
                raise RuntimeError(
                    "routing LP not solved to optimality: "
                    f"{self._highs.modelStatusToString(status)}"
                )
            x = self._highs.getSolution().col_value
        return self._account(x, source_avail)

    def _account(self, x: list[float], source_avail: tuple[float, ...]) -> FlowSolution:
        """Leg flows and the accounting vector from the LP's column values ``x`` (kt/day)."""
        n_seg = self._n_seg
        y = [f / _SCALE for f in x[:n_seg]]
        for leg, f in zip(self._contract_legs, x[n_seg : self._u0]):
            y[leg] += f / _SCALE
        y = [0.0 if f < _TINY else f for f in y]
        sums = []
        for legs in self._sum_legs:  # in leg order, one addition at a time
            total = 0.0
            for i in legs:
                total += y[i]
            sums.append(total)
        n_src, n_st = self._n_src, self._n_st
        storage_net = [a - b for a, b in zip(sums[n_src : n_src + n_st], sums[n_src + n_st :])]
        shut_in = [a - p for a, p in zip(source_avail, sums)]  # available minus produced
        rest = y + shut_in + [n - a for n, a in zip(self.net.source_rate, source_avail)]
        rates = np.concatenate((self._link_use.dot(np.array(y)), rest, storage_net))
        moving = tuple((k, r) for k, r in enumerate(storage_net) if r != 0.0)
        return FlowSolution(tuple(y), tuple(storage_net), rates, moving, tuple(shut_in))
