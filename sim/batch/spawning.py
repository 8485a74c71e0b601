"""A spawn start method whose workers exit quietly when the coordinator dies as they start.

A spawned worker's interpreter reads its start-up data (the parent's ``sys.path``, the
process object) from a pipe the coordinator writes just after starting it. If the
coordinator is killed in between (``kill -9``, the out-of-memory killer), the worker reads an
empty pipe and CPython prints an ``EOFError: Ran out of input`` traceback from
``multiprocessing.spawn`` on the terminal, long after the user's command has gone. The
workers of :func:`spawn_context` run the same start-up, and when it fails and their parent is
gone they exit without a word. With the parent alive, the error is raised as before: it is
real (most often a script without an ``if __name__ == "__main__":`` guard).

The boot program also gives each worker one BLAS/OpenMP thread (``OPENBLAS_NUM_THREADS``,
``OMP_NUM_THREADS``, ``MKL_NUM_THREADS`` = 1, unless the coordinator's environment sets them),
before the worker imports NumPy: the pool runs one worker per core, and the idle threads of
NumPy's OpenBLAS spin, adding 0.5-7% to a replication's instructions and competing with the
other workers for the cores. Results do not depend on the thread count (the LP products are
small). Dask's nannies set the same variables for their workers
(``distributed.nanny.pre-spawn-environ``). On Windows, where the stock start-up runs, workers keep
NumPy's default.

Only standard-library modules are imported here: a worker unpickles its process object, and
so imports this module, before it imports anything else of the package.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing import context, spawn
from typing import Any

PARENT_GONE_WAIT_S = 2.0
"""How long a worker whose start-up failed waits to see its parent go before it reports."""

ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
"""Environment variables a worker sets to 1 before anything imports NumPy (unless set)."""

_BOOT = """\
import os, sys, time
for name in {threads!r}:
    os.environ.setdefault(name, "1")
from multiprocessing.spawn import spawn_main
try:
    spawn_main({kwargs})
except Exception:
    deadline = time.monotonic() + {wait!r}
    while os.getppid() == {parent} and time.monotonic() < deadline:
        time.sleep(0.01)
    if os.getppid() == {parent}:
        raise
    sys.exit(1)
"""


def boot_program(parent: int, **kwds: Any) -> str:
    """Return the ``python -c`` program of a worker started by process ``parent``.

    ``kwds`` are the keyword arguments of :func:`multiprocessing.spawn.spawn_main` (integers
    only: file descriptors), as :func:`multiprocessing.spawn.get_command_line` gets them. The
    program first sets each variable of :data:`ONE_THREAD` that is not set to 1.
    """
    args = ", ".join(f"{key}={int(value)!r}" for key, value in kwds.items())
    return _BOOT.format(
        kwargs=args, wait=PARENT_GONE_WAIT_S, parent=int(parent), threads=ONE_THREAD
    )


@contextmanager
def _quiet_command_line() -> Iterator[None]:
    """Within the block, spawned interpreters run :func:`boot_program` instead of the stock one.

    Scoped to one ``Popen._launch`` call in this thread; the stock function is back after it.
    """
    stock = spawn.get_command_line

    def command_line(**kwds: Any) -> list[str]:
        cmd = list(stock(**kwds))
        if "-c" in cmd:  # not in a frozen executable, which has no program to replace
            cmd[cmd.index("-c") + 1] = boot_program(os.getpid(), **kwds)
        return cmd

    spawn.get_command_line = command_line  # type: ignore[assignment]
    try:
        yield
    finally:
        spawn.get_command_line = stock  # type: ignore[assignment]


if sys.platform != "win32":
    from multiprocessing import popen_spawn_posix

    class _QuietPopen(popen_spawn_posix.Popen):
        def _launch(self, process_obj: Any) -> None:
            with _quiet_command_line():
                super()._launch(process_obj)

    class QuietSpawnProcess(context.SpawnProcess):
        """A spawned process whose start-up is quiet once its parent is gone."""

        _start_method = "spawn"

        @staticmethod
        def _Popen(process_obj: Any) -> Any:  # noqa: N802 (the name multiprocessing calls)
            return _QuietPopen(process_obj)

    class QuietSpawnContext(context.SpawnContext):
        """The ``spawn`` context with :class:`QuietSpawnProcess` workers."""

        Process = QuietSpawnProcess  # type: ignore[assignment]


def spawn_context() -> Any:
    """Return the ``spawn`` multiprocessing context the worker pool uses.

    On Windows (no ``kill -9`` of a parent mid-start to hide) it is the stock one.
    """
    if sys.platform == "win32":
        return mp.get_context("spawn")
    return QuietSpawnContext()
