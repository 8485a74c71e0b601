"""Chunk functions that misbehave on purpose, importable by spawned worker processes."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from sim.batch.worker import ChunkReport, ChunkTask, run_chunk


def die_once(task: ChunkTask) -> ChunkReport:
    """Kill the worker process the first time chunk 0 runs, then behave normally."""
    marker = Path(task.out_dir) / f".died-{task.start}"
    if task.start == 0 and not marker.exists():
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        os._exit(3)
    return run_chunk(task)


class LookalikeReport(ChunkReport):
    """A subclass of the report: the coordinator must accept only the exact type."""


def foreign_report(task: ChunkTask) -> object:
    """Return something other than a chunk report (as a hostile or mismatched worker might)."""
    return {"start": task.start, "stop": task.stop, "n_ok": task.stop - task.start}


def lookalike_report(task: ChunkTask) -> ChunkReport:
    """Return a report subclass with the right fields."""
    return LookalikeReport(task.start, task.stop, task.stop - task.start, 0, 0.1)


def kill_self_once(task: tuple[str, int]) -> int:
    """Task ``(marker, k)``: SIGKILL this worker the first time task 0 runs; else return k."""
    marker, k = task
    if k == 0 and not os.path.exists(marker):
        Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return k
