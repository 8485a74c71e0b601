"""Fuzzed experiment files: every mutation is checked, runs, or fails with one error.

The shipped experiments (``configs/experiments/*.yaml``) are mutated in a copy of the shipped
layout (``configs/experiments/x.yaml`` next to ``configs/kazakhstan.yaml``) and checked with
``corridor-sim experiment FILE --check``; a small experiment on ``tests/data/small.yaml`` is
mutated and really run (two replications per scenario). Besides the generic tree and text
damage, ``base:`` gets hostile paths (absolute, climbing out, a symlink out, a directory) and
``set:`` lines get malformed overrides.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from conftest import KAZAKHSTAN_YAML, ROOT, SMALL_YAML
from fuzz_support import (
    check_contract,
    dump_yaml,
    fuzz_settings,
    mutated_texts,
    mutated_trees,
    run_cli,
)
from hypothesis import given
from hypothesis import strategies as st

from sim.config import read_yaml

SHIPPED = sorted((ROOT / "configs" / "experiments").glob("*.yaml"))
SHIPPED_DATA = [read_yaml(p) for p in SHIPPED]
SMALL_EXPERIMENT = {
    "name": "fuzz",
    "base": "../small.yaml",
    "replications": 2,
    "seed": 3,
    "metrics": ["revenue_loss_usd", "shut_in_mt"],
    "scenarios": {
        "bigger_tank": {"overrides": {"storages": {"port_tank": {"capacity_mt": 0.3}}}},
        "slow_pipe": {"set": ["pipelines.main_pipe.capacity_mt_per_year=9"], "cost": {}},
    },
    "one_at_a_time": {"hazards.storm.arrivals.rate_per_year": [1, 5]},
}
HOSTILE_BASES = [
    "/etc/passwd",
    "../../../../../../etc/passwd",
    "../../kazakhstan.yaml",
    "~/kazakhstan.yaml",
    "",
    " ",
    ".",
    "..",
    "missing.yaml",
    "outside_link.yaml",
    "loop_link.yaml",
    "nul\x00.yaml",
    "x" * 5000,
    str(KAZAKHSTAN_YAML),
]
BAD_SET_LINES = [
    "=",
    "novalue",
    "a.b=1",
    ".x=1",
    "x..y=1",
    "run.horizon_days=",
    "run.horizon_days=1e400",
    "run.horizon_days=[1, 2",
    "pipelines.99.capacity_mt_per_year=1",
    "pipelines.-1.capacity_mt_per_year=1",
    "hazards.storm.arrivals=poisson",
    "run=1",
    "routes.0.path.0=nowhere",
    "run.seed=-5",
    "name.x.y=1",
    "é=1",
    "run.horizon_days=!!python/object/apply:os.system ['true']",
]


def _layout(root: Path) -> Path:
    """A copy of the shipped layout; returns the experiments directory."""
    exp_dir = root / "configs" / "experiments"
    exp_dir.mkdir(parents=True)
    (root / "configs" / "kazakhstan.yaml").write_bytes(KAZAKHSTAN_YAML.read_bytes())
    (root / "configs" / "small.yaml").write_bytes(SMALL_YAML.read_bytes())
    outside = root / "secret.yaml"
    outside.write_text("name: secret\n")
    (exp_dir / "outside_link.yaml").symlink_to(outside)
    (exp_dir / "loop_link.yaml").symlink_to(exp_dir / "loop_link.yaml")
    return exp_dir


@st.composite
def hostile_refs(draw, base: dict):
    """An experiment with a hostile ``base:`` or malformed ``set:`` lines."""
    data = dict(base)
    if draw(st.booleans()):
        data["base"] = draw(st.sampled_from(HOSTILE_BASES))
        return data, ["base"]
    lines = draw(st.lists(st.sampled_from(BAD_SET_LINES), min_size=1, max_size=3))
    data["scenarios"] = {"fuzzed": {"set": lines}}
    return data, ["set"]


def _check(tmp_path, kind: str, content: bytes) -> str:
    exp_dir = _layout(tmp_path)
    exp = exp_dir / "fuzzed.yaml"
    exp.write_bytes(content)
    rc, out, err = run_cli(["experiment", exp, "--check"], timeout=120)
    outcome = check_contract(kind, rc, out, err, names=(str(tmp_path),))
    if outcome == "ok":
        assert "valid" in out
    return outcome


@fuzz_settings(40)
@given(
    st.one_of(
        *(mutated_trees(d) for d in SHIPPED_DATA),
        *(hostile_refs(d) for d in SHIPPED_DATA),
    )
)
def test_fuzzed_shipped_experiments_check_or_fail_clearly(tmp_path_factory, case):
    data, _ = case
    _check(tmp_path_factory.mktemp("exp"), "experiment:shipped", dump_yaml(data))


@fuzz_settings(30)
@given(st.one_of(*(mutated_texts(p.read_bytes()) for p in SHIPPED)))
def test_damaged_experiment_text_checks_or_fails_clearly(tmp_path_factory, case):
    content, _ = case
    _check(tmp_path_factory.mktemp("exptext"), "experiment:yaml-text", content)


@fuzz_settings(10)
@given(st.one_of(mutated_trees(SMALL_EXPERIMENT, most=2), hostile_refs(SMALL_EXPERIMENT)))
def test_fuzzed_small_experiment_runs_or_fails_clearly(tmp_path_factory, case):
    data, _ = case
    root = tmp_path_factory.mktemp("exprun")
    exp = _layout(root) / "fuzzed.yaml"
    exp.write_bytes(dump_yaml(data))
    out_dir = root / "out"
    argv = ["experiment", exp, "-n", 2, "--executor", "serial", "-q", "--out", out_dir]
    rc, out, err = run_cli(argv, timeout=300)
    outcome = check_contract("experiment:small-run", rc, out, err, names=(str(root),))
    if outcome == "error":
        assert not out_dir.exists()
    else:
        table = pd.read_csv(out_dir / "comparison.csv")
        assert len(table) > 0 and (table["n"] == 2).all()
