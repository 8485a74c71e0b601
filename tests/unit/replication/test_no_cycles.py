"""A finished run leaves no engine, process or trace in reference cycles (issue 13)."""

from __future__ import annotations

import gc
from collections import Counter

from conftest import KAZAKHSTAN_YAML

import sim
from sim.model.streams import Streams

HEAVY = {"FlowEngine", "Process", "generator", "Timeout", "FlowSolution", "Reactions", "tuple"}
"""What a run used to leave for the cyclic collector (its processes held the engine, whose
breakpoints are ~1,000 tuples a replication)."""


def _cyclic_garbage(model: sim.Model, replications: range) -> Counter[str]:
    """Types of the objects only the cyclic collector would free after ``replications``."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        for k in replications:
            model.run_raw(Streams(model.cfg.run.seed, k))
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        garbage = Counter(type(o).__name__ for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()
    return garbage


def test_runs_leave_only_simpy_own_small_cycles():
    model = sim.Model(sim.load_config(KAZAKHSTAN_YAML))
    garbage = _cyclic_garbage(model, range(1, 6))
    assert not HEAVY & set(garbage), garbage
    # What is left: each environment and resource binds methods to itself (SimPy's design).
    assert sum(garbage.values()) < 60 * 5, garbage
