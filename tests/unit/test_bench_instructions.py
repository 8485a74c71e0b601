"""The instruction benchmark parses cachegrind's report and runs its workloads."""

import importlib.util

import pytest
from conftest import KAZAKHSTAN_YAML, ROOT

_spec = importlib.util.spec_from_file_location(
    "bench_instructions", ROOT / "benchmarks" / "bench_instructions.py"
)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_reads_the_instruction_count():
    report = "==1== \n==1== I   refs:      66,912,345,678\n==1== \n"
    assert bench.instructions(report) == 66_912_345_678


def test_a_report_without_a_count_is_an_error():
    with pytest.raises(RuntimeError, match="I refs"):
        bench.instructions("valgrind: command failed\n")


def test_workloads_run(monkeypatch):
    monkeypatch.setattr(bench.gc, "freeze", lambda: None)  # not in the test process
    bench.child("bare", 10, 5, str(KAZAKHSTAN_YAML), [])
    bench.child("model", 1, 1, str(KAZAKHSTAN_YAML), ["run.horizon_days=30"])
