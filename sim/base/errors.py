"""Exceptions that end a command with one clear message instead of a traceback.

Every user-facing input error carries the file it came from, the key path inside that file and
what was expected, so the command line can print one clear message and exit with code 2.
Errors of the environment a run depends on (a full disk, an unwritable directory, workers that
keep dying) exit with code 3; what was finished before them stays on disk and can be resumed.

Exit codes of ``corridor-sim``: 0 done; 1 done, but some replications failed (see ``failures/``);
2 bad input; 3 the run could not go on (:class:`RunError`); 130 stopped by SIGINT (Ctrl-C);
143 stopped by SIGTERM.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_PROBLEMS_SHOWN = 20
"""An error lists at most this many problems, then how many more there are."""
MAX_PART_CHARS = 500
"""Longest file name, key path or message shown in one problem line."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file.

    Attributes
    ----------
    path:
        Dotted key path inside the file, e.g. ``routes[2].path[1]``; empty for the whole file.
    message:
        What was found and what was expected.
    """

    path: str
    message: str

    def render(self, file: str | None) -> str:
        """Return ``file: path: message`` with empty parts left out, on one printable line."""
        parts = [p for p in (file, self.path) if p]
        return ": ".join(clean_text(p) for p in [*parts, self.message])


def clean_text(text: str, limit: int = MAX_PART_CHARS) -> str:
    """Return ``text`` on one line: control and format characters escaped, at most ``limit`` long.

    Key paths and values in messages come from user files; a newline in a key must not split a
    message, and an escape sequence must not reach the terminal.
    """
    text = str(text)
    if not text.isprintable():
        text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


class InputError(Exception):
    """Bad user input: a config, experiment file, override or catalog.

    Parameters
    ----------
    problems:
        One or more problems found in the same file.
    file:
        The file they were found in, or ``None`` for command-line input.
    """

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem, file: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        self.file = file
        super().__init__(self.render())

    def render(self) -> str:
        """Return the problems, one per line (at most :data:`MAX_PROBLEMS_SHOWN` of them)."""
        lines = [p.render(self.file) for p in self.problems[:MAX_PROBLEMS_SHOWN]]
        hidden = len(self.problems) - MAX_PROBLEMS_SHOWN
        if hidden > 0:
            lines.append(f"... and {hidden} more problem{'s' if hidden > 1 else ''}")
        return "\n".join(lines)


class ConfigError(InputError):
    """A configuration file (or a ``--set`` override) is invalid."""


class RunError(Exception):
    """The environment stopped a run: the disk, the output directory or the workers failed.

    The message says what failed and what to do; results finished before it are kept, and
    ``corridor-sim resume DIR`` continues once the cause is fixed.

    Parameters
    ----------
    message:
        One line: what failed, where, and why.
    """

    exit_code = 3

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def render(self) -> str:
        """Return the message on one printable line."""
        return clean_text(self.message, 4 * MAX_PART_CHARS)


class OutputError(RunError):
    """A file of a run could not be written (no space left, read-only, not a directory ...).

    Parameters
    ----------
    path:
        The file or directory that could not be written.
    reason:
        The operating system's reason, e.g. ``No space left on device``.
    errno:
        The error number, when the operating system gave one.
    """

    def __init__(self, path: str, reason: str, errno: int | None = None) -> None:
        super().__init__(f"cannot write {path}: {reason}")
        self.args = (path, reason, errno)  # so the error survives pickling between processes
        self.path, self.reason, self.errno = path, reason, errno
