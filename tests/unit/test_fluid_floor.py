"""The fluid-floor variant replaces each shuttle by a pipeline of the same id and capacity."""

import importlib.util
import sys

import pytest
import yaml
from conftest import KAZAKHSTAN_YAML, ROOT

import sim
from sim.model.network import shuttle_capacity_mt_per_day

_spec = importlib.util.spec_from_file_location(
    "fluid_floor", ROOT / "benchmarks" / "fluid_floor.py"
)
floor = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(floor)


@pytest.fixture(scope="module")
def shipped():
    data = yaml.safe_load(KAZAKHSTAN_YAML.read_text(encoding="utf-8"))
    return data, sim.load_config(KAZAKHSTAN_YAML)


def test_each_shuttle_becomes_a_sea_pipeline_of_its_capacity(shipped):
    data, cfg = shipped
    before = yaml.safe_dump(data)
    variant = floor.fluid_variant(data, cfg)
    assert yaml.safe_dump(data) == before  # the input is not changed
    assert "shuttles" not in variant
    by_id = {p["id"]: p for p in variant["pipelines"]}
    assert len(variant["pipelines"]) == len(data["pipelines"]) + len(cfg.shuttles) >= 1
    for sh in cfg.shuttles:
        pipe = by_id[sh.id]
        assert pipe["mode"] == "sea"
        assert pipe["capacity_mt_per_year"] == shuttle_capacity_mt_per_day(sh) * 365.25
        assert pipe["tariff_usd_per_t"] == sh.freight_usd_per_t
    assert variant["routes"] == data["routes"] and variant["hazards"] == data["hazards"]


def test_the_written_variant_is_a_valid_config_without_cargoes(tmp_path, monkeypatch):
    out = tmp_path / "floor.yaml"
    argv = ["fluid_floor.py", "--config", str(KAZAKHSTAN_YAML), "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    floor.main()
    cfg = sim.load_config(out, overrides=["run.horizon_days=60"])
    assert not cfg.shuttles
    original = sim.Model(sim.load_config(KAZAKHSTAN_YAML, overrides=["run.horizon_days=60"]))
    model = sim.Model(cfg)
    assert original.run_raw(sim.model.streams.Streams(1, 1)).tankers  # cargoes there
    raw = model.run_raw(sim.model.streams.Streams(1, 1))
    assert not raw.tankers  # and none here
    # the crossing is a link of the shuttle's capacity, and oil flows through it
    cap = shuttle_capacity_mt_per_day(original.cfg.shuttles[0])
    link = list(model.net.link_ids).index(original.cfg.shuttles[0].id)
    assert max(c[link] for c in raw.cap_trace) == pytest.approx(cap, rel=1e-12)
    assert 0 < raw.total("link_flow")[link] <= cap * 60 * (1 + 1e-12)
