"""Manifest: a typed view that keeps manifest.json's keys as they are on disk."""

from __future__ import annotations

import json

import pytest

from sim.base.errors import InputError
from sim.store.layout import MANIFEST
from sim.store.manifest import FORMAT, Manifest

OLD = {  # a manifest of an older version: no format, no target_block, a key unknown today
    "config_hash": "abc",
    "seed": 7,
    "replications": 20,
    "chunk_size": 10,
    "chunks": {"chunk-000000-000010": {"start": 0, "stop": 10, "status": "done"}},
    "status": "complete",
    "something_else": [1, 2],
}


def test_an_old_manifest_loads_and_is_written_back_with_its_keys(tmp_path):
    (tmp_path / MANIFEST).write_text(json.dumps(OLD))
    man = Manifest.load(tmp_path)
    assert (man.seed, man.replications, man.chunk_size, man.status) == (7, 20, 10, "complete")
    assert man.target_block is None and not man.has("target_block")
    assert man.failed == 0 and man.summary_sha256 is None
    man.save(tmp_path)
    assert json.loads((tmp_path / MANIFEST).read_text()) == OLD


def test_attributes_write_the_json_keys(tmp_path):
    man = Manifest(dict(OLD))
    man.status = "running"
    man.summary_sha256 = "f" * 64
    man.drop("something_else")
    assert man.data["status"] == "running" and man.data["summary_sha256"] == "f" * 64
    assert "something_else" not in man.data


def test_a_new_manifest_has_the_keys_of_a_run():
    man = Manifest.new(
        version="1",
        config_name="c",
        config_hash="h",
        seed=1,
        replications=5,
        chunk_size=5,
        executor="serial",
        workers=1,
        target_rel_ci=None,
    )
    assert man.format == 1 and man.chunks == {} and "target_block" not in man.data
    assert man.chunk_entry("chunk-000000-000005", 0, 5)["status"] == "pending"


def test_a_damaged_manifest_is_refused(tmp_path):
    (tmp_path / MANIFEST).write_text(json.dumps({**OLD, "seed": "x"}))
    with pytest.raises(InputError, match="seed"):
        Manifest.load(tmp_path)


@pytest.mark.parametrize("fmt", [1, None])
def test_a_manifest_of_this_or_an_older_format_loads(tmp_path, fmt):
    data = OLD if fmt is None else {**OLD, "format": fmt}
    (tmp_path / MANIFEST).write_text(json.dumps(data))
    assert Manifest.load(tmp_path).data == data


def test_a_manifest_of_a_newer_format_is_refused(tmp_path):
    """Read or resumed, a run directory of a newer layout is refused, naming file and key."""
    import sim
    from sim.cli.main import main

    (tmp_path / MANIFEST).write_text(json.dumps({**OLD, "format": FORMAT + 1}))
    want = f"{tmp_path / MANIFEST}: format: {FORMAT + 1} is newer than this corridor-sim reads"
    with pytest.raises(InputError) as err:
        Manifest.load(tmp_path)
    assert str(err.value).startswith(want) and f"(expected {FORMAT} or older)" in str(err.value)
    with pytest.raises(InputError, match="newer than this corridor-sim reads"):
        sim.load_run(tmp_path)
    assert main(["resume", str(tmp_path), "--executor", "serial", "-q"]) == 2
    assert json.loads((tmp_path / MANIFEST).read_text())["format"] == FORMAT + 1  # untouched


@pytest.mark.parametrize("fmt", [0, "1", 1.0, True, None])
def test_a_damaged_format_is_refused(tmp_path, fmt):
    (tmp_path / MANIFEST).write_text(json.dumps({**OLD, "format": fmt}))
    with pytest.raises(InputError, match=r"format: .* is not a manifest format \(expected an"):
        Manifest.load(tmp_path)
