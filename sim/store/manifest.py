"""``manifest.json``: the typed record of a run directory.

:class:`Manifest` is a typed view over the JSON object, so the file keeps exactly the keys and
values it had (a run directory written by an older version loads, resumes and is written back
with its keys; keys this version does not know are kept). The keys::

    format, package_version, config_name, config_hash, seed, replications, chunk_size,
    chunk_taper (absent: 0, equal chunks; see sim.batch.options.plan_chunks),
    chunks {name: {start, stop, status, ok, failed, seconds, sha256}}, executor, workers,
    target_rel_ci, target_block (sequential runs), host, created, timings, status, error,
    failed, summary_sha256, target_reached, target_rel_ci_achieved
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

from sim.base.errors import InputError, Problem
from sim.store.layout import (
    MANIFEST,
    SUMMARY_SHA256,
    atomic_write_json,
    host_info,
    read_manifest,
)

T = TypeVar("T")

FORMAT = 1
"""Version of the manifest's layout. A manifest without ``format`` predates the key and loads;
one of a later format was written by a newer corridor-sim and is refused (:func:`check_format`)."""


def check_format(data: dict[str, Any], path: str) -> None:
    """Refuse a manifest whose ``format`` this version cannot read.

    Raises
    ------
    InputError
        Naming ``path`` and the key ``format``: when it is not an integer from 1 (the manifest
        is damaged), or above :data:`FORMAT` (written by a newer corridor-sim).
    """
    if "format" not in data:
        return
    found = data["format"]
    if isinstance(found, bool) or not isinstance(found, int) or found < 1:
        raise InputError(
            Problem(
                "format",
                f"{found!r} is not a manifest format (expected an integer from 1 to {FORMAT}; "
                "the manifest is damaged)",
            ),
            path,
        )
    if found > FORMAT:
        raise InputError(
            Problem(
                "format",
                f"{found} is newer than this corridor-sim reads (expected {FORMAT} or older): "
                "the run directory was written by a newer version; read or resume it with that "
                "version, or upgrade corridor-sim",
            ),
            path,
        )


class _Key(Generic[T]):
    """A typed attribute stored under its own name in :attr:`Manifest.data`."""

    def __init__(self, default: Any = None, key: str | None = None) -> None:
        self.default = default
        self.key = key or ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = self.key or name

    @overload
    def __get__(self, obj: None, objtype: type | None = None) -> _Key[T]: ...
    @overload
    def __get__(self, obj: Manifest, objtype: type | None = None) -> T: ...
    def __get__(self, obj: Manifest | None, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        return obj.data.get(self.key, self.default)

    def __set__(self, obj: Manifest, value: T) -> None:
        obj.data[self.key] = value


class Manifest:
    """The manifest of a run directory (attributes read and write the JSON keys).

    Parameters
    ----------
    data:
        The JSON object (shared, not copied: :attr:`data` is what :meth:`save` writes).
    """

    format = _Key[int]()
    package_version = _Key[str]()
    config_name = _Key[str]()
    config_hash = _Key[str]()
    seed = _Key[int]()
    replications = _Key[int]()
    chunk_size = _Key[int]()
    chunk_taper = _Key[int](default=0)
    chunks = _Key[dict[str, dict[str, Any]]]()
    executor = _Key[str]()
    workers = _Key[int]()
    target_rel_ci = _Key["float | None"]()
    target_block = _Key["int | None"]()
    host = _Key[dict[str, Any]]()
    created = _Key[str]()
    timings = _Key[dict[str, Any]]()
    status = _Key["str | None"]()
    error = _Key["str | None"]()
    failed = _Key[int](default=0)
    summary_sha256 = _Key["str | None"](key=SUMMARY_SHA256)
    target_reached = _Key["bool | None"]()
    target_rel_ci_achieved = _Key["float | None"]()

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"Manifest(seed={self.seed}, replications={self.replications}, status={self.status})"

    @classmethod
    def new(
        cls,
        *,
        version: str,
        config_name: str,
        config_hash: str,
        seed: int,
        replications: int,
        chunk_size: int,
        chunk_taper: int = 0,
        executor: str,
        workers: int,
        target_rel_ci: float | None,
    ) -> Manifest:
        """Return the manifest of a new run (no chunks yet, this machine's facts)."""
        return cls(
            {
                "format": FORMAT,
                "package_version": version,
                "config_name": config_name,
                "config_hash": config_hash,
                "seed": seed,
                "replications": replications,
                "chunk_size": chunk_size,
                "chunk_taper": chunk_taper,
                "chunks": {},
                "executor": executor,
                "workers": workers,
                "target_rel_ci": target_rel_ci,
                **({"target_block": replications} if target_rel_ci is not None else {}),
                "host": host_info(),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "timings": {},
            }
        )

    @classmethod
    def load(cls, run_dir: Path) -> Manifest:
        """Read and check ``run_dir/manifest.json`` (see :func:`sim.store.layout.read_manifest`).

        Raises
        ------
        InputError
            When it is unreadable, lacks the keys a run needs, or has a ``format`` newer than
            :data:`FORMAT` (see :func:`check_format`).
        """
        data = read_manifest(run_dir)
        check_format(data, str(Path(run_dir) / MANIFEST))
        return cls(data)

    def save(self, run_dir: Path) -> None:
        """Write ``run_dir/manifest.json`` atomically."""
        atomic_write_json(Path(run_dir) / MANIFEST, self.data)

    def has(self, key: str) -> bool:
        """Return True when the JSON holds ``key``."""
        return key in self.data

    def drop(self, key: str) -> None:
        """Remove ``key`` from the JSON, if there."""
        self.data.pop(key, None)

    def chunk_entry(self, name: str, start: int, stop: int) -> dict[str, Any]:
        """Return the entry of chunk ``name``, planning it (``pending``) when it is new."""
        return self.chunks.setdefault(name, {"start": start, "stop": stop, "status": "pending"})
