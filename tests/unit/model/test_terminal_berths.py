"""Berths of a terminal taken by ``berths_lost`` events and per-berth outages.

A ``berths_lost: k`` event is a demand: it keeps k berths out while it lasts, taking berths as
they come back from other outages; the berths out of service are the union of the per-berth
outages and the berths claimed by such events (sim/model/terminal_berths.py). The network here
is one field (12 Mt/yr) feeding one 3-berth terminal (12 Mt/yr, capacity proportional to the
berths in service) with nothing in between, so the terminal's capacity and the exports follow
the berths in service exactly and can be computed by hand.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import simpy
from conftest import cfg_dict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.base.units import DAYS_PER_YEAR
from sim.config import validate_config
from sim.model.engine import FlowEngine
from sim.model.hazards import HazardRunner
from sim.model.solver import FlowSolver
from sim.model.streams import Streams

START = dt.date(2026, 1, 1)
HORIZON = 365.0
RATE = 12.0 / DAYS_PER_YEAR
"""Mt/day: the field's production and the terminal's full capacity."""


def _cfg(berths: int, events: list[tuple[int, int, int]], horizon: float = HORIZON):
    """The field -> terminal network with scripted ``(start day, duration days, k)`` events."""
    return validate_config(
        cfg_dict(
            run={"horizon_days": horizon},
            sources=[{"id": "field", "production_mt_per_year": 12.0}],
            pipelines=[],
            terminals=[{"id": "term", "capacity_mt_per_year": 12.0, "berths": berths}],
            routes=[{"id": "r", "source": "field", "path": ["term"], "market": "mkt"}],
            scripted_events=[
                {
                    "id": f"e{i}",
                    "asset": "term",
                    "start": (START + dt.timedelta(days=s)).isoformat(),
                    "duration_days": d,
                    "berths_lost": k,
                }
                for i, (s, d, k) in enumerate(events)
            ],
        )
    )


def _up_at(raw, berths: int, times) -> np.ndarray:
    """Berths in service just after each time (from the capacity recorded at the breakpoints)."""
    idx = np.searchsorted(raw.times[:-1], np.asarray(times, dtype=float), side="right") - 1
    share = raw.link_cap[idx, 0] / RATE
    up = np.rint(share * berths)
    assert np.allclose(up / berths, share, rtol=0, atol=1e-12)
    return up.astype(int)


def _exported(cfg) -> float:
    return sim.Model(cfg).simulate(replication=0).row["exported_mt"]


def test_event_starting_when_another_ends_takes_its_berths():
    """Regression: B (3 berths) starts on day 20, the instant A (3 berths) ends.

    B's start is handled before A's end at that instant; B used to find no berth in service,
    take none and leave the terminal at full capacity for its 10 days.
    """
    cfg = _cfg(3, [(10, 10, 3), (20, 10, 3)])
    raw = sim.Model(cfg).run_raw(Streams(1, 0))
    up = _up_at(raw, 3, [0, 9.5, 10, 19.5, 20, 29.5, 30, 364])
    assert up.tolist() == [3, 3, 0, 0, 0, 0, 3, 3]
    assert _exported(cfg) == pytest.approx(RATE * (HORIZON - 20), rel=1e-12)


def test_event_takes_berths_as_they_come_back():
    """Regression: A (1 berth) days 10-20 and B (3 berths) days 15-30 on 3 berths.

    B found 2 berths in service on day 15 and used to keep only those, so the berth A gave back
    on day 20 came back into service; B now takes it: 0 berths up from day 15 to 30.
    """
    cfg = _cfg(3, [(10, 10, 1), (15, 15, 3)])
    raw = sim.Model(cfg).run_raw(Streams(1, 0))
    up = _up_at(raw, 3, [5, 10, 14.5, 15, 19.5, 20, 25, 29.5, 30])
    assert up.tolist() == [3, 2, 2, 0, 0, 0, 0, 0, 3]
    lost_days = 5 * (1 / 3) + 15 * 1.0
    assert _exported(cfg) == pytest.approx(RATE * (HORIZON - lost_days), rel=1e-12)


def test_simultaneous_events_add_up_and_records_hold_the_demand():
    """Events of 2 and 1 berths on one day leave 0 of 3 up; a third of 2 gets none at first."""
    cfg = _cfg(3, [(10, 5, 2), (10, 5, 1), (12, 5, 2)])
    raw = sim.Model(cfg).run_raw(Streams(1, 0))
    # days 10-15: 2 + 1 (+ 2 from day 12) >= 3 -> 0 up; 15-17: only the third (2) -> 1 up
    assert _up_at(raw, 3, [9, 10, 12, 14.5, 15, 16.5, 17]).tolist() == [3, 0, 0, 0, 1, 1, 3]
    assert [r.berths_lost for r in raw.records] == [2, 1, 2]
    lost_days = 5 * 1.0 + 2 * (2 / 3)
    assert _exported(cfg) == pytest.approx(RATE * (HORIZON - lost_days), rel=1e-12)


def test_event_of_all_berths_holds_after_a_per_berth_outage_ends():
    """A per-berth outage of berth 0 (days 5-15) and an event of 3 berths (days 10-30).

    The event finds berths 1 and 2 in service on day 10 and takes berth 0 when its outage ends
    on day 15: no berth is up from day 10 to 30 (it used to be 1 from day 15).
    """
    cfg = _cfg(3, [(10, 20, 3)], horizon=40.0)
    net = sim.Model(cfg).net
    env = simpy.Environment()
    engine = FlowEngine(env, net, FlowSolver(net, 70.0))
    runner = HazardRunner(env, engine, net, Streams(1, 0), lambda i, d: None)

    def outage():
        yield env.timeout(5.0)
        engine.berth_down(0, 0, +1)
        yield env.timeout(10.0)
        engine.berth_down(0, 0, -1)

    engine.refresh()
    env.process(outage())
    runner.start(hazards=False, scripted=True)
    env.run(until=40.0)
    trace = engine.finish(40.0)
    times = np.asarray(trace.times)
    caps = np.asarray(trace.link_cap)[:, 0]
    at = np.searchsorted(times[:-1], [0, 5, 9.5, 10, 14.5, 15, 29.5, 30], side="right") - 1
    assert np.rint(caps[at] / RATE * 3).astype(int).tolist() == [3, 2, 2, 0, 0, 0, 0, 3]
    assert engine.berths_up(0) == [0, 1, 2]


def test_claims_are_sticky_and_given_to_the_oldest_unmet_event():
    from sim.model.terminal_berths import TerminalBerths

    book = TerminalBerths(3)
    a = book.open(2)
    book.claim(a, 0)
    book.claim(a, 1)
    book.outage(1, +1)  # an outage on a claimed berth: the union does not grow
    assert book.n_up == 1 and book.up() == [2]
    b = book.open(2)
    book.claim(b, 2)
    c = book.open(1)
    assert book.n_up == 0
    for berth in book.close(a):  # berth 0 goes to b (older than c); berth 1 is still out
        book.free(berth)
    assert book.holder == [b, -1, b] and book.n_up == 0
    book.outage(1, -1)  # back in service: c takes it
    assert book.holder == [b, c, b] and book.n_up == 0
    for berth in book.close(b):
        book.free(berth)
    assert book.up() == [0, 2] and book.n_up == 2
    with pytest.raises(ValueError):
        book.claim(c, 1)


# --------------------------------------------------------------------------- property


@st.composite
def _scripted(draw) -> tuple[int, list[tuple[int, int, int]]]:
    berths = draw(st.integers(1, 5))
    n = draw(st.integers(1, 7))
    # Whole days, so events often start at the instant others end.
    events = [
        (draw(st.integers(0, 20)), draw(st.integers(0, 12)), draw(st.integers(1, berths + 1)))
        for _ in range(n)
    ]
    return berths, events


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_scripted())
def test_berths_up_is_berths_minus_active_demand(case):
    """At every breakpoint and between, berths up == max(0, berths - active demand)."""
    berths, events = case
    cfg = _cfg(berths, events, horizon=40.0)
    raw = sim.Model(cfg).run_raw(Streams(1, 0))
    bounds = sorted({0.0, 40.0} | {float(x) for s, d, _ in events for x in (s, s + d)})
    mids = {(a + b) / 2 for a, b in zip(bounds, bounds[1:])}
    probes = sorted(set(raw.times[:-1].tolist()) | mids)
    probes = [t for t in probes if t < 40.0]
    want = [max(0, berths - sum(k for s, d, k in events if s <= t < s + d)) for t in probes]
    assert _up_at(raw, berths, probes).tolist() == want
