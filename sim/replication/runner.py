"""Run one replication: the disrupted network and its undisrupted twin.

:class:`Model` compiles a config once (network, routing solver, twin cache) and then simulates
any replication index. Replication k with root seed s is a pure function of (config, s, k):
its streams come from :class:`~sim.model.streams.Streams` and the routing LP is solved from a
cold start, so results do not depend on which replications ran before in the same process.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np
import simpy

from sim.base.collector import lean_collector
from sim.base.columns import EVENT_COLUMNS, dtypes, family_dtype
from sim.base.limits import MAX_STEPS_PER_REPLICATION
from sim.config.models import Config, Shuttle
from sim.model.clock import discard, run_steps
from sim.model.engine import FlowEngine
from sim.model.hazards import HazardRunner
from sim.model.network import Network, compile_network
from sim.model.parameters import draw_rates, parameter_set
from sim.model.port_traffic import MonitoredBerths
from sim.model.prices import price_path
from sim.model.sampling import is_deterministic
from sim.model.shuttle_exact import ExactShuttle, eligible
from sim.model.solver import FlowSolver
from sim.model.streams import Streams
from sim.model.tankers import ShuttleState, start_shuttle, tanker_specs
from sim.replication import accounting, years
from sim.replication.accounting import RawRun
from sim.replication.breakpoints import stack_distinct
from sim.replication.valuation import TwinView, Valuation

if TYPE_CHECKING:  # the tables below import pandas when asked for: workers run without it
    import pandas as pd


@dataclass
class ReplicationResult:
    """Results of one replication.

    Attributes
    ----------
    row:
        The one-row summary as a mapping (see :data:`sim.base.columns.REPLICATION_COLUMNS`).
    event_rows:
        One mapping per disruption event record.
    daily:
        Daily series (when requested), column name to array.
    """

    row: dict[str, float | int]
    event_rows: list[dict] = field(default_factory=list)
    daily: dict[str, np.ndarray] | None = None
    start_date: dt.date | None = None

    @property
    def summary(self) -> pd.DataFrame:
        """One-row table of headline metrics."""
        import pandas as pd

        df = pd.DataFrame([self.row])
        return df.astype({c: family_dtype(c) for c in df.columns})

    @property
    def events(self) -> pd.DataFrame:
        """Disruption event table (one row per event and asset hit)."""
        return events_frame(self.event_rows)

    @property
    def timeseries(self) -> pd.DataFrame | None:
        """Daily time series, or ``None`` when not requested."""
        if self.daily is None:
            return None
        import pandas as pd

        df = pd.DataFrame(self.daily)
        if self.start_date is not None:
            df.insert(
                1,
                "date",
                [(self.start_date + dt.timedelta(days=int(d))).isoformat() for d in df["day"]],
            )
        return df


def events_frame(rows: list[dict]) -> pd.DataFrame:
    """Build the event table with its declared dtypes (also when empty)."""
    import pandas as pd

    cols = [c.name for c in EVENT_COLUMNS]
    df = pd.DataFrame(rows, columns=cols)
    return df.astype(dtypes(EVENT_COLUMNS))


class Model:
    """A compiled config, ready to simulate replications.

    Parameters
    ----------
    cfg:
        A validated config.
    """

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.net: Network = compile_network(cfg)
        self.solver = FlowSolver(self.net, cfg.economics.price.brent_usd_per_bbl)
        self.twin_is_deterministic = all(_shuttle_is_deterministic(s) for s in cfg.shuttles)
        self._twin: RawRun | None = None
        self._twin_views: dict[bytes, TwinView] = {}
        self._set_rates: dict[tuple[int, int], dict[str, float]] = {}
        """Drawn rates by (seed, parameter set): a set recurs every ``parameter_sets``
        replications and its draws depend on nothing else (read only)."""

    def simulate(
        self, seed: int | None = None, replication: int = 0, timeseries: bool | None = None
    ) -> ReplicationResult:
        """Simulate replication ``replication`` of root seed ``seed`` (default: the config's).

        Returns
        -------
        ReplicationResult
            Summary row, event rows and (optionally) daily series. With ``run.parameter_sets``
        the row also holds ``parameter_set`` and the drawn ``hazard_rate.<hazard>``.
        """
        with lean_collector():
            return self._simulate(seed, replication, timeseries)

    def _simulate(
        self, seed: int | None, replication: int, timeseries: bool | None
    ) -> ReplicationResult:
        cfg = self.cfg
        seed = cfg.run.seed if seed is None else int(seed)
        streams = Streams(seed, replication)
        set_index = parameter_set(cfg, replication)
        rates = None if set_index is None else self._rates_of(seed, set_index)
        raw = self.run_raw(streams, disrupted=True, rates=rates)
        twin_raw = self._twin_raw(streams)
        grid, prices = price_path(cfg.economics.price, cfg.run.horizon_days, streams)
        val = Valuation.build(self.net, grid, prices)
        twin = self._twin_view(twin_raw, grid)
        row = accounting.replication_row(self.net, raw, twin, val, replication)
        row.update(years.year_columns(self.net, raw, twin, val))
        if set_index is not None:
            row["parameter_set"] = set_index
            row.update({f"hazard_rate.{name}": rate for name, rate in rates.items()})
        events = accounting.event_rows(self.net, raw, twin, val, replication)
        want_ts = cfg.run.timeseries if timeseries is None else timeseries
        daily = accounting.timeseries(self.net, raw) if want_ts else None
        return ReplicationResult(row, events, daily, cfg.run.start_date)

    def _twin_raw(self, streams: Streams) -> RawRun:
        if not self.twin_is_deterministic:
            return self.run_raw(streams, disrupted=False)
        if self._twin is None:
            self._twin = self.run_raw(Streams(0, 0), disrupted=False)
        return self._twin

    def _twin_view(self, twin_raw: RawRun, grid: np.ndarray) -> TwinView:
        if twin_raw is not self._twin:
            return TwinView.build(self.net, twin_raw, grid)
        key = grid.tobytes()
        view = self._twin_views.get(key)
        if view is None:
            view = self._twin_views[key] = TwinView.build(self.net, twin_raw, grid)
        return view

    def _rates_of(self, seed: int, set_index: int) -> dict[str, float]:
        """Return the drawn rates of a parameter set (cached; emptied past 4,096 sets)."""
        key = (seed, set_index)
        rates = self._set_rates.get(key)
        if rates is None:
            if len(self._set_rates) >= 4_096:
                self._set_rates.clear()
            rates = self._set_rates[key] = draw_rates(self.cfg, seed, set_index)
        return rates

    def run_raw(
        self, streams: Streams, disrupted: bool = True, rates: dict[str, float] | None = None
    ) -> RawRun:
        """Run the SimPy model once and return what it recorded.

        ``rates`` overrides hazards' ``rate_per_year`` (a parameter set's draws).
        """
        cfg, net = self.cfg, self.net
        env = simpy.Environment()
        engine = FlowEngine(env, net, self.solver, streams)
        states = [ShuttleState(env) for _ in cfg.shuttles]
        hazards = HazardRunner(
            env, engine, net, streams, lambda i, d: states[i].block(d), rates=rates
        )
        tankers = {}
        exact_shuttles: list[ExactShuttle] = []
        ports: dict[str, MonitoredBerths] = {}
        exact = cfg.run.shuttle_mode == "exact"
        for sh, state in zip(cfg.shuttles, states):
            ends = (net.asset_index[sh.origin], net.asset_index[sh.destination])
            if exact and eligible(sh):
                specs = tanker_specs(env, sh, *ends, streams, ports)
                engine.use_side_queue()
                exact_shuttles.append(ExactShuttle(env, engine, state, specs))
                exact_shuttles[-1].start()
                tankers[sh.id] = [st for _, st in specs]
            else:
                tankers[sh.id] = start_shuttle(env, engine, sh, *ends, state, streams, ports)
        engine.refresh()
        hazards.start(hazards=disrupted, scripted=disrupted)
        horizon = cfg.run.horizon_days
        run_until(env, horizon, MAX_STEPS_PER_REPLICATION)
        tr = engine.finish(horizon)
        # No reference cycles left for the collector: drop what processes still wait on.
        discard(env, chain(engine.waiting(), *(s.waiting() for s in states)))
        engine.close()
        for shuttle in exact_shuttles:
            shuttle.close()
        # Few distinct routings and capacity states recur many times: stack each once, then
        # index.
        n_st = len(net.storage_ids)
        return RawRun(
            times=np.asarray(tr.times),
            rates=stack_distinct([s.rates for s in tr.solutions]),
            levels=np.fromiter(
                chain.from_iterable(tr.levels), float, len(tr.levels) * n_st
            ).reshape(len(tr.times), n_st),
            transit=np.asarray(tr.in_transit),
            cap_trace=tr.link_cap,
            layout=self.solver.rate_layout(),
            records=hazards.records,
            regimes=list(hazards.regime.history),
            tankers=tankers,
            ports={name: berths.stats() for name, berths in ports.items()},
        )


def _shuttle_is_deterministic(sh: Shuttle) -> bool:
    """Return True when a shuttle draws nothing (no random payload, delays or third-party calls)."""
    return (
        is_deterministic(sh.payload_factor)
        and (sh.port_delay is None or is_deterministic(sh.port_delay))
        and (sh.sailing_delay is None or is_deterministic(sh.sailing_delay))
        and sh.origin_traffic is None
        and sh.destination_traffic is None
    )


class TooManyStepsError(RuntimeError):
    """A replication went past :data:`~sim.base.limits.MAX_STEPS_PER_REPLICATION` SimPy events."""


def run_until(env: simpy.Environment, horizon: float, max_steps: int) -> None:
    """Run ``env`` like ``env.run(until=horizon)``, but stop after ``max_steps`` events.

    The events are processed exactly as by :meth:`simpy.Environment.run` (see
    :func:`sim.model.clock.run_steps`), so results are the same as with ``env.run``; the bound
    turns a model that stops advancing time (a loop of zero-length steps) into an error instead
    of a hang.

    Raises
    ------
    TooManyStepsError
        When the horizon is not reached within ``max_steps`` events.
    """
    if run_steps(env, horizon, max_steps):
        return
    raise TooManyStepsError(
        f"more than {max_steps} simulation events before day {horizon:g} (stuck at day "
        f"{env.now:.6g}); the model stopped advancing - check for zero or near-zero "
        "durations, capacities or tanker trip times"
    )


def simulate(
    cfg: Config, seed: int | None = None, replication: int = 0, timeseries: bool | None = None
) -> ReplicationResult:
    """Simulate one replication of ``cfg`` (see :meth:`Model.simulate`)."""
    return Model(cfg).simulate(seed=seed, replication=replication, timeseries=timeseries)
