"""Configuration: typed models, safe YAML loading, overrides and cross-reference checks."""

from sim.config.loader import (
    config_hash,
    dump_config,
    load_config,
    read_yaml,
    validate_config,
)
from sim.config.models import Config
from sim.config.overrides import apply_overrides

__all__ = [
    "Config",
    "apply_overrides",
    "config_hash",
    "dump_config",
    "load_config",
    "read_yaml",
    "validate_config",
]
