"""Core of the hostile campaign: real CLI processes, the outcome of a case, reference runs.

Every case runs ``python -m sim ARGV`` in its own process group with a deadline, so a hang is
seen (and its whole group killed) and a worker process that outlives its command is found by
its process group. The error contract is the one of the fuzz tests
(:func:`fuzz_support.check_contract`): exit code 2 or 3 and one ``error:`` line naming the
file or option, never a traceback.

Imported by ``scripts/hostile_campaign.py``, which puts the repository root and ``tests/`` on
``sys.path`` first (with tests/fuzz and tests/system, whose helpers it shares).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from fuzz_support import check_contract

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("replications", "events")
FAILURES = ("traceback", "hang", "silent", "unclear", "orphan")
"""Outcomes that fail the campaign (``ok`` and ``refused`` pass)."""

Arg = str | bytes | os.PathLike


@dataclass
class Result:
    """What one ``python -m sim`` process did."""

    rc: int | None
    out: str
    err: str
    seconds: float
    timed_out: bool = False
    survivors: list[int] = field(default_factory=list)


@dataclass
class Case:
    """One hostile input: a command line, the files it needs, and what a success must show.

    ``check_ok(result)`` is called after exit code 0 (or 1 when ``allow_failed``) and returns
    ``None`` or what is wrong with the outputs: lost, changed or invalid results.
    ``check_refused(result)`` is called after a clean refusal: a refusal must leave nothing
    half-written and replace nothing.
    """

    category: str
    label: str
    argv: list[Arg]
    cwd: Path
    names: tuple[str, ...] = ()
    check_ok: Callable[[Result], str | None] | None = None
    timeout: float = 90.0
    allow_failed: bool = False
    check_refused: Callable[[Result], str | None] | None = None


def sim_env() -> dict[str, str]:
    """Environment of a campaign process: this checkout first, no injected faults.

    Python may cache bytecode (some sandboxes set ``PYTHONDONTWRITEBYTECODE``, which makes
    every one of the campaign's processes compile the package again).
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CORRIDOR_SIM_TEST") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", MPLBACKEND="Agg")
    return env


def start_sim(argv: Sequence[Arg], cwd: Path) -> subprocess.Popen:
    """Start ``python -m sim argv`` as the leader of a new process group."""
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *[a if isinstance(a, bytes) else str(a) for a in argv]],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=sim_env(),
        start_new_session=True,
    )


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of process group ``pgid`` (Linux ``/proc``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(int(entry.name))
    return found


def wait_group_gone(pgid: int, seconds: float) -> list[int]:
    """Wait until process group ``pgid`` is empty; kill and return what is left after that."""
    end = time.monotonic() + seconds
    while (left := group_members(pgid)) and time.monotonic() < end:
        time.sleep(0.05)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return left


def finish(proc: subprocess.Popen, timeout: float, started: float) -> Result:
    """Wait for ``proc``; past ``timeout`` kill its whole group (a hang)."""
    timed_out = False
    try:
        out, err = proc.communicate(timeout=max(0.1, timeout - (time.monotonic() - started)))
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        out, err = proc.communicate()
    seconds = time.monotonic() - started
    survivors = wait_group_gone(proc.pid, 10.0)
    return Result(
        proc.returncode,
        out.decode("utf-8", "replace"),
        err.decode("utf-8", "replace"),
        seconds,
        timed_out,
        survivors,
    )


def run_sim(argv: Sequence[Arg], cwd: Path, timeout: float = 90.0) -> Result:
    """Run ``python -m sim argv`` to its end (or its deadline)."""
    started = time.monotonic()
    return finish(start_sim(argv, cwd), timeout, started)


def classify(case: Case, res: Result) -> tuple[str, str]:
    """Return the outcome of a case (``ok``, ``refused`` or one of :data:`FAILURES`) and why."""
    if res.timed_out:
        return "hang", f"no exit within {case.timeout:.0f} s"
    if "Traceback" in res.out + res.err:
        return "traceback", res.err[-1500:]
    if res.survivors:
        return "orphan", f"processes {res.survivors} outlived the command"
    if res.rc == 0 or (res.rc == 1 and case.allow_failed):
        problem = case.check_ok(res) if case.check_ok else None
        return ("silent", problem) if problem else ("ok", "")
    if res.rc in (2, 3):
        try:
            check_contract(case.category, 2, res.out, res.err, case.names)
        except AssertionError as exc:
            return "unclear", f"exit {res.rc}: {str(exc)[:600]}"
        problem = case.check_refused(res) if case.check_refused else None
        if problem:
            return "silent", f"refused, but {problem}"
        return "refused", res.err.strip().splitlines()[-1][:300]
    return "unclear", f"exit code {res.rc}: {res.err[-600:]}"


# --------------------------------------------------------------------------- run directories


def digests(run_dir: Path) -> dict[str, str]:
    """SHA-256 of every chunk file of a run directory."""
    return {
        f"{t}/{f.name}": hashlib.sha256(f.read_bytes()).hexdigest()
        for t in TABLES
        for f in sorted((run_dir / t).glob("chunk-*.parquet"))
    }


def read_tables(run_dir: Path) -> dict[str, pd.DataFrame]:
    """Read the chunk tables of a run directory directly (no checks of corridor-sim's own)."""
    out = {}
    for table in TABLES:
        files = sorted((run_dir / table).glob("chunk-*.parquet"))
        frame = pd.concat([pd.read_parquet(f) for f in files]) if files else pd.DataFrame()
        if "replication" in frame:
            frame = frame.sort_values("replication", kind="stable")
        out[table] = frame.reset_index(drop=True)
    return out


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return list(a.columns) == list(b.columns) and a.reset_index(drop=True).equals(
        b.reset_index(drop=True)
    )


def compare_runs(got_dir: Path, want: dict[str, pd.DataFrame], want_digests: dict) -> dict:
    """Count replications lost, duplicated, added or changed against a reference run.

    The replications table is compared row by row by replication index; a replication's events
    are compared as a whole; ``files_differ`` counts chunk files that are not byte-identical.
    """
    try:
        got = read_tables(got_dir)
    except Exception as exc:  # a chunk that cannot be read is a result lost
        return {"unreadable": f"{type(exc).__name__}: {exc}"[:300], "lost": -1}
    reps, ref = got["replications"], want["replications"]
    have = reps["replication"].tolist() if "replication" in reps else []
    wanted = ref["replication"].tolist()
    counts = {
        "lost": len(set(wanted) - set(have)),
        "added": len(set(have) - set(wanted)),
        "duplicated": len(have) - len(set(have)),
        "changed": 0,
        "events_changed": 0,
        "files_differ": sum(
            got_dig != want_digests.get(name) for name, got_dig in digests(got_dir).items()
        )
        + len(set(want_digests) - set(digests(got_dir))),
    }
    common = sorted(set(wanted) & set(have))
    for table, key in (("replications", "changed"), ("events", "events_changed")):
        g = got[table].groupby("replication") if len(got[table]) else {}
        w = want[table].groupby("replication") if len(want[table]) else {}
        g_idx = set(g.groups) if len(got[table]) else set()
        w_idx = set(w.groups) if len(want[table]) else set()
        for r in common:
            if (r in g_idx) != (r in w_idx):
                counts[key] += 1
            elif r in g_idx and not _same(g.get_group(r), w.get_group(r)):
                counts[key] += 1
    return counts


def damage_of(counts: dict) -> str | None:
    """Describe lost or changed results of :func:`compare_runs`, or ``None`` when identical."""
    bad = {k: v for k, v in counts.items() if v}
    return f"results differ from the reference: {bad}" if bad else None


def temp_files(run_dir: Path) -> list[str]:
    """Temporary files left in a run directory."""
    return sorted(str(p) for p in run_dir.rglob(".*.tmp"))


class Once:
    """A value computed on first use, once, from any thread."""

    def __init__(self, make: Callable[[], object]) -> None:
        self._make, self._lock, self._done, self._value = make, threading.Lock(), False, None

    def get(self):
        """Return the value, computing it on the first call."""
        with self._lock:
            if not self._done:
                self._value, self._done = self._make(), True
            return self._value


def copy_tree(src: Path, dst: Path) -> Path:
    """Copy a directory tree, links as links."""
    shutil.copytree(src, dst, symlinks=True)
    return dst


def remove_tree(path: Path) -> None:
    """Remove a case directory, whatever is in it (FIFOs, links, read-only entries)."""

    def onerror(func, p, exc):
        try:
            os.chmod(p, 0o700)
            func(p)
        except OSError:
            pass

    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path, onerror=onerror)


def must(res: Result, what: str) -> Result:
    """Stop the campaign when a reference command fails: nothing can be compared with it."""
    if res.rc != 0 or res.timed_out:
        raise SystemExit(f"campaign setup failed: {what} (exit {res.rc}): {res.err[-2000:]}")
    return res
