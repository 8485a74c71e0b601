"""Hazard calibration: fit arrival rates, durations and effects to a disruption catalog.

* :mod:`~sim.calibration.catalog` reads and validates the catalog CSV;
* :mod:`~sim.calibration.windows` decides each asset's observation window;
* :mod:`~sim.calibration.fit` fits Poisson rates (exact intervals) and censored durations;
* :mod:`~sim.calibration.seasonal` shrinks monthly event counts into a seasonal profile;
* :mod:`~sim.calibration.effects` turns recorded capacity losses into an ``effect``;
* :mod:`~sim.calibration.groups` does all of it per (asset, cause class) and writes hazards;
* :mod:`~sim.calibration.survival` and :mod:`~sim.calibration.report` check the fits against
  Kaplan-Meier curves in an HTML report.
"""

from sim.calibration.catalog import (
    CATALOG_ASSETS,
    CAUSE_CLASSES,
    COLUMNS,
    load_catalog,
    validate_catalog,
)
from sim.calibration.effects import EffectFit, fit_effect
from sim.calibration.fit import (
    FAMILIES,
    DurationFit,
    FamilyFit,
    RateFit,
    duration_config,
    fit_duration,
    fit_rate,
)
from sim.calibration.groups import GroupFit, calibrate, fit_groups, groups_table, hazard_entry
from sim.calibration.seasonal import SeasonalFit, fit_seasonal
from sim.calibration.windows import catalog_end, observation_windows

__all__ = [
    "CATALOG_ASSETS",
    "CAUSE_CLASSES",
    "COLUMNS",
    "FAMILIES",
    "DurationFit",
    "EffectFit",
    "FamilyFit",
    "GroupFit",
    "RateFit",
    "SeasonalFit",
    "calibrate",
    "catalog_end",
    "duration_config",
    "fit_duration",
    "fit_effect",
    "fit_groups",
    "fit_rate",
    "fit_seasonal",
    "groups_table",
    "hazard_entry",
    "load_catalog",
    "observation_windows",
    "validate_catalog",
]
