"""Screening: an APPROXIMATE, vectorised Monte Carlo of volume and revenue lost.

:func:`screen` draws the events of every replication at once (:mod:`.draws`), turns them
into intervals of constant capacity state (:mod:`.states`), solves the engine's routing LP
once per distinct state (:mod:`.fluid`) and integrates lost production over time with one
NumPy pass per interval position (all replications together). It has no tankers, no price
path (only its mean) and no twin run. Approximations beyond those of the modules it uses:

* **Storage buffers**: each storage is one buffer of its free room (capacity less its
  initial level). While oil that could flow into it has no way out, it takes that oil (of the
  sources whose routes run into it) until full; it empties at the spare capacity of the legs
  out of it while nothing is blocked, and by the oil restart ramps hold back.
* **Surges** start after their lag (plus the mean of their ramp) from the start of a blocked
  spell and stop with it; all surges of a config are granted together.
* **Restart ramps** follow the engine's rules (see :mod:`.ramps`): a ramp lifts the whole cut
  of before in steps, a source produces what both its ramp and the routing allow, and an
  easing starts a ramp of every source cut behind the same bottleneck.
* **Scripted events** are left out (hazards only).
* **Revenue lost** = each source's lost tonnes x the netback of its best route used in the
  undisrupted state (``(price + differential) x bbl/t - tariffs``), at the expected price of
  the engine's price path (:func:`mean_price`) and discounted, both at each interval's
  midpoint. Rerouted oil's lower netback is not charged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.base.discount import discount_factor
from sim.base.units import DAYS_PER_YEAR
from sim.config.models import Config, Price
from sim.model.prices import price_grid
from sim.studies.screening.draws import EventDrawer
from sim.studies.screening.fluid import FluidNetwork
from sim.studies.screening.ramps import Ramps
from sim.studies.screening.result import ScreenResult
from sim.studies.screening.states import Intervals, build_intervals, draw_pieces, slot_map

_EPS = 1e-12


@dataclass
class _Rates:
    """Per state and surge level: lost rate per source, blocked rate, storage rates."""

    lost: np.ndarray  # (n_state, n_level, n_src) Mt/day lost (field + congestion)
    cong: np.ndarray  # (n_state, n_level, n_src) congestion shut-in only
    buf: np.ndarray  # (n_state, n_storage) storage intake possible while room
    intake: np.ndarray  # (n_state,) blocked oil all storages together can take
    drain: np.ndarray  # (n_state, n_storage)
    lags: np.ndarray  # (n_level,) days from a blocked spell's start


def _surge_levels(fluid: FluidNetwork) -> tuple[np.ndarray, list[np.ndarray]]:
    """Effective lags and the extra link capacity granted at each level (level 0: none)."""
    net = fluid.net
    pipes = {p.id: p for p in fluid.cfg.pipelines}
    lag = {}
    for i, extra in enumerate(net.link_surge):
        if extra > 0:
            s = pipes[net.link_ids[i]].surge
            lag[i] = s.lag_days + s.ramp_days * (s.steps + 1) / (2 * s.steps)
    lags = sorted(set(lag.values()))
    extras = [np.zeros(net.n_links)]
    for lv in lags:
        e = np.zeros(net.n_links)
        for i, li in lag.items():
            if li <= lv:
                e[i] = net.link_surge[i]
        extras.append(e)
    return np.array([0.0, *lags]), extras


def _rates(fluid: FluidNetwork, iv: Intervals) -> _Rates:
    """Solve the LP where it is needed.

    States with every link at full capacity need no LP when the undisturbed network moves
    everything (less oil then fits too): they lose exactly the sources' own outages. Surge
    levels are solved only for states that block oil without surge.
    """
    lags, extras = _surge_levels(fluid)
    nominal, rate = fluid.link_cap, fluid.source_rate
    avail = iv.source_factor * rate
    n_state, n_lvl = iv.link_factor.shape[0], len(lags)
    base = fluid.solve(nominal[None, :], rate[None, :])
    free = np.ones(n_state, dtype=bool) if base.produced.sum() < rate.sum() - _EPS else None
    free = (iv.link_factor >= 1.0).all(axis=1) if free is None else ~free
    lost = np.repeat((rate - avail)[:, None, :], n_lvl, axis=1)
    cong = np.zeros_like(lost)
    buf = np.zeros((n_state, base.drain.shape[1]))
    intake = np.zeros(n_state)
    drain = np.repeat(base.drain, n_state, axis=0)
    todo = np.flatnonzero(~free)
    for lv in range(n_lvl):
        if todo.size == 0:
            break
        flows = fluid.solve(iv.link_factor[todo] * (nominal + extras[lv]), avail[todo], lv == 0)
        lost[todo, lv:] = (rate - flows.produced)[:, None, :]
        cong[todo, lv:] = np.maximum(avail[todo] - flows.produced, 0.0)[:, None, :]
        if lv == 0:
            buf[todo], intake[todo], drain[todo] = flows.bufferable, flows.intake, flows.drain
            todo = todo[cong[todo, 0].sum(axis=1) > _EPS]
    return _Rates(lost, cong, buf, intake, drain, lags)


def _netbacks(fluid: FluidNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Return each source's best netback (USD/t at the config's Brent) and its bbl/t.

    The best netback is the best among the source's routes used undisturbed; the barrels per
    tonne are those that route sells.
    """
    net, cfg = fluid.net, fluid.cfg
    brent = cfg.economics.price.brent_usd_per_bbl
    tariff = {p.id: p.tariff_usd_per_t for p in cfg.pipelines}
    sol = fluid.solver.solve(tuple(net.link_cap), tuple(net.source_rate), fluid._junction)
    best = np.zeros(len(net.source_ids))
    barrels = np.zeros(len(net.source_ids))
    for r, grade in zip(net.routes, net.route_grade):
        m = cfg.markets[r.market]
        nb = (brent + m.price_differential_usd_per_bbl) * grade
        nb -= sum(tariff.get(net.link_ids[j], 0.0) for j in r.links)
        used = sol.segment_flow[r.segments[0]] > _EPS
        if used and (best[r.source] == 0 or nb > best[r.source]):
            best[r.source], barrels[r.source] = nb, grade
    return best, barrels


def mean_price(price: Price, horizon_days: float, t: np.ndarray) -> np.ndarray:
    """Return the expected Brent (USD/bbl) on the engine's price step holding each day of ``t``.

    The engine's ``mean_reverting`` path is an Ornstein-Uhlenbeck process on log price that
    starts at ``log(brent)`` (:mod:`sim.model.prices`): at ``y`` years its log has variance
    ``sigma^2 (1 - exp(-2 kappa y)) / (2 kappa)``, so its mean is ``brent x exp(variance / 2)``.
    """
    t = np.asarray(t, dtype=float)
    brent = price.brent_usd_per_bbl
    sigma, kappa = price.volatility_per_sqrt_year, price.mean_reversion_per_year
    if price.model == "fixed" or sigma == 0:
        return np.full_like(t, brent)
    grid = price_grid(price, horizon_days)
    k = np.clip(np.searchsorted(grid, t, side="right") - 1, 0, grid.size - 2)
    years = grid[k] / DAYS_PER_YEAR
    if kappa > 0:
        var = sigma**2 * (1.0 - np.exp(-2.0 * kappa * years)) / (2.0 * kappa)
    else:
        var = sigma**2 * years
    return brent * np.exp(var / 2.0)


def _source_storages(fluid: FluidNetwork) -> tuple[np.ndarray, np.ndarray]:
    """(n_src, n_storage) 1 for the storages on the routes each source uses undisturbed.

    The first array marks the first storage of each route (the one a source's held-back oil
    empties), the second every storage on them (those that take its blocked oil).
    """
    net = fluid.net
    sol = fluid.solver.solve(tuple(net.link_cap), tuple(net.source_rate), fluid._junction)
    first = np.zeros((len(net.source_ids), len(net.storage_ids)))
    every = np.zeros_like(first)
    for r in net.routes:
        if sol.segment_flow[r.segments[0]] <= _EPS:
            continue
        ends = [e for e in (net.segments[j].end_storage for j in r.segments) if e is not None]
        if ends:
            first[r.source, ends[0]] = 1.0
            every[r.source, ends] = 1.0
    return first, every


def _overlap(a: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.clip(np.minimum(b, hi) - np.maximum(a, lo), 0.0, None)


def _levels(rt: _Rates, s, t, d, ep, blocked) -> tuple[np.ndarray, np.ndarray]:
    """Lost and congestion volumes (Mt per source) of one interval, surge levels included."""
    n, n_src = t.size, rt.lost.shape[2]
    edges = np.append(rt.lags, np.inf)
    lost_s = np.zeros((n, n_src))
    cong_s = np.zeros((n, n_src))
    for lv in range(len(rt.lags)):
        lo = np.where(blocked, ep + edges[lv], -np.inf if lv == 0 else np.inf)
        hi = np.where(blocked, ep + edges[lv + 1], np.inf if lv == 0 else -np.inf)
        w = _overlap(t, t + d, lo, hi)
        lost_s += w[:, None] * rt.lost[s, lv]
        cong_s += w[:, None] * rt.cong[s, lv]
    return lost_s, cong_s


def _buffer(rt: _Rates, s, t, d, room, room_cap, blocked, cong_s, feeds, credit=True):
    """Buffer intake of one interval: new room, oil taken (Mt per source), the day it is full.

    The oil a storage takes is the blocked oil of the sources whose routes run into it (all
    blocked sources if none does; not split with ``credit`` False). The day is ``inf`` where
    the buffer takes all blocked oil.
    """
    blocked_mt = cong_s.sum(axis=1)
    take_k = np.where(blocked[:, None], np.minimum(room, rt.buf[s] * d[:, None]), 0.0)
    total = take_k.sum(axis=1)
    limit = np.minimum(blocked_mt, rt.intake[s] * d)
    scale = np.minimum(1.0, limit / np.maximum(total, _EPS))
    take_k *= scale[:, None]
    take = total * scale
    refill = np.minimum(room_cap, room + rt.drain[s] * d[:, None])
    room = np.where(blocked[:, None], room - take_k, refill)
    shut = blocked & (take < blocked_mt - _EPS)
    rate_in = np.minimum(rt.intake[s], blocked_mt / np.maximum(d, _EPS))
    full_at = np.where(shut, t + take / np.maximum(rate_in, _EPS), np.inf)
    rows = np.flatnonzero(take > _EPS) if credit else np.empty(0, dtype=np.int64)
    credit = np.zeros_like(cong_s)
    if rows.size:
        w = cong_s[rows][:, :, None] * feeds[None, :, :]  # (rows, source, storage)
        none = w.sum(axis=1, keepdims=True) <= _EPS
        w = np.where(none, cong_s[rows][:, :, None], w)
        w /= np.maximum(w.sum(axis=1, keepdims=True), _EPS)
        part = (w * take_k[rows][:, None, :]).sum(axis=2)
        part = np.minimum(part, cong_s[rows])
        rest = cong_s[rows] - part  # what is left over goes to the other blocked oil
        left = np.maximum(take[rows] - part.sum(axis=1), 0.0)
        part += rest * (left / np.maximum(rest.sum(axis=1), _EPS))[:, None]
        credit[rows] = part
    return room, credit, full_at


def _ramp_steps(ramps: Ramps, rt: _Rates, s, t, d, ep, blocked, full_at) -> np.ndarray:
    """Output held back by restart ramps in one interval (Mt per source).

    The cut is constant between events: the interval's start, each surge coming in and the
    buffer becoming full. At each event the cut is the shut-in of the state at that surge
    level once the buffer is full (0 before).
    """
    live = d > 0
    te = ep[:, None] + rt.lags[None, 1:]
    times = np.column_stack([t, te, full_at])
    inside = np.isfinite(times) & (times > t[:, None]) & (times < (t + d)[:, None])
    times = np.where(inside, times, np.inf)
    times[:, 0] = t
    times.sort(axis=1)
    held = np.zeros_like(ramps.held)
    for c in range(times.shape[1]):
        rows = np.flatnonzero(live & np.isfinite(times[:, c]))
        x, sr, ep_r = times[rows, c], s[rows], ep[rows]
        lvl = np.searchsorted(rt.lags, np.nan_to_num(x - ep_r), side="right") - 1
        lvl = np.where(blocked[rows], np.maximum(lvl, 0), 0)
        full = x >= full_at[rows] - 1e-12
        cut = np.where(full[:, None], rt.cong[sr, lvl], 0.0)
        ramps.event(rows, x, cut)
        end = times[rows, c + 1] if c + 1 < times.shape[1] else np.full(rows.size, np.inf)
        end = np.maximum(np.minimum(end, (t + d)[rows]), x)
        held[rows] += ramps.excess(rows, x, end, cut)
    return held


def _integrate(cfg: Config, fluid: FluidNetwork, iv: Intervals, rt: _Rates):
    """Lost volume and revenue per replication: one vectorised step per interval position."""
    n, k_max = iv.start.shape
    nb, barrels = _netbacks(fluid)
    price = cfg.economics.price
    feeds, fed = _source_storages(fluid)
    ramps = Ramps(cfg, n)
    room_cap = np.array([s.capacity_mt - s.initial_level_mt for s in fluid.cfg.storages])
    room = np.tile(room_cap, (n, 1))
    ep = np.full(n, np.nan)
    vol, rev = np.zeros((n, nb.size)), np.zeros(n)
    r = cfg.economics.discount_rate_per_year
    for k in range(k_max):
        s, t, d = iv.state[:, k], iv.start[:, k], iv.length[:, k]
        blocked = (d > 0) & (rt.cong[s, 0].sum(axis=1) > _EPS)
        # A zero-length interval is a passing state of simultaneous changes: it neither
        # starts nor ends a blocked spell (the engine reacts to the state it settles in).
        ep = np.where(d > 0, np.where(blocked, np.where(np.isnan(ep), t, ep), np.nan), ep)
        lost_s, cong_s = _levels(rt, s, t, d, ep, blocked)
        args = (rt, s, t, d)
        full_at = _buffer(*args, room, room_cap, blocked, cong_s, fed, credit=False)[2]
        held = _ramp_steps(ramps, *args, ep, blocked, full_at)
        # Oil a ramp holds back empties the buffers on the source's route (early in the
        # interval: they can take blocked oil again later in it).
        room = np.minimum(room_cap, room + held @ feeds)
        room, credit, _ = _buffer(*args, room, room_cap, blocked, cong_s, fed)
        lost_s += held - credit
        mid = t + d / 2
        disc = discount_factor(r, mid) if r else 1.0
        value = (
            nb
            + (mean_price(price, cfg.run.horizon_days, mid) - price.brent_usd_per_bbl)[:, None]
            * barrels
        )
        vol += lost_s
        rev += (lost_s * value).sum(axis=1) * 1e6 * disc
    return vol, rev


def screen(cfg: Config, replications: int = 10_000, seed: int | None = None) -> ScreenResult:
    """APPROXIMATE screening of ``cfg``: volume and revenue lost over many replications.

    Not the discrete-event simulation: a fluid network without tankers at the mean price (see
    the module's docstring for every approximation). Use it to rank options or size a study;
    confirm numbers that matter with :func:`sim.run`.

    Parameters
    ----------
    cfg:
        A validated config.
    replications:
        Replications drawn at once.
    seed:
        Root seed (default ``cfg.run.seed``); parameter sets are drawn as the engine does.

    Returns
    -------
    ScreenResult
        Volume lost (Mt), revenue lost (USD, discounted) and availability per replication.
    """
    seed = int(cfg.run.seed if seed is None else seed)
    fluid = FluidNetwork(cfg)
    slots = slot_map(fluid.net)
    drawer = EventDrawer(cfg, replications, seed, slots)
    pieces = draw_pieces(fluid.cfg, drawer, slots)
    iv = build_intervals(fluid.cfg, fluid.net, slots, pieces, replications, drawer.rng)
    rt = _rates(fluid, iv)
    vol, rev = _integrate(cfg, fluid, iv, rt)
    potential = np.full(replications, fluid.source_rate.sum() * cfg.run.horizon_days)
    return ScreenResult(
        vol.sum(axis=1),
        rev,
        potential,
        iv.link_factor.shape[0],
        fluid.n_solves,
        dict(zip(fluid.net.source_ids, vol.T)),
    )
