"""The run commands of ``corridor-sim``: ``run``, ``resume`` and ``summary``.

Registered by :mod:`sim.cli.main`; their options are declared once in :mod:`sim.batch.options`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from sim.base import interrupts
from sim.batch.options import RunOptions
from sim.store.layout import read_summary, safe_dir_name


def print_summary(summary: dict, file=None, run=None) -> None:
    """Print the summary of a run (to stdout by default): the one text of ``run`` and ``summary``.

    With ``run`` (a :class:`~sim.results.RunResult`) the run's horizon is described and
    the commands that go further are named (see :func:`sim.batch.summary.format_summary`).
    """
    from sim.batch.summary import format_summary

    file = sys.stdout if file is None else file
    if run is None:
        print(format_summary(summary), file=file)
        return
    from sim.base.errors import InputError

    try:
        settings = run.config.run
        horizon, start = settings.horizon_days, str(settings.start_date)
    except InputError:  # the summary needs no config: without it, the horizon is not named
        horizon = start = None
    print(format_summary(summary, run.path, horizon, start), file=file)


def _end_block(result, wall: float) -> None:
    man = result.manifest
    reps = json.loads((result.path / "summary.json").read_text())["replications"]
    done = result.computed  # by this session: a resume's rate is that of what it computed
    now = f" ({done} computed now)" if done != man["replications"] else ""
    print(
        f"\nreplications: {reps}{now}   wall time: {wall:.1f} s   "
        f"replications/s: {done / wall if wall > 0 else float('nan'):.1f}   "
        f"workers: {man.get('workers')} ({man.get('executor')})   failed: {result.n_failed}"
    )
    if man.get("target_rel_ci") is not None:
        got = man.get("target_rel_ci_achieved")
        print(
            f"target: 95% CI half-width of mean revenue_loss_usd within "
            f"{man['target_rel_ci']:.2%} of the mean: "
            f"{'reached' if man.get('target_reached') else 'NOT reached'} "
            f"({'undefined' if got is None else f'{got:.2%}'}) with {man['replications']} "
            "replications"
        )
    print(f"results: {result.path}")


def _report_run(result, wall: float) -> int:
    """Print the end of a run or resume; return its exit code."""
    if result.unchanged:
        print(
            f"{result.path}: the run is already complete "
            f"({result.manifest['replications']} replications); nothing to do"
        )
    else:
        print_summary(json.loads((result.path / "summary.json").read_text()), run=result)
        _end_block(result, wall)
    return 1 if result.n_failed else 0


def cmd_run(args: argparse.Namespace, path: str) -> int:
    """``corridor-sim run``: run the config at ``path``; return the exit code."""
    from sim.api import load_config, run_with
    from sim.base.errors import InputError, Problem

    if args.resume and not args.out:
        raise InputError(
            Problem(
                "--resume",
                "needs --out DIR, the run directory to finish (or use `corridor-sim resume DIR`)",
            )
        )
    cfg = load_config(path, args.set)
    if args.timeseries:
        cfg = cfg.model_copy(update={"run": cfg.run.model_copy(update={"timeseries": True})})
    out = args.out or f"runs/{safe_dir_name(cfg.name)}-{time.strftime('%Y%m%d-%H%M%S')}"
    t0 = time.perf_counter()
    try:
        result = run_with(cfg, RunOptions.from_cli(args, out=out))
    except KeyboardInterrupt as exc:
        print(f"\n{stopped(exc)}; finish with: corridor-sim resume {out}", file=sys.stderr)
        return interrupts.exit_code(exc)
    return _report_run(result, time.perf_counter() - t0)


def cmd_resume(args: argparse.Namespace) -> int:
    """``corridor-sim resume``: finish a run directory; return the exit code."""
    from sim.api import load_run, run_with

    t0 = time.perf_counter()
    try:
        prev = load_run(args.run_dir)  # a stop while it is read also says how to go on
        cfg = prev.config
        man = prev.manifest
        given = dict(seed=man["seed"], out=args.run_dir, resume=True)
        options = RunOptions.from_cli(args, target_rel_ci=man.get("target_rel_ci"), **given)
        result = run_with(cfg, options)
    except KeyboardInterrupt as exc:
        print(f"\n{stopped(exc)}; finish with: corridor-sim resume {args.run_dir}", file=sys.stderr)
        return interrupts.exit_code(exc)
    return _report_run(result, time.perf_counter() - t0)


def cmd_summary(args: argparse.Namespace) -> int:
    """``corridor-sim summary``: print the summary of a finished run directory."""
    from sim.api import load_run

    res = load_run(args.run_dir, finished=True)
    print_summary(read_summary(res.path, res.manifest), run=res)
    return 0


def stopped(exc: BaseException) -> str:
    """Say that a signal stopped the command and that finished chunks are kept."""
    return f"interrupted ({interrupts.signal_name(exc)}); finished chunks are kept"
