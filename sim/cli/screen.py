"""``corridor-sim screen``: the APPROXIMATE vectorised screening mode, on the command line.

It prints a table labelled approximate (see :mod:`sim.studies.screening`); with ``--check N``
it also runs N DES replications of the same config and seed and prints the screen's bias
against them and the time ratio; with ``--out DIR`` it writes the per-replication table to an
owned output directory.
"""

from __future__ import annotations

import argparse
from pathlib import Path

SCREEN_FILES = ("screening.parquet", "screening.csv")
"""The files ``screen --out`` writes (the only ones it replaces)."""


def add_parser(sub, default_config: str) -> None:
    """Add the ``screen`` sub-command to ``sub``."""
    p: argparse.ArgumentParser = sub.add_parser(
        "screen",
        help="APPROXIMATE vectorised screening: volume and revenue lost over many replications",
    )
    p.add_argument("config", nargs="?", help=f"config file (default: {default_config})")
    p.add_argument("--replications", "-n", type=int, default=10_000, help="(default 10000)")
    p.add_argument("--seed", type=int, help="root seed (default: the config's run.seed)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument(
        "--check",
        type=int,
        metavar="N",
        help="also run N DES replications (same seed) and print the screen's bias against them",
    )
    p.add_argument("--out", "-o", help="write screening.parquet/.csv to this directory")


def cmd_screen(args, config_path: str) -> int:
    """``corridor-sim screen [CONFIG]``."""
    from sim.api import load_config, screen
    from sim.base.errors import InputError, Problem
    from sim.store.layout import atomic_write_bytes, atomic_write_parquet
    from sim.store.outputs import check_output_dir, claim_output_dir

    for flag, value in (("--replications", args.replications), ("--check", args.check)):
        if value is not None and value < 2:
            raise InputError(Problem(flag, f"needs at least 2 replications, got {value}"))
    cfg = load_config(config_path, args.set)
    if args.out:
        check_output_dir(args.out, "screen", SCREEN_FILES)
    res = screen(cfg, args.replications, args.seed, args.check)
    print(res.report())
    if args.out:
        out = claim_output_dir(args.out, "screen", SCREEN_FILES)
        df = res.table()
        atomic_write_parquet(Path(out) / "screening.parquet", df)
        atomic_write_bytes(Path(out) / "screening.csv", df.to_csv(index=False).encode())
        print(f"APPROXIMATE per-replication table written to {out}")
    return 0


__all__ = ["SCREEN_FILES", "add_parser", "cmd_screen"]
