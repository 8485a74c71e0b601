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

import contextlib
import multiprocessing as mp
import os
import signal
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from sim.base.errors import InputError, Problem, RunError
from sim.base.limits import MAX_WORKERS
from sim.batch.spawning import spawn_context
from sim.batch.worker import ChunkReport, ChunkTask, check_report, run_chunk, stop_with_parent

MAX_POOL_RESTARTS = 5
EXECUTORS = ("serial", "processes", "dask")

ChunkFn = Callable[[ChunkTask], ChunkReport]
CheckFn = Callable[[Any, Any, str], Any]
"""``check(result, task, worker)``: return the result if it is what ``task`` should give, else
raise :class:`~sim.base.errors.RunError` naming ``worker`` and the task."""

TLS_HINT = (
    "a tls:// scheduler needs this client's certificate in Dask's configuration "
    "(distributed.comm.tls.ca-file, .client.cert and .client.key; see "
    "docs/background/reliability.md, 'Clusters')"
)

MAIN_GUARD_HINT = (
    "a script that starts a run with worker processes must do so under "
    '`if __name__ == "__main__":` (worker processes are spawned and import the script '
    "again; see the README's Python example)"
)


class Executor(Protocol):
    """Runs chunk tasks and yields their reports as they finish."""

    name: str
    workers: int

    def run(
        self, tasks: Iterable[ChunkTask], fn: ChunkFn = run_chunk, check: CheckFn = check_report
    ) -> Iterator[ChunkReport]:
        """Yield ``check(fn(task), task, worker)`` for every task, in completion order."""
        ...

    def close(self, cancel: bool = False) -> None:
        """Release workers; with ``cancel``, stop at once and abandon chunks in flight."""
        ...


class SerialExecutor:
    """Run chunks one after another in this process."""

    name = "serial"
    workers = 1

    def run(
        self, tasks: Iterable[ChunkTask], fn: ChunkFn = run_chunk, check: CheckFn = check_report
    ) -> Iterator[ChunkReport]:
        """Yield one report per task, in order."""
        for task in tasks:
            yield check(fn(task), task, "this process")

    def close(self, cancel: bool = False) -> None:
        """Nothing to release."""


class ProcessExecutor:
    """Run chunks in a pool of spawned worker processes.

    Parameters
    ----------
    workers:
        Number of processes (default: all cores).
    """

    name = "processes"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
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

    def run(
        self, tasks: Iterable[ChunkTask], fn: ChunkFn = run_chunk, check: CheckFn = check_report
    ) -> Iterator[ChunkReport]:
        """Yield reports as chunks finish; resubmit chunks lost with a dead worker."""
        pending = list(tasks)
        restarts = 0
        while pending:
            self._pool = self._pool or self._new_pool()
            futures: dict[Future, ChunkTask] = {}
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


class DaskExecutor:
    """Run chunks on a Dask cluster.

    Parameters
    ----------
    scheduler:
        Address such as ``tcp://10.0.0.5:8786``; ``None`` starts a ``LocalCluster``.
    workers:
        Workers of the local cluster (ignored with a scheduler address).
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError(
                "the dask executor needs dask.distributed: pip install 'corridor-sim[dask]'"
            ) from exc
        self._cluster = None
        self._futures: list = []
        if scheduler is None:
            self.workers = max(1, workers or os.cpu_count() or 1)
            self._cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=40,
            )
            self._client = Client(self._cluster)
        else:
            try:
                self._client = Client(scheduler, timeout=30)
            except (ValueError, TypeError) as exc:
                if scheduler.startswith("tls://"):
                    raise InputError(Problem("--scheduler", TLS_HINT)) from None
                raise InputError(
                    Problem("--scheduler", f"not a scheduler address ({exc})")
                ) from None
            except (OSError, TimeoutError) as exc:
                raise RunError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
            self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))

    def run(
        self, tasks: Iterable[ChunkTask], fn: ChunkFn = run_chunk, check: CheckFn = check_report
    ) -> Iterator[ChunkReport]:
        """Yield reports as chunks finish (Dask reschedules chunks lost with a worker)."""
        from dask.distributed import KilledWorker, as_completed

        tasks = list(tasks)
        futures = self._client.map(fn, tasks, pure=False, retries=3)
        self._futures = futures
        task_of = {fut.key: task for fut, task in zip(futures, tasks)}
        for fut in as_completed(futures):
            try:
                report = fut.result()
            except KilledWorker as exc:
                raise RunError(
                    f"Dask workers kept dying while running a chunk ({exc}); finished chunks "
                    "are kept: resume the run once the cause is fixed"
                ) from None
            yield check(report, task_of[fut.key], self._worker_of(fut))

    def _worker_of(self, fut: Any) -> str:
        """Name the worker holding a result (for error messages)."""
        try:
            where = self._client.who_has(fut).get(fut.key) or ()
        except Exception:  # noqa: BLE001 - a name for a message, never an error of its own
            where = ()
        return f"Dask worker {', '.join(map(str, where))}" if where else "a Dask worker"

    def close(self, cancel: bool = False) -> None:
        """Close the client and any local cluster (with ``cancel``, drop unfinished tasks)."""
        if cancel and self._futures:
            try:
                self._client.cancel(self._futures)
            except Exception:  # noqa: BLE001 - best effort while stopping
                pass
        self._futures = []
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


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
    if workers is not None and not 1 <= workers <= MAX_WORKERS:
        raise InputError(Problem("--workers", f"expected 1 to {MAX_WORKERS}, got {workers}"))
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
