"""Asset criticality: knock each asset out in turn and rank the loss it causes.

Every pipeline, terminal, storage and shuttle (and, on request, every source) is taken out of
service by scripted events, alone, and the run is compared with a reference run without the
knock-out on the same random streams. What is knocked out:

* a pipeline or terminal: its whole capacity (``capacity_lost: 1``);
* a shuttle: its sailings (tankers already at sea still land);
* a storage: the tank farm as a node, i.e. every link and shuttle next to it on a route, so
  nothing flows in or out. A link next to the storage that also carries oil not passing
  through it is stopped too (the ``note`` column says so); oil that a route brings straight
  from its source into the storage (no link between) cannot be stopped this way;
* a source (``include_sources``): its production;
* markets are never knocked out: they have no capacity in the model.

Two ways to choose the outage:

* **fixed duration** (default): unscripted hazards are switched off and prices are held at the
  config's reference Brent price, so the loss is a deterministic function of the network (one
  replication suffices unless shuttle payloads are random). The outage is tried at the first
  day of every month of the run (those where it ends within the horizon) and the worst start
  by revenue loss is kept. With hazards off, the start date matters only through discounting,
  initial storage levels and the end of the horizon;
* **own repair** (``own_repair``): each replication draws the outage's duration from the
  asset's hazards (a mixture of their duration distributions weighted by their mean annual
  rates, x berths for per-berth hazards, x the effect probability). Hazards and prices stay as
  configured, so the knock-out meets the background disruptions of that replication, and the
  loss is the paired difference from the reference replication (common random numbers). An
  asset no hazard names gets the fixed duration. With ``start="worst"`` the start is the worst
  month of the fixed-duration sweep at the asset's mean repair time. The knock-out is total
  even where the hazards are partial (a pump-station strike removing 0-30% of the CPC
  pipeline, one SPM of three): the question answered is "what if the asset failed completely
  for as long as its failures last", not a replay of its hazards.

Losses are increments over the reference run: shut-in (Mt of production not produced), revenue
loss (USD, as in a run: discounted, oil still held at the horizon valued, not lost) and
deferred exports (Mt).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.stats import Z95
from sim.base.errors import InputError, Problem, RunError
from sim.base.limits import MAX_HORIZON_DAYS, MAX_REPLICATIONS
from sim.base.units import DAYS_PER_YEAR
from sim.batch.executors import make_executor
from sim.batch.options import resolve_seed
from sim.config.loader import validate_config
from sim.config.models import Config, Hazard
from sim.model.sampling import duration_sampler
from sim.model.streams import Streams
from sim.replication.runner import Model

METRICS = ("shut_in_mt", "revenue_loss_usd", "deferred_mt", "exported_mt")
KINDS = ("pipeline", "terminal", "storage", "shuttle")


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
        arr = hz.arrivals
        if arr.process == "poisson":
            season = arr.monthly_multipliers
            rate = arr.rate_per_year * (sum(season) / 12 if season else 1.0)
        else:
            rate = DAYS_PER_YEAR / max(arr.uptime.mean(), 1e-9)
        berths = 1
        if hz.per_berth:
            berths = next((t.berths for t in cfg.terminals if t.id == asset), 1)
        weight = rate * berths * hz.effect.probability
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


@dataclass
class CriticalityResult:
    """The ranked table, the losses at every start tried, and the settings."""

    table: pd.DataFrame
    by_start: pd.DataFrame
    settings: dict[str, Any]


def _increments(rows: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    ref = reference.set_index("replication")
    out = rows.copy()
    for m in METRICS:
        out[m] = out[m].to_numpy() - ref.loc[out["replication"], m].to_numpy()
    return out


def _summary(group: pd.DataFrame) -> dict[str, float]:
    n = len(group)
    out: dict[str, float] = {"replications": n, "duration_days": group["duration_days"].mean()}
    for m in ("shut_in_mt", "revenue_loss_usd", "deferred_mt"):
        x = group[m].to_numpy(dtype=float)
        out[m] = float(x.mean())
        out[f"{m}_ci95_half"] = Z95 * float(x.std(ddof=1)) / math.sqrt(n) if n > 1 else math.nan
    return out


def criticality(
    cfg: Config,
    duration_days: float = 30.0,
    start: str | dt.date = "worst",
    own_repair: bool = False,
    replications: int | None = None,
    seed: int | None = None,
    include_sources: bool = False,
    workers: int | None = 1,
    executor: str = "serial",
    progress: Callable[[int, int], None] | None = None,
) -> CriticalityResult:
    """Knock each asset out in turn and rank the losses.

    Parameters
    ----------
    cfg:
        A validated config.
    duration_days:
        Outage length (fixed-duration mode, and assets without hazards in own-repair mode).
    start:
        ``"worst"`` (try the first day of each month, keep the worst) or a date in the run.
    own_repair:
        Draw each outage's duration from the asset's hazards, hazards and prices as configured.
    replications:
        Replications per knock-out (default 1 for fixed duration, 100 for own repair).
    seed:
        Root seed (default: the config's).
    include_sources:
        Knock out sources too.
    workers, executor:
        Where to run the knock-outs (see :mod:`sim.batch.executors`).
    progress:
        Called with (knock-outs done, total) as they finish.

    Raises
    ------
    InputError
        For a duration that is not positive or longer than the longest horizon, a start that
        leaves no room in the horizon, a seed outside 0 to 2**63 - 1, or more replications (per
        knock-out or in all) than :data:`~sim.base.limits.MAX_REPLICATIONS`; all checked before any
        knock-out is built.
    """
    if not (0 < duration_days <= MAX_HORIZON_DAYS):  # also refuses NaN
        raise InputError(
            Problem(
                "--duration-days",
                f"expected a positive number of days up to {MAX_HORIZON_DAYS:,.0f}, "
                f"got {duration_days}",
            )
        )
    root = resolve_seed(seed, cfg.run.seed)
    n = (100 if own_repair else 1) if replications is None else int(replications)
    if not 1 <= n <= MAX_REPLICATIONS:
        raise InputError(
            Problem("--replications", f"expected 1 to {MAX_REPLICATIONS} per knock-out, got {n}")
        )
    begin = cfg.run.start_date
    end = begin + dt.timedelta(days=cfg.run.horizon_days)
    fixed_start: dt.date | None = None
    if start != "worst":
        fixed_start = start if isinstance(start, dt.date) else _parse_date(str(start))
        if not begin <= fixed_start < end:
            raise InputError(
                Problem("--start", f"{fixed_start} is outside the run ({begin} to {end})")
            )
    calm = deterministic(cfg)
    calm_json = json.dumps(calm.model_dump(mode="json"))
    items = targets(cfg, include_sources)
    days_of = {t.asset: duration_days for t in items}
    if own_repair:
        days_of = {
            t.asset: mean_repair_days(repair_mixture(cfg, t.asset), duration_days) for t in items
        }
    starts_of = {}
    for t in items:
        starts = [fixed_start] if fixed_start else month_starts(cfg, days_of[t.asset])
        if not starts:
            raise InputError(
                Problem(
                    "--duration-days",
                    f"an outage of {days_of[t.asset]:g} days of {t.asset} does not fit in the "
                    f"{cfg.run.horizon_days:g}-day horizon",
                )
            )
        starts_of[t.asset] = starts
    sweep_n = 1 if own_repair else n
    total = sweep_n * (1 + sum(map(len, starts_of.values())))
    total += n * (1 + len(items)) if own_repair else 0
    if total > MAX_REPLICATIONS:
        raise InputError(
            Problem(
                "--replications",
                f"{n} per knock-out make {total:,} replications in all (at most "
                f"{MAX_REPLICATIONS:,}); use fewer replications or a fixed --start",
            )
        )
    sweep_reps = tuple(range(sweep_n))
    tasks = [KnockoutTask(calm_json, "", (), begin.isoformat(), None, root, sweep_reps)]
    for t in items:
        tasks += [
            KnockoutTask(
                calm_json, t.asset, t.stopped, s.isoformat(), days_of[t.asset], root, sweep_reps
            )
            for s in starts_of[t.asset]
        ]
    rows = _run_tasks(tasks, workers, executor, progress)
    reference = rows[rows["asset"] == ""]
    sweep = _increments(rows[rows["asset"] != ""], reference)
    by_start = sweep.groupby(["asset", "start"], sort=False).mean(numeric_only=True).reset_index()
    worst = by_start.loc[by_start.groupby("asset", sort=False)["revenue_loss_usd"].idxmax()]
    chosen = dict(zip(worst["asset"], worst["start"]))
    if own_repair:
        live_json = json.dumps(cfg.model_dump(mode="json"))
        reps = tuple(range(n))
        tasks = [KnockoutTask(live_json, "", (), begin.isoformat(), None, root, reps)]
        for t in items:
            fixed = None if repair_mixture(cfg, t.asset) else duration_days
            tasks.append(
                KnockoutTask(live_json, t.asset, t.stopped, chosen[t.asset], fixed, root, reps)
            )
        rows = _run_tasks(tasks, workers, executor, progress)
        final = _increments(rows[rows["asset"] != ""], rows[rows["asset"] == ""])
    else:
        final = sweep[[chosen[a] == s for a, s in zip(sweep["asset"], sweep["start"])]]
    table = _rank(items, final, cfg, own_repair, duration_days)
    settings = {
        "config": cfg.name,
        "seed": root,
        "replications": n,
        "duration_days": duration_days,
        "start": str(start),
        "own_repair": own_repair,
        "include_sources": include_sources,
        "hazards": "as configured" if own_repair else "off (unscripted)",
        "prices": "as configured" if own_repair else "fixed at the reference price",
    }
    return CriticalityResult(table, by_start.drop(columns=["replication"]), settings)


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
            "cluster (see docs/reliability.md, 'Clusters')"
        )
    return rows  # type: ignore[return-value]


def _run_tasks(tasks, workers, executor, progress) -> pd.DataFrame:
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


def _rank(items, final: pd.DataFrame, cfg: Config, own_repair: bool, duration_days: float):
    records = []
    for t in items:
        group = final[final["asset"] == t.asset]
        mixture = repair_mixture(cfg, t.asset) if own_repair else []
        if own_repair and mixture:
            repair = "own: " + ", ".join(name for _, name, _ in mixture)
        elif own_repair:
            repair = f"fixed {duration_days:g} d (no hazard names this asset)"
        else:
            repair = f"fixed {duration_days:g} d"
        records.append(
            {
                "asset": t.asset,
                "kind": t.kind,
                "stopped": ",".join(t.stopped),
                "start": str(group["start"].iloc[0]),
                "repair": repair,
                **_summary(group),
                "note": t.note,
            }
        )
    table = pd.DataFrame(records).sort_values(
        ["revenue_loss_usd", "shut_in_mt"], ascending=False, kind="stable"
    )
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    for col in ("asset", "kind", "stopped", "start", "repair", "note"):
        table[col] = table[col].astype("string")
    return table.reset_index(drop=True)


def _parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(
            Problem("--start", f"expected 'worst' or a date YYYY-MM-DD (got '{text}')")
        ) from None


def format_table(table: pd.DataFrame) -> str:
    """Return the ranked table as text (USD million, Mt)."""
    shown = pd.DataFrame(
        {
            "rank": table["rank"],
            "asset": table["asset"],
            "kind": table["kind"],
            "start": table["start"],
            "days": table["duration_days"],
            "shut_in_Mt": table["shut_in_mt"],
            "revenue_loss_USD_m": table["revenue_loss_usd"] / 1e6,
            "ci95_half_USD_m": table["revenue_loss_usd_ci95_half"] / 1e6,
            "deferred_Mt": table["deferred_mt"],
        }
    )
    return shown.to_string(index=False, float_format=lambda v: f"{v:,.3f}")


__all__ = [
    "CriticalityResult",
    "KnockoutTask",
    "Target",
    "criticality",
    "deterministic",
    "draw_repair",
    "format_table",
    "month_starts",
    "repair_mixture",
    "run_knockout",
    "targets",
]
