"""Restart ramps of the screening mode, run by the engine's rules (:mod:`sim.model.reactions`).

APPROXIMATE only in what it is given: the routing's congestion cut of each source over time
(Mt/day), piecewise constant between *events* (an interval's start, a surge coming in, a
buffer becoming full). The rules are the engine's:

* a ramp starts when a source's cut gets smaller while no ramp of that source runs; it holds
  back the whole cut of before, ``B``, and lifts it in ``ramp_steps`` equal steps over
  ``restart_ramp_days`` (step ``j`` holds back ``B (m - j) / m``);
* the room a ramp leaves goes to the other sources still cut behind the same bottleneck, so
  their cuts ease at the same instant and they ramp too: sources with the same ramp (days and
  steps) form a *pool*, and an easing in a pool starts a ramp of every source of the pool
  that is cut and not ramping;
* while ramps run, further changes of the cut start nothing: the pool produces what both the
  ramps and the routing allow, so the output lost beyond the cut is
  ``max(0, sum(held) - sum(cut))`` over the ramping sources;
* oil a ramp holds back empties the buffers on the source's route that much faster.
"""

from __future__ import annotations

import numpy as np

from sim.config.models import Config

_EPS = 1e-9
"""Mt/day; the engine's tolerance on a change of cut (:mod:`sim.model.reactions`)."""


class Ramps:
    """Restart-ramp state of ``n`` replications (one column per source).

    Parameters
    ----------
    cfg:
        The config (sources' ``restart_ramp_days`` and ``ramp_steps``).
    n:
        Replications.
    """

    def __init__(self, cfg: Config, n: int) -> None:
        self.days = np.array([s.restart_ramp_days for s in cfg.sources], dtype=float)
        self.steps = np.array([s.ramp_steps for s in cfg.sources], dtype=np.int64)
        kinds = sorted({(d, m) for d, m in zip(self.days, self.steps) if d > 0})
        self.pools = [np.flatnonzero((self.days == d) & (self.steps == m)) for d, m in kinds]
        shape = (n, self.days.size)
        self.start = np.full(shape, np.nan)
        """Day the running (or last) ramp of each source started."""
        self.held = np.zeros(shape)
        """Cut (Mt/day) the last ramp of each source started from."""
        self.ref = np.zeros(shape)
        """The cut (Mt/day) an easing is measured from (the engine's last cut seen)."""

    def event(self, rows: np.ndarray, x: np.ndarray, cut: np.ndarray) -> None:
        """Set the routing's cut of replications ``rows`` to ``cut`` (Mt/day) at days ``x``."""
        start, ref = self.start[rows], self.ref[rows]
        with np.errstate(invalid="ignore"):
            idle = ~(x[:, None] < start + self.days)
        eased = idle & (cut < ref - _EPS)
        new = np.zeros_like(eased)
        for pool in self.pools:
            hit = eased[:, pool].any(axis=1)
            new[:, pool] = hit[:, None] & idle[:, pool] & (ref[:, pool] > _EPS)
        self.start[rows] = np.where(new, x[:, None], start)
        self.held[rows] = np.where(new, ref, self.held[rows])
        self.ref[rows] = cut

    def excess(self, rows: np.ndarray, a: np.ndarray, b: np.ndarray, cut: np.ndarray):
        """Output (Mt per source) that ramps hold back beyond ``cut`` over days ``[a, b)``.

        One row per replication of ``rows``.
        """
        out = np.zeros((rows.size, self.days.size))
        start = self.start[rows]
        with np.errstate(invalid="ignore"):
            live = ((start < b[:, None]) & (start + self.days > a[:, None])).any(axis=1)
        sub = np.flatnonzero(live)
        if sub.size == 0:
            return out
        for pool in self.pools:
            out[np.ix_(sub, pool)] = self._pool_excess(
                rows[sub], pool, a[sub], b[sub], cut[np.ix_(sub, pool)]
            )
        return out

    def _pool_excess(self, rows, pool, a, b, cut) -> np.ndarray:
        """One pool's held-back output over ``[a, b)``, split by each source's excess."""
        r, m = self.days[pool[0]], int(self.steps[pool[0]])
        start = self.start[np.ix_(rows, pool)]
        held = self.held[np.ix_(rows, pool)]
        marks = (start[:, :, None] + r * np.arange(m + 1) / m).reshape(rows.size, -1)
        marks = np.clip(np.nan_to_num(marks, nan=-np.inf), a[:, None], b[:, None])
        marks = np.sort(np.column_stack([a, marks, b]), axis=1)
        w = np.diff(marks, axis=1)  # (rows, pieces)
        since = ((marks[:, 1:] + marks[:, :-1]) / 2)[:, :, None] - start[:, None, :]
        on = (since >= 0) & (since < r)
        j = np.floor(np.nan_to_num(since) * m / r)
        h = np.where(on, held[:, None, :] * (m - j) / m, 0.0)
        gap = np.where(on, h - cut[:, None, :], 0.0)
        over = np.maximum(gap, 0.0)
        total = np.maximum(gap.sum(axis=2), 0.0) * w
        share = over / np.maximum(over.sum(axis=2, keepdims=True), 1e-300)
        return (total[:, :, None] * share).sum(axis=1)
