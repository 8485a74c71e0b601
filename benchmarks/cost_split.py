"""Split a replication's CPU time by part of the model, from deterministic profile data.

Every profiled function's own time (``tottime``) goes to the part of the file it is defined in
(:data:`PARTS`). Functions outside those files (built-ins, NumPy, SimPy's event classes, the
standard library) have no part of their own: their time goes to their callers, in proportion
to the time each caller spent in them (cProfile records it per caller), repeatedly up the call
graph until a mapped caller is reached. The split is thus a pure function of the profile.

cProfile slows Python code down more than C code (HiGHS, NumPy), so the shares are those of a
profiled run; they are close to, not equal to, the unprofiled ones.
"""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable

PARTS: dict[str, tuple[str, ...]] = {
    "shuttle": (
        "sim/model/tankers.py",
        "sim/model/shuttle_exact.py",
        "sim/model/berths.py",
        "sim/model/port_traffic.py",
        "sim/model/terminal_berths.py",
    ),
    "routing": ("sim/model/solver.py", "sim/model/basis.py"),
    "hazards": ("sim/model/hazards.py", "sim/model/reactions.py", "sim/model/capacity.py"),
    "flow engine": ("sim/model/engine.py",),
    "SimPy kernel": ("sim/model/clock.py",),
    "accounting": (
        "sim/replication/accounting.py",
        "sim/replication/valuation.py",
        "sim/replication/years.py",
        "sim/replication/breakpoints.py",
        "sim/replication/grades.py",
        "sim/replication/ledger.py",
        "sim/replication/response.py",
        "sim/model/prices.py",
    ),
    "setup": (
        "sim/replication/runner.py",
        "sim/model/streams.py",
        "sim/model/parameters.py",
        "sim/model/network.py",
        "sim/config/",
    ),
}
"""Part -> path fragments of its files (``file:function`` for one function). A fragment with a
function wins over a plain file; ``sim/model/sampling.py`` is left to its callers (the shuttle
and the hazards both draw through it)."""

ORDER = (
    "shuttle",
    "routing",
    "hazards",
    "accounting",
    "setup",
    "flow engine",
    "SimPy kernel",
    "other",
)
"""Printing order; the flow engine (levels, thresholds, wake-ups) and the SimPy kernel (the
event loop, process resumption) are the "other" of the issue, shown on their own lines."""

Func = tuple[str, int, str]


def _own_part(func: Func) -> str | None:
    """The part a function's file maps to, or ``None`` (time goes to its callers)."""
    path, _, name = func
    path = path.replace("\\", "/")
    for part, fragments in PARTS.items():
        for frag in fragments:
            if ":" in frag and path.endswith(frag.split(":")[0]) and name == frag.split(":")[1]:
                return part
    for part, fragments in PARTS.items():
        if any(":" not in frag and frag in path for frag in fragments):
            return part
    return None


def split(stats: pstats.Stats) -> dict[str, float]:
    """Seconds of own time per part (see the module docstring)."""
    table = stats.stats  # type: ignore[attr-defined]
    memo: dict[Func, dict[str, float]] = {}

    def shares(func: Func, seen: frozenset[Func]) -> dict[str, float]:
        """Fractions of ``func``'s own time per part."""
        own = _own_part(func)
        if own is not None:
            return {own: 1.0}
        if func in memo:
            return memo[func]
        callers = table.get(func, (0, 0, 0.0, 0.0, {}))[4]
        total = sum(edge[2] for edge in callers.values())
        out: dict[str, float] = {}
        if total <= 0 or func in seen:
            out = {"other": 1.0}
        else:
            for caller, edge in callers.items():
                for part, f in shares(caller, seen | {func}).items():
                    out[part] = out.get(part, 0.0) + f * edge[2] / total
        memo[func] = out
        return out

    seconds = dict.fromkeys(ORDER, 0.0)
    for func, (_, _, tottime, _, _) in table.items():
        for part, f in shares(func, frozenset()).items():
            seconds[part] += f * tottime
    return seconds


DISPATCH = (
    "tanker steps",
    "engine wake-ups",
    "restart ramps",
    "surges",
    "hazards",
    "other events",
    "run loop itself",
    "outside the run",
)
"""What the run loop spends its time on, by the kind of step it dispatches (see
:func:`dispatch_split`), then the loop's own time and everything outside it (setup, the twin,
accounting)."""

_PROCESSES = {
    ("sim/model/reactions.py", "_restart"): "restart ramps",
    ("sim/model/reactions.py", "_grant"): "surges",
}
_SEND = ("~", 0, "<method 'send' of 'generator' objects>")


def _dispatch_kind(func: Func) -> str:
    """Kind of a function the run loop (or a resumed process) calls directly."""
    path, _, name = func
    path = path.replace("\\", "/")
    for (frag, fname), kind in _PROCESSES.items():
        if path.endswith(frag) and name == fname:
            return kind
    if path.endswith("sim/model/shuttle_exact.py") or path.endswith("sim/model/tankers.py"):
        return "tanker steps"
    if path.endswith("sim/model/engine.py") and name == "_wake":
        return "engine wake-ups"
    if path.endswith("sim/model/hazards.py"):
        return "hazards"
    return "other events"


def dispatch_split(stats: pstats.Stats) -> dict[str, float]:
    """Seconds of the profiled run by what the run loop dispatched (inclusive times).

    Steps called by the loop (``sim/model/clock.py:_run``) directly -- tanker steps of the exact
    shuttle, engine wake-ups -- count by their function; SimPy events resume processes, which
    count by their generator function (a process's ``yield from`` callees inside it). Everything
    else the loop calls is "other events"; the loop's remaining time is its own.
    """
    table = stats.stats  # type: ignore[attr-defined]
    loop = next((f for f in table if f[0].endswith("clock.py") and f[2] == "_run"), None)
    total = sum(row[2] for row in table.values())
    out = dict.fromkeys(DISPATCH, 0.0)
    if loop is None:
        out["outside the run"] = total
        return out
    loop_time = table[loop][3]
    for func, (_, _, _, _, callers) in table.items():
        if "sim/" not in func[0].replace("\\", "/"):
            continue  # SimPy's process resumption, built-ins: the loop's "other events"
        kind = _dispatch_kind(func)
        if kind == "other events":
            continue
        for caller in (loop, _SEND):
            if caller in callers:
                out[kind] += callers[caller][3]
    out["other events"] = max(0.0, loop_time - table[loop][2] - sum(out.values()))
    out["run loop itself"] = table[loop][2]
    out["outside the run"] = total - loop_time
    return out


def profile_split(run: Callable[[], None]) -> tuple[dict[str, float], dict[str, float]]:
    """Profile ``run()``; return the fractions of its time per part and per dispatched kind.

    See :func:`split` (own time by part) and :func:`dispatch_split` (by what the run loop
    dispatched).
    """
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    stats = pstats.Stats(profiler)
    seconds = split(stats)
    total = sum(seconds.values()) or 1.0
    kinds = dispatch_split(stats)
    return (
        {part: s / total for part, s in seconds.items()},
        {kind: s / total for kind, s in kinds.items()},
    )
