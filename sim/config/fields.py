"""Annotated scalar field types shared by the config models: identifiers and dates."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field

from sim.base.limits import MAX_START_DATE, MIN_START_DATE

__all__ = ["Date", "Ident"]

Ident = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")]
"""Identifier of an asset, route, market or hazard (letters, digits, ``_``, ``-``)."""

Date = Annotated[dt.date, Field(ge=MIN_START_DATE, le=MAX_START_DATE)]
"""A calendar date within the limits of :mod:`sim.base.limits` (1900-01-01 to 2200-12-31)."""
