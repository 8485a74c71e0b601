"""The run directory: a documented, stable on-disk layout.

::

    DIR/
      manifest.json          config hash, root seed, version, chunks and their status, timings, host
      config.resolved.yaml   the validated config with every default written out
      replications/          Parquet chunks, one row per replication (``chunk-<a>-<b>.parquet``)
      events/                Parquet chunks, one row per disruption event record
      timeseries/            Parquet chunks of daily series (only with ``run.timeseries``)
      failures/              JSON, one file per chunk that had failed replications
      summary.json           {"metrics": {name: {mean, std, ci95_low, ...}}, "failed": n, ...}

Every file is written to a temporary name in the same directory and then renamed, so a reader
(or a resume) never sees half a file.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

MANIFEST = "manifest.json"
SUMMARY = "summary.json"
CONFIG = "config.resolved.yaml"
TABLES = ("replications", "events", "timeseries")


def chunk_name(start: int, stop: int) -> str:
    """File stem of the chunk holding replications ``start`` to ``stop - 1``."""
    return f"chunk-{start:09d}-{stop:09d}"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write JSON atomically (sorted keys, indented)."""
    atomic_write_bytes(
        path, (json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n").encode()
    )


def atomic_write_parquet(path: Path, df: pd.DataFrame) -> None:
    """Write a DataFrame as Parquet atomically."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    atomic_write_bytes(path, sink.getvalue().to_pybytes())


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """Read ``manifest.json`` of a run directory."""
    return json.loads((Path(run_dir) / MANIFEST).read_text())


def chunk_files(run_dir: Path, table: str) -> list[Path]:
    """Sorted chunk files of ``table`` in a run directory."""
    folder = Path(run_dir) / table
    if not folder.is_dir():
        return []
    return sorted(folder.glob("chunk-*.parquet"))


def iter_column(run_dir: Path, column: str, table: str = "replications") -> Iterator[pd.Series]:
    """Yield one column chunk by chunk (keeps memory flat for huge runs)."""
    for f in chunk_files(run_dir, table):
        yield pq.read_table(f, columns=[column]).column(0).to_pandas()


def read_table(run_dir: Path, table: str = "replications") -> pd.DataFrame:
    """Read all chunks of ``table``, sorted by replication."""
    files = chunk_files(run_dir, table)
    if not files:
        return pd.DataFrame()
    df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    sort = [c for c in ("replication", "event", "day") if c in df.columns]
    return df.sort_values(sort, kind="stable").reset_index(drop=True) if sort else df


def host_info() -> dict[str, Any]:
    """Machine facts recorded in the manifest."""
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
    }
