"""The calibration report: fitted durations against Kaplan-Meier curves, and the evidence table.

``corridor-sim calibrate`` writes, next to the fitted YAML, a directory with

* ``duration_cdfs.png``: per (asset, cause) group, the Kaplan-Meier empirical CDF of the
  durations (censored durations marked ``+``) against the CDF of each fitted family (the one
  chosen by AIC drawn solid);
* ``groups.csv``: the table of :func:`sim.calibration.groups.groups_table`;
* ``report.html``: self-contained (figure inlined), with the number of events behind every
  parameter and a visible warning for each group with fewer than 5 events.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from markupsafe import Markup
from matplotlib.lines import Line2D
from matplotlib.ticker import LogLocator, NullLocator

from sim.calibration.fit import MIN_DURATION_DAYS, SMALL_SAMPLE
from sim.calibration.groups import GroupFit
from sim.calibration.survival import kaplan_meier
from sim.figures.style import OKABE_ITO, new_grid, png_bytes
from sim.report.html import figure, render
from sim.report.html import table as html_table
from sim.store.layout import atomic_write_bytes

EXTRA_CSS = Markup(
    """
.warn{color:#b00020;font-weight:600}td.l,th.l{text-align:left}
.banner{border:2px solid #b00020;padding:.5rem 1rem;background:#fff3f3}
body{max-width:92rem}td{white-space:nowrap}
"""
)
"""Style of the calibration page beside the shared one (wide tables, warnings)."""
FAMILY_COLOURS = {"exponential": 0, "lognormal": 1, "weibull": 2, "gamma": 3}


def duration_cdf_figure(fits: list[GroupFit], columns: int = 4):
    """Return a grid of fitted vs Kaplan-Meier duration CDFs, one panel per group.

    Groups without durations are left out; returns ``None`` when no group has any.
    """
    shown = [f for f in fits if f.durations is not None]
    if not shown:
        return None
    rows = math.ceil(len(shown) / columns)
    fig, axes = new_grid(rows, columns, (3.0 * columns, 2.5 * rows), dpi=100, squeeze=False)
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.5 / rows, top=1 - 0.25 / rows)
    fig.subplots_adjust(hspace=0.75, wspace=0.25)
    for ax, f in zip(axes.flat, shown):
        t = np.maximum(f.rows["duration_days"].to_numpy(dtype=float), MIN_DURATION_DAYS)
        c = f.rows["end_is_censored"].to_numpy(dtype=bool)
        keep = ~np.isnan(t)
        t, c = t[keep], c[keep]
        km = kaplan_meier(t, c)
        hi = max(float(t.max()) * 3, 1.0)
        grid = np.geomspace(MIN_DURATION_DAYS, hi, 200)
        if len(km.times):
            xs = np.concatenate([[MIN_DURATION_DAYS], km.times, [hi]])
            ys = np.concatenate([[0.0], 1 - km.survival, [1 - km.survival[-1]]])
            ax.step(xs, ys, where="post", color="black", linewidth=1.4)
        if c.any():
            ax.plot(t[c], km.cdf(t[c]), "+", color="black", markersize=9)
        for fam, fam_fit in f.durations.fits.items():
            best = fam == f.durations.best
            ax.plot(
                grid,
                fam_fit.dist().cdf(grid),
                color=OKABE_ITO[FAMILY_COLOURS.get(fam, 4)],
                linewidth=2.0 if best else 1.0,
                linestyle="-" if best else ":",
            )
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(numticks=5))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_ylim(0, 1.02)
        ax.grid(True, alpha=0.3)
        n_c = int(c.sum())
        warn = " \u26a0" if len(t) < SMALL_SAMPLE else ""
        ax.set_title(f"{f.asset} / {f.cause}\nn={len(t)}, {n_c} censored{warn}", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(shown) :]:
        ax.set_visible(False)
    handles = [
        Line2D([], [], color="black", drawstyle="steps-post", label="Kaplan-Meier"),
        Line2D([], [], color="black", marker="+", linestyle="", label="censored duration"),
    ]
    handles += [Line2D([], [], color=OKABE_ITO[i], label=fam) for fam, i in FAMILY_COLOURS.items()]
    handles.append(Line2D([], [], color="grey", label="solid: chosen by AIC; dotted: others"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False, fontsize=8)
    fig.supxlabel("duration (days, log scale)", y=0.3 / rows)
    fig.supylabel("share of events shorter")
    return fig


EVIDENCE_HEAD = (
    ("asset / cause", "l"), ("written", "l"), ("rate /yr", ""), ("95% CI", ""),
    ("events (rate)", ""), ("years", ""), ("duration", "l"), ("durations (censored)", ""),
    ("effect", "l"), ("rows (effect)", ""), ("events (season)", ""), ("warning", "l"),
)  # fmt: skip
"""Columns of the evidence table and their classes ("l": left-aligned)."""


def _cls(warn: bool = False, left: bool = False) -> str:
    return " ".join(c for c in ("warn" if warn else "", "l" if left else "") if c)


def _evidence_row(f: GroupFit) -> list[tuple[str, str]]:
    """Return one group's evidence cells as (text, class)."""
    r = f.base_rate
    d = f.durations.chosen if f.durations else None
    params = ", ".join(f"{k}={v:.3g}" for k, v in d.params.items()) if d else ""
    warnings = []
    if f.small:
        warnings.append(f"\u26a0 n < {SMALL_SAMPLE}")
    if d is not None and d.n - d.n_censored < 2:
        warnings.append("\u26a0 < 2 completed durations")
    return [
        (f"{f.asset} / {f.cause}", _cls(left=True)),
        ("yes" if f.hazard_id else "no", _cls(left=True)),
        (f"{r.rate_per_year:.3g}" if r else "", ""),
        (f"{r.lower:.3g}\u2013{r.upper:.3g}" if r else "", ""),
        (str(r.n_events if r else f.n_in_window), _cls(warn=f.small)),
        (f"{r.exposure_years:.2f}" if r else "", ""),
        (f"{d.family} ({params})" if d else "none", _cls(left=True)),
        (f"{d.n} ({d.n_censored})" if d else "0", _cls(warn=bool(d and d.n < SMALL_SAMPLE))),
        (f.effect.describe(), _cls(left=True)),
        (str(f.effect.n), ""),
        (str(f.season.n) if f.season else "", ""),
        ("; ".join(warnings), _cls(warn=bool(warnings), left=True)),
    ]


def _split_table(fits: list[GroupFit]) -> pd.DataFrame:
    rows = []
    for f in fits:
        sp = f.split
        if sp is None:
            continue
        row = {"asset / cause": f"{f.asset} / {f.cause}", "all: rate /yr": f.rate.rate_per_year}
        for name, part in zip(sp.regimes, (sp.before, sp.after)):
            row[f"{name}: events"] = str(part.n_events if part else 0)
            row[f"{name}: years"] = part.exposure_years if part else 0.0
            row[f"{name}: rate /yr"] = part.rate_per_year if part else float("nan")
            row[f"{name}: 95% CI"] = f"{part.lower:.3g}\u2013{part.upper:.3g}" if part else ""
        row["equal-rate p"] = sp.pvalue
        rows.append(row)
    return pd.DataFrame(rows)


def _season_table(fits: list[GroupFit]) -> pd.DataFrame:
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    rows = []
    for f in fits:
        if f.season is None:
            continue
        s = f.season
        rows.append({"asset / cause": f"{f.asset} / {f.cause}", "events": str(s.n)})
        rows[-1].update({m: float(v) for m, v in zip(months, s.multipliers)})
        rows[-1]["counts by month"] = " ".join(str(int(c)) for c in s.counts)
    return pd.DataFrame(rows)


def build_report(fits: list[GroupFit], meta: dict, figure_png: bytes | None) -> str:
    """Return the calibration report as one self-contained HTML string.

    Parameters
    ----------
    fits:
        Group fits from :func:`sim.calibration.groups.fit_groups`.
    meta:
        Items shown at the top (catalog, as of, options...).
    figure_png:
        The duration-CDF figure as PNG bytes, or ``None``.
    """
    meta_df = pd.DataFrame([(k, str(v)) for k, v in meta.items()], columns=["item", "value"])
    split = _split_table(fits)
    season = _season_table(fits)
    notes = pd.DataFrame(
        [(f"{f.asset} / {f.cause}", "; ".join(f.notes)) for f in fits if f.notes],
        columns=["group", "notes"],
    )
    caption = (
        "Kaplan-Meier empirical CDF of durations (black steps; + censored) against the "
        "fitted families (solid: chosen by AIC)."
    )
    return render(
        "calibration.html",
        extra_css=EXTRA_CSS,
        meta=Markup(str(html_table(meta_df)).replace("<table>", "<table class='meta'>", 1)),
        n_groups=len(fits),
        n_written=sum(bool(f.hazard_id) for f in fits),
        small=sum(f.small for f in fits),
        small_sample=SMALL_SAMPLE,
        evidence_head=EVIDENCE_HEAD,
        evidence=[_evidence_row(f) for f in fits],
        split=html_table(split) if len(split) else None,
        season=html_table(season) if len(season) else None,
        figure=figure(figure_png, caption) if figure_png is not None else None,
        notes=html_table(notes) if len(notes) else None,
    )


REPORT_FILES = ("report.html", "duration_cdfs.png", "groups.csv")
"""The files :func:`write_report` writes (the only ones it replaces in its directory)."""


def write_report(out_dir: str | Path, fits: list[GroupFit], table: pd.DataFrame, meta: dict):
    """Write ``report.html``, ``duration_cdfs.png`` and ``groups.csv`` to ``out_dir``.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    out = Path(out_dir)
    fig = duration_cdf_figure(fits)
    written = []
    png = None
    if fig is not None:
        png = png_bytes(fig)
        atomic_write_bytes(out / "duration_cdfs.png", png)
        written.append(out / "duration_cdfs.png")
    atomic_write_bytes(out / "groups.csv", table.to_csv(index=False).encode())
    atomic_write_bytes(out / "report.html", build_report(fits, meta, png).encode("utf-8"))
    written += [out / "groups.csv", out / "report.html"]
    return written
