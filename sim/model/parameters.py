"""Parameter uncertainty: hazard rates drawn per parameter set (second-order Monte Carlo).

With ``run.parameter_sets = K``, replication ``k`` belongs to parameter set ``j = k mod K``.
Each parameter set draws, for every hazard with a ``rate_uncertainty``, a rate

    rate_per_year x G,   G ~ Gamma(shape = events + prior_events, scale = 1 / shape),

so ``E[G] = 1`` and ``Var[G] = 1 / shape``: the relative spread of the Gamma posterior of a
Poisson rate after ``events`` events (see :class:`~sim.config.models.RateUncertainty`).

The draw of hazard ``h`` in set ``j`` comes from the stream ``("parameters", h, "rate")`` of
index ``j`` (:class:`~sim.model.streams.Streams`); no other stream uses that name, so the
draws of every other stream are unchanged, each hazard's draw is independent of the others,
and set ``j`` is the same in every replication that uses it, in any batch, on any executor.
Without ``run.parameter_sets`` nothing is drawn and every rate stays at ``rate_per_year``.
"""

from __future__ import annotations

from sim.config.models import Config
from sim.model.streams import Streams

PARAMETER_STREAM = "parameters"
"""First name of every parameter-set stream key."""


def parameter_set(cfg: Config, replication: int) -> int | None:
    """Return the parameter set of ``replication`` (``None`` when rates are fixed)."""
    k = cfg.run.parameter_sets
    return None if k is None else int(replication) % int(k)


def draw_rates(cfg: Config, root_seed: int, set_index: int) -> dict[str, float]:
    """Draw the uncertain hazard rates of parameter set ``set_index``.

    Parameters
    ----------
    cfg:
        The config; hazards with a Poisson ``rate_uncertainty`` get a draw.
    root_seed:
        The run's root seed.
    set_index:
        The parameter set (0-based).

    Returns
    -------
    dict
        Hazard id -> drawn ``rate_per_year`` (hazards without uncertainty are absent).
    """
    streams = Streams(root_seed, set_index)
    rates: dict[str, float] = {}
    for name, hz in cfg.hazards.items():
        ru = hz.rate_uncertainty
        if ru is None or hz.arrivals.process != "poisson":
            continue
        rng = streams.get(PARAMETER_STREAM, name, "rate")
        shape = ru.shape
        rates[name] = float(hz.arrivals.rate_per_year * rng.gamma(shape, 1.0 / shape))
    return rates
