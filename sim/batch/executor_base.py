"""The executor interface (:class:`Executor`) and the serial executor.

See :mod:`sim.batch.executors` for the executors and how a run chooses one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from sim.batch.worker import ChunkReport, ChunkTask, check_report, run_chunk

ChunkFn = Callable[[ChunkTask], ChunkReport]
CheckFn = Callable[[Any, Any, str], Any]
"""``check(result, task, worker)``: return the result if it is what ``task`` should give, else
raise :class:`~sim.base.errors.RunError` naming ``worker`` and the task."""

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
