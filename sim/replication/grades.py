"""Crude grades in the accounting: how many barrels the oil sold, or held, is.

Sources may declare their grade (``sources[].bbl_per_t``); a blend market sells every grade as
its own stream (``markets[].blend``). A leg that pools routes of several grades (through a
shared storage) sells, in each price step, the mix that entered those routes' first legs in that
step, and oil held at the horizon is valued at the run's mix. Without declared grades nothing
here is used and each market's ``bbl_per_t`` applies.
"""

from __future__ import annotations

import numpy as np

from sim.model.network import Network
from sim.replication.breakpoints import RawRun

__all__ = ["held_grades", "sold_barrels"]


def held_grades(net: Network, raw: RawRun) -> tuple[float, ...] | None:
    """Barrels per tonne of the oil on each leg over the whole run (``None`` without grades).

    A leg pooling several routes carries the mix that entered their first legs over the run
    (equal weights when nothing entered): the grade oil held in a storage at the horizon is
    valued at.
    """
    if not net.graded:
        return None

    def make() -> tuple[float, ...]:
        totals = raw.total("segment_flow")
        grades = list(net.leg_grade)
        for leg, members in net.grade_mix:
            weights = np.array([totals[first] * share for first, share, _ in members])
            if weights.sum() <= 0:
                weights = np.ones(len(members))
            grades[leg] = float(weights @ np.array([g for _, _, g in members]) / weights.sum())
        return tuple(grades)

    return raw.cached("held_grades", make)


def sold_barrels(net: Network, legs: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Barrels sold per step and market: each leg's tonnes times the grade of its oil.

    A leg pooling several routes sells the mix that entered their first legs in the same
    step (over the whole run when nothing entered in that step; equal weights when nothing
    entered at all); a leg of one route sells that route's grade.
    """
    out = np.zeros(shape)
    totals = legs.sum(axis=0)
    for leg, members in net.grade_mix:
        market = net.segments[leg].end_market
        grades = np.array([g for _, _, g in members])
        if len(members) == 1 or np.all(grades == grades[0]):
            out[:, market] += legs[:, leg] * grades[0]
            continue
        weights = np.stack([legs[:, first] * share for first, share, _ in members], axis=1)
        overall = np.array([totals[first] * share for first, share, _ in members])
        if overall.sum() <= 0:
            overall = np.ones(len(members))
        entered = weights.sum(axis=1)
        weights[entered <= 0] = overall
        mix = weights @ grades / weights.sum(axis=1)
        out[:, market] += legs[:, leg] * mix
    return out
