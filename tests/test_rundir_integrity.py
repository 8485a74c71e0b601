"""Regression tests for run-directory defects found by the fuzz tests (test_fuzz_cli.py)."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from conftest import SMALL_YAML
from fuzz_support import run_cli

import sim
from sim.rundir import CHUNK_CONFIG_KEY, CHUNK_SEED_KEY

CHUNK = "chunk-000000002-000000004"


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    cfg = sim.load_config(SMALL_YAML, ["run.horizon_days=60"])
    out = tmp_path_factory.mktemp("ref") / "run"
    return sim.run(cfg, replications=6, seed=9, executor="serial", out=out, chunk_size=2)


@pytest.fixture
def copy(reference, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(reference.path, out)
    return out


def _resume(run_dir):
    return run_cli(["resume", run_dir, "--executor", "serial", "-q"])


def test_chunks_carry_their_seed_and_config_hash(reference):
    import pyarrow.parquet as pq

    for table in ("replications", "events"):
        meta = pq.read_metadata(reference.path / table / f"{CHUNK}.parquet").metadata
        assert meta[CHUNK_SEED_KEY.encode()] == b"9"
        assert meta[CHUNK_CONFIG_KEY.encode()] == reference.manifest["config_hash"].encode()


def test_edited_manifest_seed_is_refused(copy):
    """Before: resume recomputed missing chunks with the edited seed and mixed two runs."""
    man = json.loads((copy / "manifest.json").read_text())
    man["seed"] = 0
    (copy / "manifest.json").write_text(json.dumps(man))
    (copy / "events" / f"{CHUNK}.parquet").unlink()
    rc, _, err = _resume(copy)
    assert rc == 2 and "computed with seed 9, but manifest.json says 0" in err


def test_chunk_without_events_is_computed_again(copy, reference):
    """Before: a chunk whose events file was lost counted as done; its events were gone."""
    (copy / "events" / f"{CHUNK}.parquet").unlink()
    rc, _, err = run_cli(["losses", copy])
    assert rc == 2 and "lack their files" in err
    assert _resume(copy)[0] == 0
    pd.testing.assert_frame_equal(sim.load_run(copy).events, reference.events, check_exact=True)


def test_foreign_chunk_is_refused(copy):
    """Before: losses crashed on duplicate replication indices."""
    shutil.copy(
        copy / "replications" / f"{CHUNK}.parquet",
        copy / "replications" / "chunk-000000010-000000012.parquet",
    )
    for argv in (["losses", copy], ["resume", copy, "--executor", "serial", "-q"]):
        rc, _, err = run_cli(argv)
        assert rc == 2 and "not a chunk of this run" in err


def test_damaged_chunk_is_refused(copy):
    path = copy / "replications" / f"{CHUNK}.parquet"
    path.write_bytes(path.read_bytes()[:50])
    rc, _, err = _resume(copy)
    assert rc == 2 and "damaged chunk file" in err and str(path) in err


def test_stale_temporary_files_are_removed_on_resume(copy):
    stale = copy / "replications" / f".{CHUNK}.parquet.abc123.tmp"
    stale.write_bytes(b"half a file")
    assert _resume(copy)[0] == 0
    assert not stale.exists()


def test_unfinished_run_is_not_summarised(copy):
    """Before: summary of a run without summary.json crashed with FileNotFoundError."""
    (copy / "summary.json").unlink()
    man = json.loads((copy / "manifest.json").read_text())
    man["status"] = "interrupted"
    (copy / "manifest.json").write_text(json.dumps(man))
    for command in ("summary", "losses", "plot", "report"):
        rc, _, err = run_cli([command, copy])
        assert rc == 2 and "did not finish" in err, (command, err)


def test_table_folder_that_is_a_file_is_refused(copy):
    """Before: resume failed with a traceback-free but misleading 'cannot write ... File exists'."""
    shutil.rmtree(copy / "events")
    (copy / "events").write_text("x")
    rc, _, err = _resume(copy)
    assert rc == 2 and "events: must be a directory inside the run directory" in err
