"""The cost floor of any shuttle speed-up: a config whose shuttles are pipelines.

Usage: python benchmarks/fluid_floor.py [--config PATH] [--out PATH]

Writes a variant of the config (default ``configs/kazakhstan.yaml``) in which every tanker
shuttle is replaced by a sea pipeline of the same id and the same capacity (the fleet's round
trips at full payload, :func:`sim.model.network.shuttle_capacity_mt_per_day`), charging the
shuttle's freight as its tariff. Routes and hazards keep naming the same asset, so the network,
the hazards, the prices and the accounting are those of the original; only the cargoes are gone:
no tanker steps, no lifts and landings, no tank running dry between cargoes.

It is a different model (oil flows evenly instead of in cargoes), made for one purpose: timing
it with ``bench_engine.py --config`` or ``bench_instructions.py --config`` gives what a
replication would still cost if the whole cargo cycle cost nothing. No closed-form treatment of
the shuttle, however exact, can go below it (issue 13).
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path
from typing import Any

import yaml

import sim
from sim.base.units import DAYS_PER_YEAR
from sim.config.loader import validate_config
from sim.model.network import shuttle_capacity_mt_per_day


def fluid_variant(data: dict[str, Any], cfg: sim.Config) -> dict[str, Any]:
    """Return config data ``data`` (as read from YAML) with its shuttles made pipelines.

    Parameters
    ----------
    data:
        The config file's content; not changed.
    cfg:
        The same config, validated (for the shuttles' capacities).

    Returns
    -------
    dict
        The variant: no ``shuttles`` section, one more pipeline per shuttle.
    """
    out = copy.deepcopy(data)
    shuttles = out.pop("shuttles", None) or []
    pipelines = out.setdefault("pipelines", [])
    for raw, shuttle in zip(shuttles, cfg.shuttles, strict=True):
        pipelines.append(
            {
                "id": raw["id"],
                "mode": "sea",
                "capacity_mt_per_year": shuttle_capacity_mt_per_day(shuttle) * DAYS_PER_YEAR,
                "tariff_usd_per_t": shuttle.freight_usd_per_t,
            }
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/kazakhstan.yaml")
    ap.add_argument("--out", default="fluid_floor.yaml", help="where to write the variant")
    args = ap.parse_args()
    data = yaml.safe_load(Path(args.config).read_text(encoding="utf-8"))
    variant = fluid_variant(data, sim.load_config(args.config))
    validate_config(variant, name=args.out)  # a valid config, or nothing is written
    Path(args.out).write_text(yaml.safe_dump(variant, sort_keys=False), encoding="utf-8")
    print(f"wrote {args.out}; time it with")
    print(f"  python benchmarks/bench_engine.py --config {args.out}")
    print(f"  python benchmarks/bench_instructions.py --config {args.out}")


if __name__ == "__main__":
    main()
