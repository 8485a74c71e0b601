"""Size checks on a consistent config: how much work one replication will be.

Each value of a config is bounded on its own by the schema; this module bounds what they add up
to, against :mod:`sim.base.limits`: the number of assets, routes, hazards, tankers and scripted
events, the disruption events (one per asset an event hits) and regime changes a replication
should expect, the tanker voyages it will sail, its price steps, and the simulation steps all
of these take together (:func:`expected_steps`: an event's own SimPy events plus every routing
re-solve it causes, which ramp steps, berths taken out one by one and common-cause assets
multiply). A config over a limit is refused before anything runs, with the key path of the
part that contributes most, so a unit slip cannot turn into a run that never ends.
The tanker checks (round trips, voyages, port calls) live in :mod:`sim.config.voyages`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from sim.base.errors import Problem
from sim.base.limits import (
    MAX_ASSETS,
    MAX_EVENTS_PER_REPLICATION,
    MAX_HAZARDS,
    MAX_PRICE_STEPS,
    MAX_ROUTES,
    MAX_SCRIPTED_EVENTS,
    MAX_STEPS_PER_REPLICATION,
    MIN_ROUND_TRIP_DAYS,
)
from sim.config.models import Config, Hazard
from sim.config.rates import peak_rate_per_day
from sim.config.voyages import check_voyages, shortest_round_trip_days
from sim.config.voyages import mean_days as _mean_days

EXPECTED_EVENTS_LIMIT = MAX_EVENTS_PER_REPLICATION // 2
"""Expected disruption events (or Poisson arrival candidates) a config may ask for; half the
runtime cap, so that a replication drawing more than expected still fits under it."""

EXPECTED_STEPS_LIMIT = MAX_STEPS_PER_REPLICATION // 2
"""Expected simulation steps (SimPy events and routing re-solves) of one run of the model; half
the runtime step guard, for the same reason."""

EVENT_STEPS = 4
"""SimPy events of one Poisson event besides its effects: the arrival, the event's process
starting and ending, its duration (``test_limits.py`` checks every estimate against a run)."""
RENEWAL_EVENT_STEPS = 2
"""SimPy events of one renewal cycle besides its effects: the up-time and the duration."""
HIT_STEPS = 2
"""Routing re-solves of one asset hit: the effect starts, the effect ends."""
VOYAGE_STEPS = 12
"""SimPy events and re-solves of one tanker round trip (two berth requests, four timeouts,
lifting and landing)."""
REGIME_STEPS = 1
"""SimPy events of one regime change."""


def hazard_copies(cfg: Config, hz: Hazard) -> int:
    """Return how many independent processes a hazard runs (one per berth with ``per_berth``)."""
    if not hz.per_berth:
        return 1
    berths = {t.id: t.berths for t in cfg.terminals}
    return sum(berths.get(a, 1) for a in hz.assets)


def hits_per_event(hz: Hazard) -> int:
    """Return the assets one event of ``hz`` hits (one for a ``per_berth`` copy)."""
    return 1 if hz.per_berth else len(hz.assets)


def hit_steps(cfg: Config, asset: str, berths_lost: int | None) -> tuple[int, str, str]:
    """Return the steps one event adds for one asset it hits, and the key and reason behind them.

    An effect starts and ends (:data:`HIT_STEPS` re-solves). A source with a ramp re-solves at
    each of its ``ramp_steps`` steps, and each step is a SimPy event; a terminal losing
    ``berths_lost`` berths re-solves once per berth, on the way out and back. The key is
    ``""`` when nothing multiplies the steps.
    """
    for i, src in enumerate(cfg.sources):
        if src.id == asset and src.ramp_up_days > 0 and src.ramp_steps > 1:
            why = f"outages of source '{asset}' end in {src.ramp_steps}-step ramps"
            return 2 * (src.ramp_steps + 1), f"sources[{i}].ramp_steps", why
    berths = {t.id: t.berths for t in cfg.terminals}
    if berths_lost and berths_lost > 1 and asset in berths:
        lost = min(berths_lost, berths[asset])
        return HIT_STEPS * lost, "berths_lost", f"events take {lost} berths out one by one"
    return HIT_STEPS, "", ""


def expected_hazard_events(cfg: Config, hz: Hazard) -> float:
    """Upper bound on the events (Poisson: arrival candidates) one replication of ``hz`` sees."""
    horizon = cfg.run.horizon_days
    copies = hazard_copies(cfg, hz)
    arr = hz.arrivals
    if arr.process == "poisson":
        return peak_rate_per_day(hz) * horizon * copies
    cycle = _mean_days(arr.uptime) + _mean_days(hz.duration)
    if cycle <= 0:
        return math.inf
    return (horizon / cycle + 1) * copies


def check_budget(cfg: Config) -> list[Problem]:
    """Return every way ``cfg`` exceeds the limits of :mod:`sim.base.limits` (empty if it fits)."""
    problems: list[Problem] = []
    n_assets = sum(
        len(getattr(cfg, s))
        for s in ("sources", "storages", "pipelines", "terminals", "shuttles", "markets")
    )
    if n_assets > MAX_ASSETS:
        problems.append(Problem("", f"{n_assets} assets; at most {MAX_ASSETS} are allowed"))
    if len(cfg.routes) > MAX_ROUTES:
        problems.append(
            Problem("routes", f"{len(cfg.routes)} routes; at most {MAX_ROUTES} are allowed")
        )
    if len(cfg.hazards) > MAX_HAZARDS:
        problems.append(
            Problem("hazards", f"{len(cfg.hazards)} hazards; at most {MAX_HAZARDS} are allowed")
        )
    if len(cfg.scripted_events) > MAX_SCRIPTED_EVENTS:
        problems.append(
            Problem(
                "scripted_events",
                f"{len(cfg.scripted_events)} scripted events; "
                f"at most {MAX_SCRIPTED_EVENTS} are allowed",
            )
        )
    problems += _check_events(cfg)
    problems += _check_regimes(cfg)
    problems += check_voyages(cfg)
    if not problems:  # the step count would only repeat a limit already exceeded
        problems += _check_steps(cfg)
    steps = math.ceil(cfg.run.horizon_days / cfg.economics.price.step_days - 1e-9)
    if steps > MAX_PRICE_STEPS:
        problems.append(
            Problem(
                "economics.price.step_days",
                f"{cfg.economics.price.step_days} days gives {steps} price steps over the "
                f"horizon; at most {MAX_PRICE_STEPS} are allowed",
            )
        )
    return problems


def _rate_key(name: str, hz: Hazard) -> str:
    key = "rate_per_year" if hz.arrivals.process == "poisson" else "uptime"
    return f"hazards.{name}.arrivals.{key}"


def _check_events(cfg: Config) -> list[Problem]:
    # One event record per asset an event hits: the events table's rows and the routing work.
    per_hazard = {
        name: expected_hazard_events(cfg, hz) * hits_per_event(hz)
        for name, hz in cfg.hazards.items()
        if hz.enabled
    }
    total = sum(per_hazard.values()) + len(cfg.scripted_events)
    if total <= EXPECTED_EVENTS_LIMIT:
        return []
    worst = max(per_hazard, key=lambda k: per_hazard[k]) if per_hazard else None
    if worst is None:
        where, what = "scripted_events", "scripted events"
    else:
        hz = cfg.hazards[worst]
        where = _rate_key(worst, hz)
        what = f"hazard '{worst}' alone: ~{per_hazard[worst]:.3g}"
        if hits_per_event(hz) > 1:
            what += f", {hits_per_event(hz)} assets per event"
    shown = "infinitely many" if math.isinf(total) else f"~{total:.3g}"
    return [
        Problem(
            where,
            f"one replication would see {shown} disruption events ({what}) over "
            f"{cfg.run.horizon_days:g} days; at most {EXPECTED_EVENTS_LIMIT} are allowed "
            "(rates are events per year; check the units, the multipliers and the horizon)",
        )
    ]


def _check_regimes(cfg: Config) -> list[Problem]:
    """Refuse a regime chain that would change state more often than the event limit."""
    if cfg.regimes is None:
        return []
    sojourns = {
        name: st.mean_sojourn_days
        for name, st in cfg.regimes.states.items()
        if st.mean_sojourn_days is not None
    }
    if not sojourns:
        return []
    shortest = min(sojourns, key=lambda k: sojourns[k])
    changes = cfg.run.horizon_days / sojourns[shortest]
    if changes <= EXPECTED_EVENTS_LIMIT:
        return []
    return [
        Problem(
            f"regimes.states.{shortest}.mean_sojourn_days",
            f"{sojourns[shortest]:g} days allows ~{changes:.3g} regime changes per replication; "
            f"at most {EXPECTED_EVENTS_LIMIT} are allowed (sojourns are in days)",
        )
    ]


def expected_steps(cfg: Config) -> dict[str, tuple[float, str]]:
    """Estimate the simulation steps of one run of the model, by the key that causes them.

    Returns ``{key path: (steps, reason)}``; the steps add up to the estimate for the whole
    run. Poisson hazards count their arrival candidates, so the estimate is an upper bound.
    """
    parts: dict[str, tuple[float, str]] = {}

    def add(key: str, steps: float, why: str) -> None:
        parts[key] = (parts.get(key, (0.0, why))[0] + steps, why)

    for name, hz in cfg.hazards.items():
        if not hz.enabled:
            continue
        events = expected_hazard_events(cfg, hz)
        own = _rate_key(name, hz), f"hazard '{name}' has ~{events:.3g} events"
        per_event = EVENT_STEPS if hz.arrivals.process == "poisson" else RENEWAL_EVENT_STEPS
        add(own[0], events * per_event, own[1])
        for i, asset in enumerate(hz.assets[: hits_per_event(hz)]):
            berths_lost = None if hz.per_berth else hz.effect.berths_lost
            steps, key, why = hit_steps(cfg, asset, berths_lost)
            if key == "berths_lost":
                key, why = f"hazards.{name}.effect.berths_lost", f"{name}'s {why}"
            elif not key and i:
                key = f"hazards.{name}.assets"
                why = f"each event of '{name}' hits {len(hz.assets)} assets"
            elif not key:
                key, why = own
            add(key, events * steps, why)
    _add_reactions(cfg, add)
    for ev in cfg.scripted_events:
        steps, key, why = hit_steps(cfg, ev.asset, ev.berths_lost)
        if not key.startswith("sources["):
            key, why = "scripted_events", f"{len(cfg.scripted_events)} scripted events"
        add(key, EVENT_STEPS + steps, why)
    for i, sh in enumerate(cfg.shuttles):
        trip = shortest_round_trip_days(sh)
        if trip >= MIN_ROUND_TRIP_DAYS:
            voyages = sum(c.count for c in sh.fleet) * cfg.run.horizon_days / trip
            add(f"shuttles[{i}]", voyages * VOYAGE_STEPS, f"tankers sail ~{voyages:.3g} trips")
    for name, st in (cfg.regimes.states if cfg.regimes else {}).items():
        if st.mean_sojourn_days is not None:
            changes = cfg.run.horizon_days / st.mean_sojourn_days
            key = f"regimes.states.{name}.mean_sojourn_days"
            add(key, changes * REGIME_STEPS, f"the regime changes ~{changes:.3g} times")
    return parts


def _add_reactions(cfg: Config, add: Callable[[str, float, str], None]) -> None:
    """Count what planned-outage rules, restart ramps and surges add (issue 14 mechanisms).

    A planned outage may wait for its months (one step) and, when exclusive, retry every
    ``retry_days`` for at most the horizon. Each disruption (hazard or scripted event) may ease a
    congestion cut once per source with a restart ramp (``ramp_steps`` steps) and request and
    release each surge (``steps`` + 2); both are upper bounds.
    """
    horizon = cfg.run.horizon_days
    events = float(len(cfg.scripted_events))
    for name, hz in cfg.hazards.items():
        if not hz.enabled:
            continue
        n = expected_hazard_events(cfg, hz)
        events += n
        rules = hz.planning
        if rules is not None:
            waits = 1.0 + (horizon / rules.retry_days if rules.exclusive else 0.0)
            add(
                f"hazards.{name}.planning.retry_days",
                n * waits,
                f"planned outages of '{name}' may wait and retry ~{waits:.3g} times each",
            )
    for i, src in enumerate(cfg.sources):
        if src.restart_ramp_days > 0:
            add(
                f"sources[{i}].restart_ramp_days",
                events * 2 * (src.ramp_steps + 1),
                f"~{events:.3g} disruptions may each end in a {src.ramp_steps}-step restart "
                f"of '{src.id}'",
            )
    for i, pipe in enumerate(cfg.pipelines):
        if pipe.surge is not None:
            add(
                f"pipelines[{i}].surge.steps",
                events * 2 * (pipe.surge.steps + 2),
                f"~{events:.3g} disruptions may each call '{pipe.id}''s {pipe.surge.steps}-step "
                "surge",
            )


def _check_steps(cfg: Config) -> list[Problem]:
    """Refuse a config whose replications would take more steps than the limit allows."""
    parts = expected_steps(cfg)
    total = sum(steps for steps, _ in parts.values())
    if total <= EXPECTED_STEPS_LIMIT:
        return []
    key = max(parts, key=lambda k: parts[k][0])
    steps, why = parts[key]
    shown = "infinitely many" if math.isinf(total) else f"~{total:.3g}"
    return [
        Problem(
            key,
            f"one replication would take {shown} simulation steps (SimPy events and routing "
            f"re-solves), ~{steps:.3g} of them because {why}; at most {EXPECTED_STEPS_LIMIT:,} "
            "are allowed (lower the rate, the ramp steps, the berths or assets per event, or "
            "the horizon)",
        )
    ]
