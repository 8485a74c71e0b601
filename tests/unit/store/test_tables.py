"""Chunk tables built without pandas are the bytes the pandas route writes (sim.store.tables)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.base.columns import EVENT_COLUMNS, dtypes, family_dtype
from sim.store.layout import atomic_write_parquet, atomic_write_table, read_table
from sim.store.tables import pandas_metadata, table_from_arrays, table_from_rows

META = {"corridor_sim.seed": "7", "corridor_sim.config_hash": "abc"}
EVENT_NAMES = [c.name for c in EVENT_COLUMNS]


def old_replications(rows: list[dict]) -> pd.DataFrame:
    """The replications frame as the worker built it with pandas."""
    df = pd.DataFrame(rows)
    if len(df):
        df = df.astype({c: family_dtype(c) for c in df.columns})
    return df


def old_events(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=EVENT_NAMES).astype(dtypes(EVENT_COLUMNS))


def same_file(tmp_path, old: pd.DataFrame, new: pa.Table) -> None:
    """Both routes write the same bytes, and the readers see the same frame."""
    atomic_write_parquet(tmp_path / "old" / "replications" / "chunk-a.parquet", old, META)
    atomic_write_table(tmp_path / "new" / "replications" / "chunk-a.parquet", new, META)
    a = (tmp_path / "old" / "replications" / "chunk-a.parquet").read_bytes()
    b = (tmp_path / "new" / "replications" / "chunk-a.parquet").read_bytes()
    assert pq.read_schema(tmp_path / "new" / "replications" / "chunk-a.parquet").metadata == (
        pq.read_schema(tmp_path / "old" / "replications" / "chunk-a.parquet").metadata
    )
    assert a == b
    x, y = read_table(tmp_path / "old"), read_table(tmp_path / "new")
    pd.testing.assert_frame_equal(x, y, check_exact=True)
    assert list(x.dtypes.astype(str)) == list(y.dtypes.astype(str))


def event_row(k: int, **changes) -> dict:
    row = {
        "replication": k,
        "event": 0,
        "hazard": "storm",
        "asset": "cpc_terminal",
        "asset_kind": "terminal",
        "cause": "weather",
        "start_day": 12.5,
        "start_date": "2026-01-13",
        "duration_days": 3.0,
        "recovery_days": 0.0,
        "capacity_lost": 1.0,
        "berths_lost": 0,
        "effective": True,
        "scripted": False,
        "time_to_survive_days": math.nan,
    }
    row.update(changes)
    return row


def test_replication_rows(tmp_path):
    rows = [
        {"replication": 0, "exported_mt": 1.25, "n_events": 3, "throughput_mt.x": 2},
        {
            "replication": 1,
            "exported_mt": np.float64(0.1) + 0.2,
            "n_events": 0,
            "throughput_mt.x": math.nan,
            "max_storage_mt.y": 4,
        },
    ]
    same_file(tmp_path, old_replications(rows), table_from_rows(rows, family_dtype))


def test_no_replication_rows(tmp_path):
    """A chunk whose replications all failed: a file without columns."""
    same_file(tmp_path, old_replications([]), table_from_rows([], family_dtype))


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [event_row(0)],
        [event_row(0), event_row(1, hazard=None, start_date=math.nan, extra="dropped")],
        [event_row(2, cause="é€ unicode", duration_days=1)],
    ],
    ids=["empty", "one", "nulls", "unicode"],
)
def test_event_rows(tmp_path, rows):
    new = table_from_rows(rows, dtypes(EVENT_COLUMNS).__getitem__, EVENT_NAMES)
    same_file(tmp_path, old_events(rows), new)


def test_series_blocks(tmp_path):
    blocks = []
    for k in (4, 5):
        daily = {"day": np.arange(3), "flow_mt.a": np.array([0.5, np.nan, 1 / 3])}
        blocks.append((k, daily))
    old = []
    for k, daily in blocks:
        ts = pd.DataFrame(daily)
        ts.insert(0, "replication", k)
        old.append(ts)
    new = table_from_arrays(
        [{"replication": np.full(3, k, dtype=np.int64), **daily} for k, daily in blocks]
    )
    same_file(tmp_path, pd.concat(old), new)


def test_metadata_matches_from_pandas():
    df = pd.DataFrame({"a": [1], "b": [0.5], "c": pd.array(["x"], dtype="string"), "d": [True]})
    want = pa.Table.from_pandas(df, preserve_index=False).schema.metadata[b"pandas"]
    cols = [
        ("a", "int64", "int64"),
        ("b", "float64", "float64"),
        ("c", "object", "string"),
        ("d", "bool", "bool"),
    ]
    assert pandas_metadata(cols) == want


def test_unsupported_dtypes_are_refused():
    with pytest.raises(TypeError, match="declared dtype"):
        table_from_rows([{"a": 1}], lambda c: "datetime64[ns]")
    with pytest.raises(TypeError, match="not bool, integer or float"):
        table_from_arrays([{"a": np.array(["x"])}])
    with pytest.raises(ValueError):  # an integer column with a gap (pandas refuses it too)
        table_from_rows([{"n_events": 1}, {}], family_dtype)


def test_many_rows_with_nulls_across_bitmap_bytes(tmp_path):
    """37 event rows: NaN and None scattered past the first bitmap byte, empty strings, bools."""
    rng = np.random.default_rng(8)
    rows = []
    for k in range(37):
        rows.append(
            event_row(
                k,
                hazard=None if k % 9 == 4 else ("" if k % 5 == 0 else f"h{k}"),
                effective=bool(rng.integers(2)),
                scripted=k % 3 == 0,
                start_day=math.nan if k % 7 == 2 else float(rng.normal()),
                time_to_survive_days=float(rng.exponential()),
                berths_lost=int(rng.integers(-3, 3)),
            )
        )
    new = table_from_rows(rows, dtypes(EVENT_COLUMNS).__getitem__, EVENT_NAMES)
    same_file(tmp_path, old_events(rows), new)
    all_nan = [{"replication": k, "exported_mt": math.nan} for k in range(10)]
    same_file(tmp_path / "nan", old_replications(all_nan), table_from_rows(all_nan, family_dtype))
