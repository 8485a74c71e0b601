"""A self-contained HTML report of a run directory (figures inlined, no network needed).

The report shows run metadata (config hash, seed, version), key figures, the summary and loss
tables, and the assumptions behind the config with their ``source`` fields.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import pandas as pd

from sim import losses, plots
from sim.batch import RunResult

_CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;
padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
figure{margin:1rem 0}img{max-width:100%}figcaption{font-size:.85rem;color:#555}
.meta td{text-align:left}
"""


def _img(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plots.plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _table(df: pd.DataFrame, fmt: str = "{:,.1f}") -> str:
    def cell(v):
        if isinstance(v, float):
            return fmt.format(v)
        return html.escape(str(v))

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{cell(v)}</td>" for v in r) + "</tr>"
        for r in df.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _assumptions(run: RunResult) -> pd.DataFrame:
    cfg = run.config
    rows = []
    for section in ("sources", "storages", "pipelines", "terminals", "shuttles", "markets"):
        for item in getattr(cfg, section):
            rows.append(
                {"section": section, "id": item.id, "source": item.source or "(none given)"}
            )
    for name, hz in cfg.hazards.items():
        rows.append({"section": "hazards", "id": name, "source": hz.source or "(none given)"})
    return pd.DataFrame(rows)


def build_report(run: RunResult) -> str:
    """Return the report of ``run`` as one HTML string."""
    man = run.manifest
    summary = json.loads((run.path / "summary.json").read_text())
    reps = run.replications
    elt = losses.event_loss_table(reps, run.events)
    ylt = losses.year_loss_table(reps, elt)
    a = losses.aal(ylt)
    metrics = summary["metrics"]
    headline = [
        k
        for k in (
            "revenue_loss_usd",
            "shut_in_mt",
            "deferred_mt",
            "exported_mt",
            "shut_in_days",
            "n_events",
        )
        if k in metrics
    ]
    headline += sorted(
        (k for k in metrics if k.startswith("spare_used_mt.") and metrics[k].get("mean", 0) > 0),
        key=lambda k: -metrics[k]["mean"],
    )
    stat_cols = ["mean", "ci95_half", "p5", "p50", "p95", "var99", "cvar99", "p_positive"]
    stats = pd.DataFrame(
        [{"metric": k, **{c: metrics[k].get(c) for c in stat_cols}} for k in headline]
    )
    rp = losses.return_period_table(ylt)
    rp = rp.assign(loss_usd_m=rp["loss_usd"] / 1e6, tvar_usd_m=rp["tvar_usd"] / 1e6)[
        ["curve", "return_period", "loss_usd_m", "tvar_usd_m", "extrapolated"]
    ]
    by_cause = (
        elt.groupby("cause")["loss_usd"]
        .agg(["count", "sum"])
        .assign(
            share_pct=lambda d: 100 * d["sum"] / max(d["sum"].sum(), 1e-9),
            loss_usd_m_per_year=lambda d: d["sum"] / 1e6 / max(len(reps), 1),
        )
        .reset_index()[["cause", "count", "loss_usd_m_per_year", "share_pct"]]
    )
    figures = [
        (plots.loss_histogram(reps), "Annual revenue loss against the undisrupted twin."),
        (plots.ep_curves(ylt), "Aggregate and largest-event exceedance curves (90% bands)."),
        (plots.spare_capacity(reps), "Spare capacity of alternative routes used over the year."),
        (plots.event_scatter(elt), "Events: duration against allocated loss, by cause."),
        (plots.convergence(ylt), "Convergence of the mean annual loss."),
    ]
    meta = pd.DataFrame(
        [
            ("config", man.get("config_name")),
            ("config hash", man.get("config_hash")),
            ("root seed", man.get("seed")),
            ("replications", summary.get("replications")),
            ("failed replications", summary.get("failed", 0)),
            ("corridor-sim version", man.get("package_version")),
            ("created", man.get("created")),
            ("executor", f"{man.get('executor')} x {man.get('workers')}"),
        ],
        columns=["item", "value"],
    )
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>corridor-sim report: {html.escape(str(man.get('config_name')))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Disruption risk report: {html.escape(str(man.get('config_name')))}</h1>",
        f"<p>Average annual loss <b>{a['aal'] / 1e6:,.1f} USD million</b> (standard error "
        f"{a['se'] / 1e6:,.1f}); 100-year aggregate loss "
        f"<b>{losses.pml(ylt, 100) / 1e6:,.1f} USD million</b>.</p>",
        "<h2>Run</h2>",
        _table(meta).replace("<table>", "<table class='meta'>"),
        "<h2>Key figures</h2>",
    ]
    parts += [
        f"<figure><img alt='{html.escape(c)}' src='{_img(f)}'><figcaption>{html.escape(c)}"
        "</figcaption></figure>"
        for f, c in figures
    ]
    parts += [
        "<h2>Summary statistics</h2>",
        _table(stats, "{:,.4g}"),
        "<h2>Losses at return periods (USD million)</h2>",
        _table(rp),
        "<h2>Loss by cause (USD million per year)</h2>",
        _table(by_cause),
        "<h2>Assumptions and sources</h2>",
        "<p>Each asset and hazard of the config with its <code>source</code> field "
        "(rows of <code>seeds/</code>); see <code>docs/calibration.md</code>.</p>",
        _table(_assumptions(run)),
        "</body></html>",
    ]
    return "\n".join(parts)


def build_comparison_report(exp_dir: Path) -> str:
    """Return the HTML report of an experiment directory (``comparison.parquet``)."""
    comparison = pd.read_parquet(exp_dir / "comparison.parquet")
    meta = json.loads((exp_dir / "experiment.json").read_text())
    metrics = list(dict.fromkeys(comparison["metric"].astype(str)))
    if "kind" in comparison:
        named = comparison[comparison["kind"] == "scenario"]
    elif "parameter" in comparison:
        named = comparison[comparison["parameter"] == ""]
    else:
        named = comparison
    figs = [
        (plots.scenario_comparison(named, m), f"Paired change in mean {m}.")
        for m in metrics
        if len(named)
    ]
    if "parameter" in comparison and (comparison["parameter"] != "").any():
        figs += [
            (plots.tornado(comparison, m), f"One-at-a-time sensitivity of mean {m}.")
            for m in metrics
        ]
    swept = list(meta.get("factorial") or {}) + list(
        (meta.get("design") or {}).get("parameters") or {}
    )
    if swept:
        figs += [
            (plots.design_scatter(comparison, swept, m), f"Design points: mean {m}.")
            for m in metrics
        ]
    indices_path = exp_dir / "sobol.parquet"
    indices = pd.read_parquet(indices_path) if indices_path.is_file() else pd.DataFrame()
    if len(indices):
        figs += [
            (plots.sobol_indices(indices, m), f"Sobol' indices of mean {m} (95% bootstrap CIs).")
            for m in metrics
        ]
    shown = comparison.copy()
    for col in (
        "base_mean",
        "scenario_mean",
        "mean_diff",
        "ci95_low",
        "ci95_high",
        "unpaired_ci95_half",
        "npv_usd",
        "npv_ci95_low",
        "npv_ci95_high",
        "avoided_loss_usd_per_year",
    ):
        if col in shown:
            shown[col] = shown[col].astype(float)
    descriptions = pd.DataFrame(
        [
            (k, v.get("description", ""), (v.get("cost") or {}).get("source") or "")
            for k, v in meta["scenarios"].items()
        ],
        columns=["scenario", "description", "cost source"],
    )
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>corridor-sim experiment: {html.escape(meta['name'])}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Experiment: {html.escape(meta['name'])}</h1>",
        f"<p>{meta['replications']} replications per scenario, root seed {meta['seed']}; every "
        "scenario uses the base's random streams, so differences are paired.</p>",
        "<h2>Scenarios</h2>",
        _table(descriptions),
    ]
    parts += [
        f"<figure><img alt='{html.escape(c)}' src='{_img(f)}'><figcaption>{html.escape(c)}"
        "</figcaption></figure>"
        for f, c in figs
    ]
    if len(indices):
        parts += ["<h2>Sobol' indices</h2>", _table(indices, "{:,.3g}")]
    parts += ["<h2>Comparison</h2>", _table(shown, "{:,.4g}"), "</body></html>"]
    return "\n".join(parts)


def write_report(run: RunResult, path: Path | None = None) -> Path:
    """Write the report to ``path`` (default ``<run>/report.html``)."""
    from sim.rundir import atomic_write_bytes

    target = path or run.path / "report.html"
    atomic_write_bytes(target, build_report(run).encode("utf-8"))
    return target
