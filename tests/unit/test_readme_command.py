"""The README's test command is plain ``pytest``: test modules must import as it imports them.

``pytest`` (unlike ``python -m pytest``) does not put the working directory on ``sys.path``; the
tests directory is (``pythonpath`` in pyproject.toml), so shared helpers come from ``conftest``,
never from a ``tests.`` package path.
"""

import re

from conftest import ROOT


def test_no_test_module_imports_the_tests_package():
    pattern = re.compile(r"^\s*(from\s+tests[.\s]|import\s+tests\b)", re.MULTILINE)
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], f"import from conftest instead of tests.conftest: {offenders}"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install -e ".[dev]" && pytest\n' in readme
    assert re.search(r"^pytest$", ci, re.MULTILINE), ".ci/run must run the README's `pytest`"
