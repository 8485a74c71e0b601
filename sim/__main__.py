"""Allow ``python -m sim`` (the same entry point as the ``corridor-sim`` script)."""

from sim.cli.entry import console

console()
