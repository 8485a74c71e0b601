"""The chunk plan: equal chunks, or a tail that shrinks so parallel workers finish together."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from conftest import small_config
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.batch.executor_base import SerialExecutor
from sim.batch.options import chunk_taper, default_chunk_size, plan_chunks

SEED = 4
N = 400


@settings(max_examples=300, deadline=None)
@given(
    start=st.integers(0, 10_000),
    n=st.integers(1, 5_000),
    size=st.integers(1, 600),
    taper=st.integers(0, 8),
)
def test_plan_covers_the_range_once_in_order(start, n, size, taper):
    chunks = plan_chunks(start, start + n, size, taper)
    assert chunks[0][0] == start and chunks[-1][1] == start + n
    assert all(a < b for a, b in chunks)
    assert all(chunks[i][1] == chunks[i + 1][0] for i in range(len(chunks) - 1))
    assert all(b - a <= size for a, b in chunks)
    uniform = plan_chunks(start, start + n, size)
    # only the last ``taper`` equal chunks are cut again; the others stay as they were
    keep = max(len(uniform) - taper, 0)
    assert chunks[:keep] == uniform[:keep]
    assert plan_chunks(start, start + n, size, taper) == chunks  # a pure function


def test_plan_without_taper_is_equal_chunks():
    assert plan_chunks(0, 12, 5) == [(0, 5), (5, 10), (10, 12)]
    assert plan_chunks(0, 12, 5, 0) == plan_chunks(0, 12, 5)


def test_default_tail_shrinks_to_short_chunks():
    n, workers = 10_000, 2
    size = default_chunk_size(n, workers)
    sizes = [b - a for a, b in plan_chunks(0, n, size, chunk_taper(workers, False))]
    assert sizes[:18] == [500] * 18
    assert sizes[18:] == [250, 188, 141, 106, 79, 63, 63, 63, 47]  # each a quarter of the rest


def test_taper_only_for_parallel_runs_with_the_default_chunk_size():
    assert chunk_taper(2, False) == 2 and chunk_taper(8, False) == 8
    assert chunk_taper(1, False) == 0
    assert chunk_taper(2, True) == 0


class _TwoWorkerSerial(SerialExecutor):
    """The serial executor, claiming two workers: a run plans its chunks as for two."""

    workers = 2


@pytest.fixture(scope="module")
def cfg():
    return small_config(60.0)


@pytest.fixture(scope="module")
def tapered(cfg, tmp_path_factory):
    root = tmp_path_factory.mktemp("taper")
    ex = _TwoWorkerSerial()
    run = sim.run(cfg, replications=N, seed=SEED, executor=ex, out=root / "tapered")
    plain = sim.run(
        cfg, replications=N, seed=SEED, executor="serial", out=root / "plain", chunk_size=7
    )
    return run, plain


def test_tapered_run_gives_the_same_results(tapered):
    run, plain = tapered
    man = run.manifest
    assert (man["chunk_size"], man["chunk_taper"]) == (25, 2)
    sizes = sorted((c["start"], c["stop"] - c["start"]) for c in man["chunks"].values())
    assert [s for _, s in sizes][-6:] == [25, 13, 10, 10, 10, 7]
    pd.testing.assert_frame_equal(run.replications, plain.replications, check_exact=True)
    pd.testing.assert_frame_equal(run.events, plain.events, check_exact=True)
    assert run.summary().equals(plain.summary())


def test_resume_plans_the_recorded_taper(cfg, tapered, tmp_path):
    run, _ = tapered
    out = tmp_path / "copy"
    shutil.copytree(run.path, out)
    lost = out / "replications" / "chunk-000000373-000000383.parquet"
    lost.unlink()
    # one worker now: the plan is still the recorded one (chunk_taper 2)
    resumed = sim.run(cfg, replications=N, seed=SEED, executor="serial", out=out, resume=True)
    assert lost.is_file()
    assert set(resumed.manifest["chunks"]) == set(run.manifest["chunks"])
    pd.testing.assert_frame_equal(resumed.replications, run.replications, check_exact=True)


@pytest.mark.parametrize("bad", [-1, True, "2", 1.5, 10**6])
def test_damaged_taper_is_refused(tapered, tmp_path, bad):
    run, _ = tapered
    out = tmp_path / "copy"
    shutil.copytree(run.path, out)
    data = json.loads((out / "manifest.json").read_text())
    data["chunk_taper"] = bad
    (out / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(sim.InputError, match="chunk_taper"):
        sim.load_run(out)
