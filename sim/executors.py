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
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from sim.errors import InputError, Problem, RunError
from sim.worker import ChunkReport, ChunkTask, run_chunk

MAX_POOL_RESTARTS = 5
EXECUTORS = ("serial", "processes", "dask")

ChunkFn = Callable[[ChunkTask], ChunkReport]


class Executor(Protocol):
    """Runs chunk tasks and yields their reports as they finish."""

    name: str
    workers: int

    def run(self, tasks: Iterable[ChunkTask], fn: ChunkFn = run_chunk) -> Iterator[ChunkReport]:
        """Yield ``fn(task)`` for every task, in completion order."""
        ...

    def close(self, cancel: bool = False) -> None:
        """Release workers; with ``cancel``, stop at once and abandon chunks in flight."""
        ...


class SerialExecutor:
    """Run chunks one after another in this process."""

    name = "serial"
    workers = 1

    def run(self, tasks: Iterable[ChunkTask], fn: ChunkFn = run_chunk) -> Iterator[ChunkReport]:
        """Yield one report per task, in order."""
        for task in tasks:
            yield fn(task)

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

    def _new_pool(self) -> ProcessPoolExecutor:
        # One BLAS thread per worker (as Dask's nanny does): the workers already fill the
        # cores, and BLAS threads on top of them only compete. Spawned workers inherit this
        # environment; a value the user set is kept.
        for var in _BLAS_THREAD_VARS:
            os.environ.setdefault(var, "1")
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=mp.get_context("spawn"),
            initializer=_ignore_sigint,
        )

    def run(self, tasks: Iterable[ChunkTask], fn: ChunkFn = run_chunk) -> Iterator[ChunkReport]:
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
                    yield report
            if broken:
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
                raise InputError(
                    Problem("--scheduler", f"not a scheduler address ({exc})")
                ) from None
            except (OSError, TimeoutError) as exc:
                raise RunError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
            self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))

    def run(self, tasks: Iterable[ChunkTask], fn: ChunkFn = run_chunk) -> Iterator[ChunkReport]:
        """Yield reports as chunks finish (Dask reschedules chunks lost with a worker)."""
        from dask.distributed import KilledWorker, as_completed

        futures = self._client.map(fn, list(tasks), pure=False, retries=3)
        self._futures = futures
        for fut in as_completed(futures):
            try:
                report = fut.result()
            except KilledWorker as exc:
                raise RunError(
                    f"Dask workers kept dying while running a chunk ({exc}); finished chunks "
                    "are kept: resume the run once the cause is fixed"
                ) from None
            yield report

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


def _ignore_sigint() -> None:
    """Pool initializer: leave SIGINT (Ctrl-C on the process group) to the coordinator."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def make_executor(name: str, workers: int | None = None, scheduler: str | None = None) -> Executor:
    """Create the executor called ``name`` (``serial``, ``processes`` or ``dask``)."""
    if name == "serial":
        return SerialExecutor()
    if name == "processes":
        return ProcessExecutor(workers)
    if name == "dask":
        return DaskExecutor(scheduler, workers)
    raise ValueError(f"unknown executor '{name}' (expected serial, processes or dask)")
