"""Write a replayed year: tables, a figure of simulated against recorded volumes, an HTML page.

``DIR/`` receives ``comparison.parquet`` and ``.csv`` (recorded vs simulated, error in Mt and
%), ``monthly.parquet`` and ``.csv`` (every link, shuttle and ``exports_total`` per month,
simulated and undisrupted), ``events.csv``, ``schedule.csv``, ``config.resolved.yaml`` (the
deterministic replay config), ``replay.png`` and a self-contained ``report.html``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.config.loader import dump_config
from sim.figures.style import OKABE_ITO, WIDTH_IN, new_grid, png_bytes
from sim.report.html import figure, render, table
from sim.store.layout import atomic_write_bytes, atomic_write_parquet

MAX_MONTHLY_LINES = 3


def _annual_rows(result) -> pd.DataFrame:
    c = result.comparison
    rows = c[(c["period"] == "year") & (c["measure"] == "volume") & (c["status"] == "compared")]
    if len(rows):
        return rows
    m = result.monthly[result.monthly["period"] == "year"]
    top = m.sort_values("undisrupted_mt", ascending=False).head(4)
    return top.assign(recorded_mt=np.nan, error_pct=np.nan)


def _monthly_quantities(result) -> list[str]:
    c = result.comparison
    monthly = c[(c["period"] != "year") & (c["measure"] == "volume")]["quantity"]
    names = list(dict.fromkeys(monthly))
    if "exports_total" not in names:
        names.append("exports_total")
    return names[:MAX_MONTHLY_LINES]


def replay_figure(result):
    """Annual recorded / simulated / undisrupted volumes, and monthly simulated volumes."""
    fig, (ax1, ax2) = new_grid(1, 2, (WIDTH_IN * 1.7, 4.4), dpi=110)
    fig.subplots_adjust(left=0.07, right=0.99, bottom=0.3, top=0.9, wspace=0.22)
    rows = _annual_rows(result)
    x = np.arange(len(rows))
    w = 0.27
    labels = [q.replace("+", "+\n") for q in rows["quantity"]]
    for k, (col, name, colour) in enumerate(
        (
            ("recorded_mt", "recorded", OKABE_ITO[7]),
            ("simulated_mt", "replay", OKABE_ITO[0]),
            ("undisrupted_mt", "no events", OKABE_ITO[5]),
        )
    ):
        ax1.bar(x + (k - 1) * w, rows[col].astype(float), w, color=colour, label=name)
    for xi, (_, r) in zip(x, rows.iterrows()):
        if r["recorded_mt"] == r["recorded_mt"]:
            top = max(float(r["recorded_mt"]), float(r["simulated_mt"]))
            ax1.annotate(f"{r['error_pct']:+.1f}%", (xi, top), ha="center", va="bottom", fontsize=8)
    ax1.set_xticks(x, labels, fontsize=7, rotation=30, ha="right")
    ax1.set_ylabel("Mt in the year")
    ax1.set_title(f"{result.year}: annual volumes (error of the replay in %)", fontsize=10)
    ax1.legend(frameon=False, fontsize=8)
    ax1.grid(True, axis="y", alpha=0.3)
    m = result.monthly[result.monthly["period"] != "year"]
    c = result.comparison
    for i, q in enumerate(_monthly_quantities(result)):
        colour = OKABE_ITO[i % len(OKABE_ITO)]
        qm = m[m["quantity"] == q]
        months = np.arange(1, len(qm) + 1)
        ax2.plot(months, qm["simulated_mt"], "-o", color=colour, markersize=3, label=f"{q} replay")
        ax2.plot(months, qm["undisrupted_mt"], ":", color=colour, label=f"{q} no events")
        rec = c[(c["quantity"] == q) & (c["period"] != "year") & (c["status"] == "compared")]
        rec = rec[rec["measure"] == "volume"]
        if len(rec):
            ax2.plot(
                [int(p[5:]) for p in rec["period"]],
                rec["recorded_mt"],
                "D",
                color=colour,
                markeredgecolor="black",
                markersize=7,
                label=f"{q} recorded",
            )
    ax2.set_xticks(range(1, 13), ["J", "F", "M", "A", "M", "J", "J", "A", "S", "O", "N", "D"])
    ax2.set_ylabel("Mt in the month")
    ax2.set_title("monthly volumes", fontsize=10)
    ax2.grid(True, alpha=0.3)
    ax2.legend(frameon=False, fontsize=7, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.1))
    return fig


def _undisrupted_exports(result) -> float:
    m = result.monthly
    return float(
        m[(m["quantity"] == "exports_total") & (m["period"] == "year")]["undisrupted_mt"].iloc[0]
    )


def _shown_comparison(c: pd.DataFrame) -> pd.DataFrame:
    """Return the comparison with numbers as text (3 decimals, '-' for missing)."""

    def num(v, fmt="{:,.3f}"):
        return "-" if v != v else fmt.format(v)

    return pd.DataFrame(
        {
            "period": c["period"],
            "quantity": c["quantity"].str.replace("+", " + ", regex=False),
            "measure": c["measure"],
            "recorded Mt": c["recorded_mt"].map(num),
            "replay Mt": c["simulated_mt"].map(num),
            "no events Mt": c["undisrupted_mt"].map(num),
            "events' effect Mt": c["event_effect_mt"].map(num),
            "error Mt": c["error_mt"].map(num),
            "error %": c["error_pct"].map(lambda v: num(v, "{:+.1f}")),
            "confidence": c["confidence"],
        }
    )


def _shown_schedule(table: pd.DataFrame) -> pd.DataFrame:
    """Return the schedule with blanks for the unused effect column."""
    out = table.drop(columns=["csv_line"]).astype(object)
    return out.where(out.notna(), "")


def _sources(comparison: pd.DataFrame) -> list[dict]:
    """Return each recorded figure with its notes and source addresses, for the template."""
    return [
        {
            "period": r["period"],
            "quantity": r["quantity"],
            "measure": r["measure"],
            "confidence": str(r["confidence"]) or "-",
            "notes": str(r["notes"]),
            "urls": [u.strip() for u in str(r["source_url"]).split(";") if u.strip()],
        }
        for r in comparison.to_dict("records")
    ]


EVENT_COLUMNS = (
    "hazard", "asset", "start_date", "duration_days", "capacity_lost", "berths_lost",
    "volume_lost_mt", "volume_deferred_mt", "offset_routes_mt",
)  # fmt: skip
"""Columns of the replayed events shown in the report."""


def build_report(result, figure_png: bytes, source_config: str) -> str:
    """Return the replay report as one self-contained HTML string (``templates/replay.html``)."""
    c = result.comparison
    ev = result.events
    s = result.summary
    caption = "Replay against the record: annual volumes with the replay's error, monthly volumes."
    return render(
        "replay.html",
        year=result.year,
        source_config=source_config,
        n_effects=len(result.schedule.events),
        schedule_file=result.schedule.file,
        exported=f"{s['exported_mt']:,.2f}",
        undisrupted=f"{_undisrupted_exports(result):,.2f}",
        shut_in=f"{s['shut_in_mt']:,.2f}",
        n_compared=len(c[c["status"] == "compared"]),
        n_missing=len(c[c["status"] == "missing"]),
        comparison=table(_shown_comparison(c)),
        figure=figure(figure_png, caption),
        schedule=table(_shown_schedule(result.schedule.table)),
        events=table(ev[[col for col in EVENT_COLUMNS if col in ev.columns]]),
        sources=_sources(c),
    )


def write_replay(result, out_dir: str | Path, source_config: str) -> list[Path]:
    """Write every file of a replayed year to ``out_dir``; return the paths."""
    out = Path(out_dir)
    png = png_bytes(replay_figure(result))
    files = {
        "comparison.csv": result.comparison.to_csv(index=False).encode(),
        "monthly.csv": result.monthly.to_csv(index=False).encode(),
        "events.csv": result.events.to_csv(index=False).encode(),
        "schedule.csv": result.schedule.table.to_csv(index=False).encode(),
        "config.resolved.yaml": dump_config(result.config).encode(),
        "replay.png": png,
        "report.html": build_report(result, png, source_config).encode("utf-8"),
    }
    atomic_write_parquet(out / "comparison.parquet", result.comparison)
    atomic_write_parquet(out / "monthly.parquet", result.monthly)
    for name, data in files.items():
        atomic_write_bytes(out / name, data)
    return [out / "comparison.parquet", out / "monthly.parquet", *(out / n for n in files)]
