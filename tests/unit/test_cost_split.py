"""The benchmark's cost splits account for the whole profiled time, part by part."""

import importlib.util
import math

import pytest
from conftest import KAZAKHSTAN_YAML, ROOT

import sim

_spec = importlib.util.spec_from_file_location("cost_split", ROOT / "benchmarks" / "cost_split.py")
cost_split = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cost_split)


@pytest.fixture(scope="module")
def shares():
    cfg = sim.load_config(KAZAKHSTAN_YAML)
    model = sim.Model(cfg)
    model.simulate(replication=0)
    return cost_split.profile_split(lambda: [model.simulate(replication=k) for k in (1, 2, 3)])


def test_parts_add_up(shares):
    parts, kinds = shares
    assert set(parts) == set(cost_split.ORDER)
    assert set(kinds) == set(cost_split.DISPATCH)
    for split in (parts, kinds):
        assert math.isclose(sum(split.values()), 1.0, rel_tol=1e-9)
        assert min(split.values()) >= 0.0


def test_dispatch_finds_each_kind(shares):
    _, kinds = shares
    # The shipped config has an exact shuttle, engine wake-ups, hazards and restart ramps.
    expected = ("tanker steps", "engine wake-ups", "hazards", "run loop itself", "outside the run")
    for kind in expected:
        assert kinds[kind] > 0.01, kind


def test_dispatch_kind_of_functions():
    kind = cost_split._dispatch_kind
    assert kind(("/x/sim/model/reactions.py", 1, "_restart")) == "restart ramps"
    assert kind(("/x/sim/model/shuttle_exact.py", 1, "_loaded")) == "tanker steps"
    assert kind(("/x/sim/model/engine.py", 1, "_wake")) == "engine wake-ups"
    assert kind(("/x/sim/model/engine.py", 1, "refresh")) == "other events"
