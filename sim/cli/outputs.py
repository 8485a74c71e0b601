"""Commands on a finished run directory that write its figures, report and loss tables.

``plot`` (figures in ``DIR/figures``), ``report`` (``DIR/report.html``, for a run or an
experiment directory) and ``losses`` (``DIR/tables``, with the AAL and return-period losses
printed in their display units).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def cmd_plot(args) -> int:
    """``corridor-sim plot DIR``: every figure of a run, PNG and SVG, in ``DIR/figures``."""
    from sim.results import load_run

    paths = load_run(args.run_dir, finished=True).plot.save_all()
    print(f"wrote {len(paths)} files to {paths[0].parent if paths else args.run_dir}")
    return 0


def cmd_report(args) -> int:
    """``corridor-sim report DIR``: the HTML report of a run or an experiment directory."""
    from sim.report.experiment import build_comparison_report
    from sim.report.run import write_report
    from sim.results import load_run
    from sim.store.experiments import is_experiment_dir
    from sim.store.layout import atomic_write_bytes
    from sim.store.outputs import check_target

    target = Path(args.run_dir)
    if not (target / "manifest.json").is_file() and is_experiment_dir(target):
        out = target / "report.html"
        check_target(out)
        atomic_write_bytes(out, build_comparison_report(target).encode("utf-8"))
        print(f"wrote {out}")
        return 0
    run = load_run(args.run_dir, finished=True)
    check_target(run.path / "report.html")
    print(f"wrote {write_report(run)}")
    return 0


LOSS_TABLES = (
    "elt.parquet",
    "ylt.parquet",
    *(f"{name}.csv" for name in ("aal", "return_periods", "convergence", "aep", "oep")),
    *(f"{name}.csv" for name in ("resilience", "offset_ledger")),
)
"""Files ``losses`` writes to ``DIR/tables`` (each checked before any is written)."""


def _write_loss_tables(res, periods: tuple[int, ...]) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    """Write the loss and resilience tables of a run to ``DIR/tables``; return it, AAL and RP."""
    import pandas as pd

    from sim.analysis import losses, resilience
    from sim.base.units import DAYS_PER_YEAR
    from sim.store.layout import atomic_write_bytes, atomic_write_parquet
    from sim.store.outputs import check_target, owned_subdir

    tables = owned_subdir(res.path, "tables")
    for name in LOSS_TABLES:
        check_target(tables / name)
    bounds = res.year_bounds()
    reps, events = res.replications, res.events
    elt, ylt = res.elt(), res.ylt()
    atomic_write_parquet(tables / "elt.parquet", elt)
    atomic_write_parquet(tables / "ylt.parquet", ylt)
    years = float(bounds[-1] - bounds[0]) / DAYS_PER_YEAR
    aal = losses.aal_table(ylt)
    rp = losses.return_period_table(ylt, periods)
    both = list(losses.MEASURES)
    csvs = {
        "aal": aal,
        "return_periods": rp,
        "convergence": pd.concat([losses.convergence_table(ylt, m) for m in both]),
        "aep": pd.concat([losses.ep_curve(ylt, "AEP", m) for m in both]),
        "oep": pd.concat([losses.ep_curve(ylt, "OEP", m) for m in both]),
        "resilience": resilience.by_hazard(events, len(reps) * years),
        "offset_ledger": resilience.offset_ledger(reps, years),
    }
    for name, df in csvs.items():
        atomic_write_bytes(tables / f"{name}.csv", df.to_csv(index=False).encode())
    return tables, aal, rp


def _print_losses(aal: pd.DataFrame, rp: pd.DataFrame) -> None:
    """Print the AAL and the return-period losses in their display units (USD in millions)."""
    from sim.analysis.losses import MEASURE_UNITS
    from sim.base.columns import unit_scale

    scale = {m: unit_scale(unit) for m, unit in MEASURE_UNITS.items()}
    for r in aal.itertuples(index=False):
        k, unit = scale[r.measure]
        print(
            f"AAL {r.measure}: {r.aal / k:,.2f} {unit}/yr (standard error {r.se / k:,.2f}); "
            f"PML 100 yr: {r.pml_100 / k:,.2f} {unit}; {r.replications} replications, "
            f"{r.years} years"
        )
    shown = rp.assign(
        loss=[v / scale[m][0] for v, m in zip(rp["loss"], rp["measure"])],
        tvar=[v / scale[m][0] for v, m in zip(rp["tvar"], rp["measure"])],
        unit=[scale[m][1] for m in rp["measure"]],
    )
    print(
        shown[
            ["measure", "curve", "return_period", "loss", "tvar", "unit", "extrapolated"]
        ].to_string(index=False, float_format=lambda v: f"{v:,.2f}")
    )


def cmd_losses(args) -> int:
    """``corridor-sim losses DIR``: loss and resilience tables in ``DIR/tables``, printed."""
    from sim.analysis import periods
    from sim.results import load_run

    chosen = periods.RETURN_PERIODS
    if args.return_periods is not None:
        chosen = periods.parse_return_periods(args.return_periods)
    res = load_run(args.run_dir, finished=True)
    tables, aal, rp = _write_loss_tables(res, chosen)
    _print_losses(aal, rp)
    print(f"tables written to {tables}")
    return 0


__all__ = ["LOSS_TABLES", "cmd_losses", "cmd_plot", "cmd_report"]
