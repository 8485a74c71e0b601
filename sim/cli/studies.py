"""Study commands of ``corridor-sim``: ``plan``, ``criticality``, and experiment extras.

Kept apart from :mod:`sim.cli.main` (which registers them) so that each module stays small; the
same conventions hold: bad input raises :class:`~sim.base.errors.InputError` before anything is
written, and the command returns its exit code.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sim.batch.options import EXECUTORS


def add_parsers(sub, default_config: str) -> None:
    """Add the ``plan`` and ``criticality`` sub-commands to ``sub``."""
    p: argparse.ArgumentParser = sub.add_parser(
        "plan",
        help="count an experiment's runs and estimate its wall time from a short pilot "
        "(writes nothing)",
    )
    p.add_argument("experiment")
    p.add_argument("--replications", "-n", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--workers", "-w", type=int, help="workers to plan for (default: all cores)")
    p.add_argument("--executor", choices=EXECUTORS, default="processes")
    p.add_argument("--pilot", type=int, default=5, help="pilot replications (default 5)")

    p = sub.add_parser(
        "criticality", help="knock out each asset in turn and rank the losses it causes"
    )
    p.add_argument("config", nargs="?", help=f"config file (default: {default_config})")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--duration-days", type=float, default=30.0, help="outage length (30)")
    p.add_argument(
        "--start",
        default="worst",
        help="'worst' (try the first day of each month, keep the worst) or YYYY-MM-DD",
    )
    p.add_argument(
        "--own-repair",
        action="store_true",
        help="draw each outage from the asset's hazards' durations (hazards and prices on)",
    )
    p.add_argument("--replications", "-n", type=int, help="per knock-out (1; own repair 100)")
    p.add_argument("--seed", type=int)
    p.add_argument("--include-sources", action="store_true", help="knock out sources too")
    p.add_argument("--workers", "-w", type=int)
    p.add_argument("--executor", choices=EXECUTORS, default="processes")
    p.add_argument("--out", "-o", help="output directory (default: runs/<name>-criticality)")
    p.add_argument("--quiet", "-q", action="store_true")


def experiment_extras(out: Path) -> None:
    """Print and plot the Sobol' indices of an experiment directory, if it has any."""
    from sim.figures import studies as plots
    from sim.figures.style import close
    from sim.store.outputs import owned_subdir, save_figure
    from sim.studies.experiments import load_sobol

    indices = load_sobol(out)
    if len(indices):
        cols = ["metric", "parameter", "S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"]
        print(indices[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        figures = owned_subdir(out, "figures")
        for metric in dict.fromkeys(indices["metric"].astype(str)):
            fig = plots.sobol_indices(indices, metric)
            for ext in ("png", "svg"):
                save_figure(fig, figures / f"sobol_{metric}.{ext}")
            close(fig)
        print(f"Sobol' indices written to {out}/sobol.csv and {figures}")
    print(f"EMA Workbench results: {out}/ema_results.tar.gz (sim.studies.ema.load_results)")


def cmd_plan(args) -> int:
    """``corridor-sim plan EXPERIMENT``."""
    from sim.studies.planning import format_plan, plan_experiment

    plan = plan_experiment(
        args.experiment,
        replications=args.replications,
        workers=args.workers,
        executor=args.executor,
        pilot=args.pilot,
        seed=args.seed,
    )
    print(format_plan(plan))
    return 0


CRITICALITY_FILES = tuple(
    f"{stem}.{ext}"
    for stem, exts in (
        ("criticality", ("parquet", "csv", "json", "png", "svg")),
        ("criticality_by_start", ("parquet", "csv")),
    )
    for ext in exts
)
"""The files ``criticality`` writes to its output directory (the only ones it replaces)."""


def cmd_criticality(args, config_path: str) -> int:
    """``corridor-sim criticality [CONFIG]``: ranked tables and a chart in ``--out``.

    The default directory is ``runs/<config file stem>-criticality`` (the stem reduced to one
    safe path component); an existing one must be an earlier criticality output.
    """
    from sim.config import load_config
    from sim.figures import studies as plots
    from sim.figures.style import close
    from sim.store.layout import (
        atomic_write_bytes,
        atomic_write_json,
        atomic_write_parquet,
        safe_dir_name,
    )
    from sim.store.outputs import check_output_dir, claim_output_dir, save_figure
    from sim.studies.criticality import CriticalityOptions, criticality, format_table

    cfg = load_config(config_path, args.set)
    stem = safe_dir_name(Path(config_path).stem, "config")
    out = Path(args.out or f"runs/{stem}-criticality")
    check_output_dir(out, "criticality", CRITICALITY_FILES, legacy="criticality.json")
    last = [time.perf_counter()]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if not args.quiet and (now - last[0] > 10 or done == total):
            print(f"[corridor-sim] {done}/{total} knock-outs", file=sys.stderr, flush=True)
            last[0] = now

    options = CriticalityOptions(
        duration_days=args.duration_days,
        start=args.start,
        own_repair=args.own_repair,
        replications=args.replications,
        seed=args.seed,
        include_sources=args.include_sources,
        workers=args.workers,
        executor=args.executor,
    )
    res = criticality(cfg, options, progress=progress)
    claim_output_dir(out, "criticality", CRITICALITY_FILES, legacy="criticality.json")
    for name, df in (("criticality", res.table), ("criticality_by_start", res.by_start)):
        atomic_write_parquet(out / f"{name}.parquet", df)
        atomic_write_bytes(out / f"{name}.csv", df.to_csv(index=False).encode())
    atomic_write_json(out / "criticality.json", {**res.settings, "file": config_path})
    fig = plots.criticality(res.table)
    for ext in ("png", "svg"):
        save_figure(fig, out / f"criticality.{ext}")
    close(fig)
    print(format_table(res.table))
    print(f"hazards {res.settings['hazards']}, prices {res.settings['prices']}")
    print(f"tables and chart written to {out}")
    return 0


__all__ = ["add_parsers", "cmd_criticality", "cmd_plan", "experiment_extras"]
