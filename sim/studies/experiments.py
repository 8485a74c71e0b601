"""Scenario experiments: overlays on a base config, run under common random numbers.

The experiment file (:mod:`sim.studies.scenarios`) names a base config and the scenarios,
one-at-a-time levels, factorial grid and sampled design to compare with it. Every scenario and
design point runs with the base's root seed and replication indices, so replication k of each
sees the same random streams as replication k of the base: differences are paired. The
comparison table gives, per scenario and metric, the mean difference with a paired 95% CI, the
unpaired CI it would have had, and the variance reduction; with a ``cost`` it adds the avoided
loss per year, NPV (with its CI) and the benefit/cost ratio. Swept keys are columns of the
table.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis import sobol
from sim.analysis.comparison import Cost, economics, paired_comparison
from sim.base.errors import ConfigError, InputError, Problem
from sim.batch import coordinator
from sim.batch.executors import check_executor_options, make_executor
from sim.batch.options import RunOptions
from sim.batch.progress import labelled
from sim.config.loader import parse_override_value
from sim.config.models import Config
from sim.results import STATISTICS, RunResult, result_of
from sim.store import experiments as experiment_dir
from sim.store.layout import atomic_write_bytes, atomic_write_json, atomic_write_parquet
from sim.studies import ema
from sim.studies.overlays import flatten_patch, overlay, require_key, value_label
from sim.studies.scenarios import (
    DEFAULT_METRICS,
    Experiment,
    Scenario,
    ScenarioRun,
    experiment_replications,
    load_experiment,
    metric_problem,
)


def _override_values(scn: Scenario) -> dict[str, Any]:
    """Dotted key -> new value of everything a scenario changes (overrides, then set lines)."""
    out = flatten_patch(scn.overrides) if scn.overrides else {}
    for line in scn.set:
        key, _, text = line.partition("=")
        out[key.strip()] = parse_override_value(text)  # as `--set` reads it (YAML 1.2)
    return out


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _column(values: list[Any]) -> pd.Series:
    """Return a typed column: float if every given value is a number, else strings."""
    given = [v for v in values if not _missing(v)]
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in given):
        return pd.Series([None if _missing(v) else v for v in values], dtype="float64")
    return pd.Series([None if _missing(v) else str(value_label(v)) for v in values], dtype="string")


def parameter_table(exp: Experiment, base: Config) -> pd.DataFrame:
    """One row per run (``policy``: ``base`` first) and one column per key any run changes.

    Keys a run leaves alone hold the base value; ``added`` lists the entries of ``add`` blocks
    (``none`` when there are none). No cell is missing.
    """
    resolved = base.model_dump(mode="json")
    runs = exp.expanded()
    changed = {name: _override_values(r.scenario) for name, r in runs.items()}
    keys = list(dict.fromkeys(k for values in changed.values() for k in values))
    base_values = {}
    for key in keys:
        try:
            base_values[key] = require_key(resolved, key)
        except ConfigError:
            base_values[key] = None
    rows = [("base", base_values, "")] + [
        (
            name,
            {**base_values, **changed[name]},
            ",".join(r.scenario.add.labels()),
        )
        for name, r in runs.items()
    ]
    table = pd.DataFrame({"policy": pd.Series([r[0] for r in rows], dtype="string")})
    for key in keys:
        table[key] = _complete_column([r[1][key] for r in rows])
    table["added"] = pd.Series([r[2] or "none" for r in rows], dtype="string")
    return table


def _complete_column(values: list[Any]) -> pd.Series:
    """Return a column without missing values (EMA Workbench's analyses need complete data).

    Booleans stay booleans, numbers become floats; anything else (or a mix with ``null``)
    becomes strings, ``null`` written as ``unset`` (``read_csv`` would read "null" as missing).
    """
    if all(isinstance(v, bool) for v in values):
        return pd.Series(values, dtype="bool")
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return pd.Series(values, dtype="float64")
    return pd.Series(
        ["unset" if v is None else str(value_label(v)) for v in values], dtype="string"
    )


def sobol_table(exp: Experiment, runs: dict[str, RunResult]) -> pd.DataFrame:
    """Sobol' indices of each metric's mean over replications (a ``sobol`` design only)."""
    design = exp.design
    if design is None or design.method != "sobol":
        return pd.DataFrame()
    points = exp.expanded()
    by_block: dict[str, list[str]] = {}
    for name, r in points.items():
        if r.kind == "sobol":
            by_block.setdefault(r.block, []).append(name)
    reps = {name: runs[name].replications for names in by_block.values() for name in names}
    tables = []
    keys = design.keys
    for metric in exp.metrics:

        def y(block: str, metric: str = metric) -> list[float]:
            return [float(reps[name][metric].mean()) for name in by_block[block]]

        f_ab = [y(f"AB{i}") for i in range(len(keys))]
        tab = sobol.sobol_indices(y("A"), y("B"), f_ab, keys, seed=design.seed)
        tab.insert(0, "metric", pd.array([metric] * len(tab), dtype="string"))
        tab["n"] = design.n
        tables.append(tab)
    return pd.concat(tables, ignore_index=True)


def _comparison_rows(
    exp: Experiment, runs: dict[str, RunResult], path: str | Path
) -> list[dict[str, Any]]:
    base_reps = runs["base"].replications
    swept = list(exp.factorial) + (exp.design.keys if exp.design else [])
    rows = []
    for name, r in exp.expanded().items():
        reps = runs[name].replications
        for metric in exp.metrics:
            if metric not in base_reps.columns or metric not in reps.columns:
                raise InputError(
                    Problem(f"metrics: {metric}", "not a column of the results"), str(path)
                )
            row = {
                "scenario": name,
                "kind": r.kind,
                "metric": metric,
                "parameter": r.parameter or "",
                "value": "" if r.value is None else str(r.value),
                **{key: r.values.get(key) for key in swept},
                **paired_comparison(base_reps, reps, metric),
            }
            if metric == "revenue_loss_usd" and r.scenario.cost is not None:
                half = (row["ci95_high"] - row["ci95_low"]) / 2
                row.update(economics(-row["mean_diff"], half, r.scenario.cost))
            rows.append(row)
    return rows


def run_experiment(
    path: str | Path,
    out: str | Path,
    replications: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    executor: str = "processes",
    resume: bool = False,
    progress: bool = False,
) -> pd.DataFrame:
    """Run the base and every scenario into ``out`` and return the comparison table.

    Besides ``comparison.parquet``/``.csv`` and ``experiment.json``, the directory gets
    ``parameters.parquet`` (the values of every changed key per run), ``ema_results.tar.gz``
    (EMA Workbench layout, see :mod:`sim.studies.ema`) and, for a Sobol' design, ``sobol.parquet``/
    ``.csv``.
    """
    check_executor_options(executor, workers, None)  # before the output directory is claimed
    exp, base, scenarios = load_experiment(path)
    n = experiment_replications(exp, replications)
    root = exp.seed if seed is None else seed
    out_dir = Path(out)
    folders = experiment_dir.claim(out_dir, list(scenarios))
    todo = [("base", base), *scenarios.items()]
    runs: dict[str, RunResult] = {}
    ex = make_executor(executor, workers)
    try:
        for k, (name, cfg) in enumerate(todo, start=1):
            target = folders[name]
            again = resume and (target / "manifest.json").is_file()
            what = "base" if name == "base" else f"scenario {name}"
            with labelled(f"{what} (run {k} of {len(todo)})"):
                options = RunOptions(
                    out=target,
                    resume=again,
                    replications=n,
                    seed=root,
                    executor=ex,
                    progress=progress,
                )
                runs[name] = result_of(coordinator.run(cfg, options, STATISTICS))
    except BaseException:
        ex.close(cancel=True)  # interrupted or failed: stop now, chunks on disk stay resumable
        raise
    ex.close()
    table = comparison_table(exp, runs, path)
    _write_outputs(out_dir, exp, base, runs, table)
    atomic_write_json(out_dir / "experiment.json", _record(exp, path, root, n))
    # Last: the record of what the experiment wrote, checked by every reader.
    atomic_write_json(out_dir / experiment_dir.CHECKSUMS, experiment_dir.checksums(out_dir))
    return table


def comparison_table(exp: Experiment, runs: dict[str, RunResult], path: str | Path) -> pd.DataFrame:
    """One row per scenario and metric: the paired comparison with the base (and economics).

    Raises
    ------
    InputError
        When a metric is not a column of the results (``path``: the experiment file).
    """
    table = pd.DataFrame(_comparison_rows(exp, runs, path))
    table = table.astype(
        {
            "scenario": "string",
            "kind": "string",
            "metric": "string",
            "parameter": "string",
            "value": "string",
        }
    )
    for key in list(exp.factorial) + (exp.design.keys if exp.design else []):
        table[key] = _column(list(table[key])).to_numpy()
    return table


def _write_outputs(
    out_dir: Path,
    exp: Experiment,
    base: Config,
    runs: dict[str, RunResult],
    table: pd.DataFrame,
) -> None:
    """Write the comparison, parameter and EMA tables and, for a Sobol' design, the indices."""
    atomic_write_parquet(out_dir / "comparison.parquet", table)
    atomic_write_bytes(out_dir / "comparison.csv", table.to_csv(index=False).encode())
    atomic_write_parquet(out_dir / ema.PARAMETERS, parameter_table(exp, base))
    ema.save_results(ema.experiment_results(out_dir, exp.metrics), out_dir / ema.ARCHIVE)
    indices = sobol_table(exp, runs)
    if len(indices):
        atomic_write_parquet(out_dir / "sobol.parquet", indices)
        atomic_write_bytes(out_dir / "sobol.csv", indices.to_csv(index=False).encode())


def _record(exp: Experiment, path: str | Path, root: int, n: int) -> dict[str, Any]:
    """Return the content of ``experiment.json``: what ran, with which seed and replications."""
    expanded = exp.expanded()
    return {
        "name": exp.name,
        "file": str(path),
        "seed": root,
        "replications": n,
        "scenarios": {k: v.scenario.model_dump(mode="json") for k, v in expanded.items()},
        "kinds": {k: v.kind for k, v in expanded.items()},
        "factorial": exp.factorial,
        "design": exp.design.model_dump(mode="json") if exp.design else None,
        "metrics": exp.metrics,
    }


def load_comparison(out: str | Path) -> pd.DataFrame:
    """Read ``comparison.parquet`` of an experiment directory (checked on the way)."""
    return experiment_dir.read_comparison(out)


def load_sobol(out: str | Path) -> pd.DataFrame:
    """Read ``sobol.parquet`` of an experiment directory (empty without a Sobol' design)."""
    return experiment_dir.read_sobol(out)


__all__ = [
    "DEFAULT_METRICS",
    "Cost",
    "Experiment",
    "economics",
    "experiment_replications",
    "Scenario",
    "ScenarioRun",
    "load_comparison",
    "load_experiment",
    "load_sobol",
    "metric_problem",
    "overlay",
    "comparison_table",
    "paired_comparison",
    "parameter_table",
    "run_experiment",
    "sobol_table",
]
