"""Streams.get reaches exactly the generator of its documented SeedSequence, by a faster route."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.random.bit_generator import _int_to_uint32_array

from sim.model.streams import Streams, _uint32_words

EDGE_INTS = [0, 1, 7, 2**31, 2**32 - 1, 2**32, 2**32 + 1, 5 << 32, 2**64 - 1, 2**64, 2**127 + 3]
EDGE_INTS += [2**128, 2**128 + 11, 2**200 + 1]


def _reference(streams: Streams, key: tuple[str, ...]) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(streams.seed_sequence(*key)))


@pytest.mark.parametrize("n", EDGE_INTS)
def test_words_split_like_seed_sequence(n):
    assert _uint32_words(n) == _int_to_uint32_array(n).tolist()


@pytest.mark.parametrize("root_seed", [0, 1, 12345, 2**32 - 1, 2**32, 2**64 + 5, 2**130 + 1])
@pytest.mark.parametrize("replication", [0, 3, 1007, 2**32 - 1, 2**32, 2**40 + 3])
def test_same_state_and_draws_as_the_seed_sequence(root_seed, replication):
    streams = Streams(root_seed, replication)
    keys = [(), ("price",), ("hazard", "cpc_storm", "cpc_terminal", "arrivals"), ("a",) * 7]
    for key in keys:
        fast, ref = streams.get(*key), _reference(streams, key)
        assert fast.bit_generator.state == ref.bit_generator.state
        assert fast.random(5).tolist() == ref.random(5).tolist()
        assert fast.integers(0, 2**63, 3).tolist() == ref.integers(0, 2**63, 3).tolist()


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 2**70),
    st.integers(0, 2**40),
    st.lists(st.text(min_size=0, max_size=12), max_size=6),
)
def test_same_state_for_any_key(root_seed, replication, key):
    streams = Streams(root_seed, replication)
    fast, ref = streams.get(*key), _reference(streams, tuple(key))
    assert fast.bit_generator.state == ref.bit_generator.state


def test_other_state_requests_fall_back_to_numpy():
    seed = Streams(3, 4).get("x").bit_generator.seed_seq
    plain = np.random.SeedSequence(seed.entropy)
    for n_words, dtype in [(4, np.uint32), (3, np.uint64), (8, np.uint64)]:
        got = seed.generate_state(n_words, dtype).tolist()
        assert got == plain.generate_state(n_words, dtype).tolist()
