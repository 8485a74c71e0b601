"""Tanker part of the size checks of :mod:`sim.config.budget`: round trips and port calls.

A shuttle's tankers sail ``horizon / round trip`` voyages each, and third-party traffic calls at
its ports; together they are bounded by
:data:`~sim.base.limits.MAX_TANKER_VOYAGES_PER_REPLICATION`, the tanker count by
:data:`~sim.base.limits.MAX_TANKERS`, and a round trip must last at least
:data:`~sim.base.limits.MIN_ROUND_TRIP_DAYS`.
"""

from __future__ import annotations

import math

from sim.base.errors import Problem
from sim.base.limits import MAX_TANKER_VOYAGES_PER_REPLICATION, MAX_TANKERS, MIN_ROUND_TRIP_DAYS
from sim.base.units import DAYS_PER_YEAR, HOURS_PER_DAY
from sim.config.distributions import DurationDist
from sim.config.models import Config, PortTraffic, Shuttle

__all__ = ["check_voyages", "expected_calls", "mean_days", "shortest_round_trip_days"]


def mean_days(dist: DurationDist) -> float:
    """Mean of a duration distribution, ``inf`` when it overflows."""
    try:
        return float(dist.mean())
    except (OverflowError, ValueError, ZeroDivisionError):
        return math.inf


def shortest_round_trip_days(sh: Shuttle) -> float:
    """Shortest round trip of any tanker of ``sh`` (days), counting sailing and port time only."""
    port = 2 * sh.port_time_hours / HOURS_PER_DAY
    sails = [2 * sh.distance_nm / (c.speed_knots * HOURS_PER_DAY) for c in sh.fleet if c.count]
    return (min(sails) if sails else math.inf) + port


def expected_calls(traffic: PortTraffic, horizon_days: float) -> float:
    """Return the third-party calls a port expects over ``horizon_days`` (inf: zero gaps)."""
    if traffic.calls_per_year is not None:
        return traffic.calls_per_year / DAYS_PER_YEAR * horizon_days
    assert traffic.interarrival is not None
    gap = mean_days(traffic.interarrival)
    return horizon_days / gap + 1 if gap > 0 else math.inf


def _shuttle_dists(sh: Shuttle) -> list[tuple[str, DurationDist]]:
    """(key, distribution) of every duration distribution of a shuttle."""
    out: list[tuple[str, DurationDist | None]] = [
        ("port_delay", sh.port_delay),
        ("sailing_delay", sh.sailing_delay),
    ]
    for end in ("origin", "destination"):
        traffic = getattr(sh, f"{end}_traffic")
        if traffic is not None:
            out += [
                (f"{end}_traffic.interarrival", traffic.interarrival),
                (f"{end}_traffic.berth_time", traffic.berth_time),
            ]
    return [(k, d) for k, d in out if d is not None]


def check_voyages(cfg: Config) -> list[Problem]:
    """Return every way the tankers of ``cfg`` exceed the voyage and tanker limits."""
    problems: list[Problem] = []
    n_tankers = sum(c.count for sh in cfg.shuttles for c in sh.fleet)
    if n_tankers > MAX_TANKERS:
        problems.append(
            Problem("shuttles", f"{n_tankers} tankers; at most {MAX_TANKERS} are allowed")
        )
    voyages = calls_total = 0.0
    for i, sh in enumerate(cfg.shuttles):
        for key, dist in _shuttle_dists(sh):
            if not math.isfinite(mean_days(dist)):
                problems.append(
                    Problem(f"shuttles[{i}].{key}", "the mean of this distribution overflows")
                )
        trip = shortest_round_trip_days(sh)
        if trip < MIN_ROUND_TRIP_DAYS:
            problems.append(
                Problem(
                    f"shuttles[{i}]",
                    f"a round trip takes {trip * HOURS_PER_DAY:.3g} hours of sailing and port "
                    f"time; at least {MIN_ROUND_TRIP_DAYS * HOURS_PER_DAY:g} hour is needed "
                    "(check distance_nm, speed_knots and port_time_hours)",
                )
            )
            continue
        voyages += sum(c.count for c in sh.fleet) * cfg.run.horizon_days / trip
        for calls in _port_calls(f"shuttles[{i}]", sh, cfg.run.horizon_days, problems):
            calls_total += calls
    if voyages > MAX_TANKER_VOYAGES_PER_REPLICATION:
        problems.append(
            Problem(
                "shuttles",
                f"tankers would sail ~{voyages:.3g} round trips per replication; at most "
                f"{MAX_TANKER_VOYAGES_PER_REPLICATION} are allowed",
            )
        )
    elif voyages + calls_total > MAX_TANKER_VOYAGES_PER_REPLICATION:
        problems.append(
            Problem(
                "shuttles",
                f"~{voyages:.3g} tanker round trips and ~{calls_total:.3g} third-party calls per "
                f"replication; at most {MAX_TANKER_VOYAGES_PER_REPLICATION} together are allowed",
            )
        )
    return problems


def _port_calls(
    where: str, sh: Shuttle, horizon_days: float, problems: list[Problem]
) -> list[float]:
    """Return the finite third-party calls of each port of ``sh`` (0 when infinite, in order).

    A port whose calls alone exceed the voyage limit adds a problem to ``problems``.
    """
    out: list[float] = []
    for end in ("origin", "destination"):
        traffic = getattr(sh, f"{end}_traffic")
        if traffic is None:
            continue
        calls = expected_calls(traffic, horizon_days)
        if calls > MAX_TANKER_VOYAGES_PER_REPLICATION:
            key = "calls_per_year" if traffic.calls_per_year is not None else "interarrival"
            problems.append(
                Problem(
                    f"{where}.{end}_traffic.{key}",
                    f"{'infinitely many' if math.isinf(calls) else f'~{calls:.3g}'} "
                    "third-party calls per replication; at most "
                    f"{MAX_TANKER_VOYAGES_PER_REPLICATION} are allowed (calls_per_year is "
                    "per year, interarrival in days)",
                )
            )
        out.append(calls if math.isfinite(calls) else 0.0)
    return out
