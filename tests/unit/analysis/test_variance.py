"""The variance split takes tables: one split per metric of a second-order replication table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis.variance import split_table, variance_split, variance_splits


def _table(k: int = 4, n: int = 10, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sets = np.tile(np.arange(k), n)
    return pd.DataFrame(
        {
            "replication": np.arange(k * n),
            "parameter_set": sets,
            "revenue_loss_usd": rng.normal(1e8, 1e7, k * n) + 3e7 * sets,
            "shut_in_mt": rng.gamma(2.0, 0.1, k * n),
        }
    )


def test_splits_each_metric_of_the_table():
    table = _table()
    split = variance_splits(table)
    assert list(split) == ["revenue_loss_usd", "shut_in_mt"]  # n_events is not in the table
    expected = variance_split(table["revenue_loss_usd"].to_numpy(), table["parameter_set"])
    assert split["revenue_loss_usd"] == pytest.approx(expected)
    assert split["revenue_loss_usd"]["parameter_share"] > 0.5
    assert list(split_table(split)["metric"]) == ["revenue_loss_usd", "shut_in_mt"]


def test_first_order_tables_and_unsplittable_metrics_give_nothing():
    assert variance_splits(_table().drop(columns="parameter_set")) == {}
    one_set = _table().assign(parameter_set=0)
    assert variance_splits(one_set) == {}
