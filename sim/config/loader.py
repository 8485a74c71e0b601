"""Read, override and validate config files.

The ``include_hazards`` merge lives in :mod:`sim.config.includes` and the ``--set`` overrides in
:mod:`sim.config.overrides`; both are re-exported here.

YAML is read by :mod:`sim.config.yamlsafe` (a safe YAML 1.2 core-schema loader that also
rejects duplicate keys, bounds the document size and alias expansion, and refuses tags outside
the schema), so a hostile file cannot run code or exhaust memory. Validation
errors from pydantic and from :mod:`sim.config.references` are turned into one
:class:`~sim.base.errors.ConfigError` listing each problem with the file and key path.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.base.errors import ConfigError, Problem
from sim.config.budget import check_budget
from sim.config.includes import include_hazards
from sim.config.models import Config
from sim.config.overrides import apply_overrides, parse_override_value
from sim.config.references import check_references
from sim.config.yamlsafe import dump_yaml, parse_yaml, parse_yaml_value, read_yaml

__all__ = [
    "apply_overrides",
    "config_hash",
    "dump_config",
    "format_loc",
    "include_hazards",
    "load_config",
    "parse_override_value",
    "parse_yaml",
    "parse_yaml_value",
    "problems_from_validation",
    "read_yaml",
    "validate_config",
]


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
        :mod:`sim.base.limits` the config goes past (see :mod:`sim.config.budget`).
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


_LATER_KEYS: dict[str, dict[str, Any]] = {
    "sources": {"restart_ramp_days": 0.0, "bbl_per_t": None},
    "pipelines": {"access_mt_per_year": None, "surge": None},
    "markets": {"blend": False},
    "shuttles": {
        "port_delay": None,
        "sailing_delay": None,
        "origin_traffic": None,
        "destination_traffic": None,
    },
    "hazards": {"rate_uncertainty": None, "planning": None},
}
"""Keys added to the schema after run-directory format 1, by section, with their defaults."""


def _without_unset_additions(data: dict[str, Any]) -> dict[str, Any]:
    """Drop keys added to the schema after run-directory format 1 while they hold defaults.

    A config that does not use a later key (``run.parameter_sets``, those in
    :data:`_LATER_KEYS`) hashes as it did before the key existed, so older run directories can
    still be resumed. ``run.shuttle_mode`` is always left out: both modes give the same results
    to the last bit (tests/validation/test_shuttle_exact.py), like any number of workers.
    """
    if data.get("run", {}).get("parameter_sets") is None:
        data["run"].pop("parameter_sets", None)
    data.get("run", {}).pop("shuttle_mode", None)
    for section, defaults in _LATER_KEYS.items():
        items = data.get(section, [])
        for item in items.values() if isinstance(items, dict) else items:
            for key, default in defaults.items():
                if key in item and item[key] == default:
                    del item[key]
    return data


def config_hash(cfg: Config) -> str:
    """Return a stable SHA-256 of the resolved config (ignores key order and formatting)."""
    data = _without_unset_additions(cfg.model_dump(mode="json"))
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def dump_config(cfg: Config) -> str:
    """Render a validated config back to YAML (every default made explicit)."""
    return dump_yaml(cfg.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
