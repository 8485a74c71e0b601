"""Executors: one small interface over serial, multi-process and Dask execution.

An executor takes the chunk tasks of a run and yields their reports in completion order.
Results never depend on the executor: each chunk is a pure function of its task.

* ``serial`` runs chunks in this process (debugging, tiny runs).
* ``processes`` uses a spawn-based process pool (safe from notebooks, macOS and Windows). If a
  worker process dies, the pool is rebuilt and the unfinished chunks are submitted again. Worker
  processes ignore SIGINT: Ctrl-C reaches the whole process group, and only the coordinator
  decides how to stop (it terminates the workers; their unfinished chunks run again on resume).
* ``dask`` uses ``dask.distributed``: a scheduler address, or a ``LocalCluster`` when none is
  given. Dask retries tasks lost with a worker.

``close(cancel=True)`` stops at once (interrupts, errors): chunks in flight are abandoned, which
is safe because a chunk's files appear only complete (atomic rename, replications file last).

Every result that comes back from a worker passes a check (``check``, by default
:func:`sim.batch.worker.check_report`) before the coordinator uses it: anything but the exact
expected type and fields stops the run with a :class:`~sim.base.errors.RunError` naming the worker
and the chunk. Pool workers exit when the coordinator dies
(:func:`~sim.batch.worker.stop_with_parent`).
"""

from __future__ import annotations

import multiprocessing as mp

from sim.base.errors import InputError, Problem
from sim.batch.dask_executor import TLS_HINT, DaskExecutor
from sim.batch.executor_base import MAIN_GUARD_HINT, CheckFn, Executor, SerialExecutor, TaskFn
from sim.batch.options import EXECUTORS, check_option
from sim.batch.process_pool import MAX_POOL_RESTARTS, ProcessExecutor

__all__ = [
    "EXECUTORS",
    "MAIN_GUARD_HINT",
    "MAX_POOL_RESTARTS",
    "TLS_HINT",
    "CheckFn",
    "TaskFn",
    "DaskExecutor",
    "Executor",
    "ProcessExecutor",
    "SerialExecutor",
    "check_executor_options",
    "make_executor",
]


def _importing_main() -> bool:
    """Return True in a spawned child that is still importing the parent's main module."""
    # The flag multiprocessing itself checks before starting a process (spawn.py).
    return bool(getattr(mp.current_process(), "_inheriting", False))


def check_executor_options(executor: object, workers: int | None, scheduler: str | None) -> None:
    """Refuse executor options that would be ignored or cannot work.

    ``executor`` is a name or an open executor (which brings its own workers). A worker
    count is 1 to :data:`~sim.base.limits.MAX_WORKERS`; a scheduler address needs ``dask`` and
    brings its own workers. (``serial`` accepts and ignores a worker count, so that code can
    switch executors with one argument; its output and manifest say "1 (serial)".)

    Raises
    ------
    InputError
        Naming the option and why.
    RuntimeError
        When a spawned worker process, importing the main script again, would start a pool
        (the script lacks ``if __name__ == "__main__":``).
    """
    check_option("workers", workers)
    if not isinstance(executor, str):
        if workers is not None or scheduler is not None:
            option = "--workers" if workers is not None else "--scheduler"
            raise InputError(Problem(option, "not used with an open executor (it has its own)"))
        return
    if scheduler is not None and executor != "dask":
        raise InputError(
            Problem(
                "--scheduler",
                f"only used with --executor dask (the executor is {executor}); add "
                "--executor dask or leave --scheduler out",
            )
        )
    if scheduler is not None and workers is not None:
        raise InputError(
            Problem(
                "--workers",
                "the Dask cluster at --scheduler has its own workers; leave --workers out",
            )
        )
    if executor in ("processes", "dask") and _importing_main():
        raise RuntimeError(f"corridor-sim: {MAIN_GUARD_HINT}")


def make_executor(name: str, workers: int | None = None, scheduler: str | None = None) -> Executor:
    """Create the executor called ``name`` (``serial``, ``processes`` or ``dask``).

    Raises
    ------
    InputError
        For options that would be ignored (see :func:`check_executor_options`).
    """
    check_executor_options(name, workers, scheduler)
    if name == "serial":
        return SerialExecutor()
    if name == "processes":
        return ProcessExecutor(workers)
    if name == "dask":
        return DaskExecutor(scheduler, workers)
    raise ValueError(f"unknown executor '{name}' (expected serial, processes or dask)")
