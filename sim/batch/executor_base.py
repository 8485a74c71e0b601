"""The executor interface (:class:`Executor`) and the serial executor.

See :mod:`sim.batch.executors` for the executors and how a run chooses one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
"""A task: a chunk of replications (:class:`~sim.batch.worker.ChunkTask`), a knock-out, ..."""
R = TypeVar("R")
"""What a task gives back once checked (a chunk report, a knock-out's rows, ...)."""

TaskFn = Callable[[T], R]
"""``fn(task)``: the work, run in a worker (must be importable by name: it is pickled)."""
CheckFn = Callable[[Any, T, str], R]
"""``check(result, task, worker)``: return the result if it is what ``task`` should give, else
raise :class:`~sim.base.errors.RunError` naming ``worker`` and the task."""

MAIN_GUARD_HINT = (
    "a script that starts a run with worker processes must do so under "
    '`if __name__ == "__main__":` (worker processes are spawned and import the script '
    "again; see the README's Python example)"
)


class Executor(Protocol):
    """Runs tasks of any one type and yields their checked results as they finish.

    Generic over the task type: a batch run gives chunk tasks with
    :func:`~sim.batch.worker.run_chunk` and :func:`~sim.batch.worker.check_report`,
    criticality its knock-outs with their own function and check.
    """

    name: str
    workers: int

    def run(self, tasks: Iterable[T], *, fn: TaskFn[T, R], check: CheckFn[T, R]) -> Iterator[R]:
        """Yield ``check(fn(task), task, worker)`` for every task, in completion order."""
        ...

    def close(self, cancel: bool = False) -> None:
        """Release workers; with ``cancel``, stop at once and abandon chunks in flight."""
        ...


class SerialExecutor:
    """Run tasks one after another in this process."""

    name = "serial"
    workers = 1

    def run(self, tasks: Iterable[T], *, fn: TaskFn[T, R], check: CheckFn[T, R]) -> Iterator[R]:
        """Yield one checked result per task, in order."""
        for task in tasks:
            yield check(fn(task), task, "this process")

    def close(self, cancel: bool = False) -> None:
        """Nothing to release."""
