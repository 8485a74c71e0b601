"""Kill trials: stop real ``run``/``resume`` sessions at random moments, finish, compare.

A trial starts ``python -m sim run`` (processes executor, 2 workers, ``tests/data/small.yaml``
over a year, 60 replications in 30 chunks: a few seconds) and stops it one to four times at
seeded random moments, each time with one of: SIGKILL, SIGTERM or SIGINT of the coordinator,
SIGINT of its whole process group (Ctrl-C in a terminal), or SIGKILL of one worker process.
After a stop of the coordinator it checks the exit code (137/143/130, or 0 when the run won
the race), that no process of the run's process group survives it, and after SIGINT/SIGTERM
that the manifest matches the chunk files and no temporary file is left; then it resumes
(``resume``, or ``run`` again when the run was stopped before its directory existed), and
the next stop may hit that resume. The finished run's replications and events are compared,
sorted by replication and file by file, with an uninterrupted serial reference run: every
replication lost, duplicated or changed is counted.

Helpers of ``tests/system/test_interrupts.py`` find the workers and the signal handlers (Linux
``/proc``).
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from campaign_core import (
    Once,
    Result,
    compare_runs,
    digests,
    finish,
    must,
    read_tables,
    run_sim,
    start_sim,
    temp_files,
)
from conftest import SMALL_YAML
from test_interrupts import _assert_consistent, _catches, _wait_for, _workers

from sim.store.layout import chunk_files

N, CHUNK, SEED = 60, 2, 17
SETS = ["--set", "run.horizon_days=365"]
KINDS = ("coordinator SIGKILL", "coordinator SIGTERM", "coordinator SIGINT", "group SIGINT")
KINDS += ("worker SIGKILL",)
EXIT = {"SIGKILL": -signal.SIGKILL, "SIGTERM": 128 + signal.SIGTERM, "SIGINT": 128 + signal.SIGINT}
SESSION_TIMEOUT = 180.0


def run_argv(out: Path, executor: str = "processes") -> list:
    """Return the command line of a kill trial's run."""
    return [
        "run", SMALL_YAML, *SETS, "-n", N, "--seed", SEED, "--chunk-size", CHUNK,
        "--workers", 2, "--executor", executor, "-q", "--out", out,
    ]  # fmt: skip


def make_reference(work: Path) -> tuple[dict, dict]:
    """Make the uninterrupted run (serial); return its tables and chunk digests."""
    out = work / "kill-reference" / "run"
    must(run_sim(run_argv(out, "serial"), work, SESSION_TIMEOUT), "the kill reference run")
    return read_tables(out), digests(out)


@dataclass
class Kill:
    """One signal delivered to a live process of a trial, and what followed."""

    trial: int
    kind: str
    session: str
    after_s: float
    rc: int | None = None
    problems: list[str] = field(default_factory=list)
    outcome: str = "ok"


@dataclass
class Trial:
    """A run stopped one or more times and finished; its result against the reference."""

    number: int
    kills: list[Kill] = field(default_factory=list)
    sessions: int = 0
    counts: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _chunks(out: Path) -> int:
    return len(chunk_files(out, "replications")) if (out / "replications").is_dir() else 0


def _moment(proc, out: Path, kind: str, rng: random.Random) -> bool:
    """Wait for a random moment of the session; False when it ended first."""
    if "SIGINT" in kind or "SIGTERM" in kind:  # the interpreter's own, before our handlers
        signum = signal.SIGTERM if "SIGTERM" in kind else signal.SIGINT
        if not _wait_for(lambda: _catches(proc.pid, signum), 60, proc):
            return False
    if rng.random() < 0.5:
        time.sleep(rng.uniform(0.0, 2.5))
    else:  # after a random number of further chunks, whatever the speed of the machine
        have = _chunks(out)
        k = have + rng.randint(1, max(1, (N // CHUNK - have) - 1))
        _wait_for(lambda: _chunks(out) >= k, 120, proc)
        time.sleep(rng.uniform(0.0, 0.05))
    return proc.poll() is None


def _deliver(proc, kind: str, rng: random.Random) -> bool:
    """Send the signal of ``kind``; False when there was nothing left to hit."""
    if proc.poll() is not None:
        return False
    if kind == "worker SIGKILL":
        if not _wait_for(lambda: bool(_workers(proc.pid)), 10, proc):
            return False
        victims = _workers(proc.pid)
        if not victims or proc.poll() is not None:
            return False
        os.kill(rng.choice(victims), signal.SIGKILL)
        return True
    signum = getattr(signal, kind.split()[1])
    if kind.startswith("group"):
        os.killpg(proc.pid, signum)
    else:
        os.kill(proc.pid, signum)
    return True


def _manifest_bytes(out: Path) -> bytes | None:
    try:
        return (out / "manifest.json").read_bytes()
    except OSError:
        return None


def _check_stop(kill: Kill, res: Result, out: Path, touched: bool) -> None:
    """Check a stopped session (see the module docstring).

    ``touched``: the session rewrote the manifest. One stopped before that (while importing
    or reading the directory) leaves the directory as the session before it left it, which
    after a SIGKILL may say ``running`` and hold temporary files: the next resume clears them.
    """
    p, ender = kill.problems, kill.kind
    if res.timed_out:
        kill.outcome = "hang"
        p.append(f"no exit within {SESSION_TIMEOUT:.0f} s")
    if "Traceback" in res.out + res.err:
        kill.outcome = "traceback"
        p.append(res.err[-1500:])
    if res.survivors:
        kill.outcome = "orphan"
        p.append(f"processes {res.survivors} outlived the coordinator")
    if ender == "worker SIGKILL":  # the run goes on without the worker
        expected = {0}
    else:  # a signal after the command ended (interpreter shut-down) kills by default: the
        # shell shows 128 + N either way
        name = ender.split()[1]
        expected = {0, EXIT[name], -getattr(signal, name)}
    if res.rc not in expected and not res.timed_out:
        p.append(f"exit code {res.rc}, expected {sorted(expected)}: {res.err[-400:]}")
    if "SIGKILL" not in ender and res.rc != 0 and touched:
        try:
            _assert_consistent(out)
        except AssertionError as exc:
            p.append(f"manifest does not match the chunk files: {exc}"[:400])
        if temp_files(out):
            p.append(f"temporary files left: {temp_files(out)[:3]}")
        status = json.loads(_manifest_bytes(out) or b"{}").get("status")
        if status != "complete" and "corridor-sim resume" not in res.err:
            p.append("no hint how to resume")
    if p and kill.outcome == "ok":
        kill.outcome = "unclear"


def _next_argv(out: Path) -> list | None:
    """How to go on after a stop: resume, run again, or nothing (a dead end)."""
    if (out / "manifest.json").is_file():
        return ["resume", out, "--workers", 2, "-q"]
    if not out.exists() or not [p for p in out.iterdir() if p.name != ".corridor-sim.lock"]:
        return run_argv(out)
    return None


def trial(number: int, root: Path, rng: random.Random, kills: int, reference: Once) -> Trial:
    """One trial with up to ``kills`` stops (see the module docstring)."""
    t = Trial(number)
    started = time.monotonic()
    out = root / "run"
    argv: list | None = run_argv(out)
    while argv is not None and t.sessions < kills + 4:
        t.sessions += 1
        session = "run" if argv[0] == "run" else f"resume {t.sessions - 1}"
        before = _manifest_bytes(out)
        t0 = time.monotonic()
        proc = start_sim(argv, root)
        hits: list[Kill] = []
        while len(t.kills) < kills:  # worker kills leave the session running: more may follow
            kind = rng.choice(KINDS)
            if not (_moment(proc, out, kind, rng) and _deliver(proc, kind, rng)):
                break
            hits.append(Kill(number, kind, session, round(time.monotonic() - t0, 3)))
            t.kills.append(hits[-1])
            if kind != "worker SIGKILL":
                break
        res = finish(proc, SESSION_TIMEOUT, t0)
        touched = _manifest_bytes(out) != before
        kill = hits[-1] if hits else None
        for hit in hits:
            hit.rc = res.rc
        if kill is not None:  # a session's problems count once, on the signal that ended it
            _check_stop(kill, res, out, touched)  # counted; the trial goes on
        if kill is None and (res.rc != 0 or "Traceback" in res.err or res.survivors):
            t.problems.append(f"{session} without a stop: exit {res.rc} {res.err[-600:]}")
            break
        if res.rc == 0:
            argv = None
            break
        argv = _next_argv(out)
        if argv is None:
            t.problems.append(
                f"dead end after {kill.kind if kill else 'a stop'}: {out} holds "
                f"{sorted(p.name for p in out.iterdir())} but no manifest"
            )
    if argv is not None and not t.problems:
        t.problems.append("did not finish")
    if not t.problems:
        tables, sums = reference.get()
        t.counts = compare_runs(out, tables, sums)
        man = json.loads((out / "manifest.json").read_text())
        if man.get("status") != "complete":
            t.problems.append(f"finished with manifest status {man.get('status')}")
        if temp_files(out):
            t.problems.append(f"temporary files left: {temp_files(out)[:3]}")
    else:
        t.counts = {"lost": N}  # nothing to compare: count the run as lost
    t.seconds = round(time.monotonic() - started, 2)
    return t


def outcome(t: Trial) -> str:
    """``ok``, or why the trial failed."""
    if any(v for v in t.counts.values()):
        return "lost"
    if t.problems or any(k.outcome != "ok" for k in t.kills):
        return "failed"
    return "ok"


__all__ = ["KINDS", "Kill", "Trial", "make_reference", "outcome", "trial"]
