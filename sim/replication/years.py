"""Per-year splits of one replication, for horizons longer than a year.

Years are the anniversaries of the run's start date (365 or 366 days); when the horizon is not
a whole number of years the last one is shorter (see :mod:`sim.base.calendar`; a short
remainder is folded into the year before). For each year the paired revenue loss and the
paired volume not produced are computed exactly from the breakpoints:

* Revenue of a year = netback cash of the price steps (cut at the year boundaries, each piece
  discounted like its whole step) + the value of the oil held at the year's end − at its start.
  Oil held at a year boundary is valued at the price step in force there, discounted to the
  boundary; at the horizon as :meth:`~sim.replication.valuation.Valuation.inventory_change` does.
  The boundary terms telescope and the run and its twin start alike, so the years' losses add
  up to ``revenue_loss_usd`` to rounding.
* Volume lost in a year = production not produced in it (congestion and field shut-in) minus
  the twin's.

With several shuttles, oil on board at an inner year boundary is valued at the shuttles' mean
per-tonne value (the engine records the total on board, not per shuttle).
"""

from __future__ import annotations

import numpy as np

from sim.base.calendar import year_bounds
from sim.model.network import Network
from sim.replication.breakpoints import RawRun, held_at
from sim.replication.grades import held_grades
from sim.replication.valuation import GridFlows, TwinView, Valuation


def _held_value(
    net: Network, run: RawRun, val: Valuation, bounds: np.ndarray, per_storage_end: np.ndarray
) -> np.ndarray:
    """Value (USD) of the oil held in storages and on tankers at each boundary."""
    values = np.zeros(len(bounds))
    # Start: the initial stock valued as inventory_change values it (cancels in the loss).
    values[0] = float(run.levels[0] @ per_storage_end) if len(per_storage_end) else 0.0
    inner = bounds[1:-1]
    if len(inner):
        held = held_at(run, inner)
        steps = np.clip(np.searchsorted(val.grid, inner, side="left") - 1, 0, len(val.grid) - 2)
        for i, (day, step) in enumerate(zip(inner, steps)):
            per_storage, per_shuttle = val.storage_values(
                net, int(step), float(day), held_grades(net, run)
            )
            stored = float(held[i, :-1] @ per_storage) if len(per_storage) else 0.0
            on_board = float(held[i, -1] * per_shuttle.mean()) if len(per_shuttle) else 0.0
            values[i + 1] = stored + on_board
    values[-1] = values[0] + val.inventory_change(net, run) / 1e6
    return values * 1e6


def revenue_by_year(net: Network, run: RawRun, val: Valuation, bounds: np.ndarray) -> np.ndarray:
    """Revenue (USD) of ``run`` in each year ``[bounds[k], bounds[k+1])``.

    The values add up to the revenue of the whole run (sales plus inventory change), to rounding.
    """
    grid = np.union1d(val.grid, bounds)
    starts = grid[:-1]
    parent = np.clip(np.searchsorted(val.grid, starts, side="right") - 1, 0, len(val.grid) - 2)
    year = np.clip(np.searchsorted(bounds, starts, side="right") - 1, 0, len(bounds) - 2)
    flows = GridFlows.build(net, run, grid)
    sales = val.step_sales(flows, parent)
    costs = flows.links @ val.link_tariff + flows.shuttles @ val.shuttle_freight
    cash = (sales - costs * val.discount[parent]) * 1e6
    by_year = np.bincount(year, weights=cash, minlength=len(bounds) - 1)
    per_storage_end, _ = val.storage_values(net, grades=held_grades(net, run))
    return by_year + np.diff(_held_value(net, run, val, bounds, per_storage_end))


def shut_in_by_year(run: RawRun, bounds: np.ndarray) -> np.ndarray:
    """Production not produced (congestion and field shut-in, Mt) in each year."""
    cum = run.cumulative("shut_in_congestion", bounds).sum(axis=1) + run.cumulative(
        "shut_in_field", bounds
    ).sum(axis=1)
    return np.diff(cum)


def year_columns(net: Network, raw: RawRun, twin: TwinView, val: Valuation) -> dict[str, float]:
    """Per-year columns of a replication row (empty when the horizon is one year).

    Returns
    -------
    dict
        ``year_revenue_loss_usd.<k>`` and ``year_volume_lost_mt.<k>`` for each year k.
    """
    run_cfg = net.cfg.run
    bounds = year_bounds(run_cfg.start_date, float(raw.times[-1]))
    if len(bounds) <= 2:
        return {}
    loss = revenue_by_year(net, twin.raw, val, bounds) - revenue_by_year(net, raw, val, bounds)
    lost = shut_in_by_year(raw, bounds) - shut_in_by_year(twin.raw, bounds)
    row: dict[str, float] = {}
    for k in range(len(bounds) - 1):
        row[f"year_revenue_loss_usd.{k}"] = float(loss[k])
    for k in range(len(bounds) - 1):
        row[f"year_volume_lost_mt.{k}"] = float(lost[k])
    return row
