"""The result of the APPROXIMATE screening mode: per-replication losses, timing, DES check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from sim.studies.screening.check import Check

APPROX_HEADER = "APPROXIMATE screening (fluid network, no tankers, fixed price): not the DES"


@dataclass
class ScreenResult:
    """Per-replication results of the screening mode (approximate, not the DES).

    Everything ``corridor-sim screen`` prints or writes comes from here: :meth:`report` is
    the printed table, :meth:`table` the per-replication table of ``--out``.
    """

    volume_lost_mt: np.ndarray
    """Volume lost (Mt) per replication."""
    revenue_lost_usd: np.ndarray
    """Revenue lost (USD, discounted) per replication."""
    potential_mt: np.ndarray
    """Potential production (Mt) per replication."""
    n_states: int
    """Distinct capacity states."""
    n_lp_solves: int
    """Routing LPs solved."""
    volume_lost_by_source: dict[str, np.ndarray]
    """Source id -> volume lost (Mt) per replication."""
    seconds: float = 0.0
    """Wall time of the screen (s); 0 when not timed."""
    check: Check | None = None
    """The cross-check against the DES, when one was run."""

    @property
    def availability(self) -> np.ndarray:
        """Share of potential production exported (1 - volume lost / potential)."""
        return 1.0 - self.volume_lost_mt / self.potential_mt

    def table(self) -> pd.DataFrame:
        """Return one row per replication: volume and revenue lost and availability."""
        return pd.DataFrame(
            {
                "replication": np.arange(self.volume_lost_mt.size),
                "volume_lost_mt": self.volume_lost_mt,
                "revenue_lost_usd": self.revenue_lost_usd,
                "availability": self.availability,
            }
        )

    def report(self) -> str:
        """Return the printed table (first line: the APPROXIMATE label; bias if checked)."""
        from sim.studies.screening.check import format_table

        return format_table(self, self.seconds, self.check)
