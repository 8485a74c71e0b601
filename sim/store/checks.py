"""Chunk integrity: SHA-256 checksums in the manifest and checks of each chunk's contents.

When the coordinator records a finished chunk, it checks the chunk's files with
:func:`check_structure` (the replications rows and recorded failures cover exactly the chunk's
replication indices, each once, and agree with what the worker reported; every event and daily
row belongs to one of those replications) and stores the SHA-256 of each of its files in the
chunk's manifest entry::

    "chunk-000000000-000000004": {"start": 0, "stop": 4, "status": "done", "ok": 4,
                                  "failed": 0, "sha256": {"replications": "<hex>", ...}}

Resumes and readers compare the files with these checksums (:func:`verify_checksums`,
:func:`read_verified_table`), so a flipped byte anywhere in a chunk, a truncated file or a chunk
copied over another is found before its data is used. Manifests written before checksums
existed have no ``sha256``: their chunks get the structural checks only (a resume records
checksums of the files that pass them).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.base.errors import InputError, Problem, RunError
from sim.store.layout import MANIFEST, chunk_complete, read_table

CHUNK_FOLDERS = ("replications", "events", "timeseries", "failures")
"""Folders holding one file per chunk (``failures`` only for chunks with failed replications)."""
REQUIRED = ("replications", "events")
"""The files every finished chunk has."""
_HEX64 = re.compile(r"[0-9a-f]{64}")
_BLOCK = 1 << 20


class DamagedChunkError(Exception):
    """A chunk file that is missing, unreadable or not what the manifest recorded.

    Parameters
    ----------
    path:
        The file (or ``manifest.json`` when its record of the chunk is damaged).
    reason:
        What is wrong, e.g. ``checksum differs from manifest.json``.
    """

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def chunk_paths(run_dir: Path, name: str) -> dict[str, Path]:
    """Return the possible files of chunk ``name``, folder -> path (they need not exist)."""
    run_dir = Path(run_dir)
    return {
        folder: run_dir / folder / f"{name}{'.json' if folder == 'failures' else '.parquet'}"
        for folder in CHUNK_FOLDERS
    }


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file as 64 hex digits (read in 1 MB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def chunk_checksums(run_dir: Path, name: str) -> dict[str, str]:
    """Return the SHA-256 of every existing file of chunk ``name``, folder -> hex digest."""
    return {f: file_sha256(p) for f, p in chunk_paths(run_dir, name).items() if p.is_file()}


def recorded_checksums(run_dir: Path, name: str, entry: Any) -> dict[str, str] | None:
    """Return the checksums the manifest recorded for a chunk, or ``None`` when it has none.

    Raises
    ------
    DamagedChunkError
        When the record exists but is not a mapping of chunk folders to SHA-256 digests
        covering at least the replications and events files.
    """
    sums = entry.get("sha256") if isinstance(entry, dict) else None
    if sums is None:
        return None
    if not (
        isinstance(sums, dict)
        and all(k in sums for k in REQUIRED)
        and all(
            k in CHUNK_FOLDERS and isinstance(v, str) and _HEX64.fullmatch(v)
            for k, v in sums.items()
        )
    ):
        raise DamagedChunkError(Path(run_dir) / MANIFEST, f"chunks.{name}.sha256 is damaged")
    return sums


def verify_checksums(run_dir: Path, name: str, sums: dict[str, str]) -> None:
    """Check that chunk ``name`` has exactly the files ``sums`` records, with those checksums.

    Raises
    ------
    DamagedChunkError
        Naming the first file that is missing, changed, or present but not recorded.
    """
    for folder, path in chunk_paths(run_dir, name).items():
        want = sums.get(folder)
        if want is None:
            if path.exists():
                raise DamagedChunkError(path, "not recorded for this chunk in manifest.json")
            continue
        if not path.is_file():
            raise DamagedChunkError(path, "missing")
        try:
            got = file_sha256(path)
        except OSError as exc:
            raise DamagedChunkError(path, f"cannot be read ({exc.strerror})") from None
        if got != want:
            raise DamagedChunkError(
                path, "checksum differs from manifest.json (changed or damaged)"
            )


def _indices(path: Path) -> np.ndarray:
    """Return the ``replication`` column of a chunk's Parquet file."""
    import pyarrow.parquet as pq

    try:
        if pq.read_metadata(path).num_rows == 0:
            return np.zeros(0, dtype=np.int64)
        column = pq.read_table(path, columns=["replication"]).column(0)
        values = column.to_numpy()
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a damaged chunk
        raise DamagedChunkError(path, f"cannot be read as a chunk ({type(exc).__name__})") from None
    if values.dtype.kind not in "iu":
        raise DamagedChunkError(path, "its replication column is not an integer column")
    return values.astype(np.int64)


def _failure_indices(path: Path) -> list[int]:
    """Return the replication indices recorded in a chunk's failures file."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise DamagedChunkError(path, f"cannot be read ({type(exc).__name__})") from None
    if not isinstance(data, list) or not all(
        isinstance(d, dict) and type(d.get("replication")) is int for d in data
    ):
        raise DamagedChunkError(path, "not a list of failures with their replication index")
    return [d["replication"] for d in data]


def _span(values: list[int]) -> str:
    dup = sorted(k for k, c in Counter(values).items() if c > 1)
    if dup:
        return f"replication {dup[0]} {Counter(values)[dup[0]]} times"
    return f"replications {min(values)} to {max(values)} ({len(values)})" if values else "none"


def check_structure(
    run_dir: Path,
    name: str,
    start: int,
    stop: int,
    ok: int | None = None,
    failed: int | None = None,
) -> None:
    """Check that chunk ``name`` holds replications ``start .. stop - 1``, each exactly once.

    Each replication is a row of the replications file or an entry of the failures file;
    ``ok`` and ``failed`` (when known) are the counts the worker reported; every events and
    timeseries row belongs to a replication of the chunk. Only the ``replication`` columns are
    read: damage elsewhere is for the checksums to find.

    Raises
    ------
    DamagedChunkError
        Naming the file and what is wrong (missing, unreadable, duplicated, truncated, foreign
        replications).
    """
    paths = chunk_paths(run_dir, name)
    for folder in REQUIRED:
        if not paths[folder].is_file():
            raise DamagedChunkError(paths[folder], "missing")
    reps = _indices(paths["replications"]).tolist()
    fails = _failure_indices(paths["failures"]) if paths["failures"].exists() else []
    for count, want, path, what in (
        (len(reps), ok, paths["replications"], "rows"),
        (len(fails), failed, paths["failures"], "failed replications"),
    ):
        if want is not None and count != want:
            raise DamagedChunkError(path, f"{count} {what}, but the chunk reported {want}")
    got = sorted(reps + fails)
    if got != list(range(start, stop)):
        raise DamagedChunkError(
            paths["replications"],
            f"holds {_span(got)}, expected replications {start} to {stop - 1} once each",
        )
    kept = set(reps)
    for folder in ("events", "timeseries"):
        if paths[folder].is_file() and not set(_indices(paths[folder]).tolist()) <= kept:
            raise DamagedChunkError(paths[folder], "holds rows of replications not in this chunk")


def damaged_chunk_error(run_dir: Path, damage: DamagedChunkError, more: int = 0) -> InputError:
    """Return the error a reader gives for a damaged chunk (with how many more there are)."""
    extra = f" ({more} more damaged chunk{'s' if more > 1 else ''})" if more else ""
    return InputError(
        Problem(
            "",
            f"damaged chunk file: {damage.reason}{extra}; recompute it with "
            f"`corridor-sim resume {run_dir}`",
        ),
        str(damage.path),
    )


def read_verified_table(run_dir: Path, table: str, manifest: dict[str, Any]) -> pd.DataFrame:
    """Read all chunks of ``table`` (like :func:`sim.store.layout.read_table`), checking each file.

    A file must be a chunk the manifest planned and, when the manifest recorded its checksum,
    match it; the bytes that were checked are the bytes parsed.

    Raises
    ------
    InputError
        Naming the file, and suggesting ``corridor-sim resume DIR`` for a damaged chunk.
    """
    chunks = manifest.get("chunks", {})

    def check(path: Path, data: bytes) -> None:
        entry = chunks.get(path.stem)
        if not isinstance(entry, dict):
            raise InputError(
                Problem("", "not a chunk of this run (not in manifest.json); remove it"),
                str(path),
            )
        try:
            sums = recorded_checksums(run_dir, path.stem, entry)
            if sums is not None and hashlib.sha256(data).hexdigest() != sums.get(table):
                raise DamagedChunkError(
                    path, "checksum differs from manifest.json (changed or damaged)"
                )
        except DamagedChunkError as exc:
            raise damaged_chunk_error(run_dir, exc) from None

    return read_table(run_dir, table, check=check)


SHARED_FS_HINT = (
    "was the run directory changed during the run? With --executor dask, every worker must "
    "write to a file system this machine shares, at the same path (see README, Dask)"
)


def checked_chunk_sums(
    run_dir: Path, name: str, start: int, stop: int, ok: int | None, failed: int | None
) -> dict[str, str]:
    """Check a chunk a worker reported finished and return its checksums (for the manifest).

    Raises
    ------
    RunError
        When its files are missing (a worker that wrote elsewhere, a directory changed during
        the run) or do not hold what the worker reported.
    """
    try:
        check_structure(run_dir, name, start, stop, ok, failed)
        return chunk_checksums(run_dir, name)
    except DamagedChunkError as exc:
        raise RunError(
            f"chunk {name} was reported finished, but {exc.path}: {exc.reason}; {SHARED_FS_HINT}"
        ) from None


def check_all_chunks(run_dir: Path, manifest: dict[str, Any]) -> None:
    """Check, before a run is declared complete, that every chunk's files are there and intact.

    Raises
    ------
    RunError
        Naming the first chunk whose files are missing or differ from their checksums.
    """
    missing = [n for n in manifest["chunks"] if not chunk_complete(run_dir, n)]
    if missing:
        raise RunError(
            f"{len(missing)} finished chunk(s) are missing from {run_dir} (first: {missing[0]}); "
            f"{SHARED_FS_HINT}. Resume the run to compute them again"
        )
    for name, entry in manifest["chunks"].items():
        try:
            sums = recorded_checksums(run_dir, name, entry)
            if sums is None:
                raise DamagedChunkError(Path(run_dir) / MANIFEST, f"chunk {name} has no checksums")
            verify_checksums(run_dir, name, sums)
        except DamagedChunkError as exc:
            raise RunError(
                f"{exc.path}: {exc.reason}; {SHARED_FS_HINT}. Resume the run to compute "
                f"chunk {name} again"
            ) from None
