"""The routing LP's constraint matrix in compressed-column form, built without SciPy.

:class:`ColumnMatrix` holds what HiGHS reads (``indptr``, ``indices``, ``data``) and is what
``scipy.sparse.csc_matrix((data, (rows, cols)), shape)`` builds from the same entries in its
canonical form: row indices sorted within each column, duplicate entries summed (a sum that is
zero stays an explicit entry), ``int32`` indices. Importing :mod:`scipy.sparse` cost a worker
process about a tenth of its start-up for this alone; ``tests/unit/model/test_lp_matrix.py``
checks the arrays against SciPy's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ColumnMatrix:
    """A sparse matrix in compressed-column (CSC) form."""

    shape: tuple[int, int]
    indptr: np.ndarray
    """Column ``j``'s entries are ``indptr[j]:indptr[j + 1]`` (``int32``)."""
    indices: np.ndarray
    """Row of each entry, increasing within a column (``int32``)."""
    data: np.ndarray
    """Value of each entry (``float64``)."""

    def toarray(self) -> np.ndarray:
        """Return the matrix as a dense array."""
        dense = np.zeros(self.shape)
        cols = np.repeat(np.arange(self.shape[1]), np.diff(self.indptr))
        dense[self.indices, cols] = self.data
        return dense


def column_matrix(
    rows: Sequence[int], cols: Sequence[int], vals: Sequence[float], shape: tuple[int, int]
) -> ColumnMatrix:
    """Return the CSC matrix of entries ``(rows[k], cols[k]) = vals[k]`` (duplicates summed).

    Raises
    ------
    ValueError
        When an entry lies outside ``shape`` or the sequences differ in length.
    """
    n_row, n_col = shape
    if not len(rows) == len(cols) == len(vals):
        raise ValueError("rows, cols and vals must have the same length")
    per_col: list[dict[int, float]] = [{} for _ in range(n_col)]
    for i, j, v in zip(rows, cols, vals):
        if not (0 <= i < n_row and 0 <= j < n_col):
            raise ValueError(f"entry ({i}, {j}) outside a {n_row} x {n_col} matrix")
        column = per_col[j]
        column[i] = column[i] + float(v) if i in column else float(v)
    indptr = np.zeros(n_col + 1, dtype=np.int32)
    indices: list[int] = []
    data: list[float] = []
    for j, column in enumerate(per_col):
        for i in sorted(column):
            indices.append(i)
            data.append(column[i])
        indptr[j + 1] = len(indices)
    return ColumnMatrix(
        (n_row, n_col),
        indptr,
        np.array(indices, dtype=np.int32),
        np.array(data, dtype=np.float64),
    )
