"""Shared fixtures: a minimal network built from a Python dict, and paths to shipped configs."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from sim.config import load_config, validate_config
from sim.config.models import Config

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
SMALL_YAML = DATA / "small.yaml"
KAZAKHSTAN_YAML = ROOT / "configs" / "kazakhstan.yaml"

BASE: dict[str, Any] = {
    "name": "minimal",
    "run": {"start_date": "2026-01-01", "horizon_days": 365.0, "seed": 1},
    "economics": {"price": {"model": "fixed", "brent_usd_per_bbl": 70.0}},
    "sources": [{"id": "field", "production_mt_per_year": 10.0}],
    "pipelines": [{"id": "pipe", "capacity_mt_per_year": 12.0}],
    "markets": [{"id": "mkt", "bbl_per_t": 7.5}],
    "routes": [{"id": "r", "source": "field", "path": ["pipe"], "market": "mkt"}],
}


def load_script(name: str) -> ModuleType:
    """Import ``scripts/<name>.py`` (scripts are not a package) and return the module."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cfg_dict(**overrides: Any) -> dict[str, Any]:
    """Return the minimal network as a dict: one field -> one pipeline -> one market.

    Top-level keys in ``overrides`` replace the base ones, except ``run``, which is merged into
    the base run settings (so ``run={"horizon_days": 3650}`` keeps the start date and seed).
    """
    data = copy.deepcopy(BASE)
    for key, value in overrides.items():
        if key == "run":
            data["run"].update(copy.deepcopy(value))
        else:
            data[key] = copy.deepcopy(value)
    return data


def build_cfg(**overrides: Any) -> Config:
    """Validate :func:`cfg_dict` (raises ``ConfigError`` when the overrides are inconsistent)."""
    return validate_config(cfg_dict(**overrides))


@pytest.fixture(scope="session")
def make_cfg():
    """Factory of validated minimal configs; see :func:`cfg_dict` for the override rules."""
    return build_cfg


@pytest.fixture(scope="session")
def make_cfg_dict():
    """Factory of minimal config dicts (for writing YAML files)."""
    return cfg_dict


# --------------------------------------------------------------------------- slow trials, stats


def pytest_addoption(parser):
    parser.addoption(
        "--runslow",
        action="store_true",
        default=False,
        help="also run tests marked slow (extra interruption and worker-kill trials)",
    )


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: extra trials, run with --runslow or CORRIDOR_SIM_SLOW=1"
    )


def pytest_collection_modifyitems(config, items):
    """Mark tests under tests/system ``system``; skip ``slow`` ones unless asked for."""
    system = Path(__file__).resolve().parent / "system"
    for item in items:
        if system in item.path.resolve().parents:
            item.add_marker(pytest.mark.system)
    if config.getoption("--runslow") or os.environ.get("CORRIDOR_SIM_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow trial: run with --runslow or CORRIDOR_SIM_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def pytest_sessionfinish(session, exitstatus):
    """Write the fuzz case counts (see tests/fuzz_support.py) for the report."""
    module = sys.modules.get("fuzz_support")
    counts = getattr(module, "COUNTS", None)
    if not counts:
        return
    target = os.environ.get("CORRIDOR_SIM_FUZZ_STATS")
    cache = getattr(session.config, "cache", None)
    if not target and cache is None:
        return
    target = target or str(cache.mkdir("fuzz") / "fuzz-stats.json")
    table = {kind: dict(c, total=sum(c.values())) for kind, c in sorted(counts.items())}
    Path(target).write_text(json.dumps(table, indent=2, sort_keys=True) + "\n")


def pytest_terminal_summary(terminalreporter):
    module = sys.modules.get("fuzz_support")
    counts = getattr(module, "COUNTS", None)
    if not counts:
        return
    terminalreporter.write_sep("-", "fuzz cases per input kind")
    for kind, c in sorted(counts.items()):
        parts = ", ".join(f"{k} {v}" for k, v in sorted(c.items()))
        terminalreporter.write_line(f"{kind}: {sum(c.values())} ({parts})")


def small_config(horizon_days: float) -> Config:
    """The small test network (``SMALL_YAML``) with a shorter horizon, for fast batch tests."""
    full = load_config(SMALL_YAML)
    return full.model_copy(
        update={"run": full.run.model_copy(update={"horizon_days": horizon_days})}
    )
