"""The options of a batch run, each declared once: its flag, type, default, help and check.

:data:`OPTIONS` builds the flags of ``corridor-sim run`` and ``resume``
(:func:`add_run_options`) and checks the values a caller gives (:meth:`RunOptions.check`), so the
command line and the Python API accept, refuse and explain the same values.
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from sim.base.errors import InputError, Problem
from sim.base.limits import MAX_CHUNK_SIZE, MAX_WORKERS, replications_problem

EXECUTORS = ("serial", "processes", "dask")
"""Executor names (see :mod:`sim.batch.executors`)."""
DEFAULT_EXECUTOR = "processes"


def default_workers(workers: int | None) -> int:
    """Return the worker count to use: ``workers``, or every core of this machine."""
    return max(1, workers or os.cpu_count() or 1)


def _range(low: int, high: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if low <= value <= high else f"expected {low} to {high}, got {value}"

    return check


def _executor(value: Any) -> str | None:
    if not isinstance(value, str) or value in EXECUTORS:  # an open executor brings its own
        return None
    return f"expected one of {', '.join(EXECUTORS)}, got {value!r}"


def _share(value: Any) -> str | None:
    if math.isfinite(value) and 0 < value <= 1:
        return None
    return f"expected a share of the mean in (0, 1], e.g. 0.02, got {value}"


@dataclass(frozen=True)
class Option:
    """One run option: the :class:`RunOptions` field, its command-line flags and its check.

    ``check(value)`` returns what is wrong with a given (not ``None``) value, or ``None``.
    ``from_cli`` turns the parsed flag into the field's value (``--quiet`` -> ``progress``).
    """

    field: str
    flags: tuple[str, ...]
    help: str
    type: Callable[[str], Any] | None = None
    choices: tuple[str, ...] | None = None
    default: Any = None
    flag_only: bool = False
    check: Callable[[Any], str | None] | None = None
    from_cli: Callable[[Any], Any] | None = None

    @property
    def dest(self) -> str:
        """Name of the parsed argument."""
        return self.flags[0].lstrip("-").replace("-", "_")

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        """Add this option's flag to ``parser``."""
        if self.flag_only:
            parser.add_argument(*self.flags, action="store_true", help=self.help)
            return
        parser.add_argument(
            *self.flags, type=self.type, choices=self.choices, default=self.default, help=self.help
        )


OPTIONS: tuple[Option, ...] = (
    Option("seed", ("--seed",), "root seed: an integer or 'random' (default: the config's)"),
    Option(
        "replications",
        ("--replications", "-n"),
        "replications (default: the config's)",
        type=int,
        check=replications_problem,
    ),
    Option(
        "chunk_size",
        ("--chunk-size",),
        "replications per chunk file",
        type=int,
        check=_range(1, MAX_CHUNK_SIZE),
    ),
    Option(
        "workers",
        ("--workers", "-w"),
        "worker processes (default: all cores)",
        type=int,
        check=_range(1, MAX_WORKERS),
    ),
    Option(
        "executor",
        ("--executor",),
        "where replications run (default: processes)",
        choices=EXECUTORS,
        default=DEFAULT_EXECUTOR,
        check=_executor,
    ),
    Option("scheduler", ("--scheduler",), "Dask scheduler address, e.g. tcp://10.0.0.5:8786"),
    Option(
        "target_rel_ci",
        ("--target-rel-ci",),
        "add blocks of replications until mean revenue loss is known to this "
        "relative 95%% CI half-width (e.g. 0.02)",
        type=float,
        check=_share,
    ),
    Option("out", ("--out", "-o"), "run directory (default: runs/<name>-<timestamp>)"),
    Option("resume", ("--resume",), "finish an interrupted run in --out", flag_only=True),
    Option(
        "progress",
        ("--quiet", "-q"),
        "no progress output",
        flag_only=True,
        from_cli=lambda quiet: not quiet,
    ),
)
BY_FIELD = {option.field: option for option in OPTIONS}

RUN_FLAGS = tuple(o.field for o in OPTIONS)
"""Options of ``corridor-sim run``."""
RESUME_FLAGS = ("workers", "executor", "scheduler", "progress")
"""Options of ``corridor-sim resume`` (the rest is the run's)."""


def add_run_options(parser: argparse.ArgumentParser, names: Iterable[str] = RUN_FLAGS) -> None:
    """Add the flags of the options ``names`` (fields of :class:`RunOptions`) to ``parser``."""
    for name in names:
        BY_FIELD[name].add_to(parser)


def check_option(name: str, value: Any) -> None:
    """Refuse a value of the option ``name`` (a field of :class:`RunOptions`) it does not accept.

    Raises
    ------
    InputError
        Naming the flag, the value and the accepted values.
    """
    option = BY_FIELD[name]
    problem = None if value is None or option.check is None else option.check(value)
    if problem is not None:
        raise InputError(Problem(option.flags[0], problem))


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


@dataclass(frozen=True)
class RunOptions:
    """Every parameter of a batch run (see :func:`sim.api.run` for their meaning).

    Attributes
    ----------
    replications:
        Replications (``None``: the config's); the block size with ``target_rel_ci``.
    seed:
        Root seed, ``"random"``, or ``None`` for the config's.
    workers, executor, scheduler:
        Where to run; ``executor`` may be an open executor (used as is, not closed).
    chunk_size:
        Replications per chunk file (results do not depend on it).
    out:
        Run directory (``None``: a temporary one, see :func:`sim.api.run`).
    resume:
        Finish an interrupted run in ``out``.
    target_rel_ci:
        Relative 95% CI half-width of mean ``revenue_loss_usd`` to reach (sequential stopping).
    progress:
        Show a progress bar / log lines.
    """

    replications: int | None = None
    seed: int | str | None = None
    workers: int | None = None
    executor: Any = DEFAULT_EXECUTOR
    scheduler: str | None = None
    chunk_size: int | None = None
    out: str | Path | None = None
    resume: bool = False
    target_rel_ci: float | None = None
    progress: bool = False

    @property
    def owns_executor(self) -> bool:
        """True when ``executor`` is a name (the run opens and closes it)."""
        return isinstance(self.executor, str)

    @classmethod
    def from_cli(cls, args: argparse.Namespace, **given: Any) -> RunOptions:
        """Return the options parsed by :func:`add_run_options`, with ``given`` on top."""
        values: dict[str, Any] = {}
        for option in OPTIONS:
            if hasattr(args, option.dest):
                raw = getattr(args, option.dest)
                values[option.field] = option.from_cli(raw) if option.from_cli else raw
        return cls(**{**values, **given})

    def with_(self, **changes: Any) -> RunOptions:
        """Return a copy with ``changes``."""
        return replace(self, **changes)

    def check(self, replications: int) -> None:
        """Refuse values that would run nothing, run forever or be silently replaced.

        ``replications`` is the count the run will use (the config's when not given).

        Raises
        ------
        InputError
            Naming the option, the value and the accepted range.
        """
        for option in OPTIONS:
            if option.check is not None:
                value = getattr(self, option.field)
                if option.field == "replications":
                    value = replications
                check_option(option.field, value)

    def as_dict(self) -> dict[str, Any]:
        """Return the options as a mapping of field to value."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def plan_chunks(start: int, stop: int, chunk_size: int, taper: int = 0) -> list[tuple[int, int]]:
    """Split replications ``start .. stop-1`` into consecutive ranges of ``chunk_size``.

    With ``taper`` (the run's workers, see :func:`chunk_taper`), the last ``taper`` chunks of the
    range are cut again into chunks that shrink as the range runs out, each a ``2 * taper``-th of
    what is left and no smaller than an eighth of ``chunk_size`` or 10 replications: the workers
    then finish within a short chunk of each other, instead of all but one waiting for the last
    full chunk (up to a chunk's time idle per worker at the end of a range).
    The plan depends only on its arguments (the manifest records ``chunk_size`` and
    ``chunk_taper``), so a resume plans the same chunks; results never depend on the plan.
    """
    chunks = [(a, min(a + chunk_size, stop)) for a in range(start, stop, chunk_size)]
    if taper <= 0 or not chunks:
        return chunks
    chunks, a = chunks[:-taper], chunks[-taper:][0][0]
    smallest = max(-(-chunk_size // 8), min(chunk_size, 10))
    while a < stop:
        size = max(smallest, -(-(stop - a) // (2 * taper)))
        chunks.append((a, min(a + size, stop)))
        a = chunks[-1][1]
    return chunks


def chunk_taper(workers: int, chunk_size_given: bool) -> int:
    """Return the taper of a new run's chunk plan (see :func:`plan_chunks`).

    The workers of a parallel run when its chunk size is the default; 0 (equal chunks) for one
    worker, which has no one to wait for, and for a chunk size the user chose.
    """
    return workers if workers > 1 and not chunk_size_given else 0


def default_chunk_size(replications: int, workers: int) -> int:
    """Chunks big enough to amortise overhead, small enough to balance load and resume cheaply."""
    return int(max(10, min(500, math.ceil(replications / (workers * 8)))))
