"""Engine benchmark: bare SimPy vs the corridor-sim engine, measured in one run.

Usage: python benchmarks/bench_engine.py [--replications N] [--warmup N] [--config PATH]
[--set KEY=VALUE ...]

Prints bare SimPy events/s (a timeout loop), the engine's SimPy events/s and the per-event cost
ratio, and ms per replication of the config (disrupted run + paired twin + accounting). The
machine-free figure is ms per replication x bare SimPy events/s: the cost of one replication in
bare SimPy timeouts ("bare-event equivalents"), comparable across machines (issue 13). The
replications are timed in ten blocks, each against bare SimPy measured just before and after it,
and the median block is reported (a shared or throttled machine's speed drifts within a run).

A profiled pass (cProfile, same process, same replications) splits a replication's CPU time by
part -- shuttle, routing, hazards, accounting, setup, flow engine, SimPy kernel, other -- printed
as a share and as bare-event equivalents (see ``benchmarks/cost_split.py``). A last pass counts
the objects the cyclic garbage collector frees per replication (reference cycles left behind)
and the share of CPU time spent in collections.

A batch worker runs thousands of replications. Early on it also probes the stored LP bases of
each storage pattern it meets (HiGHS solves of fixed probe states, see ``sim/model/basis.py``), a
one-off cost per worker. The timed passes therefore start after ``--warmup`` replications (other
indices than the timed ones), with cached solutions forgotten, as in the middle of a batch; the
warm-up's own ms per replication is printed too.
Times are CPU time of this process (``time.process_time``), so a busy machine disturbs the
figures less than wall time would; the run is single-threaded, so CPU ms = ms per core.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

import simpy

import sim
import sim.replication.runner as runner
from sim.model import clock

try:
    from cost_split import DISPATCH, ORDER, profile_split
except ImportError:  # imported as benchmarks.bench_engine
    from benchmarks.cost_split import DISPATCH, ORDER, profile_split


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that remembers its instances, to count their processed events.

    ``runner.run_until`` steps the queue itself, so events are counted from the queue: every
    event that went through it was numbered, and those still queued were not processed (see
    ``sim.model.clock.processed_count``).
    """

    instances: list[simpy.Environment] = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        CountingEnvironment.instances.append(self)

    @staticmethod
    def processed() -> int:
        """Events processed by every instance so far (and forget the instances)."""
        n = sum(clock.processed_count(env) for env in CountingEnvironment.instances)
        CountingEnvironment.instances.clear()
        return n


def bare_simpy(n_events: int = 500_000) -> float:
    env = simpy.Environment()

    def loop(env):
        while True:
            yield env.timeout(1.0)

    env.process(loop(env))
    t0 = time.process_time()
    env.run(until=n_events)
    return n_events / (time.process_time() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replications", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--config", default="configs/kazakhstan.yaml")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    bares = [bare_simpy(200_000)]  # on a small heap, between the passes; the median is used
    cfg = sim.load_config(args.config, overrides=args.set)
    model = sim.Model(cfg)
    model.simulate(replication=0)  # build the twin and warm the caches

    # Events processed by the disrupted runs (counted in a separate pass, not timed).
    # (runner.simpy is the simpy module: keep the class to put back, or every later
    # environment would stay alive in CountingEnvironment.instances.)
    plain = runner.simpy.Environment
    runner.simpy.Environment = CountingEnvironment
    for k in range(1, args.replications + 1):
        model.run_raw(sim.model.streams.Streams(cfg.run.seed, k))
    events = CountingEnvironment.processed()
    runner.simpy.Environment = plain

    warmup_ms: list[float] = []

    def fresh_model(config=cfg):
        m = sim.Model(config)
        m.simulate(replication=0)  # the twin, as every worker computes it once
        t0 = time.process_time()
        for k in range(10_000, 10_000 + args.warmup):
            m.simulate(replication=k)
        warmup_ms.append(1000 * (time.process_time() - t0) / max(1, args.warmup))
        m.solver.clear_cache()
        m.solver.n_solves = m.solver.n_basis_hits = 0
        gc.collect()
        gc.freeze()  # as the batch workers do (sim/batch/worker.py)
        return m

    # Each pass uses a fresh model, so LP solutions are not reused from an earlier pass.
    engine_model = fresh_model()
    bares.append(bare_simpy(200_000))
    t0 = time.process_time()
    for k in range(1, args.replications + 1):
        engine_model.run_raw(sim.model.streams.Streams(cfg.run.seed, k))
    engine_s = time.process_time() - t0
    full_model = fresh_model()
    bares.append(bare_simpy(200_000))
    total_s, block_equivs = timed_blocks(full_model, args.replications)
    bares += [bare_simpy(200_000), bare_simpy(200_000)]
    bare = statistics.median(bares)
    fresh = full_model
    eng_rate = events / engine_s
    print(
        f"config: {args.config}"
        + "".join(f" --set {o}" for o in args.set)
        + f", replications: {args.replications}"
    )
    spread = f"{min(bares):,.0f}-{max(bares):,.0f}"
    print(f"bare SimPy:           {bare:,.0f} events/s (median of {len(bares)}: {spread})")
    per_rep = events / args.replications
    print(
        f"engine:               {eng_rate:,.0f} events/s ({per_rep:,.0f} events/replication, "
        "SimPy events and side-queue steps)"
    )
    print(f"per-event cost ratio: {bare / eng_rate:.2f} x bare SimPy")
    solves = fresh.solver.n_solves / args.replications
    hits = fresh.solver.n_basis_hits / args.replications
    print(f"LP states:            {hits + solves:.1f} new per replication (cache misses), of which")
    print(f"                      {hits:.1f} solved by a stored basis, {solves:.1f} by HiGHS")
    print(
        f"ms per replication:   {1000 * total_s / args.replications:.1f} (run + twin + accounting)"
    )
    print(
        f"warm-up:              {warmup_ms[-1]:.1f} ms per replication over the first "
        f"{args.warmup} of a fresh worker (LP basis probing included)"
    )
    equiv = statistics.median(block_equivs)
    q1, _, q3 = statistics.quantiles(block_equivs, n=4)
    print(
        f"machine-free:         {equiv:,.0f} bare-SimPy event equivalents per replication "
        f"(ms per replication x bare SimPy events/s, median of {len(block_equivs)} blocks, each "
        f"against bare SimPy measured around it; quartiles {q1:,.0f}-{q3:,.0f}; "
        f"warm-up {warmup_ms[-1] * bare / 1000:,.0f})"
    )
    prof_model = fresh_model()

    def replications() -> None:
        for k in range(1, args.replications + 1):
            prof_model.simulate(replication=k)

    shares, kinds = profile_split(replications)
    print("split by part (cProfile, own time; % and bare-event equivalents per replication):")
    for part in ORDER:
        print(f"  {part:<20}{100 * shares[part]:5.1f}%  {shares[part] * equiv:8,.0f}")
    print("split by what the run loop dispatched (same profile, inclusive time):")
    for kind in DISPATCH:
        print(f"  {kind:<20}{100 * kinds[kind]:5.1f}%  {kinds[kind] * equiv:8,.0f}")
    print(gc_line(fresh_model(), args.replications))
    print(mode_line(cfg, fresh_model, args.replications))


def mode_line(cfg: sim.Config, fresh_model, n: int) -> str:
    """CPU time of ``exact`` over the ``discrete`` reference, alternated in blocks (one run)."""
    models = {
        mode: fresh_model(
            cfg.model_copy(update={"run": cfg.run.model_copy(update={"shuttle_mode": mode})})
        )
        for mode in ("discrete", "exact")
    }
    spent = dict.fromkeys(models, 0.0)
    blocks = 5
    for b in range(blocks):
        for mode, m in models.items():
            t0 = time.process_time()
            for k in range(1 + b * n // blocks, 1 + (b + 1) * n // blocks):
                m.simulate(replication=k)
            spent[mode] += time.process_time() - t0
    return (
        f"shuttle modes:        exact / discrete CPU time {spent['exact'] / spent['discrete']:.2f} "
        f"({n} replications each, alternated in {blocks} blocks; the default is "
        f"{cfg.run.shuttle_mode})"
    )


def timed_blocks(model: sim.Model, n: int, blocks: int = 10) -> tuple[float, list[float]]:
    """Time replications 1..n in blocks, each between two short bare SimPy measurements.

    The speed of a shared or throttled machine drifts within a run; a block's cost in bare-event
    equivalents uses the bare speed measured just before and after it. Returns the total CPU
    seconds and the equivalents per replication of each block.
    """
    total, equivs = 0.0, []
    before = bare_simpy(50_000)
    for b in range(blocks):
        reps = range(1 + b * n // blocks, 1 + (b + 1) * n // blocks)
        t0 = time.process_time()
        for k in reps:
            model.simulate(replication=k)
        spent = time.process_time() - t0
        after = bare_simpy(50_000)
        total += spent
        equivs.append(spent / max(1, len(reps)) * (before + after) / 2)
        before = after
    return total, equivs


def gc_line(model: sim.Model, n: int) -> str:
    """Objects freed by the cyclic collector per replication, and its share of CPU time."""
    spent, found, t_start = [0.0], [0], [0.0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            t_start[0] = time.process_time()
        else:
            spent[0] += time.process_time() - t_start[0]
            found[0] += info["collected"]

    gc.callbacks.append(on_gc)
    t0 = time.process_time()
    for k in range(1, n + 1):
        model.simulate(replication=k)
    gc.collect()  # what the last replications left behind
    total = time.process_time() - t0
    gc.callbacks.remove(on_gc)
    return (
        f"garbage collector:    {found[0] / n:,.0f} objects in reference cycles freed per "
        f"replication; {100 * spent[0] / total:.1f}% of CPU time in collections"
    )


if __name__ == "__main__":
    main()
