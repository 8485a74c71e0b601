"""Typed config models for the probability distributions a config may name.

Two families exist because their units differ:

* **duration distributions** (keys end in ``_days``): event durations, up-times, repair times;
* **fraction distributions** (unitless, within [0, 1]): share of capacity lost, payload factors.

A fraction may also be written as a plain number, which means "always this value".
Sampling lives in :mod:`sim.model.sampling`; these classes only describe and validate.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.base.limits import MAX_MAGNITUDE
from sim.base.strict import Strict

NonNeg = Annotated[float, Field(ge=0, le=MAX_MAGNITUDE, allow_inf_nan=False)]
"""A finite number in [0, :data:`~sim.base.limits.MAX_MAGNITUDE`]."""
Positive = Annotated[float, Field(gt=0, le=MAX_MAGNITUDE, allow_inf_nan=False)]
"""A finite number in (0, :data:`~sim.base.limits.MAX_MAGNITUDE`]."""
Unit = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class FixedDays(Strict):
    """Always the same duration."""

    dist: Literal["fixed"]
    value_days: NonNeg

    def mean(self) -> float:
        """Mean of the distribution in days."""
        return self.value_days


class ExponentialDays(Strict):
    """Exponential duration with the given mean."""

    dist: Literal["exponential"]
    mean_days: Positive

    def mean(self) -> float:
        """Mean of the distribution in days."""
        return self.mean_days


class LognormalDays(Strict):
    """Lognormal duration, given either by ``median_days`` + ``sigma`` or ``mean_days`` + ``cv``.

    ``sigma`` is the standard deviation of the log of the duration; ``cv`` the coefficient of
    variation of the duration itself.
    """

    dist: Literal["lognormal"]
    median_days: Positive | None = None
    sigma: Positive | None = None
    mean_days: Positive | None = None
    cv: Positive | None = None

    @model_validator(mode="after")
    def _one_parametrisation(self) -> LognormalDays:
        by_median = self.median_days is not None and self.sigma is not None
        by_mean = self.mean_days is not None and self.cv is not None
        if by_median == by_mean or (
            by_median and (self.mean_days is not None or self.cv is not None)
        ):
            raise ValueError("give exactly one of (median_days, sigma) or (mean_days, cv)")
        return self

    def log_params(self) -> tuple[float, float]:
        """Return (mu, sigma) of the underlying normal distribution of log-duration."""
        if self.median_days is not None and self.sigma is not None:
            return math.log(self.median_days), self.sigma
        assert self.mean_days is not None and self.cv is not None
        s2 = math.log1p(self.cv**2)
        return math.log(self.mean_days) - s2 / 2, math.sqrt(s2)

    def mean(self) -> float:
        """Mean of the distribution in days."""
        mu, s = self.log_params()
        return math.exp(mu + s * s / 2)


class WeibullDays(Strict):
    """Weibull duration with ``shape`` k and ``scale_days`` lambda."""

    dist: Literal["weibull"]
    shape: Positive
    scale_days: Positive

    def mean(self) -> float:
        """Mean of the distribution in days."""
        return self.scale_days * math.gamma(1 + 1 / self.shape)


class GammaDays(Strict):
    """Gamma duration with ``shape`` k and ``scale_days`` theta."""

    dist: Literal["gamma"]
    shape: Positive
    scale_days: Positive

    def mean(self) -> float:
        """Mean of the distribution in days."""
        return self.shape * self.scale_days


class TriangularDays(Strict):
    """Triangular duration on [low_days, high_days] with mode ``mode_days``."""

    dist: Literal["triangular"]
    low_days: NonNeg
    mode_days: NonNeg
    high_days: Positive

    @model_validator(mode="after")
    def _ordered(self) -> TriangularDays:
        if not self.low_days <= self.mode_days <= self.high_days or self.low_days == self.high_days:
            raise ValueError(
                "expected low_days <= mode_days <= high_days with low_days < high_days"
            )
        return self

    def mean(self) -> float:
        """Mean of the distribution in days."""
        return (self.low_days + self.mode_days + self.high_days) / 3


class UniformDays(Strict):
    """Uniform duration on [low_days, high_days]."""

    dist: Literal["uniform"]
    low_days: NonNeg
    high_days: Positive

    @model_validator(mode="after")
    def _ordered(self) -> UniformDays:
        if not self.low_days < self.high_days:
            raise ValueError("expected low_days < high_days")
        return self

    def mean(self) -> float:
        """Mean of the distribution in days."""
        return (self.low_days + self.high_days) / 2


class EmpiricalDays(Strict):
    """Resample observed durations (optionally weighted)."""

    dist: Literal["empirical"]
    values_days: Annotated[list[NonNeg], Field(min_length=1)]
    weights: list[Positive] | None = None

    @model_validator(mode="after")
    def _weights_match(self) -> EmpiricalDays:
        if self.weights is not None and len(self.weights) != len(self.values_days):
            raise ValueError("weights must have one entry per value in values_days")
        return self

    def mean(self) -> float:
        """Mean of the distribution in days."""
        w = self.weights or [1.0] * len(self.values_days)
        return sum(v * x for v, x in zip(self.values_days, w)) / sum(w)


DurationDist = Annotated[
    FixedDays
    | ExponentialDays
    | LognormalDays
    | WeibullDays
    | GammaDays
    | TriangularDays
    | UniformDays
    | EmpiricalDays,
    Field(discriminator="dist"),
]
"""Any duration distribution, selected by its ``dist`` key."""


class UniformFraction(Strict):
    """A fraction drawn uniformly from [low, high]."""

    dist: Literal["uniform"]
    low: Unit
    high: Unit

    @model_validator(mode="after")
    def _ordered(self) -> UniformFraction:
        if not self.low <= self.high:
            raise ValueError("expected low <= high")
        return self

    def mean(self) -> float:
        """Mean of the distribution."""
        return (self.low + self.high) / 2


class TriangularFraction(Strict):
    """A fraction drawn from a triangular distribution on [low, high] with the given mode."""

    dist: Literal["triangular"]
    low: Unit
    mode: Unit
    high: Unit

    @model_validator(mode="after")
    def _ordered(self) -> TriangularFraction:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError("expected low <= mode <= high with low < high")
        return self

    def mean(self) -> float:
        """Mean of the distribution."""
        return (self.low + self.mode + self.high) / 3


FractionDist = Unit | Annotated[UniformFraction | TriangularFraction, Field(discriminator="dist")]
"""A fraction in [0, 1]: a plain number, or a ``uniform`` / ``triangular`` distribution."""


def fraction_mean(value: FractionDist) -> float:
    """Return the mean of a fraction given as a number or a distribution."""
    return float(value) if isinstance(value, (int, float)) else value.mean()
