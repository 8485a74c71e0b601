"""Paired comparison of a scenario with the base, and the economics of a policy lever.

Both runs use the same root seed and replication indices (common random numbers), so the
difference is taken replication by replication: its variance is that of the paired differences,
usually far below the sum of the two variances an unpaired comparison would have. A lever's
avoided loss per year is turned into an NPV over its lifetime, with the CI of the avoided loss
carried through, and a benefit/cost ratio. Discounting follows :mod:`sim.base.discount`: an annual
effective rate, year n of the lifetime (avoided loss and opex) paid at its end, capex at once.
"""

from __future__ import annotations

import math
from typing import Annotated

import pandas as pd
from pydantic import Field

from sim.analysis.stats import Z95
from sim.base.discount import annuity_factor
from sim.base.strict import Strict

Usd = Annotated[float, Field(ge=0, le=1e14, allow_inf_nan=False)]
"""A finite, non-negative amount of US dollars (up to 100 trillion)."""


class Cost(Strict):
    """Cost of a policy lever (USD), to weigh against the loss it avoids."""

    capex_usd: Usd = 0.0
    opex_usd_per_year: Usd = 0.0
    lifetime_years: Annotated[int, Field(ge=1, le=100)] = 20
    discount_rate: Annotated[float, Field(ge=0, le=1)] = 0.08
    """Annual effective rate (:mod:`sim.base.discount`), as ``economics.discount_rate_per_year``."""
    source: str | None = None


def paired_comparison(base: pd.DataFrame, scenario: pd.DataFrame, metric: str) -> dict[str, float]:
    """Paired and unpaired statistics of ``scenario - base`` for one metric."""
    a = base.set_index("replication")[metric]
    b = scenario.set_index("replication")[metric]
    common = a.index.intersection(b.index)
    a, b = a.loc[common].to_numpy(float), b.loc[common].to_numpy(float)
    n = len(common)
    d = b - a
    var_paired = float(d.var(ddof=1)) if n > 1 else float("nan")
    var_unpaired = float(a.var(ddof=1) + b.var(ddof=1)) if n > 1 else float("nan")
    half_p = Z95 * math.sqrt(var_paired / n) if n > 1 else float("nan")
    half_u = Z95 * math.sqrt(var_unpaired / n) if n > 1 else float("nan")
    if var_paired > 0:
        reduction = var_unpaired / var_paired
    else:
        reduction = float("inf") if var_unpaired > 0 else float("nan")
    return {
        "n": n,
        "base_mean": float(a.mean()),
        "scenario_mean": float(b.mean()),
        "mean_diff": float(d.mean()),
        "ci95_low": float(d.mean()) - half_p,
        "ci95_high": float(d.mean()) + half_p,
        "unpaired_ci95_half": half_u,
        "variance_reduction": reduction,
    }


def economics(avoided_per_year: float, half: float, cost: Cost) -> dict[str, float]:
    """NPV (with CI from the avoided loss CI) and benefit/cost ratio of a lever.

    The avoided loss and the opex of each year of ``cost.lifetime_years`` are cash flows at the
    end of that year (day ``n x 365.25`` from the lever's start), discounted at the annual
    effective ``cost.discount_rate`` by :func:`sim.base.discount.annuity_factor`; capex is paid at
    the start.
    """
    annuity = annuity_factor(cost.discount_rate, cost.lifetime_years)
    pv_costs = cost.capex_usd + cost.opex_usd_per_year * annuity
    npv = avoided_per_year * annuity - pv_costs
    return {
        "avoided_loss_usd_per_year": avoided_per_year,
        "npv_usd": npv,
        "npv_ci95_low": npv - half * annuity,
        "npv_ci95_high": npv + half * annuity,
        "benefit_cost_ratio": (avoided_per_year * annuity / pv_costs)
        if pv_costs > 0
        else float("inf"),
    }


__all__ = ["Cost", "economics", "paired_comparison"]
