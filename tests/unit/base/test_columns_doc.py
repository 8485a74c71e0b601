"""docs/background/outputs.md documents every output column as sim/base/columns.py declares it."""

from __future__ import annotations

from pathlib import Path

from sim.base import columns

DOC = Path(__file__).resolve().parents[3] / "docs" / "background" / "outputs.md"


def test_outputs_doc_is_generated_from_the_declarations():
    assert DOC.read_text(encoding="utf-8") == columns.markdown(), (
        "docs/background/outputs.md is stale: run "
        "`python -m sim.base.columns > docs/background/outputs.md`"
    )


def test_loss_table_columns_are_unique_and_described():
    for title, cols in columns.TABLES.items():
        names = [c.name for c in cols]
        if "families" not in title:
            assert len(names) == len(set(names)), title
        assert all(c.description for c in cols), title
