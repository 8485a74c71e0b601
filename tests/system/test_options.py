"""Options that would be silently ignored are errors: exit code 2, one line naming the option.

Before, `--scheduler` without `--executor dask` ran on local processes, `--workers 0` made an
experiment or a criticality study use every core, `criticality -n 0` ran one replication, and
calibrate options that only mean something with another option did nothing.
"""

from __future__ import annotations

import pytest
from conftest import ROOT, SMALL_YAML
from fuzz_support import run_cli

from sim.base.limits import MAX_WORKERS

CATALOG = ROOT / "seeds" / "disruption_events.csv"


def _assert_refused(rc: int, stdout: str, err: str, option: str, words: str) -> None:
    assert rc == 2, (rc, err)
    assert stdout == ""
    assert err.startswith(f"error: {option}: ") and words in err, err
    assert len(err.strip().splitlines()) == 1, err


RUN = ["--set", "run.horizon_days=30", "-n", 2, "-q"]


@pytest.mark.parametrize(
    "extra, option, words",
    [
        (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler", "only used with --executor dask"),
        (
            ["--executor", "serial", "--scheduler", "tcp://127.0.0.1:1"],
            "--scheduler",
            "only used with --executor dask",
        ),
        (
            ["--executor", "dask", "--scheduler", "tcp://127.0.0.1:1", "--workers", 2],
            "--workers",
            "has its own workers",
        ),
        (["--workers", 0], "--workers", f"expected 1 to {MAX_WORKERS}"),
    ],
    ids=["scheduler-processes", "scheduler-serial", "workers-with-scheduler", "zero"],
)
def test_run_refuses_ignored_executor_options(tmp_path, extra, option, words):
    out = tmp_path / "out"
    rc, stdout, err = run_cli(["run", SMALL_YAML, *RUN, "--out", out, *extra])
    _assert_refused(rc, stdout, err, option, words)
    assert not out.exists()


def test_resume_refuses_a_scheduler_without_dask(tmp_path):
    out = tmp_path / "run"
    assert run_cli(["run", SMALL_YAML, *RUN, "--executor", "serial", "--out", out])[0] == 0
    before = sorted(p.name for p in out.rglob("*"))
    rc, stdout, err = run_cli(["resume", out, "--scheduler", "tcp://127.0.0.1:1", "-q"])
    _assert_refused(rc, stdout, err, "--scheduler", "only used with --executor dask")
    assert sorted(p.name for p in out.rglob("*")) == before


def _experiment(tmp_path):
    (tmp_path / "small.yaml").write_bytes(SMALL_YAML.read_bytes())
    exp = tmp_path / "e.yaml"
    exp.write_text("name: t\nbase: small.yaml\nscenarios: {a: {}}\n")
    return exp


@pytest.mark.parametrize(
    "extra, option, words",
    [
        (["--workers", 0], "--workers", "expected 1 to"),
    ],
)
def test_experiment_refuses_ignored_worker_counts(tmp_path, extra, option, words):
    out = tmp_path / "out"
    rc, stdout, err = run_cli(["experiment", _experiment(tmp_path), "-q", "--out", out, *extra])
    _assert_refused(rc, stdout, err, option, words)
    assert not out.exists()


@pytest.mark.parametrize(
    "extra, option, words",
    [
        (["--workers", 0], "--workers", "expected 1 to"),
        (["--pilot", 0], "--pilot", "expected 2 to"),
        (["-n", 0], "--replications", "expected 2 to"),
    ],
)
def test_plan_refuses_ignored_values(tmp_path, extra, option, words):
    rc, stdout, err = run_cli(["plan", _experiment(tmp_path), *extra])
    _assert_refused(rc, stdout, err, option, words)


@pytest.mark.parametrize(
    "extra, option, words",
    [
        (["--workers", 0], "--workers", "expected 1 to"),
        (["-n", 0], "--replications", "per knock-out, got 0"),
    ],
)
def test_criticality_refuses_ignored_values(tmp_path, extra, option, words):
    out = tmp_path / "out"
    argv = ["criticality", SMALL_YAML, "--set", "run.horizon_days=60", "-q", "--out", out]
    rc, stdout, err = run_cli([*argv, *extra])
    _assert_refused(rc, stdout, err, option, words)
    assert not out.exists()


@pytest.mark.parametrize(
    "extra, option, words",
    [
        (["--season-prior", 5], "--season-prior", "only used with --seasonal"),
        (["--split-regimes", "calm,conflict"], "--split-regimes", "only used with --split-date"),
        (["--split-causes", "military"], "--split-causes", "only used with --split-date"),
        (["--report-dir", "rep", "--no-report"], "--report-dir", "not used with --no-report"),
    ],
)
def test_calibrate_refuses_options_that_do_nothing_alone(tmp_path, extra, option, words):
    out = tmp_path / "fitted.yaml"
    extra = [str(tmp_path / e) if e == "rep" else e for e in extra]
    rc, stdout, err = run_cli(["calibrate", CATALOG, "--out", out, *extra])
    _assert_refused(rc, stdout, err, option, words)
    assert not out.exists() and not (tmp_path / "rep").exists()


def test_calibrate_options_with_their_partner_still_work(tmp_path):
    out = tmp_path / "fitted.yaml"
    argv = ["calibrate", CATALOG, "--out", out, "--no-report", "--seasonal", "--season-prior", 6]
    rc, _, err = run_cli(argv)
    assert rc == 0, err
    assert "seasonal profiles" in out.read_text()
