"""Reading user files and path options safely: regular files only, bounded, never blocking.

Every input file corridor-sim reads (configs, included hazard files, experiment files, the
disruption catalog, replay schedules, recorded throughputs) goes through :func:`read_input`:

* the path is checked with ``stat`` before it is opened, so a FIFO, a device (``/dev/zero``,
  ``/dev/stdin``), a socket or a directory is refused without being opened;
* it is then opened with ``O_NONBLOCK`` (a FIFO swapped in after the check cannot block the
  open) and checked again on the open descriptor;
* at most :data:`~sim.base.limits.MAX_INPUT_BYTES` are read, whatever size the file claims.

:func:`check_path_option` refuses path options that no file system takes (a name over
:data:`~sim.base.limits.MAX_NAME_BYTES`) or that cannot be printed (bytes that are not UTF-8, passed
in by the operating system as lone surrogates), before any command uses them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.base.errors import InputError, Problem
from sim.base.limits import MAX_INPUT_BYTES, MAX_NAME_BYTES, MAX_PATH_BYTES

_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def file_kind(mode: int) -> str:
    """Return what a ``st_mode`` describes, e.g. ``"a FIFO (named pipe)"``."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def read_input(
    path: str | Path,
    what: str = "file",
    error: type[InputError] = InputError,
    limit: int = MAX_INPUT_BYTES,
) -> bytes:
    """Return the bytes of the regular file ``path``, at most ``limit`` of them.

    Parameters
    ----------
    path:
        The file (symlinks to a regular file are followed).
    what:
        What the file is, for messages (``"config"``, ``"catalog"`` ...).
    error:
        The :class:`~sim.base.errors.InputError` subclass to raise.
    limit:
        Most bytes read; a longer file is refused.

    Raises
    ------
    InputError
        (``error``) naming the file: missing, unreadable, not a regular file, or too large.
    """
    name = str(path)

    def refuse(message: str) -> InputError:
        return error(Problem("", message), name)

    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise refuse("file not found") from None
    except (OSError, ValueError) as exc:  # ValueError: an embedded NUL byte
        raise refuse(f"cannot read {what} ({_reason(exc)})") from None
    if not stat.S_ISREG(st.st_mode):
        raise refuse(f"expected a regular file, found {file_kind(st.st_mode)}")
    if st.st_size > limit:
        raise refuse(f"{what} is larger than {limit:,} bytes")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise refuse(f"cannot read {what} ({_reason(exc)})") from None
    try:
        chunks = _read_regular(fd, limit, refuse)
    except OSError as exc:
        raise refuse(f"cannot read {what} ({_reason(exc)})") from None
    finally:
        os.close(fd)
    if sum(len(c) for c in chunks) > limit:
        raise refuse(f"{what} is larger than {limit:,} bytes")
    return b"".join(chunks)


def _read_regular(fd: int, limit: int, refuse: Callable[[str], InputError]) -> list[bytes]:
    """Read at most ``limit + 1`` bytes from ``fd`` once it is checked to be a regular file."""
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):  # replaced between the stat and the open
        raise refuse(f"expected a regular file, found {file_kind(mode)}")
    chunks = []
    size = 0
    while size <= limit:
        chunk = os.read(fd, min(1 << 20, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return chunks


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def has_surrogates(text: str) -> bool:
    """Return True when ``text`` holds lone surrogates (bytes that were not UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_path_option(value: str, option: str) -> None:
    """Refuse a path option that cannot be printed or that no common file system accepts.

    Raises
    ------
    InputError
        Naming the option: bytes that are not UTF-8, a NUL byte, a name longer than
        :data:`~sim.base.limits.MAX_NAME_BYTES` bytes or a path longer than
        :data:`~sim.base.limits.MAX_PATH_BYTES` bytes.
    """
    if has_surrogates(value):
        raise InputError(
            Problem(option, f"not valid UTF-8 ({value!r}); use a path made of UTF-8 characters")
        )
    if "\x00" in value:
        raise InputError(Problem(option, "contains a NUL byte"))
    raw = os.fsencode(value)
    if len(raw) > MAX_PATH_BYTES:
        raise InputError(
            Problem(option, f"path is {len(raw):,} bytes long (at most {MAX_PATH_BYTES:,})")
        )
    for part in Path(value).parts:
        size = len(os.fsencode(part))
        if size > MAX_NAME_BYTES:
            raise InputError(
                Problem(
                    option,
                    f"a name in the path is {size:,} bytes long (at most {MAX_NAME_BYTES}): "
                    f"'{part[:40]}...'",
                )
            )


POSITIONAL = ("config", "run_dir", "experiment", "catalog")
"""Argument names shown as they are (not as ``--options``) in messages."""


def check_arguments(values: dict[str, Any], paths: tuple[str, ...]) -> None:
    """Refuse command-line arguments that are not UTF-8, and path options no file system takes.

    The operating system hands bytes that are not UTF-8 to Python as lone surrogates, which
    cannot be printed or written to a manifest; names longer than 255 bytes fail deep inside a
    command. Both end here with one error naming the option.

    Parameters
    ----------
    values:
        Parsed arguments, name -> value (``vars(namespace)``).
    paths:
        Names of the arguments that are paths (checked by :func:`check_path_option`).

    Raises
    ------
    InputError
        Naming the option.
    """
    for name, value in sorted(values.items()):
        option = name if name in POSITIONAL else "--" + name.replace("_", "-")
        if name in paths and isinstance(value, str):
            check_path_option(value, option)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and has_surrogates(item):
                raise InputError(Problem(option, f"not valid UTF-8 ({item!r})"))


__all__ = ["check_arguments", "check_path_option", "file_kind", "has_surrogates", "read_input"]
