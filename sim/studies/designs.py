"""Experimental designs over config keys: full factorial grids and sampled designs.

A design parameter is a dotted config key (as ``--set`` reads it) with a set of values
(factorial) or a distribution (sampled). Sampled designs draw points in the unit hypercube with
:mod:`scipy.stats.qmc` and map each coordinate through the parameter's inverse CDF:

* ``lhs``: a Latin hypercube of ``n`` points;
* ``sobol``: a Saltelli design for variance-based sensitivity indices. A scrambled Sobol'
  sequence of dimension 2d gives two independent n x d matrices A and B; the design is A, B and
  the d matrices AB_i (A with column i taken from B): n (d + 2) points, n a power of 2.

Every draw comes from ``numpy.random.default_rng(seed)``, so a design is a pure function of
its description. The values of each point are plain Python scalars.
"""

from __future__ import annotations

import inspect
import itertools
import json
import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Discriminator, Field, Tag, model_validator
from scipy import stats
from scipy.stats import qmc

from sim.base.strict import Strict

Finite = Annotated[float, Field(allow_inf_nan=False)]
Scalar = bool | int | float | str
MAX_POINTS = 20_000
"""Largest number of design points (each is a full scenario run)."""


class _Param(Strict):
    integer: bool = False
    """Round each value to the nearest integer (counts of berths, tankers, ...)."""

    def _frozen(self):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def ppf(self, u: np.ndarray) -> list[Scalar]:
        """Values at unit-interval coordinates ``u`` (the inverse CDF)."""
        x = np.asarray(self._frozen().ppf(np.asarray(u, dtype=float)), dtype=float)
        if self.integer:
            return [int(v) for v in np.rint(x)]
        return [float(v) for v in x]


class UniformParam(_Param):
    """Uniform on [low, high]; with ``integer``, each integer low..high equally likely."""

    dist: Literal["uniform"] = "uniform"
    low: Finite
    high: Finite

    @model_validator(mode="after")
    def _ordered(self) -> UniformParam:
        if not self.low < self.high:
            raise ValueError("expected low < high")
        return self

    def _frozen(self):
        return stats.uniform(self.low, self.high - self.low)

    def ppf(self, u: np.ndarray) -> list[Scalar]:
        """Values at unit-interval coordinates ``u``."""
        if not self.integer:
            return super().ppf(u)
        lo, hi = math.ceil(self.low), math.floor(self.high)
        k = np.floor(lo + np.asarray(u, dtype=float) * (hi - lo + 1))
        return [int(v) for v in np.clip(k, lo, hi)]


class LogUniformParam(_Param):
    """Log-uniform on [low, high] (both positive): equal weight to each order of magnitude."""

    dist: Literal["loguniform"]
    low: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    high: Finite

    @model_validator(mode="after")
    def _ordered(self) -> LogUniformParam:
        if not self.low < self.high:
            raise ValueError("expected 0 < low < high")
        return self

    def _frozen(self):
        return stats.loguniform(self.low, self.high)


class TriangularParam(_Param):
    """Triangular on [low, high] with the given mode."""

    dist: Literal["triangular"]
    low: Finite
    mode: Finite
    high: Finite

    @model_validator(mode="after")
    def _ordered(self) -> TriangularParam:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError("expected low <= mode <= high with low < high")
        return self

    def _frozen(self):
        width = self.high - self.low
        return stats.triang((self.mode - self.low) / width, loc=self.low, scale=width)


class NormalParam(_Param):
    """Normal with ``mean`` and ``sd``, truncated to [low, high] when either is given."""

    dist: Literal["normal"]
    mean: Finite
    sd: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    low: Finite | None = None
    high: Finite | None = None

    @model_validator(mode="after")
    def _ordered(self) -> NormalParam:
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError("expected low < high")
        return self

    def _frozen(self):
        if self.low is None and self.high is None:
            return stats.norm(self.mean, self.sd)
        a = -np.inf if self.low is None else (self.low - self.mean) / self.sd
        b = np.inf if self.high is None else (self.high - self.mean) / self.sd
        return stats.truncnorm(a, b, loc=self.mean, scale=self.sd)


class LognormalParam(_Param):
    """Lognormal with ``median`` and ``sigma`` (standard deviation of the log)."""

    dist: Literal["lognormal"]
    median: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    sigma: Annotated[float, Field(gt=0, allow_inf_nan=False)]

    def _frozen(self):
        return stats.lognorm(self.sigma, scale=self.median)


class ChoiceParam(Strict):
    """One of ``values``, each equally likely (a categorical parameter)."""

    dist: Literal["choice"]
    values: Annotated[list[Scalar], Field(min_length=2, max_length=1000)]

    def ppf(self, u: np.ndarray) -> list[Scalar]:
        """Values at unit-interval coordinates ``u``."""
        k = (np.asarray(u, dtype=float) * len(self.values)).astype(int)
        k = np.minimum(k, len(self.values) - 1)
        return [self.values[int(i)] for i in k]


def _dist_tag(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("dist", "uniform"))
    return str(getattr(value, "dist", "uniform"))


ParamDist = Annotated[
    Annotated[UniformParam, Tag("uniform")]
    | Annotated[LogUniformParam, Tag("loguniform")]
    | Annotated[TriangularParam, Tag("triangular")]
    | Annotated[NormalParam, Tag("normal")]
    | Annotated[LognormalParam, Tag("lognormal")]
    | Annotated[ChoiceParam, Tag("choice")],
    Discriminator(
        _dist_tag,
        custom_error_type="invalid_dist",
        custom_error_message=(
            "unknown dist (expected uniform (the default: {low, high}), loguniform, "
            "triangular, normal, lognormal or choice)"
        ),
    ),
]
"""A parameter distribution; ``{low, high}`` alone means uniform."""


@dataclass(frozen=True)
class Point:
    """One design point: a name and the value of each swept key."""

    name: str
    values: dict[str, Scalar]
    block: str = ""
    """Saltelli block (``A``, ``B`` or ``AB<i>``); empty for other designs."""


def _rng_kwargs(engine: type, seed: int) -> dict[str, Any]:
    """Seed a qmc engine with a Generator (``rng`` in recent SciPy, ``seed`` before 1.15)."""
    key = "rng" if "rng" in inspect.signature(engine).parameters else "seed"
    return {key: np.random.default_rng(seed)}


class Design(Strict):
    """A sampled design over config keys."""

    method: Literal["lhs", "sobol"]
    n: Annotated[int, Field(ge=2, le=MAX_POINTS)]
    """Points (lhs), or base sample size (sobol: a power of 2; n (d + 2) points are run)."""
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    parameters: Annotated[dict[str, ParamDist], Field(min_length=1, max_length=64)]

    @model_validator(mode="after")
    def _size(self) -> Design:
        d = len(self.parameters)
        if self.method == "sobol":
            if self.n & (self.n - 1):
                lo = 1 << (self.n.bit_length() - 1)
                raise ValueError(
                    f"n must be a power of 2 for a Sobol' design (got {self.n}; try {lo} or "
                    f"{2 * lo})"
                )
            if self.n * (d + 2) > MAX_POINTS:
                raise ValueError(
                    f"n (d + 2) = {self.n * (d + 2)} design points is more than {MAX_POINTS}"
                )
        return self

    @property
    def keys(self) -> list[str]:
        """The swept config keys, in file order."""
        return list(self.parameters)

    def unit_points(self) -> tuple[np.ndarray, list[str]]:
        """Points in the unit hypercube, shape (points, d), and each point's Saltelli block."""
        d = len(self.parameters)
        if self.method == "lhs":
            engine = qmc.LatinHypercube(d=d, **_rng_kwargs(qmc.LatinHypercube, self.seed))
            return engine.random(self.n), [""] * self.n
        engine = qmc.Sobol(d=2 * d, scramble=True, **_rng_kwargs(qmc.Sobol, self.seed))
        base = engine.random_base2(int(math.log2(self.n)))
        a, b = base[:, :d], base[:, d:]
        blocks = [a, b]
        labels = ["A"] * self.n + ["B"] * self.n
        for i in range(d):
            ab = a.copy()
            ab[:, i] = b[:, i]
            blocks.append(ab)
            labels += [f"AB{i}"] * self.n
        return np.vstack(blocks), labels

    def points(self) -> list[Point]:
        """Every design point with its parameter values."""
        unit, labels = self.unit_points()
        columns = [dist.ppf(unit[:, j]) for j, dist in enumerate(self.parameters.values())]
        out = []
        for i, label in enumerate(labels):
            values = {key: col[i] for key, col in zip(self.parameters, columns)}
            if self.method == "lhs":
                name = f"lhs{i:04d}"
            else:
                name = f"sob{label}_{i % self.n:04d}"
            out.append(Point(name, values, label))
        return out


def factorial_points(grid: dict[str, list[Scalar]]) -> list[Point]:
    """Every combination of the grid's values (the last key varies fastest)."""
    keys = list(grid)
    combos = itertools.product(*(grid[k] for k in keys))
    return [Point(f"fac{i:04d}", dict(zip(keys, combo))) for i, combo in enumerate(combos)]


def set_line(key: str, value: Scalar) -> str:
    """Return a ``KEY=VALUE`` override whose value YAML reads back exactly (type, digits)."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = repr(value)
        mantissa, e, exponent = text.partition("e")
        if e:
            # PyYAML's float pattern needs a dot in the mantissa and a signed exponent.
            if "." not in mantissa:
                mantissa += ".0"
            if exponent[:1] not in "+-":
                exponent = "+" + exponent
            text = f"{mantissa}e{exponent}"
    else:
        text = json.dumps(str(value))
    return f"{key}={text}"


__all__ = [
    "ChoiceParam",
    "Design",
    "LogUniformParam",
    "LognormalParam",
    "NormalParam",
    "ParamDist",
    "Point",
    "TriangularParam",
    "UniformParam",
    "factorial_points",
    "set_line",
]
