"""Fit hazard parameters to a disruption catalog.

* :func:`fit_rate`: Poisson arrival rate with the exact (Garwood) confidence interval;
* :func:`fit_duration`: maximum-likelihood duration distributions with right censoring, the
  family chosen by AIC;
* :func:`duration_config`: a fitted family as the config's duration dict.

:mod:`sim.calibration.groups` applies these to every (asset, cause class) of a catalog.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, stats

FAMILIES = ("exponential", "lognormal", "weibull", "gamma")
"""Duration families :func:`fit_duration` can fit, named as in the config's ``dist`` key."""

MIN_DURATION_DAYS = 0.1
"""Durations below this (e.g. same-day events recorded as 0 days) are raised to it before fitting,
since the log-density of the continuous families is undefined at 0."""

SMALL_SAMPLE = 5
"""Groups with fewer events than this are flagged ``small_sample``."""


# --------------------------------------------------------------------------- arrival rate


@dataclass(frozen=True)
class RateFit:
    """A Poisson rate estimate.

    Attributes
    ----------
    n_events, exposure_years:
        The data: events seen in the exposure time.
    rate_per_year:
        Maximum-likelihood estimate ``n_events / exposure_years``.
    lower, upper:
        Exact (Garwood) two-sided confidence bounds.
    confidence:
        Confidence level of the bounds.
    """

    n_events: int
    exposure_years: float
    rate_per_year: float
    lower: float
    upper: float
    confidence: float


def fit_rate(n_events: int, exposure_years: float, confidence: float = 0.95) -> RateFit:
    """Estimate a Poisson rate with its exact (Garwood, chi-square) confidence interval.

    Parameters
    ----------
    n_events:
        Number of events observed (>= 0).
    exposure_years:
        Length of the observation window in years (> 0).
    confidence:
        Two-sided confidence level, in (0, 1).

    Returns
    -------
    RateFit
        ``n/T`` with bounds ``chi2.ppf(a/2, 2n) / 2T`` (0 when n = 0) and
        ``chi2.ppf(1 - a/2, 2n + 2) / 2T``, where ``a = 1 - confidence``.

    Raises
    ------
    ValueError
        On a negative count, a non-positive exposure or a confidence outside (0, 1).
    """
    if n_events < 0 or int(n_events) != n_events:
        raise ValueError(f"n_events must be a whole number >= 0 (got {n_events})")
    if not exposure_years > 0 or not math.isfinite(exposure_years):
        raise ValueError(f"exposure_years must be > 0 (got {exposure_years})")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1) (got {confidence})")
    n = int(n_events)
    alpha = 1.0 - confidence
    lower = 0.0 if n == 0 else stats.chi2.ppf(alpha / 2, 2 * n) / (2 * exposure_years)
    upper = stats.chi2.ppf(1 - alpha / 2, 2 * n + 2) / (2 * exposure_years)
    return RateFit(
        n, float(exposure_years), n / exposure_years, float(lower), float(upper), confidence
    )


# --------------------------------------------------------------------------- durations


def _frozen(family: str, theta: np.ndarray):
    """Return the scipy distribution of ``family`` at log-parameters ``theta``."""
    if family == "exponential":
        return stats.expon(scale=math.exp(theta[0]))
    if family == "lognormal":
        return stats.lognorm(math.exp(theta[1]), scale=math.exp(theta[0]))
    if family == "weibull":
        return stats.weibull_min(math.exp(theta[0]), scale=math.exp(theta[1]))
    if family == "gamma":
        return stats.gamma(math.exp(theta[0]), scale=math.exp(theta[1]))
    raise ValueError(f"unknown duration family {family!r}; expected one of {', '.join(FAMILIES)}")


def _params(family: str, theta: np.ndarray) -> dict[str, float]:
    """Return the config parameters of ``family`` at log-parameters ``theta``."""
    t = [float(math.exp(v)) for v in theta]
    if family == "exponential":
        return {"mean_days": t[0]}
    if family == "lognormal":
        return {"median_days": t[0], "sigma": t[1]}
    return {"shape": t[0], "scale_days": t[1]}


def _start(family: str, x: np.ndarray, all_times: np.ndarray) -> np.ndarray:
    """Return starting log-parameters: scipy's fit on uncensored data, else moments."""
    sample = x if len(x) >= 2 else all_times
    mean = float(np.mean(sample))
    var = float(np.var(sample)) if len(sample) > 1 else mean**2
    cv2 = max(var / mean**2, 1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if family == "lognormal" and len(x) >= 2:
                s, _, scale = stats.lognorm.fit(x, floc=0)
                return np.log([scale, s])
            if family == "weibull" and len(x) >= 2:
                k, _, scale = stats.weibull_min.fit(x, floc=0)
                return np.log([k, scale])
            if family == "gamma" and len(x) >= 2:
                k, _, scale = stats.gamma.fit(x, floc=0)
                return np.log([k, scale])
        except (ValueError, RuntimeError, FloatingPointError):
            pass
    if family == "exponential":
        return np.log([mean])
    if family == "lognormal":
        s2 = math.log1p(cv2)
        return np.array([math.log(mean) - s2 / 2, 0.5 * math.log(s2)])
    if family == "weibull":
        k = max(cv2**-0.543, 0.05)  # Justus' approximation of shape from the CV
        return np.log([k, mean / math.gamma(1 + 1 / k)])
    return np.log([1 / cv2, mean * cv2])


@dataclass(frozen=True)
class FamilyFit:
    """Maximum-likelihood fit of one duration family.

    Attributes
    ----------
    family:
        ``exponential``, ``lognormal``, ``weibull`` or ``gamma``.
    params:
        Fitted parameters named as in the config (e.g. ``median_days``, ``sigma``).
    loglik:
        Maximised log-likelihood (censored durations contribute log survival).
    aic:
        ``2 k - 2 loglik``, k the number of parameters.
    n, n_censored:
        Durations used, and how many of them were right-censored.
    ks_stat, ks_pvalue:
        Kolmogorov-Smirnov statistic and p-value of the uncensored durations against the fit
        (NaN with fewer than 2 uncensored values). The p-value ignores that the parameters were
        estimated, so it is optimistic.
    note:
        How the fit was made when it is not a plain maximum-likelihood fit.
    """

    family: str
    params: dict[str, float]
    loglik: float
    aic: float
    n: int
    n_censored: int
    ks_stat: float = float("nan")
    ks_pvalue: float = float("nan")
    note: str = ""

    def dist(self):
        """Return the fitted distribution as a frozen ``scipy.stats`` object."""
        p = self.params
        if self.family == "exponential":
            return stats.expon(scale=p["mean_days"])
        if self.family == "lognormal":
            return stats.lognorm(p["sigma"], scale=p["median_days"])
        if self.family == "weibull":
            return stats.weibull_min(p["shape"], scale=p["scale_days"])
        return stats.gamma(p["shape"], scale=p["scale_days"])

    def mean(self) -> float:
        """Mean duration in days."""
        return float(self.dist().mean())

    def median(self) -> float:
        """Median duration in days."""
        return float(self.dist().median())


@dataclass(frozen=True)
class DurationFit:
    """Fits of several families to the same durations, and the one chosen by AIC.

    Attributes
    ----------
    fits:
        Fit per family that converged.
    best:
        Family with the lowest AIC (or the exponential fallback).
    """

    fits: dict[str, FamilyFit] = field(default_factory=dict)
    best: str = "exponential"

    @property
    def chosen(self) -> FamilyFit:
        """The fit of the chosen family."""
        return self.fits[self.best]


_SCIPY = {"lognormal": stats.lognorm, "weibull": stats.weibull_min, "gamma": stats.gamma}


def _fast_loglik(family: str, theta: np.ndarray, x: np.ndarray, c: np.ndarray) -> float:
    """Return the censored log-likelihood of a two-parameter family without freezing it."""
    a, b = math.exp(theta[0]), math.exp(theta[1])
    shape, scale = (b, a) if family == "lognormal" else (a, b)
    dist = _SCIPY[family]
    return float(
        np.sum(dist.logpdf(x, shape, scale=scale)) + np.sum(dist.logsf(c, shape, scale=scale))
    )


def _loglik(dist, x: np.ndarray, c: np.ndarray) -> float:
    """Return the censored log-likelihood: log pdf of ``x`` plus log survival of ``c``."""
    return float(np.sum(dist.logpdf(x)) + np.sum(dist.logsf(c)))


def fit_duration(
    durations: Iterable[float],
    censored: Iterable[bool],
    families: Iterable[str] = FAMILIES,
    min_duration: float = MIN_DURATION_DAYS,
) -> DurationFit:
    """Fit duration families by maximum likelihood with right censoring and pick one by AIC.

    Parameters
    ----------
    durations:
        Observed durations in days; for censored events, the time the event was known to last.
        NaN values are dropped.
    censored:
        ``True`` where the duration is a lower bound (right-censored).
    families:
        Families to try, from :data:`FAMILIES`.
    min_duration:
        Durations below this are raised to it (the families have no mass at 0).

    Returns
    -------
    DurationFit
        Per family: parameters, log-likelihood, AIC, counts and a KS statistic; and the family
        with the lowest AIC. With fewer than 2 uncensored durations only the exponential is
        fitted (mean = total time / uncensored count; with none, total time / 1, flagged in
        ``note`` as a lower bound); likewise when all uncensored durations are equal.

    Raises
    ------
    ValueError
        On an unknown family, mismatched lengths, negative durations or no durations at all.
    """
    t, cens, families = _checked(durations, censored, families)
    t = np.maximum(t, min_duration)
    x, c = t[~cens], t[cens]
    if len(x) < 2 or np.ptp(x) == 0:
        # Two-parameter families have no maximum when all completed durations are equal.
        return _exponential_fallback(t, x, c)
    fits: dict[str, FamilyFit] = {}
    for fam in families:
        fit = _fit_family(fam, t, x, c)
        if fit is not None:
            fits[fam] = fit
    if not fits:
        raise ValueError("no duration family could be fitted")
    best = min(fits, key=lambda f: fits[f].aic)
    return DurationFit(fits, best)


def _checked(
    durations: Iterable[float], censored: Iterable[bool], families: Iterable[str]
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Return the durations (NaN dropped), their censoring flags and the families, checked.

    Raises
    ------
    ValueError
        As :func:`fit_duration`.
    """
    t = np.asarray(list(durations), dtype=float)
    cens = np.asarray(list(censored), dtype=bool)
    families = tuple(families)
    if len(t) != len(cens):
        raise ValueError(f"{len(t)} durations but {len(cens)} censoring flags")
    for fam in families:
        if fam not in FAMILIES:
            raise ValueError(
                f"unknown duration family {fam!r}; expected one of {', '.join(FAMILIES)}"
            )
    keep = ~np.isnan(t)
    t, cens = t[keep], cens[keep]
    if len(t) == 0:
        raise ValueError("no durations to fit")
    if (t < 0).any():
        raise ValueError("durations must be >= 0")
    return t, cens, families


def _exponential_fallback(t: np.ndarray, x: np.ndarray, c: np.ndarray) -> DurationFit:
    """Fit only the exponential: fewer than 2 completed durations, or all of them equal."""
    mean = float(t.sum() / max(len(x), 1))
    note = "fewer than 2 completed events: exponential fallback"
    if len(x) == 0:
        note = "no completed event: mean = total observed time, a lower bound"
    elif len(x) >= 2:
        note = "all completed durations equal: exponential fallback"
    d = stats.expon(scale=mean)
    ll = _loglik(d, x, c)
    fit = FamilyFit("exponential", {"mean_days": mean}, ll, 2 - 2 * ll, len(t), len(c), note=note)
    return DurationFit({"exponential": fit}, "exponential")


def _fit_family(fam: str, t: np.ndarray, x: np.ndarray, c: np.ndarray) -> FamilyFit | None:
    """Fit one family to completed durations ``x`` and censored ``c`` (``None``: no optimum)."""
    if fam == "exponential":
        theta = np.log([t.sum() / len(x)])  # closed-form censored MLE
    else:

        def nll(th: np.ndarray) -> float:
            if np.any(np.abs(th) > 30):
                return 1e300
            with np.errstate(all="ignore"):
                v = -_fast_loglik(fam, th, x, c)
            return v if np.isfinite(v) else 1e300

        th0 = _start(fam, x, t)
        res = optimize.minimize(
            nll,
            th0,
            method="Nelder-Mead",
            options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000},
        )
        if not np.isfinite(res.fun) or res.fun >= 1e300:
            return None
        theta = res.x
    d = _frozen(fam, theta)
    ll = _loglik(d, x, c)
    ks = stats.kstest(x, d.cdf)
    return FamilyFit(
        fam,
        _params(fam, theta),
        ll,
        2 * len(theta) - 2 * ll,
        len(t),
        len(c),
        float(ks.statistic),
        float(ks.pvalue),
    )


def duration_config(fit: FamilyFit, digits: int = 6) -> dict:
    """Return a fitted family as the config's duration dict.

    Parameters
    ----------
    fit:
        A fit from :func:`fit_duration`.
    digits:
        Significant digits to keep.

    Returns
    -------
    dict
        E.g. ``{"dist": "lognormal", "median_days": 8.1, "sigma": 1.2}``; keys as in
        :mod:`sim.config.distributions`.
    """
    return {"dist": fit.family, **{k: round_sig(v, digits) for k, v in fit.params.items()}}


def round_sig(v: float, digits: int = 6) -> float:
    """Round to ``digits`` significant digits, as a plain float."""
    return float(f"{float(v):.{digits}g}")
