"""A batch session on a run directory: checks before it starts, the manifest's life, clean stops.

Before a session: the options are within :mod:`sim.base.limits`, and an existing directory is a run
of the same config and seed whose folders and chunk files are what this run wrote. Opening a
session writes the config and the manifest (status ``running``) or leaves the directory as it
was; stopping it (interrupt, error) terminates the workers and leaves a manifest whose chunk
statuses match the files on disk.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim import __version__
from sim.base.errors import InputError, OutputError, Problem
from sim.base.interrupts import shielded
from sim.base.limits import MAX_CHUNK_SIZE, MAX_REPLICATIONS, MAX_WORKERS
from sim.batch.executors import EXECUTORS, Executor, make_executor
from sim.config.loader import config_hash, dump_config
from sim.config.models import Config
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
    CONFIG,
    MANIFEST,
    SUMMARY,
    TABLES,
    atomic_write_bytes,
    atomic_write_json,
    chunk_complete,
    data_chunk_files,
    host_info,
    read_manifest,
    remove_stale_temp_files,
    summary_intact,
)
from sim.store.lock import LOCK, check_out_path

log = logging.getLogger("corridor_sim")


def check_run_options(
    replications: int,
    chunk_size: int | None,
    workers: int | None,
    executor: str,
    target_rel_ci: float | None,
) -> None:
    """Refuse option values that would run nothing, run forever or be silently replaced.

    Raises
    ------
    InputError
        Naming the option, the value and the accepted range.
    """

    def bad(option: str, message: str) -> InputError:
        return InputError(Problem(option, message))

    if not 1 <= replications <= MAX_REPLICATIONS:
        raise bad("--replications", f"expected 1 to {MAX_REPLICATIONS}, got {replications}")
    if chunk_size is not None and not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise bad("--chunk-size", f"expected 1 to {MAX_CHUNK_SIZE}, got {chunk_size}")
    if workers is not None and not 1 <= workers <= MAX_WORKERS:
        raise bad("--workers", f"expected 1 to {MAX_WORKERS}, got {workers}")
    if executor not in EXECUTORS:
        raise bad("--executor", f"expected one of {', '.join(EXECUTORS)}, got {executor!r}")
    if target_rel_ci is not None and not (math.isfinite(target_rel_ci) and 0 < target_rel_ci <= 1):
        raise bad(
            "--target-rel-ci",
            f"expected a share of the mean in (0, 1], e.g. 0.02, got {target_rel_ci}",
        )


def check_layout(out: Path) -> None:
    """Refuse a run directory whose table folders are files or symlinks (output stays in DIR)."""
    for name in (*TABLES, "failures"):
        sub = out / name
        if sub.is_symlink() or (sub.exists() and not sub.is_dir()):
            raise InputError(
                Problem("", "must be a directory inside the run directory (not a file or link)"),
                str(sub),
            )


def _planned(out: Path, manifest: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """Return the chunks the manifest planned, name -> (start, stop)."""
    planned = {}
    for name, chunk in manifest["chunks"].items():
        start = chunk.get("start") if isinstance(chunk, dict) else None
        stop = chunk.get("stop") if isinstance(chunk, dict) else None
        if not (isinstance(start, int) and isinstance(stop, int) and 0 <= start < stop):
            raise InputError(
                Problem(f"chunks.{name}", "damaged entry (expected start < stop)"),
                str(out / MANIFEST),
            )
        planned[name] = (start, stop)
    return planned


def check_chunks(out: Path, manifest: dict[str, Any], repair: bool = False) -> list[str]:
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
        manifest["chunks"][name] = {"start": start, "stop": stop, "status": "pending"}
    return list(damaged)


def _check_chunk(
    out: Path, manifest: dict[str, Any], name: str, start: int, stop: int, record: bool
) -> None:
    """Check one planned chunk's files (see :func:`check_chunks`); raise DamagedChunkError."""
    import pyarrow.parquet as pq

    entry = manifest["chunks"][name]
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


def _check_origin(f: Path, meta: dict[bytes, bytes], manifest: dict[str, Any]) -> None:
    """Refuse a chunk computed with another seed or config than the manifest names."""
    for key, want in (
        (CHUNK_SEED_KEY, manifest["seed"]),
        (CHUNK_CONFIG_KEY, manifest["config_hash"]),
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


def check_finished(out: Path, manifest: dict[str, Any]) -> None:
    """Refuse to analyse a run that did not finish or whose files are damaged.

    Raises
    ------
    InputError
        Saying what is wrong and that ``corridor-sim resume DIR`` completes the run.
    """
    status = manifest.get("status")
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
        raise InputError(
            Problem(
                "",
                f"every replication of this run failed ({manifest.get('failed', 'all')} "
                f"failures, see {out / 'failures'}): there are no results to analyse",
            ),
            str(out),
        )


def prepare_dir(out: Path, cfg: Config, seed: int, resume: bool) -> dict[str, Any] | None:
    """Check an existing run directory; return its manifest when resuming.

    A resume removes damaged chunks (with a warning) so they are computed again, see
    :func:`check_chunks`.
    """
    check_out_path(out)
    if (out / MANIFEST).is_file():
        man = read_manifest(out)
        if man.get("config_hash") != config_hash(cfg):
            raise InputError(
                Problem(
                    "",
                    "run directory holds a run of a different config "
                    "(config hash differs); choose another --out",
                ),
                str(out),
            )
        if man.get("seed") != seed:
            raise InputError(
                Problem("", f"run directory was run with seed {man.get('seed')}, not {seed}"),
                str(out),
            )
        if not resume:
            raise InputError(
                Problem(
                    "",
                    "run directory already exists; use `corridor-sim resume "
                    "DIR` or --resume to finish it",
                ),
                str(out),
            )
        check_chunks(out, man, repair=True)
        if (out / SUMMARY).is_file() and not summary_intact(out, man):
            log.warning(
                "%s: damaged (its SHA-256 differs from manifest.json); writing it again",
                out / SUMMARY,
            )
            (out / SUMMARY).unlink()
        return man
    if out.exists() and any(p.name != LOCK for p in out.iterdir()):
        raise InputError(Problem("", "output directory exists and is not empty"), str(out))
    return None


def is_complete(out: Path, manifest: dict[str, Any]) -> bool:
    """Return True for a finished run with every chunk in place (after a resume's checks)."""
    return (
        manifest.get("status") == "complete"
        and (out / SUMMARY).is_file()
        and summary_intact(out, manifest)
        and all(chunk_complete(out, name) for name in manifest["chunks"])
    )


def block_size(out: Path, manifest: dict[str, Any]) -> int:
    """Return the block size of a sequential (``--target-rel-ci``) run being resumed.

    Older manifests have no ``target_block``; their ``replications`` is the block size until
    the run completes.
    """
    block = manifest.get("target_block", manifest["replications"])
    if type(block) is not int or not 1 <= block <= MAX_REPLICATIONS:
        raise InputError(
            Problem("target_block", f"{block!r} is not a replication count (damaged)"),
            str(out / MANIFEST),
        )
    return block


def check_resume_options(
    manifest: dict[str, Any],
    replications: int | None,
    chunk_size: int | None,
    target_rel_ci: float | None = None,
) -> None:
    """Refuse a resume whose options differ from the run it finishes (they would be ignored).

    ``replications``, ``chunk_size`` and ``target_rel_ci`` are the values the user gave
    (``None`` when not given). A run with a target CI grows by blocks: ``replications`` is
    compared with its block size.

    Raises
    ------
    InputError
        Naming the option, the run's value and what to do instead.
    """
    if chunk_size is not None and chunk_size != manifest["chunk_size"]:
        raise InputError(
            Problem(
                "--chunk-size",
                f"this run directory is chunked by {manifest['chunk_size']} and a resume keeps "
                "its chunks (results do not depend on them); leave --chunk-size out",
            )
        )
    if (
        replications is not None
        and manifest.get("target_rel_ci") is None
        and replications != manifest["replications"]
    ):
        raise InputError(
            Problem(
                "--replications",
                f"this run directory holds a run of {manifest['replications']} replications and "
                "a resume finishes it as started; leave --replications out, or choose another "
                f"--out for {replications}",
            )
        )
    block = manifest.get("target_block")  # the block size of a --target-rel-ci run
    if replications is not None and block is not None and replications != block:
        raise InputError(
            Problem(
                "--replications",
                f"this run directory grows by blocks of {block} replications and a resume "
                "keeps them; leave --replications out",
            )
        )
    if target_rel_ci is not None and target_rel_ci != manifest.get("target_rel_ci"):
        raise InputError(
            Problem(
                "--target-rel-ci",
                f"this run directory was run with --target-rel-ci "
                f"{manifest.get('target_rel_ci')} and a resume finishes it as started; leave "
                "--target-rel-ci out, or choose another --out",
            )
        )


def open_session(
    out_dir: Path,
    cfg: Config,
    manifest: dict[str, Any] | None,
    executor: str | Executor,
    workers: int | None,
    scheduler: str | None,
    n: int,
    chunk_size: int | None,
    root: int,
    target_rel_ci: float | None,
    size_for: Callable[[int, int], int],
) -> tuple[Executor, dict[str, Any]]:
    """Start the executor and write the manifest; return ``(executor, manifest)``.

    ``size_for(replications, workers)`` gives the chunk size of a new run without one.

    A new directory gets its config first (an unwritable ``--out`` fails here, before any
    worker starts). If anything stops the session before its manifest is written, what it
    created is removed again, so the directory is either a run directory or untouched.
    """
    created = manifest is None
    existed = out_dir.exists()
    ex = None
    try:
        if created:
            atomic_write_bytes(out_dir / CONFIG, dump_config(cfg).encode())
        else:
            remove_stale_temp_files(out_dir)
        ex = make_executor(executor, workers, scheduler) if isinstance(executor, str) else executor
        if manifest is None:
            manifest = {
                "format": 1,
                "package_version": __version__,
                "config_name": cfg.name,
                "config_hash": config_hash(cfg),
                "seed": root,
                "replications": n,
                "chunk_size": chunk_size or size_for(n, ex.workers),
                "chunks": {},
                "executor": ex.name,
                "workers": ex.workers,
                "target_rel_ci": target_rel_ci,
                **({"target_block": n} if target_rel_ci is not None else {}),
                "host": host_info(),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "timings": {},
            }
        manifest["status"] = "running"
        manifest.pop("error", None)
        atomic_write_json(out_dir / MANIFEST, manifest)
    except BaseException:
        with shielded():
            if ex is not None and isinstance(executor, str):
                ex.close(cancel=True)
            if created:
                _remove_new_dir(out_dir, existed)
        raise
    return ex, manifest


def _remove_new_dir(out_dir: Path, existed: bool) -> None:
    """Best-effort removal of what a session that never started created."""
    try:
        (out_dir / CONFIG).unlink(missing_ok=True)
        (out_dir / MANIFEST).unlink(missing_ok=True)
        if not existed and out_dir.is_dir() and not any(out_dir.iterdir()):
            out_dir.rmdir()
    except OSError:
        pass


def reconcile(out_dir: Path, manifest: dict[str, Any]) -> None:
    """Set every chunk's status from the files on disk (``done`` iff its files exist)."""
    for name, chunk in manifest["chunks"].items():
        if chunk_complete(out_dir, name):
            chunk["status"] = "done"
        elif chunk.get("status") == "done":
            chunk["status"] = "pending"


def stop_session(
    ex: Executor,
    out_dir: Path,
    manifest: dict[str, Any],
    status: str,
    error: str | None,
    owned: bool = True,
) -> None:
    """Release the workers and leave a manifest that matches the chunk files on disk.

    Runs while an exception propagates, shielded from further SIGINT/SIGTERM; a failure to
    write the manifest here (the disk may be the reason the run stopped) leaves the previous,
    still consistent, manifest in place. An executor the caller passed in (``owned`` false) is
    left open for the caller to close.
    """
    with shielded():
        try:
            if owned:
                ex.close(cancel=True)
                remove_stale_temp_files(out_dir)  # the writers were just terminated
        finally:
            reconcile(out_dir, manifest)
            manifest["status"] = status
            if error:
                manifest["error"] = error
            try:
                atomic_write_json(out_dir / MANIFEST, manifest)
            except OutputError:  # e.g. the disk is full: the previous manifest stays valid
                pass
