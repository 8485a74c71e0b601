"""Worker start-up: what a fresh worker process spends before it runs at its steady cost.

Usage::

    python benchmarks/bench_startup.py [--pairs 4] [--warm 100]
    python benchmarks/bench_startup.py --tree /tmp/before --tree .   # two source trees, alternated

Each measurement is a fresh interpreter that does what a pool worker does: import
``sim.batch.worker``, build the model from the resolved config (as a chunk task carries it) and
simulate replications 0 to ``--warm`` - 1, then the same replications again (the routing
solutions cache emptied first, as it is whenever it fills up). It reports the CPU time of the
imports, of the model, and the warm-up: the first pass's CPU over the second's (LP bases probed,
the twin run, caches filled). The second pass gives the steady cost of a replication. Last, it
runs a chunk of one replication and writes its files: the first write (less that replication)
counts too (lazy imports of the writer). Start-up is printed in steady replications' worth
(imports + model + warm-up + first write, over that cost), a figure free of the machine's
speed. With several ``--tree`` (each put first on ``PYTHONPATH``), the trees take turns, so
both see the same machine; the pairwise ratio of start-up CPU is printed last.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = """
import json, sys, time
t0 = time.process_time()
import sim.batch.worker as w
t1 = time.process_time()
model = w._model(sys.argv[2], sys.argv[1])
t2 = time.process_time()
passes = []
for _ in range(2):
    a = time.process_time()
    for k in range(int(sys.argv[3])):
        model.simulate(seed=1, replication=k)
    passes.append(time.process_time() - a)
    model.solver.clear_cache()
import tempfile
with tempfile.TemporaryDirectory() as out:  # a chunk of one replication, its files written
    task = w.ChunkTask(sys.argv[1], sys.argv[2], 1, 0, 1, out)
    a = time.process_time()
    w.run_chunk(task)
    write = time.process_time() - a
heavy = sorted(m for m in ("pandas", "scipy", "matplotlib") if m in sys.modules)
out = {"import": t1 - t0, "model": t2 - t1, "passes": passes, "write": write, "heavy": heavy}
print(json.dumps(out))
"""


def measure(tree: str, cfg_json: str, chash: str, warm: int) -> dict:
    """Run one fresh worker-like process on ``tree``; return its CPU split."""
    env = dict(os.environ, PYTHONPATH=str(Path(tree).resolve()))
    out = subprocess.run(
        [sys.executable, "-c", CHILD, cfg_json, chash, str(warm)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=Path(tree).resolve(),
    )
    m = json.loads(out.stdout.strip().splitlines()[-1])
    first, again = m["passes"]
    m["steady"] = again / warm
    m["warm_up"] = first - again
    m["write"] -= m["steady"]  # the chunk's one replication
    m["startup"] = m["import"] + m["model"] + m["warm_up"] + m["write"]
    return m


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="configs/kazakhstan.yaml")
    ap.add_argument("--tree", action="append", default=[], help="source tree (default: .)")
    ap.add_argument("--pairs", type=int, default=4, help="measurements per tree")
    ap.add_argument("--warm", type=int, default=100, help="replications per pass")
    args = ap.parse_args()
    from sim.config.loader import config_hash, load_config

    cfg = load_config(args.config)
    cfg_json = json.dumps(cfg.model_dump(mode="json"), sort_keys=True)
    trees = args.tree or ["."]
    got: dict[str, list[dict]] = {t: [] for t in trees}
    for i in range(args.pairs):
        for tree in trees if i % 2 == 0 else trees[::-1]:
            m = measure(tree, cfg_json, config_hash(cfg), args.warm)
            got[tree].append(m)
            print(
                f"{tree}: imports {m['import']:.3f} s, model {m['model']:.3f} s, warm-up "
                f"{m['warm_up']:.3f} s, first write {m['write']:.3f} s, steady "
                f"{1e3 * m['steady']:.2f} ms/replication: start-up "
                f"{m['startup'] / m['steady']:.0f} replications' worth; heavy imports "
                f"{m['heavy'] or 'none'}",
                flush=True,
            )
    for tree, ms in got.items():
        keys = ("import", "model", "warm_up", "write")
        med = {k: statistics.median(m[k] for m in ms) for k in keys}
        worth = sorted(m["startup"] / m["steady"] for m in ms)
        print(
            f"{tree} (median of {len(ms)}): imports {med['import']:.3f} s, model "
            f"{med['model']:.3f} s, warm-up {med['warm_up']:.3f} s, first write "
            f"{med['write']:.3f} s; start-up "
            f"{statistics.median(worth):.0f} steady replications' worth ({worth[0]:.0f}-"
            f"{worth[-1]:.0f})"
        )
    if len(trees) == 2:
        a, b = got[trees[0]], got[trees[1]]
        ratios = [y["startup"] / x["startup"] for x, y in zip(a, b)]
        steady = [y["steady"] / x["steady"] for x, y in zip(a, b)]
        print(
            f"start-up CPU, {trees[1]} / {trees[0]}, pairwise: "
            + ", ".join(f"{r:.2f}" for r in ratios)
            + f"; steady cost ratio (median) {statistics.median(steady):.2f}"
        )


if __name__ == "__main__":
    main()
