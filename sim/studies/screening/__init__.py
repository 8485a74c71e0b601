"""APPROXIMATE vectorised screening: volume and revenue lost without the DES's detail.

``screen(cfg, 10_000)`` draws every replication's hazard events at once with NumPy, solves the
engine's routing LP once per distinct capacity state of a fluid network (shuttles as
pipelines), and integrates lost production over all replications together. It is fast and
approximate; :func:`check_against_des` measures its bias against the discrete-event simulation
(see docs/how-to/screen.md).
"""

from sim.studies.screening.check import check_against_des
from sim.studies.screening.core import screen
from sim.studies.screening.result import APPROX_HEADER, Bias, Check, ScreenResult, format_table

__all__ = [
    "APPROX_HEADER",
    "Bias",
    "Check",
    "ScreenResult",
    "check_against_des",
    "format_table",
    "screen",
]
