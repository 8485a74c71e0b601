"""Vectorised draws of the screening mode: regimes, hazard events and their effects.

APPROXIMATE. Every hazard's events of all replications are drawn at once with NumPy from the
same declarations the engine uses (:mod:`sim.config.rates` for the rate at a month and regime,
:mod:`sim.model.parameters` for the rate of each parameter set, the duration and fraction
families of :mod:`sim.config.distributions`). Not the engine's streams: the draws follow the
same distributions, not the same bits. Approximations: a planned outage that falls outside its
allowed months starts at the next allowed month (an ``exclusive`` one also waits, in steps of
``retry_days``, for its assets to be free of the outages that started before it, see
:mod:`.states`, which places them in time order); renewal hazards are drawn as Poisson with
the mean rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.base.units import DAYS_PER_YEAR
from sim.config.distributions import (
    EmpiricalDays,
    ExponentialDays,
    FixedDays,
    GammaDays,
    LognormalDays,
    TriangularDays,
    UniformDays,
    WeibullDays,
)
from sim.config.models import Config, Hazard, PoissonArrivals
from sim.config.rates import mean_events_per_year, rate_per_day
from sim.model.hazards import Calendar
from sim.model.parameters import draw_rates, parameter_set

LOG_FLOOR = 1e-9
"""A capacity factor of 0 is stored as this (its log must be finite to be summed)."""


def sample_duration(dist, rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw ``n`` durations (days) from a duration distribution of the config."""
    if isinstance(dist, FixedDays):
        return np.full(n, dist.value_days)
    if isinstance(dist, ExponentialDays):
        return rng.exponential(dist.mean_days, n)
    if isinstance(dist, LognormalDays):
        mu, s = dist.log_params()
        return rng.lognormal(mu, s, n)
    if isinstance(dist, WeibullDays):
        return dist.scale_days * rng.weibull(dist.shape, n)
    if isinstance(dist, GammaDays):
        return rng.gamma(dist.shape, dist.scale_days, n)
    if isinstance(dist, TriangularDays):
        return rng.triangular(dist.low_days, dist.mode_days, dist.high_days, n)
    if isinstance(dist, UniformDays):
        return rng.uniform(dist.low_days, dist.high_days, n)
    assert isinstance(dist, EmpiricalDays)
    w = np.asarray(dist.weights or [1.0] * len(dist.values_days), dtype=float)
    return rng.choice(np.asarray(dist.values_days), size=n, p=w / w.sum())


def sample_fraction(value, rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw ``n`` fractions from a number or a fraction distribution of the config."""
    if isinstance(value, (int, float)):
        return np.full(n, float(value))
    if value.dist == "uniform":
        return rng.uniform(value.low, value.high, n)
    return rng.triangular(value.low, value.mode, value.high, n)


@dataclass
class Pieces:
    """Effects as flat arrays: replication, start and end day, slot and additive value.

    A slot is a link's or a source's log capacity factor, or a terminal's berths down.
    """

    rep: list[np.ndarray]
    start: list[np.ndarray]
    end: list[np.ndarray]
    slot: list[np.ndarray]
    value: list[np.ndarray]

    def add(self, rep, start, end, slot: int, value) -> None:
        """Append effects (``value`` a scalar or an array like ``rep``)."""
        n = len(rep)
        self.rep.append(np.asarray(rep, dtype=np.int64))
        self.start.append(np.asarray(start, dtype=float))
        self.end.append(np.asarray(end, dtype=float))
        self.slot.append(np.full(n, slot, dtype=np.int64))
        self.value.append(np.broadcast_to(np.asarray(value, dtype=float), (n,)).copy())

    def arrays(self) -> tuple[np.ndarray, ...]:
        """Concatenated (rep, start, end, slot, value)."""
        parts = (self.rep, self.start, self.end, self.slot, self.value)
        kinds = (np.int64, float, float, np.int64, float)
        return tuple(np.concatenate(p) if p else np.empty(0, k) for p, k in zip(parts, kinds))


class Regimes:
    """Regime paths of all replications: switch times and the state after each switch."""

    def __init__(self, cfg: Config, rng: np.random.Generator, n: int, horizon: float) -> None:
        reg = cfg.regimes
        self.names = list(reg.states) if reg else [""]
        state = np.full(n, self.names.index(reg.initial) if reg else 0)
        times, states = [], [state.copy()]
        t = np.zeros(n)
        while reg is not None:
            means = np.array([reg.states[s].mean_sojourn_days or np.inf for s in self.names])
            t = t + rng.exponential(1.0, n) * means[state]
            if np.all(t > horizon):
                break
            state = self._next(reg, state, rng)
            times.append(t.copy())
            states.append(state.copy())
        self.times = np.array(times).T if times else np.zeros((n, 0))
        self.states = np.array(states).T

    def _next(self, reg, state: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        out = state.copy()
        for i, name in enumerate(self.names):
            row = reg.transitions.get(name)
            sel = state == i
            if row:
                targets = [self.names.index(t) for t in row]
                p = np.array(list(row.values()), dtype=float)
                out[sel] = rng.choice(targets, size=int(sel.sum()), p=p / p.sum())
            else:
                out[sel] = next(j for j, m in enumerate(self.names) if m != name)
        return out

    def at(self, rep: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Regime index of replication ``rep`` at day ``t``."""
        k = (self.times[rep] <= t[:, None]).sum(axis=1) if self.times.size else 0
        return self.states[rep, k]


def hazard_rates(cfg: Config, n: int, seed: int) -> dict[str, np.ndarray]:
    """Return the base rate per year of each hazard in each replication (parameter sets drawn)."""
    sets = {}
    out = {}
    for name, hz in cfg.hazards.items():
        if isinstance(hz.arrivals, PoissonArrivals):
            out[name] = np.full(n, hz.arrivals.rate_per_year)
        else:
            out[name] = np.full(n, mean_events_per_year(hz))
    if cfg.run.parameter_sets is None:
        return out
    k = int(cfg.run.parameter_sets)
    for j in range(min(k, n)):
        sets[j] = draw_rates(cfg, seed, j)
    idx = np.array([parameter_set(cfg, r) for r in range(n)])
    for name in out:
        if name in sets.get(0, {}):
            table = np.array([sets[j][name] for j in range(min(k, n))])
            out[name] = table[idx]
    return out


class EventDrawer:
    """Draws every hazard's events for ``n`` replications at once."""

    def __init__(self, cfg: Config, n: int, seed: int, slots: dict[tuple[str, str], int]) -> None:
        self.cfg, self.n, self.slots = cfg, n, slots
        self.horizon = float(cfg.run.horizon_days)
        self.rng = np.random.default_rng([seed, 0x5C4EE7])
        self.regimes = Regimes(cfg, self.rng, n, self.horizon)
        self.rates = hazard_rates(cfg, n, seed)
        cal = Calendar(cfg.run.start_date, self.horizon)
        self.bounds = np.asarray(cal.bounds)
        self.months = np.asarray(cal.months)

    def month(self, t: np.ndarray) -> np.ndarray:
        """Calendar month (0-11) of days ``t``."""
        i = np.maximum(np.searchsorted(self.bounds, t, side="right") - 1, 0)
        return self.months[i]

    def arrivals(self, name: str, hz: Hazard) -> tuple[np.ndarray, np.ndarray]:
        """Replication and day of each event of one copy of ``hz`` (thinning, as the engine)."""
        base = self.rates[name]
        if not isinstance(hz.arrivals, PoissonArrivals):
            counts = self.rng.poisson(base * self.horizon / DAYS_PER_YEAR)
            rep = np.repeat(np.arange(self.n), counts)
            return rep, self.rng.uniform(0.0, self.horizon, rep.size)
        season = hz.arrivals.monthly_multipliers
        mults = hz.regime_multipliers or {}
        top = (max(season) if season else 1.0) * (max(mults.values()) if mults else 1.0)
        peak = base / DAYS_PER_YEAR * top
        rep = np.repeat(np.arange(self.n), self.rng.poisson(peak * self.horizon))
        t = self.rng.uniform(0.0, self.horizon, rep.size)
        month = self.month(t)
        regime = self.regimes.at(rep, t)
        table = np.array(
            [
                [rate_per_day(hz, m, r, 1.0) * DAYS_PER_YEAR for r in self.regimes.names]
                for m in range(12)
            ]
        )
        rate = base[rep] / DAYS_PER_YEAR * table[month, regime]
        keep = self.rng.random(rep.size) * peak[rep] < rate
        return rep[keep], t[keep]

    def planned_start(self, hz: Hazard, t: np.ndarray) -> np.ndarray:
        """Move starts outside a planned hazard's months to the next allowed month."""
        if hz.planning is None or hz.planning.months is None:
            return t
        allowed = {m - 1 for m in hz.planning.months}
        ok = np.array([m in allowed for m in self.months])
        nxt = np.full(len(self.bounds), np.inf)
        best = math.inf
        for i in range(len(self.bounds) - 1, -1, -1):
            if ok[i]:
                best = self.bounds[i]
            nxt[i] = best
        i = np.maximum(np.searchsorted(self.bounds, t, side="right") - 1, 0)
        return np.where(ok[i], t, nxt[i])
