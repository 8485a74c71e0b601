"""The ``processes`` executor: a pool of spawned worker processes that survives dying workers.

Worker processes ignore SIGINT: Ctrl-C reaches the whole process group, and only the
coordinator decides how to stop (it terminates the workers; their unfinished chunks run again
on resume). If a worker process dies, the pool is rebuilt and the unfinished chunks are
submitted again.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from sim.base.errors import RunError
from sim.batch.executor_base import MAIN_GUARD_HINT, CheckFn, R, T, TaskFn
from sim.batch.options import default_workers
from sim.batch.spawning import spawn_context
from sim.batch.worker import stop_with_parent

MAX_POOL_RESTARTS = 5


class ProcessExecutor:
    """Run chunks in a pool of spawned worker processes.

    Parameters
    ----------
    workers:
        Number of processes (default: all cores).
    """

    name = "processes"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = default_workers(workers)
        self._pool: ProcessPoolExecutor | None = None
        self._started: Any = None

    def _new_pool(self) -> ProcessPoolExecutor:
        # One BLAS thread per worker (as Dask's nanny does): the workers already fill the
        # cores, and BLAS threads on top of them only compete. Spawned workers inherit this
        # environment; a value the user set is kept.
        for var in _BLAS_THREAD_VARS:
            os.environ.setdefault(var, "1")
        ctx = spawn_context()
        self._started = ctx.RawValue("i", 0)  # set by the first worker that starts up
        pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(self._started,),
        )
        # Start every worker now, before any task exists. CPython 3.11+ starts spawn workers
        # one per submitted task instead, so a worker that died while the next was being
        # started broke the pool under that start: the new worker got a queue the pool had
        # just closed ("Bad file descriptor" traceback) and the run stopped as if workers
        # could not start. (``_launch_processes`` is what the pool itself calls for ``fork``.)
        launch = getattr(pool, "_launch_processes", None)
        if launch is not None and not getattr(pool, "_processes", None):
            with _sigint_blocked():
                launch()
        return pool

    def run(self, tasks: Iterable[T], *, fn: TaskFn[T, R], check: CheckFn[T, R]) -> Iterator[R]:
        """Yield reports as chunks finish; resubmit chunks lost with a dead worker."""
        pending = list(tasks)
        restarts = 0
        while pending:
            self._pool = self._pool or self._new_pool()
            futures: dict[Future, T] = {}
            queue = list(pending)
            # Keep a bounded number of tasks in flight so memory stays flat.
            limit = self.workers * 2
            broken = False
            while (queue or futures) and not broken:
                while queue and len(futures) < limit and not broken:
                    t = queue.pop(0)
                    try:
                        with _sigint_blocked():  # submit starts the worker processes
                            futures[self._pool.submit(fn, t)] = t
                    except BrokenProcessPool:  # a worker died since the last check
                        queue.insert(0, t)
                        broken = True
                if broken:
                    break
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                for f in done:
                    task = futures.pop(f)
                    try:
                        report = f.result()
                    except BrokenProcessPool:
                        broken = True
                        queue.insert(0, task)
                        continue
                    pending.remove(task)
                    yield check(report, task, "a worker process")
            if broken:
                if self._started is not None and not self._started.value:
                    _raise_if_start_up_failed(self._pool)
                restarts += 1
                if restarts > MAX_POOL_RESTARTS:
                    raise RunError(
                        f"worker processes died {restarts} times (out of memory? killed?); "
                        "giving up. Finished chunks are kept: resume the run once the cause "
                        "is fixed"
                    )
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None

    def close(self, cancel: bool = False) -> None:
        """Shut the pool down; with ``cancel``, terminate the workers instead of waiting."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if not cancel:
            pool.shutdown(wait=True, cancel_futures=True)
            return
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        for proc in procs:
            proc.join(timeout=10)


_BLAS_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextlib.contextmanager
def _sigint_blocked() -> Iterator[None]:
    """Block SIGINT in this thread for the block: processes started in it inherit the mask.

    A worker process is started with SIGINT blocked, so a Ctrl-C that reaches the process
    group while the worker's interpreter starts and imports (before :func:`_init_worker`
    ignores SIGINT) stays pending instead of ending it with a KeyboardInterrupt traceback.
    The coordinator gets a SIGINT that arrived meanwhile as soon as the block ends.
    """
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no process groups to signal
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _init_worker(started: Any) -> None:
    """Pool initializer: ignore SIGINT, exit when the coordinator dies, report the start-up.

    Ctrl-C reaches the whole process group; only the coordinator decides how to stop. The
    worker started with SIGINT blocked (:func:`_sigint_blocked`); once it is ignored, a SIGINT
    pending since then is dropped and the mask is lifted.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    stop_with_parent()
    started.value = 1


def _raise_if_start_up_failed(pool: ProcessPoolExecutor | None) -> None:
    """Explain a pool none of whose workers got through start-up.

    A worker killed by a signal (out of memory, ``kill -9``) has a negative exit code and is
    worth replacing; one that exits with a positive code before its initializer ran failed in
    Python while importing (most often: the main script, imported again by the spawned worker,
    started a run itself) and would fail the same way each time.
    """
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for proc in procs:
        proc.join(timeout=5)  # the pool's manager thread is ending them; wait for exit codes
    codes = sorted({p.exitcode for p in procs if p.exitcode is not None and p.exitcode > 0})
    if codes:
        raise RunError(
            f"worker processes failed while starting (exit code {', '.join(map(str, codes))}); "
            f"their error is shown above. Most often {MAIN_GUARD_HINT}"
        )
