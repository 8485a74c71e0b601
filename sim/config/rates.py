"""The arrival rate of a hazard: the one formula the model, the budget and the studies share.

A Poisson hazard's rate at time t is ``rate_per_year`` x the multiplier of t's calendar month
x the multiplier of the current regime (:class:`~sim.config.models.PoissonArrivals`). Each
copy of a hazard (one per berth of a terminal with ``per_berth``) runs at that rate. A renewal
hazard fails once per up-time, so its mean rate is one event per mean up-time.
"""

from __future__ import annotations

from sim.base.units import DAYS_PER_YEAR
from sim.config.models import Config, Hazard, PoissonArrivals


def _base_per_day(arr: PoissonArrivals, rate_per_year: float | None) -> float:
    return (arr.rate_per_year if rate_per_year is None else rate_per_year) / DAYS_PER_YEAR


def rate_per_day(hz: Hazard, month: int, regime: str, rate_per_year: float | None = None) -> float:
    """Events per day of one copy of a Poisson hazard at a given month and regime.

    Parameters
    ----------
    hz:
        A hazard with Poisson arrivals.
    month:
        Calendar month, 0 (January) to 11.
    regime:
        The current regime state (ignored without ``regime_multipliers``).
    rate_per_year:
        Base rate to use instead of the config's ``rate_per_year`` (a parameter set's draw).
    """
    arr = hz.arrivals
    assert isinstance(arr, PoissonArrivals)
    season = arr.monthly_multipliers
    mults = hz.regime_multipliers or {}
    rate = _base_per_day(arr, rate_per_year)
    if season:
        rate *= season[month]
    if mults:
        rate *= mults.get(regime, 1.0)
    return rate


def peak_rate_per_day(hz: Hazard, rate_per_year: float | None = None) -> float:
    """Largest events per day one copy of a Poisson hazard can reach.

    That is the base rate x the largest monthly multiplier x the largest regime multiplier:
    the bound of the thinning in :mod:`sim.model.hazards` and of the event budget.

    Parameters
    ----------
    hz:
        A hazard with Poisson arrivals.
    rate_per_year:
        Base rate to use instead of the config's ``rate_per_year`` (a parameter set's draw).
    """
    arr = hz.arrivals
    assert isinstance(arr, PoissonArrivals)
    base = _base_per_day(arr, rate_per_year)
    season = arr.monthly_multipliers
    mults = hz.regime_multipliers or {}
    return base * (max(season) if season else 1.0) * (max(mults.values()) if mults else 1.0)


def mean_events_per_year(hz: Hazard) -> float:
    """Mean events per year of one copy of a hazard, before its effect probability.

    Poisson: ``rate_per_year`` x the mean monthly multiplier (regime multipliers are not
    weighted in); renewal: one event per mean up-time.
    """
    arr = hz.arrivals
    if isinstance(arr, PoissonArrivals):
        season = arr.monthly_multipliers
        return arr.rate_per_year * (sum(season) / 12 if season else 1.0)
    return DAYS_PER_YEAR / max(arr.uptime.mean(), 1e-9)


def copies_on(cfg: Config, hz: Hazard, asset: str) -> int:
    """Return the copies of ``hz`` hitting ``asset``: its berths if ``per_berth``, else one."""
    if not hz.per_berth:
        return 1
    return next((t.berths for t in cfg.terminals if t.id == asset), 1)


def events_per_year(cfg: Config, hz: Hazard, asset: str) -> float:
    """Mean events per year of ``hz`` that take effect on ``asset`` (all its copies)."""
    return mean_events_per_year(hz) * copies_on(cfg, hz, asset) * hz.effect.probability


__all__ = [
    "copies_on",
    "events_per_year",
    "mean_events_per_year",
    "peak_rate_per_day",
    "rate_per_day",
]
