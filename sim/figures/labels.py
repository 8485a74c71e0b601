"""Readable labels for figures: asset names from ids, numbers with thousands separators.

Configs name assets by ids (``cpc_terminal``, ``atyrau_samara``); figures show them as
``CPC terminal`` and ``Atyrau–Samara`` through :func:`asset_label`, the one place that turns an
id into a name.
"""

from __future__ import annotations

import math

COMMON_WORDS = frozenset(
    """
    and berth berths buffer crude east export exports field fields fleet for from line link
    main new north of oil old other pipe pipeline pipelines port rail road route sea shippers
    shuttle shuttles south spare storage tank tanks terminal terminals the to via west
    """.split()
)
"""Words written in lower case inside a name (the first word is capitalised)."""


def _is_acronym(word: str) -> bool:
    """Return whether ``word`` reads as an abbreviation: letters without a vowel (CPC, BTC)."""
    return word.isalpha() and not any(c in "aeiouy" for c in word.lower())


def asset_label(ident: str) -> str:
    """Return a readable name for an asset or route id.

    Words are split at ``_`` and ``-``; abbreviations (letters without a vowel: ``cpc``,
    ``btc``, ``kz``) are upper-cased, common words (:data:`COMMON_WORDS`) stay lower case,
    other words are proper names and are capitalised. Two proper names alone are a link
    between places: ``atyrau_samara`` is ``Atyrau–Samara``.

    Parameters
    ----------
    ident:
        The id, e.g. ``cpc_terminal``.

    Examples
    --------
    >>> asset_label("cpc_terminal"), asset_label("mangystau_to_aktau")
    ('CPC terminal', 'Mangystau to Aktau')
    """
    words = [w for w in ident.replace("-", "_").split("_") if w]
    if not words:
        return ident
    out = []
    for i, word in enumerate(words):
        low = word.lower()
        if _is_acronym(low):
            out.append(low.upper())
        elif low in COMMON_WORDS or any(c.isdigit() for c in low):
            out.append(low.capitalize() if i == 0 else low)
        else:
            out.append(word[:1].upper() + word[1:])
    proper = [w for w in words if not _is_acronym(w) and w.lower() not in COMMON_WORDS]
    if len(words) == 2 and len(proper) == 2 and all(w.isalpha() for w in words):
        return "–".join(out)
    return " ".join(out)


def thousands(value: float, digits: int | None = None) -> str:
    """Format a number with thousands separators ("1,000", "2,500", "0.25", no "1e+06").

    Parameters
    ----------
    value:
        The number.
    digits:
        Decimals; by default none from 1,000 up and as few as needed below.
    """
    if not math.isfinite(value):
        return str(value)
    if digits is not None:
        return f"{round(value, digits) + 0.0:,.{digits}f}"
    if abs(value) >= 1000 or value == int(value):
        return f"{round(value) + 0:,}"
    return f"{value:,.6g}"
