"""Executors: identical results everywhere, dead workers replaced, failures isolated."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pandas as pd
import pytest
from conftest import ROOT, SMALL_YAML, small_config
from crash_helpers import (
    LookalikeReport,
    die_once,
    foreign_report,
    kill_self_once,
    lookalike_report,
)

import sim
from sim.api import run
from sim.base.errors import RunError
from sim.batch.executors import DaskExecutor, ProcessExecutor, SerialExecutor
from sim.batch.worker import ChunkReport, ChunkTask, check_report, run_chunk
from sim.store.layout import read_table


@pytest.fixture(scope="module")
def cfg():
    return small_config(120.0)


def _tasks(cfg, out, n=6, size=2):
    cfg_json = json.dumps(cfg.model_dump(mode="json"), sort_keys=True)
    return [ChunkTask(cfg_json, "h", 11, a, min(a + size, n), str(out)) for a in range(0, n, size)]


def _collect(executor, tasks, fn=None):
    try:
        reports = list(executor.run(tasks, fn=fn or run_chunk, check=check_report))
    finally:
        executor.close()
    return sorted((r.start, r.stop, r.n_ok) for r in reports)


def test_dead_worker_is_replaced_and_chunk_retried(cfg, tmp_path):
    serial_dir, proc_dir = tmp_path / "serial", tmp_path / "proc"
    expected = _collect(SerialExecutor(), _tasks(cfg, serial_dir))
    got = _collect(ProcessExecutor(2), _tasks(cfg, proc_dir), fn=die_once)
    assert got == expected
    assert (proc_dir / ".died-0").exists()  # the crash really happened
    pd.testing.assert_frame_equal(read_table(serial_dir), read_table(proc_dir))


def test_a_worker_dying_while_another_starts_is_replaced(tmp_path, monkeypatch, capfd):
    """Before: the pool started its workers one per submitted task, so a worker that died
    while the next one was being started broke the pool under the start: the new worker got a
    closed queue ('OSError: Bad file descriptor' traceback) and the run stopped with 'worker
    processes failed while starting' (found by scripts/hostile_campaign.py). The start of the
    second worker is delayed here until the first has died."""
    import multiprocessing.util as mp_util

    real = mp_util.spawnv_passfds
    started = []

    def slow_second_worker(path, args, passfds):
        if any(b"spawn_main" in os.fsencode(a) for a in args):
            started.append(1)
            if len(started) == 2:
                time.sleep(4)  # the first worker imports, takes task 0 and dies meanwhile
        return real(path, args, passfds)

    monkeypatch.setattr(mp_util, "spawnv_passfds", slow_second_worker)
    tasks = [(str(tmp_path / "died"), k) for k in range(6)]
    ex = ProcessExecutor(2)
    try:
        got = sorted(ex.run(tasks, fn=kill_self_once, check=lambda r, t, w: r))
    finally:
        ex.close()
    assert got == list(range(6))
    assert (tmp_path / "died").exists()  # the worker really died
    err = capfd.readouterr().err
    assert "Traceback" not in err, err


def test_dask_local_cluster_matches_serial(cfg, tmp_path):
    pytest.importorskip("dask.distributed")
    a = run(cfg, replications=6, seed=5, executor="serial", out=tmp_path / "a", chunk_size=4)
    b = run(
        cfg, replications=6, seed=5, executor="dask", workers=2, out=tmp_path / "b", chunk_size=2
    )
    pd.testing.assert_frame_equal(a.replications, b.replications)
    pd.testing.assert_frame_equal(a.events, b.events)


def test_dask_survives_a_dying_worker(cfg, tmp_path):
    pytest.importorskip("dask.distributed")
    serial_dir, dask_dir = tmp_path / "serial", tmp_path / "dask"
    expected = _collect(SerialExecutor(), _tasks(cfg, serial_dir))
    got = _collect(DaskExecutor(workers=2), _tasks(cfg, dask_dir), fn=die_once)
    assert got == expected
    assert (dask_dir / ".died-0").exists()
    pd.testing.assert_frame_equal(read_table(serial_dir), read_table(dask_dir))


def test_failed_replication_is_recorded_and_batch_goes_on(cfg, tmp_path, monkeypatch):
    original = sim.Model.simulate

    def flaky(self, seed=None, replication=0, timeseries=None):
        if replication == 3:
            raise ValueError("boom")
        return original(self, seed=seed, replication=replication, timeseries=timeseries)

    monkeypatch.setattr(sim.Model, "simulate", flaky)
    res = run(cfg, replications=6, seed=5, executor="serial", out=tmp_path / "r", chunk_size=2)
    assert res.n_failed == 1
    assert sorted(res.replications["replication"]) == [0, 1, 2, 4, 5]
    failures = json.loads(
        (tmp_path / "r" / "failures" / "chunk-000000002-000000004.json").read_text()
    )
    assert failures[0]["replication"] == 3 and failures[0]["seed"] == 5
    assert "ValueError: boom" in failures[0]["error"]
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["failed"] == 1


def test_cli_exit_code_is_one_when_replications_fail(tmp_path, monkeypatch):
    from sim.cli.main import main

    def broken(self, seed=None, replication=0, timeseries=None):
        raise RuntimeError("always")

    monkeypatch.setattr(sim.Model, "simulate", broken)
    rc = main(
        [
            "run",
            "tests/data/small.yaml",
            "-n",
            "2",
            "--executor",
            "serial",
            "-q",
            "--out",
            str(tmp_path / "x"),
        ]
    )
    assert rc == 1


def test_seed_random_is_drawn_and_recorded(cfg, tmp_path):
    res = run(cfg, replications=2, seed="random", executor="serial", out=tmp_path / "r")
    seed = res.manifest["seed"]
    assert isinstance(seed, int) and 0 <= seed < 2**63
    again = run(cfg, replications=2, seed=seed, executor="serial", out=tmp_path / "r2")
    pd.testing.assert_frame_equal(res.replications, again.replications)


def test_target_rel_ci_stops_and_records(cfg, tmp_path):
    res = run(cfg, replications=8, seed=5, executor="serial", out=tmp_path / "t", target_rel_ci=0.5)
    man = res.manifest
    n = man["replications"]
    assert n % 8 == 0 and n >= 16
    assert len(res.replications) == n
    from sim.analysis.stats import relative_ci_half_width

    rel = relative_ci_half_width(res.replications["revenue_loss_usd"].to_numpy())
    assert rel == pytest.approx(man["target_rel_ci_achieved"])
    assert man["target_reached"] == (rel <= 0.5)


def test_pool_broken_while_submitting_is_rebuilt(cfg, tmp_path, monkeypatch):
    """A worker that dies between two submissions breaks submit() itself (found by the
    worker-kill trials of test_interrupts.py): the pool is rebuilt and every chunk runs."""
    from concurrent.futures.process import BrokenProcessPool

    executor = ProcessExecutor(2)
    real_new_pool = executor._new_pool
    broken_once = {"done": False}

    class FlakyPool:
        def __init__(self, pool):
            self._pool = pool

        def submit(self, fn, task):
            if not broken_once["done"] and task.start == 2:
                broken_once["done"] = True
                raise BrokenProcessPool("a worker died")
            return self._pool.submit(fn, task)

        def shutdown(self, *args, **kwargs):
            return self._pool.shutdown(*args, **kwargs)

    monkeypatch.setattr(executor, "_new_pool", lambda: FlakyPool(real_new_pool()))
    serial_dir, proc_dir = tmp_path / "serial", tmp_path / "proc"
    expected = _collect(SerialExecutor(), _tasks(cfg, serial_dir))
    assert _collect(executor, _tasks(cfg, proc_dir)) == expected
    assert broken_once["done"]
    pd.testing.assert_frame_equal(read_table(serial_dir), read_table(proc_dir))


# --------------------------------------------------------------------------- reports from workers

TASK = ChunkTask("{}", "h", 1, 0, 2, "/nowhere")


@pytest.mark.parametrize(
    "report",
    [
        {"start": 0, "stop": 2, "n_ok": 2, "n_failed": 0, "seconds": 0.1},
        (0, 2, 2, 0, 0.1),
        None,
        LookalikeReport(0, 2, 2, 0, 0.1),
        ChunkReport(2, 4, 2, 0, 0.1),
        ChunkReport(0, 2, 3, 0, 0.1),
        ChunkReport(0, 2, 1, 0, 0.1),
        ChunkReport(0, 2, True, 1, 0.1),
        ChunkReport(0, 2, 2.0, 0, 0.1),
        ChunkReport(0, 2, -1, 3, 0.1),
        ChunkReport(0, 2, 2, 0, float("nan")),
        ChunkReport(0, 2, 2, 0, -1.0),
        ChunkReport(0, 2, 2, 0, "0.1"),
    ],
    ids=lambda r: type(r).__name__ if not isinstance(r, ChunkReport) else repr(r)[11:],
)
def test_a_result_that_is_not_exactly_a_chunk_report_is_refused(report):
    with pytest.raises(RunError, match=r"worker 7 returned an unexpected result .* chunk-0+-0+2;"):
        check_report(report, TASK, "worker 7")


def test_the_expected_report_passes():
    good = ChunkReport(0, 2, 1, 1, 0.25)
    assert check_report(good, TASK, "worker 7") is good


@pytest.mark.parametrize("fn", [foreign_report, lookalike_report])
def test_process_pool_refuses_a_foreign_result(cfg, tmp_path, fn):
    """Before: whatever a worker returned was used as the chunk's report."""
    with pytest.raises(RunError, match=r"a worker process returned an unexpected result"):
        _collect(ProcessExecutor(1), _tasks(cfg, tmp_path, n=2), fn=fn)


def test_dask_refuses_a_foreign_result_naming_the_worker(cfg, tmp_path):
    pytest.importorskip("dask.distributed")
    match = r"Dask worker tcp://[\d.:]+ returned an unexpected result \(dict\) for chunk chunk-"
    with pytest.raises(RunError, match=match):
        _collect(DaskExecutor(workers=1), _tasks(cfg, tmp_path, n=2), fn=foreign_report)


def test_criticality_rows_are_checked():
    from sim.studies.knockouts import KnockoutTask, check_rows

    task = KnockoutTask("{}", "pipe", ("pipe",), "2026-01-01", 30.0, 1, (0,))
    row = {
        "asset": "pipe",
        "start": "2026-01-01",
        "replication": 0,
        "duration_days": 30.0,
        "repair_hazard": "fixed",
        **dict.fromkeys(("shut_in_mt", "revenue_loss_usd", "deferred_mt", "exported_mt"), 1.0),
    }
    assert check_rows([row], task, "w") == [row]
    for bad in ([], [row, row], [{**row, "replication": 1}], [{**row, "x": 1}], ([row],)):
        with pytest.raises(RunError, match="knock-out of 'pipe'"):
            check_rows(bad, task, "w")


# --------------------------------------------------------------------------- the main-script guard

UNGUARDED = """
import sim
cfg = sim.load_config({config!r}, ["run.horizon_days=30"])
res = sim.run(cfg, replications=4, seed=42, workers=2, out={out!r})
print("rows", len(res.replications))
"""


@pytest.mark.parametrize("guarded", [False, True])
def test_a_script_without_the_main_guard_is_told_why(tmp_path, guarded):
    """The README's snippet saved as a script: without the guard the run stopped with 'worker
    processes died 6 times (out of memory? killed?)'; now the first failure says why."""
    body = UNGUARDED.format(config=str(SMALL_YAML), out=str(tmp_path / "run"))
    if guarded:
        body = "if __name__ == '__main__':\n" + "".join(f"    {ln}\n" for ln in body.split("\n"))
    script = tmp_path / "study.py"
    script.write_text(body)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300
    )
    if guarded:
        assert done.returncode == 0 and "rows 4" in done.stdout, done.stderr
        return
    last = done.stderr.strip().splitlines()[-1]
    assert done.returncode != 0
    assert last.startswith("sim.base.errors.RunError: worker processes failed while starting")
    assert 'if __name__ == "__main__":' in last
    assert "out of memory" not in done.stderr and "died" not in done.stderr
    assert time.perf_counter() - t0 < 60  # the first failure, not six pool rebuilds


def test_readme_python_example_runs_under_the_main_guard():
    import ast

    text = (ROOT / "README.md").read_text()
    block = text.split("```python\n", 1)[1].split("```", 1)[0]
    tree = ast.parse(block)
    guard = [n for n in tree.body if isinstance(n, ast.If) and "__main__" in ast.unparse(n.test)]
    assert guard, "the README's Python example needs `if __name__ == '__main__':`"
    top_level_calls = [
        ast.unparse(n) for n in tree.body if not isinstance(n, (ast.If, ast.Import, ast.ImportFrom))
    ]
    assert top_level_calls == []
    assert "sim.run(" in ast.unparse(guard[0])


# --------------------------------------------------------------------------- clusters over TLS


def _self_signed(tmp_path):
    """A throw-away certificate and key (the CA, scheduler, workers and client share them)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=corridor-sim-test", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


def test_dask_scheduler_over_tls_takes_credentials_from_dask_config(cfg, tmp_path):
    """docs/background/reliability.md, 'Clusters': a tls:// scheduler with the client's
    certificate in Dask's configuration (here dask.config.set; in practice ~/.config/dask or
    DASK_* variables)."""
    pytest.importorskip("dask.distributed")
    import dask
    from dask.distributed import LocalCluster
    from distributed.security import Security

    cert, key = _self_signed(tmp_path)
    roles = ("scheduler", "worker", "client")
    creds = {f"tls_{r}_{k}": v for r in roles for k, v in (("cert", cert), ("key", key))}
    security = Security(tls_ca_file=cert, require_encryption=True, **creds)
    expected = run(cfg, replications=4, seed=5, executor="serial", out=tmp_path / "serial")
    with LocalCluster(
        n_workers=1,
        processes=False,
        protocol="tls://",
        security=security,
        dashboard_address=None,
    ) as cluster:
        assert cluster.scheduler_address.startswith("tls://")
        settings = {
            "distributed.comm.require-encryption": True,
            "distributed.comm.tls.ca-file": cert,
            "distributed.comm.tls.client.cert": cert,
            "distributed.comm.tls.client.key": key,
        }
        with dask.config.set(settings):
            got = run(
                cfg,
                replications=4,
                seed=5,
                executor="dask",
                scheduler=cluster.scheduler_address,
                out=tmp_path / "tls",
                chunk_size=2,
            )
    pd.testing.assert_frame_equal(expected.replications, got.replications)


def test_tls_scheduler_without_credentials_says_what_is_missing():
    pytest.importorskip("dask.distributed")
    from sim.base.errors import InputError

    with pytest.raises(InputError, match=r"--scheduler: a tls:// scheduler needs this client's"):
        DaskExecutor(scheduler="tls://127.0.0.1:1")
