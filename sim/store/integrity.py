"""Integrity of a run directory: its folders and chunk files are what its manifest planned.

Used before a session resumes a directory (damaged chunks are removed to be computed again)
and before a finished run is analysed (:func:`check_finished`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from sim.base.errors import InputError, OutputError, Problem
from sim.store.checks import (
    CHUNK_FOLDERS,
    DamagedChunkError,
    check_structure,
    chunk_checksums,
    chunk_paths,
    damaged_chunk_error,
    recorded_checksums,
    verify_checksums,
)
from sim.store.layout import (
    CHUNK_CONFIG_KEY,
    CHUNK_SEED_KEY,
    MANIFEST,
    TABLES,
    chunk_complete,
    data_chunk_files,
)
from sim.store.manifest import Manifest

log = logging.getLogger("corridor_sim")


def check_layout(out: Path) -> None:
    """Refuse a run directory whose table folders are files or symlinks (output stays in DIR)."""
    for name in (*TABLES, "failures"):
        sub = out / name
        if sub.is_symlink() or (sub.exists() and not sub.is_dir()):
            raise InputError(
                Problem("", "must be a directory inside the run directory (not a file or link)"),
                str(sub),
            )


def _planned(out: Path, manifest: Manifest) -> dict[str, tuple[int, int]]:
    """Return the chunks the manifest planned, name -> (start, stop)."""
    planned = {}
    for name, chunk in manifest.chunks.items():
        start = chunk.get("start") if isinstance(chunk, dict) else None
        stop = chunk.get("stop") if isinstance(chunk, dict) else None
        if not (isinstance(start, int) and isinstance(stop, int) and 0 <= start < stop):
            raise InputError(
                Problem(f"chunks.{name}", "damaged entry (expected start < stop)"),
                str(out / MANIFEST),
            )
        planned[name] = (start, stop)
    return planned


def check_chunks(out: Path, manifest: Manifest, repair: bool = False) -> list[str]:
    """Refuse a run directory whose chunk files are not (intact) chunks of this run.

    Every ``chunk-*`` file must be a chunk the manifest planned (a chunk's name is in the
    manifest before any worker writes it) and have the seed and config hash of the run. A
    finished chunk must match the checksums the manifest recorded for it (see
    :mod:`sim.store.checks`); one without them (a manifest written before checksums, or a chunk
    finished after the coordinator stopped) must pass the structural checks.

    With ``repair`` (a resume), a damaged chunk is not an error: a warning names it, its files
    are removed and its manifest entry is reset, so the session computes it again; a checked
    chunk without checksums gets them. Returns the names of the chunks removed.

    Raises
    ------
    InputError
        For a file that is not a chunk of this run, and (without ``repair``) for a damaged one,
        suggesting ``corridor-sim resume DIR``.
    """
    check_layout(out)
    planned = _planned(out, manifest)
    for folder in CHUNK_FOLDERS:
        pattern = "chunk-*.json" if folder == "failures" else "chunk-*.parquet"
        for f in sorted((out / folder).glob(pattern)) if (out / folder).is_dir() else []:
            if f.stem not in planned:
                raise InputError(
                    Problem("", "not a chunk of this run (not in manifest.json); remove it"),
                    str(f),
                )
            if not f.is_file():
                raise InputError(Problem("", "a chunk must be a regular file; remove it"), str(f))
    damaged: dict[str, DamagedChunkError] = {}
    for name, (start, stop) in planned.items():
        try:
            _check_chunk(out, manifest, name, start, stop, record=repair)
        except DamagedChunkError as exc:
            damaged[name] = exc
    if damaged and not repair:
        first = next(iter(damaged.values()))
        raise damaged_chunk_error(out, first, len(damaged) - 1)
    for name, exc in damaged.items():
        log.warning("%s: %s; computing %s again", exc.path, exc.reason, name)
        _remove_chunk(out, name)
        start, stop = planned[name]
        manifest.chunks[name] = {"start": start, "stop": stop, "status": "pending"}
    return list(damaged)


def _check_chunk(
    out: Path, manifest: Manifest, name: str, start: int, stop: int, record: bool
) -> None:
    """Check one planned chunk's files (see :func:`check_chunks`); raise DamagedChunkError."""
    import pyarrow.parquet as pq

    entry = manifest.chunks[name]
    sums = recorded_checksums(out, name, entry)
    complete = chunk_complete(out, name)
    if complete and sums is not None:
        verify_checksums(out, name, sums)
    paths = chunk_paths(out, name)
    for folder in TABLES:
        f = paths[folder]
        if not f.is_file():
            continue
        try:
            meta = pq.read_metadata(f)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is a damaged chunk
            reason = f"cannot be read as a chunk ({type(exc).__name__})"
            raise DamagedChunkError(f, reason) from None
        _check_origin(f, meta.metadata or {}, manifest)
    if complete and sums is None:
        counts = [entry.get(k) for k in ("ok", "failed")]
        ok, failed = (c if type(c) is int else None for c in counts)
        check_structure(out, name, start, stop, ok, failed)
        if record:
            entry["sha256"] = chunk_checksums(out, name)


def _remove_chunk(out: Path, name: str) -> None:
    """Delete a damaged chunk's files, the replications file (which marks it done) first."""
    for path in chunk_paths(out, name).values():
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise OutputError(str(path), exc.strerror or type(exc).__name__, exc.errno) from None


def _check_origin(f: Path, meta: dict[bytes, bytes], manifest: Manifest) -> None:
    """Refuse a chunk computed with another seed or config than the manifest names."""
    for key, want in (
        (CHUNK_SEED_KEY, manifest.seed),
        (CHUNK_CONFIG_KEY, manifest.config_hash),
    ):
        got = meta.get(key.encode())
        if got is not None and got.decode(errors="replace") != str(want):
            what = "seed" if key == CHUNK_SEED_KEY else "config hash"
            raise InputError(
                Problem(
                    "",
                    f"computed with {what} {got.decode(errors='replace')[:16]}, but "
                    f"manifest.json says {str(want)[:16]}: the run directory is inconsistent",
                ),
                str(f),
            )


def check_finished(out: Path, manifest: Manifest) -> None:
    """Refuse to analyse a run that did not finish or whose files are damaged.

    Raises
    ------
    InputError
        Saying what is wrong and that ``corridor-sim resume DIR`` completes the run.
    """
    status = manifest.status
    if status != "complete":
        raise InputError(
            Problem(
                "",
                f"the run did not finish (status: {status}); complete it with "
                f"`corridor-sim resume {out}`",
            ),
            str(out),
        )
    check_chunks(out, manifest)
    missing = [n for n in _planned(out, manifest) if not chunk_complete(out, n)]
    if missing:
        raise InputError(
            Problem(
                "",
                f"{len(missing)} chunk(s) lack their files (first: {missing[0]}); "
                f"recompute them with `corridor-sim resume {out}`",
            ),
            str(out),
        )
    if not data_chunk_files(out, "replications"):
        failed = manifest.failed if manifest.has("failed") else "all"
        raise InputError(
            Problem(
                "",
                f"every replication of this run failed ({failed} "
                f"failures, see {out / 'failures'}): there are no results to analyse",
            ),
            str(out),
        )
