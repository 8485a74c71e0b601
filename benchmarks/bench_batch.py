"""Batch benchmarks, each measured in one run of this script.

Usage::

    python benchmarks/bench_batch.py scaling [--replications N] [--repeat K]  # 1 vs 2 workers
    python benchmarks/bench_batch.py dask [--replications N]      # LocalCluster vs processes
    python benchmarks/bench_batch.py memory --small 1000 --large 100000
    python benchmarks/bench_batch.py wall [--replications 10000]  # wall time on 2 workers
    python benchmarks/bench_batch.py schedule                     # model of the tail

Every subcommand takes ``--set KEY=VALUE`` overrides (as ``corridor-sim run``), e.g.
``memory --set run.horizon_days=30`` measures memory against the replication count in a tenth
of the time: what grows with the count (rows, chunks, summaries) does not depend on the horizon.
``memory`` runs in child processes and reports each run's peak RSS (coordinator and workers).

``scaling`` prints the wall-clock parallel efficiency at 2 workers, start-up included (1-worker
wall / (2 x 2-worker wall)), and, because wall time on a shared machine is noisy, where the time
went: the coordinator's CPU and its share of all CPU; each worker's CPU and the time it was
ready but waited for a CPU (``/proc/<pid>/schedstat``, read every 50 ms; Linux); the extra
worker CPU of two workers over one (start-up and warm-up done twice); how long each worker sat
idle before the last chunk finished (the tail); the serial end (summary and checks, after the
last worker's last chunk); the workers' busy share (their CPU over the wall less their waits for
a CPU: a ratio within one run, which neither other processes nor a CPU's changing speed move).
Estimates follow: a CPU-time efficiency, (coordinator + worker CPU at 1 worker) / (2 x (busiest
worker's CPU + coordinator CPU at 2 workers)), and the efficiency with each run's wall less its
workers' mean wait for a CPU -- what two otherwise idle cores would show.
``--repeat K`` alternates K pairs of runs.

``schedule`` models the end of a run (no simulation): chunks dispatched to the first free worker,
with equal chunks and with the tapered tail of :func:`sim.batch.options.plan_chunks`, on idle
cores and with other processes slowing the workers by turns.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

import sim
from sim.batch.executors import ProcessExecutor

POLL_S = 0.05


def _proc_cpu(pid: int) -> tuple[float, float] | None:
    """Return (CPU seconds, seconds spent waiting for a CPU) of process ``pid``, or None.

    Linux ``/proc/<pid>/schedstat`` of its main thread: time on a CPU and time runnable but
    waiting in the run queue (another process had the core).
    """
    try:
        with open(f"/proc/{pid}/schedstat", "rb") as fh:
            run_ns, wait_ns = fh.read().split()[:2]
    except (OSError, ValueError):
        return None
    return int(run_ns) / 1e9, int(wait_ns) / 1e9


@dataclass
class Measure:
    """One timed run: wall and CPU seconds; per worker its CPU, CPU wait and last busy moment."""

    workers: int
    wall: float = 0.0
    coordinator_cpu: float = 0.0
    workers_cpu: float = 0.0
    per_worker: dict[int, list[float]] = field(default_factory=dict)  # pid -> cpu, busy, wait

    def idle_tail(self) -> list[float]:
        """Seconds each worker sat idle before the last one finished."""
        last = max(v[1] for v in self.per_worker.values())
        return [last - v[1] for v in self.per_worker.values()]

    def serial_end(self) -> float:
        """Seconds from the last worker's last busy moment to the end of the run."""
        return self.wall - max(v[1] for v in self.per_worker.values())

    def busy(self) -> float:
        """Share of the run's wall, less its waits for a CPU, that the workers computed.

        Start-up I/O, the idle tail, the serial end and waits for tasks lower it; other
        processes and the machine's speed do not (a ratio within one run).
        """
        have = sum(self.wall - v[2] for v in self.per_worker.values())
        return sum(v[0] for v in self.per_worker.values()) / have

    def cpu_wait(self) -> float:
        """Mean seconds a worker was ready to run but waited for a CPU."""
        return sum(v[2] for v in self.per_worker.values()) / len(self.per_worker)


class _Watch(threading.Thread):
    """Sample the CPU and CPU wait of an executor's worker processes until stopped."""

    def __init__(self, ex: ProcessExecutor, m: Measure, t0: float) -> None:
        super().__init__(daemon=True)
        self.ex, self.m, self.t0 = ex, m, t0
        self.stop = threading.Event()

    def run(self) -> None:
        start = time.thread_time()
        self._sample()
        while not self.stop.wait(POLL_S):
            self._sample()
        self.m.coordinator_cpu -= time.thread_time() - start  # the benchmark's own sampling

    def _sample(self) -> None:
        pool = self.ex._pool
        now = time.perf_counter() - self.t0
        for pid in list((getattr(pool, "_processes", None) or {}).keys()):
            got = _proc_cpu(pid)
            if got is None:
                continue
            rec = self.m.per_worker.setdefault(pid, [0.0, now, 0.0])
            if got[0] > rec[0]:
                rec[0], rec[1], rec[2] = got[0], now, got[1]


def timed_run(cfg, n: int, workers: int, executor: str = "processes") -> float:
    return measured_run(cfg, n, workers, executor).wall


def measured_run(cfg, n: int, workers: int, executor: str = "processes") -> Measure:
    m = Measure(workers)
    ex = ProcessExecutor(workers) if executor == "processes" else executor
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory() as tmp:
        t0, c0 = time.perf_counter(), time.process_time()
        watch = _Watch(ex, m, t0) if executor == "processes" else None
        if watch is not None:
            watch.start()
        try:
            sim.run(
                cfg,
                replications=n,
                seed=1,
                executor=ex,
                out=f"{tmp}/run",
                **({} if watch is not None else {"workers": workers}),
            )
            if watch is not None:
                ex.close()  # as a run that owns its executor: workers are joined before return
        except BaseException:
            if watch is not None:
                ex.close(cancel=True)
            raise
        finally:
            if watch is not None:
                watch.stop.set()
                watch.join()
        m.wall = time.perf_counter() - t0
        m.coordinator_cpu += time.process_time() - c0
    kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    m.workers_cpu = (kids1.ru_utime + kids1.ru_stime) - (kids0.ru_utime + kids0.ru_stime)
    return m


def _report(one: Measure, two: Measure, n: int) -> float:
    """Print one pair of runs (1 and 2 workers); return the wall-clock efficiency."""
    eff = one.wall / (2 * two.wall)
    print(f"1 worker:  {n / one.wall:.1f} replications/s ({one.wall:.1f} s)")
    print(f"2 workers: {n / two.wall:.1f} replications/s ({two.wall:.1f} s)")
    print(f"parallel efficiency at 2 workers (wall, start-up included): {100 * eff:.0f}%")
    for m in (one, two):
        total = m.coordinator_cpu + m.workers_cpu
        each = ", ".join(f"{v[0]:.1f}" for v in m.per_worker.values())
        idle = ", ".join(f"{s:.2f}" for s in m.idle_tail())
        print(
            f"  {m.workers} worker(s), CPU s: coordinator {m.coordinator_cpu:.2f} "
            f"({100 * m.coordinator_cpu / total:.1f}% of all CPU), workers {m.workers_cpu:.1f} "
            f"[{each}]; waiting for a CPU {m.cpu_wait():.1f} s per worker; idle at the tail "
            f"[{idle}] s; serial end {m.serial_end():.2f} s; busy {100 * m.busy():.1f}%"
        )
    busiest = max(v[0] for v in two.per_worker.values())
    print(
        f"  worker CPU at 2 workers vs 1: {100 * (two.workers_cpu / one.workers_cpu - 1):+.1f}% "
        "(start-up and warm-up paid by each worker; caches shared by more processes)"
    )
    cpu_eff = (one.coordinator_cpu + one.workers_cpu) / (2 * (busiest + two.coordinator_cpu))
    print(f"  CPU-time efficiency (busiest worker + coordinator): {100 * cpu_eff:.0f}%")
    print(
        f"  busy share at 2 workers / at 1: {100 * two.busy() / one.busy():.1f}% (idle the "
        "extra worker adds: start-up, tail, serial end; machine-free)"
    )
    quiet = (one.wall - one.cpu_wait()) / (2 * (two.wall - two.cpu_wait()))
    print(
        f"  efficiency without the workers' waits for a CPU (other processes): {100 * quiet:.0f}%"
    )
    return eff


def scaling(cfg, n: int, repeat: int = 1) -> None:
    """Alternate 1- and 2-worker runs ``repeat`` times; print each pair and the efficiencies."""
    effs = []
    for _ in range(repeat):
        one = measured_run(cfg, n, 1)
        two = measured_run(cfg, n, 2)
        effs.append(_report(one, two, n))
    if repeat > 1:
        print("wall efficiencies: " + ", ".join(f"{100 * e:.0f}%" for e in effs))


SCHEDULE_COST = {
    "startup": 53.0,  # 70 before workers dropped pandas and SciPy (bench_startup.py)
    "overhead": 1.5,
    "serial": 25.0,
    "sigma": 0.0,
    "tau": 150.0,
    "rep_cv": 0.6,
}
"""Defaults of ``schedule``, in replication-times: measured 2026-12-03 (README, Benchmarks)."""


def schedule_makespan(
    chunks: list[tuple[int, int]], workers: int, cost: dict[str, float], rng
) -> tuple[float, float]:
    """Return (makespan, mean tail idle) of ``chunks`` dispatched in order to the first free worker.

    Times are in replication-times. ``cost``: ``startup`` (per worker), ``overhead`` (per chunk),
    ``serial`` (after the last chunk), ``sigma`` and ``tau``: each worker's speed varies by a
    lognormal factor of ``sigma`` renewed every ``tau`` replication-times (other processes on
    the machine), ``rep_cv``: the spread of one replication's own cost.
    """
    import heapq

    free = [(cost["startup"], w) for w in range(workers)]
    ends = [cost["startup"]] * workers
    for a, b in chunks:
        t, w = heapq.heappop(free)
        size = b - a
        spread = cost["sigma"] ** 2 * min(1.0, cost["tau"] / size) + cost["rep_cv"] ** 2 / size
        t += (size + cost["overhead"]) * float(rng.lognormal(-spread / 2, spread**0.5))
        ends[w] = t
        heapq.heappush(free, (t, w))
    last = max(ends)
    return last + cost["serial"], sum(last - e for e in ends) / workers


def schedule(n_values: list[int], workers: int, cost: dict[str, float], draws: int) -> None:
    """Print the modelled efficiency at ``workers``: equal chunks against a tapered tail.

    The 1-worker baseline runs the same model with its own plan. ``sigma`` 0 is a machine with
    idle cores; 0.1 and 0.3 mimic other processes slowing each worker by turns.
    """
    import numpy as np

    from sim.batch.options import default_chunk_size, plan_chunks

    rng = np.random.default_rng(1)
    print(f"schedule model (replication-times): {cost}; {draws} draws each")
    for sigma in (0.0, 0.1, 0.3):
        c = {**cost, "sigma": sigma}
        for n in n_values:
            plan1 = plan_chunks(0, n, default_chunk_size(n, 1))
            one = np.mean([schedule_makespan(plan1, 1, c, rng)[0] for _ in range(draws)])
            row = []
            for taper in (0, workers):
                plan = plan_chunks(0, n, default_chunk_size(n, workers), taper)
                runs = [schedule_makespan(plan, workers, c, rng) for _ in range(draws)]
                span, idle = np.mean(runs, axis=0)
                eff = 100 * one / (workers * span)
                row.append(f"taper {taper}: {len(plan)} chunks, {eff:.1f}%, tail idle {idle:.0f}")
            print(f"  sigma {sigma}, {n} replications: " + "; ".join(row))


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
    ap.add_argument("what", choices=("scaling", "dask", "memory", "wall", "schedule"))
    ap.add_argument("--replications", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--large", type=int, default=100_000)
    ap.add_argument("--config", default="configs/kazakhstan.yaml")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    for key, value in SCHEDULE_COST.items():
        ap.add_argument(f"--{key.replace('_', '-')}", type=float, default=value)
    args = ap.parse_args()
    if args.what == "schedule":
        cost = {k: getattr(args, k) for k in SCHEDULE_COST}
        schedule([2_000, 10_000], 2, cost, 400)
        return
    cfg = sim.load_config(args.config, overrides=args.set)
    print(f"config: {args.config}" + "".join(f" --set {o}" for o in args.set))
    if args.what == "scaling":
        scaling(cfg, args.replications, args.repeat)
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
