"""Cross-check of the APPROXIMATE screening against the discrete-event simulation.

:func:`check_against_des` runs ``N`` DES replications of the same config and seed (so the
same parameter sets, see :mod:`sim.model.parameters`) and reports, for mean volume lost and
mean revenue lost, the screen's relative bias ``screen / DES - 1`` with its standard error
(delta method over both means), and the wall time of the screen against the DES time
extrapolated to the screen's replications (a :class:`~.result.Check`).
"""

from __future__ import annotations

import shutil
import time

import numpy as np

from sim.batch import coordinator
from sim.batch.options import RunOptions
from sim.config.models import Config
from sim.results import STATISTICS, result_of
from sim.studies.screening.result import Bias, Check, ScreenResult, mean_se


def des_losses(cfg: Config, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Volume lost (Mt) and revenue lost (USD) per DES replication, and the wall seconds."""
    t0 = time.perf_counter()
    options = RunOptions(replications=n, seed=seed, workers=1, executor="serial")
    outcome = coordinator.run(cfg, options, STATISTICS)
    seconds = time.perf_counter() - t0
    try:
        ylt = result_of(outcome).ylt().groupby("replication")[["volume_lost_mt", "loss_usd"]]
        table = ylt.sum()
    finally:
        if outcome.temporary:
            shutil.rmtree(outcome.path, ignore_errors=True)
    return table["volume_lost_mt"].to_numpy(), table["loss_usd"].to_numpy(), seconds


def check_against_des(
    cfg: Config, res: ScreenResult, n_des: int, seed: int, screen_seconds: float
) -> Check:
    """Compare ``res`` with ``n_des`` DES replications of ``cfg`` at ``seed``."""
    vol, rev, seconds = des_losses(cfg, n_des, seed)
    volume = Bias(*mean_se(res.volume_lost_mt), *mean_se(vol))
    revenue = Bias(*mean_se(res.revenue_lost_usd), *mean_se(rev))
    return Check(n_des, volume, revenue, seconds, screen_seconds, res.volume_lost_mt.size)
