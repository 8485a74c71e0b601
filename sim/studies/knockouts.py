"""One knock-out of an asset: what it stops, its repair time and the replications it runs.

The building blocks of :mod:`sim.studies.criticality`: the assets to knock out
(:func:`targets`), the repair-time mixture of an asset's hazards (:func:`repair_mixture`), the
months an outage may start in (:func:`month_starts`), the configs with hazards off or with the
knock-out scripted in, and the task a worker runs (:class:`KnockoutTask`, :func:`run_knockout`,
checked on the way back by :func:`check_rows`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.base.errors import RunError
from sim.batch.executors import make_executor
from sim.config.loader import validate_config
from sim.config.models import Config, Hazard
from sim.config.rates import events_per_year
from sim.model.sampling import duration_sampler
from sim.model.streams import Streams
from sim.replication.runner import Model

METRICS = ("shut_in_mt", "revenue_loss_usd", "deferred_mt", "exported_mt")
KINDS = ("pipeline", "terminal", "storage", "shuttle")
Progress = Callable[[int, int], None]
"""Called with (knock-outs done, total) as they finish."""


@dataclass(frozen=True)
class Target:
    """An asset to knock out and the assets actually stopped to do it."""

    asset: str
    kind: str
    stopped: tuple[str, ...]
    note: str = ""


def targets(cfg: Config, include_sources: bool = False) -> list[Target]:
    """Every asset to knock out, in config order (sources first when included)."""
    out: list[Target] = []
    if include_sources:
        out += [Target(s.id, "source", (s.id,)) for s in cfg.sources]
    out += [Target(p.id, "pipeline", (p.id,)) for p in cfg.pipelines]
    out += [Target(t.id, "terminal", (t.id,)) for t in cfg.terminals]
    out += [_storage_target(cfg, s.id) for s in cfg.storages]
    out += [Target(s.id, "shuttle", (s.id,)) for s in cfg.shuttles]
    return out


def _storage_target(cfg: Config, storage: str) -> Target:
    stopped: list[str] = []
    direct: list[str] = []
    for r in cfg.routes:
        for j, name in enumerate(r.path):
            if name != storage:
                continue
            if j == 0:
                direct.append(r.source)
            for k in (j - 1, j + 1):
                if 0 <= k < len(r.path) and r.path[k] not in stopped:
                    stopped.append(r.path[k])
    shared = sorted(
        {r.id for r in cfg.routes if storage not in r.path and any(a in r.path for a in stopped)}
    )
    notes = []
    if shared:
        notes.append(f"stopped links also carry routes not through it: {', '.join(shared)}")
    if direct:
        notes.append(f"inflow straight from {', '.join(sorted(set(direct)))} not stopped")
    return Target(storage, "storage", tuple(stopped), "; ".join(notes))


def repair_mixture(cfg: Config, asset: str) -> list[tuple[float, str, Hazard]]:
    """Hazards naming ``asset`` with their weights (mean events per year that take effect)."""
    out = []
    for name, hz in cfg.hazards.items():
        if not hz.enabled or asset not in hz.assets:
            continue
        weight = events_per_year(cfg, hz, asset)
        if weight > 0:
            out.append((weight, name, hz))
    return out


def mean_repair_days(mixture: list[tuple[float, str, Hazard]], default: float) -> float:
    """Mean of the repair-time mixture (``default`` when no hazard names the asset)."""
    total = sum(w for w, _, _ in mixture)
    if total <= 0:
        return default
    return sum(w * hz.duration.mean() for w, _, hz in mixture) / total


def draw_repair(
    mixture: list[tuple[float, str, Hazard]], streams: Streams, asset: str
) -> tuple[float, str]:
    """Draw one repair time (days) and the hazard it came from, from the asset's own stream."""
    rng = streams.get("criticality", asset, "repair")
    weights = np.array([w for w, _, _ in mixture], dtype=float)
    i = int(rng.choice(len(mixture), p=weights / weights.sum()))
    _, name, hz = mixture[i]
    return float(duration_sampler(hz.duration)(rng)), name


def month_starts(cfg: Config, duration_days: float) -> list[dt.date]:
    """First days of the months of the run at which an outage of this length ends in time."""
    if not duration_days <= cfg.run.horizon_days:  # also NaN and an infinite mean repair time
        return []
    begin = cfg.run.start_date
    end = begin + dt.timedelta(days=cfg.run.horizon_days)
    out = [begin]
    d = dt.date(begin.year + (begin.month == 12), begin.month % 12 + 1, 1)
    while d < end and len(out) < 12:
        out.append(d)
        d = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    latest = end - dt.timedelta(days=duration_days)
    return [d for d in out if d <= latest]


def deterministic(cfg: Config) -> Config:
    """Return the config with unscripted hazards off and prices fixed at the reference price."""
    data = cfg.model_dump(mode="json")
    for hz in data["hazards"].values():
        hz["enabled"] = False
    data["economics"]["price"]["model"] = "fixed"
    return validate_config(data, "<deterministic config>")


def with_knockout(
    data: dict[str, Any], stopped: tuple[str, ...], start: str, days: float
) -> Config:
    """Return the config (a mapping) plus scripted events stopping ``stopped`` for ``days``."""
    events = list(data.get("scripted_events", []))
    for i, asset in enumerate(stopped):
        events.append(
            {
                "id": f"knockout_{i}",
                "asset": asset,
                "start": start,
                "duration_days": days,
                "cause": "scripted",
                "capacity_lost": 1.0,
            }
        )
    return validate_config({**data, "scripted_events": events}, "<knock-out config>")


@dataclass(frozen=True)
class KnockoutTask:
    """Replications of one knock-out (``asset`` empty: the reference run)."""

    config_json: str
    asset: str
    stopped: tuple[str, ...]
    start: str
    duration_days: float | None
    """``None``: draw each replication's duration from the asset's own repair distribution."""
    seed: int
    replications: tuple[int, ...] = field(default_factory=tuple)


def run_knockout(task: KnockoutTask) -> list[dict[str, Any]]:
    """Simulate the replications of one knock-out; one row per replication."""
    cfg = validate_config(json.loads(task.config_json), "<criticality config>")
    data = cfg.model_dump(mode="json")
    rows = []
    fixed: Model | None = None
    if not task.asset:
        fixed = Model(cfg)
    elif task.duration_days is not None:
        fixed = Model(with_knockout(data, task.stopped, task.start, task.duration_days))
    mixture = repair_mixture(cfg, task.asset) if task.asset else []
    for k in task.replications:
        days, source = task.duration_days, "fixed"
        if fixed is not None:
            model = fixed
        else:
            days, source = draw_repair(mixture, Streams(task.seed, k), task.asset)
            model = Model(with_knockout(data, task.stopped, task.start, days))
        row = model.simulate(seed=task.seed, replication=k).row
        rows.append(
            {
                "asset": task.asset,
                "start": task.start,
                "replication": k,
                "duration_days": days if task.asset else 0.0,
                "repair_hazard": source,
                **{m: float(row[m]) for m in METRICS},
            }
        )
    return rows


def check_rows(rows: object, task: KnockoutTask, worker: str) -> list[dict[str, Any]]:
    """Return ``rows`` if they are exactly what :func:`run_knockout` gives for ``task``.

    Raises
    ------
    RunError
        Naming ``worker`` and the knock-out, when anything else came back from a worker.
    """
    keys = {"asset", "start", "replication", "duration_days", "repair_hazard", *METRICS}
    ok = (
        type(rows) is list
        and len(rows) == len(task.replications)
        and all(
            type(r) is dict
            and set(r) == keys
            and (r["asset"], r["start"], r["replication"]) == (task.asset, task.start, k)
            and type(r["repair_hazard"]) is str
            and all(type(r[m]) in (int, float, np.float64) for m in ("duration_days", *METRICS))
            for r, k in zip(rows, task.replications)
        )
    )
    if not ok:
        raise RunError(
            f"{worker} returned an unexpected result ({type(rows).__name__[:60]}) for the "
            f"knock-out of '{task.asset or 'reference'}' at {task.start}; refusing it. Workers "
            "must run the same corridor-sim version, and only trusted machines may join the "
            "cluster (see docs/background/reliability.md, 'Clusters')"
        )
    return rows  # type: ignore[return-value]


def run_knockouts(
    tasks: list[KnockoutTask], workers: int | None, executor: str, progress: Progress | None
) -> pd.DataFrame:
    """Run the knock-outs where ``executor`` says; one row per replication, sorted."""
    ex = make_executor(executor, workers)
    rows: list[dict[str, Any]] = []
    try:
        for i, part in enumerate(ex.run(tasks, fn=run_knockout, check=check_rows), start=1):
            rows.extend(part)
            if progress is not None:
                progress(i, len(tasks))
    except BaseException:
        ex.close(cancel=True)
        raise
    ex.close()
    return pd.DataFrame(rows).sort_values(["asset", "start", "replication"], kind="stable")


__all__ = [
    "KINDS",
    "METRICS",
    "KnockoutTask",
    "Progress",
    "Target",
    "check_rows",
    "deterministic",
    "draw_repair",
    "mean_repair_days",
    "month_starts",
    "repair_mixture",
    "run_knockout",
    "run_knockouts",
    "targets",
    "with_knockout",
]
