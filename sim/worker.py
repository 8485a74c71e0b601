"""Work done inside a worker: simulate a range of replications and write its chunk files.

A task is a small, picklable descriptor (:class:`ChunkTask`). The worker builds the model from
the resolved config once per process (memoised by config hash) and writes its own Parquet
chunks, so only a short report travels back to the coordinator. An exception in one
replication is recorded with its index, seed and a traceback summary, and the chunk goes on.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from sim.columns import family_dtype
from sim.config.loader import validate_config
from sim.rundir import (
    CHUNK_CONFIG_KEY,
    CHUNK_SEED_KEY,
    atomic_write_json,
    atomic_write_parquet,
    chunk_name,
)
from sim.runner import Model, events_frame


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
            ts = pd.DataFrame(rep.daily)
            ts.insert(0, "replication", k)
            series.append(ts)
    out = Path(task.out_dir)
    name = chunk_name(task.start, task.stop)
    df = pd.DataFrame(rows)
    if len(df):
        df = df.astype({c: family_dtype(c) for c in df.columns})
    meta = {CHUNK_SEED_KEY: str(task.seed), CHUNK_CONFIG_KEY: task.config_hash}
    atomic_write_parquet(out / "events" / f"{name}.parquet", events_frame(events), meta)
    if series:
        atomic_write_parquet(out / "timeseries" / f"{name}.parquet", pd.concat(series), meta)
    if failures:
        atomic_write_json(out / "failures" / f"{name}.json", failures)
    # The replications file is written last: its presence marks the chunk as complete.
    atomic_write_parquet(out / "replications" / f"{name}.parquet", df, meta)
    return ChunkReport(task.start, task.stop, len(rows), len(failures), time.perf_counter() - t0)
