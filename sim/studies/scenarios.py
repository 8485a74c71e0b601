"""Experiment files: the base config, the scenarios and sweeps to compare with it.

An experiment file names a base config and what to compare with it:

* ``scenarios``: named changes of existing keys (a nested ``overrides`` mapping and/or dotted
  ``set`` lines as on the command line), plus new entries in an ``add`` block (new storages,
  pipelines, routes, hazards; an ``add`` may not reuse an existing id);
* ``one_at_a_time``: each key at a low and a high value, all else at base (a tornado);
* ``factorial``: every combination of the listed values of several keys;
* ``design``: a Latin hypercube or a Saltelli (Sobol') design over distributions of keys
  (:mod:`sim.studies.designs`); a Sobol' design also yields variance-based sensitivity indices.

:func:`load_experiment` reads the file and builds the base and every scenario's config, each
validated by the full config schema; :mod:`sim.studies.experiments` runs them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, model_validator

from sim.analysis.comparison import Cost
from sim.base.columns import REPLICATION_COLUMNS, REPLICATION_FAMILIES
from sim.base.errors import ConfigError, InputError, Problem
from sim.base.limits import MAX_REPLICATIONS, replications_problem
from sim.base.strict import Strict
from sim.config.loader import (
    apply_overrides,
    include_hazards,
    problems_from_validation,
    read_yaml,
    validate_config,
)
from sim.config.models import Config, Ident
from sim.config.paths import resolve_reference
from sim.studies.designs import MAX_POINTS, Design, Point, Scalar, factorial_points, set_line
from sim.studies.overlays import Additions, add_entries, addition_path, overlay, require_key

DEFAULT_METRICS = ("revenue_loss_usd", "shut_in_mt", "deferred_mt", "offset_routes_mt")


class Scenario(Strict):
    """A named change to the base config: existing keys changed, new entries added."""

    description: str = ""
    overrides: dict[str, Any] = {}
    set: list[str] = []
    add: Additions = Additions()
    cost: Cost | None = None


class Experiment(Strict):
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


def experiment_replications(exp: Experiment, replications: int | None) -> int:
    """Return the replications per run (``--replications`` or the file's), checked.

    Raises
    ------
    InputError
        When the count is outside 2 to :data:`~sim.base.limits.MAX_REPLICATIONS`, before anything is
        planned or built for it.
    """
    n = exp.replications if replications is None else int(replications)
    problem = replications_problem(n, minimum=2, per=" for an experiment")
    if problem:
        raise InputError(Problem("--replications", problem))
    return n


__all__ = [
    "DEFAULT_METRICS",
    "Experiment",
    "Scenario",
    "ScenarioRun",
    "experiment_replications",
    "load_experiment",
    "metric_problem",
]
