"""Return periods of the loss tables: the defaults, their limits and their validation."""

from __future__ import annotations

import math

import numpy as np

from sim.base.errors import InputError, Problem

RETURN_PERIODS = (5, 10, 25, 50, 100, 250)
"""Default return periods of the tables (years)."""
MAX_RETURN_PERIOD = 1_000_000
MAX_RETURN_PERIODS = 100
"""At most this many return periods in one table."""


def _period_problem(where: str, got: object) -> InputError:
    return InputError(
        Problem(
            where,
            f"expected up to {MAX_RETURN_PERIODS} whole numbers of years from 1 to "
            f"{MAX_RETURN_PERIOD:,}, e.g. 5,10,100; got {got!r}",
        )
    )


def check_return_periods(periods: object, where: str = "return_periods") -> tuple[int, ...]:
    """Validate return periods and return them sorted, without duplicates.

    Parameters
    ----------
    periods:
        Whole numbers of years from 1 to :data:`MAX_RETURN_PERIOD` (ints, or floats without a
        fractional part), at most :data:`MAX_RETURN_PERIODS` of them.
    where:
        The option or argument named in the error.

    Raises
    ------
    InputError
        Naming ``where``, what was expected and what was given.
    """
    if isinstance(periods, (str, bytes)) or not hasattr(periods, "__iter__"):
        raise _period_problem(where, periods)
    values = list(periods)  # type: ignore[call-overload]
    if not values or len(values) > MAX_RETURN_PERIODS:
        raise _period_problem(where, values if len(values) <= 10 else f"{len(values)} values")
    out = set()
    for v in values:
        ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
        if not ok or not math.isfinite(v) or v != int(v) or not 1 <= v <= MAX_RETURN_PERIOD:
            raise _period_problem(where, v)
        out.add(int(v))
    return tuple(sorted(out))


def parse_return_periods(text: str, where: str = "--return-periods") -> tuple[int, ...]:
    """Read comma-separated return periods (e.g. ``"5,10,100"``), validated.

    Raises
    ------
    InputError
        When a part is not a whole number of years in range.
    """
    values = []
    for part in str(text).split(","):
        try:
            values.append(int(part.strip()))
        except ValueError:
            raise _period_problem(where, part.strip()) from None
    return check_return_periods(values, where)


__all__ = [
    "MAX_RETURN_PERIOD",
    "MAX_RETURN_PERIODS",
    "RETURN_PERIODS",
    "check_return_periods",
    "parse_return_periods",
]
