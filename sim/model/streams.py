"""Independent random streams keyed by name.

Every random draw in corridor-sim comes from a :class:`numpy.random.Generator` obtained here.
A stream is identified by (root seed, replication index, key...), where the key is a tuple of
names such as ``("hazard", "cpc_storm", "cpc_terminal", "arrivals")``. Names are hashed with
BLAKE2b into the ``spawn_key`` of a :class:`numpy.random.SeedSequence`, so

* replication k is the same whatever else runs, and whatever the worker count or order;
* adding a hazard (a new key) never changes the draws of another;
* the same key gives the same stream in a scenario and in its undisrupted twin, which makes
  paired comparisons use common random numbers.

:meth:`Streams.get` reaches that generator by a faster route than
``Generator(PCG64(seed_sequence(*key)))``, with the same bit-generator state and draws. A
``SeedSequence(entropy=e, spawn_key=k)`` mixes into its pool the 32-bit words of ``e`` (padded
with zeros to the pool size) followed by those of every int in ``k``; ``get`` hands those words
over as one uint32 array, which numpy takes as is instead of converting each int through Python
arrays, and answers PCG64's only request, ``generate_state(4, uint64)``, with numpy's algorithm in
plain Python. The resulting pool and state words are identical (tests/test_streams.py checks the
states over many keys); only the seed sequence attached to the generator differs (its entropy is
that word array, with no spawn key), so spawn children from :meth:`Streams.seed_sequence`.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np

_MASK32 = 0xFFFFFFFF
_POOL_SIZE = np.random.SeedSequence(0).pool_size
# SeedSequence.generate_state hashes word i from pool[i % pool size] with the constants
# INIT_B * MULT_B**i and INIT_B * MULT_B**(i + 1) (mod 2**32); INIT_B, MULT_B as in numpy.
_HASH = [0x8B51F9DD]
for _ in range(8):
    _HASH.append(_HASH[-1] * 0x58F38DED & _MASK32)
_STATE_STEPS = tuple((i % _POOL_SIZE, _HASH[i], _HASH[i + 1]) for i in range(8))
del _HASH


@lru_cache(maxsize=4096)
def _name_word(name: str) -> int:
    """Map a name to a stable 64-bit integer."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def _uint32_words(n: int) -> list[int]:
    """Little-endian 32-bit words of ``n >= 0`` as SeedSequence splits an int (0 is one word)."""
    words = [n & _MASK32]
    n >>= 32
    while n:
        words.append(n & _MASK32)
        n >>= 32
    return words


@lru_cache(maxsize=4096)
def _name_words(name: str) -> tuple[int, ...]:
    """32-bit words of a name's hash (see :func:`_name_word`)."""
    return tuple(_uint32_words(_name_word(name)))


class _AssembledSeed(np.random.SeedSequence):
    """A SeedSequence built from its assembled entropy words (see the module docstring)."""

    def generate_state(self, n_words, dtype=np.uint32):
        """Return :meth:`numpy.random.SeedSequence.generate_state`, faster for PCG64's request."""
        if n_words != 4 or dtype is not np.uint64:
            return super().generate_state(n_words, dtype)
        pool = self.pool.tolist()
        w = [(pool[i] ^ a) * b & _MASK32 for i, a, b in _STATE_STEPS]
        w = [x ^ x >> 16 for x in w]
        return np.array([w[k] | w[k + 1] << 32 for k in range(0, 8, 2)], dtype=np.uint64)


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
        run = _uint32_words(self.root_seed)
        self._entropy_head = run + [0] * (_POOL_SIZE - len(run)) + _uint32_words(self.replication)

    def seed_sequence(self, *key: str) -> np.random.SeedSequence:
        """Return the SeedSequence of stream ``key``."""
        words = (self.replication, *(_name_word(k) for k in key))
        return np.random.SeedSequence(entropy=self.root_seed, spawn_key=words)

    def get(self, *key: str) -> np.random.Generator:
        """Return a fresh generator for stream ``key`` (same key, same draws).

        Its state is that of ``Generator(PCG64(self.seed_sequence(*key)))``, reached faster (see
        the module docstring).
        """
        words = self._entropy_head.copy()
        for name in key:
            words += _name_words(name)
        seed = _AssembledSeed(np.array(words, dtype=np.uint32))
        return np.random.Generator(np.random.PCG64(seed))

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
