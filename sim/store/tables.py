"""Arrow tables of chunk files built without pandas, read back by pandas as before.

A worker writes its chunks from plain rows (mappings) and NumPy arrays. Building them through a
``pandas.DataFrame`` and :meth:`pyarrow.Table.from_pandas` made every worker import pandas
(about a third of its start-up) only for this, and :func:`pyarrow.array` imports pandas too (on
every call, whatever it converts). The functions here build the same Arrow table from the
columns' buffers: the same columns in the same order, the same Arrow types, ``NaN`` written as
null as ``from_pandas`` does, and the same ``pandas`` schema metadata (which
:func:`pandas.read_parquet` uses to give ``string`` columns their pandas dtype back), so the
Parquet files are byte for byte those the pandas route writes (``tests/unit/store/
test_tables.py``).

Declared dtypes (:mod:`sim.base.columns`) supported: ``int64``, ``float64``, ``bool`` and
``string``; arrays may be of any boolean, integer or floating NumPy dtype.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa

_LOGICAL = {"b": "bool", "i": "int", "u": "uint", "f": "float"}
"""NumPy kind -> prefix of pyarrow's ``pandas_type`` of the column (``int64``, ``float32``)."""


@lru_cache(maxsize=1)
def pandas_version() -> str:
    """Return the installed pandas version as ``from_pandas`` records it (without importing it)."""
    import sys

    pd = sys.modules.get("pandas")
    if pd is not None:
        return str(pd.__version__)
    from importlib.metadata import version

    return version("pandas")


def pandas_metadata(columns: Sequence[tuple[str, str, str]]) -> bytes:
    """Return the ``pandas`` schema metadata that :meth:`pyarrow.Table.from_pandas` writes.

    Without an index (``preserve_index=False``).

    ``columns`` holds (name, pandas type, NumPy type) per column, in order.
    """
    meta = {
        "index_columns": [],
        "column_indexes": [],
        "columns": [
            {
                "name": name,
                "field_name": name,
                "pandas_type": logical,
                "numpy_type": numpy_type,
                "metadata": None,
            }
            for name, logical, numpy_type in columns
        ],
        "attributes": {},
        "creator": {"library": "pyarrow", "version": pa.__version__},
        "pandas_version": pandas_version(),
    }
    return json.dumps(meta).encode("utf8")


def _validity(valid: np.ndarray) -> tuple[pa.Buffer | None, int]:
    """Arrow validity bitmap of ``valid`` (None when nothing is null) and the null count."""
    nulls = int(len(valid) - np.count_nonzero(valid))
    if not nulls:
        return None, 0
    return pa.py_buffer(np.packbits(valid, bitorder="little")), nulls


def _numeric(arr: np.ndarray) -> tuple[pa.Array, str, str]:
    """Arrow array, pandas type and NumPy type of a numeric or boolean array (NaN as null).

    Built from the array's buffers: :func:`pyarrow.array` imports pandas on every call.
    """
    prefix = _LOGICAL.get(arr.dtype.kind)
    if prefix is None:
        raise TypeError(f"unsupported column dtype {arr.dtype} (not bool, integer or float)")
    arr = np.ascontiguousarray(arr)
    if prefix == "bool":
        buffers = [None, pa.py_buffer(np.packbits(arr, bitorder="little"))]
        return pa.Array.from_buffers(pa.bool_(), len(arr), buffers), "bool", str(arr.dtype)
    validity, nulls = _validity(~np.isnan(arr)) if prefix == "float" else (None, 0)
    arrow_type = pa.from_numpy_dtype(arr.dtype)
    out = pa.Array.from_buffers(
        arrow_type, len(arr), [validity, pa.py_buffer(arr)], null_count=nulls
    )
    return out, f"{prefix}{8 * arr.dtype.itemsize}", str(arr.dtype)


def _string(values: Iterable[Any]) -> pa.Array:
    """Return a ``string`` column as pandas stores it: text, with None and NaN as null."""
    texts = [
        None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).encode()
        for v in values
    ]
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum([len(t) if t is not None else 0 for t in texts], out=offsets[1:])
    validity, nulls = _validity(np.array([t is not None for t in texts], dtype=bool))
    data = pa.py_buffer(b"".join(t for t in texts if t is not None))
    buffers = [validity, pa.py_buffer(offsets), data]
    return pa.Array.from_buffers(pa.large_string(), len(texts), buffers, null_count=nulls)


def _column(values: list[Any], dtype: str) -> tuple[pa.Array, str, str]:
    if dtype == "string":
        return _string(values), "object", "string"
    if dtype not in ("int64", "float64", "bool"):
        raise TypeError(f"unsupported declared dtype {dtype!r}")
    return _numeric(np.asarray(values, dtype=dtype))


def _table(names: list[str], cols: list[tuple[pa.Array, str, str]]) -> pa.Table:
    meta = pandas_metadata([(n, logical, np_type) for n, (_, logical, np_type) in zip(names, cols)])
    schema = pa.schema(
        [pa.field(n, arr.type) for n, (arr, _, _) in zip(names, cols)], metadata={"pandas": meta}
    )
    return pa.Table.from_arrays([arr for arr, _, _ in cols], schema=schema)


def table_from_rows(
    rows: Sequence[Mapping[str, Any]],
    dtype_of: Callable[[str], str],
    columns: Sequence[str] | None = None,
) -> pa.Table:
    """Table of ``rows``, as ``DataFrame(rows, columns).astype(dtypes)`` and ``from_pandas``.

    Parameters
    ----------
    rows:
        One mapping per row; a missing key is NaN (null), as in a DataFrame.
    dtype_of:
        Declared dtype of a column name (``int64``, ``float64``, ``bool`` or ``string``).
    columns:
        The columns, in order (keys outside them are left out); by default every key, in the
        order of first appearance. Without ``columns`` and without rows, the table has no
        columns, as ``DataFrame([])``.
    """
    if columns is None:
        columns = list(dict.fromkeys(k for row in rows for k in row))
    nan = math.nan
    cols = [_column([row.get(c, nan) for row in rows], dtype_of(c)) for c in columns]
    return _table(list(columns), cols)


def table_from_arrays(parts: Sequence[Mapping[str, np.ndarray]]) -> pa.Table:
    """Table of blocks of columns stacked in order (all with the keys of the first block).

    As ``pd.concat([DataFrame(p) for p in parts])`` written without its index.
    """
    names = list(parts[0])
    cols = [_numeric(np.concatenate([np.asarray(p[n]) for p in parts])) for n in names]
    return _table(names, cols)
