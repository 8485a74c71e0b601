"""The work behind ``corridor-sim replay``: check every input, replay, print, write.

Nothing is written until the config, schedule, catalog, recorded figures and output directory
have all been checked, so bad input ends with one :class:`~sim.base.errors.InputError` and no files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.base.errors import InputError, Problem
from sim.calibration.catalog import CATALOG_ASSETS, load_catalog
from sim.config import load_config
from sim.replay.recorded import load_recorded
from sim.replay.report import write_replay
from sim.replay.run import replay
from sim.replay.schedule import load_schedule


def _shipped(relative: str) -> Path | None:
    """Return a shipped seeds file, here or beside the installed package."""
    for p in (Path(relative), Path(__file__).resolve().parents[2] / relative):
        if p.is_file():
            return p
    return None


def replay_command(args: argparse.Namespace, default_config: str) -> int:
    """Run ``corridor-sim replay`` with parsed arguments; return the exit code."""
    if not 1900 <= args.year <= 2200:
        raise InputError(Problem("--year", f"expected a calendar year (got {args.year})"))
    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(Problem("", "output directory exists and is not empty"), str(out))
    config_path = args.config or default_config
    cfg = load_config(config_path, args.set)
    catalog = None
    catalog_path = args.catalog or _shipped("seeds/disruption_events.csv")
    if catalog_path is not None and str(catalog_path) != "none":
        catalog = load_catalog(catalog_path, CATALOG_ASSETS | set(cfg.asset_ids()))
    schedule = load_schedule(args.events, cfg, args.year, catalog)
    recorded = None
    recorded_path = args.recorded or _shipped("seeds/recorded_throughput.csv")
    if recorded_path is not None and str(recorded_path) != "none":
        recorded = load_recorded(recorded_path, cfg)
    result = replay(cfg, schedule, args.year, recorded)

    c = result.comparison
    if len(c):
        shown = c[["period", "quantity", "measure", "recorded_mt", "simulated_mt"]].copy()
        shown["undisrupted_mt"] = c["undisrupted_mt"]
        shown["error_mt"] = c["error_mt"]
        shown["error_pct"] = c["error_pct"]
        print(shown.to_string(index=False, float_format=lambda v: f"{v:,.3f}", na_rep="-"))
    else:
        print("no recorded figures for this year: nothing to compare")
    s = result.summary
    print(
        f"\nreplay {args.year}: {len(schedule.events)} scripted effects; exported "
        f"{s['exported_mt']:.3f} Mt, shut in {s['shut_in_mt']:.3f} Mt, blocked "
        f"{s['blocked_mt']:.3f} Mt of which {s['offset_routes_mt']:.3f} Mt rerouted"
    )
    write_replay(result, out, config_path)
    print(f"written to {out} (report.html, replay.png, comparison.csv/.parquet, monthly.csv)")
    return 0
