"""Batch Monte Carlo: plan chunks, run them on an executor, keep the run directory current.

The coordinator only handles small task descriptors and chunk reports; workers write the
results. The manifest records every chunk and its status after each completion, so a run that
stops for any reason can be resumed: only chunks missing their ``replications`` or ``events``
file run again (see :func:`sim.store.layout.chunk_complete`), and
because each replication depends only on (config, root seed, index), the finished run is
identical to an uninterrupted one.

The manifest's ``status`` is ``running`` while a session works on the directory, then
``complete``, ``interrupted`` (SIGINT/SIGTERM) or ``failed`` (a :class:`~sim.base.errors.RunError`
such as a full disk, with its message in ``error``). Whatever the status, a chunk marked
``done`` has its files (see :mod:`sim.batch.session`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import secrets
import shutil
import tempfile
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.analysis.stats import describe, relative_ci_half_width
from sim.analysis.variance import SPLIT_METRICS, variance_splits
from sim.base.columns import adverse_tail
from sim.base.errors import InputError, Problem, RunError
from sim.base.limits import MAX_REPLICATIONS
from sim.base.units import DAYS_PER_YEAR
from sim.batch.executors import Executor, check_executor_options
from sim.batch.progress import Progress, report_precision
from sim.batch.session import (
    block_size,
    check_finished,
    check_resume_options,
    check_run_options,
    is_complete,
    open_session,
    prepare_dir,
    stop_session,
)
from sim.batch.worker import ChunkReport, ChunkTask
from sim.config.loader import config_hash, read_yaml, validate_config
from sim.config.models import Config
from sim.store.checks import check_all_chunks, checked_chunk_sums, read_verified_table
from sim.store.layout import (
    CONFIG,
    MANIFEST,
    SUMMARY,
    SUMMARY_SHA256,
    atomic_write_bytes,
    atomic_write_json,
    chunk_complete,
    chunk_files,
    chunk_name,
    data_chunk_files,
    iter_column,
    json_bytes,
    read_manifest,
    read_summary,
    remove_stale_temp_files,
)
from sim.store.lock import RunDirLock

if TYPE_CHECKING:
    from sim.figures.run import RunPlots

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
        if not (seed.isascii() and seed.isdigit()):
            raise InputError(Problem("--seed", f"expected an integer or 'random', got '{seed}'"))
        if len(seed.lstrip("0")) > 19:  # past 2**63; and int() refuses 4,300+ digits
            raise InputError(Problem("--seed", "must be between 0 and 2**63 - 1"))
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
    computed:
        Replications this session computed (0 for a loaded run).
    unchanged:
        True when a resume found the run complete and changed nothing.

    Tables are read from the chunk files, each checked against the checksum the manifest
    recorded for it (:mod:`sim.store.checks`): a damaged chunk raises
    :class:`~sim.base.errors.InputError` instead of returning different data.
    """

    path: Path
    manifest: dict[str, Any]
    computed: int = 0
    unchanged: bool = False

    @property
    def replications(self) -> pd.DataFrame:
        """One row per replication."""
        return read_verified_table(self.path, "replications", self.manifest)

    @property
    def events(self) -> pd.DataFrame:
        """All disruption event records."""
        return read_verified_table(self.path, "events", self.manifest)

    @property
    def timeseries(self) -> pd.DataFrame:
        """Daily series (empty unless the run kept them)."""
        return read_verified_table(self.path, "timeseries", self.manifest)

    @property
    def config(self) -> Config:
        """The resolved config of the run, checked against the config hash of the manifest.

        Raises
        ------
        InputError
            When ``config.resolved.yaml`` is unreadable, invalid, or not the config the
            results were computed with (changed or damaged since).
        """
        path = self.path / CONFIG
        cfg = validate_config(read_yaml(path), str(path))
        if config_hash(cfg) != self.manifest.get("config_hash"):
            raise InputError(
                Problem(
                    "",
                    "not the config this run was computed with (its hash differs from the "
                    "config_hash in manifest.json): the file was changed or damaged",
                ),
                str(path),
            )
        return cfg

    def summary(self) -> pd.DataFrame:
        """Summary statistics, one row per metric (NaN where undefined, e.g. a CI for n = 1)."""
        data = read_summary(self.path, self.manifest)
        return pd.DataFrame.from_dict(data["metrics"], orient="index").astype(float)

    @property
    def n_failed(self) -> int:
        """Replications that raised an error."""
        return int(self.manifest.get("failed", 0))

    # Loss tables (see sim.analysis.losses) and resilience summaries (sim.analysis.resilience).
    def year_bounds(self) -> np.ndarray:
        """Year boundaries of the horizon in days (anniversaries of the start date)."""
        from sim.replication.years import year_bounds

        run = self.config.run
        return year_bounds(run.start_date, run.horizon_days)

    def elt(self) -> pd.DataFrame:
        """Event loss table: one row per event and year, the year's loss allocated to its events."""
        from sim.analysis import losses
        return losses.event_loss_table(self.replications, self.events, self.year_bounds())

    def ylt(self) -> pd.DataFrame:
        """Year loss table: one row per replication-year."""
        from sim.analysis import losses
        bounds = self.year_bounds()
        reps = self.replications
        return losses.year_loss_table(
            reps, losses.event_loss_table(reps, self.events, bounds), bounds
        )

    def aal(self, measure: str = "revenue_usd") -> dict[str, float]:
        """Average annual loss (``revenue_usd`` or ``volume_mt``) and its standard error."""
        from sim.analysis import losses
        return losses.aal(self.ylt(), measure)

    def aal_table(self) -> pd.DataFrame:
        """AAL with standard error and CI, and PML, for revenue and volume."""
        from sim.analysis import losses
        return losses.aal_table(self.ylt())

    def ep_curve(self, kind: str = "aep", measure: str = "revenue_usd") -> pd.DataFrame:
        """Exceedance curve: ``aep`` (annual total) or ``oep`` (largest event of the year)."""
        from sim.analysis import losses
        return losses.ep_curve(self.ylt(), kind, measure)

    def return_periods(self, periods: tuple[int, ...] | None = None) -> pd.DataFrame:
        """Losses and TVaR at return periods (both measures, AEP and OEP).

        ``periods``: whole numbers of years (default 5, 10, 25, 50, 100, 250); bad ones raise
        :class:`~sim.base.errors.InputError`.
        """
        from sim.analysis import losses
        chosen = losses.RETURN_PERIODS if periods is None else periods
        return losses.return_period_table(self.ylt(), chosen)

    def pml(self, return_period: int = 100, measure: str = "revenue_usd") -> float:
        """Probable maximum loss: the AEP loss at ``return_period`` years."""
        from sim.analysis import losses
        return losses.pml(self.ylt(), return_period, measure)

    def convergence(self, measure: str = "revenue_usd") -> pd.DataFrame:
        """Return the AAL and its 95% CI over the first n replications."""
        from sim.analysis import losses
        return losses.convergence_table(self.ylt(), measure)

    def resilience(self) -> pd.DataFrame:
        """Per-hazard response: time to survive, time to recover, shortfall, where oil went."""
        from sim.analysis import resilience
        bounds = self.year_bounds()
        years = len(self.replications) * float(bounds[-1] - bounds[0]) / DAYS_PER_YEAR
        return resilience.by_hazard(self.events, years)

    def offset_ledger(self) -> pd.DataFrame:
        """Blocked volume per year and where it went (other corridors, storage, shut in)."""
        from sim.analysis import resilience
        bounds = self.year_bounds()
        return resilience.offset_ledger(
            self.replications, float(bounds[-1] - bounds[0]) / DAYS_PER_YEAR
        )

    @property
    def plot(self) -> RunPlots:
        """Figures of this run: ``.plot.loss_histogram()``, ``.plot.ep_curves()``, ..."""
        from sim.figures.run import RunPlots
        from sim.store.outputs import owned_subdir, save_figures

        def save(figures: dict, out_dir: Path | None) -> list[Path]:
            return save_figures(figures, out_dir or owned_subdir(self.path, "figures"))

        return RunPlots(self, save)


def load_run(path: str | Path, finished: bool = False) -> RunResult:
    """Open an existing run directory.

    Parameters
    ----------
    path:
        The run directory.
    finished:
        Also check that the run completed, that its chunk files are all there and match the
        checksums in the manifest, and that some replication succeeded (for analysing it; a
        directory to resume only needs a readable manifest). Without it, each chunk file is
        checked when a table is read.

    Raises
    ------
    InputError
        When the directory is not a run directory, or (``finished``) not a finished one, or a
        chunk is damaged (the message suggests ``corridor-sim resume DIR``).
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
    files = data_chunk_files(run_dir, "replications")
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
            metrics[name] = describe(values, adverse_tail(name))
    return {"metrics": metrics, "replications": n}


def run_variance_split(run_dir: Path) -> dict[str, Any]:
    """Return the variance split of a second-order run directory ({} for first-order runs).

    Reads ``parameter_set`` and the split metrics (:data:`~sim.analysis.variance.SPLIT_METRICS`)
    chunk by chunk and hands the table to :func:`sim.analysis.variance.variance_splits`.
    """
    import pyarrow.parquet as pq

    files = chunk_files(run_dir, "replications")
    if not files:
        return {}
    names = set(pq.read_schema(files[0]).names)
    if "parameter_set" not in names:
        return {}
    columns = ["parameter_set", *(m for m in SPLIT_METRICS if m in names)]
    table = pd.DataFrame(
        {c: pd.concat(list(iter_column(run_dir, c)), ignore_index=True) for c in columns}
    )
    return variance_splits(table)


def json_safe(obj: Any) -> Any:
    """Return ``obj`` with NaN and infinite floats replaced by ``None`` (strict JSON: null)."""
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


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
        Show a progress bar / log lines.

    Raises
    ------
    InputError
        Bad options, or an ``out`` that is not a run directory of this config and seed.
    RunError
        The environment stopped the run, or a chunk's files went missing or changed before it
        completed (the manifest is then ``failed``, never ``complete``).
    """
    root = resolve_seed(seed, cfg.run.seed)
    n = cfg.run.replications if replications is None else int(replications)
    owned = isinstance(executor, str)  # else an open executor shared by several runs
    check_run_options(n, chunk_size, workers, executor if owned else "serial", target_rel_ci)
    check_executor_options(executor, workers, scheduler)
    temporary = out is None
    out_dir = Path(tempfile.mkdtemp(prefix="corridor-sim-")) if temporary else Path(out).absolute()
    try:
        # One session per directory, from the first check to the last write (sim/store/lock.py).
        with RunDirLock(out_dir):
            manifest = prepare_dir(out_dir, cfg, root, resume)
            if manifest is not None:
                check_resume_options(manifest, replications, chunk_size, target_rel_ci)
                if is_complete(out_dir, manifest):
                    remove_stale_temp_files(out_dir)  # left by writers killed earlier
                    log.info("%s: the run is already complete; nothing to do", out_dir)
                    return RunResult(out_dir, manifest, unchanged=True)
                target_rel_ci = manifest.get("target_rel_ci")
                n = block_size(out_dir, manifest) if target_rel_ci is not None else n
            args = (executor, workers, scheduler, n, chunk_size, root, target_rel_ci)
            ex, manifest = open_session(out_dir, cfg, manifest, *args, default_chunk_size)
            batch = _Batch(ex, out_dir, manifest, cfg, progress)
            result = batch.run(target_rel_ci, n, owned)
    except BaseException:
        if temporary:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    if temporary:
        weakref.finalize(result, shutil.rmtree, str(out_dir), ignore_errors=True)
    return result


def _count_failures(out_dir: Path) -> int:
    folder = out_dir / "failures"
    if not folder.is_dir():
        return 0
    return sum(len(json.loads(f.read_text())) for f in folder.glob("chunk-*.json"))


class _Batch:
    """One session's work on a run directory: chunk tasks, their records, the final summary."""

    def __init__(
        self, ex: Executor, out: Path, manifest: dict[str, Any], cfg: Config, progress: bool
    ) -> None:
        self.ex, self.out, self.manifest, self.progress = ex, out, manifest, progress
        self.cfg_json = json.dumps(cfg.model_dump(mode="json"), sort_keys=True)
        self.chash = config_hash(cfg)
        self.timeseries = cfg.run.timeseries

    def run(self, target: float | None, block: int, owned: bool) -> RunResult:
        """Compute the missing chunks, check them all, write the summary; stop cleanly."""
        out, manifest = self.out, self.manifest
        t0 = time.perf_counter()
        try:
            if target is None:
                computed = self.run_range(0, manifest["replications"])
            else:
                computed = self.run_sequential(target, block)
            if owned:
                self.ex.close()
            remove_stale_temp_files(out)  # left by workers killed mid-write (now all gone)
            check_all_chunks(out, manifest)  # never "complete" with a chunk missing or changed
            wall = time.perf_counter() - t0
            summary = summarise(out)
            split = run_variance_split(out)
            if split:
                summary["parameter_uncertainty"] = split
            failed = _count_failures(out)
            summary.update(failed=failed, seed=manifest["seed"], config_hash=self.chash)
            data = json_bytes(json_safe(summary))
            atomic_write_bytes(out / SUMMARY, data)
            manifest[SUMMARY_SHA256] = hashlib.sha256(data).hexdigest()
            manifest["failed"] = failed
            manifest["timings"] = {
                "wall_seconds_last_session": wall,
                "replications_last_session": computed,
                "replications_per_second": computed / wall if wall > 0 else None,
            }
            manifest["status"] = "complete"
            atomic_write_json(out / MANIFEST, manifest)
        except KeyboardInterrupt:
            stop_session(self.ex, out, manifest, "interrupted", None, owned)
            raise
        except RunError as exc:
            stop_session(self.ex, out, manifest, "failed", exc.render(), owned)
            raise
        except BaseException:
            stop_session(self.ex, out, manifest, "failed", "stopped by an unexpected error", owned)
            raise
        return RunResult(out, manifest, computed=computed)

    def tasks(self, start: int, stop: int) -> Iterator[ChunkTask]:
        """Yield the chunks of ``start .. stop - 1`` whose files are missing."""
        manifest = self.manifest
        for a, b in plan_chunks(start, stop, manifest["chunk_size"]):
            name = chunk_name(a, b)
            entry = manifest["chunks"].setdefault(
                name, {"start": a, "stop": b, "status": "pending"}
            )
            if chunk_complete(self.out, name):
                entry["status"] = "done"
                if "sha256" not in entry:  # a resume's check_chunks recorded them already
                    entry["sha256"] = checked_chunk_sums(self.out, name, a, b, None, None)
                continue
            # out is absolute: a worker in another working directory writes to the same place.
            yield ChunkTask(
                self.cfg_json, self.chash, manifest["seed"], a, b, str(self.out), self.timeseries
            )

    def run_range(self, start: int, stop: int) -> int:
        """Run the missing chunks of replications ``start .. stop - 1``; return how many ran."""
        tasks = list(self.tasks(start, stop))
        # Every chunk is in the manifest on disk before any worker can write it (check_chunks).
        atomic_write_json(self.out / MANIFEST, self.manifest)
        todo = sum(t.stop - t.start for t in tasks)
        bar = Progress(stop - start, stop - start - todo, self.progress)
        try:
            for report in self.ex.run(tasks):
                self.record(report)
                bar.update(report.stop - report.start)
        finally:
            bar.close()
        atomic_write_json(self.out / MANIFEST, self.manifest)
        return todo

    def record(self, report: ChunkReport) -> None:
        """Check a finished chunk's files; record it, with their checksums, in the manifest."""
        a, b = report.start, report.stop
        name = chunk_name(a, b)
        sums = checked_chunk_sums(self.out, name, a, b, report.n_ok, report.n_failed)
        self.manifest["chunks"][name] = {
            "start": a,
            "stop": b,
            "status": "done",
            "ok": report.n_ok,
            "failed": report.n_failed,
            "seconds": round(report.seconds, 3),
            "sha256": sums,
        }
        atomic_write_json(self.out / MANIFEST, self.manifest)

    def run_sequential(self, target: float, block: int) -> int:
        """Add blocks of ``block`` replications until the relative CI target is met.

        The stopping rule is checked only at block boundaries, after at least two blocks, on
        the stored results; the number of replications needed is recorded in the manifest.
        Returns the replications computed (a resume skips the chunks it has and reaches the
        same decisions).
        """
        done = computed = 0
        rel = math.inf
        while done < MAX_REPLICATIONS_TARGET:
            stop = min(done + block, MAX_REPLICATIONS_TARGET)
            computed += self.run_range(done, stop)
            done = stop
            values = np.concatenate(
                [s.to_numpy(dtype=float) for s in iter_column(self.out, TARGET_METRIC)]
                or [np.zeros(0)]
            )
            rel = relative_ci_half_width(values)
            report_precision(done, rel, target, TARGET_METRIC, self.progress)
            if done >= 2 * block and rel <= target:
                break
        self.manifest["replications"] = done
        self.manifest["target_reached"] = bool(rel <= target)
        self.manifest["target_rel_ci_achieved"] = rel if math.isfinite(rel) else None
        return computed
