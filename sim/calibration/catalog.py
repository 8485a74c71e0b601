"""Load and validate a disruption catalog CSV (the format of ``seeds/disruption_events.csv``).

Every row is checked and all problems are reported at once, in one
:class:`~sim.base.errors.InputError`
whose key paths carry the 1-based line number of the row in the CSV file (the header is line 1),
e.g. ``line 7: start_date: not a date (got '2022-13-01')``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.base.csvrows import missing_columns, parse_date, parse_float, read_csv_rows
from sim.base.errors import InputError, Problem
from sim.base.limits import MAX_HORIZON_DAYS

COLUMNS = (
    "event_id",
    "start_date",
    "end_date",
    "duration_days",
    "end_is_censored",
    "asset",
    "cause_class",
    "capacity_lost_fraction",
    "berths_lost",
    "volume_lost_mt",
    "source_url",
    "notes",
)
"""Columns a catalog must have, in the order of the shipped catalog."""

CAUSE_CLASSES = frozenset(
    {
        "weather",
        "technical",
        "maintenance",
        "regulatory",
        "military",
        "quality",
        "natural",
        "political",
    }
)
"""Cause classes a catalog row may carry."""

CATALOG_ASSETS = frozenset(
    {
        "cpc_terminal",
        "cpc_spm",
        "cpc_pipeline",
        "novorossiysk_transneft",
        "atyrau_samara",
        "kcp",
        "btc",
        "baku_supsa",
        "caspian_shuttle",
        "tengiz",
        "kashagan",
        "karachaganak",
        "black_sea_shipping",
    }
)
"""Asset ids the shipped catalog maps its events to (see ``seeds/README.md``)."""


def load_catalog(path: str | Path, known_assets: Iterable[str] | None = None) -> pd.DataFrame:
    """Read and validate a disruption catalog CSV.

    Parameters
    ----------
    path:
        CSV file with the columns in :data:`COLUMNS` (extra columns are kept as strings).
    known_assets:
        If given, every row's ``asset`` must be one of these ids.

    Returns
    -------
    pandas.DataFrame
        One row per event: ``start_date``/``end_date`` as ``datetime64`` (``NaT`` when empty),
        ``duration_days`` as float (filled from the dates when empty and both dates are given;
        ``NaN`` when unknown), ``end_is_censored`` as bool, ``capacity_lost_fraction`` and
        ``volume_lost_mt`` as float, ``berths_lost`` as nullable ``Int64``, text columns as
        ``string``, and ``csv_line``, the row's line in the file.

    Raises
    ------
    InputError
        Listing every bad row with its line number, or a missing file or column.
    """
    raw, lines = read_csv_rows(path, "catalog")
    return validate_catalog(raw, known_assets, file=str(path), lines=lines)


def validate_catalog(
    raw: pd.DataFrame,
    known_assets: Iterable[str] | None = None,
    file: str | None = None,
    lines: list[int] | None = None,
) -> pd.DataFrame:
    """Validate a catalog read as strings and return it typed (see :func:`load_catalog`).

    Parameters
    ----------
    raw:
        The catalog with every cell a string (empty string for a blank cell).
    known_assets:
        If given, every row's ``asset`` must be one of these ids.
    file:
        File name used in error messages.
    lines:
        Line number of each row in the file; defaults to row position + 2 (header on line 1).

    Returns
    -------
    pandas.DataFrame
        The typed catalog.

    Raises
    ------
    InputError
        Listing every problem found.
    """
    missing_columns(raw, COLUMNS, file)
    if len(raw) == 0:
        raise InputError(Problem("", "the catalog has no events (a header but no rows)"), file)
    raw = raw.fillna("").astype(str)
    if lines is None:
        lines = list(range(2, len(raw) + 2))
    known = None if known_assets is None else frozenset(known_assets)
    problems: list[Problem] = []
    out: dict[str, list] = {c: [] for c in _PARSED}
    seen_ids: dict[str, int] = {}
    for line, row in zip(lines, raw.to_dict("records")):
        values = _parse_row(row, line, known, seen_ids, _reporter(problems, f"line {line}"))
        for column in _PARSED:
            out[column].append(values[column])
    if problems:
        raise InputError(problems, file)
    return _typed(raw, out, lines)


_PARSED = (
    "start_date",
    "end_date",
    "duration_days",
    "end_is_censored",
    "capacity_lost_fraction",
    "berths_lost",
    "volume_lost_mt",
)
"""Columns :func:`validate_catalog` parses from text into typed values."""

_Bad = Callable[[str, str], None]
"""Records a problem of one row: ``bad(column, message)``."""


def _reporter(problems: list[Problem], where: str) -> _Bad:
    """Return a ``bad(column, message)`` that adds a problem of the row at ``where``."""

    def bad(column: str, message: str) -> None:
        problems.append(Problem(f"{where}: {column}", message))

    return bad


def _parse_row(
    row: dict[str, str],
    line: int,
    known: frozenset[str] | None,
    seen_ids: dict[str, int],
    bad: _Bad,
) -> dict[str, Any]:
    """Check one catalog row, reporting each problem through ``bad``; return its typed values."""
    event_id = row["event_id"].strip()
    if not event_id:
        bad("event_id", "empty")
    elif event_id in seen_ids:
        bad("event_id", f"duplicate of line {seen_ids[event_id]} (got '{event_id}')")
    else:
        seen_ids[event_id] = line
    start, end = _dates(row, bad)
    duration = _duration(row, start, end, bad)
    c = row["end_is_censored"].strip().lower()
    censored = c == "true"
    if c not in ("true", "false"):
        bad("end_is_censored", f"expected true or false (got '{row['end_is_censored']}')")
    elif not censored and not row["duration_days"].strip() and not row["end_date"].strip():
        bad("duration_days", "empty for a closed event with no end_date")
    asset = row["asset"].strip()
    if not asset:
        bad("asset", "empty")
    elif known is not None and asset not in known:
        bad("asset", f"unknown asset '{asset}'; expected one of {', '.join(sorted(known))}")
    cause = row["cause_class"].strip()
    if cause not in CAUSE_CLASSES:
        bad(
            "cause_class",
            f"expected one of {', '.join(sorted(CAUSE_CLASSES))} (got '{cause}')",
        )
    return {
        "start_date": start,
        "end_date": end,
        "duration_days": duration,
        "end_is_censored": censored,
        **_losses(row, bad),
    }


def _dates(row: dict[str, str], bad: _Bad) -> tuple[Any, Any]:
    """Parse ``start_date`` (required) and ``end_date`` (optional, not before the start)."""
    start = end = None
    s = row["start_date"].strip()
    if not s:
        bad("start_date", "empty; expected YYYY-MM-DD")
    else:
        start = parse_date(s)
        if start is None:
            bad("start_date", f"not a date (got '{s}')")
    e = row["end_date"].strip()
    if e:
        end = parse_date(e)
        if end is None:
            bad("end_date", f"not a date (got '{e}')")
    if start is not None and end is not None and end < start:
        bad("end_date", f"before start_date ({e} < {s})")
    return start, end


def _duration(row: dict[str, str], start: Any, end: Any, bad: _Bad) -> float:
    """Parse ``duration_days``, or take it from the dates when it is empty (NaN: unknown)."""
    duration = np.nan
    d = row["duration_days"].strip()
    if d:
        x = parse_float(d)
        if x is None:
            bad("duration_days", f"not a number (got '{d}')")
        elif x < 0:
            bad("duration_days", f"negative (got {d})")
        elif x > MAX_HORIZON_DAYS:
            bad("duration_days", f"expected at most {MAX_HORIZON_DAYS:g} days (got {d})")
        else:
            duration = x
    elif start is not None and end is not None and end >= start:
        duration = float((end - start).days)
    return duration


def _losses(row: dict[str, str], bad: _Bad) -> dict[str, Any]:
    """Parse ``capacity_lost_fraction``, ``berths_lost`` and ``volume_lost_mt`` (all optional)."""
    fraction = np.nan
    f = row["capacity_lost_fraction"].strip()
    if f:
        x = parse_float(f)
        if x is None:
            bad("capacity_lost_fraction", f"not a number (got '{f}')")
        elif not 0 <= x <= 1:
            bad("capacity_lost_fraction", f"outside [0, 1] (got {f})")
        else:
            fraction = x
    berths = pd.NA
    b = row["berths_lost"].strip()
    if b:
        x = parse_float(b)
        if x is None or x < 0 or x != int(x):
            bad("berths_lost", f"expected a whole number >= 0 (got '{b}')")
        else:
            berths = int(x)
    volume = np.nan
    v = row["volume_lost_mt"].strip()
    if v:
        x = parse_float(v)
        if x is None or x < 0:
            bad("volume_lost_mt", f"expected a number >= 0 (got '{v}')")
        else:
            volume = x
    return {"capacity_lost_fraction": fraction, "berths_lost": berths, "volume_lost_mt": volume}


def _typed(raw: pd.DataFrame, out: dict[str, list], lines: list[int]) -> pd.DataFrame:
    """Build the typed catalog from the raw text and the parsed values."""
    df = pd.DataFrame(index=raw.index)
    for col in raw.columns:
        df[col] = raw[col].str.strip().astype("string")
    df["start_date"] = pd.to_datetime(pd.Series(out["start_date"], index=raw.index, dtype=object))
    df["end_date"] = pd.to_datetime(pd.Series(out["end_date"], index=raw.index, dtype=object))
    df["duration_days"] = np.asarray(out["duration_days"], dtype=float)
    df["end_is_censored"] = np.asarray(out["end_is_censored"], dtype=bool)
    df["capacity_lost_fraction"] = np.asarray(out["capacity_lost_fraction"], dtype=float)
    df["berths_lost"] = pd.array(out["berths_lost"], dtype="Int64")
    df["volume_lost_mt"] = np.asarray(out["volume_lost_mt"], dtype=float)
    df["csv_line"] = np.asarray(lines, dtype=np.int64)
    return df.reset_index(drop=True)
