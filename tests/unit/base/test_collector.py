"""The collector settings of the replication loop are raised inside and restored after."""

import gc

import pytest

from sim.base.collector import YOUNG_THRESHOLD, lean_collector


@pytest.fixture
def restore_gc():
    saved = gc.get_threshold()
    yield
    gc.set_threshold(*saved)


def test_raises_young_threshold_and_restores(restore_gc):
    gc.set_threshold(700, 11, 12)
    with lean_collector():
        assert gc.get_threshold() == (YOUNG_THRESHOLD, 11, 12)
        with lean_collector():  # nested: unchanged
            assert gc.get_threshold() == (YOUNG_THRESHOLD, 11, 12)
        assert gc.get_threshold() == (YOUNG_THRESHOLD, 11, 12)
    assert gc.get_threshold() == (700, 11, 12)


def test_restores_after_an_exception(restore_gc):
    gc.set_threshold(700, 10, 10)
    with pytest.raises(RuntimeError), lean_collector():
        raise RuntimeError("boom")
    assert gc.get_threshold() == (700, 10, 10)


@pytest.mark.parametrize("young", [0, YOUNG_THRESHOLD * 2])
def test_leaves_callers_settings_alone(restore_gc, young):
    gc.set_threshold(young, 10, 10)
    with lean_collector():
        assert gc.get_threshold() == (young, 10, 10)
    assert gc.get_threshold() == (young, 10, 10)


def test_simulate_runs_under_it(restore_gc, monkeypatch):
    import sim.replication.runner as runner

    seen = []

    def fake(self, seed, replication, timeseries):
        seen.append(gc.get_threshold()[0])
        return "result"

    monkeypatch.setattr(runner.Model, "_simulate", fake)
    gc.set_threshold(700, 10, 10)
    assert runner.Model.simulate(object.__new__(runner.Model), replication=3) == "result"
    assert seen == [YOUNG_THRESHOLD]
    assert gc.get_threshold() == (700, 10, 10)
