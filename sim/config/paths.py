"""Files named inside other files (an experiment's ``base:``): where they may be.

The rule, the same from any working directory:

1. A referenced path is resolved against the directory of the file that names it, never
   against the current directory. ``~`` is not expanded.
2. After every symlink is followed, it must lie inside an *allowed root*:

   * the referencing file's directory;
   * that directory's parent, when the referencing file sits in a directory called
     ``experiments`` (the shipped layout: ``configs/experiments/x.yaml`` may name
     ``../kazakhstan.yaml`` or any file under ``configs/``);
   * each directory listed in the environment variable ``CORRIDOR_SIM_CONFIG_ROOTS``
     (separated by the platform's path separator), for studies kept elsewhere.

An absolute path is accepted only inside an allowed root, and ``..`` or a symlink that leads
out of every root is refused, so a file from elsewhere cannot make corridor-sim read (and
quote in its error messages) files it was not meant to see.
"""

from __future__ import annotations

import os
from pathlib import Path

from sim.base.errors import ConfigError, Problem

ROOTS_ENV = "CORRIDOR_SIM_CONFIG_ROOTS"
EXPERIMENTS_DIR = "experiments"


def allowed_roots(referrer: Path) -> list[Path]:
    """Return the directories a file named by ``referrer`` may be in (resolved)."""
    here = referrer.resolve().parent
    roots = [here]
    if here.name == EXPERIMENTS_DIR:
        roots.append(here.parent)
    for extra in os.environ.get(ROOTS_ENV, "").split(os.pathsep):
        if extra.strip():
            roots.append(Path(extra.strip()).resolve())
    return roots


def resolve_reference(referrer: str | Path, value: str, key: str) -> Path:
    """Resolve a path named at ``key`` of the file ``referrer`` under the rule above.

    Parameters
    ----------
    referrer:
        The file that names the path.
    value:
        The path as written in that file.
    key:
        Its key path, for the error message (e.g. ``base``).

    Returns
    -------
    pathlib.Path
        The resolved path (symlinks followed); it may not exist (the reader reports that).

    Raises
    ------
    ConfigError
        When the path is empty or leads outside every allowed root.
    """
    referrer = Path(referrer)
    if not value.strip() or "\x00" in value:
        raise ConfigError(Problem(key, "expected a file path"), str(referrer))
    try:
        target = (referrer.resolve().parent / value).resolve()
        roots = allowed_roots(referrer)
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        raise ConfigError(
            Problem(key, f"cannot resolve '{value}' ({exc})"), str(referrer)
        ) from None
    if not any(target.is_relative_to(root) for root in roots):
        shown = " or ".join(str(r) for r in roots)
        raise ConfigError(
            Problem(
                key,
                f"'{value}' leads outside the allowed directories ({shown}); "
                f"keep the file beside the experiment (or, for an experiment in an "
                f"'{EXPERIMENTS_DIR}' directory, in its parent directory), or add its "
                f"directory to {ROOTS_ENV}",
            ),
            str(referrer),
        )
    return target
