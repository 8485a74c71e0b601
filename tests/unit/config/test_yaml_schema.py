"""YAML is read with the 1.2 core schema: no 1.1 traps, no non-core tags, no hash-seed effects."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SMALL_YAML
from fuzz_support import run_cli

import sim
from sim.base.errors import ConfigError
from sim.config import load_config
from sim.config.loader import dump_config
from sim.config.yamlsafe import dump_yaml, parse_yaml_value

PACKAGE_ROOT = Path(sim.__file__).resolve().parents[1]


def _small(tmp_path: Path, old: str, new: str) -> Path:
    text = SMALL_YAML.read_text()
    assert old in text
    path = tmp_path / "c.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    "text, value",
    [
        ("014", 14),  # YAML 1.1: octal 12
        ("0o14", 12),
        ("0x1F", 31),
        ("12:30", "12:30"),  # YAML 1.1: sexagesimal 750
        ("yes", "yes"),  # YAML 1.1: True
        ("on", "on"),
        ("off", "off"),
        ("No", "No"),
        ("1_000", "1_000"),  # YAML 1.1: 1000
        ("1e3", 1000.0),  # YAML 1.1 (PyYAML): the string '1e3'
        ("125.0e6", 125e6),
        ("true", True),
        ("~", None),
        ("=", "="),
    ],
)
def test_core_schema_scalars(text, value):
    assert parse_yaml_value(f"a: {text}") == {"a": value}


def test_leading_zero_is_decimal_in_a_config(tmp_path):
    cfg = load_config(_small(tmp_path, "seed: 1}", "seed: 014}"))
    assert cfg.run.seed == 14


def test_sexagesimal_is_a_string_and_refused_where_a_number_is_expected(tmp_path):
    path = _small(tmp_path, "horizon_days: 365", "horizon_days: 12:30")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.file == str(path)
    assert [p.path for p in err.value.problems] == ["run.horizon_days"]
    assert "'12:30'" in err.value.problems[0].message


def test_yes_is_a_string_not_one(tmp_path):
    path = _small(tmp_path, "brent_usd_per_bbl: 70", "brent_usd_per_bbl: yes")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert [p.path for p in err.value.problems] == ["economics.price.brent_usd_per_bbl"]


@pytest.mark.parametrize(
    "tag, shown",
    [("!!set {term, main_pipe}", "!!set"), ("!!omap [{a: 1}]", "!!omap"), ("!local x", "!local")],
)
def test_non_core_tags_are_refused_with_file_line_and_key(tmp_path, tag, shown):
    path = _small(tmp_path, "assets: [term]", f"assets: {tag}")
    rc, out, err = run_cli(["validate", path])
    line = path.read_text().splitlines().index(f"    assets: {tag}") + 1
    assert rc == 2 and out == ""
    assert err.startswith(f"error: {path}: hazards.storm.assets: invalid YAML: line {line}, ")
    assert f"the tag {shown} is not allowed" in err and len(err.splitlines()) == 1


def _hash_or_error(path: Path, hash_seed: str) -> str:
    code = (
        "import sys\n"
        "from sim.config import config_hash, load_config\n"
        "from sim.base.errors import InputError\n"
        "try:\n"
        "    print(config_hash(load_config(sys.argv[1])))\n"
        "except InputError as exc:\n"
        "    print(exc.render())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(PACKAGE_ROOT), "PYTHONHASHSEED": hash_seed}
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return proc.stdout.strip()


def test_same_config_same_hash_under_any_hash_seed(tmp_path):
    """A `!!set` was ordered by PYTHONHASHSEED: valid, but hashed (and run) differently."""
    assets = "!!set {term, main_pipe, alt_pipe, btc, rail}"
    path = _small(tmp_path, "assets: [term]", f"assets: {assets}")
    results = {_hash_or_error(path, seed) for seed in ("0", "1", "2", "3")}
    assert len(results) == 1
    (result,) = results
    assert "the tag !!set is not allowed" in result
    plain = {_hash_or_error(SMALL_YAML, seed) for seed in ("0", "1")}
    assert len(plain) == 1 and len(plain.pop()) == 64


def test_huge_integer_is_an_error_naming_the_key(tmp_path):
    path = _small(tmp_path, "seed: 1}", f"seed: {'9' * 5000}}}")
    rc, out, err = run_cli(["validate", path])
    assert rc == 2 and out == ""
    assert err.startswith(f"error: {path}: run.seed: invalid YAML: line 2, ")
    assert "an integer of 5,000 characters" in err and len(err.splitlines()) == 1


def test_lone_surrogate_in_a_name_is_refused(tmp_path):
    path = _small(tmp_path, "name: small", 'name: "x\\udcff"')
    rc, _, err = run_cli(["validate", path])
    assert rc == 2 and f"{path}: name: invalid YAML: line 1" in err and "not Unicode" in err


@pytest.mark.parametrize("value", ["1e3", "014", "0x1F", "yes", "12:30", ".inf", "2026-01-01"])
def test_strings_written_by_the_dumper_read_back_as_strings(value):
    assert parse_yaml_value(dump_yaml({"a": value})) == {"a": value}


def test_resolved_config_reads_back_to_the_same_config(tmp_path):
    cfg = load_config(SMALL_YAML)
    path = tmp_path / "resolved.yaml"
    path.write_text(dump_config(cfg))
    assert load_config(path) == cfg


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "b: &b {x: *b}\n", "c: &c [1, [2, *c]]\n"])
def test_an_alias_inside_its_own_anchor_is_refused_at_once(tmp_path, text):
    """Before: the node check walked the endless expansion, with ever longer key paths: a
    config starting with `a: &a [*a]` hung `validate` (found by scripts/hostile_campaign.py)."""
    path = tmp_path / "c.yaml"
    path.write_text(text + SMALL_YAML.read_text())
    rc, out, err = run_cli(["validate", path], timeout=20)
    assert rc == 2 and out == "" and len(err.splitlines()) == 1, err
    assert err.startswith(f"error: {path}: ") and "levels deep once aliases are expanded" in err
