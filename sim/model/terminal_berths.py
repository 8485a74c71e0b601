"""Which berths of a terminal are in service: per-berth outages and ``berths_lost`` holds.

Two kinds of event take a terminal's berths (SPMs) out of service:

* a **per-berth outage** (a ``per_berth`` hazard) hits one named berth; outages of the same berth
  nest (the berth is out while any of them lasts);
* a **hold** (a ``berths_lost: k`` event, hazard or scripted) is a demand: "this event keeps k
  berths out". It claims up to k berths in service when it starts and, while it lasts with
  fewer than k, claims each berth that comes back into service (returns from a per-berth outage
  or is let go by another hold), oldest hold first.

A berth is in service when no per-berth outage is on it and no hold claims it, so the berths out
of service are the union of the two. Claims are sticky: a per-berth outage on a claimed berth
does not move the claim (the berth was out anyway). With holds alone, the berths in service are
``max(0, berths - sum of the active demands)`` whatever the order of events at one instant.
"""

from __future__ import annotations


class TerminalBerths:
    """Per-berth outages and hold claims of one terminal.

    Parameters
    ----------
    berths:
        Number of berths of the terminal.
    """

    __slots__ = ("down", "holder", "holds", "n_up", "_next")

    def __init__(self, berths: int) -> None:
        self.down = [0] * berths
        """Per-berth outages in force on each berth."""
        self.holder = [-1] * berths
        """Handle of the hold claiming each berth (-1: none)."""
        self.holds: dict[int, tuple[int, list[int]]] = {}
        """Active holds in start order: handle -> (demand, berths claimed, in claim order)."""
        self.n_up = berths
        """Berths in service."""
        self._next = 0

    def up(self) -> list[int]:
        """Return the berths in service, in index order."""
        holder = self.holder
        return [b for b, d in enumerate(self.down) if d == 0 and holder[b] < 0]

    def outage(self, berth: int, delta: int) -> None:
        """Start (``delta=+1``) or end (``delta=-1``) a per-berth outage of ``berth``."""
        down = self.down
        was = down[berth]
        down[berth] = was + delta
        if self.holder[berth] >= 0:
            return
        if was == 0 and delta > 0:
            self.n_up -= 1
        elif down[berth] == 0:
            self.n_up += 1
            self._offer(berth)

    def open(self, demand: int) -> int:
        """Start a hold of ``demand`` berths that claims nothing yet; return its handle."""
        handle = self._next
        self._next += 1
        self.holds[handle] = (demand, [])
        return handle

    def claim(self, handle: int, berth: int) -> None:
        """Let hold ``handle`` claim ``berth``, which must be in service."""
        if self.down[berth] or self.holder[berth] >= 0:
            raise ValueError(f"berth {berth} is not in service")
        self.holder[berth] = handle
        self.holds[handle][1].append(berth)
        self.n_up -= 1

    def close(self, handle: int) -> list[int]:
        """End hold ``handle`` (it claims nothing more) and return the berths it held.

        They stay out of service until each is given back with :meth:`free`.
        """
        return self.holds.pop(handle)[1]

    def free(self, berth: int) -> None:
        """Give back a berth of a closed hold; a hold short of its demand may claim it at once."""
        self.holder[berth] = -1
        if self.down[berth] == 0:
            self.n_up += 1
            self._offer(berth)

    def _offer(self, berth: int) -> None:
        """Give a berth that came back into service to the oldest hold short of its demand."""
        for handle, (demand, got) in self.holds.items():
            if len(got) < demand:
                self.claim(handle, berth)
                return
