"""Progress of a batch run: a tqdm bar on a terminal, plain periodic log lines otherwise.

A caller running several batches (an experiment's scenarios) names the current one with
:func:`labelled`; every bar and log line then starts with that name, e.g. ``scenario
double_fleet (run 2 of 9)``. :func:`report_precision` tells how far a ``--target-rel-ci`` run
has got after each block.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

PREFIX = "[corridor-sim]"
log = logging.getLogger("corridor_sim")
_LABEL: ContextVar[str] = ContextVar("corridor_sim_progress_label", default="")


@contextmanager
def labelled(text: str) -> Iterator[None]:
    """Name the batch(es) run inside the ``with`` block in their progress output.

    Parameters
    ----------
    text:
        What is running, e.g. ``"scenario double_fleet (run 2 of 9)"``.
    """
    token = _LABEL.set(text)
    try:
        yield
    finally:
        _LABEL.reset(token)


def current_label() -> str:
    """Return the name set by the innermost :func:`labelled` block ("" outside any)."""
    return _LABEL.get()


class Progress:
    """A tqdm bar on a terminal, plain periodic log lines otherwise."""

    def __init__(self, total: int, done: int, enabled: bool) -> None:
        self.total, self.done = total, done
        self.t0 = time.perf_counter()
        self.last = self.t0
        self.bar = None
        self.enabled = enabled
        self.label = current_label()
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(
                total=total,
                initial=done,
                unit="rep",
                dynamic_ncols=True,
                desc=self.label or None,
            )

    def update(self, n: int) -> None:
        """Count ``n`` more replications as done."""
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
            return
        now = time.perf_counter()
        if self.enabled and (now - self.last > 10 or self.done == self.total):
            rate = self.done / max(now - self.t0, 1e-9)
            eta = (self.total - self.done) / rate if rate > 0 else float("inf")
            where = f" {self.label}:" if self.label else ""
            print(
                f"{PREFIX}{where} {self.done}/{self.total} replications, {rate:.1f}/s, "
                f"ETA {eta:.0f} s",
                file=sys.stderr,
                flush=True,
            )
            self.last = now

    def close(self) -> None:
        """Close the bar (if any)."""
        if self.bar is not None:
            self.bar.close()


def report_precision(
    done: int, rel_half_width: float, target: float, metric: str, enabled: bool
) -> None:
    """Say, after a block of a ``--target-rel-ci`` run, how precise the mean is so far.

    Parameters
    ----------
    done:
        Replications finished so far.
    rel_half_width:
        Half-width of the 95% CI of the mean of ``metric``, as a share of the mean.
    target:
        The target share.
    metric:
        The column the stopping rule watches.
    enabled:
        Print the line on stderr (it is logged at INFO level in any case).
    """
    state = "reached" if rel_half_width <= target else "not reached yet"
    text = (
        f"{done:,} replications: mean {metric} known to ±{_pct(rel_half_width)} "
        f"(95% CI; target ±{_pct(target)}: {state})"
    )
    log.info(text)
    if enabled:
        where = f" {current_label()}:" if current_label() else ""
        print(f"{PREFIX}{where} {text}", file=sys.stderr, flush=True)


def _pct(share: float) -> str:
    return f"{100 * share:.2f}%" if share < float("inf") else "∞"
