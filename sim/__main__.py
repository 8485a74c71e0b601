"""Allow ``python -m sim``.

SIGTERM and SIGINT that arrive while the package is still being imported end the process
quietly with 143 or 130; once a command runs, :mod:`sim.interrupts` takes over.
"""

import signal
import sys


def _stop_while_importing(signum, frame):
    raise SystemExit(128 + signum)


signal.signal(signal.SIGTERM, _stop_while_importing)
try:
    from sim.cli import main
except KeyboardInterrupt:
    sys.exit(130)

sys.exit(main())
