"""corridor-sim: disruption-risk simulation of oil export corridors.

Quick start::

    import sim
    cfg = sim.load_config("configs/kazakhstan.yaml")
    rep = sim.simulate(cfg, seed=7)
    rep.summary        # one-row table of headline metrics
    rep.events         # one row per disruption event

The names below are imported on first use, so ``import sim`` is instant and ``python -m sim``
can take over SIGINT/SIGTERM handling before the heavy scientific stack loads.
"""

from __future__ import annotations

__version__ = "0.1.0"

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from sim.base.errors import ConfigError, InputError
    from sim.batch.coordinator import RunResult, load_run, run
    from sim.config import Config, load_config
    from sim.replication.runner import Model, ReplicationResult, simulate


def _load(name: str) -> object:
    """Import the module that defines ``name`` (fixed names only, nothing from data)."""
    if name in ("Config", "load_config"):
        import sim.config as module
    elif name in ("ConfigError", "InputError"):
        import sim.base.errors as module
    elif name in ("Model", "ReplicationResult", "simulate"):
        import sim.replication.runner as module
    elif name in ("RunResult", "load_run", "run"):
        import sim.batch.coordinator as module
    else:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    return getattr(module, name)


def __getattr__(name: str) -> object:
    value = _load(name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "Config",
    "ConfigError",
    "InputError",
    "Model",
    "ReplicationResult",
    "RunResult",
    "__version__",
    "load_config",
    "load_run",
    "run",
    "simulate",
]
