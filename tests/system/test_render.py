"""Reports are complete HTML pages that render in headless Chromium within an A4-wide window.

The Chromium checks are skipped when no Chromium is installed (Debian: ``apt-get install
chromium``); ``scripts/render_report.sh DIR`` does the same by hand and writes a PNG to look at.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.report.experiment import build_comparison_report
from sim.report.run import write_report
from sim.report.screenshot import find_chromium, page_size, screenshot
from sim.store.layout import atomic_write_bytes
from sim.studies.experiments import run_experiment

SMALL = Path(__file__).resolve().parents[1] / "data" / "small.yaml"
A4_WIDTH_PX = 794
"""An A4 page (210 mm) at 96 CSS pixels per inch."""

NAMES = {"run": "Tengiz's <small> network_model's", "experiment": "render: O'Brien's <levers> & co"}
DESCRIPTION = 'a bigger port_tank\'s_capacity < 0.4 Mt & "more"'
"""Texts with quotes, '<' and '&', some in words long enough to get line-break hints."""

needs_chromium = pytest.mark.skipif(
    find_chromium() is None,
    reason="Chromium is not installed (Debian: apt-get install chromium); "
    "the report render check needs it",
)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """A run report and an experiment report of the small network."""
    root = tmp_path_factory.mktemp("render")
    cfg = sim.load_config(SMALL).model_copy(update={"name": NAMES["run"]})
    run = sim.run(cfg, replications=8, seed=3, executor="serial", out=root / "run")
    run_report = write_report(run)
    exp = root / "exp.yaml"
    (root / "small.yaml").write_bytes(SMALL.read_bytes())  # beside the experiment
    exp.write_text(
        f"name: {json.dumps(NAMES['experiment'])}\nbase: small.yaml\nreplications: 8\n"
        "seed: 3\nmetrics: [revenue_loss_usd, shut_in_mt]\n"
        "scenarios:\n  bigger_tank:\n"
        f"    description: {json.dumps(DESCRIPTION)}\n"
        "    set: [storages.port_tank.capacity_mt=0.4]\n"
        "    cost: {capex_usd: 1.0e6, source: assumed}\n"
    )
    run_experiment(exp, root / "exp", executor="serial")
    exp_report = root / "exp" / "report.html"
    atomic_write_bytes(exp_report, build_comparison_report(root / "exp").encode("utf-8"))
    return {"run": run_report, "experiment": exp_report}


@pytest.mark.parametrize("which", ["run", "experiment"])
def test_reports_are_complete_self_contained_pages(reports, which):
    text = reports[which].read_text(encoding="utf-8")
    assert text.startswith("<!doctype html>") and text.rstrip().endswith("</html>")
    assert "<meta charset='utf-8'>" in text and "<style>" in text
    assert "<script" not in text and "http://" not in text and "https://" not in text
    assert "data:image/png;base64," in text


class _Text(HTMLParser):
    """The text a browser shows (character references resolved once, tags dropped)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _shown_text(path: Path) -> str:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return "".join(parser.parts)


@pytest.mark.parametrize("which", ["run", "experiment"])
def test_reports_escape_each_text_exactly_once(reports, which):
    text = _shown_text(reports[which])
    assert f"{NAMES[which]}" in text
    if which == "experiment":
        assert DESCRIPTION in text
    assert "&#" not in text and "&amp;" not in text and "&lt;" not in text


@needs_chromium
@pytest.mark.parametrize("which", ["run", "experiment"])
def test_reports_render_in_chromium_within_a4_width(reports, which, tmp_path):
    width, height = page_size(reports[which], A4_WIDTH_PX)
    assert width <= A4_WIDTH_PX, f"the {which} report is {width - A4_WIDTH_PX} px too wide"
    assert height > 1500
    png = tmp_path / f"{which}.png"
    shot_width, shot_height = screenshot(reports[which], png, 1000)
    assert shot_width <= 1000
    from matplotlib.image import imread

    pixels = imread(png)
    assert pixels.shape[1] == 1000 and pixels.shape[0] == min(shot_height, 30_000)
    grey = pixels[..., :3].mean(axis=2)
    assert (grey < 0.5).mean() > 0.005, "the screenshot is (almost) blank"
    assert np.std(grey) > 0.05
