"""Manifest: a typed view that keeps manifest.json's keys as they are on disk."""

from __future__ import annotations

import json

import pytest

from sim.base.errors import InputError
from sim.store.layout import MANIFEST
from sim.store.manifest import Manifest

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
