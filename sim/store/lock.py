"""One batch session at a time per run directory.

A session (``corridor-sim run``, ``run --resume`` or ``resume``) holds an operating-system file
lock on ``DIR/.corridor-sim.lock`` from its first check of the directory to its last write. A
second session on the same directory stops at once with an input error instead of running the
same chunks again and racing the first for the manifest and the temporary files. The lock is
``filelock.FileLock`` (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows), so the
operating system releases it when the holding process ends in any way, ``kill -9`` included:
there is never a stale lock to clean up by hand. Where no lock can be taken at all (some network
file systems), a warning is logged and the session runs without this guard.

The lock file stays in a run directory after a session (deleting it could let two sessions hold
locks on different files); readers ignore it. A session that stops before its run starts (no
manifest) removes the lock file again, and the directory too if it created it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from filelock import FileLock, Timeout

from sim.base.errors import InputError, OutputError, Problem
from sim.store.layout import MANIFEST

log = logging.getLogger("corridor_sim")

LOCK = ".corridor-sim.lock"
"""Name of the lock file in a run directory."""


def check_out_path(out: Path) -> None:
    """Refuse an ``--out`` that names an existing file.

    Raises
    ------
    InputError
        When ``out`` exists and is not a directory.
    """
    if out.exists() and not out.is_dir():
        raise InputError(Problem("", "--out names a file, not a directory"), str(out))


class RunDirLock:
    """The lock of one run directory, held by one session.

    Parameters
    ----------
    out:
        The run directory (created if missing when the lock is taken).
    """

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self._existed = self.out.exists()
        self._lock: FileLock | None = None

    def acquire(self) -> RunDirLock:
        """Take the lock without waiting.

        A file system on which the lock cannot be taken at all (some network file systems)
        only costs the guard: a warning is logged and the session goes on unlocked.

        Raises
        ------
        InputError
            When another session holds the lock.
        OutputError
            When the directory cannot be created.
        """
        check_out_path(self.out)
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise OutputError(str(self.out), reason, exc.errno) from None
        lock = FileLock(self.out / LOCK)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise InputError(
                Problem(
                    "",
                    "another corridor-sim session is using this run directory; wait for it to "
                    "finish (or stop it) and try again",
                ),
                str(self.out),
            ) from None
        except OSError as exc:  # e.g. a network file system without working locks
            log.warning(
                "cannot lock %s (%s); running without the one-session-per-directory guard",
                self.out,
                exc.strerror or type(exc).__name__,
            )
            return self
        self._lock = lock
        return self

    def release(self) -> None:
        """Give the lock back; undo the lock file (and directory) of a run that never started."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        if (self.out / MANIFEST).exists():
            return
        try:  # best effort: the session never started, so leave the directory as it was
            (self.out / LOCK).unlink(missing_ok=True)
            if not self._existed and not any(self.out.iterdir()):
                self.out.rmdir()
        except OSError:
            pass

    def __enter__(self) -> RunDirLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
