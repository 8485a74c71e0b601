"""The process entry point of ``corridor-sim`` and ``python -m sim``.

SIGTERM and SIGINT that arrive while the commands are still being imported end the process
quietly with 143 or 130; once a command runs, :mod:`sim.base.interrupts` takes over. A command
stopped by a signal leaves through ``os._exit`` after flushing its output: CPython remembers a
KeyboardInterrupt that interrupted some extension-module imports even when it was handled,
and would otherwise end the process by SIGINT instead of with the documented exit code.

This module imports nothing heavy, so the console script gets the same treatment as
``python -m sim`` from its first moment.

The command line draws figures only into files: unless ``MPLBACKEND`` says otherwise, it runs
Matplotlib with the file-only Agg backend (set in the environment before Matplotlib is
imported; the library itself never chooses a backend, see :mod:`sim.figures.style`).
"""

import os
import signal
import sys


def _stop_while_importing(signum, frame):
    raise SystemExit(128 + signum)


def console() -> None:
    """Run the command line and exit with its code (see :func:`sim.cli.main.main`)."""
    signal.signal(signal.SIGTERM, _stop_while_importing)
    os.environ.setdefault("MPLBACKEND", "Agg")  # files only: no window, no display needed
    try:
        from sim.cli.main import main
    except KeyboardInterrupt:
        sys.exit(130)
    except ImportError as exc:  # SIGINT inside an extension module's init (see sim.base.interrupts)
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, KeyboardInterrupt):
            sys.exit(130)
        if isinstance(cause, SystemExit):  # SIGTERM, from _stop_while_importing
            sys.exit(cause.code)
        raise
    code = main()
    if code in (128 + signal.SIGINT, 128 + signal.SIGTERM):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
