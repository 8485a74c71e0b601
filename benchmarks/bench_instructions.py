"""Instructions per replication, in bare SimPy timeouts: the load-independent engine figure.

Usage: python benchmarks/bench_instructions.py [--config PATH] [--set KEY=VALUE ...]
[--warmup W] [--replications N]

Timing on a shared or throttled machine moves by ±10-20% between runs of the same code; the
number of instructions a run executes does not. This runs four child processes under
``valgrind --tool=cachegrind`` (instruction counting only) with ``PYTHONHASHSEED=0`` and one
BLAS thread (results do not depend on BLAS threads; their idle spinning does vary):

* bare SimPy, a timeout loop of 1,000 and of 101,000 events: the difference over 100,000 is the
  instructions of one bare timeout (~8,750 on CPython 3.11);
* the config's model after ``W`` warm-up replications (other indices, as in the middle of a
  batch; cached solutions then forgotten and the heap frozen, as a worker does), followed by 0
  and by ``N`` replications: the difference over ``N`` is the instructions of one replication
  (run, accounting; the twin once, in the warm-up).

Their ratio is the replication's cost in bare-SimPy event equivalents by instructions. It is
lower than the time-based figure of ``bench_engine.py`` (the engine runs fewer instructions per
cycle than SimPy's tight loop), but exact: use it to compare two versions of the code. Needs
valgrind (``apt install valgrind``); each run takes a few minutes.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import shutil
import subprocess
import sys

_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def instructions(valgrind_stderr: str) -> int:
    """Return the instruction count of a cachegrind run from its report on stderr."""
    match = _REFS.search(valgrind_stderr)
    if match is None:
        raise RuntimeError("no 'I refs' line in valgrind's output:\n" + valgrind_stderr[-2000:])
    return int(match.group(1).replace(",", ""))


def child(what: str, warmup: int, n: int, config: str, overrides: list[str]) -> None:
    """The measured workload: bare SimPy events, or warm-up then ``n`` replications."""
    import simpy

    if what == "bare":
        env = simpy.Environment()

        def loop(env: simpy.Environment):
            while True:
                yield env.timeout(1.0)

        env.process(loop(env))
        env.run(until=warmup + n)
        return
    import sim

    model = sim.Model(sim.load_config(config, overrides=overrides))
    model.simulate(replication=0)  # the twin, once per worker
    for k in range(10_000, 10_000 + warmup):
        model.simulate(replication=k)
    model.solver.clear_cache()
    gc.collect()
    gc.freeze()  # as the batch workers do (sim/batch/worker.py)
    for k in range(1, n + 1):
        model.simulate(replication=k)


def counted(args: list[str]) -> int:
    """Instructions of this script run as a child with ``args`` under cachegrind."""
    cmd = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
        sys.executable,
        os.path.abspath(__file__),
        "--child",
        *args,
    ]
    # One BLAS thread: OpenBLAS's worker threads spin while they wait, a varying count of
    # instructions (±4% between identical runs with its default threads; 1e-5 with one).
    env = {**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return instructions(done.stderr)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="configs/kazakhstan.yaml")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--replications", type=int, default=40)
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        what, w, n = args.child[0], int(args.child[1]), int(args.child[2])
        child(what, w, n, args.config, args.set)
        return
    if shutil.which("valgrind") is None:
        sys.exit("bench_instructions: valgrind is not installed (apt install valgrind)")
    extra = ["--config", args.config] + [f"--set={o}" for o in args.set]
    bare = (counted(["bare", "1000", "100000"]) - counted(["bare", "1000", "0"])) / 100_000
    w, n = str(args.warmup), args.replications
    per_rep = (counted(["model", w, str(n), *extra]) - counted(["model", w, "0", *extra])) / n
    print(
        f"config: {args.config}"
        + "".join(f" --set {o}" for o in args.set)
        + f", warm-up {args.warmup}, replications {n}"
    )
    print(f"bare SimPy timeout:   {bare:,.0f} instructions")
    print(f"replication:          {per_rep / 1e6:,.2f} M instructions")
    equivalents = per_rep / bare
    print(f"machine-free:         {equivalents:,.0f} bare-SimPy timeouts' worth of instructions")


if __name__ == "__main__":
    main()
