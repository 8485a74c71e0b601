"""The run directory: a documented, stable on-disk layout.

::

    DIR/
      manifest.json          config hash, root seed, version, chunks (status, SHA-256), timings,
                             host, SHA-256 of summary.json
      config.resolved.yaml   the validated config with every default written out
      replications/          Parquet chunks, one row per replication (``chunk-<a>-<b>.parquet``)
      events/                Parquet chunks, one row per disruption event record
      timeseries/            Parquet chunks of daily series (only with ``run.timeseries``)
      failures/              JSON, one file per chunk that had failed replications
      summary.json           {"metrics": {name: {mean, std, ci95_low, ...}}, "failed": n, ...}

Every file is written to a temporary name in the same directory and then renamed, so a reader
(or a resume) never sees half a file. A write that fails (no space left, read-only file system,
a file where a directory should be) removes its temporary file and raises
:class:`~sim.base.errors.OutputError`; temporary files left by a process that was killed mid-write
are removed by :func:`remove_stale_temp_files` when the run is resumed.

Test hook: when the environment variable ``CORRIDOR_SIM_TEST_FAIL_WRITES`` is set to a
``fnmatch`` pattern, every atomic write whose destination path matches it fails as if the disk
were full. Without that variable nothing is injected.
"""

from __future__ import annotations

import errno
import fnmatch
import hashlib
import io
import json
import os
import platform
import re
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from sim.base.errors import InputError, OutputError, Problem
from sim.base.limits import MAX_CHUNK_SIZE, MAX_REPLICATIONS, MAX_WORKERS
from sim.base.safeio import file_kind

if TYPE_CHECKING:  # pandas is imported where tables are read: workers write without it
    import pandas as pd

MANIFEST = "manifest.json"
SUMMARY = "summary.json"
CONFIG = "config.resolved.yaml"
TABLES = ("replications", "events", "timeseries")
FAIL_WRITES_ENV = "CORRIDOR_SIM_TEST_FAIL_WRITES"
TEMP_GLOB = ".*.tmp"
CHUNK_SEED_KEY = "corridor_sim.seed"
CHUNK_CONFIG_KEY = "corridor_sim.config_hash"
"""Parquet metadata of every chunk file: the root seed and config hash it was computed with,
so a resume can tell chunks of another run (or a hand-edited manifest) from its own."""
MANIFEST_KEYS: dict[str, type] = {
    "config_hash": str,
    "seed": int,
    "replications": int,
    "chunk_size": int,
    "chunks": dict,
}
"""Keys a manifest must hold (and their types) for a run directory to be resumed or read."""


def chunk_name(start: int, stop: int) -> str:
    """File stem of the chunk holding replications ``start`` to ``stop - 1``."""
    return f"chunk-{start:09d}-{stop:09d}"


def safe_dir_name(name: str, fallback: str = "run") -> str:
    """Return ``name`` reduced to one safe path component (letters, digits, ``.``, ``_``, ``-``).

    Config and experiment names are free text; a default output directory built from them must
    not climb out of ``runs/`` (``../../x``) or name a hidden or absolute path.
    """
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")[:64]
    return cleaned or fallback


def _injected_failure(path: Path) -> None:
    pattern = os.environ.get(FAIL_WRITES_ENV)
    if pattern and fnmatch.fnmatch(str(path), pattern):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    A ``path`` that exists and is not a regular file (a symlink, a device such as
    ``/dev/null``, a FIFO, a directory) is never replaced: the rename would replace the link or
    the device node itself.

    Raises
    ------
    OutputError
        When the file cannot be written, or ``path`` is not a regular file; ``path`` is then
        unchanged and no temporary file is left behind.
    """
    try:
        mode = os.lstat(path).st_mode
    except (OSError, ValueError):
        mode = None  # absent (or unusable: the write below reports why)
    if mode is not None and not stat.S_ISREG(mode):
        raise OutputError(str(path), f"it is {file_kind(mode)}; refusing to replace it")
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            _injected_failure(path)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None and os.path.exists(tmp):
            try:
                os.unlink(tmp)
            except OSError:
                pass
        if isinstance(exc, OSError):
            reason = exc.strerror or type(exc).__name__
            raise OutputError(str(path), reason, exc.errno) from None
        raise


def remove_stale_temp_files(run_dir: Path) -> int:
    """Delete temporary files left by writers that were killed; return how many were removed.

    Only call this when no writer is active on ``run_dir`` (before a resume starts its workers).
    """
    removed = 0
    run_dir = Path(run_dir)
    folders = [run_dir, *(run_dir / t for t in (*TABLES, "failures"))]
    for folder in folders:
        if not folder.is_dir():
            continue
        for f in folder.glob(TEMP_GLOB):
            try:
                f.unlink()
                removed += 1
            except OSError:
                pass
    return removed


def json_bytes(obj: Any) -> bytes:
    """Return the bytes :func:`atomic_write_json` writes for ``obj`` (sorted, indented)."""
    return (json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n").encode()


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write JSON atomically (sorted keys, indented)."""
    atomic_write_bytes(path, json_bytes(obj))


def atomic_write_parquet(
    path: Path, df: pd.DataFrame, metadata: dict[str, str] | None = None
) -> None:
    """Write a DataFrame as Parquet atomically, with optional key-value ``metadata``."""
    atomic_write_table(path, pa.Table.from_pandas(df, preserve_index=False), metadata)


def atomic_write_table(path: Path, table: pa.Table, metadata: dict[str, str] | None = None) -> None:
    """Write an Arrow table as Parquet atomically, with optional key-value ``metadata``.

    ``metadata`` is added after the table's own schema metadata (``pandas`` for a table built
    by :mod:`sim.store.tables` or ``from_pandas``).
    """
    if metadata:
        extra = {k.encode(): v.encode() for k, v in metadata.items()}
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **extra})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    atomic_write_bytes(path, sink.getvalue().to_pybytes())


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """Read ``manifest.json`` of a run directory.

    Raises
    ------
    InputError
        When the manifest cannot be read or is not a JSON object with the keys a run needs.
    """
    path = Path(run_dir) / MANIFEST
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise InputError(Problem("", f"cannot read ({exc.strerror})"), str(path)) from None
    except (ValueError, RecursionError) as exc:  # bad UTF-8, bad JSON, a 5,000-digit number
        raise InputError(
            Problem("", f"not a valid manifest (corrupt JSON: {exc})"), str(path)
        ) from None
    if not isinstance(data, dict):
        raise InputError(Problem("", "not a valid manifest (expected a JSON object)"), str(path))
    for key, kind in MANIFEST_KEYS.items():
        if not isinstance(data.get(key), kind) or isinstance(data.get(key), bool):
            raise InputError(
                Problem(key, f"missing or not a {kind.__name__} (the manifest is damaged)"),
                str(path),
            )
    ranges = {
        "seed": (0, 2**63 - 1),
        "replications": (1, MAX_REPLICATIONS),
        "chunk_size": (1, MAX_CHUNK_SIZE),
    }
    for key, (low, high) in ranges.items():
        if not low <= data[key] <= high:
            raise InputError(
                Problem(key, f"{data[key]} is outside {low}..{high} (the manifest is damaged)"),
                str(path),
            )
    taper = data.get("chunk_taper", 0)
    if isinstance(taper, bool) or not isinstance(taper, int) or not 0 <= taper <= MAX_WORKERS:
        raise InputError(
            Problem(
                "chunk_taper",
                f"{taper!r} is not an integer in 0..{MAX_WORKERS} (the manifest is damaged)",
            ),
            str(path),
        )
    target = data.get("target_rel_ci")
    if target is not None and (
        isinstance(target, bool) or not isinstance(target, (int, float)) or not 0 < target <= 1
    ):
        raise InputError(
            Problem("target_rel_ci", f"{target!r} is not in (0, 1] (the manifest is damaged)"),
            str(path),
        )
    return data


def chunk_complete(run_dir: Path, name: str) -> bool:
    """Return True when chunk ``name`` has its replications file and its events file.

    A worker writes the events file first and the replications file last, so both exist for
    every finished chunk; a chunk missing either is run again on resume.
    """
    run_dir = Path(run_dir)
    return all((run_dir / t / f"{name}.parquet").is_file() for t in ("replications", "events"))


SUMMARY_SHA256 = "summary_sha256"
"""Manifest key: the SHA-256 of ``summary.json`` as the run wrote it."""


def summary_intact(run_dir: Path, manifest: dict[str, Any] | None) -> bool:
    """Return False when ``summary.json`` differs from the checksum ``manifest`` recorded.

    A manifest without the checksum (written before it existed) trusts the file.
    """
    want = (manifest or {}).get(SUMMARY_SHA256)
    if want is None:
        return True
    try:
        data = (Path(run_dir) / SUMMARY).read_bytes()
    except OSError:
        return False
    return hashlib.sha256(data).hexdigest() == want


def read_summary(run_dir: Path, manifest: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read ``summary.json`` of a finished run directory.

    With the run's ``manifest``, the file must match the SHA-256 recorded there, so a
    changed byte is never read as a different result.

    Raises
    ------
    InputError
        When the run has no summary yet (it did not finish) or the file is damaged.
    """
    path = Path(run_dir) / SUMMARY
    if not path.is_file():
        raise InputError(
            Problem(
                "",
                "no summary.json: the run did not finish; complete it with "
                f"`corridor-sim resume {run_dir}`",
            ),
            str(run_dir),
        )
    if not summary_intact(run_dir, manifest):
        raise InputError(
            Problem(
                "",
                "damaged summary (its SHA-256 differs from the one in manifest.json); "
                f"write it again with `corridor-sim resume {run_dir}`",
            ),
            str(path),
        )
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise InputError(Problem("", f"damaged summary ({exc})"), str(path)) from None
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
        raise InputError(Problem("metrics", "missing (the summary is damaged)"), str(path))
    return data


def chunk_files(run_dir: Path, table: str) -> list[Path]:
    """Sorted chunk files of ``table`` in a run directory."""
    folder = Path(run_dir) / table
    if not folder.is_dir():
        return []
    return sorted(folder.glob("chunk-*.parquet"))


def data_chunk_files(run_dir: Path, table: str) -> list[Path]:
    """Sorted chunk files of ``table`` that hold rows.

    A chunk whose replications all failed has an empty replications file without columns.
    """
    return [f for f in chunk_files(run_dir, table) if pq.read_metadata(f).num_rows > 0]


def iter_column(run_dir: Path, column: str, table: str = "replications") -> Iterator[pd.Series]:
    """Yield one column chunk by chunk (keeps memory flat for huge runs)."""
    for f in data_chunk_files(run_dir, table):
        yield pq.read_table(f, columns=[column]).column(0).to_pandas()


def read_table(
    run_dir: Path,
    table: str = "replications",
    check: Callable[[Path, bytes], None] | None = None,
) -> pd.DataFrame:
    """Read all chunks of ``table``, sorted by replication.

    ``check(path, data)``, when given, sees each file's bytes before they are parsed (and may
    raise to refuse the file); the bytes checked are the bytes read.
    """
    import pandas as pd

    files = chunk_files(run_dir, table)
    if not files:
        return pd.DataFrame()
    frames = []
    for f in files:
        if check is None:
            frames.append(pd.read_parquet(f))
            continue
        data = f.read_bytes()
        check(f, data)
        frames.append(pd.read_parquet(io.BytesIO(data)))
    df = pd.concat(frames, ignore_index=True)
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
