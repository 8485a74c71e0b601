"""corridor-sim: disruption-risk simulation of oil export corridors.

Quick start::

    import sim
    cfg = sim.load_config("configs/kazakhstan.yaml")
    rep = sim.simulate(cfg, seed=7)
    rep.summary        # one-row table of headline metrics
    rep.events         # one row per disruption event

The names below come from :mod:`sim.api`, imported on first use, so ``import sim`` is instant
and ``python -m sim`` can take over SIGINT/SIGTERM handling before the heavy scientific stack
loads.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from sim.api import (
        Config,
        ConfigError,
        InputError,
        Model,
        ReplicationResult,
        RunOptions,
        RunResult,
        ScreenResult,
        __version__,
        load_config,
        load_run,
        run,
        run_with,
        screen,
        simulate,
    )

__all__ = [
    "Config",
    "ConfigError",
    "InputError",
    "Model",
    "ReplicationResult",
    "RunOptions",
    "RunResult",
    "ScreenResult",
    "__version__",
    "load_config",
    "load_run",
    "run",
    "run_with",
    "screen",
    "simulate",
]


def __getattr__(name: str) -> object:
    if name not in __all__:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module("sim.api"), name)  # fixed names only, nothing from data
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
