"""Progress of a batch run: a tqdm bar on a terminal, plain periodic log lines otherwise."""

from __future__ import annotations

import sys
import time


class Progress:
    """A tqdm bar on a terminal, plain periodic log lines otherwise."""

    def __init__(self, total: int, done: int, enabled: bool) -> None:
        self.total, self.done = total, done
        self.t0 = time.perf_counter()
        self.last = self.t0
        self.bar = None
        self.enabled = enabled
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, unit="rep", dynamic_ncols=True)

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
            print(
                f"[corridor-sim] {self.done}/{self.total} replications, {rate:.1f}/s, "
                f"ETA {eta:.0f} s",
                file=sys.stderr,
                flush=True,
            )
            self.last = now

    def close(self) -> None:
        """Close the bar (if any)."""
        if self.bar is not None:
            self.bar.close()
