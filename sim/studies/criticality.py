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
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.stats import Z95
from sim.base.columns import unit_scale
from sim.base.errors import InputError, Problem
from sim.base.limits import MAX_HORIZON_DAYS, MAX_REPLICATIONS, replications_problem
from sim.batch.options import resolve_seed
from sim.config.models import Config
from sim.studies.knockouts import (
    METRICS,
    KnockoutTask,
    Progress,
    Target,
    deterministic,
    mean_repair_days,
    month_starts,
    repair_mixture,
    run_knockouts,
    targets,
)


@dataclass(frozen=True)
class CriticalityOptions:
    """How to knock the assets out (the options of ``corridor-sim criticality``).

    Attributes
    ----------
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
    """

    duration_days: float = 30.0
    start: str | dt.date = "worst"
    own_repair: bool = False
    replications: int | None = None
    seed: int | None = None
    include_sources: bool = False
    workers: int | None = 1
    executor: str = "serial"


@dataclass
class CriticalityResult:
    """The ranked table, the losses at every start tried, and the settings."""

    table: pd.DataFrame
    by_start: pd.DataFrame
    settings: dict[str, Any]


@dataclass(frozen=True)
class _Plan:
    """What the options resolve to for one config, checked."""

    root: int
    n: int
    calm_json: str
    """The config with hazards off and prices fixed (:func:`deterministic`), as JSON."""
    items: list[Target]
    days_of: dict[str, float]
    starts_of: dict[str, list[dt.date]]


def criticality(
    cfg: Config,
    options: CriticalityOptions | None = None,
    progress: Progress | None = None,
) -> CriticalityResult:
    """Knock each asset out in turn and rank the losses.

    Parameters
    ----------
    cfg:
        A validated config.
    options:
        How to knock the assets out (default: :class:`CriticalityOptions` ()).
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
    opts = CriticalityOptions() if options is None else options
    plan = _plan(cfg, opts)
    calm_json = plan.calm_json
    sweep_reps = tuple(range(1 if opts.own_repair else plan.n))
    begin = cfg.run.start_date.isoformat()
    tasks = [KnockoutTask(calm_json, "", (), begin, None, plan.root, sweep_reps)]
    for t in plan.items:
        tasks += [
            KnockoutTask(
                calm_json,
                t.asset,
                t.stopped,
                s.isoformat(),
                plan.days_of[t.asset],
                plan.root,
                sweep_reps,
            )
            for s in plan.starts_of[t.asset]
        ]
    rows = run_knockouts(tasks, opts.workers, opts.executor, progress)
    sweep = _increments(rows[rows["asset"] != ""], rows[rows["asset"] == ""])
    by_start = sweep.groupby(["asset", "start"], sort=False).mean(numeric_only=True).reset_index()
    worst = by_start.loc[by_start.groupby("asset", sort=False)["revenue_loss_usd"].idxmax()]
    chosen = dict(zip(worst["asset"], worst["start"]))
    if opts.own_repair:
        final = _own_repair_losses(cfg, opts, plan, chosen, progress)
    else:
        final = sweep[[chosen[a] == s for a, s in zip(sweep["asset"], sweep["start"])]]
    table = _rank(plan.items, final, cfg, opts.own_repair, opts.duration_days)
    settings = _settings(cfg, opts, plan)
    return CriticalityResult(table, by_start.drop(columns=["replication"]), settings)


def _plan(cfg: Config, opts: CriticalityOptions) -> _Plan:
    """Check the options against the config and resolve them, before anything runs."""
    duration_days = opts.duration_days
    if not (0 < duration_days <= MAX_HORIZON_DAYS):  # also refuses NaN
        raise InputError(
            Problem(
                "--duration-days",
                f"expected a positive number of days up to {MAX_HORIZON_DAYS:,.0f}, "
                f"got {duration_days}",
            )
        )
    root = resolve_seed(opts.seed, cfg.run.seed)
    n = (100 if opts.own_repair else 1) if opts.replications is None else int(opts.replications)
    problem = replications_problem(n, per=" per knock-out")
    if problem:
        raise InputError(Problem("--replications", problem))
    fixed_start = _fixed_start(cfg, opts.start)
    calm_json = json.dumps(deterministic(cfg).model_dump(mode="json"))
    items = targets(cfg, opts.include_sources)
    days_of = {t.asset: duration_days for t in items}
    if opts.own_repair:
        days_of = {
            t.asset: mean_repair_days(repair_mixture(cfg, t.asset), duration_days) for t in items
        }
    starts_of = _starts_of(cfg, items, days_of, fixed_start)
    plan = _Plan(root, n, calm_json, items, days_of, starts_of)
    _check_total(plan, opts.own_repair)
    return plan


def _fixed_start(cfg: Config, start: str | dt.date) -> dt.date | None:
    """Return the given start date (``None`` for ``"worst"``), checked to be in the run."""
    if start == "worst":
        return None
    begin = cfg.run.start_date
    end = begin + dt.timedelta(days=cfg.run.horizon_days)
    fixed = start if isinstance(start, dt.date) else _parse_date(str(start))
    if not begin <= fixed < end:
        raise InputError(Problem("--start", f"{fixed} is outside the run ({begin} to {end})"))
    return fixed


def _starts_of(
    cfg: Config, items: list[Target], days_of: dict[str, float], fixed: dt.date | None
) -> dict[str, list[dt.date]]:
    """Return the starts to try per asset; refuse an outage that fits nowhere in the horizon."""
    out = {}
    for t in items:
        starts = [fixed] if fixed else month_starts(cfg, days_of[t.asset])
        if not starts:
            raise InputError(
                Problem(
                    "--duration-days",
                    f"an outage of {days_of[t.asset]:g} days of {t.asset} does not fit in the "
                    f"{cfg.run.horizon_days:g}-day horizon",
                )
            )
        out[t.asset] = starts
    return out


def _check_total(plan: _Plan, own_repair: bool) -> None:
    """Refuse more replications in all than :data:`~sim.base.limits.MAX_REPLICATIONS`."""
    n = plan.n
    sweep_n = 1 if own_repair else n
    total = sweep_n * (1 + sum(map(len, plan.starts_of.values())))
    total += n * (1 + len(plan.items)) if own_repair else 0
    if total > MAX_REPLICATIONS:
        raise InputError(
            Problem(
                "--replications",
                f"{n} per knock-out make {total:,} replications in all (at most "
                f"{MAX_REPLICATIONS:,}); use fewer replications or a fixed --start",
            )
        )


def _own_repair_losses(
    cfg: Config,
    opts: CriticalityOptions,
    plan: _Plan,
    chosen: dict[str, str],
    progress: Progress | None,
) -> pd.DataFrame:
    """Run every knock-out at its chosen start with its own repair times, hazards as given."""
    live_json = json.dumps(cfg.model_dump(mode="json"))
    reps = tuple(range(plan.n))
    begin = cfg.run.start_date.isoformat()
    tasks = [KnockoutTask(live_json, "", (), begin, None, plan.root, reps)]
    for t in plan.items:
        fixed = None if repair_mixture(cfg, t.asset) else opts.duration_days
        tasks.append(
            KnockoutTask(live_json, t.asset, t.stopped, chosen[t.asset], fixed, plan.root, reps)
        )
    rows = run_knockouts(tasks, opts.workers, opts.executor, progress)
    return _increments(rows[rows["asset"] != ""], rows[rows["asset"] == ""])


def _settings(cfg: Config, opts: CriticalityOptions, plan: _Plan) -> dict[str, Any]:
    own = opts.own_repair
    return {
        "config": cfg.name,
        "seed": plan.root,
        "replications": plan.n,
        "duration_days": opts.duration_days,
        "start": str(opts.start),
        "own_repair": own,
        "include_sources": opts.include_sources,
        "hazards": "as configured" if own else "off (unscripted)",
        "prices": "as configured" if own else "fixed at the reference price",
    }


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


def _rank(
    items: list[Target], final: pd.DataFrame, cfg: Config, own_repair: bool, duration_days: float
) -> pd.DataFrame:
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
    """Return the ranked table as text (USD in the one display scale, Mt)."""
    usd, _ = unit_scale("USD")
    shown = pd.DataFrame(
        {
            "rank": table["rank"],
            "asset": table["asset"],
            "kind": table["kind"],
            "start": table["start"],
            "days": table["duration_days"],
            "shut_in_Mt": table["shut_in_mt"],
            "revenue_loss_USD_m": table["revenue_loss_usd"] / usd,
            "ci95_half_USD_m": table["revenue_loss_usd_ci95_half"] / usd,
            "deferred_Mt": table["deferred_mt"],
        }
    )
    return shown.to_string(index=False, float_format=lambda v: f"{v:,.3f}")


__all__ = [
    "CriticalityOptions",
    "CriticalityResult",
    "criticality",
    "format_table",
    "month_starts",
    "repair_mixture",
    "targets",
]
