"""Write a replayed year: tables, a figure of simulated against recorded volumes, an HTML page.

``DIR/`` receives ``comparison.parquet`` and ``.csv`` (recorded vs simulated, error in Mt and
%), ``monthly.parquet`` and ``.csv`` (every link, shuttle and ``exports_total`` per month,
simulated and undisrupted), ``events.csv``, ``schedule.csv``, ``config.resolved.yaml`` (the
deterministic replay config), ``replay.png`` and a self-contained ``report.html``.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config.loader import dump_config
from sim.figures.run import OKABE_ITO, WIDTH_IN, plt  # plots sets the Agg backend
from sim.report.html import CSS as REPORT_CSS
from sim.report.html import table as html_table
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
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(WIDTH_IN * 1.7, 4.4), dpi=110)
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


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


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


def build_report(result, figure_png: bytes, source_config: str) -> str:
    """Return the replay report as one self-contained HTML string."""
    c = result.comparison
    shown = _shown_comparison(c)
    done = c[c["status"] == "compared"]
    missing = c[c["status"] == "missing"]
    links = "".join(
        f"<li>{html.escape(r['period'])} {html.escape(r['quantity'])} "
        f"({html.escape(r['measure'])}, confidence {html.escape(str(r['confidence']) or '-')}): "
        f"{html.escape(str(r['notes']))} "
        + ", ".join(
            f"<a href='{html.escape(u.strip())}'>{html.escape(u.strip())}</a>"
            for u in str(r["source_url"]).split(";")
            if u.strip()
        )
        + "</li>"
        for r in c.to_dict("records")
    )
    ev = result.events
    ev_cols = [
        "hazard", "asset", "start_date", "duration_days", "capacity_lost", "berths_lost",
        "volume_lost_mt", "volume_deferred_mt", "offset_routes_mt",
    ]  # fmt: skip
    s = result.summary
    uri = "data:image/png;base64," + base64.b64encode(figure_png).decode()
    caption = "Replay against the record: annual volumes with the replay's error, monthly volumes."
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>corridor-sim replay {result.year}</title>",
        f"<style>{REPORT_CSS}body{{max-width:80rem}}</style></head><body>",
        f"<h1>Historical replay {result.year}</h1>",
        f"<p>Network of <code>{html.escape(source_config)}</code> driven through "
        f"{len(result.schedule.events)} scripted effects of "
        f"<code>{html.escape(result.schedule.file)}</code>, with every hazard switched off "
        "(deterministic). The replay exported "
        f"<b>{s['exported_mt']:,.2f} Mt</b>; the same year without events "
        f"{_undisrupted_exports(result):,.2f} Mt; "
        f"{s['shut_in_mt']:,.2f} Mt shut in. {len(done)} recorded figures compared, "
        f"{len(missing)} missing in the sources.</p>",
        "<h2>Recorded against simulated</h2>",
        "<p><code>error</code> = simulated − recorded. For <code>change_vs_undisrupted</code> "
        "rows the simulated figure is the replay minus the year without events.</p>",
        html_table(shown),
        f"<figure><img alt='{caption}' src='{uri}'><figcaption>{caption}</figcaption></figure>",
        "<h2>Schedule</h2>",
        html_table(_shown_schedule(result.schedule.table)),
        "<h2>What each scripted effect cost</h2>",
        "<p>Volumes over each effect's window against the year without events; overlapping "
        "effects share them.</p>",
        html_table(ev[[col for col in ev_cols if col in ev.columns]]),
        f"<h2>Recorded figures and their sources</h2><ul>{links}</ul>",
        "</body></html>",
    ]
    return "\n".join(parts)


def write_replay(result, out_dir: str | Path, source_config: str) -> list[Path]:
    """Write every file of a replayed year to ``out_dir``; return the paths."""
    out = Path(out_dir)
    png = _png(replay_figure(result))
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
