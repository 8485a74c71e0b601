"""The berth resource against queueing theory: M/M/c (Erlang C), M/D/1 (Pollaczek-Khinchine)
and Little's law on the sample path; first come, first served.

Means are estimated by batch means (waits in a queue are correlated, batches of a few thousand
customers are nearly independent); tolerances are a multiple of the batch-means standard error.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy

from sim.model.berths import Berths

Z = 3.29
"""Two-sided 99.9% normal quantile: a correct model fails a check once in a thousand seeds."""


def _erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue of an M/M/c queue."""
    a = lam / mu
    rho = a / c
    top = a**c / math.factorial(c) / (1 - rho)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c * mu - lam)


def _simulate(c: int, arrivals: np.ndarray, services: np.ndarray):
    """Serve customers at ``c`` berths; return waits, sojourns and the area under N(t)."""
    env = simpy.Environment()
    berths = Berths(env, capacity=c)
    n = len(arrivals)
    waits = np.empty(n)
    sojourn = np.empty(n)
    order: list[int] = []
    area = {"value": 0.0, "last": 0.0, "n": 0}

    def count(delta: int) -> None:
        area["value"] += area["n"] * (env.now - area["last"])
        area["last"] = env.now
        area["n"] += delta

    def customer(i: int):
        t0 = env.now
        count(+1)
        with berths.request() as req:
            yield req
            order.append(i)
            waits[i] = env.now - t0
            yield env.timeout(services[i])
        sojourn[i] = env.now - t0
        count(-1)

    def source():
        for i, gap in enumerate(arrivals):
            yield env.timeout(gap)
            env.process(customer(i))

    env.process(source())
    env.run()
    return waits, sojourn, area["value"], env.now, order


def _batch_mean(x: np.ndarray, batches: int = 25) -> tuple[float, float]:
    means = np.array([b.mean() for b in np.array_split(x, batches)])
    return float(means.mean()), float(means.std(ddof=1) / math.sqrt(batches))


@pytest.mark.parametrize("lam, mu, c", [(1.5, 1.0, 2), (2.4, 1.0, 3)])
def test_mm_c_wait_matches_erlang_c(lam, mu, c):
    rng = np.random.default_rng(20261127)
    n = 60_000
    waits, *_ = _simulate(c, rng.exponential(1 / lam, n), rng.exponential(1 / mu, n))
    mean, se = _batch_mean(waits[3_000:])  # drop the start-up from an empty system
    expected = _erlang_c_wait(lam, mu, c)
    assert abs(mean - expected) < Z * se, (mean, expected, se)


def test_md1_wait_matches_pollaczek_khinchine():
    rng = np.random.default_rng(7)
    lam, d = 0.7, 1.0
    n = 60_000
    waits, *_ = _simulate(1, rng.exponential(1 / lam, n), np.full(n, d))
    mean, se = _batch_mean(waits[3_000:])
    rho = lam * d
    expected = rho * d / (2 * (1 - rho))
    assert abs(mean - expected) < Z * se, (mean, expected, se)


def test_littles_law_holds_on_the_sample_path():
    """The time integral of the number present equals the sum of the times spent (exactly)."""
    rng = np.random.default_rng(3)
    n = 20_000
    _, sojourn, area, horizon, _ = _simulate(2, rng.exponential(1 / 1.6, n), rng.exponential(1, n))
    assert area == pytest.approx(sojourn.sum(), rel=1e-9)
    # And in rates: L = lambda * W, with the run's own arrival rate and mean sojourn.
    assert area / horizon == pytest.approx(n / horizon * sojourn.mean(), rel=1e-9)


def test_first_come_first_served_and_immediate_grants():
    """Customers start service in arrival order; a free berth is granted without waiting."""
    rng = np.random.default_rng(11)
    n = 2_000
    arrivals = rng.exponential(1 / 1.8, n)
    waits, _, _, _, order = _simulate(2, arrivals, rng.exponential(1, n))
    assert order == sorted(order)
    assert (waits >= 0).all() and (waits == 0).any() and (waits > 0).any()


def test_released_request_that_never_got_a_berth_leaves_the_queue():
    env = simpy.Environment()
    berths = Berths(env, capacity=1)
    first = berths.request()
    waiting = berths.request()
    assert first.triggered and not waiting.triggered
    berths.release(waiting)  # withdraw
    assert not berths.queue
    berths.release(first)
    assert berths.count == 0
