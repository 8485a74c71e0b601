"""Screening: an APPROXIMATE, vectorised Monte Carlo of volume and revenue lost.

:func:`screen` draws the events of every replication at once (:mod:`.draws`), turns them
into intervals of constant capacity state (:mod:`.states`), solves the engine's routing LP
once per distinct state (:mod:`.fluid`) and integrates lost production over time with one
NumPy pass per interval position (all replications together). It has no tankers, no price
path and no twin run. Approximations beyond those of the modules it uses:

* **Storage buffers**: each storage is one buffer of its free room (capacity less its
  initial level). While oil that could flow into it has no way out, it takes that oil until
  full; it empties at the spare capacity of the legs out of it while nothing is blocked.
* **Surges** start after their lag (plus the mean of their ramp) from the start of a blocked
  spell and stop with it; all surges of a config are granted together.
* **Restart ramps**: when a source's congestion cut eases (at the end of a blocked spell, or
  as the first surge comes in), its lost output ``cut x restart_ramp_days x (steps + 1) /
  (2 steps)`` is added (the engine's steps); an easing while a ramp is under way adds only
  what that ramp has left, as in the engine.
* **Scripted events** are left out (hazards only).
* **Revenue lost** = each source's lost tonnes x the netback of its best route used in the
  undisrupted state (``(brent + differential) x bbl/t - tariffs``) at the config's fixed
  ``brent_usd_per_bbl``, discounted at each interval's midpoint. A stochastic price path is
  replaced by its starting price, and rerouted oil's lower netback is not charged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.base.discount import discount_factor
from sim.config.models import Config
from sim.studies.screening.draws import EventDrawer
from sim.studies.screening.fluid import FluidNetwork
from sim.studies.screening.states import Intervals, build_intervals, draw_pieces, slot_map

APPROX_HEADER = "APPROXIMATE screening (fluid network, no tankers, fixed price): not the DES"
_EPS = 1e-12


@dataclass
class ScreenResult:
    """Per-replication results of :func:`screen` (approximate)."""

    volume_lost_mt: np.ndarray
    revenue_lost_usd: np.ndarray
    potential_mt: np.ndarray
    n_states: int
    n_lp_solves: int
    volume_lost_by_source: dict[str, np.ndarray]
    """Source id -> volume lost (Mt) per replication."""

    @property
    def availability(self) -> np.ndarray:
        """Share of potential production exported (1 - volume lost / potential)."""
        return 1.0 - self.volume_lost_mt / self.potential_mt


@dataclass
class _Rates:
    """Per state and surge level: lost rate per source, blocked rate, storage rates."""

    lost: np.ndarray  # (n_state, n_level, n_src) Mt/day lost (field + congestion)
    cong: np.ndarray  # (n_state, n_level, n_src) congestion shut-in only
    buf: np.ndarray  # (n_state, n_storage) storage intake possible while room
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
    drain = np.repeat(base.drain, n_state, axis=0)
    todo = np.flatnonzero(~free)
    for lv in range(n_lvl):
        if todo.size == 0:
            break
        flows = fluid.solve(iv.link_factor[todo] * (nominal + extras[lv]), avail[todo], lv == 0)
        lost[todo, lv:] = (rate - flows.produced)[:, None, :]
        cong[todo, lv:] = np.maximum(avail[todo] - flows.produced, 0.0)[:, None, :]
        if lv == 0:
            buf[todo], drain[todo] = flows.bufferable, flows.drain
            todo = todo[cong[todo, 0].sum(axis=1) > _EPS]
    return _Rates(lost, cong, buf, drain, lags)


def _netbacks(fluid: FluidNetwork) -> np.ndarray:
    """USD/t of each source: the best netback among its routes used undisturbed."""
    net, cfg = fluid.net, fluid.cfg
    brent = cfg.economics.price.brent_usd_per_bbl
    tariff = {p.id: p.tariff_usd_per_t for p in cfg.pipelines}
    sol = fluid.solver.solve(tuple(net.link_cap), tuple(net.source_rate), fluid._junction)
    best = np.zeros(len(net.source_ids))
    for r, grade in zip(net.routes, net.route_grade):
        m = cfg.markets[r.market]
        nb = (brent + m.price_differential_usd_per_bbl) * grade
        nb -= sum(tariff.get(net.link_ids[j], 0.0) for j in r.links)
        used = sol.segment_flow[r.segments[0]] > _EPS
        if used and (best[r.source] == 0 or nb > best[r.source]):
            best[r.source] = nb
    return best


def _overlap(a: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.clip(np.minimum(b, hi) - np.maximum(a, lo), 0.0, None)


class _Ramp:
    """Restart ramps as the engine runs them.

    A ramp lifts the cap of a cut source in steps; an easing while a ramp is under way does
    not start a new one (it gets what that ramp has left).
    """

    def __init__(self, cfg: Config, n: int) -> None:
        self.days = np.array([s.restart_ramp_days for s in cfg.sources])
        self.steps = np.array([s.ramp_steps for s in cfg.sources], dtype=float)
        self.clock = np.full((n, self.days.size), np.nan)

    def left(self, e: np.ndarray) -> np.ndarray:
        """Shortfall-days left of a ramp of unit cut ``e`` days after it started."""
        r, m = self.days, self.steps
        e = np.clip(e, 0.0, r)
        j = np.minimum(np.floor(e * m / np.maximum(r, _EPS)), m - 1)
        in_step = ((j + 1) * r / m - e) * (1 - j / m)
        later = (m - 1 - j) - ((m - 1) * m / 2 - j * (j + 1) / 2) / m
        return np.where(r > 0, in_step + r / m * later, 0.0)

    def lost(self, eased: np.ndarray, x: np.ndarray, cut: np.ndarray | None = None) -> np.ndarray:
        """Volume lost to ramps after cuts ease by ``eased`` (Mt/day) at days ``x``.

        With ``cut``, every source still cut (``cut > 0``) where some cut eases starts a ramp
        too (the engine's routing then moves every cut source's oil).
        """
        hit = eased > _EPS
        if cut is not None:
            hit |= hit.any(axis=1, keepdims=True) & (cut > _EPS)
        since = x[:, None] - self.clock
        running = hit & (since < self.days)
        new = hit & ~running
        self.clock = np.where(new, x[:, None], self.clock)
        done = self.left(np.nan_to_num(since))
        return eased * np.where(running, done, self.left(np.zeros_like(since)))


def _integrate(cfg: Config, fluid: FluidNetwork, iv: Intervals, rt: _Rates):
    """Lost volume and revenue per replication: one vectorised step per interval position."""
    n, k_max = iv.start.shape
    nb = _netbacks(fluid)
    ramp = _Ramp(cfg, n)
    room_cap = np.array([s.capacity_mt - s.initial_level_mt for s in fluid.cfg.storages])
    room = np.tile(room_cap, (n, 1))
    ep = np.full(n, np.nan)
    prev_cong = np.zeros((n, nb.size))
    vol, rev = np.zeros((n, nb.size)), np.zeros(n)
    r = cfg.economics.discount_rate_per_year
    edges = np.append(rt.lags, np.inf)
    for k in range(k_max):
        s, t, d = iv.state[:, k], iv.start[:, k], iv.length[:, k]
        live = d > 0
        blocked = live & (rt.cong[s, 0].sum(axis=1) > _EPS)
        ep = np.where(blocked, np.where(np.isnan(ep), t, ep), np.nan)
        lost_s = np.zeros((n, nb.size))
        cong_s = np.zeros((n, nb.size))
        end_lvl = np.zeros(n, dtype=np.int64)
        for lv in range(len(rt.lags)):
            lo = np.where(blocked, ep + edges[lv], -np.inf if lv == 0 else np.inf)
            hi = np.where(blocked, ep + edges[lv + 1], np.inf if lv == 0 else -np.inf)
            w = _overlap(t, t + d, lo, hi)
            lost_s += w[:, None] * rt.lost[s, lv]
            cong_s += w[:, None] * rt.cong[s, lv]
            end_lvl = np.where(blocked & (t + d > lo), lv, end_lvl)
        cong_now = rt.cong[s, end_lvl]
        blocked_mt = cong_s.sum(axis=1)
        take_k = np.where(blocked[:, None], np.minimum(room, rt.buf[s] * d[:, None]), 0.0)
        total = take_k.sum(axis=1)
        scale = np.minimum(1.0, blocked_mt / np.maximum(total, _EPS))
        take_k *= scale[:, None]
        take = total * scale
        refill = np.minimum(room_cap, room + rt.drain[s] * d[:, None])
        room = np.where(blocked[:, None], room - take_k, refill)
        lost_s -= cong_s * (take / np.maximum(blocked_mt, _EPS))[:, None]
        # A cut eases only where oil was really shut in (the buffer was full) at the end of
        # the previous interval; a surge granted during a cut eases it too.
        eased = np.where(live[:, None], np.maximum(prev_cong - cong_now, 0), 0)
        lost_s += ramp.lost(eased, t)
        shut = blocked & (take < blocked_mt - _EPS)
        if len(rt.lags) > 1:
            te = ep + rt.lags[1]
            at = shut & (te >= t) & (te < t + d)
            gone = np.where(at[:, None], rt.cong[s, 0] - rt.cong[s, 1], 0)
            lost_s += ramp.lost(gone, te, np.where(at[:, None], rt.cong[s, 1], 0))
        prev_cong = np.where(live[:, None], np.where(shut[:, None], cong_now, 0.0), prev_cong)
        disc = discount_factor(r, t + d / 2) if r else 1.0
        vol += lost_s
        rev += (lost_s * nb).sum(axis=1) * 1e6 * disc
    return vol, rev


def screen(cfg: Config, replications: int = 10_000, seed: int | None = None) -> ScreenResult:
    """APPROXIMATE screening of ``cfg``: volume and revenue lost over many replications.

    Not the discrete-event simulation: a fluid network without tankers at a fixed price (see
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
