"""Bad input through the command line: one clear `error:` line, exit code 2, nothing written."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from conftest import KAZAKHSTAN_YAML, SMALL_YAML

import sim
from sim.cli.main import main

BASE = yaml.safe_load(SMALL_YAML.read_text())


def _edited(edit) -> str:
    data = copy.deepcopy(BASE)
    edit(data)
    return yaml.safe_dump(data, sort_keys=False)


def _set(path: list, value):
    def edit(data):
        node = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return edit


SMALL_TEXT = SMALL_YAML.read_text()

# name -> (file content, fragments the single error line must contain besides the file name)
CASES: dict[str, tuple[str | bytes, list[str]]] = {
    "unknown-key": (
        _edited(_set(["pipelines", 0, "capacity_bbl_per_day"], 5)),
        ["pipelines[0].capacity_bbl_per_day", "unknown key"],
    ),
    "wrong-type": (
        _edited(_set(["pipelines", 0, "capacity_mt_per_year"], "ten")),
        ["pipelines[0].capacity_mt_per_year", "'ten'"],
    ),
    "negative-capacity": (
        _edited(_set(["pipelines", 0, "capacity_mt_per_year"], -5)),
        ["pipelines[0].capacity_mt_per_year", "-5"],
    ),
    "route-through-missing-asset": (
        _edited(_set(["routes", 0, "path", 0], "nowhere_pipe")),
        ["routes[0].path[0]", "nowhere_pipe"],
    ),
    "hazard-on-missing-asset": (
        _edited(_set(["hazards", "storm", "assets"], ["ghost_terminal"])),
        ["hazards.storm.assets[0]", "ghost_terminal"],
    ),
    "initial-level-above-capacity": (
        _edited(_set(["storages", 0, "initial_level_mt"], 5.0)),
        ["storages[0]", "initial_level_mt must not exceed capacity_mt"],
    ),
    "duplicate-yaml-key": (
        SMALL_TEXT.replace("seed: 1}", "seed: 1, seed: 2}"),
        ["invalid YAML", "line 2", "duplicate key 'seed'"],
    ),
    "invalid-yaml": ("name: [unclosed\nrun: {\n", ["invalid YAML", "line 2"]),
    "not-utf8": (b"name: caf\xe9\n", ["UTF-8"]),
    "top-level-list": ("- a\n- b\n", ["expected a mapping"]),
    "empty-file": ("", ["empty"]),
}


def _check_one_error(capsys, rc: int, fragments: list[str]) -> str:
    out, err = capsys.readouterr()
    assert rc == 2
    assert "Traceback" not in out + err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert err.count("error:") == 1
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])
    return lines[0]


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("command", ["validate", "run"])
def test_bad_config_file(tmp_path, capsys, case, command):
    content, fragments = CASES[case]
    cfg_file = tmp_path / "bad.yaml"
    cfg_file.write_bytes(content if isinstance(content, bytes) else content.encode())
    out_dir = tmp_path / "out"
    argv = [command, str(cfg_file)]
    if command == "run":
        argv += ["--out", str(out_dir), "-n", "2", "--executor", "serial", "-q"]
    rc = main(argv)
    _check_one_error(capsys, rc, [str(cfg_file), *fragments])
    assert not out_dir.exists()


@pytest.mark.parametrize("command", ["validate", "run"])
def test_missing_file(tmp_path, capsys, command):
    missing = tmp_path / "nope.yaml"
    out_dir = tmp_path / "out"
    argv = [command, str(missing)]
    if command == "run":
        argv += ["--out", str(out_dir), "--executor", "serial", "-q"]
    rc = main(argv)
    _check_one_error(capsys, rc, [str(missing), "file not found"])
    assert not out_dir.exists()


def test_directory_instead_of_file(tmp_path, capsys):
    rc = main(["validate", str(tmp_path)])
    _check_one_error(capsys, rc, [str(tmp_path), "directory"])


# --------------------------------------------------------------------------- good input


def test_validate_shipped_config(capsys):
    assert main(["validate", str(KAZAKHSTAN_YAML)]) == 0
    out, err = capsys.readouterr()
    assert "valid" in out and err == ""


def test_validate_default_config(capsys):
    assert main(["validate"]) == 0
    assert "kazakhstan.yaml: valid" in capsys.readouterr().out


def test_schema_is_json(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "properties" in schema
    assert {"sources", "pipelines", "routes", "hazards"} <= set(schema["properties"])


# --------------------------------------------------------------------------- --set overrides


def test_set_override_changes_value(capsys):
    base = sim.load_config(KAZAKHSTAN_YAML)
    assert base.pipelines[0].id == "cpc_pipeline"
    assert base.pipelines[0].capacity_mt_per_year != 60
    over = sim.load_config(
        KAZAKHSTAN_YAML,
        [
            "pipelines.cpc_pipeline.capacity_mt_per_year=60",
            "hazards.cpc_storm.enabled=false",
            "run.horizon_days=90",
        ],
    )
    assert over.pipelines[0].capacity_mt_per_year == 60.0
    assert over.hazards["cpc_storm"].enabled is False
    assert over.run.horizon_days == 90.0
    # everything else is untouched
    assert over.pipelines[1:] == base.pipelines[1:]
    override = "pipelines.cpc_pipeline.capacity_mt_per_year=60"
    assert main(["validate", str(KAZAKHSTAN_YAML), "--set", override]) == 0
    capsys.readouterr()


def test_set_by_index_equals_set_by_id():
    by_id = sim.load_config(KAZAKHSTAN_YAML, ["pipelines.cpc_pipeline.capacity_mt_per_year=60"])
    by_index = sim.load_config(KAZAKHSTAN_YAML, ["pipelines.0.capacity_mt_per_year=60"])
    assert by_id == by_index


@pytest.mark.parametrize(
    "override, fragments",
    [
        ("pipelines.nope.capacity_mt_per_year=60", ["--set", "pipelines.nope", "'nope'"]),
        ("pipelines.99.capacity_mt_per_year=60", ["--set", "pipelines.99"]),
        ("name.x=1", ["--set", "name.x"]),
        ("novalue", ["--set", "KEY=VALUE"]),
        (
            "pipelines.cpc_pipeline.capacity_mt_per_year=-60",
            [str(KAZAKHSTAN_YAML), "pipelines[0].capacity_mt_per_year"],
        ),
        (
            "pipelines.cpc_pipeline.capacity_mt_per_yr=60",
            [str(KAZAKHSTAN_YAML), "pipelines[0].capacity_mt_per_yr", "unknown key"],
        ),
    ],
)
@pytest.mark.parametrize("command", ["validate", "run"])
def test_bad_override(tmp_path, capsys, override, fragments, command):
    out_dir = tmp_path / "out"
    argv = [command, str(KAZAKHSTAN_YAML), "--set", override]
    if command == "run":
        argv += ["--out", str(out_dir), "-n", "2", "--executor", "serial", "-q"]
    rc = main(argv)
    _check_one_error(capsys, rc, fragments)
    assert not out_dir.exists()


def test_bad_seed_writes_nothing(tmp_path, capsys):
    out_dir = tmp_path / "out"
    rc = main(["run", str(SMALL_YAML), "--out", str(out_dir), "--seed", "abc", "-q"])
    _check_one_error(capsys, rc, ["--seed", "abc"])
    assert not out_dir.exists()


# --------------------------------------------------------------------------- error paths
#
# Regression tests. Before commit a3bde70, format_loc (sim/config/loader.py) kept pydantic's
# union tags in key paths (hazards.storm.arrivals.poisson.rate_per_year), every branch of the
# number-or-distribution union was reported for one bad fraction (two contradictory lines), and
# `run -n -3` created a run directory, ran nothing and exited 0 (`-n 0` ran the default count).


def test_error_path_inside_tagged_union(tmp_path, capsys):
    cfg_file = tmp_path / "bad.yaml"
    cfg_file.write_text(_edited(_set(["hazards", "storm", "arrivals", "rate_per_year"], "3/yr")))
    rc = main(["validate", str(cfg_file)])
    _check_one_error(capsys, rc, [str(cfg_file), "hazards.storm.arrivals.rate_per_year:", "3/yr"])


# Regression: a failing model validator inside a tagged-union branch reports the key path of
# the file, not the union tag.
def test_error_path_of_branch_validator(tmp_path, capsys):
    cfg_file = tmp_path / "bad.yaml"
    bad = {"dist": "lognormal", "median_days": 2}
    cfg_file.write_text(_edited(_set(["hazards", "storm", "duration"], bad)))
    rc = main(["validate", str(cfg_file)])
    line = _check_one_error(capsys, rc, [str(cfg_file), "give exactly one of"])
    assert "hazards.storm.duration: " in line


@pytest.mark.parametrize(
    "lost, fragment",
    [
        (1.5, "less than or equal to 1"),
        ({"dist": "uniform", "low": 0.5, "high": 0.2}, "expected low <= high"),
    ],
    ids=["number", "distribution"],
)
def test_bad_fraction_gives_one_problem(tmp_path, capsys, lost, fragment):
    cfg_file = tmp_path / "bad.yaml"
    cfg_file.write_text(_edited(_set(["hazards", "storm", "effect"], {"capacity_lost": lost})))
    rc = main(["validate", str(cfg_file)])
    path = "hazards.storm.effect.capacity_lost: "
    _check_one_error(capsys, rc, [str(cfg_file), path, fragment])


@pytest.mark.parametrize("n", ["-3", "0"])
def test_bad_replication_count_rejected(tmp_path, capsys, n):
    out_dir = tmp_path / "out"
    rc = main(
        ["run", str(SMALL_YAML), "--out", str(out_dir), "-n", n, "-q", "--executor", "serial"]
    )
    _check_one_error(capsys, rc, ["--replications"])
    assert not out_dir.exists()


def test_error_names_relative_path_as_given(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("bad.yaml").write_text(_edited(_set(["pipelines", 0, "capacity_mt_per_year"], -1)))
    rc = main(["validate", "bad.yaml"])
    line = _check_one_error(capsys, rc, ["pipelines[0].capacity_mt_per_year"])
    assert line.startswith("error: bad.yaml: ")
