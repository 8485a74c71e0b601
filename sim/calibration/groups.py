"""Fit every (asset, cause class) group of a disruption catalog and write config hazards.

For each group: the Poisson rate over the asset's observation window (exact CI), optionally
split at a date into two regimes (with an exact conditional test of equal rates), censored
maximum-likelihood durations chosen by AIC, the capacity-loss effect, optionally a shrunk
seasonal profile, and the evidence (``rate_uncertainty``) for second-order runs. Groups whose
asset is not in the model are kept in the table but not written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from sim.calibration.effects import EffectFit, fit_effect
from sim.calibration.fit import (
    SMALL_SAMPLE,
    DurationFit,
    RateFit,
    duration_config,
    fit_duration,
    fit_rate,
    round_sig,
)
from sim.calibration.seasonal import DEFAULT_PRIOR_EVENTS, SeasonalFit, fit_seasonal
from sim.calibration.windows import in_window, observation_windows, split_window

DEFAULT_SPLIT_REGIMES = ("calm", "conflict")
"""Regime names written for the periods before and after ``split_date``."""


@dataclass(frozen=True)
class SplitFit:
    """Rates before and after a split date.

    Attributes
    ----------
    date:
        The split date (events on it count as *after*).
    before, after:
        Rate fits of the two periods (``None`` for an empty period).
    pvalue:
        Two-sided exact test of equal rates: given the n events, the count after the split is
        Binomial(n, T_after / T) under equal rates. NaN when undefined.
    regimes:
        Regime names of the two periods.
    """

    date: pd.Timestamp
    before: RateFit | None
    after: RateFit | None
    pvalue: float
    regimes: tuple[str, str]

    def base(self) -> tuple[RateFit | None, dict[str, float]]:
        """Return the rate written as ``rate_per_year`` and the ``regime_multipliers``."""
        b, a = self.before, self.after
        name_b, name_a = self.regimes
        if a is not None and a.rate_per_year > 0:
            ratio = b.rate_per_year / a.rate_per_year if b is not None else 1.0
            return a, {name_a: 1.0, name_b: round_sig(ratio, 4)}
        if b is not None and b.rate_per_year > 0:
            return b, {name_b: 1.0, name_a: 0.0}
        return None, {}


@dataclass
class GroupFit:
    """Everything fitted for one (asset, cause) group."""

    asset: str
    cause: str
    rows: pd.DataFrame
    window_start: pd.Timestamp
    window_end: pd.Timestamp
    years: float
    basis: str
    n_in_window: int
    rate: RateFit | None = None
    split: SplitFit | None = None
    durations: DurationFit | None = None
    effect: EffectFit = field(default_factory=EffectFit)
    season: SeasonalFit | None = None
    targets: list[str] = field(default_factory=list)
    hazard_id: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        """Events in the group (in and out of the window)."""
        return len(self.rows)

    @property
    def base_rate(self) -> RateFit | None:
        """The rate written as ``rate_per_year`` (that of one period when split)."""
        return self.split.base()[0] if self.split is not None else self.rate

    @property
    def small(self) -> bool:
        """Whether the written rate rests on fewer than :data:`SMALL_SAMPLE` events."""
        base = self.base_rate
        return (base.n_events if base is not None else self.n_in_window) < SMALL_SAMPLE


def _split(g: pd.DataFrame, w0, w1, date, regimes, confidence) -> SplitFit:
    t_b, t_a = split_window(w0, w1, date)
    inside = g[in_window(g["start_date"], w0, w1)]
    n_b = int((inside["start_date"] < date).sum())
    n_a = len(inside) - n_b
    before = fit_rate(n_b, t_b, confidence) if t_b > 0 else None
    after = fit_rate(n_a, t_a, confidence) if t_a > 0 else None
    p = float("nan")
    if t_b > 0 and t_a > 0 and n_a + n_b > 0:
        p = float(stats.binomtest(n_a, n_a + n_b, t_a / (t_a + t_b)).pvalue)
    return SplitFit(pd.Timestamp(date), before, after, p, tuple(regimes))


def fit_groups(
    catalog: pd.DataFrame,
    as_of: str | pd.Timestamp | None = None,
    model_assets: Iterable[str] | Mapping[str, str] | None = None,
    asset_map: Mapping[str, str | list[str]] | None = None,
    window_start: str = "catalog",
    windows: Mapping[str, tuple[pd.Timestamp, pd.Timestamp | None]] | None = None,
    confidence: float = 0.95,
    split_date: str | pd.Timestamp | None = None,
    split_regimes: tuple[str, str] = DEFAULT_SPLIT_REGIMES,
    split_causes: Iterable[str] | None = None,
    seasonal: bool = False,
    season_prior: float = DEFAULT_PRIOR_EVENTS,
) -> list[GroupFit]:
    """Fit rate, durations, effect and (optionally) regimes and season of every group.

    Parameters
    ----------
    catalog, as_of:
        A catalog from :func:`sim.calibration.catalog.load_catalog`, and the end of the
        observation windows (default: the catalog's latest date).
    model_assets, asset_map:
        Asset ids of the model, or a mapping id -> kind (``terminal``, ``pipeline``, ``source``,
        ``shuttle``) that also shapes the effects; groups on other assets are not written unless
        ``asset_map`` maps them (catalog asset -> model asset id(s)). ``None``: write all.
    window_start, windows:
        ``"catalog"`` or ``"asset"`` (:func:`~sim.calibration.windows.observation_windows`);
        explicit windows per catalog asset, (start, end or ``None``).
    confidence:
        Level of the rate confidence intervals.
    split_date, split_regimes, split_causes:
        If ``split_date`` is given, rates are also fitted before and from it, and the hazard
        gets ``regime_multipliers`` named by ``split_regimes`` (before, after); only for the
        cause classes ``split_causes`` (default: all; other groups keep one rate).
    seasonal, season_prior:
        Fit a seasonal profile (:mod:`sim.calibration.seasonal`) shrunk to a flat prior of
        ``season_prior`` pseudo-events.

    Returns
    -------
    list of GroupFit
        One per (asset, cause class), sorted by asset and cause.
    """
    wins = observation_windows(catalog, as_of, start=window_start, windows=windows)
    kinds, model = _model_ids(model_assets)
    opts = _Options(
        mapping=dict(asset_map or {}),
        model=model,
        kinds=kinds,
        confidence=confidence,
        split=None if split_date is None else pd.Timestamp(split_date),
        split_regimes=split_regimes,
        causes=None if split_causes is None else set(split_causes),
        seasonal=seasonal,
        season_prior=season_prior,
    )
    groups = catalog.groupby(
        [catalog["asset"].astype(str), catalog["cause_class"].astype(str)], sort=True
    )
    return [_fit_group(asset, cause, g, wins.loc[asset], opts) for (asset, cause), g in groups]


@dataclass(frozen=True)
class _Options:
    """The options of :func:`fit_groups` every group is fitted with."""

    mapping: dict[str, str | list[str]]
    model: set[str] | None
    kinds: dict[str, str] | None
    confidence: float
    split: pd.Timestamp | None
    split_regimes: tuple[str, str]
    causes: set[str] | None
    seasonal: bool
    season_prior: float


def _model_ids(
    model_assets: Iterable[str] | Mapping[str, str] | None,
) -> tuple[dict[str, str] | None, set[str] | None]:
    """Return the model's asset kinds (when given as a mapping) and its asset ids."""
    kinds: dict[str, str] | None = None
    model: set[str] | None = None
    if isinstance(model_assets, Mapping):
        kinds = dict(model_assets)
        model = set(kinds)
    elif model_assets is not None:
        model = set(model_assets)
    return kinds, model


def _fit_group(asset: str, cause: str, g: pd.DataFrame, w: pd.Series, opts: _Options) -> GroupFit:
    """Fit one (asset, cause) group ``g`` over its observation window ``w``."""
    w0, w1, years = w["window_start"], w["window_end"], float(w["exposure_years"])
    inside = in_window(g["start_date"], w0, w1)
    fit = GroupFit(str(asset), str(cause), g, w0, w1, years, str(w["basis"]), int(inside.sum()))
    notes = fit.notes
    if fit.n_in_window < fit.n:
        notes.append(f"{fit.n - fit.n_in_window} event(s) outside the window not counted")
    if 0 < years < 1:
        notes.append("window shorter than 1 year")
    if years > 0:
        fit.rate = fit_rate(fit.n_in_window, years, opts.confidence)
    else:
        notes.append("zero-length window: no rate")
    split, causes = opts.split, opts.causes
    if split is not None and years > 0 and (causes is None or cause in causes):
        fit.split = _split(g, w0, w1, split, opts.split_regimes, opts.confidence)
    if g["duration_days"].notna().any():
        fit.durations = fit_duration(g["duration_days"], g["end_is_censored"])
        if fit.durations.chosen.note:
            notes.append(fit.durations.chosen.note)
    else:
        notes.append("no durations: no duration fit")
    _assign_targets(fit, opts)
    if opts.seasonal and years > 0:
        fit.season = fit_seasonal(g["start_date"], w0, w1, opts.season_prior)
        if fit.season.note:
            notes.append(fit.season.note)
    base = fit.base_rate
    has_rate = base is not None and base.rate_per_year > 0
    if fit.targets and has_rate and fit.durations is not None:
        fit.hazard_id = f"{asset}_{cause}"
    elif fit.targets and not has_rate and years > 0:
        notes.append("no event in the window: not written")
    return fit


def _assign_targets(fit: GroupFit, opts: _Options) -> None:
    """Set the model assets a group is written for, and its effect (shaped by their kind)."""
    asset = fit.asset
    if asset in opts.mapping:
        targets = opts.mapping[asset]
        fit.targets = [targets] if isinstance(targets, str) else list(targets)
    elif opts.model is None or asset in opts.model:
        fit.targets = [str(asset)]
    else:
        fit.notes.append("not a model asset: not written")
    kinds = opts.kinds
    target_kinds = {kinds.get(t) for t in fit.targets} if kinds else {None}
    fit.effect = fit_effect(fit.rows, target_kinds.pop() if len(target_kinds) == 1 else None)


def hazard_entry(fit: GroupFit, source: str, confidence: float = 0.95) -> dict:
    """Return one group's config ``hazards`` entry (see :func:`fit_groups`)."""
    assert fit.rate is not None and fit.durations is not None
    dur = fit.durations.chosen
    base, regime = fit.split.base() if fit.split is not None else (fit.rate, {})
    assert base is not None
    arrivals: dict = {"process": "poisson", "rate_per_year": round_sig(base.rate_per_year)}
    if fit.season is not None:
        arrivals["monthly_multipliers"] = fit.season.config()
    entry: dict = {"assets": list(fit.targets), "cause": fit.cause, "arrivals": arrivals}
    entry["duration"] = duration_config(dur)
    if fit.effect.effect:
        entry["effect"] = dict(fit.effect.effect)
    if regime:
        entry["regime_multipliers"] = regime
    entry["rate_uncertainty"] = {
        "events": base.n_events,
        "exposure_years": round_sig(base.exposure_years),
    }
    r = fit.rate
    text = (
        f"fitted from {source}: n={fit.n_in_window} in window "
        f"{fit.window_start:%Y-%m-%d} to {fit.window_end:%Y-%m-%d} ({fit.years:.2f} yr, "
        f"{fit.basis}); rate {int(confidence * 100)}% CI [{round_sig(r.lower, 3)}, "
        f"{round_sig(r.upper, 3)}]/yr"
    )
    if fit.split is not None:
        sp = fit.split
        text += (
            f"; split at {sp.date:%Y-%m-%d}: {_rate_text(sp.before)} before, "
            f"{_rate_text(sp.after)} after (equal-rate p={sp.pvalue:.3g})"
        )
    text += (
        f"; duration {dur.family} from {dur.n} ({dur.n_censored} censored; "
        f"{dur.note or 'by AIC'}); effect from {fit.effect.n} row(s)"
    )
    if fit.season is not None:
        text += f"; season from {fit.season.n} events, prior {fit.season.prior_events:g}"
    if fit.small:
        text += "; small sample"
    entry["source"] = text
    return entry


def _rate_text(r: RateFit | None) -> str:
    if r is None:
        return "no exposure"
    return f"{r.n_events}/{r.exposure_years:.2f} yr = {round_sig(r.rate_per_year, 3)}/yr"


def groups_table(fits: list[GroupFit]) -> pd.DataFrame:
    """Return one row per group: counts, windows, rates, durations, effect, season, notes."""
    rows = []
    for f in fits:
        r, d = f.rate, f.durations.chosen if f.durations else None
        row = {
            "asset": f.asset,
            "cause": f.cause,
            "n": f.n,
            "n_in_window": f.n_in_window,
            "n_censored": int(f.rows["end_is_censored"].sum()),
            "window_start": f.window_start,
            "window_end": f.window_end,
            "window_basis": f.basis,
            "years": f.years,
            "rate_per_year": r.rate_per_year if r else np.nan,
            "rate_lo": r.lower if r else np.nan,
            "rate_hi": r.upper if r else np.nan,
        }
        if f.split is not None:
            for name, part in (("before", f.split.before), ("after", f.split.after)):
                row[f"n_{name}"] = part.n_events if part else 0
                row[f"years_{name}"] = part.exposure_years if part else 0.0
                row[f"rate_{name}"] = part.rate_per_year if part else np.nan
                row[f"rate_{name}_lo"] = part.lower if part else np.nan
                row[f"rate_{name}_hi"] = part.upper if part else np.nan
            row["split_pvalue"] = f.split.pvalue
        row.update(
            {
                "family": d.family if d else "",
                "n_durations": d.n if d else 0,
                "n_durations_censored": d.n_censored if d else 0,
                "mean_days": d.mean() if d else np.nan,
                "median_days": d.median() if d else np.nan,
                "aic": d.aic if d else np.nan,
                "ks_stat": d.ks_stat if d else np.nan,
                "effect": f.effect.describe(),
                "n_effect": f.effect.n,
                "season": " ".join(f"{v:.2f}" for v in f.season.multipliers) if f.season else "",
                "n_season": f.season.n if f.season else 0,
                "small_sample": f.small,
                "hazard_id": f.hazard_id,
                "note": "; ".join(f.notes),
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


def calibrate(
    catalog: pd.DataFrame,
    as_of: str | pd.Timestamp | None = None,
    model_assets: Iterable[str] | Mapping[str, str] | None = None,
    asset_map: Mapping[str, str | list[str]] | None = None,
    source: str = "catalog",
    window_start: str = "catalog",
    confidence: float = 0.95,
    **options,
) -> tuple[pd.DataFrame, dict]:
    """Fit every group of a catalog; return the table and a ``{"hazards": {...}}`` mapping.

    Parameters are those of :func:`fit_groups` (``options`` passes ``windows``, ``split_date``,
    ``split_regimes``, ``split_causes``, ``seasonal`` and ``season_prior``), plus ``source``,
    the catalog's name quoted in each hazard's ``source``.

    Returns
    -------
    table : pandas.DataFrame
        See :func:`groups_table`.
    hazards : dict
        ``{"hazards": {<asset>_<cause>: {assets, cause, arrivals, duration, effect,
        regime_multipliers, rate_uncertainty, source}}}``.
    """
    fits = fit_groups(
        catalog, as_of, model_assets, asset_map, window_start, confidence=confidence, **options
    )
    hazards = {f.hazard_id: hazard_entry(f, source, confidence) for f in fits if f.hazard_id}
    return groups_table(fits), {"hazards": hazards}
