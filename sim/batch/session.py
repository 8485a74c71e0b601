"""A batch session on a run directory: checks before it starts, the manifest's life, clean stops.

Before a session: the options are within :mod:`sim.base.limits` (:mod:`sim.batch.options`),
and an existing directory is a run of the same config and seed whose folders and chunk files
are what this run wrote (:mod:`sim.store.integrity`). Opening a session writes the config and
the manifest (status ``running``) or leaves the directory as it was; stopping it (interrupt,
error) terminates the workers and leaves a manifest whose chunk statuses match the files on
disk.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from sim.base.errors import InputError, OutputError, Problem
from sim.base.interrupts import shielded
from sim.base.limits import MAX_REPLICATIONS
from sim.base.version import __version__
from sim.batch.executors import Executor, make_executor
from sim.batch.options import RunOptions, chunk_taper
from sim.config.loader import dump_config
from sim.config.models import Config
from sim.store.integrity import check_chunks
from sim.store.layout import (
    CONFIG,
    MANIFEST,
    SUMMARY,
    atomic_write_bytes,
    chunk_complete,
    remove_stale_temp_files,
    summary_intact,
)
from sim.store.lock import LOCK, check_out_path
from sim.store.manifest import Manifest

log = logging.getLogger("corridor_sim")


def prepare_dir(out: Path, chash: str, seed: int, resume: bool) -> Manifest | None:
    """Check an existing run directory; return its manifest when resuming.

    ``chash`` is the hash of the run's config. A resume removes damaged chunks (with a
    warning) so they are computed again, see :func:`sim.store.integrity.check_chunks`.
    """
    check_out_path(out)
    if (out / MANIFEST).is_file():
        man = Manifest.load(out)
        _check_same_run(out, man, chash, seed)
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
        if (out / SUMMARY).is_file() and not summary_intact(out, man.data):
            log.warning(
                "%s: damaged (its SHA-256 differs from manifest.json); writing it again",
                out / SUMMARY,
            )
            (out / SUMMARY).unlink()
        return man
    if out.exists() and any(p.name != LOCK for p in out.iterdir()):
        raise InputError(Problem("", "output directory exists and is not empty"), str(out))
    return None


def _check_same_run(out: Path, man: Manifest, chash: str, seed: int) -> None:
    """Refuse a run directory of another config or seed."""
    if man.config_hash != chash:
        raise InputError(
            Problem(
                "",
                "run directory holds a run of a different config "
                "(config hash differs); choose another --out",
            ),
            str(out),
        )
    if man.seed != seed:
        raise InputError(
            Problem("", f"run directory was run with seed {man.seed}, not {seed}"),
            str(out),
        )


def is_complete(out: Path, manifest: Manifest) -> bool:
    """Return True for a finished run with every chunk in place (after a resume's checks)."""
    return (
        manifest.status == "complete"
        and (out / SUMMARY).is_file()
        and summary_intact(out, manifest.data)
        and all(chunk_complete(out, name) for name in manifest.chunks)
    )


def block_size(out: Path, manifest: Manifest) -> int:
    """Return the block size of a sequential (``--target-rel-ci``) run being resumed.

    Older manifests have no ``target_block``; their ``replications`` is the block size until
    the run completes.
    """
    block = manifest.target_block if manifest.has("target_block") else manifest.replications
    if type(block) is not int or not 1 <= block <= MAX_REPLICATIONS:
        raise InputError(
            Problem("target_block", f"{block!r} is not a replication count (damaged)"),
            str(out / MANIFEST),
        )
    return block


def check_resume_options(manifest: Manifest, options: RunOptions) -> None:
    """Refuse a resume whose options differ from the run it finishes (they would be ignored).

    ``replications``, ``chunk_size`` and ``target_rel_ci`` of ``options`` are the values the
    user gave (``None`` when not given). A run with a target CI grows by blocks:
    ``replications`` is compared with its block size.

    Raises
    ------
    InputError
        Naming the option, the run's value and what to do instead.
    """
    replications, target = options.replications, options.target_rel_ci
    if options.chunk_size is not None and options.chunk_size != manifest.chunk_size:
        raise InputError(
            Problem(
                "--chunk-size",
                f"this run directory is chunked by {manifest.chunk_size} and a resume keeps "
                "its chunks (results do not depend on them); leave --chunk-size out",
            )
        )
    if (
        replications is not None
        and manifest.target_rel_ci is None
        and replications != manifest.replications
    ):
        raise InputError(
            Problem(
                "--replications",
                f"this run directory holds a run of {manifest.replications} replications and "
                "a resume finishes it as started; leave --replications out, or choose another "
                f"--out for {replications}",
            )
        )
    block = manifest.target_block  # the block size of a --target-rel-ci run
    if replications is not None and block is not None and replications != block:
        raise InputError(
            Problem(
                "--replications",
                f"this run directory grows by blocks of {block} replications and a resume "
                "keeps them; leave --replications out",
            )
        )
    if target is not None and target != manifest.target_rel_ci:
        raise InputError(
            Problem(
                "--target-rel-ci",
                f"this run directory was run with --target-rel-ci "
                f"{manifest.target_rel_ci} and a resume finishes it as started; leave "
                "--target-rel-ci out, or choose another --out",
            )
        )


def open_session(
    out_dir: Path,
    cfg: Config,
    chash: str,
    manifest: Manifest | None,
    plan: tuple[RunOptions, int, int, float | None],
    size_for: Callable[[int, int], int],
) -> tuple[Executor, Manifest]:
    """Start the executor and write the manifest; return ``(executor, manifest)``.

    ``plan`` is ``(options, replications, root seed, target_rel_ci)`` of the session;
    ``size_for(replications, workers)`` gives the chunk size of a new run without one.

    A new directory gets its config first (an unwritable ``--out`` fails here, before any
    worker starts). If anything stops the session before its manifest is written, what it
    created is removed again, so the directory is either a run directory or untouched.
    """
    options, n, root, target_rel_ci = plan
    created = manifest is None
    existed = out_dir.exists()
    ex = None
    try:
        if created:
            atomic_write_bytes(out_dir / CONFIG, dump_config(cfg).encode())
        else:
            remove_stale_temp_files(out_dir)
        ex = (
            make_executor(options.executor, options.workers, options.scheduler)
            if options.owns_executor
            else options.executor
        )
        if manifest is None:
            manifest = Manifest.new(
                version=__version__,
                config_name=cfg.name,
                config_hash=chash,
                seed=root,
                replications=n,
                chunk_size=options.chunk_size or size_for(n, ex.workers),
                chunk_taper=chunk_taper(ex.workers, options.chunk_size is not None),
                executor=ex.name,
                workers=ex.workers,
                target_rel_ci=target_rel_ci,
            )
        manifest.status = "running"
        manifest.drop("error")
        manifest.save(out_dir)
    except BaseException:
        with shielded():
            if ex is not None and options.owns_executor:
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


def reconcile(out_dir: Path, manifest: Manifest) -> None:
    """Set every chunk's status from the files on disk (``done`` iff its files exist)."""
    for name, chunk in manifest.chunks.items():
        if chunk_complete(out_dir, name):
            chunk["status"] = "done"
        elif chunk.get("status") == "done":
            chunk["status"] = "pending"


def stop_session(
    ex: Executor,
    out_dir: Path,
    manifest: Manifest,
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
            manifest.status = status
            if error:
                manifest.error = error
            try:
                manifest.save(out_dir)
            except OutputError:  # e.g. the disk is full: the previous manifest stays valid
                pass
