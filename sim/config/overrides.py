"""Apply ``--set KEY=VALUE`` dotted overrides to a parsed config mapping."""

from __future__ import annotations

import copy
from typing import Any

from sim.base.errors import ConfigError, Problem
from sim.config.yamlsafe import TooLargeError, parse_yaml_value

__all__ = ["apply_overrides", "parse_override_value"]


def parse_override_value(text: str) -> Any:
    """Read a ``--set`` value as YAML (``60``, ``false``, ``[1, 2]``), else keep it as text."""
    if not text.strip():
        return ""
    try:
        return parse_yaml_value(text, "--set")
    except ConfigError as exc:
        if isinstance(exc, TooLargeError):
            raise
        return text


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of ``data`` with ``KEY=VALUE`` dotted overrides applied.

    Keys walk mappings by name and lists by index or by the ``id`` of an element, e.g.
    ``pipelines.cpc_pipeline.capacity_mt_per_year=60`` or ``hazards.cpc_storm.enabled=false``.
    Only keys that already exist (or optional keys of an existing mapping) may be set; the
    result is validated by the same schema as a file.

    Raises
    ------
    ConfigError
        If an override is malformed or names a list element that does not exist.
    """
    out = copy.deepcopy(data)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(Problem(item, "expected KEY=VALUE"), "--set")
        key, value = item.split("=", 1)
        parts = [p for p in key.strip().split(".")]
        if not all(parts):
            raise ConfigError(Problem(key, "empty key segment"), "--set")
        node: Any = out
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            where = ".".join(parts[: depth + 1])
            if isinstance(node, list):
                index = _list_index(node, part)
                if index is None:
                    raise ConfigError(
                        Problem(where, f"no list element with index or id '{part}'"), "--set"
                    )
                if last:
                    node[index] = parse_override_value(value)
                else:
                    node = node[index]
            elif isinstance(node, dict):
                if last:
                    node[part] = parse_override_value(value)
                else:
                    if part not in node:
                        known = ", ".join(sorted(map(str, node))) or "none"
                        raise ConfigError(
                            Problem(where, f"no such key (keys here: {known})"), "--set"
                        )
                    node = node[part]
            else:
                raise ConfigError(Problem(where, "cannot descend into a scalar value"), "--set")
    return out


def _list_index(items: list[Any], part: str) -> int | None:
    """Return the index of the list element ``part`` names (an index or an ``id``/``name``)."""
    if part.isascii() and part.isdigit() and len(part) <= 18 and int(part) < len(items):
        return int(part)
    for i, el in enumerate(items):
        if isinstance(el, dict) and (el.get("id") == part or el.get("name") == part):
            return i
    return None
