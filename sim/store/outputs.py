"""Where commands may write: only files they own, never through a link, never over a device.

A command that writes results (``experiment``, ``criticality``, ``calibrate``, ``losses``,
``plot``, ``report``) first checks every place it will write, before any work, and refuses with
an :class:`~sim.base.errors.InputError` (exit code 2) naming the path:

* **A file target** must be absent or a regular file: a symlink, a device (``/dev/null``), a
  FIFO or a directory is never replaced (:func:`check_target`).
  :func:`sim.store.layout.atomic_write_bytes` makes the same check at every write, as a backstop.
* **A sub-directory** of a run or experiment directory (``tables/``, ``figures/``, ``base/``,
  ``scenarios/<name>``) must be absent or a real directory, not a symlink that would lead the
  writes out of it (:func:`owned_subdir`).
* **An output directory** (``experiment --out``, ``criticality --out``, ``calibrate
  --report-dir``) is *claimed* (:func:`claim_output_dir`): a new or empty directory gets a marker
  file, :data:`MARKER`, naming the command; a directory with the marker of the same command is
  reused (re-running a command on its own output works); any other non-empty directory is
  refused, so files the tool did not write are never replaced. Inside a claimed directory only
  the names the command owns are written.
* **A generated file** outside such a directory (``calibrate --out``) is replaced only when it
  starts with the header the tool writes (:func:`check_generated_file`).

A run directory is marked by its ``manifest.json``; ``tables/``, ``figures/`` and
``report.html`` are names of its documented layout.
"""

from __future__ import annotations

import io
import json
import os
import stat
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from sim.base.errors import InputError, Problem
from sim.base.safeio import file_kind, read_input
from sim.base.version import __version__
from sim.store.layout import atomic_write_bytes, atomic_write_json

MARKER = ".corridor-sim-output"
"""JSON file marking a directory a command made: ``{"kind": ..., "version": ...}``."""

HINT = "choose another path or remove it"


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:  # e.g. a name too long, a NUL byte
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(Problem("", f"cannot use this path ({reason})"), str(path)) from None


def check_target(path: str | Path) -> None:
    """Refuse a file to be written that exists and is not a regular file.

    Raises
    ------
    InputError
        When ``path`` is a symlink, a directory, a device, a FIFO or a socket.
    """
    st = _lstat(Path(path))
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise InputError(
            Problem(
                "",
                f"is {file_kind(st.st_mode)}, not a regular file: corridor-sim does not "
                f"replace it; {HINT}",
            ),
            str(path),
        )


def owned_subdir(root: str | Path, name: str) -> Path:
    """Return ``root/name`` after checking it is absent or a real directory (not a symlink).

    Raises
    ------
    InputError
        When ``root/name`` is a symlink (writes would leave ``root``) or not a directory.
    """
    sub = Path(root) / name
    st = _lstat(sub)
    if st is not None and not stat.S_ISDIR(st.st_mode):
        raise InputError(
            Problem(
                "",
                f"must be a directory inside {root}, found {file_kind(st.st_mode)}: "
                f"corridor-sim writes only inside its own directories; {HINT}",
            ),
            str(sub),
        )
    return sub


def _marker_kind(path: Path) -> str:
    marker = path / MARKER
    try:
        data = json.loads(read_input(marker, "marker").decode("utf-8"))
    except InputError:
        raise
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
        raise InputError(Problem("", f"damaged marker file; {HINT}"), str(marker))
    return data["kind"]


def check_output_dir(
    path: str | Path, kind: str, names: Collection[str], legacy: str | None = None
) -> bool:
    """Check that the command ``kind`` may write ``names`` into the directory ``path``.

    Parameters
    ----------
    path:
        The output directory (it may not exist yet; a symlink to a directory is followed, as
        the user named it).
    kind:
        The command, e.g. ``"experiment"``.
    names:
        File and directory names the command writes there.
    legacy:
        A relative path whose presence marks an output of ``kind`` written before markers
        existed; such a directory is accepted when every entry in it is one of ``names``.

    Returns
    -------
    bool
        True when ``path`` is already an output directory of ``kind``.

    Raises
    ------
    InputError
        When ``path`` is not a directory, is another command's output, holds files the command
        did not write, or one of ``names`` in it is a symlink or of the wrong type.
    """
    path = Path(path)
    if _lstat(path) is None:
        return False
    if not path.is_dir():
        raise InputError(Problem("", f"is a file, not a directory; {HINT}"), str(path))
    try:
        entries = sorted(os.listdir(path))
    except OSError as exc:
        raise InputError(Problem("", f"cannot list ({exc.strerror})"), str(path)) from None
    ours = _owned_by(path, entries, kind, names, legacy)
    for name in entries:
        if name in names:
            _refuse_link(path, path / name)
    return ours


def _owned_by(
    path: Path, entries: list[str], kind: str, names: Collection[str], legacy: str | None
) -> bool:
    """Return True for an output directory of ``kind``, False for an empty one.

    Raises
    ------
    InputError
        For a directory holding anything else (see :func:`check_output_dir`).
    """
    if MARKER in entries:
        found = _marker_kind(path)
        if found != kind:
            raise InputError(
                Problem("", f"holds the output of `corridor-sim {found}`, not {kind}; {HINT}"),
                str(path),
            )
        return True
    if not entries:
        return False
    foreign = [e for e in entries if e not in names]
    if foreign or legacy is None or not (path / legacy).is_file():
        shown = ", ".join(foreign[:3] or entries[:3])
        raise InputError(
            Problem(
                "",
                f"exists and holds files corridor-sim did not write there ({shown}); "
                f"{HINT}, or give a new or empty directory",
            ),
            str(path),
        )
    return True


def _refuse_link(path: Path, sub: Path) -> None:
    """Refuse an entry of the output directory ``path`` that is a symbolic link."""
    st = _lstat(sub)
    if st is not None and stat.S_ISLNK(st.st_mode):
        raise InputError(
            Problem("", f"is a symbolic link: corridor-sim writes only inside {path}; {HINT}"),
            str(sub),
        )


def claim_output_dir(
    path: str | Path, kind: str, names: Collection[str], legacy: str | None = None
) -> Path:
    """Check ``path`` like :func:`check_output_dir`, create it and mark it as ``kind``'s output.

    Returns
    -------
    pathlib.Path
        The directory.
    """
    path = Path(path)
    check_output_dir(path, kind, names, legacy)
    marker = path / MARKER
    if not marker.is_file():
        atomic_write_json(marker, {"kind": kind, "version": __version__})
    return path


def check_generated_file(path: str | Path, header: str) -> None:
    """Refuse to replace ``path`` unless it is absent or a regular file starting with ``header``.

    Raises
    ------
    InputError
        When ``path`` is not a regular file, or one corridor-sim did not write.
    """
    path = Path(path)
    check_target(path)
    if _lstat(path) is None:
        return
    want = header.encode()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            head = os.read(fd, len(want)) if stat.S_ISREG(os.fstat(fd).st_mode) else b""
        finally:
            os.close(fd)
    except OSError as exc:
        raise InputError(Problem("", f"cannot read ({exc.strerror})"), str(path)) from None
    if head != want:
        raise InputError(
            Problem(
                "",
                f"exists and was not written by corridor-sim (it does not start with "
                f"'{header[:40]}...'); {HINT}",
            ),
            str(path),
        )


def save_figure(fig: Any, path: str | Path) -> Path:
    """Write a Matplotlib figure atomically, in the format of the file's suffix."""
    path = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format=path.suffix.lstrip("."))
    atomic_write_bytes(path, buf.getvalue())
    return path


def save_figures(
    figures: Mapping[str, Any], out_dir: str | Path, formats: tuple[str, ...] = ("png", "svg")
) -> list[Path]:
    """Write Matplotlib figures by file stem to ``out_dir``, each in every format; return paths.

    Every target is checked (:func:`check_target`) before any is written, so no symlink,
    device or directory is replaced and a refused target leaves the directory as it was.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.{ext}" for name in figures for ext in formats]
    for path in paths:
        check_target(path)
    for path in paths:
        save_figure(figures[path.stem], path)
    return paths


__all__ = [
    "MARKER",
    "check_generated_file",
    "check_output_dir",
    "check_target",
    "claim_output_dir",
    "owned_subdir",
    "save_figure",
    "save_figures",
]
