"""Hazard calibration: fit arrival rates and duration distributions to a disruption catalog.

:mod:`sim.calibration.catalog` reads and validates the catalog CSV; :mod:`sim.calibration.fit`
fits Poisson rates (exact confidence intervals) and censored duration distributions per
(asset, cause class) and turns them into config ``hazards`` entries.
"""

from sim.calibration.catalog import (
    CATALOG_ASSETS,
    CAUSE_CLASSES,
    COLUMNS,
    load_catalog,
    observation_windows,
    validate_catalog,
)
from sim.calibration.fit import (
    FAMILIES,
    DurationFit,
    FamilyFit,
    RateFit,
    calibrate,
    duration_config,
    fit_duration,
    fit_rate,
)

__all__ = [
    "CATALOG_ASSETS",
    "CAUSE_CLASSES",
    "COLUMNS",
    "FAMILIES",
    "DurationFit",
    "FamilyFit",
    "RateFit",
    "calibrate",
    "duration_config",
    "fit_duration",
    "fit_rate",
    "load_catalog",
    "observation_windows",
    "validate_catalog",
]
