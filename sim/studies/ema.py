"""Results in the shape the EMA Workbench's analysis functions take, and its archive format.

EMA Workbench (``ema_workbench``) analyses ``(experiments, outcomes)``: ``experiments`` is a
DataFrame with one row per model run, a column per uncertainty or lever, and the categorical
columns ``scenario``, ``policy`` and ``model``; ``outcomes`` maps each outcome name to a 1-D
NumPy array aligned with the rows. An experiment directory maps onto that as follows:

* one row per (scenario of the experiment, replication): ``policy`` is the experiment's scenario
  name (``base``, a lever, a design point) and ``scenario`` the replication index, which under
  common random numbers is the same state of the world in every policy; or, with
  ``level="design"``, one row per experiment scenario (``scenario`` = ``mean``) holding the
  mean over replications;
* one column per config key that any scenario changes, with the base value where it does not;
  ``added`` lists the entries a scenario's ``add`` block appends;
* one outcome per metric of the experiment file.

:func:`save_results` writes the ``.tar.gz`` layout of EMA Workbench 2.x ``save_results``:
``experiments.csv`` (header, no index), one headerless CSV per scalar outcome named
``<outcome>.cls`` (the name EMA itself gives scalar outcomes) and ``metadata.json``
(``{"version": 0.1, "outcomes": [["ScalarOutcome", name, file], ...], "experiments":
{column: dtype}}``), so ``ema_workbench.load_results`` reads it. :func:`load_results` reads it
back into the same DataFrame and dict. Parquet stays the primary format (CSV loses dtypes).
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd

from sim.base.errors import InputError, Problem
from sim.store.experiments import EMA_ARCHIVE, EMA_PARAMETERS
from sim.store.layout import atomic_write_bytes, read_table

FORMAT_VERSION = 0.1
ARCHIVE = EMA_ARCHIVE
PARAMETERS = EMA_PARAMETERS
MODEL_NAME = "corridor_sim"

Results = tuple[pd.DataFrame, dict[str, np.ndarray]]


def _run_dir(exp_dir: Path, name: str) -> Path:
    return exp_dir / ("base" if name == "base" else f"scenarios/{name}")


def experiment_results(
    exp_dir: str | Path, metrics: list[str], level: str = "replication"
) -> Results:
    """Build ``(experiments, outcomes)`` from a finished experiment directory.

    Parameters
    ----------
    exp_dir:
        The experiment directory (``parameters.parquet`` and the scenario run directories).
    metrics:
        Replication columns to return as outcomes.
    level:
        ``"replication"`` (one row per scenario and replication) or ``"design"`` (one row per
        scenario, outcomes averaged over replications).
    """
    if level not in ("replication", "design"):
        raise ValueError("level must be 'replication' or 'design'")
    root = Path(exp_dir)
    params = pd.read_parquet(root / PARAMETERS)
    blocks: list[pd.DataFrame] = []
    values: dict[str, list[np.ndarray]] = {m: [] for m in metrics}
    for i, name in enumerate(params["policy"].astype(str)):
        reps = read_table(_run_dir(root, name))
        missing = [m for m in metrics if m not in reps.columns]
        if missing:
            raise InputError(Problem(f"metrics: {missing[0]}", "not a column of the results"))
        if level == "replication":
            n = len(reps)
            scenario = reps["replication"].to_numpy(dtype=np.int64)
            for m in metrics:
                values[m].append(reps[m].to_numpy(dtype=float))
        else:
            n = 1
            scenario = np.array(["mean"], dtype=object)
            for m in metrics:
                values[m].append(np.array([reps[m].to_numpy(dtype=float).mean()]))
        block = params.iloc[[i] * n].drop(columns=["policy"]).reset_index(drop=True)
        block["scenario"] = scenario
        block["policy"] = name
        block["model"] = MODEL_NAME
        blocks.append(block)
    experiments = pd.concat(blocks, ignore_index=True)
    for col in ("scenario", "policy", "model"):
        experiments[col] = experiments[col].astype("category")
    outcomes = {m: np.concatenate(v) if v else np.zeros(0) for m, v in values.items()}
    return experiments, outcomes


def _member(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


def save_results(results: Results, path: str | Path) -> Path:
    """Write ``(experiments, outcomes)`` as an EMA Workbench results archive (atomically)."""
    experiments, outcomes = results
    n = len(experiments)
    for name, arr in outcomes.items():
        if np.ndim(arr) != 1 or len(arr) != n:
            raise ValueError(f"outcome {name!r} must be 1-D with one value per experiment row")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as archive:
        _member(archive, "experiments.csv", experiments.to_csv(index=False).encode())
        listed = []
        for name, arr in outcomes.items():
            filename = f"{name}.cls"
            text = pd.DataFrame(np.asarray(arr)).to_csv(header=False, index=False)
            _member(archive, filename, text.encode())
            listed.append(["ScalarOutcome", name, filename])
        metadata = {
            "version": FORMAT_VERSION,
            "outcomes": listed,
            "experiments": {k: v.name for k, v in experiments.dtypes.to_dict().items()},
        }
        _member(archive, "metadata.json", json.dumps(metadata).encode())
    target = Path(path)
    atomic_write_bytes(target, buf.getvalue())
    return target


def load_results(path: str | Path) -> Results:
    """Read an EMA Workbench results archive into ``(experiments, outcomes)``.

    Columns get back the dtypes recorded in ``metadata.json`` (``category`` columns as
    categories); outcomes are 1-D float arrays.

    Raises
    ------
    InputError
        If the file is missing or is not an archive in this layout.
    """
    p = Path(path)
    try:
        with tarfile.open(p, "r:gz") as archive:
            meta = json.loads(_read(archive, "metadata.json"))
            experiments = pd.read_csv(io.BytesIO(_read(archive, "experiments.csv")))
            outcomes = {}
            for _kind, name, filename in meta["outcomes"]:
                table = pd.read_csv(io.BytesIO(_read(archive, filename)), header=None)
                outcomes[name] = table.to_numpy(dtype=float).reshape(len(table))
    except FileNotFoundError:
        raise InputError(Problem("", "file not found"), str(p)) from None
    except (tarfile.TarError, KeyError, ValueError, OSError) as exc:
        raise InputError(
            Problem("", f"not an EMA Workbench results archive ({exc})"), str(p)
        ) from None
    for col, dtype in meta["experiments"].items():
        if dtype in ("category", "object"):
            experiments[col] = experiments[col].astype("category")
        elif col in experiments:
            experiments[col] = experiments[col].astype(dtype)
    return experiments, outcomes


def _read(archive: tarfile.TarFile, name: str) -> bytes:
    member = archive.extractfile(name)
    if member is None:
        raise KeyError(name)
    return member.read()


__all__ = ["ARCHIVE", "experiment_results", "load_results", "save_results"]
