"""The fluid network of the screening mode: the engine's routing LP, solved once per state.

APPROXIMATE. Each shuttle becomes a pipeline of its steady-state lifting capacity
(:func:`~sim.model.network.shuttle_capacity_mt_per_day`) and its freight as tariff, so the
whole network is links and storages and the engine's own routing LP
(:class:`~sim.model.solver.FlowSolver`) gives its flows. A *state* is a capacity per link and
an availability per source; for each distinct state the LP is solved with every storage as a
junction (inflow = outflow: no buffering) and with every storage allowed to fill (no stock to
draw). The difference is the inflow that storages could absorb while they have room.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.base.units import DAYS_PER_YEAR
from sim.config.loader import validate_config
from sim.config.models import Config
from sim.model.network import Network, compile_network, shuttle_capacity_mt_per_day
from sim.model.solver import EMPTY, JUNCTION, FlowSolver

_TINY = 1e-12


def fluid_config(cfg: Config) -> Config:
    """Return ``cfg`` with every shuttle replaced by a pipeline of the same id.

    The pipeline carries the shuttle's steady-state capacity and charges its freight; the
    shuttle's storages stay on the routes (they buffer like any other storage).
    """
    data = cfg.model_dump(mode="python", exclude_none=True, by_alias=True)
    pipes = list(data.get("pipelines", []))
    for sh in cfg.shuttles:
        pipes.append(
            {
                "id": sh.id,
                "capacity_mt_per_year": shuttle_capacity_mt_per_day(sh) * DAYS_PER_YEAR,
                "tariff_usd_per_t": sh.freight_usd_per_t,
                "mode": "sea",
            }
        )
    data["pipelines"] = pipes
    data["shuttles"] = []
    return validate_config(data)


@dataclass(frozen=True)
class StateFlows:
    """Flows of a batch of states (one row per state), Mt/day."""

    produced: np.ndarray
    """(n_state, n_source): production with storages as junctions."""
    bufferable: np.ndarray
    """(n_state, n_storage): inflow each storage could take while it has room."""
    intake: np.ndarray
    """(n_state,): blocked oil all storages together could take while they have room."""
    drain: np.ndarray
    """(n_state, n_storage): spare capacity out of each storage (how fast it empties)."""


class FluidNetwork:
    """The routing LP of a config's fluid network, solved per capacity state.

    Parameters
    ----------
    cfg:
        The config (shuttles are turned into pipelines, see :func:`fluid_config`).
    """

    def __init__(self, cfg: Config) -> None:
        self.cfg = fluid_config(cfg)
        self.net: Network = compile_network(self.cfg)
        self.solver = FlowSolver(self.net, self.cfg.economics.price.brent_usd_per_bbl)
        n_st = len(self.net.storage_ids)
        self._junction = tuple([JUNCTION] * n_st)
        self._fill = tuple(JUNCTION if c <= 0 else EMPTY for c in self.net.storage_cap)
        self._out_legs = [i for i, s in enumerate(self.net.segments) if s.start_storage is not None]
        self._linked = [set() for _ in range(n_st)]
        """Storages joined to each storage by a leg (either way)."""
        for seg in self.net.segments:
            a, b = seg.start_storage, seg.end_storage
            if a is not None and b is not None and a != b:
                self._linked[a].add(b)
                self._linked[b].add(a)
        self.n_solves = 0

    @property
    def link_cap(self) -> np.ndarray:
        """Nominal link capacities, Mt/day."""
        return np.asarray(self.net.link_cap, dtype=float)

    @property
    def source_rate(self) -> np.ndarray:
        """Nominal source production, Mt/day."""
        return np.asarray(self.net.source_rate, dtype=float)

    def _produced(self, sol) -> np.ndarray:
        lay = self.solver.rate_layout()
        cong = sol.rates[lay["shut_in_congestion"]]
        field = sol.rates[lay["shut_in_field"]]
        return self.source_rate - cong - field

    def solve(
        self, link_cap: np.ndarray, source_avail: np.ndarray, fill: bool = True
    ) -> StateFlows:
        """Solve the LP for each row of ``link_cap`` and ``source_avail`` (Mt/day).

        With ``fill`` False the storage-filling LP is skipped (``bufferable`` and ``drain``
        are then 0).
        """
        n = link_cap.shape[0]
        produced = np.empty((n, len(self.net.source_ids)))
        n_st = len(self.net.storage_ids)
        buf = np.zeros((n, n_st))
        intake = np.zeros(n)
        drain = np.zeros((n, n_st))
        lay = self.solver.rate_layout()
        for k in range(n):
            cap = tuple(float(x) for x in link_cap[k])
            avail = tuple(float(x) for x in source_avail[k])
            sol = self.solver.solve(cap, avail, self._junction)
            produced[k] = self._produced(sol)
            self.n_solves += 1
            if not fill:
                continue
            drain[k] = self._drain(np.asarray(cap), sol.rates[lay["link_flow"]])
            if sol.rates[lay["shut_in_congestion"]].sum() <= _TINY:
                continue
            buf[k], intake[k] = self._bufferable(cap, avail, float(produced[k].sum()))
        return StateFlows(produced, buf, intake, drain)

    def _bufferable(self, cap: tuple, avail: tuple, base: float) -> tuple[np.ndarray, float]:
        """Inflow each storage could take while it has room, and all together (Mt/day).

        The LP with every storage free to fill gives one choice of storages; when those are
        full (junctions), others on the blocked oil's paths may still take it, as the engine's
        storages in series fill one after the other (a shuttle keeps delivering into its
        destination's tanks while the oil out of them is blocked). Each storage that can take
        the blocked oil gets the rate it takes.
        """
        states = list(self._fill)
        buf = np.zeros(len(states))
        most = 0.0
        while True:
            filled = self.solver.solve(cap, avail, tuple(states))
            self.n_solves += 1
            gain = max(0.0, float(self._produced(filled).sum() - base))
            net_in = np.maximum(np.asarray(filled.storage_net), 0.0)
            if gain <= _TINY or net_in.sum() <= _TINY:
                return buf, most
            most = max(most, gain)
            taking = np.flatnonzero(net_in > _TINY)
            buf[taking] = net_in[taking] * (gain / net_in.sum())
            for j in taking:
                states[j] = JUNCTION
            nearby = set().union(*(self._linked[j] for j in taking))
            if not any(states[j] != JUNCTION for j in nearby):
                return buf, most

    def _drain(self, cap: np.ndarray, flow: np.ndarray) -> np.ndarray:
        """Spare capacity of the legs out of each storage (the tightest link of each leg)."""
        out = np.zeros(len(self.net.storage_ids))
        for i in self._out_legs:
            seg = self.net.segments[i]
            if seg.links:
                out[seg.start_storage] += max(0.0, min(float(cap[j] - flow[j]) for j in seg.links))
        return out
