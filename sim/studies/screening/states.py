"""Events to piecewise-constant capacity states, for all replications at once.

APPROXIMATE. Each event becomes additive pieces on *slots*: the log capacity factor of a
link or a source (effects multiply, as in the engine) and the berths down of a terminal. A
source's ramp-up after its own outage becomes further pieces (the engine's steps). Sorting
every piece boundary of every replication and summing the pieces gives, per replication, the
intervals between boundaries and the state in each. Factors are rounded to 1/``QUANT`` so
that the distinct states are few enough to solve the routing LP once per state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.config.models import Config
from sim.model.network import Network
from sim.studies.screening.draws import (
    LOG_FLOOR,
    EventDrawer,
    Pieces,
    sample_duration,
    sample_fraction,
)

QUANT = 20
"""Capacity factors are rounded to multiples of 1/QUANT (terminal shares too)."""


def slot_map(net: Network) -> dict[tuple, int]:
    """Slot of each (kind, asset id[, berth]).

    Link and source log factors, then per terminal its berths held by demands and one slot per
    named berth (a named berth is down once, however many events name it).
    """
    slots: dict[tuple, int] = {}
    for i, a in enumerate(net.link_ids):
        slots[("link", a)] = i
    for i, s in enumerate(net.source_ids):
        slots[("source", s)] = len(net.link_ids) + i
    for t in net.cfg.terminals:
        slots[("berths", t.id)] = len(slots)
        for b in range(t.berths):
            slots[("specific", t.id, b)] = len(slots)
    return slots


def _effect(cfg: Config, pieces: Pieces, slots, asset, rep, t0, t1, frac, berth) -> None:
    """Add the pieces of events hitting one asset.

    ``berth`` is a demand for berths, or ``("own", b)`` for berth ``b`` (a per-berth hazard).
    """
    kind = cfg.asset_ids().get(asset)
    if kind == "terminal" and isinstance(berth, tuple):
        pieces.add(rep, t0, t1, slots[("specific", asset, berth[1])], 1.0)
    elif kind == "terminal" and berth is not None:
        pieces.add(rep, t0, t1, slots[("berths", asset)], float(berth))
    elif kind in ("pipeline", "terminal", "shuttle"):
        pieces.add(rep, t0, t1, slots[("link", asset)], np.log(np.maximum(1 - frac, LOG_FLOOR)))
    elif kind == "source":
        src = next(s for s in cfg.sources if s.id == asset)
        slot = slots[("source", asset)]
        pieces.add(rep, t0, t1, slot, np.log(np.maximum(1 - frac, LOG_FLOOR)))
        steps, ramp = src.ramp_steps, src.ramp_up_days
        if ramp > 0 and steps > 1:
            for k in range(1, steps):
                a = t1 + (k - 1) * ramp / steps
                lost = frac * (steps - k) / steps
                pieces.add(rep, a, a + ramp / steps, slot, np.log(np.maximum(1 - lost, LOG_FLOOR)))


def _asset_slots(cfg: Config, slots, assets: list[str]) -> list[int]:
    """Slots whose pieces impair any of ``assets`` (links, sources, terminal berths)."""
    out = []
    for a in assets:
        out += [i for key, i in slots.items() if key[1] == a]
    return out


def _defer_exclusive(pieces: Pieces, drawer: EventDrawer, hz, slots, rep, t) -> np.ndarray:
    """Start each planned, exclusive outage only while its assets are unimpaired.

    As the engine: an outage that would start while another holds one of its assets waits
    ``retry_days`` and tries again (also re-checking its months). Impairments are the pieces
    in ``pieces``.
    """
    p_rep, p_start, p_end, p_slot, _ = pieces.arrays()
    sel = np.isin(p_slot, _asset_slots(drawer.cfg, slots, hz.assets))
    sel &= np.isfinite(p_start) & (p_end > p_start)  # outages that never start hold nothing
    if not sel.any():
        return drawer.planned_start(hz, t)
    span = 1e7
    b_rep = np.concatenate([p_rep[sel], p_rep[sel]])
    b_t = np.concatenate([p_start[sel], p_end[sel]])
    keys = b_rep * span + b_t
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    count = np.cumsum(np.concatenate([np.ones(sel.sum()), -np.ones(sel.sum())])[order])
    free = np.where(count <= 0.5, np.arange(count.size), count.size)
    nxt = np.minimum.accumulate(free[::-1])[::-1]
    b_t = b_t[order]
    retry = hz.planning.retry_days
    t = t.copy()
    todo = np.arange(t.size)
    for _ in range(50):
        t[todo] = drawer.planned_start(hz, t[todo])
        idx = np.searchsorted(keys, rep[todo] * span + t[todo], side="right") - 1
        at = np.maximum(idx, 0)
        busy = (idx >= 0) & (count[at] > 0.5) & ((keys[at] // span) == rep[todo])
        if not busy.any():
            break
        todo, idx = todo[busy], idx[busy]
        wait = b_t[nxt[idx]] - t[todo]
        t[todo] += np.ceil(np.maximum(wait, 1e-9) / retry) * retry
    return t


def _timeline(rep, start, end, value):
    """Sorted boundary keys, the level after each and the next boundary where it is 0."""
    span = 1e7
    b_rep = np.concatenate([rep, rep])
    b_t = np.concatenate([start, end])
    order = np.lexsort((b_t, b_rep))
    keys = (b_rep * span + b_t)[order]
    level = np.cumsum(np.concatenate([value, -value])[order])
    free = np.where(level <= 0.5, np.arange(level.size), level.size - 1)
    nxt = np.minimum.accumulate(free[::-1])[::-1]
    return keys, level, b_t[order][nxt], span


def _absorb_held(cfg: Config, pieces: Pieces, slots, rng) -> None:
    """Let a named berth that another event already holds take no extra berth (as the engine).

    A per-berth outage starting while demands hold ``h`` of ``B`` berths hits a held berth
    with probability ``h / B``; it then counts only once the holds are over.
    """
    rep, start, end, slot, value = pieces.arrays()
    for term in cfg.terminals:
        own = np.isin(slot, _specific(slots, term.id))
        held = slot == slots[("berths", term.id)]
        if not own.any() or not held.any():
            continue
        keys, level, zero_at, span = _timeline(rep[held], start[held], end[held], value[held])
        i = np.searchsorted(keys, rep[own] * span + start[own], side="right") - 1
        ok = (i >= 0) & ((keys[np.maximum(i, 0)] // span) == rep[own])
        h = np.where(ok, np.minimum(level[np.maximum(i, 0)], term.berths), 0.0)
        hit = rng.random(h.size) * term.berths < h
        idx = np.flatnonzero(own)[hit]
        start[idx] = np.minimum(zero_at[i[hit]], end[idx])
    pieces.rep, pieces.start, pieces.end = [rep], [start], [end]
    pieces.slot, pieces.value = [slot], [value]


@dataclass
class _Planned:
    """The effective events of one copy of a planned, exclusive hazard, before placing."""

    hz: Any
    berth: Any
    rep: np.ndarray
    arrival: np.ndarray
    dur: np.ndarray
    frac: np.ndarray


def _add_planned(cfg: Config, pieces: Pieces, slots, terms, p: _Planned, sel, start) -> None:
    for asset in p.hz.assets:
        b = p.berth if asset in terms else None
        r, t0 = p.rep[sel], start[sel]
        _effect(cfg, pieces, slots, asset, r, t0, t0 + p.dur[sel], p.frac[sel], b)


def _place_exclusive(cfg: Config, pieces: Pieces, drawer: EventDrawer, slots, planned) -> None:
    """Start the planned, exclusive outages in time order, as the engine does.

    Each waits (``retry_days`` at a time) while any outage that started before it, exclusive
    or not, holds one of its assets; so no exclusive outage starts during another. Outages are
    placed in the order of their starts (rank within a replication), which is found again
    until it no longer changes.
    """
    if not planned:
        return
    terms = {t.id: t.berths for t in cfg.terminals}
    group = np.concatenate([np.full(p.rep.size, k) for k, p in enumerate(planned)])
    rep = np.concatenate([p.rep for p in planned])
    arrival = np.concatenate([p.arrival for p in planned])
    start = np.concatenate([drawer.planned_start(p.hz, p.arrival) for p in planned])
    offset = np.cumsum([0] + [p.rep.size for p in planned])
    p_rep, p_start, p_end, p_slot, p_value = pieces.arrays()
    keep = np.isin(p_slot, _asset_slots(cfg, slots, [a for p in planned for a in p.hz.assets]))
    keep &= np.isfinite(p_start) & (p_end > p_start)
    base = [[x[keep]] for x in (p_rep, p_start, p_end, p_slot, p_value)]
    for _ in range(10):
        order = np.lexsort((start, rep))
        first = np.searchsorted(rep[order], rep[order], side="left")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size) - first
        placed = start.copy()
        for r in range(int(rank.max(initial=-1)) + 1):
            trial = Pieces(*(list(x) for x in base))
            for k, p in enumerate(planned):
                sel = rank[offset[k] : offset[k + 1]] < r
                _add_planned(cfg, trial, slots, terms, p, sel, placed[offset[k] : offset[k + 1]])
            for k, p in enumerate(planned):
                now = np.flatnonzero((rank == r) & (group == k))
                if now.size:
                    placed[now] = _defer_exclusive(
                        trial, drawer, p.hz, slots, rep[now], arrival[now].copy()
                    )
        done = np.allclose(placed, start)
        start = placed
        if done:
            break
    for k, p in enumerate(planned):
        sel = np.ones(p.rep.size, dtype=bool)
        _add_planned(cfg, pieces, slots, terms, p, sel, start[offset[k] : offset[k + 1]])


def draw_pieces(cfg: Config, drawer: EventDrawer, slots) -> Pieces:
    """Draw every enabled hazard's events and turn them into pieces.

    Planned exclusive hazards come last: their outages are placed in time order once every
    other outage is known (see :func:`_place_exclusive`).
    """
    pieces = Pieces([], [], [], [], [])
    rng = drawer.rng
    terms = {t.id: t.berths for t in cfg.terminals}
    hazards = [(n, h) for n, h in cfg.hazards.items() if h.enabled]
    hazards.sort(key=lambda nh: bool(nh[1].planning and nh[1].planning.exclusive))
    planned: list[_Planned] = []
    for name, hz in hazards:
        copies = terms.get(hz.assets[0], 1) if hz.per_berth else 1
        for copy in range(copies):
            rep, t = drawer.arrivals(name, hz)
            n = rep.size
            dur = sample_duration(hz.duration, rng, n)
            effective = rng.random(n) < hz.effect.probability
            frac = sample_fraction(hz.effect.capacity_lost, rng, n)
            rep, t, dur, frac = rep[effective], t[effective], dur[effective], frac[effective]
            berth = ("own", copy) if hz.per_berth else hz.effect.berths_lost
            if hz.planning is not None and hz.planning.exclusive:
                planned.append(_Planned(hz, berth, rep, t, dur, frac))
                continue
            t = drawer.planned_start(hz, t)
            for asset in hz.assets:
                b = berth if asset in terms else None
                _effect(cfg, pieces, slots, asset, rep, t, t + dur, frac, b)
    _place_exclusive(cfg, pieces, drawer, slots, planned)
    _absorb_held(cfg, pieces, slots, rng)
    return pieces


@dataclass
class Intervals:
    """Per replication, intervals of constant state (padded to the longest replication)."""

    start: np.ndarray
    """(n_rep, K) start day of each interval (horizon for padding)."""
    length: np.ndarray
    """(n_rep, K) days (0 for padding)."""
    state: np.ndarray
    """(n_rep, K) index into :attr:`link_factor` / :attr:`source_factor`."""
    link_factor: np.ndarray
    """(n_state, n_link) capacity factor of each distinct state."""
    source_factor: np.ndarray
    """(n_state, n_source) availability factor of each distinct state."""


def _terminal_factors(cfg: Config, berths_down: np.ndarray, rep: np.ndarray, rng) -> np.ndarray:
    """Capacity share of each terminal given its berths down (rows sorted by replication).

    As the engine (:mod:`sim.model.capacity`): a share that is a distribution is drawn when
    the count of berths up changes to that count and kept while it stays there.
    """
    out = np.ones_like(berths_down, dtype=float)
    first = np.append(True, rep[1:] != rep[:-1])
    rows = np.arange(rep.size)
    for j, term in enumerate(cfg.terminals):
        up = np.clip(term.berths - np.rint(berths_down[:, j]).astype(int), 0, term.berths)
        new = first | np.append(True, up[1:] != up[:-1])
        drawn = np.ones(rep.size)
        for u in np.unique(up[new]):
            sel = new & (up == u)
            drawn[sel] = sample_fraction(term.share(int(u)), rng, int(sel.sum()))
        out[:, j] = drawn[np.maximum.accumulate(np.where(new, rows, 0))]
    return out


def _specific(slots, term: str) -> list[int]:
    """Slots of a terminal's named berths."""
    return [i for key, i in slots.items() if key[0] == "specific" and key[1] == term]


def build_intervals(cfg: Config, net: Network, slots, pieces: Pieces, n: int, rng) -> Intervals:
    """Turn pieces into intervals of constant, rounded state for ``n`` replications."""
    horizon = float(cfg.run.horizon_days)
    rep, start, end, slot, value = pieces.arrays()
    start, end = np.clip(start, 0, horizon), np.clip(end, 0, horizon)
    live = end > start
    rep, start, end, slot, value = rep[live], start[live], end[live], slot[live], value[live]
    n_slot = len(slots)
    b_rep = np.concatenate([np.arange(n), rep, rep]).astype(np.int64)
    b_t = np.concatenate([np.zeros(n), start, end])
    b_slot = np.concatenate([np.zeros(n, dtype=np.int64), slot, slot])
    b_val = np.concatenate([np.zeros(n), value, -value])
    order = np.lexsort((b_t, b_rep))
    b_rep, b_t, b_slot, b_val = b_rep[order], b_t[order], b_slot[order], b_val[order]
    delta = np.zeros((b_rep.size, n_slot))
    delta[np.arange(b_rep.size), b_slot] = b_val
    level = np.cumsum(delta, axis=0)
    nxt_t = np.append(b_t[1:], horizon)
    last = np.append(b_rep[1:] != b_rep[:-1], True)
    nxt_t[last] = horizon
    length = nxt_t - b_t
    n_link, n_src = len(net.link_ids), len(net.source_ids)
    link_f = np.exp(np.minimum(level[:, :n_link], 0.0))
    src_f = np.exp(np.minimum(level[:, n_link : n_link + n_src], 0.0))
    berths = (
        np.column_stack(
            [
                level[:, slots[("berths", t.id)]]
                + (level[:, _specific(slots, t.id)] > 0.5).sum(axis=1)
                for t in cfg.terminals
            ]
        )
        if cfg.terminals
        else np.zeros((level.shape[0], 0))
    )
    term_f = _terminal_factors(cfg, berths, b_rep, rng)
    for j, term in enumerate(cfg.terminals):
        link_f[:, net.link_ids.index(term.id)] *= term_f[:, j]
    key = np.rint(np.hstack([link_f, src_f]) * QUANT).astype(np.int16)
    rows = np.ascontiguousarray(key).view(np.dtype((np.void, key.shape[1] * key.itemsize)))
    _, first, inverse = np.unique(rows.reshape(-1), return_index=True, return_inverse=True)
    uniq = key[first].astype(float)
    inverse = inverse.reshape(-1)
    return _pad(b_rep, b_t, length, inverse, uniq / QUANT, n, n_link, horizon)


def _pad(b_rep, b_t, length, inverse, uniq, n, n_link, horizon) -> Intervals:
    counts = np.bincount(b_rep, minlength=n)
    k_max = int(counts.max())
    pos = np.arange(b_rep.size) - np.repeat(np.cumsum(counts) - counts, counts)
    start = np.full((n, k_max), horizon)
    span = np.zeros((n, k_max))
    state = np.zeros((n, k_max), dtype=np.int64)
    base = int(np.flatnonzero((uniq == 1.0).all(axis=1))[0]) if (uniq == 1.0).all(1).any() else 0
    state[:] = base
    start[b_rep, pos] = b_t
    span[b_rep, pos] = length
    state[b_rep, pos] = inverse
    return Intervals(start, span, state, uniq[:, :n_link], uniq[:, n_link:])
