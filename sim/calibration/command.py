"""The work behind ``corridor-sim calibrate``: parse options, fit, print, write YAML and report.

Every input (catalog, config, options) is checked before anything is written, so bad input
ends with one :class:`~sim.base.errors.InputError` and no files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from sim.base.errors import InputError, Problem
from sim.calibration.catalog import CATALOG_ASSETS, CAUSE_CLASSES, load_catalog
from sim.calibration.fit import SMALL_SAMPLE
from sim.calibration.groups import DEFAULT_SPLIT_REGIMES, fit_groups, groups_table, hazard_entry
from sim.calibration.report import REPORT_FILES, write_report
from sim.calibration.seasonal import DEFAULT_PRIOR_EVENTS
from sim.config import load_config
from sim.config.yamlsafe import dump_yaml
from sim.store.layout import atomic_write_bytes
from sim.store.outputs import check_generated_file, check_output_dir, claim_output_dir


def _date(text: str, option: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(pd.to_datetime(text, format="%Y-%m-%d"))
    except ValueError:
        raise InputError(Problem(option, f"not a date YYYY-MM-DD (got '{text}')")) from None


def parse_windows(items: list[str]) -> dict[str, tuple[pd.Timestamp, pd.Timestamp | None]]:
    """Parse ``--window ASSET=START[:END]`` options.

    Raises
    ------
    InputError
        On a malformed option or an end before the start.
    """
    out: dict[str, tuple[pd.Timestamp, pd.Timestamp | None]] = {}
    for item in items:
        asset, sep, span = item.partition("=")
        if not sep or not asset.strip() or not span.strip():
            raise InputError(
                Problem("--window", f"expected ASSET=YYYY-MM-DD[:YYYY-MM-DD] (got '{item}')")
            )
        start_text, _, end_text = span.partition(":")
        start = _date(start_text.strip(), "--window")
        end = _date(end_text.strip(), "--window") if end_text.strip() else None
        if end is not None and end < start:
            raise InputError(Problem("--window", f"end before start in '{item}'"))
        if asset.strip() in out:
            raise InputError(Problem("--window", f"'{asset.strip()}' is given twice"))
        out[asset.strip()] = (start, end)
    return out


def parse_map(items: list[str]) -> dict[str, list[str]]:
    """Parse ``--map CATALOG_ASSET=MODEL_ASSET`` options."""
    asset_map: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(Problem("--map", f"expected CATALOG_ASSET=MODEL_ASSET (got '{item}')"))
        asset_map.setdefault(key.strip(), []).append(value.strip())
    return asset_map


def _split_regimes(text: str, cfg, config_path: str) -> tuple[str, str]:
    names = tuple(p.strip() for p in text.split(","))
    if len(names) != 2 or not all(names) or names[0] == names[1]:
        raise InputError(
            Problem("--split-regimes", f"expected two different names BEFORE,AFTER (got '{text}')")
        )
    states = set(cfg.regimes.states) if cfg.regimes else set()
    missing = [n for n in names if n not in states]
    if missing:
        known = ", ".join(sorted(states)) or "none: the config has no regimes"
        raise InputError(
            Problem(
                "--split-regimes",
                f"{', '.join(missing)} not a regime of {config_path} (regimes: {known}); "
                "the fitted regime_multipliers must name the config's regimes",
            )
        )
    return names  # type: ignore[return-value]


def _print_table(table: pd.DataFrame, split: bool) -> None:
    head = f"{'asset':<24}{'cause':<13}{'n':>3}{'cens':>5}{'years':>7}{'rate/yr':>9}{'95% CI':>17}"
    if split:
        head += f"{'before':>9}{'after':>9}{'p':>7}"
    print(f"{head}  {'duration':<12}{'median d':>9}{'mean d':>9}  {'effect':<26}note")
    for r in table.to_dict("records"):
        ci = f"[{r['rate_lo']:.3g}, {r['rate_hi']:.3g}]"
        line = (
            f"{r['asset']:<24}{r['cause']:<13}{r['n_in_window']:>3}{r['n_censored']:>5}"
            f"{r['years']:>7.2f}{r['rate_per_year']:>9.3g}{ci:>17}"
        )
        if split and "split_pvalue" in r and r["split_pvalue"] == r["split_pvalue"]:
            line += f"{r['rate_before']:>9.3g}{r['rate_after']:>9.3g}{r['split_pvalue']:>7.2g}"
        elif split:
            line += f"{'-':>9}{'-':>9}{'-':>7}"
        notes = (["SMALL SAMPLE"] if r["small_sample"] else []) + ([r["note"]] if r["note"] else [])
        print(
            f"{line}  {r['family']:<12}{r['median_days']:>9.3g}{r['mean_days']:>9.3g}  "
            f"{r['effect']:<26}{'; '.join(notes)}"
        )


_NEEDS = (
    # (option, attribute, option it needs, attribute, why)
    ("--split-regimes", "split_regimes", "--split-date", "split_date", "names the two periods"),
    ("--split-causes", "split_causes", "--split-date", "split_date", "chooses what is split"),
    ("--season-prior", "season_prior", "--seasonal", "seasonal", "weights the monthly profiles"),
)


def check_option_combinations(args: argparse.Namespace) -> None:
    """Refuse options that would do nothing: each needs another option to mean anything.

    Raises
    ------
    InputError
        Naming the option, the option it needs and why.
    """
    for option, attr, needed, needed_attr, why in _NEEDS:
        if getattr(args, attr, None) is not None and not getattr(args, needed_attr, None):
            raise InputError(
                Problem(option, f"only used with {needed} (it {why}); add {needed} or leave it out")
            )
    if getattr(args, "report_dir", None) is not None and getattr(args, "no_report", False):
        raise InputError(
            Problem("--report-dir", "not used with --no-report; leave one of them out")
        )


GENERATED = "# Hazards FITTED by `corridor-sim calibrate`"
"""First characters of every YAML file ``calibrate`` writes: only such a file is replaced."""
REPORT_KIND = "calibrate"


def _outputs(args: argparse.Namespace) -> tuple[Path, Path | None]:
    """Return the YAML path and the report directory, checked before anything is computed.

    Raises
    ------
    InputError
        When ``--out`` exists and is not a file calibrate wrote, or ``--report-dir`` holds files
        it did not write (see :mod:`sim.store.outputs`).
    """
    out = Path(args.out)
    check_generated_file(out, GENERATED)
    if args.no_report:
        return out, None
    report_dir = Path(args.report_dir) if args.report_dir else out.with_name(out.stem + "_report")
    check_output_dir(report_dir, REPORT_KIND, REPORT_FILES, legacy="groups.csv")
    return out, report_dir


def calibrate_command(args: argparse.Namespace, default_config: str) -> int:
    """Run ``corridor-sim calibrate`` with parsed arguments; return the exit code."""
    check_option_combinations(args)
    if args.split_regimes is None:
        args.split_regimes = ",".join(DEFAULT_SPLIT_REGIMES)
    if args.season_prior is None:
        args.season_prior = DEFAULT_PRIOR_EVENTS
    out, report_dir = _outputs(args)
    as_of = _date(args.as_of, "--as-of") if args.as_of else None
    split = _date(args.split_date, "--split-date") if args.split_date else None
    windows = parse_windows(args.window)
    asset_map = parse_map(args.map)
    if not args.season_prior >= 0:
        raise InputError(Problem("--season-prior", f"expected >= 0 (got {args.season_prior})"))
    config_path = args.config or default_config
    cfg = load_config(config_path)
    kinds = cfg.asset_ids()
    regimes = _split_regimes(args.split_regimes, cfg, config_path) if split is not None else None
    catalog = load_catalog(args.catalog, CATALOG_ASSETS | set(kinds))
    _check_catalog_assets(args.catalog, catalog, windows, asset_map, kinds, config_path)
    source = Path(args.catalog).name
    options = {"windows": windows, "seasonal": args.seasonal, "season_prior": args.season_prior}
    if split is not None:
        causes = _split_causes(args.split_causes)
        options.update(split_date=split, split_regimes=regimes, split_causes=causes)
    try:
        fits = fit_groups(catalog, as_of, kinds, asset_map, args.window_start, **options)
    except ValueError as exc:
        raise InputError(Problem("", str(exc)), args.catalog) from None
    table = groups_table(fits)
    hazards = {"hazards": {f.hazard_id: hazard_entry(f, source) for f in fits if f.hazard_id}}

    _print_table(table, split is not None)
    window_text = args.window_start + (f"; given: {', '.join(windows)}" if windows else "")
    header = _yaml_header(args, len(catalog), as_of, split, regimes, window_text)
    body = dump_yaml(
        hazards, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None
    )
    atomic_write_bytes(out, (header + body).encode())
    small = int(table["small_sample"].sum())
    print(
        f"\nwrote {len(hazards['hazards'])} hazards to {out} "
        f"({len(table) - len(hazards['hazards'])} groups not written; "
        f"{small} of {len(table)} groups have fewer than {SMALL_SAMPLE} events)"
    )
    if report_dir is not None:
        meta = _report_meta(args, len(catalog), as_of, split, regimes, window_text)
        meta["config (asset ids)"] = config_path
        meta["fitted YAML"] = str(out)
        claim_output_dir(report_dir, REPORT_KIND, REPORT_FILES, legacy="groups.csv")
        write_report(report_dir, fits, table, meta)
        print(f"report: {report_dir / 'report.html'}")
    return 0


def _check_catalog_assets(
    catalog_path: str,
    catalog: pd.DataFrame,
    windows: dict[str, tuple[pd.Timestamp, pd.Timestamp | None]],
    asset_map: dict[str, list[str]],
    kinds: dict[str, str],
    config_path: str,
) -> None:
    """Refuse a ``--window`` or ``--map`` naming an asset without events, or a bad target.

    Raises
    ------
    InputError
        Naming the option at fault.
    """
    in_catalog = set(catalog["asset"].astype(str))
    for asset in windows:
        if asset not in in_catalog:
            raise InputError(
                Problem(
                    "--window",
                    f"'{asset}' has no event in {catalog_path} "
                    f"(catalog assets: {', '.join(sorted(in_catalog))})",
                )
            )
    for source_asset, targets in asset_map.items():
        if source_asset not in in_catalog:
            raise InputError(
                Problem(
                    "--map",
                    f"'{source_asset}' has no event in {catalog_path} "
                    f"(catalog assets: {', '.join(sorted(in_catalog))})",
                )
            )
        for target in targets:
            if kinds.get(target) not in ("source", "pipeline", "terminal", "shuttle"):
                raise InputError(
                    Problem(
                        "--map",
                        f"'{source_asset}={target}': '{target}' is not a source, pipeline, "
                        f"terminal or shuttle of {config_path}",
                    )
                )


def _split_causes(text: str | None) -> list[str] | None:
    """Parse ``--split-causes`` (comma-separated cause classes; ``None``: all causes).

    Raises
    ------
    InputError
        On a cause class outside :data:`~sim.calibration.catalog.CAUSE_CLASSES`.
    """
    causes = [c.strip() for c in text.split(",")] if text else None
    unknown = sorted(set(causes or ()) - CAUSE_CLASSES)
    if unknown:
        raise InputError(
            Problem(
                "--split-causes",
                f"unknown cause class(es) {', '.join(unknown)}; expected some of "
                f"{', '.join(sorted(CAUSE_CLASSES))}",
            )
        )
    return causes


def _yaml_header(
    args: argparse.Namespace,
    events: int,
    as_of: pd.Timestamp | None,
    split: pd.Timestamp | None,
    regimes: tuple[str, str] | None,
    window_text: str,
) -> str:
    """Return the comment block at the top of the fitted YAML (how it was made, how to use it)."""
    return (
        f"{GENERATED} from {args.catalog}\n"
        f"# ({events} events; as of {as_of.date() if as_of is not None else 'latest date'};"
        f" windows: {window_text}"
        + (
            f"; split at {split.date()} into {regimes[0]}/{regimes[1]}"
            f" ({args.split_causes or 'all causes'})"
            if split is not None
            else ""
        )
        + ("; seasonal profiles" if args.seasonal else "")
        + ").\n"
        "# Poisson rate = events in window / window years; durations by censored maximum\n"
        "# likelihood, family chosen by AIC; effects from recorded capacity losses or berths.\n"
        f"# Groups with fewer than {SMALL_SAMPLE} events are small samples (see the report).\n"
        "# Use from a config with `include_hazards: <this file>`\n"
        "# (see docs/background/calibration.md).\n"
        "# Generated file: edit the catalog and re-run rather than editing by hand.\n"
    )


def _report_meta(
    args: argparse.Namespace,
    events: int,
    as_of: pd.Timestamp | None,
    split: pd.Timestamp | None,
    regimes: tuple[str, str] | None,
    window_text: str,
) -> dict[str, object]:
    """Return the inputs and options the report lists (its "how it was made" table)."""
    return {
        "catalog": args.catalog,
        "events": events,
        "as of": as_of.date() if as_of is not None else "latest date in the catalog",
        "windows": window_text,
        "split": f"{split.date()} ({regimes[0]} / {regimes[1]})" if split is not None else "none",
        "seasonal": f"yes, prior {args.season_prior:g} pseudo-events" if args.seasonal else "no",
    }
