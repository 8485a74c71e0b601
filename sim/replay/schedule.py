"""A replay schedule: dated past events, as scripted events of a config.

A schedule is a CSV with one row per effect (one catalog event may need several rows, e.g. two
SPMs that came back on different days):

``catalog_event``
    Id of the catalog row the effect comes from (``E13``); checked against the catalog when
    one is given: the id must exist and the row must start inside the event's dates.
``asset``
    Model asset hit: a source, pipeline, terminal or shuttle of the config.
``start_date``, ``duration_days``
    When the effect starts (ISO date) and how long it lasts. An effect that started in the
    previous year is clipped to 1 January; one that starts after the replayed year is an error.
``capacity_lost``
    Share of capacity (or production) lost, 0-1; blank means 1 unless ``berths_lost`` is set.
``berths_lost``
    Berths (SPMs) out of service, terminals only; then ``capacity_lost`` must be blank and the
    terminal's ``capacity_by_berths`` table sets the capacity. The first berths in service are
    taken, then berths as they come back while the effect lasts, so effects add up (2 and 1 of
    3 SPMs leave none) and berth numbers carry no meaning.
``cause``
    Cause class (optional; blank means ``scripted``).
``notes``
    How the row was derived from the catalog (optional, free text).

Each row becomes a :class:`~sim.config.models.ScriptedEvent`; the engine applies it exactly as a
hazard's event (capacity effects multiply, berths come off the terminal's table, a source ramps
back up over its ``ramp_up_days``, a shuttle stops sailing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.base.csvrows import missing_columns, parse_date, parse_float, read_csv_rows
from sim.base.errors import InputError, Problem
from sim.base.limits import MAX_HORIZON_DAYS
from sim.config.models import Cause, Config, ScriptedEvent

REQUIRED = ("catalog_event", "asset", "start_date", "duration_days")
OPTIONAL = ("capacity_lost", "berths_lost", "cause", "notes")
EVENT_KINDS = ("source", "pipeline", "terminal", "shuttle")


@dataclass(frozen=True)
class Schedule:
    """A validated schedule for one year.

    Attributes
    ----------
    events:
        The scripted events, in file order, ids ``<catalog_event>_<k>``.
    table:
        One row per event: ``id, catalog_event, asset, start_date, duration_days,
        capacity_lost, berths_lost, cause, notes, csv_line, clipped_days``.
    file:
        The schedule file.
    """

    events: list[ScriptedEvent]
    table: pd.DataFrame
    file: str


def _catalog_span(row: pd.Series) -> tuple[pd.Timestamp, pd.Timestamp | None]:
    start = pd.Timestamp(row["start_date"])
    if pd.notna(row["end_date"]):
        return start, pd.Timestamp(row["end_date"])
    if pd.notna(row["duration_days"]):
        return start, start + pd.Timedelta(days=float(row["duration_days"]))
    return start, None


def load_schedule(
    path: str | Path, cfg: Config, year: int, catalog: pd.DataFrame | None = None
) -> Schedule:
    """Read and validate a replay schedule for calendar year ``year``.

    Parameters
    ----------
    path:
        The schedule CSV (columns above).
    cfg:
        The config whose assets the rows name.
    year:
        The replayed calendar year.
    catalog:
        The disruption catalog (:func:`sim.calibration.load_catalog`); when given, every
        ``catalog_event`` must exist and each row must start within that event's dates.

    Returns
    -------
    Schedule
        The scripted events and their table.

    Raises
    ------
    InputError
        Listing every bad row as ``line N: column: problem``.
    """
    file = str(path)
    raw, lines = read_csv_rows(path, "schedule")
    missing_columns(raw, REQUIRED, file)
    for col in OPTIONAL:
        if col not in raw.columns:
            raw[col] = ""
    scope = _scope(cfg, year, catalog)
    problems: list[Problem] = []
    rows, events = [], []
    counts: dict[str, int] = {}
    for line, row in zip(lines, raw.to_dict("records")):

        def bad(column: str, message: str, line: int = line) -> None:
            problems.append(Problem(f"line {line}: {column}", message))

        n_before = len(problems)
        fields = _parse_row(row, scope, bad)
        if len(problems) > n_before or not _within(fields, scope, bad):
            continue
        ev_id = fields.ev_id
        counts[ev_id] = counts.get(ev_id, 0) + 1
        sid = f"{ev_id}_{counts[ev_id]}"
        ev, record = _scheduled(fields, sid, scope, row["notes"].strip(), line)
        events.append(ev)
        rows.append(record)
    if problems:
        raise InputError(problems, file)
    if not events:
        raise InputError(Problem("", f"no event in the year {year}"), file)
    table = pd.DataFrame(rows).astype({"berths_lost": "Int64"})
    return Schedule(events, table, file)


@dataclass(frozen=True)
class _Scope:
    """What the rows of a schedule are checked against: the config's assets, the year, events."""

    kinds: dict[str, str]
    allowed: list[str]
    spans: dict[str, tuple[pd.Timestamp, pd.Timestamp | None]] | None
    year: int
    y0: pd.Timestamp
    y1: pd.Timestamp
    causes: set[str]


def _scope(cfg: Config, year: int, catalog: pd.DataFrame | None) -> _Scope:
    """Return the scope of :func:`load_schedule` (``spans``: catalog event dates, if given)."""
    kinds = cfg.asset_ids()
    allowed = sorted(a for a, k in kinds.items() if k in EVENT_KINDS)
    spans = None
    if catalog is not None:
        spans = {str(r["event_id"]): _catalog_span(r) for _, r in catalog.iterrows()}
    y0, y1 = pd.Timestamp(year=year, month=1, day=1), pd.Timestamp(year=year + 1, month=1, day=1)
    return _Scope(kinds, allowed, spans, year, y0, y1, {c.value for c in Cause})


@dataclass(frozen=True)
class _Fields:
    """The parsed values of one schedule row."""

    ev_id: str
    asset: str
    start: Any
    duration: Any
    capacity: Any
    berths: int | None
    cause: str


def _parse_row(row: dict[str, str], scope: _Scope, bad: Callable[[str, str], None]) -> _Fields:
    """Parse one row, reporting each problem through ``bad`` (the fields are then unusable)."""
    kinds = scope.kinds
    ev_id = row["catalog_event"].strip()
    if not ev_id:
        bad("catalog_event", "empty; expected the id of a catalog event such as E13")
    elif scope.spans is not None and ev_id not in scope.spans:
        bad("catalog_event", f"'{ev_id}' is not an event of the catalog")
    asset = row["asset"].strip()
    if asset not in kinds or kinds[asset] not in EVENT_KINDS:
        bad("asset", f"unknown asset '{asset}' (expected one of: {', '.join(scope.allowed)})")
    start = parse_date(row["start_date"].strip())
    if start is None:
        bad("start_date", f"not a date YYYY-MM-DD (got '{row['start_date']}')")
    duration = parse_float(row["duration_days"].strip())
    if duration is None or not 0 <= duration <= MAX_HORIZON_DAYS:
        bad(
            "duration_days",
            f"expected a number of days in 0..{MAX_HORIZON_DAYS:g} (got '{row['duration_days']}')",
        )
    cap_text, berth_text = row["capacity_lost"].strip(), row["berths_lost"].strip()
    capacity, berths = 1.0, None
    if cap_text:
        capacity = parse_float(cap_text)
        if capacity is None or not 0 <= capacity <= 1:
            bad("capacity_lost", f"expected a number in [0, 1] (got '{cap_text}')")
    if berth_text:
        b = parse_float(berth_text)
        if b is None or b < 1 or b != int(b):
            bad("berths_lost", f"expected a whole number >= 1 (got '{berth_text}')")
        elif cap_text:
            bad("berths_lost", "give capacity_lost or berths_lost, not both")
        elif asset in kinds and kinds[asset] != "terminal":
            bad("berths_lost", f"'{asset}' is a {kinds[asset]}; berths apply to terminals")
        else:
            berths = int(b)
    cause = row["cause"].strip() or "scripted"
    if cause not in scope.causes:
        bad("cause", f"expected one of {', '.join(sorted(scope.causes))} (got '{cause}')")
    return _Fields(ev_id, asset, start, duration, capacity, berths, cause)


def _within(f: _Fields, scope: _Scope, bad: Callable[[str, str], None]) -> bool:
    """Whether a valid row overlaps the year and starts within its catalog event's dates."""
    start = f.start
    end = start + pd.Timedelta(days=f.duration)
    if not (start < scope.y1 and (end > scope.y0 or start >= scope.y0)):
        bad("start_date", f"{start.date()} to {end.date()} is outside the year {scope.year}")
        return False
    if scope.spans is not None:
        c0, c1 = scope.spans[f.ev_id]
        if start < c0 or (c1 is not None and start > c1):
            until = f"{c1.date()}" if c1 is not None else "open"
            bad("start_date", f"{start.date()} is outside {f.ev_id} ({c0.date()} to {until})")
            return False
    return True


def _scheduled(
    f: _Fields, sid: str, scope: _Scope, notes: str, line: int
) -> tuple[ScriptedEvent, dict[str, Any]]:
    """Return the scripted event of a row (clipped to the year) and its row of the table."""
    clipped = max(0.0, (scope.y0 - f.start).days)
    start_c = max(f.start, scope.y0)
    berths = f.berths
    ev = ScriptedEvent(
        id=sid,
        asset=f.asset,
        start=dt.date(start_c.year, start_c.month, start_c.day),
        duration_days=max(0.0, f.duration - clipped),
        cause=Cause(f.cause),
        capacity_lost=0.0 if berths else f.capacity,
        berths_lost=berths,
    )
    record = {
        "id": sid,
        "catalog_event": f.ev_id,
        "asset": f.asset,
        "start_date": ev.start.isoformat(),
        "duration_days": ev.duration_days,
        "capacity_lost": ev.capacity_lost if berths is None else float("nan"),
        "berths_lost": berths if berths is not None else pd.NA,
        "cause": f.cause,
        "notes": notes,
        "csv_line": line,
        "clipped_days": clipped,
    }
    return ev, record
