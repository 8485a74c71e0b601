"""Every notebook in notebooks/ runs top to bottom (small replication counts) and shows its figures.

Notebooks are found by globbing: quickstart.ipynb, policy_comparison.ipynb and replay.ipynb
(historical replay). The kernel runs with Jupyter's own inline backend (``MPLBACKEND`` is
removed from its environment), so a notebook that draws must show at least one PNG: a library
import that switched Matplotlib to a file-only backend (``matplotlib.use("Agg")``) left them
all blank.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
DRAWS = re.compile(r"\.plot\.\w+\(|\bplots\.\w+\(|\.figure\(\)")
"""Code that draws a figure: the ``run.plot`` accessor, a figures module, ``replay.figure()``."""


def _code(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("CORRIDOR_SIM_NB_REPLICATIONS", "8")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend, as in Jupyter
    nb = nbformat.read(path, as_version=4)
    assert not any(c.get("outputs") for c in _code(nb)), "outputs must be stripped in git"
    nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    outputs = [o for c in _code(nb) for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    if any(DRAWS.search(c.source) for c in _code(nb)):
        images = [o for o in outputs if "image/png" in o.get("data", {})]
        assert images, f"{path.name} draws figures but shows none"


def test_there_are_notebooks():
    assert {"quickstart", "replay"} <= {p.stem for p in NOTEBOOKS}
