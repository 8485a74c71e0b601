"""Fuzzed configs: every mutation of a valid config validates, runs, or fails with one error.

Mutations of ``configs/kazakhstan.yaml``, ``tests/data/small.yaml`` and the minimal network of
``conftest.py``: wrong types, missing and extra keys, edge numbers (negative, zero, NaN, inf,
huge), duplicated elements (ids), references swapped (cycles, loops, origin = destination),
emptied lists (fleets, sources), dates out of range, long and odd strings, deep nesting; and
text-level damage: non-UTF-8 bytes, BOMs, duplicated lines (keys), truncation, bit flips, bad
indentation, alias bombs, unsafe tags, many documents, NUL and control characters.
"""

from __future__ import annotations

import copy
import math

import pandas as pd
from conftest import KAZAKHSTAN_YAML, SMALL_YAML, cfg_dict
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

KAZ = read_yaml(KAZAKHSTAN_YAML)
SMALL = read_yaml(SMALL_YAML)
MINIMAL = cfg_dict(
    hazards={
        "trip": {
            "assets": ["pipe"],
            "cause": "technical",
            "arrivals": {"process": "poisson", "rate_per_year": 4},
            "duration": {"dist": "exponential", "mean_days": 3},
        }
    }
)


@st.composite
def network_cycles(draw, base: dict):
    """Structural damage to the network: loops, reversed paths, self-references."""
    data = copy.deepcopy(base)
    routes = data["routes"]
    r = routes[draw(st.integers(0, len(routes) - 1))]
    kind = draw(st.sampled_from(["repeat", "mirror", "source_market", "shuttle_self", "no_path"]))
    if kind == "repeat":
        r["path"] = [*r["path"], r["path"][0]]
    elif kind == "mirror":
        r["path"] = [*r["path"], *reversed(r["path"])]
    elif kind == "source_market":
        r["source"], r["market"] = r["market"], r["source"]
    elif kind == "shuttle_self" and data.get("shuttles"):
        data["shuttles"][0]["destination"] = data["shuttles"][0]["origin"]
    else:
        r["path"] = []
    return data, [f"cycle:{kind}"]


def _validate(tmp_path, kind: str, content: bytes) -> str:
    cfg = tmp_path / "fuzzed.yaml"
    cfg.write_bytes(content)
    rc, out, err = run_cli(["validate", cfg], timeout=60)
    outcome = check_contract(kind, rc, out, err, names=(str(cfg),))
    if outcome == "ok":
        assert out.startswith(f"{cfg}: valid") and err == ""
    return outcome


def _run_tiny(tmp_path, kind: str, content: bytes) -> str:
    """``run -n 1`` serially: complete results, or one error and no output directory."""
    cfg = tmp_path / "fuzzed.yaml"
    cfg.write_bytes(content)
    out_dir = tmp_path / "out"
    argv = ["run", cfg, "-n", 1, "--seed", 5, "--executor", "serial", "-q", "--out", out_dir]
    rc, out, err = run_cli(argv, timeout=120)
    outcome = check_contract(kind, rc, out, err, names=(str(cfg),))
    if outcome == "error":
        assert not out_dir.exists()
        return outcome
    reps = pd.read_parquet(out_dir / "replications")
    assert list(reps["replication"]) == [0]
    row = reps.iloc[0]
    numeric = [c for c in reps.columns if reps[c].dtype.kind in "fi"]
    assert all(math.isfinite(row[c]) for c in numeric), [
        c for c in numeric if not math.isfinite(row[c])
    ]
    tolerance = 1e-9 * max(1.0, abs(row["potential_mt"])) + 1e-12
    assert abs(row["mass_balance_error_mt"]) <= tolerance, row["mass_balance_error_mt"]
    return outcome


@fuzz_settings(60)
@given(st.one_of(mutated_trees(KAZ), network_cycles(KAZ)))
def test_fuzzed_shipped_config_validates_or_fails_clearly(tmp_path_factory, case):
    data, _ = case
    _validate(tmp_path_factory.mktemp("kaz"), "config:kazakhstan", dump_yaml(data))


@fuzz_settings(40)
@given(st.one_of(mutated_trees(SMALL), mutated_trees(MINIMAL), network_cycles(SMALL)))
def test_fuzzed_small_config_runs_or_fails_clearly(tmp_path_factory, case):
    data, _ = case
    _run_tiny(tmp_path_factory.mktemp("small"), "config:small-run", dump_yaml(data))


@fuzz_settings(60)
@given(
    st.one_of(
        mutated_texts(KAZAKHSTAN_YAML.read_bytes()),
        mutated_texts(SMALL_YAML.read_bytes()),
    )
)
def test_damaged_yaml_text_validates_or_fails_clearly(tmp_path_factory, case):
    content, _ = case
    _validate(tmp_path_factory.mktemp("text"), "config:yaml-text", content)
