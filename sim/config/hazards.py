"""Typed config models of disruptions: hazards (arrivals, effects), regimes, scripted events.

Re-exported by :mod:`sim.config.models`, whose :class:`~sim.config.models.Config` holds them.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.base.strict import Strict
from sim.config.distributions import DurationDist, FractionDist, NonNeg, Positive
from sim.config.fields import Date, Ident

__all__ = [
    "Cause",
    "Effect",
    "Hazard",
    "Planning",
    "PoissonArrivals",
    "RateUncertainty",
    "RegimeState",
    "Regimes",
    "RenewalArrivals",
    "ScriptedEvent",
]


class Cause(str, Enum):
    """Cause class of a disruption, used to group hazards and events in outputs."""

    weather = "weather"
    technical = "technical"
    maintenance = "maintenance"
    regulatory = "regulatory"
    political = "political"
    military = "military"
    quality = "quality"
    natural = "natural"
    scripted = "scripted"


class PoissonArrivals(Strict):
    """Events arrive as a (possibly non-homogeneous) Poisson process.

    The rate at time t is ``rate_per_year`` x the multiplier of t's calendar month x the
    multiplier of the current regime.
    """

    process: Literal["poisson"]
    rate_per_year: Annotated[float, Field(ge=0, le=10_000, allow_inf_nan=False)]
    monthly_multipliers: Annotated[list[NonNeg], Field(min_length=12, max_length=12)] | None = None


class RenewalArrivals(Strict):
    """The asset fails again after an up-time drawn from ``uptime`` once it is repaired."""

    process: Literal["renewal"]
    uptime: DurationDist


class Effect(Strict):
    """What an event does to each asset it hits.

    ``capacity_lost`` is the share of capacity (or production) lost; ``berths_lost`` keeps that
    many berths of a terminal out of service instead (taking berths as they come back from
    other outages while it lasts). ``probability`` is the chance an event
    has any effect at all (e.g. an inspection that ends without a ban).
    """

    capacity_lost: FractionDist = 1.0
    berths_lost: Annotated[int, Field(ge=1, le=64)] | None = None
    probability: Annotated[float, Field(ge=0, le=1)] = 1.0


class RateUncertainty(Strict):
    """The evidence behind a Poisson rate, for second-order (parameter-uncertainty) runs.

    ``events`` events were seen in ``exposure_years`` years. When ``run.parameter_sets`` is set,
    each parameter set draws the hazard's rate as ``rate_per_year x G``, where
    ``G ~ Gamma(shape = events + prior_events, scale = 1 / shape)`` has mean 1: the relative
    spread of the Gamma posterior of ``events / exposure_years`` (prior
    ``Gamma(prior_events, 0)``; 0.5 is Jeffreys'), carried over to the configured rate so that
    judgement factors in ``rate_per_year`` are kept. ``exposure_years`` records the evidence
    (``events / exposure_years`` is the catalog rate shown in reports).
    """

    events: Annotated[int, Field(ge=0, le=1_000_000)]
    exposure_years: Positive
    prior_events: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] = 0.5

    @model_validator(mode="after")
    def _proper(self) -> RateUncertainty:
        if self.events + self.prior_events <= 0:
            raise ValueError("events + prior_events must be > 0 (the Gamma shape)")
        return self

    @property
    def shape(self) -> float:
        """Shape of the Gamma distribution of the rate multiplier."""
        return self.events + self.prior_events


class Planning(Strict):
    """Rules for a planned outage (maintenance): when it may start.

    An arrival of the hazard is the date the work falls due. It starts then only if the
    calendar month is one of ``months`` (1 = January; all months when omitted) and, with
    ``exclusive``, the asset is otherwise fully in service (for a terminal: every berth up; for
    a pipeline or source: no other outage active). Otherwise the start is deferred: to the first
    day of the next allowed month, or by ``retry_days`` while the asset is impaired, until both
    rules hold. The outage then lasts its drawn duration.
    """

    months: Annotated[list[Annotated[int, Field(ge=1, le=12)]], Field(min_length=1)] | None = None
    exclusive: bool = False
    retry_days: Annotated[float, Field(ge=0.5, le=366, allow_inf_nan=False)] = 7.0


class Hazard(Strict):
    """A source of disruptions on one asset, or on several at once (common cause)."""

    assets: Annotated[list[Ident], Field(min_length=1, max_length=64)]
    cause: Cause
    arrivals: Annotated[PoissonArrivals | RenewalArrivals, Field(discriminator="process")]
    duration: DurationDist
    effect: Effect = Effect()
    per_berth: bool = False
    """Terminals only: run an independent copy of the hazard for each berth."""
    regime_multipliers: dict[Ident, NonNeg] | None = None
    enabled: bool = True
    rate_uncertainty: RateUncertainty | None = None
    """Evidence behind ``rate_per_year``; used only when ``run.parameter_sets`` is set."""
    planning: Planning | None = None
    """Scheduling rules of a planned outage; ``None``: it starts when it arrives."""
    source: str | None = None


class RegimeState(Strict):
    """A state of the regime chain; it lasts an exponential time with the given mean."""

    mean_sojourn_days: Positive | None = None
    """``None`` means the regime never ends once entered."""


class Regimes(Strict):
    """A continuous-time Markov chain of regimes (e.g. calm vs conflict) scaling hazard rates."""

    initial: Ident
    states: Annotated[dict[Ident, RegimeState], Field(min_length=1)]
    transitions: dict[Ident, dict[Ident, NonNeg]] = {}
    """For each state, the probabilities of the next state; two-state chains may omit this."""


class ScriptedEvent(Strict):
    """A dated disruption applied in every replication, e.g. to replay history."""

    id: Ident | None = None
    asset: Ident
    start: Date
    duration_days: NonNeg
    cause: Cause = Cause.scripted
    capacity_lost: Annotated[float, Field(ge=0, le=1)] = 1.0
    berths_lost: Annotated[int, Field(ge=1, le=64)] | None = None
