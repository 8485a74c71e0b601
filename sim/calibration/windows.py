"""Observation windows: over which stretch of time each asset's events are counted.

A Poisson rate is ``events / exposure``, so the window decides the answer as much as the
count. The default is **catalog-wide**: every asset is taken to have been watched from the
catalog's first event to its last date. Opening an asset's window at its own first event (the
``"asset"`` option) biases rates upwards, badly so for assets with one recent event (one event
a few days before the catalog ends gave 36.5/yr). Where the catalog is known to cover an
asset only for part of the time, give that asset's window explicitly.

Windows can be cut at a split date (a regime change such as 2022-02-24) into a *before* and an
*after* part, and measured month by month for seasonal profiles.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from sim.base.units import DAYS_PER_YEAR

WINDOW_STARTS = ("catalog", "asset")
"""Ways to open the window of an asset without an explicit window."""


def catalog_end(catalog: pd.DataFrame) -> pd.Timestamp:
    """Return the latest start or end date in the catalog."""
    dates = pd.concat([catalog["start_date"], catalog["end_date"]]).dropna()
    return pd.Timestamp(dates.max())


def years_between(start: pd.Timestamp, end: pd.Timestamp) -> float:
    """Return ``end - start`` in years of 365.25 days (0 when ``end`` is not after ``start``)."""
    return max(0.0, (pd.Timestamp(end) - pd.Timestamp(start)).days / DAYS_PER_YEAR)


def observation_windows(
    catalog: pd.DataFrame,
    as_of: str | pd.Timestamp | None = None,
    start: str = "catalog",
    windows: Mapping[str, tuple[pd.Timestamp, pd.Timestamp | None]] | None = None,
) -> pd.DataFrame:
    """Return each asset's observation window.

    Parameters
    ----------
    catalog:
        A catalog from :func:`sim.calibration.catalog.load_catalog`.
    as_of:
        End of the windows; default the latest start or end date in the catalog.
    start:
        For assets without an explicit window: ``"catalog"`` (the default) opens the window at
        the catalog's first event; ``"asset"`` at the asset's own first event (biased upwards).
    windows:
        Explicit windows, asset -> (start, end); an end of ``None`` means ``as_of``. Assets named
        here need not appear in the catalog (their count is then 0).

    Returns
    -------
    pandas.DataFrame
        Indexed by asset, with ``window_start``, ``window_end``, ``exposure_years``
        (days / 365.25) and ``basis`` (``catalog-wide``, ``first event`` or ``given``).

    Raises
    ------
    ValueError
        If ``start`` is unknown or a window ends before it starts.
    """
    if start not in WINDOW_STARTS:
        raise ValueError(f"start must be one of {', '.join(WINDOW_STARTS)} (got {start!r})")
    end = catalog_end(catalog) if as_of is None else pd.Timestamp(as_of)
    given = dict(windows or {})
    assets = sorted(set(catalog["asset"].astype(str)) | set(given))
    first = catalog.groupby(catalog["asset"].astype(str))["start_date"].min()
    rows = []
    for asset in assets:
        if asset in given:
            w0, w1 = given[asset]
            w1 = end if w1 is None else pd.Timestamp(w1)
            basis = "given"
        elif start == "catalog":
            w0, w1, basis = catalog["start_date"].min(), end, "catalog-wide"
        else:
            w0, w1, basis = first[asset], end, "first event"
        w0 = pd.Timestamp(w0)
        if w1 < w0:
            raise ValueError(
                f"the window of {asset} ends ({w1.date()}) before it starts ({w0.date()})"
            )
        rows.append((asset, w0, w1, years_between(w0, w1), basis))
    out = pd.DataFrame(
        rows, columns=["asset", "window_start", "window_end", "exposure_years", "basis"]
    ).set_index("asset")
    return out


def in_window(
    starts: pd.Series, window_start: pd.Timestamp, window_end: pd.Timestamp
) -> np.ndarray:
    """Return which event start dates fall inside ``[window_start, window_end]``."""
    s = pd.to_datetime(starts)
    return ((s >= window_start) & (s <= window_end)).to_numpy(dtype=bool)


def split_window(
    window_start: pd.Timestamp, window_end: pd.Timestamp, split: pd.Timestamp
) -> tuple[float, float]:
    """Return the exposure (years) of a window before and from ``split``."""
    split = min(max(pd.Timestamp(split), window_start), window_end)
    return years_between(window_start, split), years_between(split, window_end)


def monthly_exposure(window_start: pd.Timestamp, window_end: pd.Timestamp) -> np.ndarray:
    """Return the years of the window that fall in each calendar month (12 values, Jan first)."""
    days = pd.date_range(pd.Timestamp(window_start), pd.Timestamp(window_end), inclusive="left")
    counts = np.bincount(days.month.to_numpy() - 1, minlength=12).astype(float)
    return counts / DAYS_PER_YEAR
