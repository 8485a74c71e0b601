"""Explicit limits on the size of a run: every input is checked against them before work starts.

A config, an option or an experiment file that goes past a limit is refused with a
:class:`~sim.base.errors.InputError` naming the limit: a typo (``rate_per_year: 40000`` for 4) or a
hostile file cannot make a run hang, fill the disk or exhaust memory. The limits are generous
for real studies; each one below says what it bounds and why it is where it is.

Runtime guards back up the static checks where a draw can go past what the config suggests:
:data:`MAX_EVENTS_PER_REPLICATION` (disruption events) and :data:`MAX_STEPS_PER_REPLICATION`
(SimPy events) stop one replication with an error that is recorded in ``failures/``.
"""

from __future__ import annotations

import datetime as dt

MAX_REPLICATIONS = 1_000_000
"""Replications of one run (``run.replications``, ``--replications``, experiment files, and the
total reached by ``--target-rel-ci``). A million one-year replications is a 1-in-a-million-year
loss table; beyond it, use several runs with different seeds."""

MAX_HORIZON_DAYS = 36_525.0
"""Longest horizon of one replication (100 years)."""

MIN_START_DATE = dt.date(1900, 1, 1)
MAX_START_DATE = dt.date(2200, 12, 31)
"""Calendar dates a run (and a scripted event) may start on; with :data:`MAX_HORIZON_DAYS` every
date the engine computes stays far inside what ``datetime`` can represent."""

MAX_MAGNITUDE = 1e9
"""Largest value of any rate, capacity, price, tariff, distance or duration parameter. Nothing
physical comes near it; it keeps sums and products of inputs finite in float64."""

MAX_VOLATILITY = 5.0
"""Largest price volatility per square-root year (500%): exp of the log-price stays finite."""

MAX_ASSETS = 1_000
"""Sources, storages, pipelines, terminals, shuttles and markets together."""

MAX_ROUTES = 2_000
"""Routes of one config (each adds legs and variables to the routing LP)."""

MAX_HAZARDS = 1_000
"""Hazards of one config (each is one SimPy process, or one per berth with ``per_berth``)."""

MAX_TANKERS = 2_000
"""Tankers over all shuttle fleets (each is one SimPy process)."""

MAX_SCRIPTED_EVENTS = 10_000
"""Scripted events of one config."""

MAX_EVENTS_PER_REPLICATION = 200_000
"""Disruption events one replication may have. Configs whose expected count (arrival
candidates of Poisson hazards, up/down cycles of renewal hazards, scripted events; one per
asset an event hits) exceeds half of it are refused up front; a replication that still draws
more stops with an error."""

MAX_TANKER_VOYAGES_PER_REPLICATION = 200_000
"""Expected round trips of all tankers in one replication (horizon / shortest round trip)."""

MIN_ROUND_TRIP_DAYS = 1.0 / 24.0
"""Shortest round trip (sailing, port time, pumping) a tanker may have: one hour. Shorter
trips are almost surely a unit slip and would make the simulation crawl."""

MAX_PRICE_STEPS = 200_000
"""Price steps of one replication (``horizon_days / step_days``)."""

MAX_STEPS_PER_REPLICATION = 5_000_000
"""SimPy events one run of the model may process (a replication of the shipped config needs
about 5,000; this is a minute or more of work). A replication that reaches it stops with
:class:`~sim.replication.runner.TooManyStepsError`, not running on forever. Configs whose expected
steps (SimPy events and routing re-solves, see :func:`sim.config.budget.expected_steps`)
exceed half of it are refused up front."""

MAX_CHUNK_SIZE = 100_000
"""Replications per chunk file (``--chunk-size``)."""

MAX_WORKERS = 4_096
"""Worker processes of a local run (``--workers``)."""

MAX_PILOT_REPLICATIONS = 1_000
"""Pilot replications of ``corridor-sim plan`` (``--pilot``): enough for a median time."""

MAX_INPUT_BYTES = 5_000_000
"""Largest file corridor-sim reads as input (config, included hazards, experiment, catalog,
replay schedule, recorded throughputs). The shipped ones are a few kilobytes to 100 KB; the
bound keeps ``/dev/zero`` or a huge file from filling memory (see :mod:`sim.base.safeio`)."""

MAX_NAME_BYTES = 255
"""Longest file or directory name in a path option (the limit of common file systems)."""

MAX_PATH_BYTES = 4_096
"""Longest path option (Linux ``PATH_MAX``)."""


def replications_problem(n: int, minimum: int = 1, per: str = "") -> str | None:
    """Return what is wrong with a replication count, or ``None``: the one range check.

    Every command that takes ``--replications`` uses it (a run, an experiment's scenarios,
    criticality's knock-outs); ``minimum`` and ``per`` (e.g. ``" per knock-out"``) say what
    the count is for. The message reads "expected 1 to 1000000 per knock-out, got 0".
    """
    if minimum <= n <= MAX_REPLICATIONS:
        return None
    return f"expected {minimum} to {MAX_REPLICATIONS}{per}, got {n}"
