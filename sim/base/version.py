"""The package version, declared once: the ``version`` of ``pyproject.toml``.

Read from the installed distribution's metadata (``pip install -e .`` included); a source tree
that was never installed reports ``0+unknown``.
"""

from __future__ import annotations

from importlib import metadata

DISTRIBUTION = "corridor-sim"


def _installed_version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0+unknown"


__version__ = _installed_version()
