"""Fuzzed command lines and damaged run directories: a result or one error, never a traceback.

Run options take edge values (negative, zero, huge, non-numeric, NaN) and random ``--set``
overrides; run directories are damaged the ways a crash, a full disk or a careless hand can
(manifest, config, summary or chunks deleted, truncated, replaced by garbage or a directory;
stray chunk and temporary files) before ``resume``, ``summary`` and ``losses`` read them. A
``resume`` that succeeds must give exactly the undamaged run's results.
"""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from conftest import SMALL_YAML
from fuzz_support import (
    EDGE_NUMBERS,
    WRONG_VALUES,
    check_contract,
    fuzz_settings,
    paths,
    run_cli,
)
from hypothesis import given
from hypothesis import strategies as st

import sim
from sim.config import read_yaml

SMALL = read_yaml(SMALL_YAML)
KEYS = [".".join(str(p) for p in path) for path in paths(SMALL)]
VALUES = [str(v) for v in EDGE_NUMBERS + WRONG_VALUES if "\n" not in str(v)] + ["null", "[1, 2]"]


@st.composite
def run_argvs(draw, cfg, out):
    """A ``run`` command line with random option values."""
    argv = ["run", cfg, "-q", "--executor", "serial", "--out", out]
    argv += ["--set", "run.horizon_days=60"]
    options = {
        "-n": ["-5", "0", "1", "2", "3", "10000001", "abc", "1.5"],
        "--chunk-size": ["-1", "0", "1", "2", "1000000", "x"],
        "--workers": ["-1", "0", "1", "5000", "two"],
        "--seed": ["-1", "0", "1", "random", "abc", str(2**63), str(2**63 - 1), "1e3", "٣"],
        "--target-rel-ci": ["-1", "0", "nan", "inf", "0.9", "2", "abc"],
    }
    for option, values in options.items():
        if draw(st.booleans()):
            argv += [option, draw(st.sampled_from(values))]
    if "-n" not in argv:
        argv += ["-n", "2"]
    for _ in range(draw(st.integers(0, 2))):
        argv += ["--set", f"{draw(st.sampled_from(KEYS))}={draw(st.sampled_from(VALUES))}"]
    if draw(st.booleans()):
        argv.append("--timeseries")
    return argv


@fuzz_settings(40)
@given(st.data())
def test_fuzzed_run_options_run_or_fail_clearly(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("opts")
    out = root / "out"
    argv = data.draw(run_argvs(str(SMALL_YAML), str(out)))
    rc, stdout, err = run_cli(argv, timeout=120)
    outcome = check_contract("cli:run-options", rc, stdout, err)
    if outcome == "error":
        assert not out.exists()
        return
    res = sim.load_run(out)
    assert res.manifest["status"] == "complete"
    reps = res.replications["replication"].tolist()
    assert reps == list(range(res.manifest["replications"]))


# --------------------------------------------------------------------------- run directories


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A finished 6-replication run in chunks of 2."""
    cfg = sim.load_config(SMALL_YAML, ["run.horizon_days=60"])
    out = tmp_path_factory.mktemp("ref") / "run"
    return sim.run(cfg, replications=6, seed=9, executor="serial", out=out, chunk_size=2)


DAMAGE = [
    "no_manifest",
    "manifest_truncated",
    "manifest_garbage",
    "manifest_list",
    "manifest_no_chunks",
    "manifest_bad_types",
    "manifest_dir",
    "no_config",
    "config_garbage",
    "config_bomb",
    "config_changed",
    "no_chunk",
    "chunk_truncated",
    "chunk_garbage",
    "chunk_foreign",
    "chunk_dir",
    "stray_temp",
    "no_summary",
    "summary_garbage",
    "replications_file",
    "no_events",
]


def _group(kind: str) -> str:
    """Damage kinds to the same file do not combine (the second would not find the first)."""
    if kind in ("replications_file", "stray_temp"):
        return "chunk"
    return next((g for g in ("manifest", "config", "chunk", "summary") if g in kind), kind)


def _damage(run_dir, kind: str, draw) -> None:
    man = run_dir / "manifest.json"
    chunk = run_dir / "replications" / "chunk-000000002-000000004.parquet"
    if kind == "no_manifest":
        man.unlink()
    elif kind == "manifest_truncated":
        man.write_bytes(man.read_bytes()[: draw(st.integers(0, 200))])
    elif kind == "manifest_garbage":
        man.write_bytes(b"\xff\x00garbage")
    elif kind == "manifest_list":
        man.write_text("[1, 2, 3]")
    elif kind == "manifest_no_chunks":
        data = json.loads(man.read_text())
        del data[draw(st.sampled_from(["chunks", "seed", "config_hash", "chunk_size"]))]
        man.write_text(json.dumps(data))
    elif kind == "manifest_bad_types":
        data = json.loads(man.read_text())
        key = draw(
            st.sampled_from(["chunks", "seed", "replications", "chunk_size", "target_rel_ci"])
        )
        data[key] = draw(st.sampled_from(["x", None, -1, 0, 1.5, [], True, 2**70, "nan"]))
        man.write_text(json.dumps(data))
    elif kind == "manifest_dir":
        man.unlink()
        man.mkdir()
    elif kind == "no_config":
        (run_dir / "config.resolved.yaml").unlink()
    elif kind == "config_garbage":
        (run_dir / "config.resolved.yaml").write_bytes(b"\xff: [")
    elif kind == "config_bomb":
        bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"b{i}: &b{i} [{', '.join(['*a' if i == 0 else f'*b{i - 1}'] * 10)}]\n"
            for i in range(8)
        )
        (run_dir / "config.resolved.yaml").write_text(bomb)
    elif kind == "config_changed":
        path = run_dir / "config.resolved.yaml"
        path.write_text(path.read_text().replace("horizon_days: 60.0", "horizon_days: 61.0"))
    elif kind == "no_chunk":
        chunk.unlink()
    elif kind == "chunk_truncated":
        chunk.write_bytes(chunk.read_bytes()[: draw(st.integers(0, 100))])
    elif kind == "chunk_garbage":
        chunk.write_bytes(b"PAR1 not really")
    elif kind == "chunk_foreign":
        shutil.copy(chunk, run_dir / "replications" / "chunk-000000100-000000900.parquet")
    elif kind == "chunk_dir":
        chunk.unlink()
        chunk.mkdir()
    elif kind == "stray_temp":
        (run_dir / "replications" / ".chunk-000000004-000000006.parquet.x1.tmp").write_bytes(b"x")
    elif kind == "no_summary":
        (run_dir / "summary.json").unlink()
    elif kind == "summary_garbage":
        (run_dir / "summary.json").write_text('{"metrics": ')
    elif kind == "replications_file":
        shutil.rmtree(run_dir / "replications")
        (run_dir / "replications").write_text("not a directory")
    elif kind == "no_events":
        shutil.rmtree(run_dir / "events")


@fuzz_settings(40)
@given(
    st.lists(st.sampled_from(DAMAGE), min_size=1, max_size=2, unique_by=_group),
    st.sampled_from(["resume", "summary", "losses"]),
    st.data(),
)
def test_damaged_run_directory_resumes_or_fails_clearly(
    tmp_path_factory, reference, damage, command, data
):
    run_dir = tmp_path_factory.mktemp("dmg") / "run"
    shutil.copytree(reference.path, run_dir)
    for kind in damage:
        _damage(run_dir, kind, data.draw)
    argv = [command, run_dir] + (["--executor", "serial", "-q"] if command == "resume" else [])
    rc, out, err = run_cli(argv, timeout=120)
    outcome = check_contract(f"rundir:{command}", rc, out, err, names=(str(run_dir),))
    if outcome == "ok" and command == "resume":
        resumed = sim.load_run(run_dir)
        got, want = resumed.replications, reference.replications
        differ = [c for c in want.columns if not got[c].equals(want[c])]
        assert not differ, (differ, got[differ[:3]], want[differ[:3]], resumed.manifest)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        pd.testing.assert_frame_equal(resumed.events, reference.events, check_exact=True)
