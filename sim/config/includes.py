"""Merge the hazards of the files a config names under ``include_hazards``.

An included file holds a single ``hazards`` mapping, as ``corridor-sim calibrate`` writes; its
path is relative to the config's directory and must stay inside it. Files are read with
:func:`sim.config.yamlsafe.read_yaml`, so a FIFO or device is refused without being opened.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sim.base.errors import ConfigError, Problem
from sim.config.yamlsafe import read_yaml

__all__ = ["INCLUDE_KEY", "include_hazards"]

INCLUDE_KEY = "include_hazards"
"""Top-level config key naming YAML files of hazards to merge in (see :func:`include_hazards`)."""


def include_hazards(
    data: dict[str, Any], config_path: str | Path | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Merge the hazards of the files named by ``include_hazards`` into ``data``.

    ``include_hazards`` is a path or a list of paths, each relative to the config file's
    directory and inside it (no absolute paths, no ``..`` or symlink leading out of it). Each
    file must hold a single ``hazards`` mapping, as ``corridor-sim calibrate`` writes; its
    hazards are added to the config's own, and a hazard id defined twice is an error. Included
    files cannot include further files. The key is removed, so the resolved config (and its
    hash) holds the merged hazards.

    Returns
    -------
    data : dict
        A copy of ``data`` with the hazards merged (``data`` itself when nothing is included).
    origins : dict
        Included hazard id -> the file it came from.

    Raises
    ------
    ConfigError
        Naming the config file (a bad path) or the included file (bad content).
    """
    if INCLUDE_KEY not in data:
        return data, {}
    name = str(config_path) if config_path is not None else None
    value = data[INCLUDE_KEY]
    entries = _entries(value, name)
    if config_path is None:
        raise ConfigError(Problem(INCLUDE_KEY, "includes need a config file to resolve from"))
    base = Path(config_path).resolve().parent
    out = {k: v for k, v in data.items() if k != INCLUDE_KEY}
    own = out.get("hazards") or {}
    if not isinstance(own, dict):
        return out, {}  # the schema reports the bad hazards mapping
    merged = dict(own)
    origins: dict[str, str] = {}
    for i, entry in enumerate(entries):
        where = INCLUDE_KEY if isinstance(value, str) else f"{INCLUDE_KEY}[{i}]"
        target, shown = _resolve(base, entry, where, name)
        for hazard_id, hz in _included_hazards(target, shown).items():
            if hazard_id in merged:
                first = origins.get(hazard_id, name)
                raise ConfigError(
                    Problem(f"hazards.{hazard_id}", f"already defined in {first}"), shown
                )
            merged[hazard_id] = hz
            origins[hazard_id] = shown
    out["hazards"] = merged
    return out, origins


def _entries(value: Any, name: str | None) -> list[str]:
    """Return the include paths of ``value`` (one path or a list of non-empty paths)."""
    entries = [value] if isinstance(value, str) else value
    if not isinstance(entries, list) or not all(isinstance(e, str) and e for e in entries):
        raise ConfigError(
            Problem(INCLUDE_KEY, "expected a relative file path or a list of them"), name
        )
    return entries


def _resolve(base: Path, entry: str, where: str, name: str | None) -> tuple[Path, str]:
    """Resolve ``entry`` inside ``base``; return the target and the name shown in errors."""
    rel = Path(entry)
    try:
        target = (base / rel).resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # a symlink loop, a NUL byte
        raise ConfigError(Problem(where, f"cannot resolve '{entry}' ({exc})"), name) from None
    if rel.is_absolute() or entry.startswith("~") or not target.is_relative_to(base):
        raise ConfigError(
            Problem(
                where,
                f"'{entry}' must be a path relative to the config's directory and stay "
                f"inside it ({base})",
            ),
            name,
        )
    shown = str(Path(name).parent / rel) if name else str(target)
    if not os.path.exists(target):
        raise ConfigError(Problem(where, f"included file not found: {shown}"), name)
    return target, shown


def _included_hazards(target: Path, shown: str) -> dict[Any, Any]:
    """Read an included file and return its ``hazards`` mapping (its only allowed key)."""
    inc = read_yaml(target)  # a FIFO or device is refused without being opened
    extra = sorted(k for k in inc if k != "hazards")
    if extra or not isinstance(inc.get("hazards"), dict):
        what = f"unexpected key(s) {', '.join(map(str, extra))}" if extra else "no mapping"
        raise ConfigError(
            Problem(
                ", ".join(map(str, extra)) if extra else "hazards",
                f"{what}: an included file holds only a `hazards` mapping "
                "(nested includes are not supported)",
            ),
            shown,
        )
    return inc["hazards"]
