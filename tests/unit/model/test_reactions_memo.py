"""What the reactions derive from a routing solution is kept with it, and equals a fresh look."""

import simpy
from conftest import KAZAKHSTAN_YAML

import sim
from sim.model import reactions
from sim.model.engine import FlowEngine


def test_kept_values_match_the_solution():
    model = sim.Model(sim.load_config(KAZAKHSTAN_YAML))
    for k in range(1, 4):
        model.simulate(replication=k)
    fresh = reactions.Reactions(FlowEngine(simpy.Environment(), model.net, model.solver))
    kept = [s for s in model.solver._cache.values() if s.derived]
    assert sum(reactions._QUIET in s.derived for s in kept) > 10
    assert sum(reactions._NEEDS in s.derived for s in kept) > 10
    for sol in kept:
        buffers = set(model.net.non_shuttle_storages)
        quiet = not any(x > 1e-9 for x in sol.shut_in) and not any(
            r > 1e-9 for k, r in sol.moving if k in buffers
        )
        if reactions._QUIET in sol.derived:
            assert sol.derived[reactions._QUIET] is quiet
        if reactions._NEEDS in sol.derived:
            expect = tuple(fresh._needed(sol, f, s) for _, _, _, f, s in fresh._surges)
            assert sol.derived[reactions._NEEDS] == expect
