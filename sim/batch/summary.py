"""The summary of a run as text: what ``run`` and ``resume`` print at the end, and ``summary``.

One function, :func:`format_summary`, builds it from ``summary.json``: a sentence on what the
numbers mean (each replication against its undisrupted twin), the twin's revenue and the loss
as a share of it, the headline table, the variance split of a second-order run, and the
commands that go further. Every number is printed in the display format of its declared unit
(:func:`sim.base.columns.display_unit`: thousands separators, fixed decimals, USD in millions), and
the lines fit :data:`WIDTH` columns (long metric names are shortened).
"""

from __future__ import annotations

import math
import shlex
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from sim.base.columns import HEADLINE_METRICS, adverse_tail, display_unit
from sim.base.units import DAYS_PER_YEAR

WIDTH = 100
"""Widest line of the summary (a terminal of 100 columns)."""

HEADLINE = HEADLINE_METRICS
"""Metrics shown first, then the largest mean uses of spare capacity."""
SPARE = "spare_used_mt"
SPARE_SHOWN = 5

STATS = (
    ("mean", "mean"),
    ("ci95_half", "± 95% CI"),
    ("p5", "P5"),
    ("p50", "P50"),
    ("p95", "P95"),
    ("cvar99", "CVaR 99%"),
)
GAP = 2
MIN_NAME = 16


def number(value: Any, decimals: int) -> str:
    """Format ``value`` with thousands separators and ``decimals`` decimals ("–" if missing)."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(x):
        return "–" if math.isnan(x) else ("∞" if x > 0 else "-∞")
    return f"{round(x, decimals) + 0.0:,.{decimals}f}"  # + 0.0: no "-0.0"


def _stat(entry: Any, key: str) -> float:
    """Return ``entry[key]`` as a float (NaN when the entry or value is missing or not a number).

    ``summary.json`` is read from disk: a damaged entry prints as "–", never a traceback.
    """
    value = entry.get(key) if isinstance(entry, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    return float(value)


def _share(value: Any) -> str:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "–"
    return "–" if math.isnan(x) else f"{100 * x:.0f}%"


def _shorten(name: str, width: int) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def render_table(headers: list[str], rows: list[list[str]], width: int = WIDTH) -> list[str]:
    """Lay out a table: first column left-aligned, the others right-aligned.

    Columns are as wide as their widest cell; when the lines would be wider than ``width``,
    the first column (names) is shortened with "…", down to :data:`MIN_NAME` characters, then
    the gaps narrow to one space. A row with only a first cell is a section title, printed
    as it is.
    """
    body = [r for r in rows if any(r[1:])]
    cols = list(zip(headers, *body))
    widths = [max(len(c) for c in col) for col in cols]
    gap = GAP
    if widths[0] + sum(w + gap for w in widths[1:]) > width:
        widths[0] = max(width - sum(w + gap for w in widths[1:]), min(MIN_NAME, widths[0]))
    if widths[0] + sum(w + gap for w in widths[1:]) > width:
        gap = 1
    lines = []
    for cells in [headers, *rows]:
        if not any(cells[1:]):
            lines.append(_shorten(cells[0], width))
            continue
        first = _shorten(cells[0], widths[0]).ljust(widths[0])
        lines.append(first + "".join(" " * gap + c.rjust(w) for c, w in zip(cells[1:], widths[1:])))
    return [line.rstrip() for line in lines]


def _horizon_text(horizon_days: float | None, start_date: str | None) -> str:
    if horizon_days is None:
        return "one simulated horizon"
    start = f" from {start_date}" if start_date else ""
    if abs(horizon_days - 365.0) <= 1.0:
        return f"one simulated year ({horizon_days:,.0f} days{start})"
    years = horizon_days / DAYS_PER_YEAR
    return f"a simulated horizon of {horizon_days:,.0f} days ({years:.2f} years{start})"


def _wrap(text: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, break_on_hyphens=False)


def _meaning(metrics: dict[str, Any], horizon: str, split: Any = None) -> list[str]:
    text = (
        f"Each replication is {horizon} with disruptions, paired with its undisrupted twin: "
        "the same horizon on the same price path without disruptions. Losses are twin minus run."
    )
    loss = _stat(metrics.get("revenue_loss_usd"), "mean")
    twin = _stat(metrics.get("twin_revenue_usd"), "mean")
    if math.isfinite(loss) and math.isfinite(twin):
        scale, unit, digits = display_unit("revenue_usd")
        text += (
            f" Revenue of the twin (mean): {number(twin / scale, digits)} {unit}; "
            f"revenue loss: {number(loss / scale, digits)} {unit}"
        )
        if twin > 0:
            text += f", {100 * loss / twin:.1f}% of it"
        text += "."
    band = split.get("revenue_loss_usd") if isinstance(split, dict) else None
    if isinstance(band, dict):
        scale, unit, digits = display_unit("revenue_usd")
        low = _stat(band, "conditional_mean_p5")
        high = _stat(band, "conditional_mean_p95")
        sets = _stat(band, "parameter_sets")
        if all(math.isfinite(x) for x in (low, high, sets)):
            text += (
                f" Second-order Monte Carlo ({int(sets):,} parameter sets, hazard rates drawn "
                "from their catalog evidence): the expected loss itself is uncertain, "
                f"{number(low / scale, digits)} to {number(high / scale, digits)} {unit} "
                "across parameter sets (5-95%)."
            )
    return _wrap(text)


def _row(name: str, label: str, m: dict[str, Any]) -> list[str]:
    scale, unit, digits = display_unit(name)
    cells = [label, unit]
    cells += [number(_stat(m, key) / scale, digits) for key, _ in STATS]
    return [*cells, _share(_stat(m, "p_positive"))]


def _headline_rows(metrics: dict[str, Any]) -> tuple[list[list[str]], list[str]]:
    """Return the rows of the headline table and the metrics they show."""
    names = [n for n in HEADLINE if n in metrics]
    rows = [_row(n, n, metrics[n]) for n in names]
    spare = sorted(
        (k for k in metrics if k.startswith(SPARE + ".")),
        key=lambda k: -np.nan_to_num(_stat(metrics[k], "mean"), nan=-np.inf),
    )[:SPARE_SHOWN]
    if spare:
        rows.append([f"{SPARE}.<asset> (the largest means):", *[""] * (len(STATS) + 2)])
        rows += [_row(k, "  " + k.split(".", 1)[1], metrics[k]) for k in spare]
    return rows, names + spare


def _low_tail_note(names: list[str]) -> str:
    low = [n for n in names if adverse_tail(n) == "low"]
    text = "CVaR 99%: mean of the worst 1% of replications (the highest values"
    if low:
        text += f"; the lowest for {', '.join(low)}"
    return text + "). P(>0): share of replications above zero."


def _split_lines(split: Any) -> list[str]:
    """Return the variance split of a second-order run as lines, in display units."""
    rows = []
    sets = reps = 0
    for metric, entry in split.items() if isinstance(split, dict) else []:
        scale, unit, digits = display_unit(str(metric))

        def get(key: str, entry: Any = entry) -> float:
            return _stat(entry, key)

        def v(x: float, scale: float = scale, digits: int = digits) -> str:
            return number(x / scale, digits)

        def sd(key: str) -> str:
            x = get(key)
            return v(math.sqrt(x)) if x >= 0 else "–"

        sets = int(np.nan_to_num(get("parameter_sets")))
        reps = int(np.nan_to_num(get("n")))
        rows.append(
            [
                str(metric),
                unit,
                v(get("mean")),
                sd("total_variance"),
                sd("parameter_variance"),
                sd("stochastic_variance"),
                number(100 * get("parameter_share"), 1),
                v(get("conditional_mean_p5")),
                v(get("conditional_mean_p95")),
                number(get("f_pvalue"), 3),
            ]
        )
    if not rows:
        return []
    headers = ["metric", "unit", "mean", "sd", "sd param", "sd stoch", "param %"]
    headers += ["sets P5", "sets P95", "F p"]
    return [
        "",
        f"variance split (law of total variance; {sets:,} parameter sets, {reps:,} replications):",
        *render_table(headers, rows),
        "sd: standard deviation; param/stoch: between parameter sets / within a set;",
        "param %: parameter share % of the variance; sets P5/P95: range of the set means;",
        "F p: p-value of the test that the sets differ.",
    ]


def format_summary(
    summary: dict[str, Any],
    run_dir: str | Path | None = None,
    horizon_days: float | None = None,
    start_date: str | None = None,
) -> str:
    """Return the text summary of a run.

    Parameters
    ----------
    summary:
        Parsed ``summary.json``.
    run_dir:
        The run directory, named in the commands suggested at the end (left out when ``None``).
    horizon_days, start_date:
        The run's horizon and start date, for the sentence on what a replication is.
    """
    metrics = summary.get("metrics", {})
    rows, shown = _headline_rows(metrics)
    headers = ["metric", "unit", *(label for _, label in STATS), "P(>0)"]
    split = summary.get("parameter_uncertainty")
    lines = [*_meaning(metrics, _horizon_text(horizon_days, start_date), split), ""]
    lines += render_table(headers, rows)
    lines += _wrap(_low_tail_note(shown))
    if split:
        lines += _split_lines(split)
    if run_dir is not None:
        d = shlex.quote(str(run_dir))
        lines += [
            "",
            "More from this run:",
            f"  loss tables (AAL, return periods)   corridor-sim losses {d}",
            f"  figures (PNG and SVG)               corridor-sim plot {d}",
            f"  HTML report                         corridor-sim report {d}",
        ]
    return "\n".join(lines)


__all__ = ["HEADLINE", "WIDTH", "format_summary", "number", "render_table"]
