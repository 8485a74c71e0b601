"""Parameter uncertainty against stochastic variability: the law of total variance.

In a second-order run (``run.parameter_sets = K``) replication ``k`` uses parameter set
``k mod K``. For an outcome ``Y`` (e.g. the annual revenue loss) and parameters ``theta``,

    Var(Y) = Var(E[Y | theta]) + E[Var(Y | theta)]
             parameter uncertainty   stochastic variability

The two parts are estimated with the one-way random-effects analysis of variance, set by set:
with ``n_j`` replications and mean ``ybar_j`` in set ``j``, ``N`` replications in all, grand
mean ``ybar``,

* ``MSW = sum_j sum_i (y_ij - ybar_j)^2 / (N - K)`` estimates the stochastic part;
* ``MSB = sum_j n_j (ybar_j - ybar)^2 / (K - 1)`` has expectation
  ``stochastic + n0 * parameter``, with ``n0 = (N - sum_j n_j^2 / N) / (K - 1)`` (``n0`` is
  the common ``n_j`` when sets are balanced);
* so ``(MSB - MSW) / n0`` estimates the parameter part without bias; it is reported truncated
  at 0 (a negative estimate means the sets differ less than their noise).

The standard deviation of the conditional mean, ``sqrt(parameter part)``, says how uncertain
the *expected* loss (the AAL) is because of the parameters; the standard error of the overall
mean under this design is ``sqrt(parameter / K + stochastic / N)``. ``F = MSB / MSW`` tests
whether the parameter sets differ at all (F distribution with ``K - 1`` and ``N - K`` degrees of
freedom).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

SPLIT_METRICS = ("revenue_loss_usd", "shut_in_mt", "n_events")
"""Outcomes whose variance a second-order run's summary splits."""


def variance_split(values: np.ndarray, sets: np.ndarray) -> dict[str, float]:
    """Split the variance of ``values`` into parameter and stochastic parts.

    Parameters
    ----------
    values:
        One outcome per replication (NaNs are dropped with their set labels).
    sets:
        The parameter set of each replication.

    Returns
    -------
    dict
        ``n``, ``parameter_sets``, ``mean``, ``total_variance``, ``parameter_variance``,
        ``parameter_variance_raw`` (before truncation at 0), ``stochastic_variance``,
        ``parameter_share``, ``sd_conditional_mean``, ``se_mean``, ``f_stat``, ``f_pvalue``,
        ``conditional_mean_p5`` and ``conditional_mean_p95`` (of the set means).

    Raises
    ------
    ValueError
        With fewer than two sets, or no set with two replications.
    """
    y = np.asarray(values, dtype=float)
    g = np.asarray(sets)
    keep = ~np.isnan(y)
    y, g = y[keep], g[keep]
    labels, idx = np.unique(g, return_inverse=True)
    k, n = len(labels), len(y)
    if k < 2 or n <= k:
        raise ValueError(
            f"need at least 2 parameter sets and more replications than sets (got {k} sets, "
            f"{n} replications)"
        )
    n_j = np.bincount(idx).astype(float)
    means = np.bincount(idx, weights=y) / n_j
    grand = float(y.mean())
    msw = float(np.sum((y - means[idx]) ** 2) / (n - k))
    msb = float(np.sum(n_j * (means - grand) ** 2) / (k - 1))
    n0 = (n - np.sum(n_j**2) / n) / (k - 1)
    raw = (msb - msw) / n0
    param = max(0.0, raw)
    total = param + msw
    f = msb / msw if msw > 0 else math.inf
    return {
        "n": float(n),
        "parameter_sets": float(k),
        "mean": grand,
        "total_variance": float(total),
        "parameter_variance": float(param),
        "parameter_variance_raw": float(raw),
        "stochastic_variance": msw,
        "parameter_share": float(param / total) if total > 0 else float("nan"),
        "sd_conditional_mean": math.sqrt(param),
        "se_mean": math.sqrt(param / k + msw / n),
        "f_stat": f,
        "f_pvalue": float(stats.f.sf(f, k - 1, n - k)) if math.isfinite(f) else 0.0,
        "conditional_mean_p5": float(np.percentile(means, 5)),
        "conditional_mean_p95": float(np.percentile(means, 95)),
    }


def variance_splits(replications: pd.DataFrame, metrics=SPLIT_METRICS) -> dict[str, Any]:
    """Return ``{metric: split}`` of a second-order run's replication table.

    Parameters
    ----------
    replications:
        The replication table, or any of its columns: ``parameter_set`` and the metrics.
    metrics:
        Outcomes to split (those missing from the table are skipped).

    Returns
    -------
    dict
        Empty for first-order runs (no ``parameter_set`` column); metrics that cannot be
        split (see :func:`variance_split`) are left out.
    """
    if "parameter_set" not in replications.columns:
        return {}
    sets = replications["parameter_set"].to_numpy()
    out: dict[str, Any] = {}
    for metric in metrics:
        if metric not in replications.columns:
            continue
        try:
            out[metric] = variance_split(replications[metric].to_numpy(float), sets)
        except ValueError:
            continue
    return out


def split_table(split: dict[str, Any]) -> pd.DataFrame:
    """Return the splits of a summary as a table (one row per metric)."""
    rows = []
    for metric, s in split.items():
        rows.append(
            {
                "metric": metric,
                "sets": int(s["parameter_sets"]),
                "replications": int(s["n"]),
                "mean": s["mean"],
                "sd total": math.sqrt(s["total_variance"]),
                "sd parameters": math.sqrt(s["parameter_variance"]),
                "sd stochastic": math.sqrt(s["stochastic_variance"]),
                "parameter share %": 100 * s["parameter_share"],
                "set means p5": s["conditional_mean_p5"],
                "set means p95": s["conditional_mean_p95"],
                "F p-value": s["f_pvalue"],
            }
        )
    return pd.DataFrame(rows)
