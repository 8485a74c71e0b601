"""An experiment directory on disk: its layout, claiming it, and reading it back with clear errors.

::

    DIR/
      .corridor-sim-output   marker: this directory is the output of `corridor-sim experiment`
      base/                  run directory of the base
      scenarios/<name>/      run directory of each scenario and design point
      comparison.parquet     paired comparison, one row per scenario and metric (and .csv)
      parameters.parquet     values of every changed key per run
      ema_results.tar.gz     EMA Workbench archive
      sobol.parquet          Sobol' indices (a Sobol' design only; and .csv)
      experiment.json        the experiment as run (name, seed, replications, scenarios ...)
      checksums.json         SHA-256 of the four tables above and experiment.json, written last
      figures/, report.html  written by `corridor-sim experiment` and `corridor-sim report`

A directory that is missing a file, or holds one that cannot be read, lacks what a reader needs
or no longer matches its checksum, is refused, an :class:`~sim.base.errors.InputError` naming the
file and what to do. Directories written before ``checksums.json`` existed are read without
the checksum check.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd

from sim.base.errors import InputError, Problem
from sim.base.safeio import read_input
from sim.store.outputs import MARKER, check_output_dir, claim_output_dir, owned_subdir

KIND = "experiment"
EMA_ARCHIVE = "ema_results.tar.gz"
"""The EMA Workbench archive of an experiment (written by :mod:`sim.studies.ema`)."""
EMA_PARAMETERS = "parameters.parquet"
"""The design's parameter table of an experiment (written by :mod:`sim.studies.ema`)."""
CHECKSUMS = "checksums.json"
CHECKED = ("comparison.parquet", EMA_PARAMETERS, "sobol.parquet", "experiment.json")
"""Files whose SHA-256 ``checksums.json`` records (those present when it is written)."""
OUTPUT_NAMES = (
    "base",
    "scenarios",
    "comparison.parquet",
    "comparison.csv",
    EMA_PARAMETERS,
    EMA_ARCHIVE,
    "sobol.parquet",
    "sobol.csv",
    "experiment.json",
    CHECKSUMS,
    "figures",
    "report.html",
)
"""Everything an experiment directory holds (the names ``experiment`` and ``report`` write)."""
LEGACY = "base/manifest.json"
"""Marks an experiment directory written before the marker file existed."""
COMPARISON_COLUMNS = (
    "scenario",
    "metric",
    "base_mean",
    "scenario_mean",
    "mean_diff",
    "ci95_low",
    "ci95_high",
    "unpaired_ci95_half",
    "variance_reduction",
)
"""Columns of ``comparison.parquet`` every reader relies on."""
META_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "seed": int,
    "replications": int,
    "scenarios": dict,
    "factorial": (dict, type(None)),
    "design": (dict, type(None)),
}
"""Keys of ``experiment.json`` and their types."""
MAX_META_BYTES = 100_000_000
"""Largest ``experiment.json`` read (20,000 design points with their settings)."""


def claim(out: str | Path, scenarios: list[str]) -> dict[str, Path]:
    """Claim ``out`` for an experiment; return the run directory of the base and each scenario.

    Raises
    ------
    InputError
        When ``out`` holds files an experiment did not write, or ``base``, ``scenarios`` or a
        scenario's directory is a symlink or a file (see :mod:`sim.store.outputs`).
    """
    out_dir = Path(out)
    check_output_dir(out_dir, KIND, OUTPUT_NAMES, LEGACY)
    folders = {"base": owned_subdir(out_dir, "base")}
    if scenarios:
        parent = owned_subdir(out_dir, "scenarios")
        folders.update({name: owned_subdir(parent, name) for name in scenarios})
    claim_output_dir(out_dir, KIND, OUTPUT_NAMES, LEGACY)
    return folders


def is_experiment_dir(path: str | Path) -> bool:
    """Return True when ``path`` is (marked as, or an older) experiment directory.

    Raises
    ------
    InputError
        When ``path`` has a marker file that is damaged or names another command.
    """
    path = Path(path)
    try:
        return check_output_dir(path, KIND, OUTPUT_NAMES, LEGACY)
    except InputError:
        if (path / MARKER).exists():
            raise
        return False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checksums(exp_dir: str | Path) -> dict[str, str]:
    """Return ``{name: SHA-256}`` of the :data:`CHECKED` files present in ``exp_dir``."""
    exp_dir = Path(exp_dir)
    return {name: _sha256(exp_dir / name) for name in CHECKED if (exp_dir / name).is_file()}


def verify(path: Path, hint: str) -> None:
    """Refuse ``path`` when it differs from what ``checksums.json`` beside it records.

    Raises
    ------
    InputError
        When the file changed since the experiment wrote it, or ``checksums.json`` is damaged.
    """
    record = path.parent / CHECKSUMS
    if not record.is_file():
        return  # written before checksums existed
    try:
        sums = json.loads(read_input(record, "experiment checksums", limit=1 << 16).decode())
        expected = sums.get(path.name) if isinstance(sums, dict) else None
    except (ValueError, UnicodeDecodeError):
        raise InputError(Problem("", f"damaged JSON; {hint}"), str(record)) from None
    if expected is None:
        if isinstance(sums, dict) and path.name not in sums and path.exists():
            raise InputError(Problem("", f"not written by this experiment; {hint}"), str(path))
        return
    if not path.is_file() or _sha256(path) != expected:
        raise InputError(
            Problem("", f"changed since the experiment wrote it (checksum differs); {hint}"),
            str(path),
        )


def _parquet(path: Path, required: tuple[str, ...], hint: str) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(Problem("", f"missing: {hint}"), str(path))
    verify(path, hint)
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many kinds for a damaged file
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise InputError(
            Problem("", f"damaged Parquet file ({reason}); {hint}"), str(path)
        ) from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(
            Problem("", f"damaged: lacks column(s) {', '.join(missing)}; {hint}"), str(path)
        )
    return df


def _hint(exp_dir: Path) -> str:
    return f"re-run the experiment with `--out {exp_dir} --resume` to rewrite it"


def read_comparison(exp_dir: str | Path) -> pd.DataFrame:
    """Read ``comparison.parquet``, checking it has the columns readers need.

    Raises
    ------
    InputError
        When it is missing, unreadable or lacks a column of :data:`COMPARISON_COLUMNS`.
    """
    exp_dir = Path(exp_dir)
    return _parquet(exp_dir / "comparison.parquet", COMPARISON_COLUMNS, _hint(exp_dir))


def read_sobol(exp_dir: str | Path) -> pd.DataFrame:
    """Read ``sobol.parquet`` (an empty table when the experiment had no Sobol' design)."""
    exp_dir = Path(exp_dir)
    path = exp_dir / "sobol.parquet"
    if not path.exists():
        return pd.DataFrame()
    return _parquet(path, ("metric", "parameter", "S1", "ST"), _hint(exp_dir))


def read_meta(exp_dir: str | Path) -> dict[str, Any]:
    """Read ``experiment.json``, checking the keys of :data:`META_KEYS`.

    Raises
    ------
    InputError
        When it is missing, not JSON, or a key is missing or of the wrong type.
    """
    exp_dir = Path(exp_dir)
    path = exp_dir / "experiment.json"
    hint = _hint(exp_dir)
    if not path.is_file():
        raise InputError(Problem("", f"missing: {hint}"), str(path))
    verify(path, hint)
    raw = read_input(path, "experiment record", limit=MAX_META_BYTES)
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise InputError(Problem("", f"damaged JSON ({exc}); {hint}"), str(path)) from None
    if not isinstance(meta, dict):
        raise InputError(Problem("", f"damaged: not a JSON object; {hint}"), str(path))
    for key, kind in META_KEYS.items():
        value = meta.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise InputError(Problem(key, f"missing or of the wrong type; {hint}"), str(path))
    if not all(isinstance(v, dict) for v in meta["scenarios"].values()):
        raise InputError(Problem("scenarios", f"damaged entries; {hint}"), str(path))
    return meta


__all__ = [
    "COMPARISON_COLUMNS",
    "CHECKSUMS",
    "KIND",
    "OUTPUT_NAMES",
    "checksums",
    "claim",
    "is_experiment_dir",
    "read_comparison",
    "read_meta",
    "read_sobol",
    "verify",
]
