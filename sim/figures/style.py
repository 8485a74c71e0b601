"""The one style of every figure: palette, size, number format, new figures and their PNG bytes.

Figures are made with :mod:`matplotlib.pyplot`, so Jupyter's inline backend and ``plt.show()``
display them; nothing here chooses the backend. Whatever the environment selects is used
(``MPLBACKEND``; the command line sets a file-only one, see :mod:`sim.cli.entry`), and on a
machine without a display Matplotlib falls back to Agg by itself. Code that only writes files
closes each figure it made (:func:`close`, :func:`png_bytes`).
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from sim.figures.labels import thousands

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
"""The colour-blind-safe palette of every figure."""
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
"""Marker shapes, a second cue beside the colours."""
WIDTH_IN = 7.0
"""Figure width in inches: fits an A4 text column."""
DPI = 120


def thousands_formatter() -> FuncFormatter:
    """Tick labels with thousands separators (no offset or scientific notation)."""
    return FuncFormatter(lambda v, _: thousands(v))


def new_figure(height: float = 4.2) -> tuple[Figure, Axes]:
    """Return a figure of the standard width with one gridded axes and readable tick labels."""
    fig, ax = plt.subplots(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")
    ax.grid(True, alpha=0.3)
    ax.xaxis.set_major_formatter(thousands_formatter())
    ax.yaxis.set_major_formatter(thousands_formatter())
    return fig, ax


def new_grid(
    nrows: int, ncols: int, size: tuple[float, float], dpi: int = DPI, **kw: Any
) -> tuple[Figure, np.ndarray]:
    """Return a figure of ``size`` inches with a ``nrows`` x ``ncols`` array of axes.

    Keyword arguments go to :func:`matplotlib.pyplot.subplots` (``layout``, ``sharex``, ...).
    """
    return plt.subplots(nrows, ncols, figsize=size, dpi=dpi, **kw)


def legend(ax: Axes, **kw: Any) -> None:
    """Draw the legend of ``ax`` in the common style."""
    ax.legend(frameon=True, framealpha=0.92, edgecolor="#cccccc", fontsize=8.5, **kw)


def empty(ax: Axes, text: str) -> None:
    """Replace the axes by a centred note (a figure without data)."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def close(fig: Figure | None) -> None:
    """Release a figure that was only written to a file (no-op for ``None``)."""
    if fig is not None:
        plt.close(fig)


def png_bytes(fig: Figure, **savefig: Any) -> bytes:
    """Return ``fig`` as PNG bytes and close it (keyword arguments go to ``savefig``)."""
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", **savefig)
    finally:
        close(fig)
    return buf.getvalue()


__all__ = [
    "DPI",
    "MARKERS",
    "OKABE_ITO",
    "WIDTH_IN",
    "close",
    "empty",
    "legend",
    "new_figure",
    "new_grid",
    "png_bytes",
    "thousands_formatter",
]
