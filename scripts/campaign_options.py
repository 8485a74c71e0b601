"""Bad option values and combinations for every command of the CLI.

Each case draws one to three options of a command from the tables below (edge, malformed and
out-of-range values, path options pointing at files, FIFOs, foreign or finished directories,
options that are meaningless together) on top of defaults that keep a valid command small.
A combination that happens to be valid really runs, and its outputs are checked.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from campaign_core import ROOT, Case, Result, compare_runs, copy_tree, damage_of
from campaign_dirs import Pristine, command_outputs, differences
from campaign_inputs import CATALOG, SCHEDULE, SHORT, Cases
from conftest import SMALL_YAML
from test_fuzz_cli import KEYS, VALUES

from sim.config import read_yaml

FLAG = None
SCHEDULER = ["tcp://127.0.0.1:1", "", "notaurl", "tls://127.0.0.1:1", "inproc://x"]
SEEDS = ["-1", "0", "abc", str(2**63), str(2**63 - 1), "1e3", "٣", "9" * 5000, "0x10", " 7"]
WORKERS = ["-1", "0", "1", "2", "4097", "two"]
SETS = ["noequals", "=1", "run.horizon_days=1e400", "run=1", "routes.99.market=med"]
SETS += ["run.horizon_days=!!python/object/apply:os.system ['true']", "routes.-1.market=x"]
RUN_DIRS = ["{complete}", "{interrupted}", "{missing}", "{file}", "{empty}", "{dir}", "{fifo}"]
OUT_DIRS = ["{file}", "{dir}", "{fifo}", "{empty}", "{link_dir}", "{missing_parent}", "{complete}"]
EXECUTORS = ["serial", "serial", "processes", "dask", "threads", ""]

OPTIONS: dict[str, dict[str, list | None]] = {
    "run": {
        "config": ["{missing}", "{dir}", "{file}", "{fifo}"],
        "-n": ["-5", "0", "1", "3", "1000001", "abc", "1.5", "", "9" * 30, "1e3"],
        "--seed": [*SEEDS, "random"],
        "--chunk-size": ["-1", "0", "1", "100001", "x", "2", " 1"],
        "--workers": WORKERS,
        "--executor": EXECUTORS,
        "--scheduler": SCHEDULER,
        "--target-rel-ci": ["-1", "0", "nan", "inf", "0.9", "0.5", "2", "abc"],
        "--out": OUT_DIRS,
        "--set": SETS + ["__fuzz__"] * 6,
        "--resume": FLAG,
        "--timeseries": FLAG,
    },
    "resume": {
        "run_dir": RUN_DIRS,
        "--workers": WORKERS,
        "--executor": ["serial", "processes", "dask", "bogus"],
        "--scheduler": SCHEDULER,
        "-q": FLAG,
    },
    "summary": {"run_dir": RUN_DIRS},
    "plot": {"run_dir": RUN_DIRS},
    "report": {"run_dir": RUN_DIRS},
    "losses": {
        "run_dir": RUN_DIRS,
        "--return-periods": [
            *("5,10", "0", "-1", "abc", "1e400", "", ",,", "1,1", "nan", "inf", "1000000000"),
            *("0.5", "9" * 5000, "2,5,10,20,50,100,200,500,1000,2000,5000,10000"),
        ],
    },
    "experiment": {
        "experiment": ["{missing}", "{dir}", "{file}"],
        "-n": ["-1", "0", "1", "2", "1000001", "x"],
        "--seed": ["-1", "x", "9" * 5000, "3"],
        "--workers": WORKERS,
        "--executor": ["serial", "processes", "x"],
        "--out": OUT_DIRS,
        "--resume": FLAG,
        "--check": FLAG,
    },
    "plan": {
        "experiment": ["{missing}", "{dir}", "{file}"],
        "-n": ["0", "-1", "1000000000000", "2", "x", "1000001"],
        "--pilot": ["0", "1", "2", "1001", "x", "-5"],
        "--seed": ["-1", "x", "9" * 5000, "3"],
        "--workers": WORKERS,
        "--executor": ["serial", "processes", "x"],
    },
    "criticality": {
        "config": ["{missing}", "{dir}", "{file}"],
        "--duration-days": ["0", "-1", "nan", "inf", "1e10", "36526", "5", "abc"],
        "--start": ["worst", "2026-02-30", "2026-03-01", "1899-01-01", "abc", "", "2300-01-01"],
        "-n": ["0", "-1", "1", "1000001", "x", "2"],
        "--seed": ["-1", "x", "9" * 5000, "3"],
        "--workers": ["0", "2", "-1", "4097"],
        "--executor": ["serial", "processes", "bogus"],
        "--own-repair": FLAG,
        "--include-sources": FLAG,
        "--set": SETS,
        "--out": OUT_DIRS,
    },
    "calibrate": {
        "catalog": ["{missing}", "{dir}", "{file}"],
        "--as-of": ["2026-02-30", "abc", "1900-01-01", "2030-01-01", "", "2010-01-01"],
        "--window-start": ["catalog", "asset", "x"],
        "--window": ["x=2020-01-01", "cpc_spm=abc", "=", "cpc_terminal=2020-01-01:2019-01-01"],
        "--split-date": ["2022-02-24", "abc", "1800-01-01", "2100-01-01"],
        "--split-regimes": ["a", "calm,conflict", "a,b,c", "", "calm,calm"],
        "--split-causes": ["weather", "bogus", "", "military,political"],
        "--seasonal": FLAG,
        "--season-prior": ["-1", "nan", "0", "1e400", "12", "inf"],
        "--report-dir": ["{dir}", "{fifo}", "{file}", "{empty}"],
        "--no-report": FLAG,
        "--config": ["{missing}", str(SMALL_YAML), "{file}", "{dir}"],
        "--map": ["a=b", "=", "x", "cpc_spm=term", "cpc_spm=cpc_terminal"],
        "--out": ["{file}", "{fifo}", "{dir}", "{link_file}", "{calibrated}"],
    },
    "replay": {
        "config": ["{missing}", "{file}", str(SMALL_YAML)],
        "--year": ["0", "-1", "2021", "1899", "99999", "abc", "9" * 5000, "2023"],
        "--events": ["{missing}", "{file}", "{dir}", str(ROOT / "seeds" / "replay_2023.csv")],
        "--recorded": ["none", "{missing}", "{file}"],
        "--catalog": ["none", "{missing}", "{file}"],
        "--set": SETS,
        "--out": OUT_DIRS,
    },
}
WEIGHTS = {"run": 4, "resume": 2, "summary": 1, "plot": 1, "report": 1, "losses": 2}
WEIGHTS.update(experiment=2, plan=2, criticality=2, calibrate=3, replay=2)
POSITIONAL = ("config", "run_dir", "experiment", "catalog")


def _tree(root: Path) -> dict[str, str]:
    """Every entry under ``root`` with a digest of its content (links and specials by kind)."""
    found = {}
    for p in sorted(root.rglob("*")):
        key = str(p.relative_to(root))
        if p.name == ".corridor-sim.lock":
            continue
        if p.is_symlink():
            found[key] = "link:" + os.readlink(p)
        elif p.is_file():
            found[key] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            found[key] = "dir" if p.is_dir() else "special"
    return found


class Places:
    """The files and directories an option value like ``{file}`` names, made on demand."""

    def __init__(self, d: Path, pristine: Pristine) -> None:
        self.d, self.pristine, self.made = d, pristine, {}

    def __call__(self, token: str) -> str:
        if not (token.startswith("{") and token.endswith("}")):
            return token
        if token in self.made:
            return self.made[token]
        d, name = self.d, token[1:-1]
        path = d / name
        if name == "file":
            path.write_text("a user's file\n")
        elif name == "dir":
            path.mkdir()
            (path / "notes.txt").write_text("mine")
        elif name == "fifo":
            os.mkfifo(path)
        elif name == "empty":
            path.mkdir()
        elif name == "link_dir":
            (d / "linked").mkdir()
            path.symlink_to(d / "linked")
        elif name == "link_file":
            (d / "mine.yaml").write_text("mine")
            path.symlink_to(d / "mine.yaml")
        elif name == "missing_parent":
            path = d / "no" / "such" / "dir"
        elif name == "calibrated":
            path.write_text("# Hazards FITTED by `corridor-sim calibrate` from an old catalog\n")
        elif name == "complete":
            copy_tree(self.pristine.run.get(), path)
        elif name == "interrupted":
            copy_tree(self.pristine.run.get(), path)
            last = "chunk-000000004-000000006"
            for table in ("replications", "events"):
                (path / table / f"{last}.parquet").unlink()
            (path / "summary.json").unlink()
            man = json.loads((path / "manifest.json").read_text())
            man["status"] = "interrupted"
            man["chunks"][last] = {"start": 4, "stop": 6, "status": "pending"}
            (path / "manifest.json").write_text(json.dumps(man))
        self.made[token] = str(path)
        return str(path)


def _draw_argv(command: str, rng: random.Random, places: Places) -> tuple[list, dict]:
    table = OPTIONS[command]
    chosen = rng.sample(sorted(table), k=min(len(table), rng.choice([1, 1, 2, 2, 3])))
    picked: dict[str, str | None] = {}
    for option in chosen:
        values = table[option]
        if values is FLAG:
            picked[option] = None
        elif option == "--set":
            value = rng.choice(values)
            if value == "__fuzz__":
                value = f"{rng.choice(KEYS)}={rng.choice(VALUES)}"
            picked[option] = value
        else:
            picked[option] = places(rng.choice(values))
    return _with_defaults(command, picked, places), picked


def _with_defaults(command: str, picked: dict, places: Places) -> list:
    d = places.d
    exp = places.pristine.experiment.get()[0]
    defaults: dict[str, str | None] = {
        "run": {
            "config": str(SMALL_YAML),
            "-n": "2",
            "--executor": "serial",
            "--out": str(d / "out"),
            "-q": None,
        },
        "resume": {"run_dir": places("{complete}"), "--executor": "serial"},
        "summary": {"run_dir": places("{complete}")},
        "plot": {"run_dir": places("{complete}")},
        "report": {"run_dir": places("{complete}")},
        "losses": {"run_dir": places("{complete}")},
        "experiment": {
            "experiment": str(exp),
            "--executor": "serial",
            "--out": str(d / "out"),
            "-q": None,
        },
        "plan": {"experiment": str(exp), "--executor": "serial", "--pilot": "2"},
        "criticality": {
            "config": str(SMALL_YAML),
            "--executor": "serial",
            "--out": str(d / "out"),
            "-q": None,
        },
        "calibrate": {"catalog": str(CATALOG), "--out": str(d / "f.yaml"), "--no-report": None},
        "replay": {"--events": str(SCHEDULE), "--year": "2022", "--out": str(d / "out")},
    }[command]
    if command == "criticality" and "--own-repair" in picked and "-n" not in picked:
        defaults["-n"] = "2"
    if command == "calibrate" and "--report-dir" in picked:
        defaults.pop("--no-report")
    merged = {**defaults, **picked}
    argv: list = [command]
    argv += [merged[p] for p in POSITIONAL if p in merged]
    if command in ("run", "criticality"):
        argv += SHORT
    if command == "replay" and "config" not in merged:
        argv += ["--set", "run.horizon_days=365"]
    for option, value in merged.items():
        if option in POSITIONAL:
            continue
        argv += [option] if value is None else [option, value]
    return argv


def _ok_check(
    command: str, argv: list, picked: dict, places: Places
) -> Callable[[Result], str | None]:
    """Check what an exit 0 must show (and that finished runs were not changed)."""
    pristine = places.pristine
    target = argv[1] if len(argv) > 1 else ""
    complete = places.made.get("{complete}")
    interrupted = places.made.get("{interrupted}")
    before = _tree(Path(complete)) if complete else None

    def out_dir() -> Path:
        return Path(argv[argv.index("--out") + 1])

    def check(res: Result) -> str | None:
        if command in ("resume",) and target == complete:
            return None if _tree(Path(complete)) == before else "resume changed a complete run"
        if command == "resume" and target == interrupted:
            tables, sums = pristine.tables.get()
            return damage_of(compare_runs(Path(interrupted), tables, sums))
        if command in ("summary", "losses", "plot", "report"):
            if target != complete:
                return f"exit 0 on {target}"
            if "--return-periods" in picked:
                return (
                    None
                    if (Path(target) / "tables" / "return_periods.csv").is_file()
                    else "no tables"
                )
            return differences(
                command_outputs(command, Path(target), res), pristine.outputs[command].get()
            )
        if command == "run":
            man = json.loads((out_dir() / "manifest.json").read_text())
            reps = pd.read_parquet(out_dir() / "replications")["replication"].tolist()
            if man["status"] != "complete" or sorted(reps) != list(range(man["replications"])):
                return f"run exit 0 but status {man['status']}, replications {len(reps)}"
            return None
        if command == "experiment":
            if "--check" in picked:
                return None if "valid" in res.out else "no 'valid' line"
            table = pd.read_csv(out_dir() / "comparison.csv")
            return None if len(table) else "empty comparison"
        if command == "plan":
            return None if "estimate" in res.out else "no estimate"
        if command == "criticality":
            return None if (out_dir() / "criticality.csv").is_file() else "no criticality.csv"
        if command == "calibrate":
            fitted = read_yaml(Path(argv[argv.index("--out") + 1]))
            return None if isinstance(fitted.get("hazards"), dict) else "no hazards"
        if command == "replay":
            return None if any(out_dir().iterdir()) else "replay wrote nothing"
        return None

    def guarded(res: Result) -> str | None:
        try:
            return check(res)
        except Exception as exc:
            return f"exit 0 but the outputs do not read: {type(exc).__name__}: {exc}"[:300]

    return guarded


def _refused_check(places: Places, before: dict) -> Callable[[Result], str | None]:
    """Check that a refusal changed no file the case made (a user's file, a finished run)."""

    def check(res: Result) -> str | None:
        after = _tree(places.d)
        changed = [k for k, v in before.items() if after.get(k) != v]
        return f"changed {changed[:4]}" if changed else None

    return check


ALIASES = {"-n": "--replications", "-q": "--quiet", "-w": "--workers", "-o": "--out"}


def _names(argv: list, picked: dict, d: Path) -> tuple[str, ...]:
    """Return what a refusal may name: a picked option or a path used."""
    names = [ALIASES.get(k, k) for k in picked if k not in POSITIONAL]
    names += [k for k in picked if k in ("-n",)]
    names += [str(d), str(ROOT / "configs" / "kazakhstan.yaml")]  # the default config
    names += [str(a) for a in argv if "/" in str(a)]
    return tuple(names)


def options(cases: Cases, n: int, rng: random.Random, pristine: Pristine) -> list[Case]:
    """``n`` command lines with bad option values and combinations, over every command."""
    commands = [c for c, w in WEIGHTS.items() for _ in range(w)]
    if n < 50:  # a smoke run: no plot and report (4 s each, and their pristine outputs)
        commands = [c for c in commands if c not in ("plot", "report")]
    out = []
    for _ in range(n):
        command = rng.choice(commands)
        d = cases.new()
        places = Places(d, pristine)
        argv, picked = _draw_argv(command, rng, places)
        label = " ".join(f"{k} {str(v)[:30]!s}" if v is not None else k for k, v in picked.items())
        shown = _names(argv, picked, d)
        slow = "--scheduler" in picked or picked.get("--executor") == "dask"
        case = Case(
            f"opts:{command}",
            label[:160],
            argv,
            d,
            shown,
            _ok_check(command, argv, picked, places),
            120 if slow else 90,
            True,
            _refused_check(places, _tree(d)),
        )
        out.append(case)
    return out


__all__ = ["options"]
