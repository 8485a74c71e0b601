"""The LP matrix built without SciPy holds the arrays scipy.sparse.csc_matrix holds."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import KAZAKHSTAN_YAML, ROOT
from scipy import sparse

import sim
from sim.model import solver as solver_module
from sim.model.lp_matrix import column_matrix


def same_as_scipy(rows, cols, vals, shape):
    ours = column_matrix(rows, cols, vals, shape)
    ref = sparse.csc_matrix((vals, (rows, cols)), shape=shape)
    for name in ("indptr", "indices", "data"):
        a, b = getattr(ours, name), getattr(ref, name)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), name
    assert ours.toarray().tobytes() == ref.toarray().tobytes()


def test_random_entries_with_duplicates_and_cancelling_pairs():
    rng = np.random.default_rng(4)
    for _ in range(50):
        shape = (int(rng.integers(1, 9)), int(rng.integers(1, 9)))
        n = int(rng.integers(0, 30))
        rows = rng.integers(0, shape[0], n).tolist()
        cols = rng.integers(0, shape[1], n).tolist()
        vals = rng.choice([1.0, -1.0, 0.5], n).tolist()
        same_as_scipy(rows, cols, vals, shape)
    same_as_scipy([2, 0, 2], [1, 1, 1], [1.0, 1.0, -1.0], (3, 2))  # an explicit zero stays


@pytest.mark.parametrize(
    "path",
    [KAZAKHSTAN_YAML, ROOT / "configs" / "kazakhstan_2022.yaml", ROOT / "tests/data/small.yaml"],
)
def test_the_solvers_matrix_is_scipys(monkeypatch, path):
    seen = []

    def recording(rows, cols, vals, shape):
        seen.append((list(rows), list(cols), list(vals), shape))
        return column_matrix(rows, cols, vals, shape)

    monkeypatch.setattr(solver_module, "column_matrix", recording)
    sim.Model(sim.load_config(path))
    assert seen
    for entries in seen:
        same_as_scipy(*entries)


def test_entries_outside_the_matrix_are_refused():
    with pytest.raises(ValueError, match="outside a 2 x 2"):
        column_matrix([2], [0], [1.0], (2, 2))
    with pytest.raises(ValueError, match="same length"):
        column_matrix([0], [0, 1], [1.0], (2, 2))
