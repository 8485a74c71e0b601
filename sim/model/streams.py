"""Independent random streams keyed by name.

Every random draw in corridor-sim comes from a :class:`numpy.random.Generator` obtained here.
A stream is identified by (root seed, replication index, key...), where the key is a tuple of
names such as ``("hazard", "cpc_storm", "cpc_terminal", "arrivals")``. Names are hashed with
BLAKE2b into the ``spawn_key`` of a :class:`numpy.random.SeedSequence`, so

* replication k is the same whatever else runs, and whatever the worker count or order;
* adding a hazard (a new key) never changes the draws of another;
* the same key gives the same stream in a scenario and in its undisrupted twin, which makes
  paired comparisons use common random numbers.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np


@lru_cache(maxsize=4096)
def _name_word(name: str) -> int:
    """Map a name to a stable 64-bit integer."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


class Streams:
    """Factory of named, independent random generators for one replication.

    Parameters
    ----------
    root_seed:
        The run's root seed (non-negative integer).
    replication:
        Index of the replication (0-based).
    """

    def __init__(self, root_seed: int, replication: int) -> None:
        if root_seed < 0 or replication < 0:
            raise ValueError("root_seed and replication must be non-negative")
        self.root_seed = int(root_seed)
        self.replication = int(replication)

    def seed_sequence(self, *key: str) -> np.random.SeedSequence:
        """Return the SeedSequence of stream ``key``."""
        words = (self.replication, *(_name_word(k) for k in key))
        return np.random.SeedSequence(entropy=self.root_seed, spawn_key=words)

    def get(self, *key: str) -> np.random.Generator:
        """Return a fresh generator for stream ``key`` (same key, same draws)."""
        return np.random.Generator(np.random.PCG64(self.seed_sequence(*key)))

    def lazy(self, *key: str) -> LazyGenerator:
        """Return stream ``key``, created only when first used (most hazards never fire)."""
        return LazyGenerator(self, key)


class LazyGenerator:
    """A generator that is seeded on first use; same draws as :meth:`Streams.get`."""

    __slots__ = ("_streams", "_key", "_rng")

    def __init__(self, streams: Streams, key: tuple[str, ...]) -> None:
        self._streams = streams
        self._key = key
        self._rng: np.random.Generator | None = None

    def __getattr__(self, name: str):
        rng = self._rng
        if rng is None:
            rng = self._rng = self._streams.get(*self._key)
        return getattr(rng, name)
