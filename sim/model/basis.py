"""Reuse of optimal LP bases: solve most routing states with one matrix product.

Between two routing states only the right-hand sides of the LP change (link capacities, source
production, which storages are full or empty); costs and the matrix never do. An optimal basis
therefore stays *dual* feasible in every state with the same storage pattern, and it is optimal
for a new state as soon as the basic solution it defines is *primal* feasible. Checking that
costs one product of a small precomputed matrix with the state vector, against several hundred
microseconds for a HiGHS solve.

Determinism: the candidate bases of a storage pattern come from cold solves of a fixed list of
probe states derived only from the network and the pattern (nominal; each link halved and shut;
each source stopped), tried in a fixed order. The solution of a state is thus a pure function of
the state, whatever was solved before in the process, so results stay bit-identical whatever the
worker count or chunking.

The LP is written as ``A x - r = 0`` with column bounds on ``x`` and row bounds on the row
activities ``r``. A basis fixes every nonbasic variable at one of its bounds; every bound is a
linear function of the state vector ``v = [link capacities, source production, 1]`` (kt/day), so
all variables are ``Z @ v`` for a matrix ``Z`` computed once per basis.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import highspy
import numpy as np

FREE, FULL, EMPTY, JUNCTION = 0, 1, 2, 3
"""Storage states (as in :mod:`sim.model.solver`)."""

FEAS_TOL = 1e-9
"""kt/day; a basic variable may exceed its bound by this much (rounding) and still count as
feasible. HiGHS itself works to 1e-7."""

_B = highspy.HighsBasisStatus
_BASIC, _LOWER, _UPPER, _ZERO = _B.kBasic, _B.kLower, _B.kUpper, _B.kZero


class BoundMap:
    """Bounds of every LP variable as linear functions of the state vector, for one pattern.

    Parameters
    ----------
    n_link, n_src:
        Numbers of link rows and source rows (in this order, followed by storage rows).
    col_upper:
        Column upper bounds (kt/day; ``inf`` when unbounded). Column lower bounds are zero.
    pattern:
        Storage states, one per storage row.
    """

    def __init__(
        self, n_link: int, n_src: int, col_upper: np.ndarray, pattern: Sequence[int]
    ) -> None:
        n_col = len(col_upper)
        n_st = len(pattern)
        n_row = n_link + n_src + n_st
        p = n_link + n_src + 1
        one = p - 1
        n_var = n_col + n_row
        lo = np.zeros((n_var, p))
        up = np.zeros((n_var, p))
        lo_inf = np.zeros(n_var, dtype=bool)
        up_inf = np.zeros(n_var, dtype=bool)
        for j, cap in enumerate(col_upper):
            if np.isinf(cap):
                up_inf[j] = True
            else:
                up[j, one] = cap
        for i in range(n_link):
            lo_inf[n_col + i] = True
            up[n_col + i, i] = 1.0
        for s in range(n_src):
            lo[n_col + n_link + s, n_link + s] = 1.0
            up[n_col + n_link + s, n_link + s] = 1.0
        for k, st in enumerate(pattern):
            var = n_col + n_link + n_src + k
            lo_inf[var] = st in (FREE, FULL)
            up_inf[var] = st in (FREE, EMPTY)
        self.n_col = n_col
        self.lo, self.up = lo, up
        self.lo_inf, self.up_inf = lo_inf, up_inf

    def bounds(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Numeric lower and upper bounds of every variable in state ``v``."""
        lo = self.lo @ v
        up = self.up @ v
        lo[self.lo_inf] = -np.inf
        up[self.up_inf] = np.inf
        return lo, up


class BasisBank:
    """Candidate optimal bases of one storage pattern, and the check that picks one.

    Probes are solved lazily, in their fixed order, only when no basis found so far is feasible
    for a state; the first feasible candidate in probe order is the answer either way, so being
    lazy never changes a result.

    Parameters
    ----------
    a:
        Dense constraint matrix (rows x columns).
    bounds:
        The pattern's :class:`BoundMap`.
    probe:
        ``probe(v)`` cold-solves the LP of state ``v`` in this pattern and returns the optimal
        basis as (column statuses, row statuses), or ``None`` if it was not solved.
    probes:
        State vectors to probe, in a fixed order.
    """

    def __init__(
        self,
        a: np.ndarray,
        bounds: BoundMap,
        probe: Callable[[np.ndarray], tuple[list, list] | None],
        probes: Sequence[np.ndarray],
    ) -> None:
        self.bounds = bounds
        n_row, n_col = a.shape
        self._w = np.hstack([a, -np.eye(n_row)])
        self._probe = probe
        self._pending = list(probes)
        self._seen: set[tuple] = set()
        self._blocks: list[np.ndarray] = []
        self.n_var = n_col + n_row
        self.n_candidates = 0
        self._z = np.zeros((0, bounds.lo.shape[1]))

    def _values_map(self, status: tuple) -> np.ndarray | None:
        """Matrix mapping the state vector to all variable values under one basis."""
        b, w = self.bounds, self._w
        basic = [j for j, s in enumerate(status) if s == _BASIC]
        if len(basic) != w.shape[0]:
            return None
        nonbasic = [j for j, s in enumerate(status) if s != _BASIC]
        e = np.zeros((len(nonbasic), b.lo.shape[1]))
        for r, j in enumerate(nonbasic):
            s = status[j]
            if s == _LOWER:
                if b.lo_inf[j]:
                    return None
                e[r] = b.lo[j]
            elif s == _UPPER:
                if b.up_inf[j]:
                    return None
                e[r] = b.up[j]
            # kZero (a free nonbasic variable) and anything else sits at zero.
        try:
            g = -np.linalg.solve(w[:, basic], w[:, nonbasic] @ e)
        except np.linalg.LinAlgError:
            return None
        z = np.empty((w.shape[1], b.lo.shape[1]))
        z[basic] = g
        z[nonbasic] = e
        return z

    def _next_candidate(self) -> np.ndarray | None:
        """Probe until a new usable basis turns up; ``None`` when the probes are exhausted."""
        while self._pending:
            basis = self._probe(self._pending.pop(0))
            if basis is None:
                continue
            status = tuple(basis[0]) + tuple(basis[1])
            if status in self._seen:
                continue
            self._seen.add(status)
            z = self._values_map(status)
            if z is not None:
                self._blocks.append(z)
                self._z = np.vstack(self._blocks)
                self.n_candidates += 1
                return z
        return None

    def _feasible(self, vals: np.ndarray, lo: np.ndarray, up: np.ndarray) -> np.ndarray:
        return ((vals >= lo - FEAS_TOL) & (vals <= up + FEAS_TOL)).all(axis=-1)

    def solve(self, v: np.ndarray) -> np.ndarray | None:
        """Column values (kt/day) of the first candidate basis feasible in state ``v``.

        Returns ``None`` when no candidate is feasible (the caller then solves the LP).
        """
        lo, up = self.bounds.bounds(v)
        n_col = self.bounds.n_col
        if self.n_candidates:
            vals = (self._z @ v).reshape(self.n_candidates, self.n_var)
            hit = np.flatnonzero(self._feasible(vals, lo, up))
            if len(hit):
                return vals[hit[0], :n_col]
        while (z := self._next_candidate()) is not None:
            vals = z @ v
            if self._feasible(vals, lo, up):
                return vals[:n_col]
        return None
