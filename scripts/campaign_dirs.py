"""Damaged run and experiment directories for the campaign, and the pristine references.

A pristine run (``tests/data/small.yaml``, 60 days, 6 replications in chunks of 2, seed 9: the
layout of ``tests/fuzz/test_fuzz_cli.py``) and a pristine two-run experiment are made once with the
real CLI. Each case copies one, damages it (the fuzz tests' own damage kinds and the ones listed
here: bit flips, truncation, duplication and swaps of Parquet chunks, deleted files, garbled
JSON, symlinked folders and files) and runs a command on it. A command that succeeds on a
damaged directory must give exactly the pristine results: the same chunk files and
``summary.json`` after ``resume``, the same output and files after ``summary``, ``losses``,
``plot`` and ``report`` (paths replaced). Anything else is silent damage.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from campaign_core import (
    TABLES,
    Case,
    Once,
    Result,
    compare_runs,
    copy_tree,
    damage_of,
    digests,
    must,
    read_tables,
    run_sim,
)
from campaign_inputs import Cases, examples
from conftest import SMALL_YAML
from fuzz_support import EDGE_NUMBERS, WRONG_VALUES, get, paths
from hypothesis import strategies as st
from test_fuzz_cli import DAMAGE as FUZZ_DAMAGE
from test_fuzz_cli import _damage as fuzz_damage
from test_input_bounds import DAMAGE as EXP_DAMAGE
from test_input_bounds import damage_experiment

RUN_SETS = ["--set", "run.horizon_days=60"]
RUN_ARGS = ["-n", 6, "--seed", 9, "--chunk-size", 2]
JSON_VALUES = [v for v in EDGE_NUMBERS + WRONG_VALUES if not hasattr(v, "isoformat")]


def _normal(data: bytes | str, here: Path) -> bytes:
    raw = data.encode() if isinstance(data, str) else data
    return raw.replace(str(here).encode(), b"<DIR>")


def command_outputs(command: str, run_dir: Path, res: Result) -> dict[str, bytes]:
    """Return what a reader command produced: output and files, the directory's path hidden."""
    out = res.out
    if command == "summary":  # its opening sentence leaves out a config it cannot trust
        out = out.partition("\n\n")[2]
    found = {"stdout": _normal(out, run_dir)}
    if command == "losses":
        for f in sorted((run_dir / "tables").glob("*")):
            if f.suffix == ".parquet":
                found[f.name] = pd.read_parquet(f).to_csv().encode()
            else:
                found[f.name] = _normal(f.read_bytes(), run_dir)
    elif command == "plot":
        found.update({f.name: f.read_bytes() for f in sorted((run_dir / "figures").glob("*.png"))})
    elif command == "report":
        found["report.html"] = _normal((run_dir / "report.html").read_bytes(), run_dir)
    return found


def differences(got: dict[str, bytes], want: dict[str, bytes]) -> str | None:
    """Name the outputs that differ from the pristine ones, or ``None``."""
    bad = sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))
    return f"output differs from the pristine run's: {bad[:6]}" if bad else None


class Pristine:
    """The undamaged run and experiment, and what each reader command makes of them."""

    def __init__(self, cases: Cases) -> None:
        self.cases = cases
        self.root = cases.work / "pristine"
        self.run = Once(self._make_run)
        self.full = Once(self._make_full)
        self.tables = Once(lambda: (read_tables(self.run.get()), digests(self.run.get())))
        self.summary = Once(lambda: (self.run.get() / "summary.json").read_bytes())
        self.outputs = {
            c: Once(lambda c=c: self._outputs(c)) for c in ("summary", "losses", "plot", "report")
        }
        self.experiment = Once(self._make_experiment)
        self.exp_outputs = Once(self._exp_outputs)

    def _make_run(self) -> Path:
        out = self.root / "run"
        argv = ["run", SMALL_YAML, *RUN_SETS, *RUN_ARGS, "--executor", "serial", "-q", "--out", out]
        must(run_sim(argv, self.cases.work), "the pristine run")
        return out

    def _make_full(self) -> Path:
        """Make the pristine run with its tables, figures and report written."""
        out = copy_tree(self.run.get(), self.root / "full")
        for command in ("losses", "plot", "report"):
            must(run_sim([command, out], self.cases.work), f"{command} of the pristine run")
        return out

    def _reference_dir(self, tag: str) -> Path:
        """Make a directory whose path is as long as a case directory's (outputs print paths)."""
        path = self.cases.work / "cases" / f"R{tag:0>4}"[:6]
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _outputs(self, command: str) -> dict[str, bytes]:
        run_dir = copy_tree(self.run.get(), self._reference_dir(command[:4]) / "run")
        res = must(run_sim([command, run_dir], self.cases.work), f"{command} of the pristine run")
        return command_outputs(command, run_dir, res)

    def _make_experiment(self) -> tuple[Path, Path]:
        root = self.root / "experiment"
        root.mkdir(parents=True)
        (root / "short.yaml").write_text(
            SMALL_YAML.read_text().replace("horizon_days: 365", "horizon_days: 40")
        )
        exp = root / "exp.yaml"
        exp.write_text(
            "name: t\nbase: short.yaml\nreplications: 2\nseed: 4\nmetrics: [revenue_loss_usd]\n"
            "scenarios:\n  a: {set: [storages.port_tank.capacity_mt=0.3]}\n"
        )
        out = root / "out"
        must(
            run_sim(["experiment", exp, "--out", out, "--executor", "serial", "-q"], root),
            "the pristine experiment",
        )
        return exp, out

    def _exp_outputs(self) -> dict[str, bytes]:
        out = copy_tree(self.experiment.get()[1], self._reference_dir("exp") / "out")
        must(run_sim(["report", out], self.cases.work), "report of the pristine experiment")
        return _exp_files(out, "report.html", "comparison.csv")


def _exp_files(out: Path, *names: str) -> dict[str, bytes]:
    return {n: _normal((out / n).read_bytes(), out) for n in names}


# --------------------------------------------------------------------------- run directories

MY_DAMAGE = [
    *("parquet_flip", "parquet_bytes", "parquet_truncate", "parquet_append", "chunk_copy_over"),
    *("chunk_swap", "chunk_renamed", "delete_random", "manifest_flip", "manifest_digit"),
    *("manifest_value", "manifest_status", "summary_flip", "summary_digit", "summary_value"),
    *("symlink_subdir", "symlink_file", "failures_junk", "config_flip", "lock_junk"),
]
READERS = ["resume", "resume", "resume", "summary", "summary", "losses", "losses", "run-resume"]
READERS += ["plot", "report"]


def _chunks(run_dir: Path, draw, table: str | None = None) -> list[Path]:
    table = table or draw(st.sampled_from(TABLES))
    folder = run_dir / table
    return sorted(folder.glob("chunk-*.parquet")) if folder.is_dir() else []


def _flip(path: Path, draw, digit: bool = False) -> None:
    data = bytearray(path.read_bytes())
    if digit:
        spots = [i for i, b in enumerate(data) if 48 <= b <= 57]
        i = draw(st.sampled_from(spots))
        data[i] = 48 + (data[i] - 48 + draw(st.integers(1, 9))) % 10
    else:
        i = draw(st.integers(0, len(data) - 1))
        data[i] ^= 1 << draw(st.integers(0, 7))
    path.write_bytes(bytes(data))


def _json_value(path: Path, draw) -> None:
    data = json.loads(path.read_text())
    where = draw(st.sampled_from(list(paths(data))))
    get(data, where[:-1])[where[-1]] = draw(st.sampled_from(JSON_VALUES))
    path.write_text(json.dumps(data))


def my_damage(run_dir: Path, kind: str, draw) -> None:
    """Apply one damage of :data:`MY_DAMAGE` (raises ``OSError`` when its target is gone)."""
    man, summary = run_dir / "manifest.json", run_dir / "summary.json"
    if kind.startswith("parquet") or kind.startswith("chunk"):
        files = _chunks(run_dir, draw)
        if not files:
            raise FileNotFoundError("no chunks")
        f = draw(st.sampled_from(files))
        other = draw(st.sampled_from(files))
        if kind == "parquet_flip":
            _flip(f, draw)
        elif kind == "parquet_bytes":
            data = bytearray(f.read_bytes())
            for _ in range(draw(st.integers(1, 8))):
                data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
            f.write_bytes(bytes(data))
        elif kind == "parquet_truncate":
            f.write_bytes(f.read_bytes()[: draw(st.integers(1, f.stat().st_size - 1))])
        elif kind == "parquet_append":
            f.write_bytes(f.read_bytes() + draw(st.sampled_from([b"\0", b"PAR1", b"x" * 999])))
        elif kind == "chunk_copy_over":
            shutil.copyfile(other, f)
        elif kind == "chunk_swap":
            tmp = f.with_name("swap")
            f.rename(tmp)
            other.rename(f)
            tmp.rename(other)
        else:  # chunk_renamed: a chunk under another planned chunk's name
            if f != other:
                other.unlink()
                f.rename(other)
    elif kind == "delete_random":
        files = sorted(p for p in run_dir.rglob("*") if p.is_file())
        draw(st.sampled_from(files)).unlink()
    elif kind in ("manifest_flip", "summary_flip"):
        _flip(man if kind.startswith("manifest") else summary, draw)
    elif kind in ("manifest_digit", "summary_digit"):
        _flip(man if kind.startswith("manifest") else summary, draw, digit=True)
    elif kind in ("manifest_value", "summary_value"):
        _json_value(man if kind.startswith("manifest") else summary, draw)
    elif kind == "manifest_status":
        data = json.loads(man.read_text())
        data["status"] = draw(st.sampled_from(["running", "interrupted", "failed", "bogus", None]))
        man.write_text(json.dumps(data))
    elif kind == "symlink_subdir":
        sub = run_dir / draw(st.sampled_from([*TABLES, "tables", "figures", "failures"]))
        how = draw(st.sampled_from(["moved", "self", "other"]))
        if sub.is_dir():
            elsewhere = run_dir.parent / f"elsewhere-{sub.name}"
            shutil.move(sub, elsewhere)
        if how == "moved":
            sub.symlink_to(run_dir.parent / f"elsewhere-{sub.name}")
        elif how == "self":
            sub.symlink_to(sub)
        else:
            sub.symlink_to(run_dir / "replications")
    elif kind == "symlink_file":
        files = sorted(p for p in run_dir.rglob("*") if p.is_file() and not p.is_symlink())
        f = draw(st.sampled_from(files))
        moved = run_dir.parent / f"moved-{f.name}"
        shutil.move(f, moved)
        f.symlink_to(moved)
    elif kind == "failures_junk":
        (run_dir / "failures").mkdir(exist_ok=True)
        (run_dir / "failures" / "chunk-000000000-000000002.parquet").write_bytes(b"junk")
    elif kind == "config_flip":
        _flip(run_dir / "config.resolved.yaml", draw)
    else:  # lock_junk
        lock = run_dir / ".corridor-sim.lock"
        lock.unlink(missing_ok=True)
        if draw(st.booleans()):
            lock.mkdir()
        else:
            lock.write_bytes(b"\xff" * 64)


def _rundir_check(
    command: str, run_dir: Path, pristine: Pristine
) -> Callable[[Result], str | None]:
    def check(res: Result) -> str | None:
        if command in ("resume", "run-resume"):
            tables, sums = pristine.tables.get()
            problem = damage_of(compare_runs(run_dir, tables, sums))
            if problem:
                return problem
            try:
                same = (run_dir / "summary.json").read_bytes() == pristine.summary.get()
            except OSError as exc:
                return f"resume succeeded, but summary.json: {exc}"
            return None if same else "resume succeeded, but summary.json differs from the pristine"
        try:
            got = command_outputs(command, run_dir, res)
        except Exception as exc:
            return f"exit 0 but its outputs do not read: {type(exc).__name__}: {exc}"[:300]
        return differences(got, pristine.outputs[command].get())

    return check


def rundir(cases: Cases, n: int, rng: random.Random, pristine: Pristine) -> list[Case]:
    """Damaged copies of the pristine run, read by ``resume``, ``summary``, ``losses``, ..."""
    built: list[Case] = []
    kinds = [*FUZZ_DAMAGE, *MY_DAMAGE, *MY_DAMAGE]
    # plot and report (4 s each, and their pristine outputs) only in campaigns of some size
    readers = READERS if n >= 20 else [r for r in READERS if r not in ("plot", "report")]

    @st.composite
    def damaged(draw):
        d = cases.new()
        full = n >= 20 and draw(st.integers(0, 3)) == 0  # outputs take ~10 s to make
        run_dir = copy_tree((pristine.full if full else pristine.run).get(), d / "run")
        done = []
        for kind in draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=2, unique=True)):
            try:
                (fuzz_damage if kind in FUZZ_DAMAGE else my_damage)(run_dir, kind, draw)
                done.append(kind)
            except Exception:  # an earlier damage removed or retyped its target
                done.append(f"{kind} (no target)")
        command = draw(st.sampled_from(readers))
        if command == "run-resume":
            argv = [
                "run",
                SMALL_YAML,
                *RUN_SETS,
                *RUN_ARGS,
                "--executor",
                "serial",
                "-q",
                "--resume",
                "--out",
                run_dir,
            ]
        else:
            argv = [command, run_dir] + (
                ["--executor", "serial", "-q"] if command == "resume" else []
            )
        label = f"{command} after {' + '.join(done)}{' (with outputs)' if full else ''}"
        category = f"rundir:{command}"
        return Case(
            category,
            label,
            argv,
            d,
            (str(run_dir),),
            _rundir_check(command, run_dir, pristine),
            120,
        )

    built.extend(examples(damaged(), n, cases.seed + 7))
    return built


# --------------------------------------------------------------------------- experiment directories

EXP_MY_DAMAGE = [
    *("comparison_flip", "experiment_json_digit", "experiment_json_value", "scenario_chunk_flip"),
    *("scenario_manifest_gone", "scenario_summary_digit", "scenario_symlink", "base_gone"),
    *("parameters_flip", "archive_flip", "marker_gone", "comparison_csv_digit", "base_chunk_gone"),
]


def _exp_damage(out: Path, kind: str, draw) -> None:
    """Apply one damage to an experiment directory (``test_input_bounds`` kinds and ours)."""
    if kind in EXP_DAMAGE:
        damage_experiment(out, kind)
        return
    scenario = out / "scenarios" / "a"
    if kind == "comparison_flip":
        _flip(out / "comparison.parquet", draw)
    elif kind == "experiment_json_digit":
        _flip(out / "experiment.json", draw, digit=True)
    elif kind == "experiment_json_value":
        _json_value(out / "experiment.json", draw)
    elif kind == "scenario_chunk_flip":
        _flip(draw(st.sampled_from(sorted((scenario / "replications").glob("*.parquet")))), draw)
    elif kind == "scenario_manifest_gone":
        (scenario / "manifest.json").unlink()
    elif kind == "scenario_summary_digit":
        _flip(scenario / "summary.json", draw, digit=True)
    elif kind == "scenario_symlink":
        elsewhere = out.parent / "elsewhere"
        shutil.move(scenario, elsewhere)
        scenario.symlink_to(elsewhere)
    elif kind == "base_gone":
        shutil.rmtree(out / "base")
    elif kind == "parameters_flip":
        _flip(out / "parameters.parquet", draw)
    elif kind == "archive_flip":
        _flip(out / "ema_results.tar.gz", draw)
    elif kind == "marker_gone":
        (out / ".corridor-sim-output").unlink()
    elif kind == "comparison_csv_digit":
        _flip(out / "comparison.csv", draw, digit=True)
    else:  # base_chunk_gone
        draw(st.sampled_from(sorted((out / "base" / "replications").glob("*.parquet")))).unlink()


def _exp_check(command: str, out: Path, pristine: Pristine) -> Callable[[Result], str | None]:
    """``report`` must write the pristine report; ``experiment --resume`` its comparison."""
    name = "report.html" if command == "report" else "comparison.csv"

    def check(res: Result) -> str | None:
        want = pristine.exp_outputs.get()
        try:
            got = _exp_files(out, name)
        except OSError as exc:
            return f"exit 0 but {exc}"
        return differences(got, {name: want[name]})

    return check


def expdir(cases: Cases, n: int, rng: random.Random, pristine: Pristine) -> list[Case]:
    """Damaged copies of the pristine experiment, read by ``report`` and ``experiment --resume``."""
    kinds = [*sorted(EXP_DAMAGE), *EXP_MY_DAMAGE, *EXP_MY_DAMAGE]

    @st.composite
    def damaged(draw):
        exp, built = pristine.experiment.get()
        d = cases.new()
        out = copy_tree(built, d / "out")
        done = []
        for kind in draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=2, unique=True)):
            try:
                _exp_damage(out, kind, draw)
                done.append(kind)
            except Exception:  # an earlier damage removed or retyped its target
                done.append(f"{kind} (no target)")
        command = draw(st.sampled_from(["report", "report", "resume"]))
        if command == "report":
            argv = ["report", out]
        else:
            argv = ["experiment", exp, "--out", out, "--resume", "--executor", "serial", "-q"]
        label = f"{command} after {' + '.join(done)}"
        return Case(
            f"expdir:{command}",
            label,
            argv,
            d,
            (str(out),),
            _exp_check(command, out, pristine),
            120,
        )

    return examples(damaged(), n, cases.seed + 8)


__all__ = ["Pristine", "command_outputs", "differences", "expdir", "rundir"]
