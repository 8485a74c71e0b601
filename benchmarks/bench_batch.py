"""Batch benchmarks, each measured in one run of this script.

Usage::

    python benchmarks/bench_batch.py scaling [--replications N]   # 1 vs 2 workers
    python benchmarks/bench_batch.py dask [--replications N]      # LocalCluster vs processes
    python benchmarks/bench_batch.py memory --small 1000 --large 100000
    python benchmarks/bench_batch.py wall [--replications 10000]  # wall time on 2 workers

Every subcommand takes ``--set KEY=VALUE`` overrides (as ``corridor-sim run``), e.g.
``memory --set run.horizon_days=30`` measures memory against the replication count in a tenth
of the time: what grows with the count (rows, chunks, summaries) does not depend on the horizon.
``memory`` runs in child processes and reports each run's peak RSS (coordinator and workers).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time

import sim


def timed_run(cfg, n: int, workers: int, executor: str = "processes") -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        sim.run(cfg, replications=n, seed=1, workers=workers, executor=executor, out=f"{tmp}/run")
        return time.perf_counter() - t0


def scaling(cfg, n: int) -> None:
    one = timed_run(cfg, n, 1)
    two = timed_run(cfg, n, 2)
    print(f"1 worker:  {n / one:.1f} replications/s ({one:.1f} s)")
    print(f"2 workers: {n / two:.1f} replications/s ({two:.1f} s)")
    print(f"parallel efficiency at 2 workers: {100 * one / (2 * two):.0f}%")


def dask(cfg, n: int) -> None:
    proc = timed_run(cfg, n, 2, "processes")
    dsk = timed_run(cfg, n, 2, "dask")
    print(
        f"processes: {proc:.1f} s, dask LocalCluster: {dsk:.1f} s "
        f"(overhead {100 * (dsk / proc - 1):+.0f}%, cluster start-up included)"
    )


def _child_peak(config: str, overrides: list[str], n: int) -> dict:
    code = (
        "import json, resource, sys, tempfile, sim\n"
        f"cfg = sim.load_config({config!r}, overrides={overrides!r})\n"
        "with tempfile.TemporaryDirectory() as tmp:\n"
        f"    sim.run(cfg, replications={n}, seed=1, workers=2, out=tmp + '/r')\n"
        "self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "kids_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(json.dumps({'coordinator_mb': self_kb / 1024, 'worker_mb': kids_kb / 1024}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def memory(config: str, overrides: list[str], small: int, large: int) -> None:
    a = _child_peak(config, overrides, small)
    b = _child_peak(config, overrides, large)
    for name in ("coordinator_mb", "worker_mb"):
        print(
            f"peak RSS {name}: {a[name]:.0f} MB at {small} vs {b[name]:.0f} MB at {large} "
            f"replications (ratio {b[name] / a[name]:.2f})"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("scaling", "dask", "memory", "wall"))
    ap.add_argument("--replications", type=int, default=400)
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--large", type=int, default=100_000)
    ap.add_argument("--config", default="configs/kazakhstan.yaml")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    cfg = sim.load_config(args.config, overrides=args.set)
    print(f"config: {args.config}" + "".join(f" --set {o}" for o in args.set))
    if args.what == "scaling":
        scaling(cfg, args.replications)
    elif args.what == "dask":
        dask(cfg, args.replications)
    elif args.what == "memory":
        memory(args.config, args.set, args.small, args.large)
    else:
        wall = timed_run(cfg, args.replications, 2)
        print(f"{args.replications} replications on 2 workers: {wall:.1f} s wall")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
