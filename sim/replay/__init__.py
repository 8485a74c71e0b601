"""Historical replay: drive the network through a dated list of past events, as a backtest.

* :mod:`~sim.replay.schedule` reads a schedule CSV into scripted events (rows cite catalog ids);
* :mod:`~sim.replay.recorded` reads recorded throughputs with their sources;
* :mod:`~sim.replay.run` runs the deterministic year and its undisrupted twin and compares
  monthly and annual volumes with the record;
* :mod:`~sim.replay.report` writes the tables, a figure and an HTML page.
"""

from sim.replay.recorded import load_recorded
from sim.replay.run import ReplayResult, compare, replay, replay_config
from sim.replay.schedule import Schedule, load_schedule

__all__ = [
    "ReplayResult",
    "Schedule",
    "compare",
    "load_recorded",
    "load_schedule",
    "replay",
    "replay_config",
]
