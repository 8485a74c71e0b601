"""The results of a run directory: its tables, loss tables, summaries and figures.

:class:`RunResult` reads a run directory's tables once (each chunk file checked against the
checksum its manifest recorded) and derives the loss tables from them once. :func:`load_run`
opens a run directory; :data:`STATISTICS` is what a batch run computes from its stored results
(``summary.json``, the precision of sequential stopping; see
:class:`sim.batch.coordinator.RunStatistics`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.analysis import losses, resilience
from sim.analysis.stats import describe, relative_ci_half_width
from sim.analysis.variance import SPLIT_METRICS, variance_splits
from sim.base.calendar import year_bounds
from sim.base.columns import adverse_tail
from sim.base.errors import InputError, Problem
from sim.base.units import DAYS_PER_YEAR
from sim.config.loader import config_hash, read_yaml, validate_config
from sim.config.models import Config
from sim.store.checks import read_verified_table
from sim.store.integrity import check_finished
from sim.store.layout import CONFIG, MANIFEST, chunk_files, data_chunk_files, iter_column
from sim.store.layout import read_summary as _read_summary
from sim.store.manifest import Manifest

if TYPE_CHECKING:
    from sim.figures.run import RunPlots


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

    Tables are read from the chunk files once, each checked against the checksum the manifest
    recorded for it (:mod:`sim.store.checks`): a damaged chunk raises
    :class:`~sim.base.errors.InputError` instead of returning different data. The tables are
    shared between calls: copy one before changing it.
    """

    path: Path
    manifest: dict[str, Any]
    computed: int = 0
    unchanged: bool = False

    @cached_property
    def replications(self) -> pd.DataFrame:
        """One row per replication."""
        return read_verified_table(self.path, "replications", self.manifest)

    @cached_property
    def events(self) -> pd.DataFrame:
        """All disruption event records."""
        return read_verified_table(self.path, "events", self.manifest)

    @cached_property
    def timeseries(self) -> pd.DataFrame:
        """Daily series (empty unless the run kept them)."""
        return read_verified_table(self.path, "timeseries", self.manifest)

    @cached_property
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
        data = _read_summary(self.path, self.manifest)
        return pd.DataFrame.from_dict(data["metrics"], orient="index").astype(float)

    @property
    def n_failed(self) -> int:
        """Replications that raised an error."""
        return int(self.manifest.get("failed", 0))

    # Loss tables (see sim.analysis.losses) and resilience summaries (sim.analysis.resilience).
    def year_bounds(self) -> np.ndarray:
        """Year boundaries of the horizon in days (anniversaries of the start date)."""
        run = self.config.run
        return year_bounds(run.start_date, run.horizon_days)

    @cached_property
    def _elt(self) -> pd.DataFrame:
        return losses.event_loss_table(self.replications, self.events, self.year_bounds())

    @cached_property
    def _ylt(self) -> pd.DataFrame:
        return losses.year_loss_table(self.replications, self._elt, self.year_bounds())

    def elt(self) -> pd.DataFrame:
        """Event loss table: one row per event and year, the year's loss allocated to its events."""
        return self._elt

    def ylt(self) -> pd.DataFrame:
        """Year loss table: one row per replication-year."""
        return self._ylt

    def aal(self, measure: str = "revenue_usd") -> dict[str, float]:
        """Average annual loss (``revenue_usd`` or ``volume_mt``) and its standard error."""
        return losses.aal(self.ylt(), measure)

    def aal_table(self) -> pd.DataFrame:
        """AAL with standard error and CI, and PML, for revenue and volume."""
        return losses.aal_table(self.ylt())

    def ep_curve(self, kind: str = "aep", measure: str = "revenue_usd") -> pd.DataFrame:
        """Exceedance curve: ``aep`` (annual total) or ``oep`` (largest event of the year)."""
        return losses.ep_curve(self.ylt(), kind, measure)

    def return_periods(self, periods: tuple[int, ...] | None = None) -> pd.DataFrame:
        """Losses and TVaR at return periods (both measures, AEP and OEP).

        ``periods``: whole numbers of years (default 5, 10, 25, 50, 100, 250); bad ones raise
        :class:`~sim.base.errors.InputError`.
        """
        chosen = losses.RETURN_PERIODS if periods is None else periods
        return losses.return_period_table(self.ylt(), chosen)

    def pml(self, return_period: int = 100, measure: str = "revenue_usd") -> float:
        """Probable maximum loss: the AEP loss at ``return_period`` years."""
        return losses.pml(self.ylt(), return_period, measure)

    def convergence(self, measure: str = "revenue_usd") -> pd.DataFrame:
        """Return the AAL and its 95% CI over the first n replications."""
        return losses.convergence_table(self.ylt(), measure)

    def simulated_years(self) -> float:
        """Length of the horizon in years."""
        bounds = self.year_bounds()
        return float(bounds[-1] - bounds[0]) / DAYS_PER_YEAR

    def resilience(self) -> pd.DataFrame:
        """Per-hazard response: time to survive, time to recover, shortfall, where oil went."""
        bounds = self.year_bounds()
        years = len(self.replications) * float(bounds[-1] - bounds[0]) / DAYS_PER_YEAR
        return resilience.by_hazard(self.events, years)

    def offset_ledger(self) -> pd.DataFrame:
        """Blocked volume per year and where it went (other corridors, storage, shut in)."""
        return resilience.offset_ledger(self.replications, self.simulated_years())

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
    manifest = Manifest.load(p)
    if finished:
        check_finished(p, manifest)
    return RunResult(p, manifest.data)


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


def run_variance_split(run_dir: Path, metrics: tuple[str, ...] = SPLIT_METRICS) -> dict[str, Any]:
    """Return ``{metric: split}`` for a run directory with a ``parameter_set`` column.

    Returns an empty mapping for first-order runs (no ``parameter_set`` column) and skips
    metrics that cannot be split (see :func:`sim.analysis.variance.variance_split`).
    """
    import pyarrow.parquet as pq

    files = chunk_files(run_dir, "replications")
    if not files:
        return {}
    names = set(pq.read_schema(files[0]).names)
    if "parameter_set" not in names:
        return {}
    wanted = [c for c in ("parameter_set", *metrics) if c in names]
    columns = {c: pd.concat(list(iter_column(run_dir, c)), ignore_index=True) for c in wanted}
    return variance_splits(pd.DataFrame(columns), metrics)


class _Statistics:
    """The statistics a batch run computes from its stored results."""

    def summarise(self, run_dir: Path) -> dict[str, Any]:
        """Return the contents of ``summary.json`` (without the run's seed, hash, failures)."""
        summary = summarise(run_dir)
        split = run_variance_split(run_dir)
        if split:
            summary["parameter_uncertainty"] = split
        return summary

    def rel_ci(self, values: np.ndarray) -> float:
        """Relative 95% CI half-width of the mean (see :func:`~sim.analysis.stats`)."""
        return relative_ci_half_width(values)


STATISTICS = _Statistics()
"""Pass to :func:`sim.batch.coordinator.run` (it matches its ``RunStatistics``)."""


def result_of(outcome: Any) -> RunResult:
    """Return the :class:`RunResult` of a batch session's outcome (path, manifest, counts)."""
    return RunResult(
        outcome.path, outcome.manifest.data, computed=outcome.computed, unchanged=outcome.unchanged
    )
