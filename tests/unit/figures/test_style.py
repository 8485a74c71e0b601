"""The figures never choose Matplotlib's backend, and the report pages do not draw."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from sim.base.columns import metric_scale, unit_scale, unit_words
from sim.figures.style import new_figure, png_bytes

ROOT = Path(__file__).resolve().parents[3]


def test_no_module_switches_the_backend():
    """``matplotlib.use`` at import time blanked every figure of a notebook."""
    calls = []
    for path in (ROOT / "sim").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "use":
                if getattr(node.func.value, "id", "") == "matplotlib":
                    calls.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not calls


def test_importing_figures_and_reports_keeps_the_backend():
    code = (
        "import matplotlib\n"
        "import sim.figures.run, sim.figures.studies, sim.report.run, sim.calibration.report\n"
        "import sim.replay.report\n"
        "import matplotlib.pyplot\n"
        "print(matplotlib.get_backend())\n"
    )
    env = {"MPLBACKEND": "svg", "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "svg"


def test_html_page_code_imports_no_figures():
    tree = ast.parse((ROOT / "sim" / "report" / "html.py").read_text(encoding="utf-8"))
    modules = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    modules += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in modules if m.startswith(("sim.figures", "matplotlib"))]


def test_png_bytes_closes_the_figure():
    import matplotlib.pyplot as plt

    fig, ax = new_figure()
    ax.plot([1, 2], [3, 4])
    before = len(plt.get_fignums())
    data = png_bytes(fig)
    assert data.startswith(b"\x89PNG") and len(plt.get_fignums()) == before - 1


def test_one_display_scale_of_units():
    assert unit_scale("USD") == (1e6, "USD m")
    assert unit_words("USD") == (1e6, "USD million")
    assert unit_words("Mt") == (1.0, "Mt") and unit_words("fraction") == (1.0, "fraction")
    assert metric_scale("revenue_loss_usd") == (1e6, "USD million")
    assert metric_scale("shut_in_mt") == (1.0, "Mt")
    assert metric_scale("not_a_column") == (1.0, "")
