"""HTML building blocks of the reports: readable tables, inlined figures, one page.

Tables put numbers right-aligned with thousands separators and text left-aligned (wrapping long
strings), so they stay within an A4-wide page; figures are inlined as PNG data URIs, so a page
is one self-contained file with no scripts and nothing fetched.
"""

from __future__ import annotations

import base64
import html
import io
import math
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from sim.figures import run as plots

CSS = """
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


def _breakable(text: str) -> str:
    """Escape ``text`` (once) and let words of 15+ characters wrap after '_', '#' and '/'.

    Words are split on the raw text and each piece escaped, so a break never lands inside an
    entity (an apostrophe's ``&#x27;`` split after its '#' showed literally).
    """
    out, pos = [], 0
    for m in _LONG_WORD.finditer(text):
        out.append(html.escape(text[pos : m.start()]))
        out.append("<wbr>".join(html.escape(p) for p in _BREAK_AFTER.split(m.group(0))))
        pos = m.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def img(fig) -> str:
    """Return ``fig`` as a PNG data URI (and close it)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plots.plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def table(
    df: pd.DataFrame, formats: dict[str, Format] | None = None, numeric_text: bool = True
) -> str:
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
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for r in df.itertuples(index=False):
        cells = []
        for c, v in zip(df.columns, r):
            if c in formats:
                text, right = formats[c](v), True
            elif c in numeric:
                text, right = sig(v), True
            else:
                text = "–" if _missing(v) else str(v)
                right = numeric_text and bool(_NUMBER_TEXT.match(text))
            cls = "n" if right else "t"
            cells.append(f"<td class='{cls}'>{_breakable(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def figure(fig, caption: str) -> str:
    """Return ``fig`` as an inlined ``<figure>`` with its caption."""
    c = html.escape(caption)
    return f"<figure><img alt='{c}' src='{img(fig)}'><figcaption>{c}</figcaption></figure>"


def page(title: str, body: list[str]) -> str:
    """Return a complete HTML document with the shared style."""
    return "\n".join(
        [
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
            f"<title>{html.escape(title)}</title>",
            f"<style>{CSS}</style></head><body>",
            *body,
            "</body></html>",
        ]
    )
