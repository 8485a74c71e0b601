"""Stochastic and scripted disruptions as SimPy processes.

* Poisson hazards use thinning: candidates arrive at the largest rate the hazard can reach
  (base x largest monthly multiplier x largest regime multiplier) and each is kept with
  probability rate(t) / that maximum, which gives an exact non-homogeneous Poisson process.
* Renewal hazards fail again an up-time after each repair.
* A regime chain (calm / conflict ...) scales the rates of the hazards that name it.
* Scripted events replay a dated list.

Every hazard draws from its own streams (arrivals, durations, effects), keyed by hazard, asset
and berth, so adding or editing one hazard never changes another's draws.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from sim.base.limits import MAX_EVENTS_PER_REPLICATION
from sim.config.models import Config, Hazard, Planning, Regimes
from sim.config.rates import peak_rate_per_day, rate_per_day
from sim.model.engine import FlowEngine
from sim.model.network import Network
from sim.model.sampling import duration_sampler, fraction_sampler
from sim.model.streams import Streams


class TooManyEventsError(RuntimeError):
    """A replication exceeded :data:`~sim.base.limits.MAX_EVENTS_PER_REPLICATION`."""


@dataclass
class EventRecord:
    """One disruption as it hit one asset (a common-cause event gives one record per asset)."""

    event: int
    hazard: str
    asset: str
    asset_kind: str
    cause: str
    start_day: float
    duration_days: float
    recovery_days: float
    capacity_lost: float
    berths_lost: int
    """Berths the event keeps out of service: its demand (``berths_lost`` of the effect, 1 for a
    per-berth hazard, 0 when not effective), even while fewer are free to take (see
    :mod:`sim.model.terminal_berths`)."""
    effective: bool
    scripted: bool


class Calendar:
    """Maps simulation days to calendar months for seasonal rates."""

    def __init__(self, start: dt.date, horizon_days: float) -> None:
        self.start = start
        self.bounds: list[float] = []
        self.months: list[int] = []
        d = dt.date(start.year, start.month, 1)
        while (d - start).days < horizon_days + 31:
            self.bounds.append(float((d - start).days))
            self.months.append(d.month - 1)
            d = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)

    def month(self, t: float) -> int:
        """Calendar month (0 = January) of simulation day ``t``."""
        return self.months[max(0, bisect.bisect_right(self.bounds, t) - 1)]

    def until_month(self, t: float, months: set[int]) -> float:
        """Days from ``t`` to the start of the next month in ``months`` (0 = January).

        Past the calendar's end (the horizon plus a month) it returns a time beyond it.
        """
        for j in range(bisect.bisect_right(self.bounds, t), len(self.bounds)):
            if self.months[j] in months:
                return self.bounds[j] - t
        return self.bounds[-1] + 366.0 - t


class RegimeChain:
    """Current state of the regime Markov chain."""

    def __init__(self, regimes: Regimes | None) -> None:
        self.cfg = regimes
        self.state = regimes.initial if regimes else ""
        self.history: list[tuple[float, str]] = [(0.0, self.state)]

    def process(self, env: simpy.Environment, streams: Streams) -> Generator[Any, Any, None]:
        """SimPy process moving between regimes."""
        reg = self.cfg
        if reg is None:
            return
        rng = streams.get("regime")
        names = list(reg.states)
        while True:
            mean = reg.states[self.state].mean_sojourn_days
            if mean is None:
                return
            yield env.timeout(float(rng.exponential(mean)))
            row = reg.transitions.get(self.state)
            if row:
                targets = list(row)
                nxt = targets[int(rng.choice(len(targets), p=[row[t] for t in targets]))]
            else:
                nxt = next(n for n in names if n != self.state)
            self.state = nxt
            self.history.append((env.now, nxt))


class HazardRunner:
    """Starts the hazard, regime and scripted-event processes of one replication.

    Parameters
    ----------
    env, engine, net:
        The SimPy environment, flow engine and compiled network.
    streams:
        Random streams of this replication.
    block_shuttle:
        Callback ``f(shuttle_index, delta)`` that stops (+1) or frees (-1) a shuttle's sailings.
    rates:
        Hazard id -> ``rate_per_year`` to use instead of the config's (parameter uncertainty,
        see :mod:`sim.model.parameters`); hazards not named keep their configured rate.
    """

    def __init__(
        self,
        env: simpy.Environment,
        engine: FlowEngine,
        net: Network,
        streams: Streams,
        block_shuttle: Callable[[int, int], None],
        rates: Mapping[str, float] | None = None,
    ) -> None:
        self.env = env
        self.engine = engine
        self.net = net
        self.cfg: Config = net.cfg
        self.streams = streams
        self.block_shuttle = block_shuttle
        self.calendar = Calendar(self.cfg.run.start_date, self.cfg.run.horizon_days)
        self.regime = RegimeChain(self.cfg.regimes)
        self.records: list[EventRecord] = []
        self._n_events = 0
        self.rates: Mapping[str, float] = rates or {}

    def start(self, hazards: bool = True, scripted: bool = True) -> None:
        """Start the processes; the undisrupted twin starts none."""
        env = self.env
        if hazards:
            if self.cfg.regimes is not None:
                env.process(self.regime.process(env, self.streams))
            for name, hz in self.cfg.hazards.items():
                if not hz.enabled:
                    continue
                if hz.per_berth:
                    for asset in hz.assets:
                        link = self.net.asset_index[asset]
                        for b in range(self.net.terminal_of_link[link].berths):
                            env.process(self._hazard(name, hz, [asset], berth=b))
                else:
                    env.process(self._hazard(name, hz, list(hz.assets), berth=None))
        if scripted:
            for i, _ev in enumerate(self.cfg.scripted_events):
                env.process(self._scripted(i))

    # ------------------------------------------------------------------ processes
    def _hazard(
        self, name: str, hz: Hazard, assets: list[str], berth: int | None
    ) -> Generator[Any, Any, None]:
        tag = ("hazard", name, ",".join(assets), "" if berth is None else str(berth))
        rng_arr = self.streams.get(*tag, "arrivals")
        rng_dur = self.streams.lazy(*tag, "durations")
        rng_eff = self.streams.lazy(*tag, "effects")
        dur = duration_sampler(hz.duration)
        frac = fraction_sampler(hz.effect.capacity_lost)
        env = self.env
        arr = hz.arrivals
        if arr.process == "renewal":
            up = duration_sampler(arr.uptime)
            while True:
                yield env.timeout(up(rng_arr))
                yield from self._occur(name, hz, assets, berth, dur(rng_dur), rng_eff, frac)
        override = self.rates.get(name)
        top = peak_rate_per_day(hz, override)
        if top <= 0:
            return
        while True:
            yield env.timeout(float(rng_arr.exponential(1.0 / top)))
            month = self.calendar.month(env.now)
            rate = rate_per_day(hz, month, self.regime.state, override)
            if rate < top and float(rng_arr.random()) * top >= rate:
                continue
            env.process(self._occur(name, hz, assets, berth, dur(rng_dur), rng_eff, frac))

    def _defer(self, rules: Planning, assets: list[str]) -> Generator[Any, Any, None]:
        """Wait until a planned outage may start (see :class:`~sim.config.models.Planning`)."""
        env, net, eng = self.env, self.net, self.engine
        allowed = None if rules.months is None else {m - 1 for m in rules.months}
        while True:
            if allowed is not None and self.calendar.month(env.now) not in allowed:
                yield env.timeout(self.calendar.until_month(env.now, allowed))
                continue
            if rules.exclusive and any(
                eng.impaired(
                    "source" if net.asset_kind[a] == "source" else "link", net.asset_index[a]
                )
                for a in assets
                if net.asset_kind[a] in ("source", "pipeline", "terminal")
            ):
                yield env.timeout(rules.retry_days)
                continue
            return

    def _scripted(self, i: int) -> Generator[Any, Any, None]:
        ev = self.cfg.scripted_events[i]
        yield self.env.timeout(float((ev.start - self.cfg.run.start_date).days))
        name = ev.id or f"scripted_{i}"
        kind = self.net.asset_kind[ev.asset]
        yield from self._apply(
            name,
            ev.cause.value,
            [ev.asset],
            None,
            ev.duration_days,
            ev.capacity_lost,
            ev.berths_lost if kind == "terminal" else None,
            True,
            None,
            scripted=True,
        )

    def _occur(self, name, hz, assets, berth, duration, rng_eff, frac) -> Generator[Any, Any, None]:
        effective = float(rng_eff.random()) < hz.effect.probability
        fraction = frac(rng_eff)
        if hz.planning is not None:
            yield from self._defer(hz.planning, assets)
        yield from self._apply(
            name,
            hz.cause.value,
            assets,
            berth,
            duration,
            fraction,
            hz.effect.berths_lost,
            effective,
            rng_eff,
            scripted=False,
        )

    def _apply(
        self, name, cause, assets, berth, duration, fraction, berths_lost, effective, rng, scripted
    ) -> Generator[Any, Any, None]:
        """Apply an event to its assets, hold it for ``duration`` days, then undo it."""
        env, net = self.env, self.net
        event_id = self._new_event_id()
        undo: list[Callable[[], Generator[Any, Any, None] | None]] = []
        for asset in assets:
            kind = net.asset_kind[asset]
            idx = net.asset_index[asset]
            n_berths, lost, recovery = self._take_out(
                kind, idx, berth, fraction, berths_lost, effective, rng, undo
            )
            self.records.append(
                EventRecord(
                    event_id,
                    name,
                    asset,
                    kind,
                    cause,
                    env.now,
                    duration,
                    recovery,
                    lost,
                    n_berths,
                    effective,
                    scripted,
                )
            )
        yield env.timeout(duration)
        for fn in undo:
            gen = fn()
            if gen is not None:
                env.process(gen)

    def _new_event_id(self) -> int:
        """Return the number of a new disruption event; raise past the per-replication bound."""
        event_id = self._n_events
        self._n_events += 1
        if self._n_events > MAX_EVENTS_PER_REPLICATION:
            raise TooManyEventsError(
                f"more than {MAX_EVENTS_PER_REPLICATION} disruption events in one replication; "
                "check the hazards' rates and the horizon"
            )
        return event_id

    def _take_out(
        self,
        kind: str,
        idx: int,
        berth: int | None,
        fraction: float,
        berths_lost: int | None,
        effective: bool,
        rng: np.random.Generator | None,
        undo: list[Callable[[], Generator[Any, Any, None] | None]],
    ) -> tuple[int, float, float]:
        """Put one asset (out) under an event; append what ends it to ``undo``.

        Returns the berths lost, the fraction of capacity lost and the recovery (ramp-up)
        days, as the event's record states them.
        """
        eng = self.engine
        n_berths, lost, recovery = 0, fraction, 0.0
        if not effective:
            lost = 0.0
        elif kind == "terminal" and berth is not None:
            eng.berth_down(idx, berth, +1)
            n_berths, lost = 1, 0.0
            undo.append(self._berth_back(idx, berth))
        elif kind == "terminal" and berths_lost:
            # A demand for berths_lost berths: those in service now (random ones for a
            # hazard, the first for a scripted event), then each that comes back while the
            # event lasts (sim/model/terminal_berths.py).
            up = eng.berths_up(idx)
            if rng is None:
                chosen = up[:berths_lost]
            else:
                chosen = (
                    sorted(rng.choice(up, size=min(berths_lost, len(up)), replace=False))
                    if up
                    else []
                )
            h = eng.hold_berths(idx, [int(b) for b in chosen], berths_lost)
            n_berths, lost = berths_lost, 0.0
            undo.append(self._hold_off(idx, h))
        elif kind in ("pipeline", "terminal"):
            h = eng.add_effect("link", idx, lost)
            undo.append(self._effect_off("link", idx, h, lost, 0.0, 1))
        elif kind == "source":
            src = self.cfg.sources[idx]
            h = eng.add_effect("source", idx, lost)
            recovery = src.ramp_up_days
            undo.append(self._effect_off("source", idx, h, lost, src.ramp_up_days, src.ramp_steps))
        elif kind == "shuttle":
            self.block_shuttle(idx, +1)
            undo.append(self._unblock(idx))
        return n_berths, lost, recovery

    def _berth_back(self, idx: int, berth: int) -> Callable[[], None]:
        def fn() -> None:
            self.engine.berth_down(idx, berth, -1)

        return fn

    def _hold_off(self, idx: int, handle: int) -> Callable[[], None]:
        def fn() -> None:
            self.engine.release_berths(idx, handle)

        return fn

    def _unblock(self, idx: int) -> Callable[[], None]:
        def fn() -> None:
            self.block_shuttle(idx, -1)

        return fn

    def _effect_off(
        self, kind: str, idx: int, handle: int, lost: float, ramp_days: float, steps: int
    ) -> Callable[[], Generator[Any, Any, None] | None]:
        eng, env = self.engine, self.env

        def ramp() -> Generator[Any, Any, None]:
            for k in range(1, steps):
                eng.set_effect(kind, idx, handle, lost * (steps - k) / steps)
                yield env.timeout(ramp_days / steps)
            eng.remove_effect(kind, idx, handle)

        def fn() -> Generator[Any, Any, None] | None:
            if ramp_days > 0 and lost > 0 and steps > 1:
                return ramp()
            eng.remove_effect(kind, idx, handle)
            return None

        return fn
