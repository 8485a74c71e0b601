"""Bounded reads, bounded counts, and one clear error for every hostile argument or file.

Issue 16, item 8 and the clear-error list: ``/dev/zero`` or a FIFO as an input read without
limit or hung; ``plan --replications 1e12`` built a 22 GB chunk list; huge integers, names over
255 bytes, non-UTF-8 arguments, ``criticality --duration-days 1e10`` and damaged experiment
directories ended in tracebacks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SMALL_YAML
from fuzz_support import run_cli

import sim
from sim.base.errors import InputError
from sim.base.limits import MAX_INPUT_BYTES, MAX_REPLICATIONS
from sim.store import experiments as experiment_dir_module

CATALOG = ROOT / "seeds" / "disruption_events.csv"
SCHEDULE = ROOT / "seeds" / "replay_2022.csv"
PACKAGE_ROOT = Path(sim.__file__).resolve().parents[1]
DEADLINE = 20.0
"""Seconds any refused call may take: a read that blocks on a FIFO fails the test."""


def _one_error(result: tuple[int, str, str], *fragments: str) -> str:
    rc, out, err = result
    assert rc == 2, err
    assert out == "" and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert lines[0].isprintable()
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def _cli(argv) -> tuple[int, str, str]:
    return run_cli(argv, timeout=DEADLINE)


# --------------------------------------------------------------------------- non-regular inputs


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _experiment(root: Path, base: str = "small.yaml") -> Path:
    shutil.copy(SMALL_YAML, root / "small.yaml")
    path = root / "exp.yaml"
    path.write_text(f"name: t\nbase: {base}\nreplications: 2\nscenarios:\n  a: {{}}\n")
    return path


@pytest.mark.parametrize("what", ["config", "catalog", "events", "experiment", "base", "include"])
def test_a_fifo_as_input_is_refused_without_blocking(tmp_path, what):
    fifo = _fifo(tmp_path / "fifo")
    if what == "config":
        argv = ["validate", fifo]
    elif what == "catalog":
        argv = ["calibrate", fifo, "--out", tmp_path / "f.yaml", "--no-report"]
    elif what == "events":
        argv = ["replay", SMALL_YAML, "--events", fifo, "--year", 2022, "--out", tmp_path / "r"]
        argv += ["--catalog", "none", "--recorded", "none"]
    elif what == "experiment":
        argv = ["experiment", fifo, "--check"]
    elif what == "base":
        argv = ["experiment", _experiment(tmp_path, "fifo"), "--check"]
    else:
        cfg = tmp_path / "c.yaml"
        cfg.write_text(SMALL_YAML.read_text() + "include_hazards: fifo\n")
        argv = ["validate", cfg]
    line = _one_error(_cli(argv), "fifo")
    assert "FIFO" in line or "not a file" in line
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "fifo") in (
        [],
        ["c.yaml"],
        ["exp.yaml", "small.yaml"],
    )


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_as_config_or_catalog_is_refused(tmp_path, device):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    _one_error(_cli(["validate", device]), device, "character device")
    out = tmp_path / "f.yaml"
    _one_error(_cli(["calibrate", device, "--out", out, "--no-report"]), "character device")
    assert not out.exists()


def test_inputs_are_bounded_to_five_megabytes(tmp_path):
    big = tmp_path / "big.csv"
    lines = CATALOG.read_bytes().splitlines(keepends=True)
    body = b"".join(lines[1:]) or b"\n"
    with big.open("wb") as fh:
        fh.write(lines[0])
        while fh.tell() <= MAX_INPUT_BYTES:
            fh.write(body)
    out = tmp_path / "f.yaml"
    _one_error(_cli(["calibrate", big, "--out", out, "--no-report"]), f"{MAX_INPUT_BYTES:,} bytes")
    cfg = tmp_path / "big.yaml"
    cfg.write_bytes(SMALL_YAML.read_bytes() + b"#" * MAX_INPUT_BYTES)
    _one_error(_cli(["validate", cfg]), f"{MAX_INPUT_BYTES:,} bytes")


# --------------------------------------------------------------------------- replication counts


def test_plan_refuses_a_huge_replication_count_before_building_anything(tmp_path):
    exp = _experiment(tmp_path)
    _one_error(_cli(["plan", exp, "--replications", 10**12]), "--replications", "1000000")
    _one_error(_cli(["plan", exp, "--pilot", 10**9]), "--pilot")
    _one_error(_cli(["plan", exp, "--seed", -1]), "--seed")


def test_criticality_refuses_huge_replication_counts(tmp_path):
    out = tmp_path / "crit"
    argv = ["criticality", SMALL_YAML, "--executor", "serial", "-q", "--out", out]
    _one_error(_cli([*argv, "-n", MAX_REPLICATIONS + 1]), "--replications")
    _one_error(_cli([*argv, "-n", MAX_REPLICATIONS]), "--replications", "in all")
    _one_error(_cli([*argv, "--own-repair", "-n", 10**5]), "--replications", "in all")
    assert not out.exists()


@pytest.mark.parametrize("days", ["1e10", "inf", "nan", "36526"])
def test_criticality_refuses_an_outage_longer_than_any_horizon(tmp_path, days):
    out = tmp_path / "crit"
    argv = ["criticality", SMALL_YAML, "--duration-days", days, "--out", out, "-q"]
    _one_error(_cli(argv), "--duration-days", "36,525")
    assert not out.exists()


# --------------------------------------------------------------------------- huge integers


def test_huge_integers_on_the_command_line(tmp_path):
    huge = "9" * 5000
    out = tmp_path / "run"
    run = ["run", SMALL_YAML, "-n", 1, "--executor", "serial", "-q", "--out", out]
    _one_error(_cli([*run, "--seed", huge]), "--seed", "2**63 - 1")
    _one_error(_cli([*run, "--seed", "²"]), "--seed")
    _one_error(_cli(["validate", SMALL_YAML, "--set", f"routes.{huge}.market=med"]), "routes.")
    _one_error(_cli(["validate", SMALL_YAML, "--set", "routes.²=x"]), "routes.²")
    _one_error(_cli(["validate", SMALL_YAML, "--set", f"run.seed={huge}"]), "run.seed")
    crit = ["criticality", SMALL_YAML, "--seed", 2**70, "-q", "--out", out]
    _one_error(_cli(crit), "--seed")
    assert not out.exists()


# --------------------------------------------------------------------------- names


def _process(argv: list[bytes], cwd: Path) -> tuple[int, str, str]:
    env = {**os.environ, "PYTHONPATH": str(PACKAGE_ROOT), "LC_ALL": "C.UTF-8"}
    proc = subprocess.run(
        [sys.executable, "-m", "sim", *argv], capture_output=True, env=env, cwd=cwd, timeout=120
    )
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode("utf-8", "replace")


def test_non_utf8_arguments_are_refused(tmp_path):
    small = os.fsencode(SMALL_YAML)
    run = [b"run", small, b"-n", b"1", b"--executor", b"serial", b"-q"]
    _one_error(_process([*run, b"--out", b"r\xff\xfe"], tmp_path), "--out", "not valid UTF-8")
    _one_error(_process([*run, b"--set", b"name=x\xff"], tmp_path), "--set", "not valid UTF-8")
    crit = [b"criticality", small, b"-q", b"--out", b"c\xff"]
    _one_error(_process(crit, tmp_path), "--out", "not valid UTF-8")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["run", "experiment", "criticality", "calibrate"])
def test_names_over_255_bytes_in_out(tmp_path, command):
    out = tmp_path / ("x" * 256) / "y"
    argv = {
        "run": ["run", SMALL_YAML, "-n", 1, "--executor", "serial", "-q"],
        "experiment": ["experiment", _experiment(tmp_path), "-q"],
        "criticality": ["criticality", SMALL_YAML, "-q"],
        "calibrate": ["calibrate", CATALOG, "--no-report"],
    }[command]
    _one_error(_cli([*argv, "--out", out]), "--out", "256 bytes long (at most 255)")


def test_a_config_name_over_255_bytes_runs_criticality(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "long.yaml"
    cfg.write_text(SMALL_YAML.read_text().replace("name: small", f"name: {'é' * 300}"))
    argv = ["criticality", cfg, "--executor", "serial", "-q", "--set", "run.horizon_days=40"]
    rc, _, err = _cli(argv)
    assert rc == 0, err
    assert (tmp_path / "runs" / "long-criticality" / "criticality.csv").is_file()


# --------------------------------------------------------------------------- experiment dirs


@pytest.fixture(scope="module")
def experiment_dir(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("exp")
    (root / "short.yaml").write_text(
        SMALL_YAML.read_text().replace("horizon_days: 365", "horizon_days: 40")
    )
    exp = root / "exp.yaml"
    exp.write_text(
        "name: t\nbase: short.yaml\nreplications: 2\nmetrics: [revenue_loss_usd]\n"
        "scenarios:\n  a: {set: [storages.port_tank.capacity_mt=0.3]}\n"
    )
    out = root / "out"
    rc, _, err = run_cli(["experiment", exp, "--out", out, "--executor", "serial", "-q"])
    assert rc == 0, err
    return exp, out


DAMAGE = {
    "comparison missing": ("comparison.parquet", None, "comparison.parquet: missing"),
    "comparison garbled": ("comparison.parquet", b"PAR1 garbage", "damaged Parquet"),
    "comparison lacks columns": ("comparison.parquet", "columns", "lacks column"),
    "meta missing": ("experiment.json", None, "experiment.json: missing"),
    "meta garbled": ("experiment.json", b'{"name": ', "damaged JSON"),
    "meta not an object": ("experiment.json", b"[1, 2]", "not a JSON object"),
    "meta lacks a key": ("experiment.json", "no-seed", "seed: missing"),
    "meta huge number": ("experiment.json", b'{"seed": ' + b"9" * 5000 + b"}", "damaged JSON"),
    "sobol garbled": ("sobol.parquet", b"junk", "sobol.parquet: damaged"),
    "marker garbled": (".corridor-sim-output", b"{", "damaged marker"),
}


def damage_experiment(out: Path, case: str) -> None:
    """Apply damage ``case`` of :data:`DAMAGE` to the experiment directory ``out``."""
    name, data, _ = DAMAGE[case]
    target = out / name
    if data is None:
        target.unlink()
    elif data == "columns":
        import pandas as pd

        pd.read_parquet(target).drop(columns=["mean_diff"]).to_parquet(target)
    elif data == "no-seed":
        meta = json.loads(target.read_text())
        del meta["seed"]
        target.write_text(json.dumps(meta))
    else:
        target.write_bytes(data)


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_damaged_experiment_directory_gives_one_error(experiment_dir, tmp_path, case):
    _, built = experiment_dir
    out = tmp_path / "out"
    shutil.copytree(built, out)
    (out / "checksums.json").unlink()  # a directory from before checksums: structure checks
    damage_experiment(out, case)
    _one_error(_cli(["report", out]), DAMAGE[case][2])
    assert not (out / "report.html").exists()


CHANGED = {
    # what the hostile campaign found: a digit changed in experiment.json was reported as real
    "meta digit": (
        "experiment.json",
        lambda b: b.replace(b'"replications": 2', b'"replications": 5'),
    ),
    "comparison byte": ("comparison.parquet", lambda b: b[:200] + bytes([b[200] ^ 1]) + b[201:]),
    "parameters byte": ("parameters.parquet", lambda b: b[:100] + bytes([b[100] ^ 1]) + b[101:]),
    "sobol planted": ("sobol.parquet", None),
}


@pytest.mark.parametrize("case", sorted(CHANGED))
def test_changed_experiment_file_is_refused_and_resume_rewrites_it(experiment_dir, tmp_path, case):
    exp, built = experiment_dir
    out = tmp_path / "out"
    shutil.copytree(built, out)
    name, change = CHANGED[case]
    target = out / name
    if change is None:
        shutil.copy(out / "comparison.parquet", target)
        fragment = "not written by this experiment"
    else:
        before = target.read_bytes()
        target.write_bytes(change(before))
        assert target.read_bytes() != before
        fragment = "checksum differs"
    if name != "parameters.parquet":  # the report does not read the parameter table
        _one_error(_cli(["report", out]), name, fragment)
        assert not (out / "report.html").exists()
    with pytest.raises(InputError, match=fragment):
        experiment_dir_module.verify(target, "hint")
    if change is None:
        target.unlink()
    argv = ["experiment", exp, "--out", out, "--resume", "--executor", "serial", "-q"]
    rc, _, err = _cli(argv)
    assert rc == 0, err
    rc, _, err = _cli(["report", out])
    assert rc == 0, err


def test_damaged_scenario_run_is_reported_on_resume(experiment_dir, tmp_path):
    exp, built = experiment_dir
    out = tmp_path / "out"
    shutil.copytree(built, out)
    (out / "scenarios" / "a" / "manifest.json").write_bytes(b'{"seed": ' + b"9" * 5000 + b"}")
    argv = ["experiment", exp, "--out", out, "--resume", "--executor", "serial", "-q"]
    _one_error(_cli(argv), "manifest.json", "not a valid manifest")
