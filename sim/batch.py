"""Batch Monte Carlo: plan chunks, run them on an executor, keep the run directory current.

The coordinator only handles small task descriptors and chunk reports; workers write the
results. The manifest records every chunk and its status after each completion, so a run that
stops for any reason can be resumed: only chunks without a ``replications`` file run again, and
because each replication depends only on (config, root seed, index), the finished run is
identical to an uninterrupted one.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from sim import __version__
from sim.config.loader import config_hash, dump_config, validate_config
from sim.config.models import Config
from sim.errors import InputError, Problem
from sim.executors import Executor, make_executor
from sim.rundir import (
    CONFIG,
    MANIFEST,
    SUMMARY,
    atomic_write_bytes,
    atomic_write_json,
    chunk_files,
    chunk_name,
    host_info,
    iter_column,
    read_manifest,
    read_table,
)
from sim.stats import describe, relative_ci_half_width
from sim.units import DAYS_PER_YEAR
from sim.variance import run_variance_split
from sim.worker import ChunkReport, ChunkTask

if TYPE_CHECKING:
    from sim.plots import RunPlots

log = logging.getLogger("corridor_sim")

TARGET_METRIC = "revenue_loss_usd"
MAX_REPLICATIONS_TARGET = 1_000_000


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
        return validate_config(
            yaml.safe_load((self.path / CONFIG).read_text()), str(self.path / CONFIG)
        )

    def summary(self) -> pd.DataFrame:
        """Summary statistics, one row per metric."""
        data = json.loads((self.path / SUMMARY).read_text())
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


def load_run(path: str | Path) -> RunResult:
    """Open an existing run directory."""
    p = Path(path)
    if not (p / MANIFEST).is_file():
        raise InputError(Problem("", "not a run directory (no manifest.json)"), str(p))
    return RunResult(p, read_manifest(p))


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


class _Progress:
    """A tqdm bar on a terminal, plain periodic log lines otherwise."""

    def __init__(self, total: int, done: int, enabled: bool) -> None:
        self.total, self.done = total, done
        self.t0 = time.perf_counter()
        self.last = self.t0
        self.bar = None
        self.enabled = enabled
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, unit="rep", dynamic_ncols=True)

    def update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
            return
        now = time.perf_counter()
        if self.enabled and (now - self.last > 10 or self.done == self.total):
            rate = self.done / max(now - self.t0, 1e-9)
            eta = (self.total - self.done) / rate if rate > 0 else float("inf")
            print(
                f"[corridor-sim] {self.done}/{self.total} replications, {rate:.1f}/s, "
                f"ETA {eta:.0f} s",
                file=sys.stderr,
                flush=True,
            )
            self.last = now

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _prepare_dir(out: Path, cfg: Config, seed: int, resume: bool) -> dict[str, Any] | None:
    """Check an existing run directory; return its manifest when resuming."""
    if (out / MANIFEST).is_file():
        man = read_manifest(out)
        if man.get("config_hash") != config_hash(cfg):
            raise InputError(
                Problem(
                    "",
                    "run directory holds a run of a different config "
                    "(config hash differs); choose another --out",
                ),
                str(out),
            )
        if man.get("seed") != seed:
            raise InputError(
                Problem("", f"run directory was run with seed {man.get('seed')}, not {seed}"),
                str(out),
            )
        if not resume:
            raise InputError(
                Problem(
                    "",
                    "run directory already exists; use `corridor-sim resume "
                    "DIR` or --resume to finish it",
                ),
                str(out),
            )
        return man
    if out.exists() and any(out.iterdir()):
        raise InputError(Problem("", "output directory exists and is not empty"), str(out))
    return None


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
    if not 1 <= n <= MAX_REPLICATIONS_TARGET:
        raise InputError(
            Problem("--replications", f"expected 1 to {MAX_REPLICATIONS_TARGET}, got {n}")
        )
    out_dir = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="corridor-sim-"))
    manifest = _prepare_dir(out_dir, cfg, root, resume)
    cfg_json = json.dumps(cfg.model_dump(mode="json"), sort_keys=True)
    chash = config_hash(cfg)
    owned = isinstance(executor, str)
    ex = make_executor(executor, workers, scheduler) if owned else executor
    if manifest is None:
        out_dir.mkdir(parents=True, exist_ok=True)
        size = chunk_size or default_chunk_size(n, ex.workers)
        manifest = {
            "format": 1,
            "package_version": __version__,
            "config_name": cfg.name,
            "config_hash": chash,
            "seed": root,
            "replications": n,
            "chunk_size": size,
            "chunks": {},
            "executor": ex.name,
            "workers": ex.workers,
            "target_rel_ci": target_rel_ci,
            "host": host_info(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "timings": {},
        }
        atomic_write_bytes(out_dir / CONFIG, dump_config(cfg).encode())
        atomic_write_json(out_dir / MANIFEST, manifest)
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
    finally:
        if owned:
            ex.close()
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
        if (out_dir / "replications" / f"{name}.parquet").is_file():
            manifest["chunks"][name]["status"] = "done"
            continue
        yield ChunkTask(cfg_json, chash, manifest["seed"], a, b, str(out_dir), timeseries)


def _run_range(ex, out_dir, manifest, cfg_json, chash, start, stop, timeseries, progress) -> None:
    tasks = list(_tasks(out_dir, manifest, cfg_json, chash, start, stop, timeseries))
    todo = sum(t.stop - t.start for t in tasks)
    bar = _Progress(stop - start, stop - start - todo, progress)
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
    while done < MAX_REPLICATIONS_TARGET:
        _run_range(ex, out_dir, manifest, cfg_json, chash, done, done + block, timeseries, progress)
        done += block
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
