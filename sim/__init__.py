"""corridor-sim: disruption-risk simulation of oil export corridors.

Quick start::

    import sim
    cfg = sim.load_config("configs/kazakhstan.yaml")
    rep = sim.simulate(cfg, seed=7)
    rep.summary        # one-row table of headline metrics
    rep.events         # one row per disruption event
"""

from sim.config import Config, load_config
from sim.errors import ConfigError, InputError
from sim.runner import Model, ReplicationResult, simulate

__version__ = "0.1.0"

from sim.batch import RunResult, load_run, run  # noqa: E402  (batch reads __version__)

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
