"""Shared machinery of the fuzz tests: in-process CLI calls, the error contract, mutations.

Every fuzzed input must end in a valid result or in exactly one ``error:`` message with exit
code 2: never a traceback (an exception escaping :func:`sim.cli.main.main`), a hang (the call is
stopped by a SIGALRM deadline) or partial output (checked by each test on its output paths).

Counts of the cases tried per input kind are kept in :data:`COUNTS` and written by
``conftest.py`` at the end of the session to ``.pytest_cache/fuzz-stats.json`` (or to the file
named by ``CORRIDOR_SIM_FUZZ_STATS``). ``CORRIDOR_SIM_FUZZ_SCALE`` multiplies every example
budget for longer local runs (e.g. ``CORRIDOR_SIM_FUZZ_SCALE=20``).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import io
import math
import os
import signal
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from sim.base.errors import MAX_PROBLEMS_SHOWN
from sim.cli.main import main

COUNTS: dict[str, Counter] = defaultdict(Counter)
"""input kind -> outcome ("ok", "error", ...) -> number of cases."""

SCALE = float(os.environ.get("CORRIDOR_SIM_FUZZ_SCALE", "1"))


def fuzz_settings(examples: int) -> settings:
    """Hypothesis settings of a fuzz test: derandomized, bounded, no example database."""
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


class HangError(Exception):
    """A fuzzed call took longer than its deadline."""


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`HangError` in the main thread if the block runs longer than ``seconds``."""

    def on_alarm(signum, frame):
        raise HangError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_cli(argv: list[str], timeout: float = 60.0) -> tuple[int, str, str]:
    """Run ``corridor-sim argv`` in this process; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with deadline(timeout), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse rejects the command line itself
            rc = exc.code if isinstance(exc.code, int) else 2
    return rc, out.getvalue(), err.getvalue()


def check_contract(kind: str, rc: int, out: str, err: str, names: tuple[str, ...] = ()) -> str:
    """Assert the error contract and count the case; return ``"ok"`` or ``"error"``.

    Parameters
    ----------
    kind:
        Input kind the case is counted under.
    names:
        When given, an error's first line must name one of these (a file or an option).
    """
    assert "Traceback" not in out + err, err
    if rc == 0:
        COUNTS[kind]["ok"] += 1
        return "ok"
    assert rc == 2, f"exit code {rc}, stderr: {err[-2000:]}"
    assert out == "", out
    lines = err.rstrip("\n").split("\n")
    if lines[0].startswith("usage:"):  # argparse: usage line(s), then one error line
        assert sum(line.startswith("corridor-sim") for line in lines) == 1, err
        COUNTS[kind]["error"] += 1
        return "error"
    assert lines[0].startswith("error: "), err
    assert sum(line.startswith("error: ") for line in lines) == 1, err
    assert len(lines) <= MAX_PROBLEMS_SHOWN + 1, err
    assert all(line.strip() and line.isprintable() for line in lines), repr(err)
    if names:
        assert any(n in lines[0] for n in names), (names, lines[0])
    COUNTS[kind]["error"] += 1
    return "error"


# --------------------------------------------------------------------------- tree mutations

EDGE_NUMBERS: list[Any] = [
    -1,
    -1e-300,
    0,
    0.0,
    5e-324,
    1e-300,
    1e-9,
    0.5,
    1,
    2,
    7,
    64,
    65,
    1e4,
    1e9,
    1e10,
    1e308,
    math.inf,
    -math.inf,
    math.nan,
    2**31,
    2**63,
    10**30,
    -(10**30),
]
WRONG_VALUES: list[Any] = [
    "text",
    "",
    "12 Mt/yr",
    None,
    True,
    False,
    [],
    {},
    [1, 2],
    {"a": 1},
    "2026-13-45",
    dt.date(2026, 1, 1),
    "\x1b[31mred\x1b[0m",
    "line\nbreak",
    "\u202eevil",
    "x" * 5000,
]
EXTRA_KEYS: list[Any] = [
    "bogus",
    "capacity_bbl_per_day",
    "id2",
    "x" * 300,
    "new\nline",
    "\x1b[2J",
    1,
    2.5,
    True,
    None,
]
DATES: list[Any] = [
    dt.date(1, 1, 1),
    dt.date(1899, 12, 31),
    dt.date(1900, 1, 1),
    dt.date(2026, 1, 1),
    dt.date(2200, 12, 31),
    dt.date(2201, 1, 1),
    dt.date(9999, 12, 31),
    "2026-02-30",
    "2026-13-01",
    "yesterday",
    20260101,
]
SCALES = [0.0, 1e-12, 1e-6, 0.5, 2.0, 1e3, 1e6, 1e12, -1.0]
DEEP = "__DEEP_{}__"


def paths(node: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every path to a node below ``node`` (dict keys and list indices)."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, child in items:
        here = (*prefix, key)
        yield here
        if isinstance(child, (dict, list)):
            yield from paths(child, here)


def get(node: Any, path: tuple) -> Any:
    """Return the node at ``path``."""
    for part in path:
        node = node[part]
    return node


def leaves(node: Any) -> list[Any]:
    """Every scalar of a tree."""
    out = []
    for p in paths(node):
        v = get(node, p)
        if not isinstance(v, (dict, list)):
            out.append(v)
    return out


def _set(data: Any, path: tuple, value: Any) -> None:
    get(data, path[:-1])[path[-1]] = value


def mutate_once(draw, data: Any, kind: str) -> str:
    """Apply one mutation of ``kind`` to ``data`` in place; return a description."""
    all_paths = list(paths(data))
    if not all_paths:
        return "nothing to mutate"
    path = draw(st.sampled_from(all_paths))
    parent, key = get(data, path[:-1]), path[-1]
    value = parent[key]
    if kind == "delete":
        del parent[key]
    elif kind == "wrong_type":
        parent[key] = copy.deepcopy(draw(st.sampled_from(WRONG_VALUES)))  # never share
    elif kind == "extra_key":
        target = value if isinstance(value, dict) else parent
        if isinstance(target, dict):
            target[draw(st.sampled_from(EXTRA_KEYS))] = draw(st.sampled_from([1, "x", None]))
    elif kind == "number":
        parent[key] = draw(st.sampled_from(EDGE_NUMBERS))
    elif kind == "scale":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            parent[key] = value * draw(st.sampled_from(SCALES))
        else:
            parent[key] = draw(st.sampled_from(EDGE_NUMBERS))
    elif kind == "empty":
        parent[key] = copy.deepcopy(draw(st.sampled_from([[], {}, "", None])))
    elif kind == "duplicate":
        if isinstance(parent, list):
            parent.insert(key, copy.deepcopy(value))
        elif isinstance(value, list) and value:
            value.append(copy.deepcopy(value[0]))
    elif kind == "swap_ref":
        strings = [v for v in leaves(data) if isinstance(v, str) and len(v) < 64]
        if strings:
            parent[key] = draw(st.sampled_from(strings))
    elif kind == "date":
        parent[key] = draw(st.sampled_from(DATES))
    elif kind == "deep":
        parent[key] = DEEP.format(draw(st.sampled_from([40, 300, 2000, 60000])))
    elif kind == "long":
        parent[key] = draw(st.sampled_from(["y" * 200_000, "é" * 5000, "\x00", "a\tb"]))
    return f"{kind} at {path!r}"


TREE_KINDS = (
    "delete",
    "wrong_type",
    "extra_key",
    "number",
    "scale",
    "empty",
    "duplicate",
    "swap_ref",
    "date",
    "deep",
    "long",
)


@st.composite
def mutated_trees(draw, base: Any, kinds: tuple[str, ...] = TREE_KINDS, most: int = 3):
    """A deep copy of ``base`` with 1 to ``most`` mutations; returns (tree, descriptions)."""
    data = copy.deepcopy(base)
    done = []
    for _ in range(draw(st.integers(1, most))):
        kind = draw(st.sampled_from(kinds))
        done.append(mutate_once(draw, data, kind))
    return data, done


def dump_yaml(data: Any) -> bytes:
    """Serialise a (mutated) tree; ``__DEEP_n__`` markers become n levels of nested lists."""
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=4096)
    for n in (40, 300, 2000, 60000):
        marker = DEEP.format(n)
        text = text.replace(marker, "[" * n + "]" * n)
    return text.encode("utf-8")


# --------------------------------------------------------------------------- text mutations

BAD_BYTES = [b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80", b"\xf8\x88\x80\x80\x80"]
BOMB = b"bomb0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + b"".join(
    f"bomb{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n".encode() for i in range(1, 9)
)
TAGS = [
    b"!!python/object/apply:os.system ['echo pwned']",
    b"!!python/name:os.system",
    b"!!python/object/new:builtins.eval ['1+1']",
    b"!!binary aGVsbG8=",
    b"!!set {a, b}",
    b"!!omap [a: 1]",
    b"!custom 3",
    b"!!timestamp 2026-01-01",
    b"!!float nan",
]


@st.composite
def mutated_texts(draw, base: bytes):
    """``base`` with one text-level mutation; returns (bytes, description)."""
    lines = base.split(b"\n")
    kind = draw(
        st.sampled_from(
            [
                "bad_bytes",
                "bom",
                "dup_line",
                "drop_line",
                "truncate",
                "flip",
                "indent",
                "tab",
                "bomb",
                "tag",
                "deep_flow",
                "deep_block",
                "multi_doc",
                "merge_key",
                "nul",
                "control",
                "not_mapping",
                "anchors",
            ]
        )
    )
    i = draw(st.integers(0, max(0, len(lines) - 1)))
    pos = draw(st.integers(0, len(base)))
    if kind == "bad_bytes":
        text = base[:pos] + draw(st.sampled_from(BAD_BYTES)) + base[pos:]
    elif kind == "bom":
        text = b"\xef\xbb\xbf" + base
    elif kind == "dup_line":
        text = b"\n".join(lines[: i + 1] + [lines[i]] + lines[i + 1 :])
    elif kind == "drop_line":
        text = b"\n".join(lines[:i] + lines[i + 1 :])
    elif kind == "truncate":
        text = base[:pos]
    elif kind == "flip":
        if base:
            p = min(pos, len(base) - 1)
            text = base[:p] + bytes([base[p] ^ (1 << draw(st.integers(0, 7)))]) + base[p + 1 :]
        else:
            text = b"\x01"
    elif kind == "indent":
        text = b"\n".join(lines[:i] + [b"   " + lines[i]] + lines[i + 1 :])
    elif kind == "tab":
        text = b"\n".join(lines[:i] + [b"\t" + lines[i]] + lines[i + 1 :])
    elif kind == "bomb":
        text = BOMB + base
    elif kind == "tag":
        text = base + b"\nextra_tagged: " + draw(st.sampled_from(TAGS)) + b"\n"
    elif kind == "deep_flow":
        n = draw(st.sampled_from([50, 500, 5000, 100_000]))
        text = base + b"\ndeep: " + b"[" * n + b"]" * n + b"\n"
    elif kind == "deep_block":
        n = draw(st.sampled_from([20, 200, 2000]))
        text = base + b"\n" + b"".join(b" " * k + b"k:\n" for k in range(n)) + b" " * n + b"v\n"
    elif kind == "multi_doc":
        text = base + b"\n---\nname: second\n"
    elif kind == "merge_key":
        text = b"defaults: &d {bogus: 1}\n" + base + b"\nmerged:\n  <<: *d\n"
    elif kind == "nul":
        text = base[:pos] + b"\x00" + base[pos:]
    elif kind == "control":
        ctrl = draw(st.sampled_from([b"\x07", b"\x1b[31m", b"\x0c", b"\x7f"]))
        text = base[:pos] + ctrl + base[pos:]
    elif kind == "not_mapping":
        text = draw(st.sampled_from([b"", b"# only a comment\n", b"42\n", b"- a\n", b"null\n"]))
    else:  # anchors: harmless anchors/aliases in an otherwise valid document
        text = b"x-anchor: &v 1\n" + base
    return text, kind
