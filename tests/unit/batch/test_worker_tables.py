"""A worker writes its chunks without pandas, byte for byte as the pandas route did."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pyarrow.parquet as pq
from conftest import KAZAKHSTAN_YAML, ROOT

from sim.base.columns import family_dtype
from sim.batch.worker import ChunkTask, _model, run_chunk
from sim.config import load_config
from sim.config.loader import config_hash
from sim.replication.runner import Model, events_frame
from sim.store.layout import CHUNK_CONFIG_KEY, CHUNK_SEED_KEY, atomic_write_parquet, read_table

SEED, START, STOP = 5, 3, 7


def old_chunk(model: Model, out, chash: str) -> None:
    """The chunk files as the worker wrote them with pandas (before sim.store.tables)."""
    rows, events, series = [], [], []
    for k in range(START, STOP):
        rep = model.simulate(seed=SEED, replication=k, timeseries=True)
        rows.append(rep.row)
        events.extend(rep.event_rows)
        ts = pd.DataFrame(rep.daily)
        ts.insert(0, "replication", k)
        series.append(ts)
    df = pd.DataFrame(rows)
    df = df.astype({c: family_dtype(c) for c in df.columns})
    meta = {CHUNK_SEED_KEY: str(SEED), CHUNK_CONFIG_KEY: chash}
    name = "chunk-000000003-000000007.parquet"
    atomic_write_parquet(out / "events" / name, events_frame(events), meta)
    atomic_write_parquet(out / "timeseries" / name, pd.concat(series), meta)
    atomic_write_parquet(out / "replications" / name, df, meta)


def test_chunk_files_are_those_of_the_pandas_route(tmp_path):
    cfg = load_config(KAZAKHSTAN_YAML)
    cfg_json = json.dumps(cfg.model_dump(mode="json"), sort_keys=True)
    chash = config_hash(cfg)
    task = ChunkTask(cfg_json, chash, SEED, START, STOP, str(tmp_path / "new"), timeseries=True)
    report = run_chunk(task)
    assert report.n_ok == STOP - START
    old_chunk(_model(chash, cfg_json), tmp_path / "old", chash)  # the worker's model
    for table in ("replications", "events", "timeseries"):
        new_file = tmp_path / "new" / table / "chunk-000000003-000000007.parquet"
        old_file = tmp_path / "old" / table / new_file.name
        assert pq.read_schema(new_file).metadata == pq.read_schema(old_file).metadata, table
        assert new_file.read_bytes() == old_file.read_bytes(), table
        new, old = read_table(tmp_path / "new", table), read_table(tmp_path / "old", table)
        pd.testing.assert_frame_equal(new, old, check_exact=True)
    assert len(read_table(tmp_path / "new", "events")) > 0  # strings and bools were written


def test_a_worker_imports_neither_pandas_nor_scipy(tmp_path):
    """A fresh process imports the worker and runs a chunk, files written: no pandas, no SciPy.

    (``pyarrow.array`` alone would import pandas: chunk tables are built from buffers.)
    """
    code = (
        "import json, sys\n"
        "from sim.batch.worker import ChunkTask, run_chunk\n"
        "from sim.config import load_config\n"
        "from sim.config.loader import config_hash\n"
        "cfg = load_config(sys.argv[1])\n"
        "cj = json.dumps(cfg.model_dump(mode='json'), sort_keys=True)\n"
        "run_chunk(ChunkTask(cj, config_hash(cfg), 1, 0, 2, sys.argv[2], timeseries=True))\n"
        "heavy = sorted(m for m in ('pandas', 'scipy', 'matplotlib') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(KAZAKHSTAN_YAML), str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )
    assert out.stdout.strip() == ""
    assert len(read_table(tmp_path, "events")) > 0  # strings and bools were written
    assert len(read_table(tmp_path, "timeseries")) > 0
