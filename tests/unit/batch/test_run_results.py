"""RunResult reads each table once and builds the loss tables once; the version is declared once."""

from __future__ import annotations

from pathlib import Path

import sim
from sim.base.version import __version__

SMALL = Path(__file__).resolve().parents[2] / "data" / "small.yaml"


def test_tables_are_read_once(tmp_path, monkeypatch):
    res = sim.run(sim.load_config(SMALL), replications=4, executor="serial", out=tmp_path / "r")
    reads = []
    import sim.results as results

    original = results.read_verified_table

    def counting(path, table, manifest):
        reads.append(table)
        return original(path, table, manifest)

    monkeypatch.setattr(results, "read_verified_table", counting)
    assert res.ylt() is res.ylt() and res.elt() is res.elt()
    res.aal_table()
    res.resilience()
    assert sorted(reads) == ["events", "replications"]


def test_the_version_is_the_package_metadata():
    assert sim.__version__ == __version__
    assert __version__ != ""
