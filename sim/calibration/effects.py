"""What a fitted hazard does when it strikes: the capacity-loss effect from catalog rows.

The catalog records, per event, the realised share of capacity lost (``capacity_lost_fraction``)
and, for SPM events, the number of moorings out (``berths_lost``). A group's effect is built as
follows (every choice is visible in the fitted YAML and the calibration report):

* **berths** when the hazard lands on a terminal and the rows give ``berths_lost``: the median
  of the positive counts, rounded (the terminal's ``capacity_by_berths`` table turns berths into
  capacity);
* otherwise a **fraction**: one observed value is used as it is; two or more distinct values
  give ``uniform(min, max)``, the plainest distribution that spans what was seen;
* ``probability`` is the share of rows with any effect (rows with 0 are events that happened
  but removed nothing, such as a court order that was never enforced);
* on a shuttle a hazard stops sailings, so the effect is always a full stop;
* without any data the config's default applies (the whole capacity is lost).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class EffectFit:
    """The effect of one group's events.

    Attributes
    ----------
    effect:
        The config's ``effect`` mapping (empty when the defaults apply: full loss, always).
    n:
        Rows the effect rests on.
    basis:
        ``berths``, ``fraction``, ``shuttle`` or ``default``.
    note:
        How the effect was obtained, in words.
    """

    effect: dict = field(default_factory=dict)
    n: int = 0
    basis: str = "default"
    note: str = ""

    def describe(self) -> str:
        """Short text of the effect for tables."""
        e = self.effect
        if not e:
            return "full loss"
        parts = []
        if "berths_lost" in e:
            parts.append(f"{e['berths_lost']} berth(s)")
        cap = e.get("capacity_lost")
        if isinstance(cap, dict):
            parts.append(f"uniform({cap['low']:g}, {cap['high']:g})")
        elif cap is not None:
            parts.append(f"{cap:g} of capacity")
        if "probability" in e:
            parts.append(f"p={e['probability']:.3g}")
        return ", ".join(parts)


def _prob(n_effect: int, n_known: int, effect: dict) -> dict:
    if n_known and n_effect < n_known:
        effect["probability"] = round(n_effect / n_known, 4)
    return effect


def fit_effect(rows: pd.DataFrame, target_kind: str | None = None) -> EffectFit:
    """Return the effect of a group's events.

    Parameters
    ----------
    rows:
        The group's catalog rows (``capacity_lost_fraction`` and ``berths_lost`` columns).
    target_kind:
        Kind of the model asset the hazard is written to (``terminal``, ``pipeline``,
        ``source``, ``shuttle``), or ``None`` when unknown.

    Returns
    -------
    EffectFit
        The ``effect`` mapping, the rows it rests on and a note.
    """
    if target_kind == "shuttle":
        return EffectFit({}, len(rows), "shuttle", "a hazard on a shuttle stops sailings")
    berths = rows["berths_lost"].dropna().astype(int).to_numpy()
    if len(berths) and target_kind in ("terminal", None):
        positive = berths[berths > 0]
        if not len(positive):
            return EffectFit(
                {"probability": 0.0}, len(berths), "berths", "no event took a berth out"
            )
        k = max(1, int(np.round(np.median(positive))))
        effect = _prob(len(positive), len(berths), {"berths_lost": k})
        return EffectFit(
            effect, len(berths), "berths", f"median of {len(positive)} positive berths_lost"
        )
    frac = rows["capacity_lost_fraction"].dropna().to_numpy(dtype=float)
    if not len(frac):
        return EffectFit({}, 0, "default", "no capacity_lost_fraction: full loss assumed")
    positive = frac[frac > 0]
    if not len(positive):
        return EffectFit({"probability": 0.0}, len(frac), "fraction", "no event removed capacity")
    values = np.unique(positive)
    if len(values) == 1:
        v = float(values[0])
        effect = {} if v == 1.0 else {"capacity_lost": v}
        note = f"{len(positive)} event(s) at {v:g}"
    else:
        effect = {
            "capacity_lost": {"dist": "uniform", "low": float(values[0]), "high": float(values[-1])}
        }
        note = f"uniform over the range of {len(positive)} observed fractions"
    effect = _prob(len(positive), len(frac), effect)
    return EffectFit(effect, len(frac), "fraction", note)
