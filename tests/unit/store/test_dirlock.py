"""One session per run directory: a second one is refused, and a dead holder leaves no lock."""

from __future__ import annotations

import errno
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import small_config
from filelock import FileLock
from fuzz_support import run_cli

import sim
from sim.store.lock import LOCK, RunDirLock

ROOT = Path(__file__).resolve().parents[3]
SEED = 5
N = 4


@pytest.fixture(scope="module")
def cfg():
    return small_config(60.0)


def _run(cfg, out, **kwargs):
    return sim.run(cfg, replications=N, seed=SEED, executor="serial", out=out, **kwargs)


def test_second_session_on_a_new_directory_is_refused(cfg, tmp_path):
    out = tmp_path / "run"
    with RunDirLock(out):
        with pytest.raises(sim.InputError, match="another corridor-sim session"):
            _run(cfg, out)
        assert [p.name for p in out.iterdir()] == [LOCK]  # the refused session wrote nothing
    # The holder stopped without a run: the directory it created is gone again.
    assert not out.exists()
    assert _run(cfg, out).replications.shape[0] == N


def test_second_session_on_a_run_directory_is_refused_and_changes_nothing(cfg, tmp_path):
    out = tmp_path / "run"
    first = _run(cfg, out)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.name != LOCK}
    with RunDirLock(out):
        with pytest.raises(sim.InputError, match="another corridor-sim session"):
            _run(cfg, out, resume=True)
        rc, stdout, err = run_cli(["resume", out, "--executor", "serial", "-q"])
    assert rc == 2 and stdout == ""
    assert err.strip().splitlines() == [
        f"error: {out}: another corridor-sim session is using this run directory; wait for it "
        "to finish (or stop it) and try again"
    ]
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.name != LOCK} == before
    # The lock file stays in a run directory and readers ignore it.
    assert (out / LOCK).is_file()
    again = sim.load_run(out)
    pd.testing.assert_frame_equal(again.replications, first.replications, check_exact=True)
    assert _run(cfg, out, resume=True).replications.shape[0] == N  # free again


def test_a_killed_holder_leaves_no_lock(cfg, tmp_path):
    """The operating system drops the lock with its process, even on SIGKILL."""
    out = tmp_path / "run"
    holder = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from sim.store.lock import RunDirLock
        lock = RunDirLock(Path({str(out)!r})).acquire()
        print("held", flush=True)
        time.sleep(120)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(sim.InputError, match="another corridor-sim session"):
            _run(cfg, out)
    finally:
        proc.send_signal(signal.SIGKILL) if hasattr(signal, "SIGKILL") else proc.kill()
        proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while True:  # the kernel releases the lock when the process is reaped
        try:
            result = _run(cfg, out)
            break
        except sim.InputError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    assert result.replications.shape[0] == N


def test_a_file_system_without_locks_only_costs_the_guard(cfg, tmp_path, monkeypatch, caplog):
    def no_locks(self, *args, **kwargs):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(FileLock, "acquire", no_locks)
    with caplog.at_level(logging.WARNING, logger="corridor_sim"):
        result = _run(cfg, tmp_path / "run")
    assert result.replications.shape[0] == N
    assert "cannot lock" in caplog.text and "No locks available" in caplog.text
