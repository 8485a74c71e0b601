"""Interrupted and crashing batch runs: resume gives bit-identical results, nothing lost.

Real ``python -m sim run ... --workers 2`` processes are stopped at seeded random moments by
SIGINT or SIGTERM (to the coordinator, or to the whole process group like Ctrl-C in a
terminal), or lose a worker process to SIGKILL (process pool and Dask ``LocalCluster``). The
stopped run must exit with 130/143 and leave a manifest that matches the chunk files; after
``python -m sim resume DIR`` (or without a stop at all) every chunk file is byte-identical to
an uninterrupted serial run's, with each replication exactly once.

CI runs a bounded number of trials; more are marked ``slow`` (``--runslow``), and
``CORRIDOR_SIM_INTERRUPT_TRIALS`` adds seeds for local stress runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, SMALL_YAML
from fuzz_support import COUNTS

import sim
import sim.batch.spawning
from sim.store.layout import chunk_complete, chunk_files

N, CHUNK, SEED = 24, 2, 17
SETS = ["--set", "run.horizon_days=180"]
EXTRA = int(os.environ.get("CORRIDOR_SIM_INTERRUPT_TRIALS", "0"))


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


def _sim(*argv) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *map(str, argv)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        start_new_session=True,  # its own process group: a group signal is a terminal Ctrl-C
    )


def _run_argv(out: Path, executor: str = "processes") -> list:
    return [
        "run",
        SMALL_YAML,
        *SETS,
        "-n",
        N,
        "--seed",
        SEED,
        "--chunk-size",
        CHUNK,
        "--workers",
        2,
        "--executor",
        executor,
        "-q",
        "--out",
        out,
    ]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The uninterrupted run, serial and in this process."""
    cfg = sim.load_config(SMALL_YAML, ["run.horizon_days=180"])
    out = tmp_path_factory.mktemp("reference") / "run"
    sim.run(cfg, replications=N, seed=SEED, executor="serial", out=out, chunk_size=CHUNK)
    return out


def _digests(run_dir: Path) -> dict[str, str]:
    return {
        f"{t}/{f.name}": hashlib.sha256(f.read_bytes()).hexdigest()
        for t in ("replications", "events")
        for f in chunk_files(run_dir, t)
    }


def _assert_identical(run_dir: Path, reference: Path) -> None:
    assert _digests(run_dir) == _digests(reference)
    res = sim.load_run(run_dir, finished=True)
    assert res.replications["replication"].tolist() == list(range(N))
    ref = sim.load_run(reference)
    pd.testing.assert_frame_equal(res.replications, ref.replications, check_exact=True)
    pd.testing.assert_frame_equal(res.events, ref.events, check_exact=True)
    assert not list(run_dir.rglob(".*.tmp"))


def _assert_consistent(run_dir: Path) -> dict:
    """A stopped run's manifest: done chunks have their files, chunks with files are done."""
    man = json.loads((run_dir / "manifest.json").read_text())
    assert man["status"] in ("interrupted", "complete"), man["status"]
    for name, chunk in man["chunks"].items():
        assert (chunk["status"] == "done") == chunk_complete(run_dir, name), name
    on_disk = {f.stem for f in chunk_files(run_dir, "replications")}
    assert on_disk <= set(man["chunks"])
    return man


def _catches(pid: int, signum: int) -> bool:
    """Return True once process ``pid`` has a handler for ``signum`` (Linux /proc)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = next(
        int(line.split()[1], 16) for line in status.splitlines() if line.startswith("SigCgt")
    )
    return bool(mask >> (signum - 1) & 1)


def _ignores(pid: int, signum: int) -> bool:
    """Return True when process ``pid`` ignores ``signum`` (Linux /proc)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = next(
        int(line.split()[1], 16) for line in status.splitlines() if line.startswith("SigIgn")
    )
    return bool(mask >> (signum - 1) & 1)


def _children(pid: int) -> set[int]:
    """All descendant process ids of ``pid`` (Linux /proc)."""
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = (task / "children").read_text().split()
            except OSError:
                continue
            for k in map(int, kids):
                if k not in found:
                    found.add(k)
                    todo.append(k)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


def _workers(pid: int) -> list[int]:
    """Worker processes of a run: spawned Python children, not the resource tracker."""
    out = []
    for child in _children(pid):
        try:
            cmd = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"spawn_main" in cmd and b"resource_tracker" not in cmd:
            out.append(child)
    return sorted(out)


def _wait_for(predicate, timeout: float, proc: subprocess.Popen | None = None) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.02)
    return False


def _finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def _resume(run_dir: Path, executor: str = "processes") -> None:
    proc = _sim("resume", run_dir, "--workers", 2, "--executor", executor, "-q")
    rc, out, err = _finish(proc, 300)
    assert rc == 0 and "Traceback" not in err, err


def _interrupt_trial(tmp_path: Path, reference: Path, seed: int, signum: int, group: bool):
    """Stop a run at a seeded moment, check the stop, resume, compare with the reference."""
    rng = random.Random(seed)
    out = tmp_path / "run"
    proc = _sim(*_run_argv(out))
    # Half the trials stop the run while it starts (imports, spawning workers), half once
    # chunks are being written. A stop before python -m sim installs its handlers (interpreter
    # start-up, a few milliseconds) is the interpreter's, not ours: wait for the handlers.
    assert _wait_for(lambda: _catches(proc.pid, signal.SIGTERM), 60, proc)
    if rng.random() < 0.5:
        time.sleep(rng.uniform(0.0, 2.5))
    else:  # after a random number of chunks, whatever the speed of the machine
        k = rng.randint(1, N // CHUNK - 2)
        started = _wait_for(lambda: len(chunk_files(out, "replications")) >= k, 120, proc)
        assert started or proc.poll() is not None
        time.sleep(rng.uniform(0.0, 0.05))
    family = _children(proc.pid) | {proc.pid}
    if proc.poll() is None:
        if group:
            os.killpg(proc.pid, signum)
        else:
            os.kill(proc.pid, signum)
    rc, stdout, err = _finish(proc)
    assert "Traceback" not in err, err
    if rc == 0:  # the run finished before the signal arrived
        outcome = "finished"
    else:
        assert rc == 128 + signum, (rc, err)
        outcome = "stopped"
        assert _wait_for(lambda: not any(_alive(p) for p in family - {proc.pid}), 30)
        if (out / "manifest.json").is_file():
            man = _assert_consistent(out)
            assert man["status"] == "interrupted"
            assert f"corridor-sim resume {out}" in err
        else:  # stopped before the run directory existed: nothing was left behind
            assert not out.exists() or not any(out.iterdir())
            outcome = "stopped-before-start"
    if (out / "manifest.json").is_file():
        _resume(out)
    else:
        rc, _, err = _finish(_sim(*_run_argv(out)), 300)
        assert rc == 0, err
    _assert_identical(out, reference)
    return outcome


# (seed, signal, to the whole process group): seeds 5 and 2 stop the run mid-way, seed 3 while
# it starts.
TRIALS = [(5, signal.SIGINT, False), (2, signal.SIGTERM, False), (3, signal.SIGINT, True)]
SLOW_TRIALS = [
    (1, signal.SIGINT, False),
    (4, signal.SIGTERM, True),
    (6, signal.SIGTERM, True),
    (7, signal.SIGINT, True),
    (8, signal.SIGTERM, False),
    (10, signal.SIGTERM, False),
] + [(100 + i, (signal.SIGINT, signal.SIGTERM)[i % 2], bool(i % 3 == 0)) for i in range(EXTRA)]


def _counted(tmp_path, reference, seed, signum, group) -> None:
    kind = f"interrupt:{signal.Signals(signum).name}{'-group' if group else ''}"
    COUNTS[kind][_interrupt_trial(tmp_path, reference, seed, signum, group)] += 1


@pytest.mark.parametrize("seed, signum, group", TRIALS, ids=lambda v: str(v))
def test_interrupt_then_resume_is_bit_identical(tmp_path, reference, seed, signum, group):
    _counted(tmp_path, reference, seed, signum, group)


@pytest.mark.slow
@pytest.mark.parametrize("seed, signum, group", SLOW_TRIALS, ids=lambda v: str(v))
def test_more_interrupt_trials(tmp_path, reference, seed, signum, group):
    _counted(tmp_path, reference, seed, signum, group)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_sigint_to_a_starting_worker_is_ignored(tmp_path, reference):
    """A SIGINT (Ctrl-C reaches the whole process group) while a worker process still imports.

    Before: the worker ignored SIGINT only once its initializer ran, so a Ctrl-C while workers
    started printed their KeyboardInterrupt tracebacks ('Fatal Python error:
    init_import_site', found by scripts/hostile_campaign.py). The signal goes to the worker
    alone here, so that the coordinator does not stop and the worker's reaction is seen.
    """
    out = tmp_path / "run"
    proc = _sim(*_run_argv(out))

    def importing() -> list[int]:  # Python's own SIGINT handler in place, not yet SIG_IGN
        return [
            w
            for w in _workers(proc.pid)
            if _catches(w, signal.SIGINT) and not _ignores(w, signal.SIGINT)
        ]

    assert _wait_for(lambda: bool(importing()), 60, proc), proc.poll()
    for worker in importing():
        os.kill(worker, signal.SIGINT)
    rc, _, err = _finish(proc)
    assert rc == 0 and "Traceback" not in err and "KeyboardInterrupt" not in err, err
    _assert_identical(out, reference)


def test_interrupted_resume_resumes(tmp_path, reference):
    """A resume that is itself stopped by SIGTERM can be resumed again."""
    out = tmp_path / "run"
    proc = _sim(*_run_argv(out))
    assert _wait_for(lambda: len(chunk_files(out, "replications")) >= 2, 120, proc)
    proc.send_signal(signal.SIGINT)
    assert _finish(proc)[0] == 130
    done = len(chunk_files(out, "replications"))
    assert done < N // CHUNK  # the first run was stopped before its end
    proc = _sim("resume", out, "--workers", 2, "-q")
    # Signal once the resume has written a chunk of its own (it is running, past start-up:
    # a SIGTERM while Python itself starts up ends it the default way, before any handler).
    assert _wait_for(lambda: len(chunk_files(out, "replications")) > done, 120, proc)
    proc.send_signal(signal.SIGTERM)
    rc, _, err = _finish(proc)
    assert rc in (0, 143) and "Traceback" not in err, err
    _assert_consistent(out)
    _resume(out)
    _assert_identical(out, reference)
    COUNTS["interrupt:resume-stopped"]["passed"] += 1


def _kill_worker_trial(tmp_path: Path, reference: Path, executor: str, seed: int) -> None:
    """SIGKILL one worker process mid-run; the run must finish on its own, identical."""
    rng = random.Random(seed)
    out = tmp_path / "run"
    proc = _sim(*_run_argv(out, executor))
    k = rng.randint(1, N // CHUNK // 3)  # early enough that work is left on a fast machine
    assert _wait_for(lambda: len(chunk_files(out, "replications")) >= k, 180, proc), proc.poll()
    victims = _workers(proc.pid)
    assert victims, "no worker process found"
    os.kill(rng.choice(victims), signal.SIGKILL)
    rc, _, err = _finish(proc, 300)
    assert rc == 0 and "Traceback" not in err, err
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    _assert_identical(out, reference)
    COUNTS[f"worker-kill:{executor}"]["passed"] += 1


def test_killed_worker_process_is_replaced(tmp_path, reference):
    _kill_worker_trial(tmp_path, reference, "processes", seed=11)


def test_killed_dask_worker_is_replaced(tmp_path, reference):
    pytest.importorskip("dask.distributed")
    _kill_worker_trial(tmp_path, reference, "dask", seed=12)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [21, 22, 23])
def test_more_killed_worker_trials(tmp_path, reference, seed):
    _kill_worker_trial(tmp_path, reference, "processes", seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [31, 32])
def test_more_killed_dask_worker_trials(tmp_path, reference, seed):
    pytest.importorskip("dask.distributed")
    _kill_worker_trial(tmp_path, reference, "dask", seed)


def test_console_script_shares_the_signal_safe_entry_point():
    """`corridor-sim` and `python -m sim` both start in sim.cli.entry (imports nothing heavy)."""
    import tomllib

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["scripts"]["corridor-sim"] == "sim.cli.entry:console"
    code = (
        "import sys, sim.cli.entry; "
        "print(sorted(m for m in ('numpy', 'pandas', 'simpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _import_failed_by(stop: KeyboardInterrupt) -> ImportError:
    """What the import machinery raises when a signal lands in an extension module's init."""
    try:
        try:
            raise stop
        except KeyboardInterrupt as exc:
            raise ImportError("initialization failed") from exc
    except ImportError as err:
        return err


@pytest.mark.parametrize(
    "stop, code", [(KeyboardInterrupt(), 130), (sim.base.interrupts.Terminated(), 143)]
)
def test_stop_inside_an_extension_import_exits_cleanly(monkeypatch, capsys, stop, code):
    """A stop request that surfaces as an ImportError still ends with 130/143, no traceback."""
    from sim.cli import main as cli

    def command(args):
        raise _import_failed_by(stop)

    monkeypatch.setitem(cli.COMMANDS, "validate", command)
    assert cli.main(["validate", str(SMALL_YAML)]) == code
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err


def test_resume_stopped_while_reading_its_directory_says_how_to_go_on(monkeypatch, capsys):
    """Before: a Ctrl-C while resume read the run directory printed no resume hint."""
    from sim.cli import main as cli

    def stop(path, finished=False):
        raise KeyboardInterrupt

    monkeypatch.setattr("sim.api.load_run", stop)
    assert cli.main(["resume", "/some/run"]) == 130
    assert "finish with: corridor-sim resume /some/run" in capsys.readouterr().err


def test_an_import_error_without_a_stop_request_is_not_swallowed(monkeypatch):
    from sim.cli import main as cli

    def command(args):
        raise ImportError("no module named nowhere")

    monkeypatch.setitem(cli.COMMANDS, "validate", command)
    with pytest.raises(ImportError, match="nowhere"):
        cli.main(["validate", str(SMALL_YAML)])
    assert sim.base.interrupts.stop_behind(ImportError("x")) is None


def _run_files(run_dir: Path) -> dict[str, int]:
    """Every file under the run directory's table folders, with its modification time."""
    return {
        str(f.relative_to(run_dir)): f.stat().st_mtime_ns
        for folder in ("replications", "events", "timeseries", "failures")
        for f in (run_dir / folder).glob("*")
    }


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_killed_coordinator_takes_its_workers_with_it(tmp_path):
    """SIGKILL of `python -m sim run` leaves no worker running or writing.

    Before: the pool's workers finished the chunk in hand and took more from the queue,
    writing chunk files for seconds after the run-directory lock had been released.
    """
    out = tmp_path / "run"
    argv = _run_argv(out)
    # Chunks of ~2 s (8 replications of 100 years): both workers are mid-chunk at the kill.
    argv[argv.index(SETS[1])] = "run.horizon_days=36500"
    argv[argv.index("--chunk-size") + 1] = 8
    argv[argv.index("-n") + 1] = 200
    proc = _sim(*argv)
    assert _wait_for(lambda: len(chunk_files(out, "replications")) >= 1, 180, proc), proc.poll()
    time.sleep(0.3)
    workers = _workers(proc.pid)
    family = _children(proc.pid)
    assert len(workers) == 2, workers
    try:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)  # reaped: the kernel has told its children
        before = _run_files(out)
        survivors = lambda: [p for p in family if _alive(p)]  # noqa: E731
        assert _wait_for(lambda: not survivors(), 5), survivors()
        time.sleep(2.5)  # a chunk takes ~2 s: a surviving worker would have written by now
        assert _run_files(out) == before
        assert (out / "manifest.json").is_file()
    finally:
        for p in family:  # a failure must not leave orphans behind
            if _alive(p):
                os.kill(p, signal.SIGKILL)
        proc.stdout.close()
        proc.stderr.close()
    COUNTS["coordinator-kill:processes"]["passed"] += 1


ORPHAN_SCRIPT = """
import multiprocessing as mp, sys, time
from pathlib import Path
from sim.batch.worker import stop_with_parent

def child(marker):
    stop_with_parent(kernel_signal=False)
    Path(marker).touch()
    time.sleep(120)

if __name__ == "__main__":
    p = mp.get_context("spawn").Process(target=child, args=(sys.argv[1],))
    p.start()
    print(p.pid, flush=True)
    time.sleep(120)
"""


def test_worker_exits_with_its_parent_without_the_kernel_signal(tmp_path):
    """The portable watch (a thread waiting on the parent's sentinel) alone ends an orphan."""
    script, marker = tmp_path / "parent.py", tmp_path / "ready"
    script.write_text(ORPHAN_SCRIPT)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(marker)], stdout=subprocess.PIPE, text=True, env=_env()
    )
    child = int(proc.stdout.readline())
    try:
        assert _wait_for(marker.exists, 60, proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert _wait_for(lambda: not _alive(child), 5)
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)
        proc.stdout.close()


class _RaisesInFinaliser:
    """An object whose finaliser is interrupted, as a signal landing in ``__del__`` would be."""

    def __init__(self, exc: type[KeyboardInterrupt]) -> None:
        self.exc = exc

    def __del__(self) -> None:
        raise self.exc()


@pytest.mark.parametrize("exc", [KeyboardInterrupt, sim.base.interrupts.Terminated])
def test_a_stop_that_lands_in_a_finaliser_is_raised_outside_it(capsys, exc):
    """CI once printed "Exception ignored in ... KeyboardInterrupt": a stop Python had dropped.

    The stop must neither print a traceback nor be lost: it is raised at the next bytecode
    outside the finaliser, and the previous unraisable hook is back after the block.
    """
    hook = sys.unraisablehook
    with pytest.raises(exc):
        with sim.base.interrupts.stop_on_signals():
            _RaisesInFinaliser(exc)  # dropped at once: its __del__ raises
            for _ in range(1000):  # the redelivered signal's handler runs between these
                time.sleep(0.001)
            pytest.fail("the stop request was lost")
    assert sys.unraisablehook is hook
    err = capsys.readouterr().err
    assert "Exception ignored" not in err and "Traceback" not in err, err


def test_a_resent_stop_that_lands_in_the_hook_is_sent_again(monkeypatch, capsys):
    """CI, loaded machine: the re-sent stop's handler ran inside the hook itself and was lost.

    The first re-send is made to raise there, as the timer firing early would; the hook must
    catch it, send again, and the stop must still arrive with nothing printed.
    """
    real = sim.base.interrupts._send_later
    calls = []

    def early(signum):
        calls.append(signum)
        if len(calls) == 1:
            raise KeyboardInterrupt  # the previous re-send's handler, run inside the hook
        real(signum)

    monkeypatch.setattr(sim.base.interrupts, "_send_later", early)
    with pytest.raises(KeyboardInterrupt):
        with sim.base.interrupts.stop_on_signals():
            _RaisesInFinaliser(sim.base.interrupts.Terminated)
            for _ in range(1000):
                time.sleep(0.001)
            pytest.fail("the stop request was lost")
    assert calls == [signal.SIGTERM, signal.SIGINT]
    err = capsys.readouterr().err
    assert "Exception ignored" not in err and "Traceback" not in err, err


def test_other_unraisable_exceptions_still_reach_the_previous_hook(monkeypatch):
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u.exc_type))
    with sim.base.interrupts.stop_on_signals():
        _RaisesInFinaliser(ValueError)  # type: ignore[arg-type]
    assert seen == [ValueError]


_FAKE_COORDINATOR = """
import os, subprocess, sys
from sim.batch.spawning import boot_program
r, w = os.pipe()
cmd = [sys.executable, "-c", boot_program(os.getpid(), pipe_handle=r), "--multiprocessing-fork"]
child = subprocess.Popen(cmd, pass_fds=(r,))
os.close(r)
if sys.argv[1] == "dies":  # killed before it writes the start-up data: the pipe closes empty
    os._exit(0)
os.close(w)  # alive, but writes nothing: a real start-up failure
sys.exit(child.wait())
"""


@pytest.mark.parametrize("coordinator", ["dies", "lives"])
def test_a_worker_whose_coordinator_died_as_it_started_exits_quietly(coordinator):
    """The hostile campaign's last traceback: SIGKILL while the pool starts a worker.

    The worker reads an empty start-up pipe. With its coordinator gone it exits without a
    word; with the coordinator alive the stock ``EOFError`` still shows (a real failure).
    """
    proc = subprocess.run(
        [sys.executable, "-c", _FAKE_COORDINATOR, coordinator],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,  # returns once the worker, which shares stderr, has exited too
    )
    if coordinator == "dies":
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    else:
        assert proc.returncode == 1 and "EOFError" in proc.stderr, proc.stderr


def test_pool_workers_start_through_the_quiet_boot_program(tmp_path):
    """The process pool uses the quiet spawn context, and its workers still run chunks."""
    ctx = sim.batch.spawning.spawn_context()
    assert ctx.get_start_method() == "spawn"
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        assert pool.submit(os.getpid).result(timeout=60) != os.getpid()
        (proc,) = pool._processes.values()
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
    assert b"os.getppid() ==" in cmdline


def test_pool_workers_get_one_blas_thread_unless_the_environment_says_otherwise(monkeypatch):
    """Workers start with one BLAS/OpenMP thread each; a variable the user set is kept."""
    for name in sim.batch.spawning.ONE_THREAD:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    ctx = sim.batch.spawning.spawn_context()
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        seen = {
            n: pool.submit(os.getenv, n).result(timeout=60)
            for n in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
        }
    assert seen == {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "3", "MKL_NUM_THREADS": "1"}
    assert "OPENBLAS_NUM_THREADS" not in os.environ  # the coordinator's own is untouched
