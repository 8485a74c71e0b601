"""Scenario experiments: overlays on a base config, run under common random numbers.

An experiment file names a base config and what to compare with it:

* ``scenarios``: named changes of existing keys (a nested ``overrides`` mapping and/or dotted
  ``set`` lines as on the command line), plus new entries in an ``add`` block (new storages,
  pipelines, routes, hazards; an ``add`` may not reuse an existing id);
* ``one_at_a_time``: each key at a low and a high value, all else at base (a tornado);
* ``factorial``: every combination of the listed values of several keys;
* ``design``: a Latin hypercube or a Saltelli (Sobol') design over distributions of keys
  (:mod:`sim.studies.designs`); a Sobol' design also yields variance-based sensitivity indices.

Every scenario and design point runs with the base's root seed and replication indices, so
replication k of each sees the same random streams as replication k of the base: differences
are paired. The comparison table gives, per scenario and metric, the mean difference with a
paired 95% CI, the unpaired CI it would have had, and the variance reduction; with a ``cost``
it adds the avoided loss per year, NPV (with its CI) and the benefit/cost ratio. Swept keys
are columns of the table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.analysis import sobol
from sim.analysis.comparison import Cost, economics, paired_comparison
from sim.base.columns import REPLICATION_COLUMNS, REPLICATION_FAMILIES
from sim.base.errors import ConfigError, InputError, Problem
from sim.base.limits import MAX_REPLICATIONS
from sim.batch import coordinator
from sim.batch.executors import check_executor_options, make_executor
from sim.batch.options import RunOptions
from sim.batch.progress import labelled
from sim.config.loader import (
    apply_overrides,
    include_hazards,
    parse_override_value,
    problems_from_validation,
    read_yaml,
    validate_config,
)
from sim.config.models import Config, Ident
from sim.config.paths import resolve_reference
from sim.results import STATISTICS, RunResult, result_of
from sim.store import experiments as experiment_dir
from sim.store.layout import atomic_write_bytes, atomic_write_json, atomic_write_parquet
from sim.studies import ema
from sim.studies.designs import MAX_POINTS, Design, Point, Scalar, factorial_points, set_line
from sim.studies.overlays import (
    Additions,
    add_entries,
    addition_path,
    flatten_patch,
    overlay,
    require_key,
    value_label,
)

DEFAULT_METRICS = ("revenue_loss_usd", "shut_in_mt", "deferred_mt", "offset_routes_mt")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Scenario(_Strict):
    """A named change to the base config: existing keys changed, new entries added."""

    description: str = ""
    overrides: dict[str, Any] = {}
    set: list[str] = []
    add: Additions = Additions()
    cost: Cost | None = None


class Experiment(_Strict):
    """An experiment file."""

    name: str = "experiment"
    base: str
    replications: Annotated[int, Field(ge=2, le=MAX_REPLICATIONS)] = 500
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 1
    metrics: list[str] = list(DEFAULT_METRICS)
    scenarios: dict[Ident, Scenario] = {}
    one_at_a_time: dict[
        str, Annotated[list[float | int | str], Field(min_length=2, max_length=2)]
    ] = {}
    """Sensitivity: each dotted key is set to its low, then its high value, all else at base."""
    factorial: dict[str, Annotated[list[Scalar], Field(min_length=1, max_length=1000)]] = {}
    """Full factorial grid: every combination of these keys' values."""
    design: Design | None = None
    """A sampled design (Latin hypercube or Sobol') over distributions of keys."""

    @model_validator(mode="after")
    def _something_to_run(self) -> Experiment:
        if not (self.scenarios or self.one_at_a_time or self.factorial or self.design):
            raise ValueError(
                "give at least one scenario, one_at_a_time parameter, factorial grid or design"
            )
        if "base" in self.scenarios:
            raise ValueError("'base' is the name of the base run; give the scenario another name")
        size = math.prod(len(v) for v in self.factorial.values()) if self.factorial else 0
        if size > MAX_POINTS:
            raise ValueError(f"the factorial grid has {size} points (more than {MAX_POINTS})")
        return self

    def expanded(self) -> dict[str, ScenarioRun]:
        """Every scenario to run, named scenarios first, then sweeps, in file order."""
        out = {k: ScenarioRun(k, v, "scenario") for k, v in self.scenarios.items()}

        def put(run_: ScenarioRun) -> None:
            if run_.name in out:
                raise ValueError(f"scenario name '{run_.name}' is also a generated sweep name")
            out[run_.name] = run_

        for i, (key, values) in enumerate(self.one_at_a_time.items()):
            for level, value in zip(("low", "high"), values):
                scn = Scenario(description=f"{key} = {value}", set=[f"{key}={value}"])
                put(ScenarioRun(f"oat{i:02d}_{level}", scn, "one_at_a_time", key, value))
        points: list[tuple[str, Point]] = [("factorial", p) for p in _factorial(self)]
        if self.design is not None:
            points += [(self.design.method, p) for p in self.design.points()]
        for kind, point in points:
            lines = [set_line(k, v) for k, v in point.values.items()]
            text = ", ".join(f"{k} = {v}" for k, v in point.values.items())
            scn = Scenario(description=text, set=lines)
            put(ScenarioRun(point.name, scn, kind, values=point.values, block=point.block))
        return out


def _factorial(exp: Experiment) -> list[Point]:
    return factorial_points(exp.factorial) if exp.factorial else []


@dataclass(frozen=True)
class ScenarioRun:
    """One run of an experiment: a named scenario, a one-at-a-time level or a design point."""

    name: str
    scenario: Scenario
    kind: str
    """``scenario``, ``one_at_a_time``, ``factorial``, ``lhs`` or ``sobol``."""
    parameter: str | None = None
    value: Any = None
    values: dict[str, Scalar] = field(default_factory=dict)
    block: str = ""

    @property
    def where(self) -> str:
        """Key path of the experiment file this run comes from."""
        if self.kind == "scenario":
            return f"scenarios.{self.name}"
        if self.kind == "one_at_a_time":
            return f"one_at_a_time.{self.parameter}"
        if self.kind == "factorial":
            return f"factorial (point {self.name})"
        return f"design.parameters (point {self.name})"


def _scenario_config(resolved: dict[str, Any], scn: Scenario, where: str, file: str) -> Config:
    """Apply a scenario to the resolved base and validate it, with errors under ``where``."""
    try:
        data = overlay(resolved, scn.overrides, "")
        data = apply_overrides(data, scn.set) if scn.set else data
        before_add = data
        if not scn.add.is_empty():
            try:
                data = add_entries(data, scn.add)
            except ConfigError as exc:
                raise ConfigError(
                    [Problem(f"add.{p.path}", p.message) for p in exc.problems]
                ) from None
        try:
            return validate_config(data, file)
        except ConfigError as exc:
            problems = []
            for p in exc.problems:
                mapped = addition_path(p.path, before_add, scn.add)
                problems.append(Problem(mapped or p.path, p.message))
            raise ConfigError(problems) from None
    except ConfigError as exc:
        raise ConfigError(
            [Problem(f"{where}: {p.path}" if p.path else where, p.message) for p in exc.problems],
            file,
        ) from None


def load_experiment(path: str | Path) -> tuple[Experiment, Config, dict[str, Config]]:
    """Read an experiment file and build the base and scenario configs.

    Swept keys (one-at-a-time, factorial, design) must exist in the base config; every scenario
    and design point is validated by the full config schema.

    Raises
    ------
    InputError
        With the experiment file, the scenario key path and what was expected.
    """
    p = Path(path)
    data = read_yaml(p)
    try:
        exp = Experiment.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(exc, data), str(p)) from None
    base_path = resolve_reference(p, exp.base, "base")
    try:
        found = base_path.is_file()
    except OSError:  # e.g. a name too long for the file system
        found = False
    if not found:
        raise ConfigError(Problem("base", f"'{exp.base}' is not a file ({base_path})"), str(p))
    base_raw, origins = include_hazards(read_yaml(base_path), base_path)
    base = validate_config(base_raw, str(base_path), origins)
    resolved = base.model_dump(mode="json")
    sweeps = [
        ("factorial", list(exp.factorial)),
        ("design.parameters", exp.design.keys if exp.design else []),
    ]
    for section, keys in sweeps:
        for key in keys:
            try:
                require_key(resolved, key)
            except ConfigError as exc:
                raise ConfigError(
                    [Problem(f"{section}.{key}: {pr.path}", pr.message) for pr in exc.problems],
                    str(p),
                ) from None
    try:
        runs = exp.expanded()
    except ValueError as exc:
        raise ConfigError(Problem("scenarios", str(exc)), str(p)) from None
    scenarios = {
        name: _scenario_config(resolved, r.scenario, r.where, str(p)) for name, r in runs.items()
    }
    for i, metric in enumerate(exp.metrics):
        problem = metric_problem(metric, base)
        if problem:
            raise ConfigError(Problem(f"metrics[{i}]", problem), str(p))
    return exp, base, scenarios


def _override_values(scn: Scenario) -> dict[str, Any]:
    """Dotted key -> new value of everything a scenario changes (overrides, then set lines)."""
    out = flatten_patch(scn.overrides) if scn.overrides else {}
    for line in scn.set:
        key, _, text = line.partition("=")
        out[key.strip()] = parse_override_value(text)  # as `--set` reads it (YAML 1.2)
    return out


def metric_problem(metric: str, cfg: Config) -> str | None:
    """Say why ``metric`` cannot be a replication column of ``cfg`` (``None`` when it can be).

    A metric is a column of :data:`~sim.base.columns.REPLICATION_COLUMNS` or ``<family>.<id>`` with
    a family of :data:`~sim.base.columns.REPLICATION_FAMILIES` and an id of the config, so a typo is
    reported before any scenario runs.
    """
    fixed = {c.name for c in REPLICATION_COLUMNS} - {"replication"}
    if metric in fixed:
        return None
    family, dot, ident = metric.partition(".")
    families = {c.name for c in REPLICATION_FAMILIES}
    ids = set(cfg.asset_ids()) | {r.id for r in cfg.routes}
    ids |= set(cfg.regimes.states) if cfg.regimes else set()
    if dot and family in families and ident in ids:
        return None
    return (
        f"not a metric: {metric!r} (expected a replication column such as revenue_loss_usd, "
        "or <family>.<id> such as spare_used_mt.<asset>)"
    )


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


def _comparison_rows(exp, runs, path) -> list[dict[str, Any]]:
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


def experiment_replications(exp: Experiment, replications: int | None) -> int:
    """Return the replications per run (``--replications`` or the file's), checked.

    Raises
    ------
    InputError
        When the count is outside 2 to :data:`~sim.base.limits.MAX_REPLICATIONS`, before anything is
        planned or built for it.
    """
    n = exp.replications if replications is None else int(replications)
    if not 2 <= n <= MAX_REPLICATIONS:
        raise InputError(
            Problem("--replications", f"an experiment needs 2 to {MAX_REPLICATIONS}, got {n}")
        )
    return n


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
    runs: dict[str, RunResult] = {}
    ex = make_executor(executor, workers)
    try:
        todo = [("base", base), *scenarios.items()]
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
    atomic_write_parquet(out_dir / "comparison.parquet", table)
    atomic_write_bytes(out_dir / "comparison.csv", table.to_csv(index=False).encode())
    atomic_write_parquet(out_dir / ema.PARAMETERS, parameter_table(exp, base))
    ema.save_results(ema.experiment_results(out_dir, exp.metrics), out_dir / ema.ARCHIVE)
    indices = sobol_table(exp, runs)
    if len(indices):
        atomic_write_parquet(out_dir / "sobol.parquet", indices)
        atomic_write_bytes(out_dir / "sobol.csv", indices.to_csv(index=False).encode())
    expanded = exp.expanded()
    atomic_write_json(
        out_dir / "experiment.json",
        {
            "name": exp.name,
            "file": str(path),
            "seed": root,
            "replications": n,
            "scenarios": {k: v.scenario.model_dump(mode="json") for k, v in expanded.items()},
            "kinds": {k: v.kind for k, v in expanded.items()},
            "factorial": exp.factorial,
            "design": exp.design.model_dump(mode="json") if exp.design else None,
            "metrics": exp.metrics,
        },
    )
    # Last: the record of what the experiment wrote, checked by every reader.
    atomic_write_json(out_dir / experiment_dir.CHECKSUMS, experiment_dir.checksums(out_dir))
    return table


def load_comparison(out: str | Path) -> pd.DataFrame:
    """Read ``comparison.parquet`` of an experiment directory (checked on the way)."""
    return experiment_dir.read_comparison(out)


def load_sobol(out: str | Path) -> pd.DataFrame:
    """Read ``sobol.parquet`` of an experiment directory (empty without a Sobol' design)."""
    return experiment_dir.read_sobol(out)


__all__ = [
    "Cost",
    "Experiment",
    "economics",
    "experiment_replications",
    "Scenario",
    "ScenarioRun",
    "load_comparison",
    "load_experiment",
    "load_sobol",
    "overlay",
    "paired_comparison",
    "parameter_table",
    "run_experiment",
    "sobol_table",
]
