"""Figure properties a reader relies on (not pixels): sizes, tick labels, names, dates.

The criticality chart's "everything inside the figure" check is in tests/test_criticality.py.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from sim.analysis import losses
from sim.figures import fans
from sim.figures import run as plots
from sim.figures.labels import asset_label, thousands
from sim.figures.style import close

MAX_SVG_BYTES = 1_500_000


def _ticklabels(axis) -> list[str]:
    axis.figure.canvas.draw()
    return [t.get_text() for t in axis.get_ticklabels() if t.get_text()]


def test_event_scatter_svg_of_a_large_run_stays_small():
    # 60,000 events (a 10,000-replication run of the default config has ~170,000): as vector
    # markers the SVG took ~150 bytes per point (8.9 MB here); dense scatters are drawn as an image.
    rng = np.random.default_rng(1)
    n = 60_000
    elt = pd.DataFrame(
        {
            "replication": np.arange(n) // 6,
            "event": np.arange(n) % 6,
            "cause": rng.choice(["weather", "technical", "military"], n),
            "duration_days": rng.lognormal(1.0, 1.0, n),
            "loss_usd": rng.lognormal(17.0, 1.5, n),
        }
    )
    fig = plots.event_scatter(elt)
    buf = io.BytesIO()
    fig.savefig(buf, format="svg")
    close(fig)
    assert buf.tell() < MAX_SVG_BYTES, f"{buf.tell():,} bytes"
    # A small run keeps vector markers (sharp at any zoom).
    fig = plots.event_scatter(elt.head(500))
    assert not any(c.get_rasterized() for c in fig.axes[0].collections)
    close(fig)


def test_axes_have_thousands_separators_and_no_scientific_notation():
    ylt = losses.year_loss_table(
        pd.DataFrame(
            {
                "replication": np.arange(40),
                "revenue_loss_usd": np.arange(1, 41) * 5e8,  # up to 20,000 USD million
                "offset_shut_in_mt": np.zeros(40),
            }
        )
    )
    for fig in (plots.ep_curves(ylt), plots.loss_histogram(ylt), plots.convergence(ylt)):
        ax = fig.axes[0]
        labels = _ticklabels(ax.yaxis) + _ticklabels(ax.xaxis)
        assert any("," in t for t in labels), labels
        assert not any("e+" in t or "e-" in t for t in labels), labels
        assert ax.yaxis.get_offset_text().get_text() == ""
        close(fig)
    assert (
        thousands(12500.0) == "12,500"
        and thousands(0.25) == "0.25"
        and thousands(1e6) == ("1,000,000")
    )


@pytest.mark.parametrize(
    "ident, label",
    [
        ("cpc_terminal", "CPC terminal"),
        ("btc", "BTC"),
        ("atyrau_samara", "Atyrau–Samara"),
        ("mangystau_to_aktau", "Mangystau to Aktau"),
        ("novorossiysk_tanks", "Novorossiysk tanks"),
        ("caspian_shuttle", "Caspian shuttle"),
        ("west_kz", "West KZ"),
        ("field_a", "Field A"),
    ],
)
def test_asset_labels_are_readable(ident, label):
    assert asset_label(ident) == label


def test_spare_capacity_and_fan_charts_name_assets_readably():
    reps = pd.DataFrame(
        {
            "spare_used_pct.cpc_terminal": [0.0, 5.0, 10.0],
            "spare_used_pct.atyrau_samara": [1.0, 2.0, 3.0],
        }
    )
    fig = plots.spare_capacity(reps)
    assert set(_ticklabels(fig.axes[0].yaxis)) == {"CPC terminal", "Atyrau–Samara"}
    close(fig)


def test_fan_charts_show_calendar_months_from_the_start_date():
    days = np.arange(120)
    ts = pd.DataFrame(
        {
            "replication": np.repeat([0, 1, 2], len(days)),
            "day": np.tile(days, 3),
            "level_mt.novorossiysk_tanks": np.tile(np.sin(days / 9.0) + 1.0, 3),
        }
    )
    fig = fans.fan_storage(ts, "2026-01-01")
    ax = fig.axes[0]
    assert ax.get_title() == "Novorossiysk tanks"
    labels = _ticklabels(ax.xaxis)
    assert {"Feb", "Mar", "Apr"} <= set(labels), labels
    close(fig)
    fig = fans.fan_storage(ts)  # without a start date: day numbers, said so
    assert "Day of the run" in fig.axes[0].get_xlabel()
    close(fig)
