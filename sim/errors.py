"""Exceptions raised by corridor-sim for bad input.

Every user-facing error carries the file it came from, the key path inside that file and what was
expected, so the command line can print one clear line and exit with code 2 instead of a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


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
        """Return ``file: path: message`` with empty parts left out."""
        parts = [p for p in (file, self.path) if p]
        return ": ".join([*parts, self.message])


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
        """Return all problems, one per line."""
        return "\n".join(p.render(self.file) for p in self.problems)


class ConfigError(InputError):
    """A configuration file (or a ``--set`` override) is invalid."""
