"""Batch Monte Carlo: plan chunks, run them on an executor, keep the run directory current.

The coordinator only handles small task descriptors and chunk reports; workers write the
results. The manifest records every chunk and its status after each completion, so a run that
stops for any reason can be resumed: only chunks missing their ``replications`` or ``events``
file run again (see :func:`sim.rundir.chunk_complete`), and
because each replication depends only on (config, root seed, index), the finished run is
identical to an uninterrupted one.

The manifest's ``status`` is ``running`` while a session works on the directory, then
``complete``, ``interrupted`` (SIGINT/SIGTERM) or ``failed`` (a :class:`~sim.errors.RunError`
such as a full disk, with its message in ``error``). Whatever the status, a chunk marked
``done`` has its files (see :mod:`sim.session`).
"""

from __future__ import annotations

import json
import logging
import math
import secrets
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.config.loader import config_hash, read_yaml, validate_config
from sim.config.models import Config
from sim.dirlock import RunDirLock
from sim.errors import InputError, Problem, RunError
from sim.executors import Executor, check_executor_options
from sim.limits import MAX_REPLICATIONS
from sim.progress import Progress
from sim.rundir import (
    CONFIG,
    MANIFEST,
    SUMMARY,
    atomic_write_json,
    chunk_complete,
    chunk_files,
    chunk_name,
    iter_column,
    read_manifest,
    read_summary,
    read_table,
    remove_stale_temp_files,
)
from sim.session import (
    check_finished,
    check_resume_options,
    check_run_options,
    open_session,
    prepare_dir,
    stop_session,
)
from sim.stats import describe, relative_ci_half_width
from sim.units import DAYS_PER_YEAR
from sim.variance import run_variance_split
from sim.worker import ChunkReport, ChunkTask

if TYPE_CHECKING:
    from sim.plots import RunPlots

log = logging.getLogger("corridor_sim")

TARGET_METRIC = "revenue_loss_usd"
MAX_REPLICATIONS_TARGET = MAX_REPLICATIONS
"""Most replications sequential stopping may add (the limit of any run)."""


def resolve_seed(seed: int | str | None, default: int) -> int:
    """Return the root seed: an integer, ``"random"`` (drawn now and recorded), or the default."""
    if seed is None:
        return default
    if isinstance(seed, str):
        if seed == "random":
            return secrets.randbits(63)
        if not seed.isdigit():
            raise InputError(Problem("--seed", f"expected an integer or 'random', got '{seed}'"))
        seed = int(seed)
    if not 0 <= int(seed) < 2**63:
        raise InputError(Problem("--seed", "must be between 0 and 2**63 - 1"))
    return int(seed)


def plan_chunks(start: int, stop: int, chunk_size: int) -> list[tuple[int, int]]:
    """Split replications ``start .. stop-1`` into consecutive ranges of ``chunk_size``."""
    return [(a, min(a + chunk_size, stop)) for a in range(start, stop, chunk_size)]


def default_chunk_size(replications: int, workers: int) -> int:
    """Chunks big enough to amortise overhead, small enough to balance load and resume cheaply."""
    return int(max(10, min(500, math.ceil(replications / (workers * 8)))))


@dataclass
class RunResult:
    """A finished (or loaded) run directory.

    Attributes
    ----------
    path:
        The run directory.
    manifest:
        Parsed ``manifest.json``.
    """

    path: Path
    manifest: dict[str, Any]

    @property
    def replications(self) -> pd.DataFrame:
        """One row per replication."""
        return read_table(self.path, "replications")

    @property
    def events(self) -> pd.DataFrame:
        """All disruption event records."""
        return read_table(self.path, "events")

    @property
    def timeseries(self) -> pd.DataFrame:
        """Daily series (empty unless the run kept them)."""
        return read_table(self.path, "timeseries")

    @property
    def config(self) -> Config:
        """The resolved config of the run."""
        path = self.path / CONFIG
        return validate_config(read_yaml(path), str(path))

    def summary(self) -> pd.DataFrame:
        """Summary statistics, one row per metric."""
        data = read_summary(self.path)
        return pd.DataFrame.from_dict(data["metrics"], orient="index")

    @property
    def n_failed(self) -> int:
        """Replications that raised an error."""
        return int(self.manifest.get("failed", 0))

    # Loss tables (see sim.losses) and resilience summaries (sim.resilience).
    def year_bounds(self) -> np.ndarray:
        """Year boundaries of the horizon in days (anniversaries of the start date)."""
        from sim.years import year_bounds

        run = self.config.run
        return year_bounds(run.start_date, run.horizon_days)

    def elt(self) -> pd.DataFrame:
        """Event loss table: one row per event and year, the year's loss allocated to its events."""
        from sim import losses

        return losses.event_loss_table(self.replications, self.events, self.year_bounds())

    def ylt(self) -> pd.DataFrame:
        """Year loss table: one row per replication-year."""
        from sim import losses

        bounds = self.year_bounds()
        reps = self.replications
        return losses.year_loss_table(
            reps, losses.event_loss_table(reps, self.events, bounds), bounds
        )

    def aal(self, measure: str = "revenue_usd") -> dict[str, float]:
        """Average annual loss (``revenue_usd`` or ``volume_mt``) and its standard error."""
        from sim import losses

        return losses.aal(self.ylt(), measure)

    def aal_table(self) -> pd.DataFrame:
        """AAL with standard error and CI, and PML, for revenue and volume."""
        from sim import losses

        return losses.aal_table(self.ylt())

    def ep_curve(self, kind: str = "aep", measure: str = "revenue_usd") -> pd.DataFrame:
        """Exceedance curve: ``aep`` (annual total) or ``oep`` (largest event of the year)."""
        from sim import losses

        return losses.ep_curve(self.ylt(), kind, measure)

    def return_periods(self) -> pd.DataFrame:
        """Losses and TVaR at 5-250 year return periods (both measures, AEP and OEP)."""
        from sim import losses

        return losses.return_period_table(self.ylt())

    def pml(self, return_period: int = 100, measure: str = "revenue_usd") -> float:
        """Probable maximum loss: the AEP loss at ``return_period`` years."""
        from sim import losses

        return losses.pml(self.ylt(), return_period, measure)

    def convergence(self, measure: str = "revenue_usd") -> pd.DataFrame:
        """Return the AAL and its 95% CI over the first n replications."""
        from sim import losses

        return losses.convergence_table(self.ylt(), measure)

    def resilience(self) -> pd.DataFrame:
        """Per-hazard response: time to survive, time to recover, shortfall, where oil went."""
        from sim import resilience

        bounds = self.year_bounds()
        years = len(self.replications) * float(bounds[-1] - bounds[0]) / DAYS_PER_YEAR
        return resilience.by_hazard(self.events, years)

    def offset_ledger(self) -> pd.DataFrame:
        """Blocked volume per year and where it went (other corridors, storage, shut in)."""
        from sim import resilience

        bounds = self.year_bounds()
        return resilience.offset_ledger(
            self.replications, float(bounds[-1] - bounds[0]) / DAYS_PER_YEAR
        )

    @property
    def plot(self) -> RunPlots:
        """Figures of this run: ``.plot.loss_histogram()``, ``.plot.ep_curves()``, ..."""
        from sim.plots import RunPlots

        return RunPlots(self)


def load_run(path: str | Path, finished: bool = False) -> RunResult:
    """Open an existing run directory.

    Parameters
    ----------
    path:
        The run directory.
    finished:
        Also check that the run completed and that its chunk files are all there and readable
        (for analysing it; a directory to resume only needs a readable manifest).

    Raises
    ------
    InputError
        When the directory is not a run directory, or (``finished``) not a finished one.
    """
    p = Path(path)
    if not (p / MANIFEST).is_file():
        raise InputError(Problem("", "not a run directory (no manifest.json)"), str(p))
    manifest = read_manifest(p)
    if finished:
        check_finished(p, manifest)
    return RunResult(p, manifest)


SUMMARY_COLUMN_BATCH = 32
"""Columns read together when summarising: memory is this many columns x replications."""


def summarise(run_dir: Path) -> dict[str, Any]:
    """Compute summary statistics of every numeric column from the stored chunks.

    Columns are read a batch at a time across all chunks, so memory grows with
    ``SUMMARY_COLUMN_BATCH`` x replications, never with the full table.
    """
    files = chunk_files(run_dir, "replications")
    if not files:
        return {"metrics": {}, "replications": 0}
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(files[0])
    names = [
        f.name
        for f in schema
        if f.name != "replication" and (pa.types.is_integer(f.type) or pa.types.is_floating(f.type))
    ]
    metrics: dict[str, Any] = {}
    n = 0
    for i in range(0, len(names), SUMMARY_COLUMN_BATCH):
        batch = names[i : i + SUMMARY_COLUMN_BATCH]
        tables = [pq.read_table(f, columns=batch) for f in files]
        for name in batch:
            values = np.concatenate([t.column(name).to_numpy().astype(float) for t in tables])
            n = len(values)
            metrics[name] = describe(values)
    return {"metrics": metrics, "replications": n}


def run(
    cfg: Config,
    replications: int | None = None,
    seed: int | str | None = None,
    workers: int | None = None,
    executor: str | Executor = "processes",
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
        Where to run (see :mod:`sim.executors`). ``executor`` may also be an open executor
        (e.g. shared by the runs of an experiment); it is then used as is and not closed.
    out:
        Run directory; a temporary directory when ``None``.
    chunk_size:
        Replications per chunk file (results do not depend on it).
    resume:
        Finish an interrupted run in ``out``.
    target_rel_ci:
        Keep adding blocks until the 95% CI half-width of mean ``revenue_loss_usd`` is at most this
        share of the mean.
    progress:
        Show a progress bar / log lines.
    """
    root = resolve_seed(seed, cfg.run.seed)
    n = cfg.run.replications if replications is None else int(replications)
    owned = isinstance(executor, str)  # else an open executor shared by several runs
    check_run_options(n, chunk_size, workers, executor if owned else "serial", target_rel_ci)
    check_executor_options(executor, workers, scheduler)
    out_dir = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="corridor-sim-"))
    # One session per directory, from the first check to the last write (sim/dirlock.py).
    with RunDirLock(out_dir):
        manifest = prepare_dir(out_dir, cfg, root, resume)
        if manifest is not None:
            check_resume_options(manifest, replications, chunk_size)
        cfg_json = json.dumps(cfg.model_dump(mode="json"), sort_keys=True)
        chash = config_hash(cfg)
        ex, manifest = open_session(
            out_dir,
            cfg,
            manifest,
            executor,
            workers,
            scheduler,
            n,
            chunk_size,
            root,
            target_rel_ci,
            default_chunk_size,
        )
        t0 = time.perf_counter()
        try:
            if target_rel_ci is None:
                _run_range(
                    ex,
                    out_dir,
                    manifest,
                    cfg_json,
                    chash,
                    0,
                    manifest["replications"],
                    cfg.run.timeseries,
                    progress,
                )
            else:
                _run_sequential(
                    ex,
                    out_dir,
                    manifest,
                    cfg_json,
                    chash,
                    target_rel_ci,
                    n,
                    cfg.run.timeseries,
                    progress,
                )
            if owned:
                ex.close()
            remove_stale_temp_files(out_dir)  # left by workers killed mid-write (now all gone)
            wall = time.perf_counter() - t0
            summary = summarise(out_dir)
            split = run_variance_split(out_dir)
            if split:
                summary["parameter_uncertainty"] = split
            failed = _count_failures(out_dir)
            summary["failed"] = failed
            summary["seed"] = root
            summary["config_hash"] = chash
            atomic_write_json(out_dir / SUMMARY, summary)
            manifest["failed"] = failed
            manifest["timings"] = {
                "wall_seconds_last_session": wall,
                "replications_per_second": summary["replications"] / wall if wall > 0 else None,
            }
            manifest["status"] = "complete"
            atomic_write_json(out_dir / MANIFEST, manifest)
        except KeyboardInterrupt:
            stop_session(ex, out_dir, manifest, "interrupted", None, owned)
            raise
        except RunError as exc:
            stop_session(ex, out_dir, manifest, "failed", exc.render(), owned)
            raise
        except BaseException:
            stop_session(ex, out_dir, manifest, "failed", "stopped by an unexpected error", owned)
            raise
        return RunResult(out_dir, manifest)


def _count_failures(out_dir: Path) -> int:
    folder = out_dir / "failures"
    if not folder.is_dir():
        return 0
    return sum(len(json.loads(f.read_text())) for f in folder.glob("chunk-*.json"))


def _tasks(out_dir, manifest, cfg_json, chash, start, stop, timeseries) -> Iterator[ChunkTask]:
    for a, b in plan_chunks(start, stop, manifest["chunk_size"]):
        name = chunk_name(a, b)
        manifest["chunks"].setdefault(name, {"start": a, "stop": b, "status": "pending"})
        if chunk_complete(out_dir, name):
            manifest["chunks"][name]["status"] = "done"
            continue
        yield ChunkTask(cfg_json, chash, manifest["seed"], a, b, str(out_dir), timeseries)


def _run_range(ex, out_dir, manifest, cfg_json, chash, start, stop, timeseries, progress) -> None:
    tasks = list(_tasks(out_dir, manifest, cfg_json, chash, start, stop, timeseries))
    # Every chunk is in the manifest on disk before any worker can write it (see check_chunks).
    atomic_write_json(out_dir / MANIFEST, manifest)
    todo = sum(t.stop - t.start for t in tasks)
    bar = Progress(stop - start, stop - start - todo, progress)
    try:
        for report in ex.run(tasks):
            _record(out_dir, manifest, report)
            bar.update(report.stop - report.start)
    finally:
        bar.close()
    atomic_write_json(out_dir / MANIFEST, manifest)


def _record(out_dir: Path, manifest: dict[str, Any], report: ChunkReport) -> None:
    name = chunk_name(report.start, report.stop)
    manifest["chunks"][name] = {
        "start": report.start,
        "stop": report.stop,
        "status": "done",
        "ok": report.n_ok,
        "failed": report.n_failed,
        "seconds": round(report.seconds, 3),
    }
    atomic_write_json(out_dir / MANIFEST, manifest)


def _run_sequential(ex, out_dir, manifest, cfg_json, chash, target, block, timeseries, progress):
    """Add blocks of ``block`` replications until the relative CI target is met.

    The stopping rule is checked only at block boundaries, after at least two blocks, on the
    stored results; the number of replications needed is recorded in the manifest.
    """
    done = 0
    rel = math.inf
    while done < MAX_REPLICATIONS_TARGET:
        stop = min(done + block, MAX_REPLICATIONS_TARGET)
        _run_range(ex, out_dir, manifest, cfg_json, chash, done, stop, timeseries, progress)
        done = stop
        values = np.concatenate(
            [s.to_numpy(dtype=float) for s in iter_column(out_dir, TARGET_METRIC)] or [np.zeros(0)]
        )
        rel = relative_ci_half_width(values)
        log.info("after %d replications the relative CI half-width is %.4f", done, rel)
        if done >= 2 * block and rel <= target:
            break
    manifest["replications"] = done
    manifest["target_reached"] = bool(rel <= target)
    manifest["target_rel_ci_achieved"] = rel
