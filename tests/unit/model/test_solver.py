"""The routing LP solved through highspy agrees with scipy.optimize.linprog (same HiGHS, other
interface) on the states a real run visits, and its flows respect every row."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from scipy.optimize import linprog

import sim
from sim.model.basis import _LOWER, _TAIL, _UPPER, BasisBank, BoundMap
from sim.model.solver import _SCALE


@pytest.fixture(scope="module")
def visited():
    model = sim.Model(sim.load_config("configs/kazakhstan.yaml"))
    for k in range(6):
        model.simulate(seed=11, replication=k)
    return model.solver, list(model.solver._cache.items())


def _linprog(arrays):
    inf = np.isinf
    a, lo, hi = arrays["a"], arrays["row_lower"], arrays["row_upper"]
    eq = ~inf(lo) & ~inf(hi) & (lo == hi)
    ub_rows = ~eq & ~inf(hi)
    lb_rows = ~eq & ~inf(lo)
    a_ub = np.vstack([a[ub_rows], -a[lb_rows]])
    b_ub = np.concatenate([hi[ub_rows], -lo[lb_rows]])
    bounds = [(0, None if np.isinf(u) else u) for u in arrays["col_upper"]]
    return linprog(
        arrays["cost"], A_ub=a_ub, b_ub=b_ub, A_eq=a[eq], b_eq=lo[eq], bounds=bounds, method="highs"
    )


def test_highspy_and_linprog_reach_the_same_optimum(visited):
    solver, states = visited
    assert len(states) >= 10
    for key, sol in states[:40]:
        arrays = solver.lp_arrays(*key)
        ref = _linprog(arrays)
        assert ref.status == 0
        # Re-solve the state through highspy exactly as the engine does and compare objectives.
        ours = solver._highs
        ours.clearSolver()
        lo, hi = solver.row_bounds(*key)
        ours.changeRowsBounds(len(lo), np.arange(len(lo), dtype=np.int32), lo, hi)
        ours.run()
        x = np.asarray(ours.getSolution().col_value)
        tol = 1e-7 * max(1.0, abs(ref.fun))
        assert arrays["cost"] @ x == pytest.approx(ref.fun, abs=tol)
        # Our recorded leg flows respect the link capacities and storage-state rows.
        y = np.asarray(sol.segment_flow) * _SCALE
        n_seg = len(y)
        links = arrays["a"][: solver.net.n_links, :n_seg]
        assert (links @ y <= arrays["row_upper"][: solver.net.n_links] + 1e-6).all()


def test_stored_bases_give_optimal_feasible_flows(visited):
    """A state solved by a stored basis (no HiGHS call) has the optimum's objective and respects
    every row and column bound."""
    solver, states = visited
    hits = 0
    for key, _ in states[:60]:
        x = solver._bank(key[2]).solve(solver._state_vector(key[0], key[1]))
        if x is None:
            continue
        hits += 1
        arrays = solver.lp_arrays(*key)
        ref = _linprog(arrays)
        tol = 1e-7 * max(1.0, abs(ref.fun))
        assert arrays["cost"] @ x == pytest.approx(ref.fun, abs=tol)
        act = arrays["a"] @ x
        assert (act <= arrays["row_upper"] + 1e-6).all()
        assert (act >= arrays["row_lower"] - 1e-6).all()
        assert (x >= -1e-6).all() and (x <= arrays["col_upper"] + 1e-6).all()
    assert hits >= 10


def test_solution_is_a_pure_function_of_the_state(visited):
    """A fresh solver (no history, no cache) returns bit-identical flows for every visited state."""
    solver, states = visited
    fresh = sim.Model(sim.load_config("configs/kazakhstan.yaml")).solver
    for key, sol in reversed(states[:60]):
        again = fresh.solve(*key)
        assert again.segment_flow == sol.segment_flow
        assert again.storage_net == sol.storage_net


def test_surged_states_reuse_a_stored_basis_at_highs_vertex(visited):
    """States with a surge in force are served by the bases probed around the surged state,
    and those give HiGHS's own vertex (up to rounding): fewer HiGHS solves, same flows."""
    solver, states = visited
    net = solver.net
    surged = [
        key for key, _ in states if any(c > n * (1 + 1e-9) for c, n in zip(key[0], net.link_cap))
    ]
    assert len(surged) >= 5
    hits = 0
    for key in surged[:40]:
        v = solver._state_vector(key[0], key[1])
        x = solver._bank(key[2]).solve(v)
        if x is None:
            continue
        hits += 1
        assert solver._run_highs(v, key[2])
        ref = np.asarray(solver._highs.getSolution().col_value)
        assert np.abs(x - ref).max() <= 1e-9 * max(1.0, np.abs(ref).max())
    assert hits >= 0.6 * min(len(surged), 40)
    # Six replications from a fresh solver: 124 of 356 new states went to HiGHS with the
    # nominal probes alone, 30 with the surged ones too.
    assert solver.n_solves <= 0.15 * (solver.n_solves + solver.n_basis_hits)


class _RowByRowBank(BasisBank):
    """The bank as it stacked its matrix before: row by row, restacked on every candidate."""

    def _add(self, z, status):
        b, tol = self.bounds, self._tol
        checks, cols = [], []
        for j, s in enumerate(status):
            if s in (_LOWER, _UPPER):
                if j < b.n_col:
                    cols.append((False, self._share((b.lo if s == _LOWER else b.up)[j])))
                continue
            if j < b.n_col:
                cols.append((True, len(checks)))
            if not b.lo_inf[j]:
                checks.append((z[j], self._share(b.lo[j] - tol)))
            if not b.up_inf[j]:
                checks.append((-z[j], self._share(-b.up[j] - tol)))
        self._candidates.append((checks, cols))
        self.n_candidates += 1
        width = self._width = max(1, *(len(c) for c, _ in self._candidates))
        n_checks = self.n_candidates * width
        pad = (np.zeros_like(self._tol), self._pass_zero)
        rows, thresholds, xi = [], [], []
        for c, (checks, cols) in enumerate(self._candidates):
            padded = checks + [pad] * (width - len(checks))
            rows += [r for r, _ in padded]
            thresholds += [n_checks + k for _, k in padded]
            xi.append(np.array([c * width + i if own else n_checks + i for own, i in cols]))
        tail = [pad[0]] * (_TAIL - len(self._shared))
        self._m = np.vstack(rows + self._shared + tail)
        self._thresholds = np.array(thresholds)
        self._xi = xi
        self._n_checks = n_checks
        self._all_pass = b"\x01" * width


def test_bank_stacks_the_matrix_it_stacked_row_by_row(visited):
    """Block-wise stacking (cheaper for a worker's first replications) gives the same matrix,
    thresholds and column indices after every candidate, hence the same flows, bit for bit."""
    solver, states = visited
    net = solver.net
    fresh = sim.Model(sim.load_config("configs/kazakhstan.yaml")).solver
    banks = {}
    for key, _ in states:
        pattern = key[2]
        if pattern not in banks:
            bounds = BoundMap(net.n_links, len(net.source_ids), fresh._col_upper, pattern)
            probe = functools.partial(lambda p, v: fresh._probe(v, p), pattern)
            banks[pattern] = tuple(
                cls(fresh._a_dense, bounds, probe, fresh.probe_states())
                for cls in (BasisBank, _RowByRowBank)
            )
        new, old = banks[pattern]
        v = fresh._state_vector(key[0], key[1])
        x, y = new.solve(v), old.solve(v)
        assert (x is None and y is None) or x.tobytes() == y.tobytes()
        assert new.n_candidates == old.n_candidates
        assert new._m.shape == old._m.shape and new._m.tobytes() == old._m.tobytes()
        assert new._thresholds.tolist() == old._thresholds.tolist()
        assert [a.tolist() for a in new._xi] == [a.tolist() for a in old._xi]
    assert sum(b[0].n_candidates for b in banks.values()) >= 20
