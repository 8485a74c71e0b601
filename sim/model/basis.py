"""Reuse of optimal LP bases: solve most routing states with one matrix product.

Between two routing states only the right-hand sides of the LP change (link capacities, source
production, which storages are full or empty); costs and the matrix never do. An optimal basis
therefore stays *dual* feasible in every state with the same storage pattern, and it is optimal
for a new state as soon as the basic solution it defines is *primal* feasible. Checking that
costs one product of a small precomputed matrix with the state vector, against several hundred
microseconds for a HiGHS solve.

Determinism: the candidate bases of a storage pattern come from cold solves of a fixed list of
probe states derived only from the network and the pattern (nominal; each link halved and shut;
each source stopped; the same around the surged state when links have a surge, see
:func:`probe_states`), tried in a fixed order. The solution of a state is thus a pure function of
the state, whatever was solved before in the process, so results stay bit-identical whatever the
worker count or chunking.

The LP is written as ``A x - r = 0`` with column bounds on ``x`` and row bounds on the row
activities ``r``. A basis fixes every nonbasic variable at one of its bounds; every bound is a
linear function of the state vector ``v = [link capacities, source production, 1]`` (kt/day), so
all variables are ``Z @ v`` for a matrix ``Z`` computed once per basis.

One product checks all candidates at once. A nonbasic variable equals the bound it sits at
exactly, and no lower bound exceeds its upper bound, so only the other variables (basic, or free
at zero) need checking. For each candidate the bank stacks one row per bound to check: the
variable's row of ``Z`` for a lower bound ``b`` (passes when ``a >= b - tol``) and the row negated
for an upper bound (``-a >= -b - tol``, bit for bit the test ``a <= b + tol``), padded to the same
count for every candidate with checks that always pass. Below them come, shared by all
candidates, the thresholds ``b - tol`` and the values of nonbasic columns. A bound row is zero or
one entry of ``v`` times a constant, and ``v`` ends in exactly 1, so a row holding the bound and
``-tol`` in its last column yields ``b - tol`` with the single rounding of a subtraction. One
product with ``v`` thus gives every value and every threshold; the first candidate whose checks
all pass is found by scanning the pass flags. The shared rows come last (at least a few of them):
BLAS sums the trailing rows of a product in another order, which cannot change a sum of at most
two nonzero terms, so no candidate's values depend on how many candidates are stacked.
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

_TAIL = 8
"""Rows kept after the checks: more than BLAS kernels leave to their remainder loop."""

_B = highspy.HighsBasisStatus
_BASIC, _LOWER, _UPPER, _ZERO = _B.kBasic, _B.kLower, _B.kUpper, _B.kZero


class BoundMap:
    """Bounds of every LP variable as linear functions of the state vector, for one pattern.

    Every bound row is zero or has a single nonzero entry, so its product with a state vector is
    exact whatever the summation order.

    Parameters
    ----------
    n_link, n_src:
        Numbers of link rows and source rows (in this order, followed by storage rows).
    col_upper:
        Column upper bounds (kt/day, non-negative; ``inf`` when unbounded). Column lower bounds
        are zero.
    pattern:
        Storage states, one per storage row.
    """

    def __init__(
        self, n_link: int, n_src: int, col_upper: np.ndarray, pattern: Sequence[int]
    ) -> None:
        if (np.asarray(col_upper) < 0).any():
            raise ValueError("column upper bounds must be non-negative")
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
        State vectors to probe, in a fixed order; like every state vector passed to
        :meth:`solve`, each ends in exactly 1.
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
        self.n_var = n_col + n_row
        self.n_candidates = 0
        # Rows shared by all candidates (thresholds, and the values of nonbasic columns), by
        # content; the first is zero's threshold, which the padding checks compare zero with.
        self._shared: list[np.ndarray] = []
        self._shared_at: dict[bytes, int] = {}
        self._tol = np.zeros(bounds.lo.shape[1])  # FEAS_TOL in the constant column of v
        self._tol[-1] = FEAS_TOL
        self._pass_zero = self._share(-self._tol)
        # Per candidate: its checks' value rows and their shared threshold rows, and per column
        # whether its value is one of the checks (own) or a shared row, and which.
        self._candidates: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._width = 0
        self._m = np.zeros((0, len(self._tol)))

    def _share(self, row: np.ndarray) -> int:
        """Index of a row among the shared ones (appended if new)."""
        key = row.tobytes()
        k = self._shared_at.get(key)
        if k is None:
            k = self._shared_at[key] = len(self._shared)
            self._shared.append(row)
        return k

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
        if not np.isfinite(g).all():
            return None
        z = np.empty((w.shape[1], b.lo.shape[1]))
        z[basic] = g
        z[nonbasic] = e
        return z

    def _add(self, z: np.ndarray, status: tuple) -> None:
        """Add a candidate's checks and column values, and restack the bank."""
        b, tol = self.bounds, self._tol
        rows: list[np.ndarray] = []  # one per check: the value row
        thresholds: list[int] = []  # and its shared threshold row
        own: list[bool] = []  # per column: its value is a check's (True) or a shared row
        index: list[int] = []
        for j, s in enumerate(status):
            if s in (_LOWER, _UPPER):  # exactly on the bound it sits at, hence within the other
                if j < b.n_col:
                    own.append(False)
                    index.append(self._share((b.lo if s == _LOWER else b.up)[j]))
                continue
            if j < b.n_col:  # columns have a lower bound (zero), so a check of their own
                own.append(True)
                index.append(len(rows))
            if not b.lo_inf[j]:
                rows.append(z[j])
                thresholds.append(self._share(b.lo[j] - tol))
            if not b.up_inf[j]:
                rows.append(-z[j])
                thresholds.append(self._share(-b.up[j] - tol))
        block = np.array(rows) if rows else np.zeros((0, len(tol)))
        thr, index_ = np.array(thresholds, dtype=np.intp), np.array(index, dtype=np.intp)
        self._candidates.append((block, thr, np.array(own, dtype=bool), index_))
        self.n_candidates += 1
        self._restack()

    def _restack(self) -> None:
        """Stack every candidate's checks (padded to one width), the shared rows and the tail.

        Padding checks are zero rows compared with zero's threshold (they pass); the matrix is
        filled block by block, the same numbers as stacking its rows one by one.
        """
        p = len(self._tol)
        width = self._width = max(1, *(len(c[0]) for c in self._candidates))
        n_checks = self.n_candidates * width
        n_tail = max(0, _TAIL - len(self._shared))
        m = np.zeros((n_checks + len(self._shared) + n_tail, p))
        thresholds = np.full(n_checks, n_checks + self._pass_zero, dtype=np.intp)
        xi = []
        for c, (block, thr, own, index) in enumerate(self._candidates):
            at = c * width
            m[at : at + len(block)] = block
            thresholds[at : at + len(thr)] = n_checks + thr
            xi.append(np.where(own, at + index, n_checks + index))
        if self._shared:
            m[n_checks : n_checks + len(self._shared)] = self._shared
        self._m = m
        self._thresholds = thresholds
        self._xi = xi
        self._n_checks = n_checks
        self._all_pass = b"\x01" * width

    def _next_candidate(self) -> bool:
        """Probe until a new usable basis turns up; ``False`` when the probes are exhausted."""
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
                self._add(z, status)
                return True
        return False

    def solve(self, v: np.ndarray) -> np.ndarray | None:
        """Column values (kt/day) of the first candidate basis feasible in state ``v``.

        ``v`` must end in exactly 1. Returns ``None`` when no candidate is feasible (the caller
        then solves the LP).
        """
        while True:
            if self.n_candidates:
                e = self._m.dot(v)
                passed = (e[: self._n_checks] >= e.take(self._thresholds)).tobytes()
                width, all_pass = self._width, self._all_pass
                i = passed.find(all_pass)
                while i > 0 and i % width:  # a run across two candidates: go to the next one
                    i = passed.find(all_pass, i - i % width + width)
                if i >= 0:
                    return e.take(self._xi[i // width])
            if not self._next_candidate():
                return None


def probe_states(centres: Sequence[np.ndarray], n_link: int) -> list[np.ndarray]:
    """Probe states around each centre, in probing order.

    Per centre (a state vector ``[link capacities, source production, 1]``): the centre; each
    link halved and shut; each source stopped. The solver's centres are the nominal state and,
    when links have a surge, the surged state (every surge granted), where most states with a
    surge in force lie. Later centres' bases serve only states that no earlier probe's basis
    fits (candidates are tried in order), which HiGHS would solve otherwise.
    """
    probes = []
    for v0 in centres:
        probes.append(v0)
        for i in range(len(v0) - 1):
            for f in (0.5, 0.0) if i < n_link else (0.0,):
                v = v0.copy()
                v[i] *= f
                probes.append(v)
    return probes
