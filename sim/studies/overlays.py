"""Scenario overlays on a resolved config mapping: change existing keys, or append new entries.

Two operations, kept apart on purpose so that a typo never silently creates something new:

* :func:`overlay` patches keys that already exist (mappings key by key, lists by element id);
* :func:`add_entries` appends new list entries (storages, pipelines, routes, ...) and new
  hazards, and refuses any id that the config already has.

Both work on the JSON form of a validated config (``Config.model_dump(mode="json")``), in which
every optional key is present, so "the key exists" is a strict test. Both return new mappings
and never modify their input. The result is validated by the full config schema by the caller.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from sim.base.errors import ConfigError, Problem
from sim.base.strict import Strict

ASSET_SECTIONS = ("sources", "storages", "pipelines", "terminals", "shuttles", "markets")
"""Sections whose ids share one namespace (an asset id is unique across all of them)."""

LIST_SECTIONS = (*ASSET_SECTIONS, "routes", "scripted_events")


class Additions(Strict):
    """New entries appended to a config: list sections take lists, ``hazards`` a mapping."""

    sources: list[dict[str, Any]] = []
    storages: list[dict[str, Any]] = []
    pipelines: list[dict[str, Any]] = []
    terminals: list[dict[str, Any]] = []
    shuttles: list[dict[str, Any]] = []
    markets: list[dict[str, Any]] = []
    routes: list[dict[str, Any]] = []
    scripted_events: list[dict[str, Any]] = []
    hazards: dict[str, dict[str, Any]] = {}

    def is_empty(self) -> bool:
        """Return True when nothing is added."""
        return not any(getattr(self, name) for name in (*LIST_SECTIONS, "hazards"))

    def labels(self) -> list[str]:
        """``section:id`` of every added entry, in file order."""
        out = [
            f"{section}:{item.get('id', i)}"
            for section in LIST_SECTIONS
            for i, item in enumerate(getattr(self, section))
        ]
        return out + [f"hazards:{name}" for name in self.hazards]


def _element_index(items: list[Any], key: Any) -> int | None:
    for i, el in enumerate(items):
        if isinstance(el, dict) and key in (el.get("id"), el.get("name")):
            return i
    if isinstance(key, int) and 0 <= key < len(items):
        return key
    if isinstance(key, str) and key.isdigit() and int(key) < len(items):
        return int(key)
    return None


def overlay(base: Any, patch: Any, path: str = "") -> Any:
    """Return ``base`` with ``patch`` applied; every patched key must already exist.

    Mappings merge key by key; a list is patched by a mapping whose keys are element ids (or
    indices); anything else is replaced.

    Raises
    ------
    ConfigError
        When a key or list element named by the patch does not exist in ``base``.
    """
    if isinstance(patch, dict) and isinstance(base, dict):
        out = dict(base)
        for key, value in patch.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in base:
                known = ", ".join(sorted(map(str, base))) or "none"
                raise ConfigError(
                    Problem(where, f"no such key in the base config (keys here: {known})")
                )
            out[key] = overlay(base[key], value, where)
        return out
    if isinstance(patch, dict) and isinstance(base, list):
        out_list = list(base)
        for key, value in patch.items():
            where = f"{path}.{key}"
            idx = _element_index(base, key)
            if idx is None:
                raise ConfigError(Problem(where, "no list element with this id or index"))
            out_list[idx] = overlay(base[idx], value, where)
        return out_list
    return patch


def require_key(data: dict[str, Any], dotted: str) -> Any:
    """Return the value at a dotted key of ``data``; the key must exist (no new keys).

    Mappings are walked by key, lists by element id/name or index, as in ``--set``.

    Raises
    ------
    ConfigError
        Naming the first segment that does not exist and what exists there instead.
    """
    node: Any = data
    parts = dotted.split(".")
    if not all(parts):
        raise ConfigError(Problem(dotted, "empty key segment"))
    for depth, part in enumerate(parts):
        where = ".".join(parts[: depth + 1])
        if isinstance(node, dict):
            if part not in node:
                known = ", ".join(sorted(map(str, node))) or "none"
                raise ConfigError(
                    Problem(where, f"no such key in the base config (keys here: {known})")
                )
            node = node[part]
        elif isinstance(node, list):
            idx = _element_index(node, part)
            if idx is None:
                raise ConfigError(Problem(where, "no list element with this id or index"))
            node = node[idx]
        else:
            raise ConfigError(Problem(where, "cannot descend into a scalar value"))
    return node


def flatten_patch(patch: Any, path: str = "") -> dict[str, Any]:
    """Dotted key -> new value for every leaf of an ``overrides`` mapping."""
    if isinstance(patch, dict) and patch:
        out: dict[str, Any] = {}
        for key, value in patch.items():
            out.update(flatten_patch(value, f"{path}.{key}" if path else str(key)))
        return out
    return {path: patch}


def add_entries(base: dict[str, Any], additions: Additions) -> dict[str, Any]:
    """Return ``base`` with the new entries of ``additions`` appended.

    Raises
    ------
    ConfigError
        With the key path inside the ``add`` block (e.g. ``storages[0].id``) when an entry has
        no id or reuses an id of the base config (or of another added entry).
    """
    out = copy.deepcopy(base)
    problems: list[Problem] = []
    asset_ids = {
        item["id"]: section for section in ASSET_SECTIONS for item in base.get(section, [])
    }
    section_ids = {
        section: {item.get("id") for item in base.get(section, []) if isinstance(item, dict)}
        for section in ("routes", "scripted_events")
    }
    for section in LIST_SECTIONS:
        for i, item in enumerate(getattr(additions, section)):
            where = f"{section}[{i}].id"
            ident = item.get("id")
            if ident is None:
                if section != "scripted_events":
                    problems.append(
                        Problem(where, "required key is missing (new entries need ids)")
                    )
            elif section in ASSET_SECTIONS:
                if ident in asset_ids:
                    problems.append(Problem(where, _collision(ident, asset_ids[ident])))
                asset_ids.setdefault(ident, f"add.{section}")
            else:
                if ident in section_ids[section]:
                    problems.append(Problem(where, _collision(ident, section)))
                section_ids[section].add(ident)
            out.setdefault(section, []).append(copy.deepcopy(item))
    hazards = out.setdefault("hazards", {})
    for name, hazard in additions.hazards.items():
        if name in hazards:
            problems.append(Problem(f"hazards.{name}", _collision(name, "hazards")))
        hazards[name] = copy.deepcopy(hazard)
    if problems:
        raise ConfigError(problems)
    return out


def _collision(ident: str, where: str) -> str:
    return (
        f"'{ident}' already exists ({where}); `add` may only introduce new ids "
        "(change an existing entry with overrides or set)"
    )


_INDEXED = re.compile(r"^(?P<section>[a-z_]+)\[(?P<index>\d+)\](?P<rest>.*)$")


def addition_path(path: str, base: dict[str, Any], additions: Additions) -> str | None:
    """Map a key path of the merged config back into the ``add`` block, if it points there.

    ``storages[3].capacity_mt`` with three base storages becomes ``add.storages[0].capacity_mt``;
    ``hazards.new_one.duration`` becomes ``add.hazards.new_one.duration``. Paths into the base
    part of the config give ``None``.
    """
    m = _INDEXED.match(path)
    if m and m["section"] in LIST_SECTIONS:
        offset = len(base.get(m["section"], []))
        index = int(m["index"])
        if index >= offset:
            return f"add.{m['section']}[{index - offset}]{m['rest']}"
        return None
    parts = path.split(".")
    if len(parts) >= 2 and parts[0] == "hazards" and parts[1] in additions.hazards:
        return "add." + path
    return None


def value_label(value: Any) -> Any:
    """Return a table cell: numbers, strings and booleans as they are, others as JSON."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return json.dumps(value, sort_keys=True)


__all__ = [
    "ASSET_SECTIONS",
    "Additions",
    "add_entries",
    "addition_path",
    "flatten_patch",
    "overlay",
    "require_key",
    "value_label",
]
