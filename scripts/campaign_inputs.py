"""Hostile input files for the campaign: configs, YAML traps, non-regular files, names, catalogs.

Mutations come from the fuzz tests' own strategies (``tests/fuzz_support.py``,
``tests/test_fuzz_*.py``), drawn reproducibly from a seed by :func:`examples`; the YAML traps,
non-regular files and hostile names are listed here. Every builder returns
:class:`campaign_core.Case` objects whose files already exist in their case directory.
"""

from __future__ import annotations

import math
import os
import random
import socket
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from campaign_core import ROOT, Case, Result
from conftest import KAZAKHSTAN_YAML, SMALL_YAML
from fuzz_support import BOMB, TAGS, dump_yaml, mutated_texts, mutated_trees
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from test_fuzz_catalog import BODY, damaged_catalogs, mutated_catalogs
from test_fuzz_config import KAZ, MINIMAL, SMALL, network_cycles
from test_fuzz_experiments import SHIPPED, SHIPPED_DATA, SMALL_EXPERIMENT, _layout, hostile_refs

from sim.config import read_yaml

CATALOG = ROOT / "seeds" / "disruption_events.csv"
SCHEDULE = ROOT / "seeds" / "replay_2022.csv"
SHORT = ["--set", "run.horizon_days=40"]


def examples(strategy: st.SearchStrategy, n: int, seed: int) -> list:
    """``n`` examples of a Hypothesis strategy, the same for the same seed."""
    found: list = []
    attempt = 0
    while len(found) < n and attempt < 5:

        @hypothesis_seed(seed * 1000 + attempt)
        @settings(
            max_examples=n - len(found),
            phases=[Phase.generate],
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(strategy)
        def collect(value):
            found.append(value)

        collect()
        attempt += 1
    return found[:n]


class Cases:
    """Numbered case directories under one work directory."""

    def __init__(self, work: Path, seed: int) -> None:
        self.work = work
        self.seed = seed
        self._count = 0

    def new(self) -> Path:
        """Make a fresh, empty case directory (fixed-width names: printed paths align)."""
        self._count += 1
        path = self.work / "cases" / f"{self._count:05d}"
        path.mkdir(parents=True)
        return path


def _absent(path: Path) -> Callable[[Result], str | None]:
    """Check that a refused command left nothing at ``path``."""

    def check(res: Result) -> str | None:
        return f"{path} was left behind" if os.path.lexists(path) else None

    return check


def _valid_line(path: Path) -> Callable[[Result], str | None]:
    def check(res: Result) -> str | None:
        return None if res.out.startswith(f"{path}: valid") else f"no 'valid' line: {res.out[:200]}"

    return check


def _validate(category: str, label: str, d: Path, content: bytes, name="fuzzed.yaml") -> Case:
    cfg = d / name
    cfg.write_bytes(content)
    # an error may name the config or a file it names (an included file), all in ``d``
    return Case(category, label, ["validate", cfg], d, (str(cfg), str(d)), _valid_line(cfg), 60)


def _tiny_run_ok(out: Path) -> Callable[[Result], str | None]:
    """``run -n 1``: one finite, mass-balanced replication (as test_fuzz_config checks)."""

    def check(res: Result) -> str | None:
        try:
            reps = pd.read_parquet(out / "replications")
        except Exception as exc:
            return f"exit 0 but no readable replications: {exc}"[:300]
        if list(reps["replication"]) != [0]:
            return f"replications {list(reps['replication'])}, expected [0]"
        row = reps.iloc[0]
        bad = [c for c in reps.columns if reps[c].dtype.kind in "fi" and not math.isfinite(row[c])]
        if bad:
            return f"non-finite results in {bad[:5]}"
        tolerance = 1e-9 * max(1.0, abs(row["potential_mt"])) + 1e-12
        if abs(row["mass_balance_error_mt"]) > tolerance:
            return f"mass balance error {row['mass_balance_error_mt']}"
        return None

    return check


# --------------------------------------------------------------------------- configs


def config_tree(cases: Cases, n: int, rng: random.Random) -> list[Case]:
    """Structurally mutated configs (fuzz_support's tree mutations), checked by ``validate``."""
    strategy = st.one_of(
        mutated_trees(KAZ), network_cycles(KAZ), mutated_trees(SMALL), mutated_trees(MINIMAL)
    )
    return [
        _validate("config-tree", "; ".join(what)[:160], cases.new(), dump_yaml(data))
        for data, what in examples(strategy, n, cases.seed + 1)
    ]


def config_run(cases: Cases, n: int, rng: random.Random) -> list[Case]:
    """Mutated small configs really run: one replication, serial."""
    strategy = st.one_of(mutated_trees(SMALL), mutated_trees(MINIMAL), network_cycles(SMALL))
    out = []
    for data, what in examples(strategy, n, cases.seed + 2):
        d = cases.new()
        cfg, run_dir = d / "fuzzed.yaml", d / "out"
        cfg.write_bytes(dump_yaml(data))
        argv = ["run", cfg, "-n", 1, "--seed", 5, "--executor", "serial", "-q", "--out", run_dir]
        label = "; ".join(what)[:160]
        out.append(
            Case(
                "config-run",
                label,
                argv,
                d,
                (str(cfg),),
                _tiny_run_ok(run_dir),
                120,
                True,
                _absent(run_dir),
            )
        )
    return out


def config_text(cases: Cases, n: int, rng: random.Random) -> list[Case]:
    """Text-level damage (bytes, BOMs, bombs, tags, truncation, ...) to the YAML of configs."""
    strategy = st.one_of(
        mutated_texts(KAZAKHSTAN_YAML.read_bytes()), mutated_texts(SMALL_YAML.read_bytes())
    )
    return [
        _validate("config-text", kind, cases.new(), content)
        for content, kind in examples(strategy, n, cases.seed + 3)
    ]


SCALAR_TRAPS = [
    *("014", "0o14", "0x1F", "12:30", "yes", "on", "off", "No", "1_000", "0b101", "-0"),
    *(".nan", ".NaN", ".inf", "-.inf", "1e400", "-1e400", "9" * 101, "9" * 5000, "5e-324"),
    *("~", "null", "[]", "{}", "'1e3'", '"\\udcff"', '"a\\0b"', '"\\e[2J"', "2026-02-30"),
    *("0001-01-01", "9999-12-31T23:59:59Z", "*undefined_alias", "&anchor 3", "!!float 1"),
    *("!!int 3", "!!str 5", "!!null ''", "!!bool yes"),
    *(t.decode() for t in TAGS),
]
INCLUDE_TARGETS = [
    *("/etc/passwd", "../../../../../../etc/passwd", "~/x.yaml", "link_out.yaml", "loop.yaml"),
    *("dangling.yaml", "subdir", "fifo.yaml", "/dev/zero", "c.yaml", "[h.yaml, h.yaml]", "''"),
    *("'" + "a" * 300 + ".yaml'", "https://example.com/h.yaml", "file:///etc/passwd"),
    *("h.yaml", '"h.yaml\\0x"', "[h.yaml, [h.yaml]]", "{a: h.yaml}", "'/proc/self/environ'"),
]
NAME_TRAPS = [
    *('"../../x"', '"/abs/x"', "x" * 300, "é" * 200, '"\\e[2J"', '"."', '".."', "''"),
    *('"a/b"', '"\\t"', '"con"', '"-rf"', '"~"', '"$HOME"', '"x\\ny"', "'   '"),
]
DOC_TRAPS = [
    *("bomb", "bomb_merge", "deep_flow", "dup_key", "second_doc", "yaml11_directive"),
    *("tag_directive", "tab_indent", "crlf", "utf16", "nul_tail", "huge_comment", "anchor_loop"),
]
NUMBER_LINES = [
    (i, line)
    for i, line in enumerate(SMALL_YAML.read_text().splitlines())
    if any(f"{key}: " in line for key in ("horizon_days", "rate_per_year", "capacity_mt", "seed"))
]


def _trap_layout(d: Path) -> None:
    """Files a hostile ``include_hazards`` can point at, next to the config."""
    outside = d.parent / f"{d.name}-outside.yaml"
    outside.write_text("hazards: {}\n")
    (d / "link_out.yaml").symlink_to(outside)
    (d / "loop.yaml").symlink_to(d / "loop.yaml")
    (d / "dangling.yaml").symlink_to(d / "missing.yaml")
    (d / "subdir").mkdir()
    os.mkfifo(d / "fifo.yaml")
    (d / "h.yaml").write_text(
        "hazards:\n  extra:\n    assets: [term]\n    cause: technical\n"
        "    arrivals: {process: poisson, rate_per_year: 1}\n"
        "    duration: {dist: fixed, value_days: 2}\n"
    )


def _doc_trap(kind: str, text: str) -> bytes:
    if kind == "bomb":
        return BOMB + text.encode()
    if kind == "bomb_merge":
        return (
            b"x: &x {a: 1, b: 2}\n"
            + b"".join(
                f"y{i}: &y{i} {{<<: [{', '.join([alias] * 8)}]}}\n".encode()
                for i, alias in enumerate(["*x"] + [f"*y{k}" for k in range(7)])
            )
        ) + text.encode()
    if kind == "deep_flow":
        return text.encode() + b"\ndeep: " + b"[" * 100_000 + b"]" * 100_000 + b"\n"
    if kind == "dup_key":
        return text.encode() + b"\nrun: {horizon_days: 10}\n"
    if kind == "second_doc":
        return text.encode() + b"\n---\n" + text.encode()
    if kind == "yaml11_directive":
        return b"%YAML 1.1\n---\n" + text.encode()
    if kind == "tag_directive":
        return (
            b"%TAG !p! tag:yaml.org,2002:python/object/apply:\n---\n"
            + text.encode()
            + (b"\nevil: !p!os.system ['true']\n")
        )
    if kind == "tab_indent":
        return text.replace("  - ", "\t- ", 1).encode()
    if kind == "crlf":
        return text.replace("\n", "\r\n").encode()
    if kind == "utf16":
        return text.encode("utf-16")
    if kind == "nul_tail":
        return text.encode() + b"\x00" * 100
    if kind == "huge_comment":
        return text.encode() + b"# " + b"c" * 5_300_000 + b"\n"
    return b"a: &a [*a]\n" + text.encode()  # anchor_loop: an alias to its own anchor


def yaml_traps(cases: Cases, n: int, rng: random.Random) -> list[Case]:
    """YAML 1.1 traps, tags, NaN/inf, huge integers, bombs, include escapes, hostile names."""
    out = []
    text = SMALL_YAML.read_text()
    for i in range(n):
        d = cases.new()
        kind = ("scalar", "include", "name", "document")[i % 4]
        if kind == "scalar":
            trap = rng.choice(SCALAR_TRAPS)
            lines = text.splitlines()
            j, line = rng.choice(NUMBER_LINES)
            key = rng.choice(
                [
                    k
                    for k in ("horizon_days", "rate_per_year", "capacity_mt", "seed")
                    if f"{k}: " in line
                ]
            )
            head, _, tail = line.partition(f"{key}: ")
            cut = min((tail.index(c) for c in ",}" if c in tail), default=len(tail))
            lines[j] = f"{head}{key}: {trap}{tail[cut:]}"
            out.append(
                _validate(
                    "yaml-traps", f"{key}: {trap[:40]}", d, ("\n".join(lines) + "\n").encode()
                )
            )
        elif kind == "include":
            _trap_layout(d)
            target = rng.choice(INCLUDE_TARGETS)
            out.append(
                _validate(
                    "yaml-traps",
                    f"include_hazards: {target[:40]}",
                    d,
                    f"{text}include_hazards: {target}\n".encode(),
                    name="c.yaml",
                )
            )
        elif kind == "name":
            name = rng.choice(NAME_TRAPS)
            cfg = d / "named.yaml"
            cfg.write_text(text.replace("name: small", f"name: {name}", 1))
            cwd = d / "a" / "b"
            cwd.mkdir(parents=True)
            argv = ["run", cfg, "-n", 1, "--executor", "serial", "-q", *SHORT]
            out.append(
                Case(
                    "yaml-traps",
                    f"name: {name[:40]} (run, default --out)",
                    argv,
                    cwd,
                    (str(cfg),),
                    _stays_under(d, cwd / "runs"),
                    90,
                )
            )
        else:
            trap = rng.choice(DOC_TRAPS)
            out.append(_validate("yaml-traps", f"document: {trap}", d, _doc_trap(trap, text)))
    return out


def _stays_under(case_dir: Path, allowed: Path) -> Callable[[Result], str | None]:
    """Every file the command wrote lies in ``allowed`` (one run directory)."""

    def check(res: Result) -> str | None:
        runs = [p for p in allowed.iterdir()] if allowed.is_dir() else []
        stray = [
            str(p)
            for p in case_dir.rglob("*")
            if p.is_file() and allowed not in p.parents and p.suffix != ".yaml"
        ]
        if stray or len(runs) != 1 or not (runs[0] / "manifest.json").is_file():
            return f"outputs not in one run directory under {allowed}: {stray[:3]} {runs[:3]}"
        return None

    return check


# --------------------------------------------------------------------------- non-regular files

NONREGULAR = [
    *("fifo", "/dev/zero", "/dev/urandom", "directory", "socket", "loop_link"),
    *("dangling_link", "link_to_zero", "/proc/self/status", "empty", "/dev/stdin"),
]
INPUT_ROLES = [
    *("config:validate", "config:run", "config:criticality", "config:replay", "include"),
    *("experiment", "base", "catalog", "catalog:config", "events", "recorded", "replay:catalog"),
]
OUTPUT_ROLES = [
    *("calibrate:out", "calibrate:report-dir", "run:out", "replay:out", "experiment:out"),
    *("criticality:out",),
]
OUTPUT_KINDS = ["fifo", "socket", "device", "link_to_file", "link_to_dir", "loop_link", "file"]


def _make_special(d: Path, kind: str, name: str = "special") -> Path:
    """Make a non-regular file of ``kind`` in ``d`` (or name a system path)."""
    if kind.startswith("/"):
        return Path(kind)
    path = d / name
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
        sock.close()
    elif kind == "loop_link":
        path.symlink_to(path)
    elif kind == "dangling_link":
        path.symlink_to(d / "nowhere")
    elif kind == "link_to_zero":
        path.symlink_to("/dev/zero")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "device":
        import stat

        try:
            os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a private /dev/null
        except PermissionError:
            os.mkfifo(path)
    elif kind == "link_to_file":
        (d / "mine.txt").write_text("mine")
        path.symlink_to(d / "mine.txt")
    elif kind == "link_to_dir":
        (d / "mine").mkdir()
        path.symlink_to(d / "mine")
    elif kind == "file":
        path.write_text("a user's file")
    return path


def _small_experiment(d: Path, base: str = "small.yaml") -> Path:
    (d / "small.yaml").write_text(
        SMALL_YAML.read_text().replace("horizon_days: 365", "horizon_days: 40")
    )
    exp = d / "exp.yaml"
    exp.write_text(f"name: t\nbase: {base}\nreplications: 2\nscenarios:\n  a: {{}}\n")
    return exp


def _input_argv(role: str, d: Path, special: Path) -> list:
    replay = ["--year", 2022, "--out", d / "replay"]
    if role == "config:validate":
        return ["validate", special]
    if role == "config:run":
        return ["run", special, "-n", 1, "--executor", "serial", "-q", "--out", d / "run"]
    if role == "config:criticality":
        return ["criticality", special, "--executor", "serial", "-q", "--out", d / "crit"]
    if role == "config:replay":
        return ["replay", special, "--events", SCHEDULE, *replay]
    if role == "include":
        cfg = d / "c.yaml"
        cfg.write_text(f"{SMALL_YAML.read_text()}include_hazards: {special}\n")
        return ["validate", cfg]
    if role == "experiment":
        return ["experiment", special, "--check"]
    if role == "base":
        return ["experiment", _small_experiment(d, str(special)), "--check"]
    if role == "catalog":
        return ["calibrate", special, "--out", d / "f.yaml", "--no-report"]
    if role == "catalog:config":
        return ["calibrate", CATALOG, "--config", special, "--out", d / "f.yaml", "--no-report"]
    if role == "events":
        return ["replay", "--events", special, *replay, "--catalog", "none", "--recorded", "none"]
    if role == "recorded":
        return ["replay", "--events", SCHEDULE, *replay, "--recorded", special]
    return ["replay", "--events", SCHEDULE, *replay, "--catalog", special]


def _output_argv(role: str, d: Path, target: Path) -> list:
    if role == "calibrate:out":
        return ["calibrate", CATALOG, "--out", target, "--no-report"]
    if role == "calibrate:report-dir":
        return ["calibrate", CATALOG, "--out", d / "f.yaml", "--report-dir", target]
    if role == "run:out":
        return ["run", SMALL_YAML, "-n", 1, "--executor", "serial", "-q", *SHORT, "--out", target]
    if role == "replay:out":
        return ["replay", "--events", SCHEDULE, "--year", 2022, "--out", target]
    if role == "experiment:out":
        return ["experiment", _small_experiment(d), "-q", "--executor", "serial", "--out", target]
    return ["criticality", SMALL_YAML, "-q", "--executor", "serial", *SHORT, "--out", target]


def _kind_of(path: Path) -> str:
    try:
        st_mode = os.lstat(path).st_mode
    except OSError:
        return "missing"
    import stat

    return stat.filemode(st_mode)[0] + (os.readlink(path) if stat.S_ISLNK(st_mode) else "")


def _unchanged(target: Path, before: str, mine: Path) -> Callable[[Result], str | None]:
    mine_before = mine.read_bytes() if mine.is_file() else None

    def check(res: Result) -> str | None:
        if _kind_of(target) != before and before not in ("d", "lmine"):
            return f"{target} was replaced ({before} -> {_kind_of(target)})"
        if mine_before is not None and mine.read_bytes() != mine_before:
            return f"{mine} (a user's file behind {target}) was changed"
        return None

    return check


def nonregular(cases: Cases, n: int, rng: random.Random) -> list[Case]:
    """FIFOs, devices, sockets, directories and links as inputs and as output targets."""
    out = []
    for i in range(n):
        d = cases.new()
        if i % 3 == 2:  # an output target
            role, kind = rng.choice(OUTPUT_ROLES), rng.choice(OUTPUT_KINDS)
            target = _make_special(d, kind, "target")
            argv = _output_argv(role, d, target)
            before = _kind_of(target)
            check = _unchanged(target, before, d / "mine.txt")
            shown = (str(target), "--out", "--report-dir")
            out.append(
                Case(
                    "nonregular",
                    f"{role} is {kind}",
                    argv,
                    d,
                    shown,
                    check,
                    60,
                    check_refused=check,
                )
            )
        else:
            role, kind = rng.choice(INPUT_ROLES), rng.choice(NONREGULAR)
            special = _make_special(d, kind)
            argv = _input_argv(role, d, special)
            out.append(Case("nonregular", f"{role} is {kind}", argv, d, (str(special),), None, 30))
    return out


# --------------------------------------------------------------------------- names

LONG_NAMES: list[bytes] = [
    b"x" * 256,
    "é".encode() * 128,
    b"x" * 255,
    b"a/" * 2100,
    b"r\xff\xfe",
    b"\xed\xa0\x80",
    b"ok/\xc3\x28/x",
]


def names(cases: Cases, n: int, rng: random.Random) -> list[Case]:
    """Over-long and non-UTF-8 names in path options, ``--set`` values and file names."""
    out = []
    small = os.fsencode(SMALL_YAML)
    for _ in range(n):
        d = cases.new()
        name = rng.choice(LONG_NAMES)
        where = rng.choice(
            [
                "run",
                "experiment",
                "criticality",
                "calibrate",
                "replay",
                "resume",
                "summary",
                "losses",
                "validate-file",
                "set",
                "events",
                "config-name",
            ]
        )
        path = os.fsencode(d) + b"/" + name
        if where == "run":
            argv = [
                b"run",
                small,
                b"-n",
                b"1",
                b"--executor",
                b"serial",
                b"-q",
                *map(os.fsencode, SHORT),
                b"--out",
                path,
            ]
        elif where == "experiment":
            argv = [
                b"experiment",
                os.fsencode(_small_experiment(d)),
                b"-q",
                b"--executor",
                b"serial",
                b"--out",
                path,
            ]
        elif where == "criticality":
            argv = [
                b"criticality",
                small,
                b"-q",
                b"--executor",
                b"serial",
                *map(os.fsencode, SHORT),
                b"--out",
                path,
            ]
        elif where == "calibrate":
            argv = [b"calibrate", os.fsencode(CATALOG), b"--no-report", b"--out", path + b".yaml"]
        elif where == "replay":
            argv = [
                b"replay",
                b"--events",
                os.fsencode(SCHEDULE),
                b"--year",
                b"2022",
                b"--out",
                path,
            ]
        elif where in ("resume", "summary", "losses"):
            argv = [where.encode(), path]
        elif where == "validate-file":
            try:
                with open(path, "wb") as fh:
                    fh.write(SMALL_YAML.read_bytes())
            except OSError:
                pass
            argv = [b"validate", path]
        elif where == "events":
            argv = [
                b"replay",
                b"--events",
                path,
                b"--year",
                b"2022",
                b"--out",
                os.fsencode(d / "r"),
            ]
        elif where == "set":
            argv = [b"validate", small, b"--set", b"name=" + name.replace(b"/", b"_")]
        else:
            cfg = d / "c.yaml"
            cfg.write_bytes(
                SMALL_YAML.read_bytes().replace(
                    b"name: small", b"name: " + name.replace(b"/", b"_"), 1
                )
            )
            argv = [
                b"run",
                os.fsencode(cfg),
                b"-n",
                b"1",
                b"--executor",
                b"serial",
                b"-q",
                *map(os.fsencode, SHORT),
            ]
        label = f"{where}: {name[:24]!r}{'...' if len(name) > 24 else ''} ({len(name)} bytes)"
        shown = ("--out", "--events", "--set", "run_dir", "config", os.fsdecode(d))
        out.append(Case("names", label, argv, d, shown, None, 60, True))
    return out


# --------------------------------------------------------------------------- experiments, catalogs


def experiment_file(cases: Cases, n: int, rng: random.Random) -> list[Case]:
    """Mutated experiment files (``--check``), and a few small mutated experiments really run."""
    runs = max(1, n // 8)
    checked = st.one_of(
        *(mutated_trees(x) for x in SHIPPED_DATA),
        *(hostile_refs(x) for x in SHIPPED_DATA),
        *(mutated_texts(p.read_bytes()) for p in SHIPPED),
    )
    out = []
    for value, what in examples(checked, n - runs, cases.seed + 4):
        d = cases.new()
        exp = _layout(d) / "fuzzed.yaml"
        exp.write_bytes(value if isinstance(value, bytes) else dump_yaml(value))
        label = what if isinstance(what, str) else "; ".join(what)[:160]
        out.append(
            Case(
                "experiment-file",
                label,
                ["experiment", exp, "--check"],
                d,
                (str(d),),
                lambda r: None if "valid" in r.out else "no 'valid' line",
                90,
            )
        )
    strategy = st.one_of(mutated_trees(SMALL_EXPERIMENT, most=2), hostile_refs(SMALL_EXPERIMENT))
    for data, what in examples(strategy, runs, cases.seed + 5):
        d = cases.new()
        exp = _layout(d) / "fuzzed.yaml"
        exp.write_bytes(dump_yaml(data))
        out_dir = d / "out"
        argv = ["experiment", exp, "-n", 2, "--executor", "serial", "-q", "--out", out_dir]
        out.append(
            Case(
                "experiment-file",
                "run: " + "; ".join(what)[:150],
                argv,
                d,
                (str(d),),
                _comparison_n(out_dir, 2),
                240,
                check_refused=_absent(out_dir),
            )
        )
    return out


def _comparison_n(out_dir: Path, n: int) -> Callable[[Result], str | None]:
    def check(res: Result) -> str | None:
        try:
            table = pd.read_csv(out_dir / "comparison.csv")
        except Exception as exc:
            return f"exit 0 but no comparison.csv: {exc}"[:300]
        return None if len(table) and (table["n"] == n).all() else f"comparison.csv n != {n}"

    return check


def catalog(cases: Cases, n: int, rng: random.Random) -> list[Case]:
    """Mutated and damaged disruption catalogs fitted by ``calibrate``."""
    strategy = st.one_of(
        mutated_catalogs(BODY[:12]), damaged_catalogs(BODY[:12]), mutated_catalogs(BODY)
    )
    out = []
    for k, (content, kinds) in enumerate(examples(strategy, n, cases.seed + 6)):
        d = cases.new()
        path, fitted = d / "catalog.csv", d / "fitted.yaml"
        path.write_bytes(content)
        report = [] if k % 5 == 0 else ["--no-report"]
        argv = ["calibrate", path, "--config", KAZAKHSTAN_YAML, "--out", fitted, *report]

        def check(res: Result, fitted=fitted) -> str | None:
            try:
                ok = isinstance(read_yaml(fitted).get("hazards"), dict)
            except Exception as exc:
                return f"exit 0 but the fitted file does not read: {exc}"[:300]
            return None if ok else "exit 0 but no hazards in the fitted file"

        out.append(
            Case(
                "catalog",
                "; ".join(kinds),
                argv,
                d,
                (str(path), "--"),
                check,
                120,
                check_refused=_absent(fitted),
            )
        )
    return out


__all__ = [
    "Cases",
    "catalog",
    "config_run",
    "config_text",
    "config_tree",
    "examples",
    "experiment_file",
    "names",
    "nonregular",
    "yaml_traps",
]
