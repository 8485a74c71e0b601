"""Where the exports a disruption blocked went, against the undisrupted twin.

Over a window, the exports of each corridor (the last link of each leg to a market) are
compared with the twin's: the shortfalls of the corridors that carried less add up exactly to
the extra exports of the others, the extra oil held in storages and on tankers and the extra
production not produced.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from sim.model.network import Network
from sim.replication.breakpoints import PointVolumes, RawRun


def corridors(net: Network) -> tuple[list[str], np.ndarray]:
    """Corridor names (the last link of each leg to a market) and a leg-to-corridor matrix."""
    names, of_leg = net.corridor_of_leg
    return list(names), _corridor_matrix(len(names), of_leg).copy()


@lru_cache(maxsize=64)
def _corridor_matrix(n_corridors: int, of_leg: tuple[int, ...]) -> np.ndarray:
    """Leg-to-corridor matrix (read-only) of legs whose corridors are ``of_leg`` (-1: none)."""
    m = np.zeros((len(of_leg), n_corridors))
    for i, j in enumerate(of_leg):
        if j >= 0:
            m[i, j] = 1.0
    m.flags.writeable = False
    return m


def offset_ledger(
    net: Network, raw: RawRun, twin: RawRun, start: np.ndarray, end: np.ndarray
) -> dict[str, np.ndarray]:
    """Where the volume blocked in each window ``[start, end]`` went, against the twin (Mt).

    ``blocked`` is the sum of export shortfalls on corridors that carried less than the twin;
    it equals exactly ``routes`` (extra exports on corridors that carried more) + ``storage``
    (extra oil held in storages and on tankers) + ``shut_in`` (extra production not produced).
    ``by_corridor`` holds the signed export change per corridor (columns). Windows lie within
    the run.
    """
    pts = np.concatenate([start, end])
    return window_ledger(net, PointVolumes(raw, pts), PointVolumes(twin, pts), len(start))


def window_ledger(
    net: Network, ours: PointVolumes, base: PointVolumes, n: int
) -> dict[str, np.ndarray]:
    """:func:`offset_ledger` of windows whose starts are the first ``n`` points, ends the rest.

    The volumes of each run at those points are given (and may be reused, as the twin's are).
    """
    names, of_leg = net.corridor_of_leg
    to_corridor = _corridor_matrix(len(names), of_leg)

    def window(p: PointVolumes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        legs = p.cached(
            "by_corridor", lambda: np.ascontiguousarray(p.of("segment_flow")) @ to_corridor
        )
        held, lost = p.held, p.shut_in
        return legs[n:] - legs[:n], held[n:] - held[:n], lost[n:] - lost[:n]

    legs_a, held_a, lost_a = window(ours)
    legs_t, held_t, lost_t = window(base)
    delta = legs_a - legs_t
    return {
        "by_corridor": delta,
        "blocked": np.maximum(-delta, 0.0).sum(axis=1),
        "routes": np.maximum(delta, 0.0).sum(axis=1),
        "storage": held_a - held_t,
        "shut_in": lost_a - lost_t,
    }
