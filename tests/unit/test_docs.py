"""The documentation stays true: the generated reference is current and every link resolves."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from conftest import load_script

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "reference"
MARKDOWN = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
# Where files name a doc by its path (prose, comments, messages).
MENTIONING = ["sim", "scripts", "tests", "configs", "notebooks", "seeds", "benchmarks"]
OLD_PATHS_KEPT: set[tuple[str, str]] = set()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reference")
    load_script("api_reference").write(out)
    return out


@pytest.mark.parametrize("page", ["README.md", "python.md", "config.md", "cli.md", "modules.md"])
def test_reference_is_current(generated: Path, page: str) -> None:
    if page == "cli.md" and sys.version_info >= (3, 13):
        pytest.skip("argparse formats --help differently from Python 3.13 on")
    committed = (REFERENCE / page).read_text(encoding="utf-8")
    assert committed == (generated / page).read_text(encoding="utf-8"), (
        f"docs/reference/{page} is stale: run `python scripts/api_reference.py`"
    )


def test_reference_has_no_other_pages(generated: Path) -> None:
    assert sorted(p.name for p in REFERENCE.iterdir()) == sorted(
        p.name for p in generated.iterdir()
    )


def _links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)
    return re.findall(r"\]\(([^)\s]+)\)", text)


@pytest.mark.parametrize("doc", MARKDOWN, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_resolve(doc: Path) -> None:
    broken = []
    for link in _links(doc):
        target = link.split("#", 1)[0]
        if not target or re.match(r"[a-z]+:", target):
            continue  # an anchor on the page, or a URL
        if not (doc.parent / target).exists():
            broken.append(link)
    assert not broken, f"{doc.relative_to(ROOT)}: broken links {broken}"


def test_doc_paths_named_anywhere_exist() -> None:
    """A `docs/<name>.md` path named in code, configs, tests or docs is a file that exists."""
    files = [p for d in MENTIONING for p in (ROOT / d).rglob("*") if p.is_file()]
    files += MARKDOWN
    missing = []
    for path in files:
        if path.suffix not in {".py", ".md", ".yaml", ".sh", ".ipynb", ".toml"}:
            continue
        if path == Path(__file__).resolve():  # names old paths in OLD_PATHS_KEPT
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for name in set(re.findall(r"\bdocs/[\w./-]+\.md\b", text)):
            rel = path.relative_to(ROOT).as_posix()
            if not (ROOT / name).exists() and (rel, name) not in OLD_PATHS_KEPT:
                missing.append(f"{rel}: {name}")
    assert not missing, "\n".join(sorted(missing))
