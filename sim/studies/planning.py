"""Size an experiment before running it: counts, and a wall-time estimate from a short pilot.

The pilot simulates a few replications of the base in this process (nothing is written). The
first replication also builds the model and simulates its undisrupted twin; later ones give the
time per replication. The estimate then lays out each run's chunks on the workers as the batch
coordinator would, adds the per-run cost of building the model in a worker and of writing and
summarising the run directory, and the start-up of the worker pool. It assumes every scenario
runs as fast as the base; scenarios with more disruptions run slower.
"""

from __future__ import annotations

import math
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sim.base.errors import InputError, Problem
from sim.base.limits import MAX_PILOT_REPLICATIONS
from sim.batch.executors import check_executor_options
from sim.batch.options import (
    check_option,
    default_chunk_size,
    default_workers,
    plan_chunks,
    resolve_seed,
)
from sim.replication.runner import Model
from sim.studies.scenarios import experiment_replications, load_experiment

MAX_PILOT = 1_000
"""Most pilot replications (``--pilot``): enough for a stable median time per replication."""

RUN_OVERHEAD_S = 0.4
"""Writing, summarising and listing one run directory (config dump, manifest, summary)."""
POOL_START_S = {"serial": 0.0, "processes": 2.0, "dask": 6.0}
"""Starting the workers once per experiment (spawned processes import the package)."""


@dataclass(frozen=True)
class Plan:
    """What an experiment will run and how long it should take."""

    name: str
    file: str
    base: str
    runs_by_kind: dict[str, int]
    replications: int
    seed: int
    pilot_replications: int
    seconds_per_replication: float
    seconds_first: float
    workers: int
    executor: str
    estimate_seconds: float

    @property
    def runs(self) -> int:
        """Runs including the base."""
        return 1 + sum(self.runs_by_kind.values())

    @property
    def total_replications(self) -> int:
        """Replications over all runs."""
        return self.runs * self.replications


def plan_experiment(
    path: str | Path,
    replications: int | None = None,
    workers: int | None = None,
    executor: str = "processes",
    pilot: int = 5,
    seed: int | None = None,
) -> Plan:
    """Load and validate an experiment, time a pilot of the base, and estimate the wall time.

    Raises
    ------
    InputError
        For a bad experiment file, or a replication count, seed, worker count or pilot size
        outside :mod:`sim.base.limits` (checked before anything is built).
    """
    check_executor_options(executor, workers, None)
    exp, base, _ = load_experiment(path)
    n = experiment_replications(exp, replications)
    root = resolve_seed(exp.seed if seed is None else seed, exp.seed)
    check_option("workers", workers)
    if not 2 <= pilot <= MAX_PILOT_REPLICATIONS:
        raise InputError(
            Problem("--pilot", f"expected 2 to {MAX_PILOT_REPLICATIONS} replications, got {pilot}")
        )
    kinds = Counter(r.kind for r in exp.expanded().values())
    w = 1 if executor == "serial" else default_workers(workers)
    pilot = int(pilot)
    t0 = time.perf_counter()
    model = Model(base)
    times = []
    for k in range(pilot):
        t = time.perf_counter()
        model.simulate(seed=root, replication=k)
        times.append(time.perf_counter() - t)
    first = times[0] + (time.perf_counter() - t0 - sum(times))
    per_rep = statistics.median(times[1:])
    size = default_chunk_size(n, w)
    chunks = len(plan_chunks(0, n, size))
    per_run = math.ceil(chunks / w) * min(size, n) * per_rep + max(first - per_rep, 0.0)
    runs = 1 + sum(kinds.values())
    estimate = POOL_START_S.get(executor, 0.0) + runs * (per_run + RUN_OVERHEAD_S)
    return Plan(
        name=exp.name,
        file=str(path),
        base=base.name,
        runs_by_kind=dict(kinds),
        replications=n,
        seed=root,
        pilot_replications=pilot,
        seconds_per_replication=per_rep,
        seconds_first=first,
        workers=w,
        executor=executor,
        estimate_seconds=estimate,
    )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


LABELS = {
    "scenario": "named scenarios",
    "one_at_a_time": "one-at-a-time levels",
    "factorial": "factorial points",
    "lhs": "Latin hypercube points",
    "sobol": "Sobol' (Saltelli) points",
}


def format_plan(plan: Plan) -> str:
    """Return the plan as the lines ``corridor-sim plan`` prints."""
    parts = " + ".join(f"{c} {LABELS.get(k, k)}" for k, c in plan.runs_by_kind.items())
    cpu = plan.total_replications * plan.seconds_per_replication
    return "\n".join(
        [
            f"experiment '{plan.name}' ({plan.file}), base config '{plan.base}'",
            f"  runs:         1 base + {parts} = {plan.runs:,} runs",
            f"  replications: {plan.replications:,} per run, {plan.total_replications:,} in all "
            f"(root seed {plan.seed}, the same indices in every run)",
            f"  pilot:        {plan.pilot_replications} replications of the base: "
            f"{plan.seconds_per_replication:.3f} s each, {plan.seconds_first:.2f} s for the "
            "first (model and twin)",
            f"  estimate:     about {_duration(plan.estimate_seconds)} wall time on "
            f"{plan.workers} worker{'s' if plan.workers > 1 else ''} ({plan.executor}); "
            f"{_duration(cpu)} of simulation",
            "  (a short pilot on the base only: expect +-30%, more if scenarios add "
            "disruptions; nothing was written)",
        ]
    )


__all__ = ["Plan", "format_plan", "plan_experiment"]
