"""Study commands of ``corridor-sim``: ``plan`` and experiment extras.

Kept apart from :mod:`sim.cli` (which registers them) so that each module stays small; the
same conventions hold: bad input raises :class:`~sim.errors.InputError` before anything is
written, and the command returns its exit code.
"""

from __future__ import annotations

import argparse
from pathlib import Path

EXECUTORS = ("serial", "processes", "dask")


def add_parsers(sub, default_config: str) -> None:
    """Add the ``plan`` sub-command to ``sub``."""
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


def experiment_extras(out: Path) -> None:
    """Print and plot the Sobol' indices of an experiment directory, if it has any."""
    from sim import plots
    from sim.experiments import load_sobol

    indices = load_sobol(out)
    if len(indices):
        cols = ["metric", "parameter", "S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"]
        print(indices[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        figures = out / "figures"
        figures.mkdir(exist_ok=True)
        for metric in dict.fromkeys(indices["metric"].astype(str)):
            fig = plots.sobol_indices(indices, metric)
            for ext in ("png", "svg"):
                fig.savefig(figures / f"sobol_{metric}.{ext}")
            plots.plt.close(fig)
        print(f"Sobol' indices written to {out}/sobol.csv and {figures}")
    print(f"EMA Workbench results: {out}/ema_results.tar.gz (sim.ema.load_results)")


def cmd_plan(args) -> int:
    """``corridor-sim plan EXPERIMENT``."""
    from sim.planning import format_plan, plan_experiment

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


__all__ = ["add_parsers", "cmd_plan", "experiment_extras"]
