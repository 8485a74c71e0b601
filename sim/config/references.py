"""Cross-reference checks on a parsed config.

Pydantic checks each value on its own; this module checks that the pieces fit together: ids are
unique, routes go from a source through known assets to a market, hazards name assets and
regimes that exist, scripted events fall inside the horizon. Each problem keeps its key path.
"""

from __future__ import annotations

import datetime as dt
import math

from sim.base.errors import Problem
from sim.config.distributions import UniformFraction
from sim.config.models import Config, Hazard, Shuttle

LINK_KINDS = ("pipeline", "terminal")
PATH_KINDS = ("pipeline", "terminal", "storage", "shuttle")


def _max_payload_t(shuttle: Shuttle) -> float:
    factor = shuttle.payload_factor
    top = float(factor) if isinstance(factor, (int, float)) else factor.high
    return max((c.dwt_t for c in shuttle.fleet if c.count > 0), default=0.0) * top


def check_references(cfg: Config) -> list[Problem]:
    """Return every cross-reference problem in ``cfg`` (empty when the config is consistent)."""
    problems: list[Problem] = []
    kinds: dict[str, str] = {}
    for section in ("sources", "storages", "pipelines", "terminals", "shuttles", "markets"):
        for i, item in enumerate(getattr(cfg, section)):
            if item.id in kinds:
                problems.append(
                    Problem(f"{section}[{i}].id", f"duplicate id '{item.id}' (ids must be unique)")
                )
            else:
                kinds[item.id] = section[:-1]
    problems += _check_shuttles(cfg, kinds)
    problems += _check_routes(cfg, kinds)
    problems += _check_hazards(cfg, kinds)
    problems += _check_regimes(cfg)
    problems += _check_scripted(cfg, kinds)
    return problems


def _expect(kinds: dict[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    kind = kinds.get(name)
    if kind is None:
        known = ", ".join(sorted(k for k, v in kinds.items() if v in allowed)) or "none defined"
        return f"unknown id '{name}' (expected one of: {known})"
    if kind not in allowed:
        return f"'{name}' is a {kind}, expected a {' or '.join(allowed)}"
    return None


def _check_shuttles(cfg: Config, kinds: dict[str, str]) -> list[Problem]:
    out: list[Problem] = []
    for i, sh in enumerate(cfg.shuttles):
        for key in ("origin", "destination"):
            msg = _expect(kinds, getattr(sh, key), ("storage",))
            if msg:
                out.append(Problem(f"shuttles[{i}].{key}", msg))
        if sh.origin == sh.destination:
            out.append(Problem(f"shuttles[{i}].destination", "must differ from origin"))
        payload = _max_payload_t(sh) / 1e6
        for key in ("origin", "destination"):
            store = next((s for s in cfg.storages if s.id == getattr(sh, key)), None)
            if store is not None and store.capacity_mt < payload:
                out.append(
                    Problem(
                        f"shuttles[{i}].{key}",
                        f"storage '{store.id}' holds {store.capacity_mt} Mt, less than the largest "
                        f"cargo ({payload:.6f} Mt): tankers would wait forever",
                    )
                )
        if sum(c.count for c in sh.fleet) == 0:
            out.append(Problem(f"shuttles[{i}].fleet", "the fleet has no tankers (all counts 0)"))
    return out


def _check_routes(cfg: Config, kinds: dict[str, str]) -> list[Problem]:
    out: list[Problem] = []
    seen: set[str] = set()
    routed: set[str] = set()
    shuttles = {s.id: s for s in cfg.shuttles}
    for i, r in enumerate(cfg.routes):
        where = f"routes[{i}]"
        if r.id in seen:
            out.append(Problem(f"{where}.id", f"duplicate route id '{r.id}'"))
        seen.add(r.id)
        msg = _expect(kinds, r.source, ("source",))
        if msg:
            out.append(Problem(f"{where}.source", msg))
        routed.add(r.source)
        msg = _expect(kinds, r.market, ("market",))
        if msg:
            out.append(Problem(f"{where}.market", msg))
        out += _check_path(where, r.path, kinds, shuttles)
    for i, s in enumerate(cfg.sources):
        if s.id not in routed:
            out.append(
                Problem(f"sources[{i}].id", f"source '{s.id}' is not the source of any route")
            )
    return out


def _check_path(
    where: str, path: list[str], kinds: dict[str, str], shuttles: dict[str, Shuttle]
) -> list[Problem]:
    """Check a route's path: known assets, no loop, and an order the network can carry."""
    out: list[Problem] = []
    if len(set(path)) != len(path):
        out.append(Problem(f"{where}.path", "an asset appears twice (routes may not loop)"))
    path_ok = True
    for j, name in enumerate(path):
        msg = _expect(kinds, name, PATH_KINDS)
        if msg:
            out.append(Problem(f"{where}.path[{j}]", msg))
            path_ok = False
    if not path_ok:
        return out
    path_kinds = [kinds[n] for n in path]
    if path_kinds[-1] not in LINK_KINDS:
        out.append(
            Problem(
                f"{where}.path[{len(path) - 1}]",
                "a route must end with a pipeline or terminal that delivers to its market",
            )
        )
    for j, (name, kind) in enumerate(zip(path, path_kinds)):
        if kind == "shuttle":
            out += _check_shuttle_leg(f"{where}.path[{j}]", path, j, shuttles[name])
        if kind == "storage" and j > 0 and path_kinds[j - 1] == "storage":
            out.append(
                Problem(
                    f"{where}.path[{j}]",
                    "two storages in a row need a pipeline, terminal or shuttle between them",
                )
            )
    return out


def _check_shuttle_leg(key: str, path: list[str], j: int, sh: Shuttle) -> list[Problem]:
    """Check that the shuttle at ``path[j]`` sits between its origin and destination storages."""
    out: list[Problem] = []
    if j == 0 or path[j - 1] != sh.origin:
        out.append(Problem(key, f"shuttle '{sh.id}' must follow its origin storage '{sh.origin}'"))
    if j + 1 >= len(path) or path[j + 1] != sh.destination:
        out.append(
            Problem(
                key,
                f"shuttle '{sh.id}' must be followed by its destination storage '{sh.destination}'",
            )
        )
    return out


def _check_hazards(cfg: Config, kinds: dict[str, str]) -> list[Problem]:
    out: list[Problem] = []
    states = set(cfg.regimes.states) if cfg.regimes else set()
    for name, hz in cfg.hazards.items():
        where = f"hazards.{name}"
        out += _check_hazard_assets(where, hz, kinds)
        if hz.effect.berths_lost and hz.per_berth:
            out.append(
                Problem(
                    f"{where}.effect.berths_lost",
                    "per_berth hazards take out one berth each; leave berths_lost unset",
                )
            )
        if hz.regime_multipliers:
            out += _check_hazard_regimes(where, hz, cfg.regimes is not None, states)
        if hz.rate_uncertainty is not None and hz.arrivals.process != "poisson":
            out.append(
                Problem(
                    f"{where}.rate_uncertainty",
                    "only poisson arrivals have a rate to draw; remove rate_uncertainty",
                )
            )
        if (
            isinstance(hz.effect.capacity_lost, UniformFraction)
            and hz.effect.capacity_lost.high == 0
        ):
            out.append(
                Problem(f"{where}.effect.capacity_lost", "the event would never remove capacity")
            )
    return out


def _check_hazard_assets(where: str, hz: Hazard, kinds: dict[str, str]) -> list[Problem]:
    """Check that a hazard's assets exist, are listed once and suit its effect."""
    out: list[Problem] = []
    for j, asset in enumerate(hz.assets):
        msg = _expect(kinds, asset, ("source", "pipeline", "terminal", "shuttle"))
        if msg:
            out.append(Problem(f"{where}.assets[{j}]", msg))
            continue
        kind = kinds[asset]
        if (hz.per_berth or hz.effect.berths_lost) and kind != "terminal":
            out.append(
                Problem(
                    f"{where}.assets[{j}]",
                    f"'{asset}' is a {kind}; per_berth and "
                    "effect.berths_lost apply to terminals only",
                )
            )
        if kind == "shuttle" and hz.effect.capacity_lost != 1.0:
            out.append(
                Problem(
                    f"{where}.effect.capacity_lost",
                    "a hazard on a shuttle stops sailings; capacity_lost must be 1.0",
                )
            )
    if len(set(hz.assets)) != len(hz.assets):
        out.append(Problem(f"{where}.assets", "an asset is listed twice"))
    return out


def _check_hazard_regimes(
    where: str, hz: Hazard, has_regimes: bool, states: set[str]
) -> list[Problem]:
    """Check a hazard's ``regime_multipliers`` against the defined regimes."""
    out: list[Problem] = []
    if not has_regimes:
        out.append(Problem(f"{where}.regime_multipliers", "no regimes are defined"))
    else:
        for key in hz.regime_multipliers:
            if key not in states:
                out.append(
                    Problem(
                        f"{where}.regime_multipliers.{key}",
                        f"unknown regime '{key}' (expected one of: {', '.join(sorted(states))})",
                    )
                )
    if hz.arrivals.process == "renewal":
        out.append(
            Problem(
                f"{where}.regime_multipliers",
                "only poisson arrivals can be scaled by regime",
            )
        )
    return out


def _check_regimes(cfg: Config) -> list[Problem]:
    reg = cfg.regimes
    if reg is None:
        return []
    out: list[Problem] = []
    states = set(reg.states)
    if reg.initial not in states:
        out.append(
            Problem(
                "regimes.initial",
                f"unknown regime '{reg.initial}' (expected one of: {', '.join(sorted(states))})",
            )
        )
    for src, row in reg.transitions.items():
        if src not in states:
            out.append(Problem(f"regimes.transitions.{src}", f"unknown regime '{src}'"))
        for dst in row:
            if dst not in states:
                out.append(Problem(f"regimes.transitions.{src}.{dst}", f"unknown regime '{dst}'"))
            if dst == src:
                out.append(
                    Problem(f"regimes.transitions.{src}.{dst}", "a regime cannot move to itself")
                )
        total = sum(row.values())
        if row and not math.isclose(total, 1.0, abs_tol=1e-9):
            out.append(
                Problem(f"regimes.transitions.{src}", f"probabilities sum to {total}, expected 1")
            )
    for name, st in reg.states.items():
        if st.mean_sojourn_days is not None and name not in reg.transitions and len(states) != 2:
            out.append(
                Problem(
                    f"regimes.transitions.{name}",
                    "regime ends but has no transitions (only two-state chains may omit them)",
                )
            )
    return out


def _check_scripted(cfg: Config, kinds: dict[str, str]) -> list[Problem]:
    out: list[Problem] = []
    begin = cfg.run.start_date
    end = begin + dt.timedelta(days=cfg.run.horizon_days)
    for i, ev in enumerate(cfg.scripted_events):
        where = f"scripted_events[{i}]"
        msg = _expect(kinds, ev.asset, ("source", "pipeline", "terminal", "shuttle"))
        if msg:
            out.append(Problem(f"{where}.asset", msg))
        elif ev.berths_lost and kinds[ev.asset] != "terminal":
            out.append(Problem(f"{where}.berths_lost", "berths_lost applies to terminals only"))
        if not begin <= ev.start < end:
            out.append(
                Problem(
                    f"{where}.start",
                    f"{ev.start} is outside the run "
                    f"({begin} to {end}, horizon {cfg.run.horizon_days} days)",
                )
            )
    return out
