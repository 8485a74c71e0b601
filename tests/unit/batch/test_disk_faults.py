"""Disk faults: a full disk or an unwritable directory stops a run with one clear message.

The run exits with code 3 and no traceback, chunks finished before the fault stay intact, the
manifest still matches the files, and ``resume`` (once there is space) completes the run with
exactly the results of an undisturbed one. Faults come from a real, tiny tmpfs when the tests
run as root (mounting is allowed), from read-only and not-a-directory paths, and from the
env-guarded hook of :mod:`sim.store.layout` (``CORRIDOR_SIM_TEST_FAIL_WRITES``) everywhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, SMALL_YAML
from fuzz_support import run_cli

import sim
from sim.base.errors import OutputError
from sim.store.layout import FAIL_WRITES_ENV, atomic_write_bytes, chunk_complete, chunk_files

N, CHUNK, SEED = 12, 2, 5
SETS = ["--set", "run.horizon_days=180"]


def _argv(out: Path, executor: str = "serial", timeseries: bool = False) -> list:
    argv = ["run", SMALL_YAML, *SETS, "-n", N, "--seed", SEED, "--chunk-size", CHUNK]
    argv += ["--executor", executor, "--workers", 2, "-q", "--out", out]
    return argv + (["--timeseries"] if timeseries else [])


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "run"
    assert run_cli(_argv(out))[0] == 0
    return out


def _digest(f: Path) -> str:
    return hashlib.sha256(f.read_bytes()).hexdigest()


def _check_stopped(out: Path, reference: Path | None, err: str, disk_full: bool = False) -> None:
    """One error line, a manifest matching the files, finished chunks identical.

    On a really full disk the last manifest update itself may not fit: the manifest then
    keeps its previous state (status ``running``), in which every chunk marked done is
    complete, and resume finds the chunks finished since from their files.
    """
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot write "), err
    assert "Traceback" not in err
    man = json.loads((out / "manifest.json").read_text())
    if disk_full and man["status"] == "running":
        for name, chunk in man["chunks"].items():
            assert chunk["status"] != "done" or chunk_complete(out, name)
    else:
        assert man["status"] == "failed" and "cannot write" in man["error"]
        for name, chunk in man["chunks"].items():
            assert (chunk["status"] == "done") == chunk_complete(out, name)
    if reference is not None:
        for f in chunk_files(out, "replications"):
            assert _digest(f) == _digest(reference / "replications" / f.name)
    assert not list(out.rglob(".*.tmp"))


def _check_resumed(out: Path, reference: Path) -> None:
    a, b = sim.load_run(out, finished=True), sim.load_run(reference, finished=True)
    pd.testing.assert_frame_equal(a.replications, b.replications, check_exact=True)
    pd.testing.assert_frame_equal(a.events, b.events, check_exact=True)
    assert sorted(f.name for f in chunk_files(out, "replications")) == sorted(
        f.name for f in chunk_files(reference, "replications")
    )


def test_atomic_write_turns_os_errors_into_one_error(tmp_path, monkeypatch):
    target = tmp_path / "x" / "file.bin"
    monkeypatch.setenv(FAIL_WRITES_ENV, "*/file.bin")
    with pytest.raises(OutputError, match="No space left on device") as info:
        atomic_write_bytes(target, b"data")
    assert info.value.errno == 28
    assert not target.exists() and list(target.parent.iterdir()) == []
    monkeypatch.delenv(FAIL_WRITES_ENV)
    atomic_write_bytes(target, b"data")
    assert target.read_bytes() == b"data"


def test_hook_is_inactive_without_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv(FAIL_WRITES_ENV, raising=False)
    atomic_write_bytes(tmp_path / "file.bin", b"ok")
    assert (tmp_path / "file.bin").read_bytes() == b"ok"


@pytest.mark.parametrize(
    "pattern",
    ["*/replications/chunk-000000006-*", "*/events/chunk-000000004-*", "*/manifest.json"],
    ids=["chunk", "events", "manifest"],
)
def test_disk_full_mid_run_stops_cleanly_and_resumes(tmp_path, reference, monkeypatch, pattern):
    out = tmp_path / "run"
    if pattern.endswith("manifest.json"):
        # The first manifest write must succeed (the run starts), a later one fails.
        real = atomic_write_bytes
        calls = {"n": 0}

        def flaky(path, data):
            if path.name == "manifest.json":
                calls["n"] += 1
                if calls["n"] == 4:
                    raise OutputError(str(path), "No space left on device", 28)
            return real(path, data)

        monkeypatch.setattr("sim.store.layout.atomic_write_bytes", flaky)
    else:
        monkeypatch.setenv(FAIL_WRITES_ENV, pattern)
    rc, stdout, err = run_cli(_argv(out))
    assert rc == 3, err
    _check_stopped(out, reference, err)
    monkeypatch.undo()
    rc, _, err = run_cli(["resume", out, "--executor", "serial", "-q"])
    assert rc == 0, err
    _check_resumed(out, reference)


def test_disk_full_before_the_run_starts_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(FAIL_WRITES_ENV, "*/manifest.json")
    out = tmp_path / "run"
    rc, stdout, err = run_cli(_argv(out))
    assert rc == 3 and stdout == "" and len(err.strip().splitlines()) == 1
    assert err.startswith(f"error: cannot write {out / 'manifest.json'}: No space left")
    assert not out.exists()


def test_disk_full_in_a_worker_process(tmp_path, reference):
    """The processes executor: the worker's error reaches the coordinator as one message."""
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT), FAIL_WRITES_ENV: "*/chunk-000000004-*"}
    argv = [sys.executable, "-m", "sim", *map(str, _argv(out, "processes"))]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 3, proc.stderr
    _check_stopped(out, reference, proc.stderr)
    env.pop(FAIL_WRITES_ENV)
    argv = [sys.executable, "-m", "sim", "resume", str(out), "--workers", "2", "-q"]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    _check_resumed(out, reference)


def test_out_below_a_file_fails_fast(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc, stdout, err = run_cli(_argv(blocker / "run"))
    assert rc == 3 and stdout == ""
    assert err.strip().splitlines() == [f"error: cannot write {blocker / 'run'}: Not a directory"]


def test_out_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    rc, _, err = run_cli(_argv(target))
    assert rc == 2 and "--out names a file" in err
    assert target.read_text() == "x"


# --------------------------------------------------------------------------- real file systems


def _mount_tmpfs(path: Path, options: str) -> bool:
    if os.geteuid() != 0 or sys.platform != "linux":
        return False
    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True
    )
    return proc.returncode == 0


@pytest.fixture
def tiny_disk(tmp_path):
    mnt = tmp_path / "disk"
    if not _mount_tmpfs(mnt, "size=300k"):
        pytest.skip("needs root and permission to mount a tmpfs")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.fixture
def read_only_disk(tmp_path):
    mnt = tmp_path / "ro"
    if not _mount_tmpfs(mnt, "size=64k,ro"):
        pytest.skip("needs root and permission to mount a tmpfs")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_real_full_disk_stops_cleanly_and_resumes_once_there_is_space(tmp_path, tiny_disk):
    ref = tmp_path / "ref"
    assert run_cli(_argv(ref, timeseries=True))[0] == 0
    out = tiny_disk / "run"
    rc, stdout, err = run_cli(_argv(out, timeseries=True))
    assert rc == 3, err
    assert "No space left on device" in err
    done = [f.name for f in chunk_files(out, "replications")]
    assert 0 < len(done) < N // CHUNK  # the disk filled mid-run
    _check_stopped(out, ref, err, disk_full=True)
    subprocess.run(["mount", "-o", "remount,size=8m", str(tiny_disk)], check=True)
    rc, _, err = run_cli(["resume", out, "--executor", "serial", "-q"])
    assert rc == 0, err
    _check_resumed(out, ref)
    a, b = sim.load_run(out).timeseries, sim.load_run(ref).timeseries
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_read_only_file_system_fails_fast(read_only_disk):
    out = read_only_disk / "run"
    rc, stdout, err = run_cli(_argv(out))
    assert rc == 3 and stdout == ""
    assert err.strip().splitlines() == [f"error: cannot write {out}: Read-only file system"]
    assert not out.exists()
