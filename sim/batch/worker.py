"""Work done inside a worker: simulate a range of replications and write its chunk files.

A task is a small, picklable descriptor (:class:`ChunkTask`). The worker builds the model from
the resolved config once per process (memoised by config hash) and writes its own Parquet
chunks, so only a short report travels back to the coordinator. An exception in one
replication is recorded with its index, seed and a traceback summary, and the chunk goes on.

A worker of the process pool never outlives the coordinator (:func:`stop_with_parent`): once
the coordinator is gone, its run-directory lock is released and another session may own the
directory, so an orphaned worker must not write another file.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from sim.base.columns import EVENT_COLUMNS, dtypes, family_dtype
from sim.base.errors import RunError
from sim.config.loader import validate_config
from sim.replication.runner import Model
from sim.store.layout import (
    CHUNK_CONFIG_KEY,
    CHUNK_SEED_KEY,
    atomic_write_json,
    atomic_write_table,
    chunk_name,
)
from sim.store.tables import table_from_arrays, table_from_rows

EVENT_NAMES = [c.name for c in EVENT_COLUMNS]
EVENT_DTYPES = dtypes(EVENT_COLUMNS)


@dataclass(frozen=True)
class ChunkTask:
    """Replications ``start`` .. ``stop - 1`` of a run, to be written under ``out_dir``."""

    config_json: str
    config_hash: str
    seed: int
    start: int
    stop: int
    out_dir: str
    timeseries: bool = False


@dataclass(frozen=True)
class ChunkReport:
    """What a finished chunk reports back."""

    start: int
    stop: int
    n_ok: int
    n_failed: int
    seconds: float


@lru_cache(maxsize=4)
def _model(config_hash: str, config_json: str) -> Model:
    import gc
    import json

    model = Model(validate_config(json.loads(config_json), "<resolved config>"))
    # Move the long-lived model out of the collector's sight: scanning it again and again
    # while replications allocate short-lived objects costs about a quarter of the run time.
    gc.collect()
    gc.freeze()
    return model


def run_chunk(task: ChunkTask) -> ChunkReport:
    """Simulate one chunk and write ``replications/``, ``events/`` (and ``timeseries/``) files."""
    t0 = time.perf_counter()
    model = _model(task.config_hash, task.config_json)
    rows, events, series, failures = [], [], [], []
    for k in range(task.start, task.stop):
        exit_if_orphaned()
        try:
            rep = model.simulate(seed=task.seed, replication=k, timeseries=task.timeseries)
        except Exception as exc:  # noqa: BLE001 - isolate one replication's failure
            failures.append(
                {
                    "replication": k,
                    "seed": task.seed,
                    "error": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(limit=6)[-4000:],
                }
            )
            continue
        rows.append(rep.row)
        events.extend(rep.event_rows)
        if task.timeseries and rep.daily is not None:
            n_days = len(next(iter(rep.daily.values()), ()))
            series.append({"replication": np.full(n_days, k, dtype=np.int64), **rep.daily})
    out = Path(task.out_dir)
    name = chunk_name(task.start, task.stop)
    meta = {CHUNK_SEED_KEY: str(task.seed), CHUNK_CONFIG_KEY: task.config_hash}
    exit_if_orphaned()
    # Tables built from the rows directly (sim.store.tables): no pandas in a worker.
    events_table = table_from_rows(events, EVENT_DTYPES.__getitem__, EVENT_NAMES)
    atomic_write_table(out / "events" / f"{name}.parquet", events_table, meta)
    if series:
        series_table = table_from_arrays(series)
        atomic_write_table(out / "timeseries" / f"{name}.parquet", series_table, meta)
    if failures:
        atomic_write_json(out / "failures" / f"{name}.json", failures)
    # The replications file is written last: its presence marks the chunk as complete.
    exit_if_orphaned()
    table = table_from_rows(rows, family_dtype)
    atomic_write_table(out / "replications" / f"{name}.parquet", table, meta)
    return ChunkReport(task.start, task.stop, len(rows), len(failures), time.perf_counter() - t0)


def check_report(report: object, task: ChunkTask, worker: str) -> ChunkReport:
    """Return ``report`` if it is exactly the :class:`ChunkReport` that ``task`` should give.

    Reports cross a process or network boundary, so the coordinator trusts nothing in them: the
    type must be ``ChunkReport`` itself (no subclass), the range that of the task, the counts
    non-negative integers adding up to the chunk's replications, and the time a finite
    non-negative float.

    Raises
    ------
    RunError
        Naming ``worker`` and the chunk, when anything else came back.
    """
    size = task.stop - task.start

    def count(v: object) -> bool:
        return type(v) is int and 0 <= v <= size

    ok = (
        type(report) is ChunkReport
        and type(report.start) is int
        and type(report.stop) is int
        and (report.start, report.stop) == (task.start, task.stop)
        and count(report.n_ok)
        and count(report.n_failed)
        and report.n_ok + report.n_failed == size
        and type(report.seconds) is float
        and math.isfinite(report.seconds)
        and report.seconds >= 0
    )
    if ok:
        return report  # type: ignore[return-value]
    what = type(report).__name__[:60]
    raise RunError(
        f"{worker} returned an unexpected result ({what}) for chunk "
        f"{chunk_name(task.start, task.stop)}; refusing it and stopping. Workers must run the "
        "same corridor-sim version as the coordinator, and only trusted machines may join the "
        "cluster (see docs/background/reliability.md, 'Clusters')"
    )


# --------------------------------------------------------------------------- orphaned workers

ORPHAN_EXIT_CODE = 70
"""Exit code of a pool worker that stops because its coordinator died."""

_PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>
_watching_parent = False


def stop_with_parent(kernel_signal: bool = True) -> None:
    """Make this worker process exit as soon as the process that started it dies.

    Called once in each worker of the process pool (its initializer). On Linux the kernel
    sends SIGKILL when the parent dies (``prctl(PR_SET_PDEATHSIG)``; ``kernel_signal=False``
    leaves it out, for tests of the rest); everywhere, a daemon thread waits on the parent's
    sentinel and exits the process, and :func:`exit_if_orphaned` is checked before every
    replication and before a chunk's files are written. Does nothing in a process not started
    by :mod:`multiprocessing`.
    """
    global _watching_parent
    parent = mp.parent_process()
    if parent is None:
        return
    _watching_parent = True
    if kernel_signal and sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # no libc prctl: the thread below still works
            pass
    exit_if_orphaned()  # the parent may have died before the signal was asked for
    threading.Thread(
        target=_exit_with, args=(parent,), name="corridor-sim-parent-watch", daemon=True
    ).start()


def _exit_with(parent: mp.process.BaseProcess) -> None:
    try:
        parent.join()  # returns when the parent's sentinel closes: the parent is gone
    except (OSError, ValueError):
        return
    os._exit(ORPHAN_EXIT_CODE)


def exit_if_orphaned() -> None:
    """Exit this pool worker at once, writing nothing more, if its coordinator has died."""
    if not _watching_parent:
        return
    parent = mp.parent_process()
    try:
        alive = parent is None or parent.is_alive()
    except (OSError, ValueError):
        alive = True
    if not alive:
        os._exit(ORPHAN_EXIT_CODE)
