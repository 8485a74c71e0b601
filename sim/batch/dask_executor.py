"""The ``dask`` executor: chunks on a ``dask.distributed`` cluster (Dask retries lost tasks)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sim.base.errors import InputError, Problem, RunError
from sim.batch.executor_base import CheckFn, R, T, TaskFn
from sim.batch.options import default_workers

TLS_HINT = (
    "a tls:// scheduler needs this client's certificate in Dask's configuration "
    "(distributed.comm.tls.ca-file, .client.cert and .client.key; see "
    "docs/background/reliability.md, 'Clusters')"
)


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
            self.workers = default_workers(workers)
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

    def run(self, tasks: Iterable[T], *, fn: TaskFn[T, R], check: CheckFn[T, R]) -> Iterator[R]:
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
