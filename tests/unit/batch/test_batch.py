"""Batch runs: results independent of executor and chunking, safe run directories, resume."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL_YAML, small_config

import sim
from sim.cli.main import main

SEED = 3
N = 12


@pytest.fixture(scope="module")
def cfg():
    return small_config(120.0)


@pytest.fixture(scope="module")
def runs(cfg, tmp_path_factory):
    """The same 12 replications on two processes (chunks of 5) and serially (chunks of 4)."""
    root = tmp_path_factory.mktemp("batch")
    procs = sim.run(
        cfg,
        replications=N,
        seed=SEED,
        workers=2,
        executor="processes",
        out=root / "procs",
        chunk_size=5,
    )
    serial = sim.run(
        cfg, replications=N, seed=SEED, executor="serial", out=root / "serial", chunk_size=4
    )
    return procs, serial


def test_executor_and_chunking_do_not_change_results(runs):
    procs, serial = runs
    a, b = procs.replications, serial.replications
    assert list(a["replication"]) == list(range(N))
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    ev_a, ev_b = procs.events, serial.events
    assert len(ev_a) > 0
    pd.testing.assert_frame_equal(ev_a, ev_b, check_exact=True)
    assert sorted(p.name for p in (procs.path / "replications").iterdir()) == [
        "chunk-000000000-000000005.parquet",
        "chunk-000000005-000000010.parquet",
        "chunk-000000010-000000012.parquet",
    ]
    assert procs.manifest["status"] == "complete" and procs.n_failed == 0


def test_batch_rows_equal_single_replications(cfg, runs):
    _, serial = runs
    table = serial.replications
    model = sim.Model(cfg)
    for k in (0, 7, 11):
        row = model.simulate(seed=SEED, replication=k).row
        got = table.loc[table["replication"] == k].iloc[0]
        for key, value in row.items():
            assert got[key] == value, key


def test_replication_k_does_not_depend_on_run_size(cfg, runs, tmp_path):
    _, serial = runs
    short = sim.run(cfg, replications=4, seed=SEED, executor="serial", out=tmp_path / "four")
    pd.testing.assert_frame_equal(
        short.replications, serial.replications.iloc[:4].reset_index(drop=True), check_exact=True
    )
    ev = serial.events
    pd.testing.assert_frame_equal(
        short.events, ev[ev["replication"] < 4].reset_index(drop=True), check_exact=True
    )


def test_summary_json(runs):
    _, serial = runs
    summary = json.loads((serial.path / "summary.json").read_text())
    assert summary["replications"] == N
    assert summary["failed"] == 0 and summary["seed"] == SEED
    loss = serial.replications["revenue_loss_usd"].to_numpy()
    stats = summary["metrics"]["revenue_loss_usd"]
    assert stats["mean"] == pytest.approx(loss.mean(), rel=1e-12)
    assert stats["std"] == pytest.approx(loss.std(ddof=1), rel=1e-12)
    assert stats["n"] == N
    half = stats["ci95_half"]
    assert half == pytest.approx(1.959963984540054 * loss.std(ddof=1) / math.sqrt(N), rel=1e-9)
    assert "replication" not in summary["metrics"]
    assert serial.summary().loc["revenue_loss_usd", "mean"] == stats["mean"]


def test_load_run_reads_the_directory(runs, cfg):
    _, serial = runs
    loaded = sim.load_run(serial.path)
    pd.testing.assert_frame_equal(loaded.replications, serial.replications, check_exact=True)
    assert loaded.config == cfg
    assert loaded.manifest["seed"] == SEED and loaded.manifest["replications"] == N


def test_rerun_into_existing_dir_needs_resume(cfg, runs):
    _, serial = runs
    with pytest.raises(sim.InputError, match="already exists"):
        sim.run(cfg, replications=N, seed=SEED, executor="serial", out=serial.path, chunk_size=4)


def test_other_config_or_seed_into_existing_dir_is_refused(cfg, runs):
    _, serial = runs
    changed = cfg.model_copy(
        update={
            "pipelines": [
                cfg.pipelines[0].model_copy(update={"capacity_mt_per_year": 13.0}),
                *cfg.pipelines[1:],
            ]
        }
    )
    for kwargs in ({}, {"resume": True}):
        with pytest.raises(sim.InputError, match="different config"):
            sim.run(
                changed, replications=N, seed=SEED, executor="serial", out=serial.path, **kwargs
            )
        with pytest.raises(sim.InputError, match="seed"):
            sim.run(
                cfg, replications=N, seed=SEED + 1, executor="serial", out=serial.path, **kwargs
            )


def test_non_empty_foreign_dir_is_refused(cfg, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(sim.InputError, match="not empty"):
        sim.run(cfg, replications=2, seed=SEED, executor="serial", out=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def _copy_run(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_resume_recomputes_a_missing_chunk(cfg, runs, tmp_path):
    _, serial = runs
    out = _copy_run(serial.path, tmp_path / "copy")
    lost = out / "replications" / "chunk-000000004-000000008.parquet"
    kept = {p: p.stat().st_mtime_ns for p in (out / "replications").iterdir() if p != lost}
    lost.unlink()
    resumed = sim.run(
        cfg, replications=N, seed=SEED, executor="serial", out=out, chunk_size=4, resume=True
    )
    assert lost.is_file()
    pd.testing.assert_frame_equal(resumed.replications, serial.replications, check_exact=True)
    pd.testing.assert_frame_equal(resumed.events, serial.events, check_exact=True)
    # the chunks that were there are not recomputed
    assert {p: p.stat().st_mtime_ns for p in kept} == kept
    summary = json.loads((out / "summary.json").read_text())
    assert summary["replications"] == N


def test_cli_resume(runs, tmp_path, capsys):
    _, serial = runs
    out = _copy_run(serial.path, tmp_path / "copy")
    (out / "replications" / "chunk-000000000-000000004.parquet").unlink()
    assert main(["resume", str(out), "--executor", "serial", "-q"]) == 0
    capsys.readouterr()
    pd.testing.assert_frame_equal(
        sim.load_run(out).replications, serial.replications, check_exact=True
    )


def test_cli_run_matches_api(runs, tmp_path, capsys):
    _, serial = runs
    out = tmp_path / "cli"
    rc = main(
        [
            "run",
            str(SMALL_YAML),
            "--set",
            "run.horizon_days=120",
            "-n",
            str(N),
            "--seed",
            str(SEED),
            "--executor",
            "serial",
            "--chunk-size",
            "6",
            "--out",
            str(out),
            "-q",
        ]
    )
    capsys.readouterr()
    assert rc == 0
    pd.testing.assert_frame_equal(
        sim.load_run(out).replications, serial.replications, check_exact=True
    )


def test_replications_are_not_all_alike(runs):
    """Guard against the streams collapsing: different replications draw different events."""
    _, serial = runs
    table = serial.replications
    assert table["n_events"].nunique() > 1
    assert np.unique(table["revenue_loss_usd"]).size > 1


def test_resume_refuses_options_it_would_ignore(cfg, runs):
    serial = runs[1]
    man = json.loads((serial.path / "manifest.json").read_text())
    before = (serial.path / "manifest.json").read_bytes()
    for kwargs, option in (
        ({"chunk_size": man["chunk_size"] + 1}, "--chunk-size"),
        ({"replications": N + 1}, "--replications"),
    ):
        args = {"replications": N, "seed": SEED, "executor": "serial", "out": serial.path}
        with pytest.raises(sim.InputError, match=option):
            sim.run(cfg, **{**args, **kwargs, "resume": True})
    assert (serial.path / "manifest.json").read_bytes() == before
    # The run's own values (or none) are accepted.
    again = sim.run(
        cfg,
        replications=N,
        seed=SEED,
        executor="serial",
        out=serial.path,
        resume=True,
        chunk_size=man["chunk_size"],
    )
    pd.testing.assert_frame_equal(again.replications, serial.replications, check_exact=True)
