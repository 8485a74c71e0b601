"""HTML building blocks of the reports: Jinja2 templates, readable tables, inlined figures.

Every page is rendered from a template in ``sim/report/templates`` by one Jinja2 environment
with autoescaping, so each text is escaped exactly once and nothing is escaped by hand. Tables
put numbers right-aligned with thousands separators and text left-aligned (long words may wrap
after '_', '#' and '/'), so they stay within an A4-wide page; figures are inlined as PNG data
URIs, so a page is one self-contained file with no scripts and nothing fetched.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

TEMPLATES = Path(__file__).resolve().parent / "templates"
"""Directory of the report templates."""

ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
"""The one template environment of the reports (autoescaping on)."""

CSS = Markup(
    """
body{font-family:system-ui,sans-serif;max-width:58rem;margin:2rem auto;
padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ddd}
h3{font-size:1.05rem;margin-top:1.4rem}
table{border-collapse:collapse;font-size:.82rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.2rem .45rem;vertical-align:top}
th{background:#f4f4f4;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.t{text-align:left;overflow-wrap:break-word}
figure{margin:1rem 0}img{max-width:100%}figcaption{font-size:.85rem;color:#555}
p.note{font-size:.85rem;color:#444}
"""
)
"""The shared style of every report page (a trusted constant)."""

Format = Callable[[object], str]


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA


def num(digits: int = 1) -> Format:
    """Return a formatter with ``digits`` decimals and thousands separators ("–" for NaN)."""

    def fmt(v: object) -> str:
        if _missing(v):
            return "–"
        if isinstance(v, bool | np.bool_):
            return "yes" if v else "no"
        if isinstance(v, int | np.integer):
            return f"{int(v):,}"
        x = round(float(v), digits) + 0.0  # no "-0"
        return f"{x:,.{digits}f}"

    return fmt


def sig(v: object) -> str:
    """Format a number with four significant digits, thousands separated ("0" below 1e-9)."""
    if _missing(v):
        return "–"
    if isinstance(v, int | np.integer):
        return f"{int(v):,}"
    x = float(v)
    if abs(x) < 1e-9:
        return "0"
    digits = max(0, 3 - int(math.floor(math.log10(abs(x)))))
    return f"{x:,.{min(digits, 6)}f}"


_NUMBER_TEXT = re.compile(r"^[≥≤]?\s?[-+]?[\d,.]+(\s?–\s?[-+]?[\d,.]+)?$")
_LONG_WORD = re.compile(r"\S{15,}")
_BREAK_AFTER = re.compile(r"(?<=[_#/])")


def wrap_points(text: str) -> list[str]:
    """Split ``text`` where a line may break: after '_', '#' and '/' in words of 15+ characters.

    The template joins the pieces with ``<wbr>`` and escapes each piece, so a break never lands
    inside a character reference.
    """
    pieces = [""]
    pos = 0
    for m in _LONG_WORD.finditer(text):
        parts = _BREAK_AFTER.split(m.group(0))
        pieces[-1] += text[pos : m.start()] + parts[0]
        pieces.extend(parts[1:])
        pos = m.end()
    pieces[-1] += text[pos:]
    return pieces


def render(template: str, **context: Any) -> str:
    """Render a template of ``sim/report/templates`` (the shared style is ``css``)."""
    return ENV.get_template(template).render(css=CSS, **context)


def _cell(value: object, fmt: Format | None, numeric: bool, numeric_text: bool) -> dict:
    if fmt is not None:
        text, right = fmt(value), True
    elif numeric:
        text, right = sig(value), True
    else:
        text = "–" if _missing(value) else str(value)
        right = numeric_text and bool(_NUMBER_TEXT.match(text))
    return {"cls": "n" if right else "t", "pieces": wrap_points(text)}


def table(
    df: pd.DataFrame, formats: dict[str, Format] | None = None, numeric_text: bool = True
) -> Markup:
    """Render ``df`` as an HTML table.

    Numbers are right-aligned (integers as integers, others to four significant digits, or
    with ``formats[column]``), as are texts that are numbers (ranges, "≥ x") unless
    ``numeric_text`` is false (key-value tables); other text is left-aligned and may wrap
    after underscores.
    """
    formats = formats or {}
    numeric = {
        c
        for c in df.columns
        if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
    }
    rows = [
        [_cell(v, formats.get(c), c in numeric, numeric_text) for c, v in zip(df.columns, r)]
        for r in df.itertuples(index=False)
    ]
    html = ENV.get_template("table.html").render(columns=[str(c) for c in df.columns], rows=rows)
    return Markup(html.strip())


def data_uri(png: bytes) -> str:
    """Return PNG bytes as a ``data:`` URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode()


def figure(png: bytes, caption: str) -> Markup:
    """Return a PNG as an inlined ``<figure>`` with its caption."""
    html = ENV.get_template("figure.html").render(src=data_uri(png), caption=caption)
    return Markup(html.strip())


__all__ = ["CSS", "ENV", "data_uri", "figure", "num", "render", "sig", "table", "wrap_points"]
