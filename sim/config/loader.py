"""Read, override and validate config files.

YAML is read with a safe loader that also rejects duplicate keys, and the document size and
alias expansion are bounded, so a hostile file cannot run code or exhaust memory. Validation
errors from pydantic and from :mod:`sim.config.references` are turned into one
:class:`~sim.errors.ConfigError` listing each problem with the file and key path.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.config.budget import check_budget
from sim.config.models import Config
from sim.config.references import check_references
from sim.errors import ConfigError, Problem

MAX_FILE_BYTES = 5_000_000
MAX_NODES = 200_000
MAX_DEPTH = 64
"""Deepest nesting of mappings and lists accepted (a config is about six levels deep)."""


class _TooLargeError(ConfigError):
    """The document is past the size limits (alias bomb, deep nesting)."""


class _StrictLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses duplicate mapping keys and deep nesting."""

    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        """Compose a node, refusing nesting deeper than :data:`MAX_DEPTH`.

        PyYAML's scanner does work proportional to the nesting depth for every token, so a few
        kilobytes of ``[[[[...`` would take seconds to reject by recursion limit alone.
        """
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _TooLargeError(
                    Problem(
                        "",
                        f"YAML is nested more than {MAX_DEPTH} levels deep "
                        f"(line {self.peek_event().start_mark.line + 1})",
                    )
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, "mapping keys must be plain scalars", key_node.start_mark
            ) from exc
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}'", key_node.start_mark
            )
        out[key] = loader.construct_object(value_node, deep=deep)
    return out


def _construct_timestamp(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    """Build a date, turning an impossible one (``2026-02-30``) into a YAML error with its line."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError) as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"not a valid date ({exc})", node.start_mark
        ) from None


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def _count_nodes(node: yaml.Node, seen: set[int], limit: int) -> int:
    """Count nodes as they would be expanded (aliases counted each time they are used)."""
    count = 0
    stack = [node]
    while stack:
        n = stack.pop()
        count += 1
        if count > limit:
            return count
        if isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
        elif isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                stack.append(k)
                stack.append(v)
    return count


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping from ``path`` safely.

    Raises
    ------
    ConfigError
        If the file is missing, too large, not UTF-8, not YAML, or not a mapping.
    """
    p = Path(path)
    name = str(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(Problem("", "file not found"), name) from None
    except IsADirectoryError:
        raise ConfigError(Problem("", "expected a file, found a directory"), name) from None
    except OSError as exc:
        raise ConfigError(Problem("", f"cannot read file ({exc.strerror})"), name) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(Problem("", f"file is larger than {MAX_FILE_BYTES} bytes"), name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(Problem("", f"not valid UTF-8 (byte {exc.start})"), name) from None
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str | None = None) -> dict[str, Any]:
    """Parse YAML text into a mapping with the same safety rules as :func:`read_yaml`."""
    data = parse_yaml_value(text, name)
    if not isinstance(data, dict):
        raise ConfigError(
            Problem("", f"expected a mapping at the top level, found {type(data).__name__}"), name
        )
    return data


def parse_yaml_value(text: str, name: str | None = None) -> Any:
    """Parse one YAML document of any kind (strict, safe and size-bounded like :func:`read_yaml`).

    Raises
    ------
    ConfigError
        If the text is empty, not YAML, or expands to too many nodes.
    """
    try:
        loader = _StrictLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                raise ConfigError(Problem("", "the file is empty (expected a mapping)"), name)
            if _count_nodes(node, set(), MAX_NODES) > MAX_NODES:
                raise _TooLargeError(
                    Problem(
                        "",
                        f"document expands to more than {MAX_NODES} nodes "
                        "(alias bomb or oversized file)",
                    ),
                    name,
                )
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(Problem("", f"invalid YAML: {where}{problem}"), name) from None
    except RecursionError:
        raise _TooLargeError(Problem("", "YAML is nested too deeply"), name) from None
    except _TooLargeError as exc:
        if exc.file is None and name is not None:
            raise _TooLargeError(exc.problems, name) from None
        raise
    return data


def format_loc(loc: tuple[Any, ...], data: Any = None, missing: bool = False) -> str:
    """Render a pydantic error location as a key path of the file, e.g. ``a.b[2].c``.

    Pydantic puts union tags (``poisson``, ``lognormal``, ``constrained-float`` ...) into
    locations; when the input ``data`` is given, only parts that exist in it are kept, plus the
    final key when the error is that this key is ``missing``.
    """
    out = ""
    node = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if data is not None:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
            elif not (last and missing and isinstance(node, dict)):
                continue  # a union tag, not a key of the file
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_TYPE_MISMATCH = {
    "dict_type",
    "model_type",
    "model_attributes_type",
    "float_type",
    "float_parsing",
    "int_type",
    "int_parsing",
    "literal_error",
    "is_instance_of",
}


def problems_from_validation(exc: ValidationError, data: Any = None) -> list[Problem]:
    """Turn a pydantic error into one :class:`Problem` per key path of the input ``data``."""
    errors = exc.errors(include_url=False)
    paths = [format_loc(tuple(e["loc"]), data, e["type"] == "missing") for e in errors]
    # A value that fails every branch of a union (a number or a distribution) yields one error
    # per branch; keep the ones that are not mere "wrong kind of value" complaints.
    informative = {p for p, e in zip(paths, errors) if e["type"] not in _TYPE_MISMATCH}
    problems = []
    seen = set()
    for path, err in zip(paths, errors):
        if path in informative and err["type"] in _TYPE_MISMATCH:
            continue
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (not part of the schema; check spelling and units in the key name)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        elif "input" in err and err["type"] not in ("union_tag_invalid",):
            shown = repr(err["input"])
            if len(shown) <= 60:
                msg = f"{msg} (got {shown})"
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if path in seen:
            continue  # one problem per key path
        seen.add(path)
        problems.append(Problem(path, msg))
    return problems


def validate_config(
    data: dict[str, Any], name: str | None = None, origins: dict[str, str] | None = None
) -> Config:
    """Validate a config mapping.

    Parameters
    ----------
    data:
        The config as parsed YAML.
    name:
        File name used in error messages.
    origins:
        Hazard id -> the file it was included from (see :func:`include_hazards`); problems
        of those hazards are reported against that file.

    Raises
    ------
    ConfigError
        Listing every schema and cross-reference problem with its key path, or every limit of
        :mod:`sim.limits` the config goes past (see :mod:`sim.config.budget`).
    """
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        raise _attributed(problems_from_validation(exc, data), name, origins) from None
    problems = check_references(cfg)
    if problems:
        raise _attributed(problems, name, origins)
    problems = check_budget(cfg)
    if problems:
        raise ConfigError(problems, name)
    return cfg


def _attributed(
    problems: list[Problem], name: str | None, origins: dict[str, str] | None
) -> ConfigError:
    """Return the error to raise: against an included file when its hazards are at fault."""
    for file in dict.fromkeys((origins or {}).values()):
        own = [
            p
            for p in problems
            if p.path.startswith("hazards.") and origins.get(p.path.split(".")[1]) == file
        ]
        if own:
            return ConfigError(own, f"{file} (included from {name})" if name else file)
    return ConfigError(problems, name)


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
    entries = [value] if isinstance(value, str) else value
    if not isinstance(entries, list) or not all(isinstance(e, str) and e for e in entries):
        raise ConfigError(
            Problem(INCLUDE_KEY, "expected a relative file path or a list of them"), name
        )
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
        rel = Path(entry)
        target = (base / rel).resolve()
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
        inc = read_yaml(target) if target.is_file() else None
        if inc is None:
            raise ConfigError(Problem(where, f"included file not found: {shown}"), name)
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
        for hazard_id, hz in inc["hazards"].items():
            if hazard_id in merged:
                first = origins.get(hazard_id, name)
                raise ConfigError(
                    Problem(f"hazards.{hazard_id}", f"already defined in {first}"), shown
                )
            merged[hazard_id] = hz
            origins[hazard_id] = shown
    out["hazards"] = merged
    return out, origins


def _parse_override_value(text: str) -> Any:
    """Read a ``--set`` value as YAML (``60``, ``false``, ``[1, 2]``), else keep it as text."""
    if not text.strip():
        return ""
    try:
        return parse_yaml_value(text, "--set")
    except ConfigError as exc:
        if isinstance(exc, _TooLargeError):
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
                    node[index] = _parse_override_value(value)
                else:
                    node = node[index]
            elif isinstance(node, dict):
                if last:
                    node[part] = _parse_override_value(value)
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
    if part.isdigit() and int(part) < len(items):
        return int(part)
    for i, el in enumerate(items):
        if isinstance(el, dict) and (el.get("id") == part or el.get("name") == part):
            return i
    return None


def load_config(path: str | Path, overrides: list[str] | None = None) -> Config:
    """Load, override and validate a config file (with its ``include_hazards`` merged in).

    Parameters
    ----------
    path:
        YAML config file.
    overrides:
        Optional ``KEY=VALUE`` dotted overrides (see :func:`apply_overrides`).

    Returns
    -------
    Config
        The validated, immutable config.

    Raises
    ------
    ConfigError
        With the file name, key path and expectation of every problem.
    """
    data = read_yaml(path)
    if overrides:
        data = apply_overrides(data, overrides)
    data, origins = include_hazards(data, path)
    return validate_config(data, str(path), origins)


SHUTTLE_ADDITIONS = ("port_delay", "sailing_delay", "origin_traffic", "destination_traffic")
"""Shuttle keys added after run-directory format 1 (left out of the hash while unset)."""


def _without_unset_additions(data: dict[str, Any]) -> dict[str, Any]:
    """Drop keys added to the schema after run-directory format 1 while they hold defaults.

    A config that does not use ``run.parameter_sets``, ``hazards.*.rate_uncertainty`` or the
    shuttle keys in :data:`SHUTTLE_ADDITIONS` hashes as it did before those keys existed, so older
    run directories can still be resumed.
    """
    if data.get("run", {}).get("parameter_sets") is None:
        data["run"].pop("parameter_sets", None)
    for hz in data.get("hazards", {}).values():
        if hz.get("rate_uncertainty") is None:
            hz.pop("rate_uncertainty", None)
    for sh in data.get("shuttles", []):
        for key in SHUTTLE_ADDITIONS:
            if sh.get(key) is None:
                sh.pop(key, None)
    return data


def config_hash(cfg: Config) -> str:
    """Return a stable SHA-256 of the resolved config (ignores key order and formatting)."""
    data = _without_unset_additions(cfg.model_dump(mode="json"))
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def dump_config(cfg: Config) -> str:
    """Render a validated config back to YAML (every default made explicit)."""
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
