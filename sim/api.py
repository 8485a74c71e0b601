"""The public Python API of corridor-sim (re-exported by :mod:`sim`).

* :func:`load_config` reads and validates a config; :func:`simulate` runs one replication;
* :func:`run` runs a batch of replications into a run directory and returns its
  :class:`RunResult`; :func:`load_run` opens an existing one;
* :func:`screen` is the APPROXIMATE vectorised screening mode (many replications in seconds,
  not the DES), optionally checked against the DES; it returns a :class:`ScreenResult`.
"""

from __future__ import annotations

import shutil
import time
import weakref
from pathlib import Path
from typing import Any

from sim.base.errors import ConfigError, InputError, Problem
from sim.base.version import __version__
from sim.batch import coordinator
from sim.batch.options import DEFAULT_EXECUTOR, RunOptions
from sim.config import Config, load_config
from sim.replication.runner import Model, ReplicationResult, simulate
from sim.results import STATISTICS, RunResult, load_run, result_of
from sim.studies.screening import ScreenResult, check_against_des
from sim.studies.screening import screen as _screen

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


def run(
    cfg: Config,
    replications: int | None = None,
    seed: int | str | None = None,
    workers: int | None = None,
    executor: Any = DEFAULT_EXECUTOR,
    out: str | Path | None = None,
    chunk_size: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    target_rel_ci: float | None = None,
    progress: bool = False,
) -> RunResult:
    """Run a batch of replications and return the run directory's results.

    Parameters
    ----------
    cfg:
        Validated config.
    replications:
        Number of replications (default: ``cfg.run.replications``). With ``target_rel_ci`` it is
        the block size of the sequential stopping rule.
    seed:
        Root seed, ``"random"``, or ``None`` for ``cfg.run.seed``.
    workers, executor, scheduler:
        Where to run (see :mod:`sim.batch.executors`). ``executor`` may also be an open executor
        (e.g. shared by the runs of an experiment); it is then used as is and not closed.
    out:
        Run directory (made absolute before any worker sees it). When ``None``, a temporary
        directory, removed when the returned result is garbage-collected (or at exit).
    chunk_size:
        Replications per chunk file (results do not depend on it).
    resume:
        Finish an interrupted run in ``out``: damaged chunks are computed again; a complete
        run is left as it is (the result then has ``unchanged`` set).
    target_rel_ci:
        Keep adding blocks until the 95% CI half-width of mean ``revenue_loss_usd`` is at most this
        share of the mean. A resume keeps the run's target and block size.
    progress:
        Show a progress bar / log lines. (These are the fields of :class:`RunOptions`.)

    Raises
    ------
    InputError, RunError
        See :func:`run_with`.
    """
    options = RunOptions(
        replications=replications,
        seed=seed,
        workers=workers,
        executor=executor,
        scheduler=scheduler,
        chunk_size=chunk_size,
        out=out,
        resume=resume,
        target_rel_ci=target_rel_ci,
        progress=progress,
    )
    return run_with(cfg, options)


def run_with(cfg: Config, options: RunOptions) -> RunResult:
    """Run a batch of replications with ``options`` (see :func:`run` for their meaning).

    Raises
    ------
    InputError
        Bad options, or an ``out`` that is not a run directory of this config and seed.
    RunError
        The environment stopped the run, or a chunk's files went missing or changed before it
        completed (the manifest is then ``failed``, never ``complete``).
    """
    outcome = coordinator.run(cfg, options, STATISTICS)
    result = result_of(outcome)
    if outcome.temporary:
        weakref.finalize(result, shutil.rmtree, str(outcome.path), ignore_errors=True)
    return result


def screen(
    cfg: Config,
    replications: int = 10_000,
    seed: int | None = None,
    check: int | None = None,
) -> ScreenResult:
    """APPROXIMATE screening: volume and revenue lost over many replications in seconds.

    Not the discrete-event simulation: a vectorised fluid network without tankers, valued at
    the mean price path (see docs/how-to/screen.md for what it approximates and its measured
    bias). Use it to rank options or size a study; confirm the numbers that matter with
    :func:`run`.

    Parameters
    ----------
    cfg:
        Validated config.
    replications:
        Replications drawn at once (at least 2).
    seed:
        Root seed (default ``cfg.run.seed``); parameter sets are drawn as the engine does.
    check:
        When given, also run this many DES replications (serially, same config and seed) and
        attach the screen's bias against them and the time ratio (at least 2).

    Returns
    -------
    ScreenResult
        Per-replication volume lost, revenue lost and availability, the wall time and the
        check; ``report()`` is the table ``corridor-sim screen`` prints and ``table()`` the
        per-replication table it writes.

    Raises
    ------
    InputError
        Fewer than 2 replications or check replications.
    """
    for name, value in (("replications", replications), ("check", check)):
        if value is not None and value < 2:
            raise InputError(Problem(name, f"needs at least 2 replications, got {value}"))
    seed = int(cfg.run.seed if seed is None else seed)
    t0 = time.perf_counter()
    res = _screen(cfg, replications, seed)
    res.seconds = time.perf_counter() - t0
    if check:
        res.check = check_against_des(cfg, res, check, seed, res.seconds)
    return res
