"""Command-line interface: ``corridor-sim`` and ``python -m sim``.

Bad input (configs, overrides, run directories) ends with one clear message on stderr and exit
code 2; failed replications end with exit code 1; a run the environment stopped (full disk,
unwritable directory, dying workers) with exit code 3; a run stopped by SIGINT or SIGTERM with
130 or 143 and a hint on how to resume (see :mod:`sim.base.interrupts`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from sim.base import interrupts
from sim.base.safeio import check_arguments
from sim.base.version import __version__
from sim.batch.options import RESUME_FLAGS, add_run_options
from sim.cli import outputs as cli_outputs
from sim.cli import runs as cli_runs
from sim.cli import screen as cli_screen
from sim.cli import studies as cli_studies
from sim.cli.runs import stopped
from sim.store.layout import safe_dir_name

DEFAULT_CONFIG = "configs/kazakhstan.yaml"
DEFAULT_FITTED = "configs/hazards.fitted.yaml"
PATH_ARGUMENTS = (
    *("config", "run_dir", "experiment", "catalog", "out", "report_dir", "events", "recorded"),
)
"""Parsed arguments that name files or directories (see :func:`sim.base.safeio.check_arguments`)."""


def default_config_path() -> Path:
    """Return the shipped default config (here, or beside the installed package)."""
    here = Path(DEFAULT_CONFIG)
    if here.is_file():
        return here
    return Path(__file__).resolve().parents[2] / DEFAULT_CONFIG


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser."""
    parser = argparse.ArgumentParser(
        prog="corridor-sim",
        description="Disruption-risk simulation of oil export corridors.",
    )
    parser.add_argument("--version", action="version", version=f"corridor-sim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check a config file")
    p.add_argument("config", nargs="?", help=f"config file (default: {DEFAULT_CONFIG})")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")

    sub.add_parser("schema", help="print the config JSON Schema")

    p = sub.add_parser("run", help="run a batch of replications")
    p.add_argument("config", nargs="?", help=f"config file (default: {DEFAULT_CONFIG})")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="dotted override, e.g. hazards.cpc_storm.arrivals.rate_per_year=4",
    )
    add_run_options(p)
    p.add_argument("--timeseries", action="store_true", help="keep daily series")

    p = sub.add_parser("resume", help="finish the missing replications of a run directory")
    p.add_argument("run_dir")
    add_run_options(p, RESUME_FLAGS)

    p = sub.add_parser("summary", help="print the summary of a run directory")
    p.add_argument("run_dir")

    p = sub.add_parser("plot", help="write figures of a run directory to DIR/figures")
    p.add_argument("run_dir")

    p = sub.add_parser(
        "experiment",
        help="run scenarios of an experiment file under common "
        "random numbers and compare them with the base",
    )
    p.add_argument("experiment")
    p.add_argument("--out", "-o", help="experiment directory (default: runs/<name>)")
    p.add_argument("--replications", "-n", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--workers", "-w", type=int)
    add_run_options(p, ["executor"])
    p.add_argument("--resume", action="store_true", help="reuse finished scenario runs")
    p.add_argument(
        "--check", action="store_true", help="validate the file and its scenarios; run nothing"
    )
    p.add_argument("--quiet", "-q", action="store_true")

    cli_studies.add_parsers(sub, DEFAULT_CONFIG)
    cli_screen.add_parser(sub, DEFAULT_CONFIG)

    p = sub.add_parser("report", help="write DIR/report.html (self-contained, opens offline)")
    p.add_argument("run_dir")

    p = sub.add_parser("losses", help="loss tables of a run directory (printed and in DIR/tables)")
    p.add_argument("run_dir")
    p.add_argument(
        "--return-periods",
        metavar="YEARS,...",
        help="return periods of return_periods.csv, e.g. 5,10,100 (default: 5,10,25,50,100,250)",
    )

    p = sub.add_parser("calibrate", help="fit hazard rates and durations to a disruption catalog")
    p.add_argument("catalog", help="disruption catalog CSV (see seeds/README.md)")
    p.add_argument("--out", "-o", default=DEFAULT_FITTED, help=f"YAML (default: {DEFAULT_FITTED})")
    p.add_argument("--as-of", help="end of the observation window, YYYY-MM-DD (default: latest)")
    p.add_argument(
        "--window-start",
        choices=("catalog", "asset"),
        default="catalog",
        help="open each window at the catalog's first event (default) or at the asset's own "
        "first event (biased upwards)",
    )
    p.add_argument(
        "--window",
        action="append",
        default=[],
        metavar="ASSET=START[:END]",
        help="observation window of one catalog asset, e.g. cpc_spm=2021-01-01",
    )
    p.add_argument("--split-date", help="also fit rates before/after this date, YYYY-MM-DD")
    p.add_argument(
        "--split-regimes",
        metavar="BEFORE,AFTER",
        help="config regimes the two periods become (default: calm,conflict)",
    )
    p.add_argument(
        "--split-causes",
        metavar="CAUSE,...",
        help="split only these cause classes, e.g. military,regulatory,political (default: all)",
    )
    p.add_argument("--seasonal", action="store_true", help="fit shrunk monthly multipliers")
    p.add_argument(
        "--season-prior",
        type=float,
        help="weight of the flat seasonal prior in pseudo-events (default 12)",
    )
    p.add_argument("--report-dir", help="report directory (default: beside --out, *_report)")
    p.add_argument("--no-report", action="store_true", help="write no report")
    p.add_argument(
        "--config", help=f"config whose asset ids are written (default: {DEFAULT_CONFIG})"
    )
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="CATALOG_ASSET=MODEL_ASSET",
        help="write a catalog asset's hazards to a model asset, e.g. cpc_spm=cpc_terminal",
    )

    p = sub.add_parser(
        "replay", help="replay a past year's events on the network and compare with the record"
    )
    p.add_argument("config", nargs="?", help=f"config file (default: {DEFAULT_CONFIG})")
    p.add_argument("--events", required=True, help="schedule CSV, e.g. seeds/replay_2022.csv")
    p.add_argument("--year", type=int, required=True, help="calendar year to replay")
    p.add_argument("--out", "-o", required=True, help="output directory (new or empty)")
    p.add_argument(
        "--recorded",
        help="recorded throughputs CSV (default: seeds/recorded_throughput.csv; 'none': skip)",
    )
    p.add_argument(
        "--catalog",
        help="catalog the schedule cites (default: seeds/disruption_events.csv; 'none': skip)",
    )
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    return parser


def _cmd_validate(args) -> int:
    from sim.config import load_config

    path = args.config or str(default_config_path())
    t0 = time.perf_counter()
    cfg = load_config(path, args.set)
    dt = (time.perf_counter() - t0) * 1000
    n_assets = len(cfg.asset_ids())
    print(
        f"{path}: valid ({n_assets} assets, {len(cfg.routes)} routes, "
        f"{len(cfg.hazards)} hazards; checked in {dt:.0f} ms)"
    )
    return 0


def _cmd_schema(_args) -> int:
    from sim.config.models import Config

    print(json.dumps(Config.model_json_schema(), indent=2))
    return 0


def _cmd_experiment(args) -> int:
    from sim.studies.experiments import load_experiment, run_experiment

    exp, _, scenarios = load_experiment(args.experiment)
    if args.check:
        print(f"{args.experiment}: valid ({len(scenarios)} scenarios besides the base)")
        return 0
    out = args.out or f"runs/{safe_dir_name(exp.name, 'experiment')}"
    try:
        table = run_experiment(
            args.experiment,
            out,
            replications=args.replications,
            seed=args.seed,
            workers=args.workers,
            executor=args.executor,
            resume=args.resume,
            progress=not args.quiet,
        )
    except KeyboardInterrupt as exc:
        hint = f"corridor-sim experiment {args.experiment} --out {out} --resume"
        print(f"\n{stopped(exc)}; finish with: {hint}", file=sys.stderr)
        return interrupts.exit_code(exc)
    cols = ["scenario", "metric", "mean_diff", "ci95_low", "ci95_high", "variance_reduction"]
    cols += [c for c in ("npv_usd", "benefit_cost_ratio") if c in table.columns]
    print(table[cols].to_string(index=False, float_format=lambda v: f"{v:,.4g}"))
    print(f"comparison written to {out}/comparison.csv")
    cli_studies.experiment_extras(Path(out))
    return 0


def _cmd_calibrate(args) -> int:
    from sim.calibration.command import calibrate_command

    return calibrate_command(args, str(default_config_path()))


def _cmd_replay(args) -> int:
    from sim.replay.command import replay_command

    return replay_command(args, str(default_config_path()))


COMMANDS = {
    "validate": _cmd_validate,
    "schema": _cmd_schema,
    "run": lambda args: cli_runs.cmd_run(args, args.config or str(default_config_path())),
    "resume": cli_runs.cmd_resume,
    "summary": cli_runs.cmd_summary,
    "plot": cli_outputs.cmd_plot,
    "losses": cli_outputs.cmd_losses,
    "report": cli_outputs.cmd_report,
    "calibrate": _cmd_calibrate,
    "replay": _cmd_replay,
    "experiment": _cmd_experiment,
    "plan": cli_studies.cmd_plan,
    "criticality": lambda args: cli_studies.cmd_criticality(
        args, args.config or str(default_config_path())
    ),
    "screen": lambda args: cli_screen.cmd_screen(args, args.config or str(default_config_path())),
}


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    from sim.base.errors import InputError, RunError

    try:
        with interrupts.stop_on_signals():
            args = build_parser().parse_args(argv)
            check_arguments(vars(args), PATH_ARGUMENTS)
            return COMMANDS[args.command](args)
    except (InputError, RunError) as exc:
        print(f"error: {exc.render()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        print(f"\ninterrupted ({interrupts.signal_name(exc)})", file=sys.stderr)
        return interrupts.exit_code(exc)
    except ImportError as exc:  # a stop request inside an extension module's import
        stop = interrupts.stop_behind(exc)
        if stop is None:
            raise
        print(f"\ninterrupted ({interrupts.signal_name(stop)})", file=sys.stderr)
        return interrupts.exit_code(stop)
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
