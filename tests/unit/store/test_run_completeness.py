"""A run is complete only with every chunk on disk; resumes of finished runs change nothing.

Regression tests of issue 16: a Dask run with a relative ``--out`` whose workers ran in another
working directory ended "complete" with 0 replications; deleting the run directory mid-run
reported success; resuming a finished ``--target-rel-ci`` run doubled it; ``run --resume``
without ``--out`` was silently a new run; ``sim.run()`` without ``out`` left temporary
directories behind.
"""

from __future__ import annotations

import gc
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from conftest import SMALL_YAML, small_config
from fuzz_support import run_cli

import sim
from sim.base.errors import RunError
from sim.batch.executors import SerialExecutor
from sim.batch.worker import run_chunk
from sim.store.layout import chunk_name

SEED = 5


@pytest.fixture(scope="module")
def cfg():
    return small_config(60.0)


@pytest.fixture(scope="module")
def reference(cfg, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "run"
    return sim.run(cfg, replications=6, seed=SEED, executor="serial", out=out, chunk_size=2)


class ElsewhereExecutor(SerialExecutor):
    """Runs each chunk in another working directory, as a worker on another machine does."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd

    def run(self, tasks, *, fn, check):
        for task in tasks:
            here = os.getcwd()
            os.chdir(self.cwd)
            try:
                report = fn(task)
            finally:
                os.chdir(here)
            yield report


def test_relative_out_reaches_workers_in_another_directory(cfg, reference, tmp_path, monkeypatch):
    """Before: the workers wrote to ELSEWHERE/rel and the run was 'complete' with 0 rows."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(tmp_path)
    res = sim.run(
        cfg,
        replications=6,
        seed=SEED,
        executor=ElsewhereExecutor(elsewhere),
        out="rel",
        chunk_size=2,
    )
    assert res.path == tmp_path / "rel"
    assert list(elsewhere.iterdir()) == []
    pd.testing.assert_frame_equal(res.replications, reference.replications, check_exact=True)


def test_dask_workers_in_another_directory_write_to_the_run_directory(
    cfg, reference, tmp_path, monkeypatch
):
    pytest.importorskip("dask.distributed")
    from sim.batch.executors import DaskExecutor

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(tmp_path)
    ex = DaskExecutor(workers=1)
    try:
        ex._client.run(os.chdir, str(elsewhere))  # the workers' working directory differs
        res = sim.run(cfg, replications=6, seed=SEED, executor=ex, out="rel", chunk_size=2)
    finally:
        ex.close()
    assert list(elsewhere.iterdir()) == []
    pd.testing.assert_frame_equal(res.replications, reference.replications, check_exact=True)


def test_chunk_written_where_the_coordinator_cannot_see_it_fails_the_run(cfg, tmp_path):
    """A worker whose file system is not shared: its chunk is missing, exit 3, never complete."""
    out, other = tmp_path / "run", tmp_path / "not-shared"

    def elsewhere(task):
        return run_chunk(type(task)(**{**task.__dict__, "out_dir": str(other)}))

    class NotShared(SerialExecutor):
        def run(self, tasks, *, fn, check):
            return super().run(tasks, fn=elsewhere, check=check)

    with pytest.raises(RunError) as err:
        sim.run(cfg, replications=4, seed=SEED, executor=NotShared(), out=out, chunk_size=2)
    first = chunk_name(0, 2)
    assert f"chunk {first} was reported finished" in err.value.message
    assert "shares" in err.value.message and err.value.exit_code == 3
    man = json.loads((out / "manifest.json").read_text())
    assert man["status"] == "failed" and first in man["error"]
    assert not (out / "summary.json").exists()


def _deleting_after_first_chunk(monkeypatch, remove):
    """Make the serial executor call ``remove(task)`` before its second chunk."""

    def run(self, tasks, *, fn, check):
        for i, task in enumerate(tasks):
            if i == 1:
                remove(task)
            yield fn(task)

    monkeypatch.setattr(SerialExecutor, "run", run)


@pytest.mark.parametrize("what", ["directory", "chunk"])
def test_run_directory_changed_mid_run_ends_with_exit_3(tmp_path, monkeypatch, what):
    """Before: deleting the run directory (or a chunk) mid-run ended 'complete', exit 0."""
    out = tmp_path / "run"
    first = chunk_name(0, 2)

    def remove(task):
        if what == "directory":
            shutil.rmtree(out)
        else:
            (out / "replications" / f"{first}.parquet").unlink()

    _deleting_after_first_chunk(monkeypatch, remove)
    argv = ["run", SMALL_YAML, "--set", "run.horizon_days=60", "-n", "6", "--chunk-size", "2"]
    rc, _, err = run_cli([*argv, "--executor", "serial", "-q", "--out", out])
    assert rc == 3 and err.startswith("error: ") and first in err, err
    man = json.loads((out / "manifest.json").read_text())
    assert man["status"] == "failed"
    assert not (out / "summary.json").exists()


# ------------------------------------------------------------ resuming finished runs (item 2)


def _state(run_dir: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(run_dir)): p.read_bytes()
        for p in sorted(run_dir.rglob("*"))
        if p.is_file() and p.name != ".corridor-sim.lock"
    }


def test_resuming_a_finished_target_run_changes_nothing(cfg, tmp_path):
    """Before: each resume of a finished --target-rel-ci run doubled it (580, 1160, 2320)."""
    out = tmp_path / "target"
    res = sim.run(cfg, replications=4, seed=SEED, executor="serial", out=out, target_rel_ci=0.5)
    n = res.manifest["replications"]
    assert n >= 8 and res.manifest["target_block"] == 4
    before = _state(out)
    for _ in range(2):
        rc, stdout, err = run_cli(["resume", out, "--executor", "serial", "-q"])
        assert rc == 0, err
        assert (
            stdout.strip()
            == f"{out}: the run is already complete ({n} replications); nothing to do"
        )
        assert _state(out) == before
    again = sim.run(cfg, seed=SEED, executor="serial", out=out, resume=True)
    assert again.unchanged and again.computed == 0 and _state(out) == before


def test_interrupted_target_run_resumes_with_its_block_size(cfg, tmp_path):
    """The block size is the run's first --replications, not the count reached so far."""
    full = sim.run(
        cfg, replications=4, seed=SEED, executor="serial", out=tmp_path / "a", target_rel_ci=0.5
    )
    out = shutil.copytree(full.path, tmp_path / "b")
    man = json.loads((out / "manifest.json").read_text())
    man["status"] = "interrupted"  # stopped after the last chunk, before the summary
    (out / "manifest.json").write_text(json.dumps(man))
    (out / "summary.json").unlink()
    last = max(man["chunks"])
    (out / "replications" / f"{last}.parquet").unlink()
    rc, stdout, err = run_cli(["resume", out, "--executor", "serial", "-q"])
    assert rc == 0, err
    resumed = sim.load_run(out, finished=True)
    assert resumed.manifest["replications"] == full.manifest["replications"]
    pd.testing.assert_frame_equal(resumed.replications, full.replications, check_exact=True)


def test_resume_with_another_target_or_block_is_refused(cfg, tmp_path):
    out = tmp_path / "t"
    sim.run(cfg, replications=4, seed=SEED, executor="serial", out=out, target_rel_ci=0.5)
    before = _state(out)
    with pytest.raises(sim.InputError, match="--target-rel-ci"):
        sim.run(cfg, seed=SEED, executor="serial", out=out, resume=True, target_rel_ci=0.1)
    with pytest.raises(sim.InputError, match="blocks of 4 replications"):
        sim.run(cfg, replications=8, seed=SEED, executor="serial", out=out, resume=True)
    assert _state(out) == before
    again = sim.run(cfg, replications=4, seed=SEED, executor="serial", out=out, resume=True)
    assert again.unchanged


# ---------------------------------------------------------------- what the CLI says (item 5)


def test_run_resume_without_out_is_an_error(tmp_path, monkeypatch):
    """Before: --resume without --out was ignored and a new run started in runs/."""
    monkeypatch.chdir(tmp_path)
    rc, _, err = run_cli(["run", SMALL_YAML, "--resume", "-n", "2", "--executor", "serial"])
    assert rc == 2 and err.startswith("error: --resume: needs --out DIR"), err
    assert list(tmp_path.iterdir()) == []


def test_resume_reports_the_rate_of_what_it_computed(reference, tmp_path):
    """Before: the rate divided all replications by the resume's wall time."""
    out = shutil.copytree(reference.path, tmp_path / "copy")
    (out / "replications" / f"{chunk_name(2, 4)}.parquet").unlink()
    rc, stdout, err = run_cli(["resume", out, "--executor", "serial", "-q"])
    assert rc == 0, err
    assert re.search(r"replications: 6 \(2 computed now\)", stdout), stdout
    timings = json.loads((out / "manifest.json").read_text())["timings"]
    assert timings["replications_last_session"] == 2
    assert timings["replications_per_second"] == pytest.approx(
        2 / timings["wall_seconds_last_session"]
    )


def test_target_run_reports_the_target_and_replications_used(tmp_path):
    out = tmp_path / "t"
    argv = ["run", SMALL_YAML, "--set", "run.horizon_days=60", "-n", "4", "--seed", str(SEED)]
    rc, stdout, err = run_cli(
        [*argv, "--target-rel-ci", "0.5", "--executor", "serial", "-q", "--out", out]
    )
    assert rc == 0, err
    man = json.loads((out / "manifest.json").read_text())
    line = next(s for s in stdout.splitlines() if s.startswith("target:"))
    assert "within 50.00% of the mean" in line
    assert ("reached" if man["target_reached"] else "NOT reached") in line
    assert line.endswith(f"with {man['replications']} replications")


# ------------------------------------------------------------------ temporary runs (item 6)


@pytest.fixture
def own_tmp(tmp_path, monkeypatch):
    """A temporary directory of this test alone (other processes may run at the same time)."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def _temp_runs() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("corridor-sim-*"))


def test_run_without_out_leaves_no_temporary_directory(cfg, own_tmp):
    """Before: every sim.run() without out= left a corridor-sim-* directory in /tmp."""
    before = _temp_runs()
    res = sim.run(cfg, replications=2, seed=SEED, executor="serial")
    path = res.path
    assert path in _temp_runs() - before
    assert len(res.replications) == 2 and len(res.ylt()) > 0  # usable while referenced
    del res
    gc.collect()
    assert not path.exists() and _temp_runs() == before == set()


def test_failed_run_without_out_leaves_no_temporary_directory(cfg, monkeypatch, own_tmp):
    def broken(self, tasks, *, fn, check):
        raise RuntimeError("executor broke")
        yield

    monkeypatch.setattr(SerialExecutor, "run", broken)
    before = _temp_runs()
    with pytest.raises(RuntimeError, match="executor broke"):
        sim.run(cfg, replications=2, seed=SEED, executor="serial")
    assert _temp_runs() == before == set()
