"""Unit conventions shared by every layer.

Internally the engine measures time in **days** since the run's start date and volumes in
**million tonnes (Mt)**; rates are therefore Mt/day. Config keys carry their unit in their name
(``capacity_mt_per_year``, ``duration_days``, ``usd_per_bbl``) and are converted once, when the
network is compiled.
"""

DAYS_PER_YEAR = 365.25
"""Days in a year of horizon (Julian year), used for every per-year conversion."""

HOURS_PER_DAY = 24.0
KM_PER_NM = 1.852


def per_year_to_per_day(value_per_year: float) -> float:
    """Convert a per-year quantity (e.g. Mt/yr, events/yr) to per day."""
    return value_per_year / DAYS_PER_YEAR


def tonnes_to_mt(tonnes: float) -> float:
    """Convert tonnes to million tonnes."""
    return tonnes * 1e-6
