"""Read a user CSV as strings, keeping the file line of every record, and parse its cells.

Every CSV input of corridor-sim (the disruption catalog, replay schedules, recorded
throughputs) is read the same way: all cells as strings, blank cells as ``""``, and the
1-based line on which each record starts (the header is line 1; a quoted cell may span lines),
so that each problem can be reported as ``line 7: start_date: not a date (got '2022-13-01')``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from sim.base.errors import InputError, Problem
from sim.base.safeio import read_input


def record_lines(text: str) -> list[int]:
    """Return the 1-based starting line of every data record (quoted newlines allowed)."""
    reader = csv.reader(io.StringIO(text))
    starts = []
    prev_end = 0
    for i, _row in enumerate(reader):
        if i > 0:
            starts.append(prev_end + 1)
        prev_end = reader.line_num
    return starts


def read_csv_rows(path: str | Path, what: str = "CSV") -> tuple[pd.DataFrame, list[int]]:
    """Read ``path`` with every cell as a string and return the table and each row's line.

    Parameters
    ----------
    path:
        The CSV file (UTF-8, a byte-order mark is allowed).
    what:
        What the file is, for error messages (``"catalog"``, ``"schedule"``...).

    Returns
    -------
    table : pandas.DataFrame
        All cells as ``str``; blank cells are ``""``.
    lines : list of int
        The line on which each row starts.

    Raises
    ------
    InputError
        When the file cannot be read, is not a regular file, is larger than
        :data:`~sim.base.limits.MAX_INPUT_BYTES`, or is not a CSV.
    """
    path = Path(path)
    data = read_input(path, what)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(Problem("", f"not valid UTF-8 (byte {exc.start})"), str(path)) from None
    if "\x00" in text:
        raise InputError(Problem("", "contains NUL bytes (not a text CSV file)"), str(path))
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        lines = record_lines(text)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise InputError(Problem("", f"not a readable CSV ({exc})"), str(path)) from None
    if len(lines) != len(raw):  # pragma: no cover - both parsers agree on well-formed CSV
        lines = list(range(2, len(raw) + 2))
    raw.columns = [str(c).strip() for c in raw.columns]
    return raw, lines


def missing_columns(raw: pd.DataFrame, required: tuple[str, ...], file: str | None) -> None:
    """Raise one :class:`InputError` naming the required columns ``raw`` lacks."""
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise InputError(
            Problem("header", f"missing required column(s): {', '.join(missing)}"), file
        )


def parse_date(value: str) -> pd.Timestamp | None:
    """Return an ISO ``YYYY-MM-DD`` date, or ``None`` when it is not one."""
    try:
        return pd.Timestamp(pd.to_datetime(value, format="%Y-%m-%d"))
    except (ValueError, TypeError):
        return None


def parse_float(value: str) -> float | None:
    """Return a finite float, or ``None`` when ``value`` is not one."""
    try:
        x = float(value)
    except ValueError:
        return None
    return x if np.isfinite(x) else None
