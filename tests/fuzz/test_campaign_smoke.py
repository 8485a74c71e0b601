"""The hostile campaign (scripts/hostile_campaign.py) at smoke size, and its own detectors.

``--quick`` runs 40 hostile inputs and 6 kills through the real CLI (under a minute on two
cores) and must find no traceback, hang, orphaned worker, unclear refusal, or lost or changed
result. The detectors are checked on made-up outcomes, so a campaign that passes is one that
could have failed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, SMALL_YAML

import sim

sys.path.insert(0, str(ROOT / "scripts"))
from campaign_core import (  # noqa: E402
    Case,
    Result,
    classify,
    compare_runs,
    damage_of,
    digests,
    read_tables,
)

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").is_file(), reason="the campaign finds processes in /proc"
)


def test_quick_campaign_finds_no_failure(tmp_path):
    out = tmp_path / "campaign"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "hostile_campaign.py"), "--quick", "--out", out],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    summary = json.loads((out / "summary.json").read_text())
    inputs, kills = summary["inputs"]["TOTAL"], summary["kills"]["TOTAL"]
    assert inputs["cases"] == 40 and inputs["ok"] + inputs["refused"] == 40, inputs
    assert kills["kills"] >= 6 and kills["ok"] == kills["kills"], kills
    results = summary["kill_results"]
    assert results["trials"] >= 2 and results["trials_failed"] == 0, results
    assert results["replications_compared"] == 60 * results["trials"]
    assert all(results[k] == 0 for k in ("lost", "duplicated", "changed", "files_differ"))
    assert summary["failures"] == 0
    assert len((out / "cases.jsonl").read_text().splitlines()) == 40
    assert not (out / "work").exists()  # removed when nothing failed


# --------------------------------------------------------------------------- the detectors


def _case(**kw) -> Case:
    return Case("campaign:classify", "label", ["validate"], Path("."), names=("file.yaml",), **kw)


@pytest.mark.parametrize(
    "result, case, outcome",
    [
        (Result(0, "", "", 1.0), _case(), "ok"),
        (Result(2, "", "error: file.yaml: bad\n", 1.0), _case(), "refused"),
        (Result(3, "", "error: file.yaml: disk full\n", 1.0), _case(), "refused"),
        (Result(1, "", "Traceback (most recent call last):\n  x\n", 1.0), _case(), "traceback"),
        (Result(0, "", "Traceback (most recent call last):\n", 1.0), _case(), "traceback"),
        (Result(None, "", "", 60.0, timed_out=True), _case(), "hang"),
        (Result(0, "", "", 1.0, survivors=[123]), _case(), "orphan"),
        (Result(0, "", "", 1.0), _case(check_ok=lambda r: "results differ"), "silent"),
        (Result(2, "", "error: file.yaml: x\n", 1.0), _case(check_refused=lambda r: "x"), "silent"),
        (Result(2, "", "error: other.yaml: bad\n", 1.0), _case(), "unclear"),
        (Result(2, "", "error: file.yaml: a\nerror: file.yaml: b\n", 1.0), _case(), "unclear"),
        (Result(2, "oops", "error: file.yaml: bad\n", 1.0), _case(), "unclear"),
        (Result(1, "", "", 1.0), _case(), "unclear"),
        (Result(-9, "", "", 1.0), _case(), "unclear"),
    ],
)
def test_outcomes_are_classified(result, case, outcome):
    assert classify(case, result)[0] == outcome


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> Path:
    cfg = sim.load_config(SMALL_YAML, ["run.horizon_days=40"])
    out = tmp_path_factory.mktemp("run") / "run"
    sim.run(cfg, replications=4, seed=3, executor="serial", out=out, chunk_size=2)
    return out


@pytest.mark.parametrize("change", ["none", "lost", "changed", "duplicated", "events"])
def test_lost_and_changed_replications_are_counted(small_run, tmp_path, change):
    want, sums = read_tables(small_run), digests(small_run)
    got = tmp_path / "run"
    shutil.copytree(small_run, got)
    first = "chunk-000000000-000000002.parquet"
    if change == "lost":
        (got / "replications" / first).unlink()
    elif change == "changed":
        frame = pd.read_parquet(got / "replications" / first)
        frame.loc[1, "revenue_loss_usd"] += 1.0
        frame.to_parquet(got / "replications" / first)
    elif change == "duplicated":
        shutil.copy(got / "replications" / first, got / "replications" / "chunk-x.parquet")
    elif change == "events":
        frame = pd.read_parquet(got / "events" / first)
        frame.iloc[:0].to_parquet(got / "events" / first)
    counts = compare_runs(got, want, sums)
    if change == "none":
        assert damage_of(counts) is None, counts
        return
    assert damage_of(counts) is not None
    key = {"lost": "lost", "changed": "changed", "duplicated": "duplicated"}
    assert counts[key.get(change, "events_changed")] > 0, counts
    assert counts["files_differ"] > 0
