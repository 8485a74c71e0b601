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

The statistics of a run (its summary, the precision of sequential stopping) are not computed
here: the caller passes them in (:class:`RunStatistics`, e.g. :data:`sim.results.STATISTICS`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from sim.base.errors import RunError
from sim.base.limits import MAX_REPLICATIONS
from sim.batch.executors import Executor, check_executor_options
from sim.batch.options import RunOptions, default_chunk_size, plan_chunks, resolve_seed
from sim.batch.progress import Progress, report_precision
from sim.batch.session import (
    block_size,
    check_resume_options,
    is_complete,
    open_session,
    prepare_dir,
    stop_session,
)
from sim.batch.worker import ChunkReport, ChunkTask, check_report, run_chunk
from sim.config.loader import config_hash
from sim.config.models import Config
from sim.store.checks import check_all_chunks, checked_chunk_sums
from sim.store.layout import (
    SUMMARY,
    atomic_write_bytes,
    chunk_complete,
    chunk_name,
    iter_column,
    json_bytes,
    remove_stale_temp_files,
)
from sim.store.lock import RunDirLock
from sim.store.manifest import Manifest

log = logging.getLogger("corridor_sim")

TARGET_METRIC = "revenue_loss_usd"
MAX_REPLICATIONS_TARGET = MAX_REPLICATIONS
"""Most replications sequential stopping may add (the limit of any run)."""


class RunStatistics(Protocol):
    """What a run computes from its stored results (given by the layer that owns statistics)."""

    def summarise(self, run_dir: Path) -> dict[str, Any]:
        """Return the contents of ``summary.json`` (``metrics``, ``replications``, ...)."""
        ...

    def rel_ci(self, values: np.ndarray) -> float:
        """Return the 95% CI half-width of the mean of ``values`` as a share of the mean."""
        ...


@dataclass
class BatchOutcome:
    """What a batch session left: the run directory and its manifest.

    Attributes
    ----------
    path:
        The run directory (absolute).
    manifest:
        Its manifest, as written.
    computed:
        Replications this session computed.
    unchanged:
        True when a resume found the run complete and changed nothing.
    temporary:
        True when ``path`` is a temporary directory the caller should remove when done.
    """

    path: Path
    manifest: Manifest
    computed: int = 0
    unchanged: bool = False
    temporary: bool = False


def run(cfg: Config, options: RunOptions, stats: RunStatistics) -> BatchOutcome:
    """Run a batch of replications into a run directory (see :func:`sim.api.run`).

    Raises
    ------
    InputError
        Bad options, or an ``out`` that is not a run directory of this config and seed.
    RunError
        The environment stopped the run, or a chunk's files went missing or changed before it
        completed (the manifest is then ``failed``, never ``complete``).
    """
    root = resolve_seed(options.seed, cfg.run.seed)
    n = cfg.run.replications if options.replications is None else int(options.replications)
    options.check(n)
    check_executor_options(options.executor, options.workers, options.scheduler)
    temporary = options.out is None
    if options.out is None:
        out_dir = Path(tempfile.mkdtemp(prefix="corridor-sim-"))
    else:
        out_dir = Path(options.out).absolute()
    try:
        # One session per directory, from the first check to the last write (sim/store/lock.py).
        with RunDirLock(out_dir):
            outcome = _session(cfg, options, stats, out_dir, root, n)
    except BaseException:
        if temporary:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    outcome.temporary = temporary
    return outcome


def _session(
    cfg: Config, options: RunOptions, stats: RunStatistics, out_dir: Path, root: int, n: int
) -> BatchOutcome:
    """Check the directory, open a session on it and compute what is missing."""
    chash = config_hash(cfg)
    target = options.target_rel_ci
    manifest = prepare_dir(out_dir, chash, root, options.resume)
    if manifest is not None:
        check_resume_options(manifest, options)
        if is_complete(out_dir, manifest):
            remove_stale_temp_files(out_dir)  # left by writers killed earlier
            log.info("%s: the run is already complete; nothing to do", out_dir)
            return BatchOutcome(out_dir, manifest, unchanged=True)
        target = manifest.target_rel_ci
        n = block_size(out_dir, manifest) if target is not None else n
    plan = (options, n, root, target)
    ex, manifest = open_session(out_dir, cfg, chash, manifest, plan, default_chunk_size)
    batch = _Batch(ex, out_dir, manifest, (cfg, chash), options.progress, stats)
    return batch.run(target, n, options.owns_executor)


def json_safe(obj: Any) -> Any:
    """Return ``obj`` with NaN and infinite floats replaced by ``None`` (strict JSON: null)."""
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _count_failures(out_dir: Path) -> int:
    folder = out_dir / "failures"
    if not folder.is_dir():
        return 0
    return sum(len(json.loads(f.read_text())) for f in folder.glob("chunk-*.json"))


class _Batch:
    """One session's work on a run directory: chunk tasks, their records, the final summary."""

    def __init__(
        self,
        ex: Executor,
        out: Path,
        manifest: Manifest,
        config: tuple[Config, str],
        progress: bool,
        stats: RunStatistics,
    ) -> None:
        cfg, self.chash = config
        self.ex, self.out, self.manifest, self.progress = ex, out, manifest, progress
        self.stats = stats
        self.cfg_json = json.dumps(cfg.model_dump(mode="json"), sort_keys=True)
        self.timeseries = cfg.run.timeseries

    def run(self, target: float | None, block: int, owned: bool) -> BatchOutcome:
        """Compute the missing chunks, check them all, write the summary; stop cleanly."""
        out, manifest = self.out, self.manifest
        t0 = time.perf_counter()
        try:
            if target is None:
                computed = self.run_range(0, manifest.replications)
            else:
                computed = self.run_sequential(target, block)
            if owned:
                self.ex.close()
            remove_stale_temp_files(out)  # left by workers killed mid-write (now all gone)
            check_all_chunks(out, manifest.data)  # never "complete" with a chunk missing/changed
            self.finish(computed, time.perf_counter() - t0)
        except KeyboardInterrupt:
            stop_session(self.ex, out, manifest, "interrupted", None, owned)
            raise
        except RunError as exc:
            stop_session(self.ex, out, manifest, "failed", exc.render(), owned)
            raise
        except BaseException:
            stop_session(self.ex, out, manifest, "failed", "stopped by an unexpected error", owned)
            raise
        return BatchOutcome(out, manifest, computed=computed)

    def finish(self, computed: int, wall: float) -> None:
        """Write ``summary.json`` and the manifest of the completed run."""
        out, manifest = self.out, self.manifest
        summary = self.stats.summarise(out)
        failed = _count_failures(out)
        summary.update(failed=failed, seed=manifest.seed, config_hash=self.chash)
        data = json_bytes(json_safe(summary))
        atomic_write_bytes(out / SUMMARY, data)
        manifest.summary_sha256 = hashlib.sha256(data).hexdigest()
        manifest.failed = failed
        manifest.timings = {
            "wall_seconds_last_session": wall,
            "replications_last_session": computed,
            "replications_per_second": computed / wall if wall > 0 else None,
        }
        manifest.status = "complete"
        manifest.save(out)

    def tasks(self, start: int, stop: int) -> Iterator[ChunkTask]:
        """Yield the chunks of ``start .. stop - 1`` whose files are missing."""
        manifest = self.manifest
        for a, b in plan_chunks(start, stop, manifest.chunk_size, manifest.chunk_taper):
            name = chunk_name(a, b)
            entry = manifest.chunk_entry(name, a, b)
            if chunk_complete(self.out, name):
                entry["status"] = "done"
                if "sha256" not in entry:  # a resume's check_chunks recorded them already
                    entry["sha256"] = checked_chunk_sums(self.out, name, a, b, None, None)
                continue
            # out is absolute: a worker in another working directory writes to the same place.
            yield ChunkTask(
                self.cfg_json, self.chash, manifest.seed, a, b, str(self.out), self.timeseries
            )

    def run_range(self, start: int, stop: int) -> int:
        """Run the missing chunks of replications ``start .. stop - 1``; return how many ran."""
        tasks = list(self.tasks(start, stop))
        # Every chunk is in the manifest on disk before any worker can write it (check_chunks).
        self.manifest.save(self.out)
        todo = sum(t.stop - t.start for t in tasks)
        bar = Progress(stop - start, stop - start - todo, self.progress)
        try:
            for report in self.ex.run(tasks, fn=run_chunk, check=check_report):
                self.record(report)
                bar.update(report.stop - report.start)
        finally:
            bar.close()
        self.manifest.save(self.out)
        return todo

    def record(self, report: ChunkReport) -> None:
        """Check a finished chunk's files; record it, with their checksums, in the manifest."""
        a, b = report.start, report.stop
        name = chunk_name(a, b)
        sums = checked_chunk_sums(self.out, name, a, b, report.n_ok, report.n_failed)
        self.manifest.chunks[name] = {
            "start": a,
            "stop": b,
            "status": "done",
            "ok": report.n_ok,
            "failed": report.n_failed,
            "seconds": round(report.seconds, 3),
            "sha256": sums,
        }
        self.manifest.save(self.out)

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
            rel = self.stats.rel_ci(values)
            report_precision(done, rel, target, TARGET_METRIC, self.progress)
            if done >= 2 * block and rel <= target:
                break
        self.manifest.replications = done
        self.manifest.target_reached = bool(rel <= target)
        self.manifest.target_rel_ci_achieved = rel if math.isfinite(rel) else None
        return computed
