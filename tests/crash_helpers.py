"""Chunk functions that misbehave on purpose, importable by spawned worker processes."""

from __future__ import annotations

import os
from pathlib import Path

from sim.worker import ChunkReport, ChunkTask, run_chunk


def die_once(task: ChunkTask) -> ChunkReport:
    """Kill the worker process the first time chunk 0 runs, then behave normally."""
    marker = Path(task.out_dir) / f".died-{task.start}"
    if task.start == 0 and not marker.exists():
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        os._exit(3)
    return run_chunk(task)
