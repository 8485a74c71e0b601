"""Scenario experiments: overlays on a base config, run under common random numbers.

An experiment file names a base config and scenarios; each scenario changes existing keys of
the base (a nested ``overrides`` mapping, and/or dotted ``set`` lines as on the command line).
Every scenario runs with the base's root seed and replication indices, so replication k of each
scenario sees the same random streams as replication k of the base: differences are paired.

The comparison table gives, per scenario and metric, the mean difference with a paired 95% CI,
the unpaired CI it would have had, and the variance reduction; with a ``cost`` it adds the
avoided loss per year, NPV (with its CI) and the benefit/cost ratio.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.batch import RunResult, run
from sim.columns import REPLICATION_COLUMNS, REPLICATION_FAMILIES
from sim.config.distributions import NonNeg
from sim.config.loader import (
    apply_overrides,
    problems_from_validation,
    read_yaml,
    validate_config,
)
from sim.config.models import Config, Ident
from sim.config.paths import resolve_reference
from sim.errors import ConfigError, InputError, Problem
from sim.limits import MAX_REPLICATIONS
from sim.rundir import atomic_write_bytes, atomic_write_json, atomic_write_parquet
from sim.stats import Z95

DEFAULT_METRICS = ("revenue_loss_usd", "shut_in_mt", "deferred_mt", "offset_routes_mt")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cost(_Strict):
    """Cost of a policy lever (USD), to weigh against the loss it avoids."""

    capex_usd: NonNeg = 0.0
    opex_usd_per_year: NonNeg = 0.0
    lifetime_years: Annotated[int, Field(ge=1, le=100)] = 20
    discount_rate: Annotated[float, Field(ge=0, le=1)] = 0.08
    source: str | None = None


class Scenario(_Strict):
    """A named change to the base config."""

    description: str = ""
    overrides: dict[str, Any] = {}
    set: list[str] = []
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

    @model_validator(mode="after")
    def _something_to_run(self) -> Experiment:
        if not self.scenarios and not self.one_at_a_time:
            raise ValueError("give at least one scenario or one_at_a_time parameter")
        return self

    def expanded(self) -> dict[str, tuple[Scenario, str | None, Any]]:
        """All scenarios to run: name -> (scenario, swept key or None, its value)."""
        out: dict[str, tuple[Scenario, str | None, Any]] = {
            k: (v, None, None) for k, v in self.scenarios.items()
        }
        for i, (key, values) in enumerate(self.one_at_a_time.items()):
            for level, value in zip(("low", "high"), values):
                scn = Scenario(description=f"{key} = {value}", set=[f"{key}={value}"])
                out[f"oat{i:02d}_{level}"] = (scn, key, value)
        return out


def overlay(base: Any, patch: Any, path: str = "") -> Any:
    """Return ``base`` with ``patch`` applied; every patched key must already exist.

    Mappings merge key by key; a list is patched by a mapping whose keys are element ids (or
    indices); anything else is replaced.

    Raises
    ------
    ConfigError
        When a key or list element named by the patch does not exist in ``base``.
    """
    if isinstance(patch, dict) and isinstance(base, dict):
        out = dict(base)
        for key, value in patch.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in base:
                known = ", ".join(sorted(map(str, base))) or "none"
                raise ConfigError(
                    Problem(where, f"no such key in the base config (keys here: {known})")
                )
            out[key] = overlay(base[key], value, where)
        return out
    if isinstance(patch, dict) and isinstance(base, list):
        out_list = list(base)
        for key, value in patch.items():
            where = f"{path}.{key}"
            idx = next(
                (
                    i
                    for i, el in enumerate(base)
                    if isinstance(el, dict) and key in (el.get("id"), el.get("name"))
                ),
                None,
            )
            if idx is None and isinstance(key, int) and 0 <= key < len(base):
                idx = key
            if idx is None:
                raise ConfigError(Problem(where, "no list element with this id or index"))
            out_list[idx] = overlay(base[idx], value, where)
        return out_list
    return patch


def load_experiment(path: str | Path) -> tuple[Experiment, Config, dict[str, Config]]:
    """Read an experiment file and build the base and scenario configs.

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
    base_raw = read_yaml(base_path)
    base = validate_config(base_raw, str(base_path))
    resolved = base.model_dump(mode="json")
    scenarios: dict[str, Config] = {}
    for name, (scn, key, _) in exp.expanded().items():
        where = f"one_at_a_time.{key}" if key else f"scenarios.{name}"
        try:
            data_s = overlay(resolved, scn.overrides, "")
            data_s = apply_overrides(data_s, scn.set) if scn.set else data_s
            scenarios[name] = validate_config(data_s, f"{p} ({where})")
        except ConfigError as exc:
            raise ConfigError(
                [
                    Problem(f"{where}: {pr.path}" if pr.path else where, pr.message)
                    for pr in exc.problems
                ],
                str(p),
            ) from None
    for i, metric in enumerate(exp.metrics):
        problem = metric_problem(metric, base)
        if problem:
            raise ConfigError(Problem(f"metrics[{i}]", problem), str(p))
    return exp, base, scenarios


def metric_problem(metric: str, cfg: Config) -> str | None:
    """Say why ``metric`` cannot be a replication column of ``cfg`` (``None`` when it can be).

    A metric is a column of :data:`~sim.columns.REPLICATION_COLUMNS` or ``<family>.<id>`` with
    a family of :data:`~sim.columns.REPLICATION_FAMILIES` and an id of the config, so a typo is
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


def paired_comparison(base: pd.DataFrame, scenario: pd.DataFrame, metric: str) -> dict[str, float]:
    """Paired and unpaired statistics of ``scenario - base`` for one metric."""
    a = base.set_index("replication")[metric]
    b = scenario.set_index("replication")[metric]
    common = a.index.intersection(b.index)
    a, b = a.loc[common].to_numpy(float), b.loc[common].to_numpy(float)
    n = len(common)
    d = b - a
    var_paired = float(d.var(ddof=1)) if n > 1 else float("nan")
    var_unpaired = float(a.var(ddof=1) + b.var(ddof=1)) if n > 1 else float("nan")
    half_p = Z95 * math.sqrt(var_paired / n) if n > 1 else float("nan")
    half_u = Z95 * math.sqrt(var_unpaired / n) if n > 1 else float("nan")
    if var_paired > 0:
        reduction = var_unpaired / var_paired
    else:
        reduction = float("inf") if var_unpaired > 0 else float("nan")
    return {
        "n": n,
        "base_mean": float(a.mean()),
        "scenario_mean": float(b.mean()),
        "mean_diff": float(d.mean()),
        "ci95_low": float(d.mean()) - half_p,
        "ci95_high": float(d.mean()) + half_p,
        "unpaired_ci95_half": half_u,
        "variance_reduction": reduction,
    }


def economics(avoided_per_year: float, half: float, cost: Cost) -> dict[str, float]:
    """NPV (with CI from the avoided loss CI) and benefit/cost ratio of a lever."""
    r, n = cost.discount_rate, cost.lifetime_years
    annuity = n if r == 0 else (1 - (1 + r) ** -n) / r
    pv_costs = cost.capex_usd + cost.opex_usd_per_year * annuity
    npv = avoided_per_year * annuity - pv_costs
    return {
        "avoided_loss_usd_per_year": avoided_per_year,
        "npv_usd": npv,
        "npv_ci95_low": npv - half * annuity,
        "npv_ci95_high": npv + half * annuity,
        "benefit_cost_ratio": (avoided_per_year * annuity / pv_costs)
        if pv_costs > 0
        else float("inf"),
    }


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
    """Run the base and every scenario into ``out`` and return the comparison table."""
    exp, base, scenarios = load_experiment(path)
    n = exp.replications if replications is None else int(replications)
    if not 2 <= n <= MAX_REPLICATIONS:
        raise InputError(
            Problem("--replications", f"an experiment needs 2 to {MAX_REPLICATIONS}, got {n}")
        )
    root = exp.seed if seed is None else seed
    out_dir = Path(out)
    common = {
        "replications": n,
        "seed": root,
        "workers": workers,
        "executor": executor,
        "progress": progress,
    }
    runs: dict[str, RunResult] = {}
    for name, cfg in [("base", base), *scenarios.items()]:
        target = out_dir / ("base" if name == "base" else f"scenarios/{name}")
        again = resume and (target / "manifest.json").is_file()
        runs[name] = run(cfg, out=target, resume=again, **common)
    base_reps = runs["base"].replications
    rows = []
    for name, (scn, key, value) in exp.expanded().items():
        reps = runs[name].replications
        for metric in exp.metrics:
            if metric not in base_reps.columns or metric not in reps.columns:
                raise InputError(
                    Problem(f"metrics: {metric}", "not a column of the results"), str(path)
                )
            row = {
                "scenario": name,
                "metric": metric,
                "parameter": key or "",
                "value": "" if value is None else str(value),
                **paired_comparison(base_reps, reps, metric),
            }
            if metric == "revenue_loss_usd" and scn.cost is not None:
                half = (row["ci95_high"] - row["ci95_low"]) / 2
                row.update(economics(-row["mean_diff"], half, scn.cost))
            rows.append(row)
    table = pd.DataFrame(rows).astype(
        {"scenario": "string", "metric": "string", "parameter": "string", "value": "string"}
    )
    atomic_write_parquet(out_dir / "comparison.parquet", table)
    atomic_write_bytes(out_dir / "comparison.csv", table.to_csv(index=False).encode())
    atomic_write_json(
        out_dir / "experiment.json",
        {
            "name": exp.name,
            "file": str(path),
            "seed": root,
            "replications": n,
            "scenarios": {k: v[0].model_dump(mode="json") for k, v in exp.expanded().items()},
            "metrics": exp.metrics,
        },
    )
    return table


def load_comparison(out: str | Path) -> pd.DataFrame:
    """Read ``comparison.parquet`` of an experiment directory."""
    return pd.read_parquet(Path(out) / "comparison.parquet")


__all__ = [
    "Experiment",
    "Scenario",
    "load_comparison",
    "load_experiment",
    "overlay",
    "paired_comparison",
    "run_experiment",
]
