"""Capacity effects: what outages, berths and surges leave of each link and source.

:class:`CapacityEffects` is the part of :class:`~sim.model.engine.FlowEngine` that keeps the
current capacity of every link (``link_cap``) and the available production of every source
(``source_avail``): fractions removed by outages, per-berth outages and berths held by events at
terminals (with the terminal's ``capacity_by_berths`` share, drawn when it is a distribution),
and the nominal capacity a surge raises. Each change re-routes at once (``refresh``).
"""

from __future__ import annotations

import numpy as np

from sim.config.models import Terminal
from sim.model.network import Network
from sim.model.sampling import fraction_sampler
from sim.model.streams import Streams
from sim.model.terminal_berths import TerminalBerths


class CapacityEffects:
    """Link capacities and source availability under outages (a base of the flow engine).

    The engine calls :meth:`_init_capacity` from its ``__init__`` and provides ``net``,
    ``streams`` and :meth:`refresh`.
    """

    net: Network
    streams: Streams | None

    def _init_capacity(self, net: Network) -> None:
        """Set every link and source to its full capacity, with no effect active."""
        n_link, n_src = net.n_links, len(net.source_ids)
        self._link_effects: list[dict[int, float]] = [{} for _ in range(n_link)]
        self._berths: dict[int, TerminalBerths] = {
            i: TerminalBerths(t.berths) for i, t in net.terminal_of_link.items()
        }
        self._src_effects: list[dict[int, float]] = [{} for _ in range(n_src)]
        self.link_cap = list(net.link_cap)
        self.source_avail = list(net.source_rate)
        self._cap_key = tuple(self.link_cap)
        self._avail_key = tuple(self.source_avail)
        self._next_handle = 0
        self._nominal = list(net.link_cap)
        """Capacity of each link before outages (Mt/day): its usable capacity plus any surge
        granted so far."""
        self._shares: dict[int, tuple[int, float]] = {}
        """Terminal -> (berths up, share drawn for that count) where the table has a
        distribution."""
        self._share_rngs: dict[int, np.random.Generator] = {}

    def refresh(self) -> None:
        """Re-route after a change (provided by the engine)."""
        raise NotImplementedError

    def add_effect(self, kind: str, index: int, fraction: float) -> int:
        """Remove ``fraction`` of a link's capacity or a source's production; return a handle."""
        handle = self._next_handle
        self._next_handle += 1
        (self._link_effects if kind == "link" else self._src_effects)[index][handle] = fraction
        self._recompute(kind, index)
        return handle

    def set_effect(self, kind: str, index: int, handle: int, fraction: float) -> None:
        """Change the fraction of an active effect (used by production ramp-ups)."""
        (self._link_effects if kind == "link" else self._src_effects)[index][handle] = fraction
        self._recompute(kind, index)

    def remove_effect(self, kind: str, index: int, handle: int) -> None:
        """End an effect added with :meth:`add_effect`."""
        del (self._link_effects if kind == "link" else self._src_effects)[index][handle]
        self._recompute(kind, index)

    def berths_up(self, link: int) -> list[int]:
        """Return the indices of a terminal's berths that are in service."""
        return self._berths[link].up()

    def berth_down(self, link: int, berth: int, delta: int) -> None:
        """Start (``delta=+1``) or end (``delta=-1``) a per-berth outage of one berth."""
        self._berths[link].outage(berth, delta)
        self._recompute("link", link)

    def hold_berths(self, link: int, berths: list[int], demand: int) -> int:
        """Start an event that keeps ``demand`` berths of a terminal out; return its handle.

        It claims ``berths`` (in service) at once and, while it lasts with fewer than
        ``demand``, each berth that comes back into service (see
        :mod:`sim.model.terminal_berths`).
        """
        book = self._berths[link]
        handle = book.open(demand)
        for b in berths:
            book.claim(handle, b)
            self._recompute("link", link)
        return handle

    def release_berths(self, link: int, handle: int) -> None:
        """End an event started with :meth:`hold_berths`; its berths come back one by one."""
        book = self._berths[link]
        for b in book.close(handle):
            book.free(b)
            self._recompute("link", link)

    def _recompute(self, kind: str, index: int) -> None:
        if kind == "link":
            factor = 1.0
            for f in self._link_effects[index].values():
                factor *= 1.0 - f
            term = self.net.terminal_of_link.get(index)
            if term is not None:
                factor *= self._terminal_share(index, term, self._berths[index].n_up)
            self.link_cap[index] = self._nominal[index] * factor
            self._cap_key = tuple(self.link_cap)
        else:
            factor = 1.0
            for f in self._src_effects[index].values():
                factor *= 1.0 - f
            self.source_avail[index] = self.net.source_rate[index] * factor
            self._avail_key = tuple(self.source_avail)
        self.refresh()

    def _terminal_share(self, index: int, term: Terminal, up: int) -> float:
        """Share of a terminal's capacity with ``up`` berths in service.

        A table entry that is a distribution is drawn when the count becomes ``up`` and kept
        while it stays there (stream ``("terminal", id, "share")``).
        """
        share = term.share(up)
        held = self._shares.get(index)
        if isinstance(share, (int, float)):
            if held is not None:
                del self._shares[index]
            return float(share)
        if held is not None and held[0] == up:
            return held[1]
        rng = self._share_rngs.get(index)
        if rng is None:
            if self.streams is None:
                raise RuntimeError("a terminal share distribution needs the replication's streams")
            rng = self._share_rngs[index] = self.streams.get("terminal", term.id, "share")
        drawn = fraction_sampler(share)(rng)
        self._shares[index] = (up, drawn)
        return drawn

    def nominal_capacity(self, link: int) -> float:
        """Return a link's capacity before outages (Mt/day)."""
        return self._nominal[link]

    def set_nominal(self, link: int, capacity: float) -> None:
        """Set a link's capacity before outages (Mt/day), e.g. as a surge is granted."""
        self._nominal[link] = capacity
        self._recompute("link", link)

    def impaired(self, kind: str, index: int) -> bool:
        """Return True while an outage holds part of a link (``kind="link"``) or source down."""
        if kind == "source":
            return bool(self._src_effects[index])
        if self._link_effects[index]:
            return True
        book = self._berths.get(index)
        return book is not None and book.n_up < len(book.down)
