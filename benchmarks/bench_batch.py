"""Batch benchmark: replications/s at 1 and 2 worker processes, parallel efficiency.

Usage: python benchmarks/bench_batch.py [--replications N] [--config PATH]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import sim


def timed_run(cfg, n: int, workers: int, executor: str = "processes") -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        sim.run(cfg, replications=n, seed=1, workers=workers, executor=executor, out=f"{tmp}/run")
        return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replications", type=int, default=400)
    ap.add_argument("--config", default="configs/kazakhstan.yaml")
    args = ap.parse_args()
    cfg = sim.load_config(args.config)
    n = args.replications
    one = timed_run(cfg, n, 1)
    two = timed_run(cfg, n, 2)
    print(f"config: {args.config}, replications: {n}")
    print(f"1 worker:  {n / one:.1f} replications/s ({one:.1f} s)")
    print(f"2 workers: {n / two:.1f} replications/s ({two:.1f} s)")
    print(f"parallel efficiency at 2 workers: {100 * one / (2 * two):.0f}%")


if __name__ == "__main__":
    main()
