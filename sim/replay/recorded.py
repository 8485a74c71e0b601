"""Recorded throughputs: what really went through the corridor, to compare a replay with.

A CSV with one row per recorded figure:

``year``
    Calendar year.
``period``
    ``year`` for an annual figure, or ``YYYY-MM`` for a month of that year.
``quantity``
    What was measured, in model terms: ``exports_total`` (deliveries to all markets), a link
    (pipeline or terminal) or shuttle id, or several joined with ``+`` (summed), e.g.
    ``aktau_makhachkala+btc+baku_supsa`` for all oil leaving Aktau.
``measure``
    ``volume``: the volume itself; ``change_vs_undisrupted``: the change against the
    undisrupted year (e.g. extra oil rerouted to a pipeline in a month).
``value_mt``
    The figure in Mt; **blank when no source gives it** (the row then documents the gap and is
    reported as missing, never compared).
``confidence``
    ``H``, ``M`` or ``L`` (as in ``seeds/README.md``).
``source_url``
    Where the figure comes from (several separated by `` ; ``); required with a value.
``notes``
    The arithmetic for derived figures, ranges, caveats.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sim.base.csvrows import missing_columns, parse_float, read_csv_rows
from sim.base.errors import InputError, Problem
from sim.config.models import Config

COLUMNS = (
    "year",
    "period",
    "quantity",
    "measure",
    "value_mt",
    "confidence",
    "source_url",
    "notes",
)
MEASURES = ("volume", "change_vs_undisrupted")
TOTAL = "exports_total"
"""Quantity name of all deliveries to markets."""


def quantity_terms(cfg: Config) -> list[str]:
    """Return the names a ``quantity`` may combine: ``exports_total``, links and shuttles."""
    kinds = cfg.asset_ids()
    return [TOTAL] + [a for a, k in kinds.items() if k in ("pipeline", "terminal", "shuttle")]


def load_recorded(path: str | Path, cfg: Config) -> pd.DataFrame:
    """Read and validate a recorded-throughput CSV against the quantities of ``cfg``.

    Returns
    -------
    pandas.DataFrame
        The rows, typed: ``year`` int, ``value_mt`` float (NaN when missing), ``csv_line``.

    Raises
    ------
    InputError
        Listing every bad row as ``line N: column: problem``.
    """
    file = str(path)
    raw, lines = read_csv_rows(path, "recorded throughputs")
    missing_columns(raw, COLUMNS, file)
    known = quantity_terms(cfg)
    problems: list[Problem] = []
    years, values = [], []
    for line, row in zip(lines, raw.to_dict("records")):

        def bad(column: str, message: str, line: int = line) -> None:
            problems.append(Problem(f"line {line}: {column}", message))

        year, value = _check_row(row, known, bad)
        years.append(year)
        values.append(value)
    if problems:
        raise InputError(problems, file)
    out = raw[list(COLUMNS)].apply(lambda s: s.str.strip())
    out["year"] = pd.array(years, dtype="int64")
    out["value_mt"] = pd.array(values, dtype="float64")
    out["quantity"] = out["quantity"].map(lambda q: "+".join(t.strip() for t in q.split("+")))
    out["csv_line"] = lines
    return out.reset_index(drop=True)


def _check_row(
    row: dict[str, str], known: list[str], bad: Callable[[str, str], None]
) -> tuple[int | None, float]:
    """Check one row, reporting each problem through ``bad``; return its year and value."""
    y = row["year"].strip()
    year = int(y) if y.isdigit() and 1900 <= int(y) <= 2200 else None
    if year is None:
        bad("year", f"expected a year such as 2022 (got '{y}')")
    period = row["period"].strip()
    if period != "year":
        ok = len(period) == 7 and period[4] == "-" and period[:4].isdigit()
        ok = ok and period[5:].isdigit() and 1 <= int(period[5:]) <= 12
        if not ok:
            bad("period", f"expected 'year' or YYYY-MM (got '{period}')")
        elif year is not None and int(period[:4]) != year:
            bad("period", f"month {period} is not in the year {year}")
    for term in row["quantity"].split("+"):
        if term.strip() not in known:
            bad(
                "quantity",
                f"unknown quantity '{term.strip()}' (expected {TOTAL} or link/shuttle ids "
                f"joined with '+': {', '.join(known)})",
            )
            break
    measure = row["measure"].strip()
    if measure not in MEASURES:
        bad("measure", f"expected one of {', '.join(MEASURES)} (got '{measure}')")
    v = row["value_mt"].strip()
    value = float("nan")
    if v:
        x = parse_float(v)
        if x is None or (measure == "volume" and x < 0):
            bad("value_mt", f"expected a number of Mt (>= 0 for a volume), or blank (got '{v}')")
        else:
            value = x
        if not row["source_url"].strip():
            bad("source_url", "empty: a recorded figure needs its source")
    if row["confidence"].strip() not in ("H", "M", "L", ""):
        bad("confidence", f"expected H, M or L (got '{row['confidence']}')")
    return year, value
