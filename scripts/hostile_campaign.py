"""Hostile-user campaign: hundreds of hostile inputs and kills through the real CLI.

Usage::

    PYTHONPATH=$PWD python scripts/hostile_campaign.py [--seed 16] [--inputs 700] [--kills 170]
        [--out campaign-out] [--jobs 2] [--quick] [--keep]

Every case runs ``python -m sim ...`` as a separate process with a deadline. Inputs (mutated
configs and experiment files, YAML traps, FIFOs and devices as files, over-long and non-UTF-8
names, bad options of every command, damaged run and experiment directories) must end in a
valid result or a clean refusal: exit code 2 or 3 with one ``error:`` line naming the file or
option. A traceback, a hang, a worker process outliving its command, a refusal that changed
files, or a success on a damaged directory whose results differ from the pristine ones is a
failure. Kills stop real runs and resumes at random moments (see ``campaign_kills.py``); the
finished run must equal an uninterrupted one, replication by replication.

Prints a table per category, writes ``summary.json``, ``cases.jsonl`` and ``kills.jsonl`` to
``--out`` (case directories of failures are kept under ``--out/work/cases``), and exits 1 when
anything failed. The inputs are the same for the same ``--seed``; kill moments depend on the
machine's speed. See docs/background/reliability.md, "Hostile campaign".
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), *(str(ROOT / "tests" / d) for d in ("", "fuzz", "system"))]

import campaign_dirs  # noqa: E402
import campaign_inputs  # noqa: E402
import campaign_kills  # noqa: E402
import campaign_options  # noqa: E402
from campaign_core import FAILURES, Case, Once, classify, remove_tree, run_sim  # noqa: E402

CATEGORIES = {
    "config-tree": (15, campaign_inputs.config_tree),
    "config-run": (6, campaign_inputs.config_run),
    "config-text": (12, campaign_inputs.config_text),
    "yaml-traps": (8, campaign_inputs.yaml_traps),
    "nonregular": (6, campaign_inputs.nonregular),
    "names": (4, campaign_inputs.names),
    "experiment-file": (8, campaign_inputs.experiment_file),
    "catalog": (4, campaign_inputs.catalog),
    "options": (21, campaign_options.options),
    "rundir": (14, campaign_dirs.rundir),
    "expdir": (4, campaign_dirs.expdir),
}
"""Input category -> (weight in the total, builder)."""
NEEDS_PRISTINE = ("options", "rundir", "expdir")
COLUMNS = ("cases", "ok", "refused", "traceback", "hang", "silent", "unclear", "orphan")


def allocate(total: int) -> dict[str, int]:
    """Split ``total`` inputs over the categories by weight (largest remainders)."""
    weights = {k: w for k, (w, _) in CATEGORIES.items()}
    scale = total / sum(weights.values())
    counts = {k: int(w * scale) for k, w in weights.items()}
    rest = sorted(weights, key=lambda k: -(weights[k] * scale - counts[k]))
    for k in rest[: total - sum(counts.values())]:
        counts[k] += 1
    return counts


def build(work: Path, seed: int, total: int) -> list[Case]:
    """All input cases, their files made (the same for the same seed)."""
    cases = campaign_inputs.Cases(work, seed)
    pristine = campaign_dirs.Pristine(cases)
    built: list[Case] = []
    for name, n in allocate(total).items():
        if n == 0:
            continue
        builder = CATEGORIES[name][1]
        rng = random.Random(f"{seed}-{name}")
        extra = (pristine,) if name in NEEDS_PRISTINE else ()
        built += builder(cases, n, rng, *extra)
    return built


def run_case(case: Case) -> dict:
    """Run one case and return its log record."""
    res = run_sim(case.argv, case.cwd, case.timeout)
    outcome, detail = classify(case, res)
    return {
        "category": case.category,
        "label": case.label,
        "argv": [a if isinstance(a, str) else repr(a) for a in map(_shown, case.argv)],
        "cwd": str(case.cwd),
        "rc": res.rc,
        "seconds": round(res.seconds, 2),
        "outcome": outcome,
        "detail": detail,
        "stderr": res.err[-400:],
    }


def _home(path: Path) -> Path:
    """Return the case directory (directly under ``cases/``) that holds ``path``."""
    while path.parent.name != "cases":
        path = path.parent
    return path


def _shown(arg) -> str:
    if isinstance(arg, bytes):
        return arg.decode("utf-8", "backslashreplace")
    text = str(arg)
    return text if len(text) <= 200 else f"{text[:60]}...({len(text)} characters)"


def run_inputs(cases: list[Case], jobs: int, log: Path, keep: bool) -> list[dict]:
    """Run every case, ``jobs`` at a time; log each record as it ends."""
    records: list[dict] = []
    lock = threading.Lock()
    started = time.monotonic()

    def one(case: Case) -> None:
        rec = run_case(case)
        if rec["outcome"] not in FAILURES and not keep:
            remove_tree(_home(case.cwd))
        with lock, log.open("a") as fh:
            records.append(rec)
            fh.write(json.dumps(rec) + "\n")
            if rec["outcome"] in FAILURES:
                print(
                    f"FAIL {rec['outcome']}: {rec['category']}: {rec['label']}\n  "
                    f"{rec['detail'][:300]}",
                    file=sys.stderr,
                )
            if len(records) % 50 == 0:
                print(
                    f"  {len(records)}/{len(cases)} inputs, {time.monotonic() - started:.0f} s",
                    file=sys.stderr,
                )

    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, cases))
    return records


def run_kills(work: Path, seed: int, kills: int, jobs: int, log: Path) -> list:
    """Trials until ``kills`` signals were delivered; each trial logged as it ends."""
    reference = Once(lambda: campaign_kills.make_reference(work))
    reference.get()
    trials: list = []
    lock = threading.Lock()
    state = {"next": 0, "delivered": 0}

    def worker() -> None:
        while True:
            with lock:
                if state["delivered"] >= kills:
                    return
                number = state["next"]
                state["next"] += 1
                want = min(
                    kills - state["delivered"], random.Random(f"{seed}-plan-{number}").randint(1, 4)
                )
                state["delivered"] += want  # reserved; corrected below
            rng = random.Random(f"{seed}-kill-{number}")
            root = work / "kills" / f"{number:04d}"
            root.mkdir(parents=True)
            t = campaign_kills.trial(number, root, rng, want, reference)
            with lock, log.open("a") as fh:
                state["delivered"] += len(t.kills) - want
                trials.append(t)
                fh.write(json.dumps(_trial_record(t)) + "\n")
                if campaign_kills.outcome(t) != "ok":
                    print(f"FAIL kill trial {number}: {_trial_record(t)}", file=sys.stderr)
                elif not _failed_kills(t):
                    remove_tree(root)

    threads = [threading.Thread(target=worker) for _ in range(jobs)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return sorted(trials, key=lambda t: t.number)


def _failed_kills(t) -> bool:
    return any(k.outcome != "ok" or k.problems for k in t.kills)


def _trial_record(t) -> dict:
    return {
        "trial": t.number,
        "outcome": campaign_kills.outcome(t),
        "sessions": t.sessions,
        "seconds": t.seconds,
        "counts": t.counts,
        "problems": t.problems,
        "kills": [vars(k) for k in t.kills],
    }


def tabulate(records: list[dict]) -> dict[str, dict[str, int]]:
    """Outcome counts per category, and a total."""
    table: dict[str, dict[str, int]] = {}
    for rec in records:
        for key in (rec["category"], "TOTAL"):
            row = table.setdefault(key, dict.fromkeys(COLUMNS, 0))
            row["cases"] += 1
            row[rec["outcome"]] += 1
    return dict(sorted(table.items(), key=lambda kv: (kv[0] == "TOTAL", kv[0])))


def kill_table(trials: list) -> dict[str, dict[str, int]]:
    """Per kind of kill: kills, and the checks that failed after them."""
    table: dict[str, dict[str, int]] = {}
    for t in trials:
        for k in t.kills:
            for key in (k.kind, "TOTAL"):
                row = table.setdefault(
                    key, dict.fromkeys(("kills", "ok", "traceback", "hang", "orphan", "unclear"), 0)
                )
                row["kills"] += 1
                row[k.outcome] += 1
    return dict(sorted(table.items(), key=lambda kv: (kv[0] == "TOTAL", kv[0])))


def _print_table(title: str, table: dict, columns: tuple) -> None:
    print(f"\n{title}")
    width = max([len(k) for k in table] + [10])
    print(f"{'':{width}}  " + "  ".join(f"{c:>9}" for c in columns))
    for key, row in table.items():
        print(f"{key:{width}}  " + "  ".join(f"{row[c]:>9}" for c in columns))


def main(argv: list[str] | None = None) -> int:
    """Run the campaign; return 0 when nothing failed."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=16, help="seed of the inputs and kill moments")
    p.add_argument("--inputs", type=int, help="hostile inputs (default 700; --quick 40)")
    p.add_argument("--kills", type=int, help="kills (default 170; --quick 6)")
    p.add_argument("--out", type=Path, default=Path("campaign-out"), help="logs and summary")
    p.add_argument("--jobs", type=int, default=2, help="cases run at the same time (default 2)")
    p.add_argument("--quick", action="store_true", help="a smoke run: 40 inputs, 6 kills")
    p.add_argument("--keep", action="store_true", help="keep the directories of passing cases")
    args = p.parse_args(argv)
    inputs = args.inputs if args.inputs is not None else (40 if args.quick else 700)
    kills = args.kills if args.kills is not None else (6 if args.quick else 170)
    out = args.out.resolve()
    work = out / "work"
    remove_tree(work)
    work.mkdir(parents=True)
    for name in ("cases.jsonl", "kills.jsonl", "summary.json"):
        (out / name).unlink(missing_ok=True)
    t0 = time.monotonic()
    cases = build(work, args.seed, inputs)
    t_build = time.monotonic() - t0
    print(
        f"built {len(cases)} inputs in {t_build:.0f} s; running them, {args.jobs} at a time",
        file=sys.stderr,
    )
    records = run_inputs(cases, args.jobs, out / "cases.jsonl", args.keep)
    t_inputs = time.monotonic() - t0
    print(f"inputs done in {t_inputs:.0f} s; {kills} kills", file=sys.stderr)
    trials = run_kills(work, args.seed, kills, args.jobs, out / "kills.jsonl") if kills else []
    wall = time.monotonic() - t0

    inputs_table = tabulate(records)
    kills_table = kill_table(trials)
    reps = {"trials": len(trials), "replications_compared": 0}
    for key in ("lost", "added", "duplicated", "changed", "events_changed", "files_differ"):
        reps[key] = sum(max(0, t.counts.get(key, 0)) for t in trials)
    reps["replications_compared"] = len(trials) * campaign_kills.N
    reps["trials_failed"] = sum(campaign_kills.outcome(t) != "ok" for t in trials)
    failures = sum(inputs_table.get("TOTAL", {}).get(c, 0) for c in FAILURES)
    failures += sum(kills_table.get("TOTAL", {}).get(c, 0) for c in FAILURES)
    failures += reps["trials_failed"]
    summary = {
        "seed": args.seed,
        "inputs": inputs_table,
        "kills": kills_table,
        "kill_results": reps,
        "seconds": {
            "build": round(t_build, 1),
            "inputs": round(t_inputs - t_build, 1),
            "kills": round(wall - t_inputs, 1),
            "total": round(wall, 1),
        },
        "jobs": args.jobs,
        "failures": failures,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    _print_table("inputs (outcome per case)", inputs_table, COLUMNS)
    _print_table(
        "kills (outcome per signal)",
        kills_table,
        ("kills", "ok", "traceback", "hang", "orphan", "unclear"),
    )
    print(
        f"\nkill trials: {reps['trials']} runs finished after their kills, "
        f"{reps['replications_compared']} replications compared with the reference: "
        f"{reps['lost']} lost, {reps['duplicated']} duplicated, {reps['changed']} changed, "
        f"{reps['events_changed']} with changed events, {reps['files_differ']} chunk files "
        f"not bit-identical; {reps['trials_failed']} trials failed"
    )
    print(
        f"wall time {wall:.0f} s (build {t_build:.0f} s, inputs {t_inputs - t_build:.0f} s, "
        f"kills {wall - t_inputs:.0f} s) with {args.jobs} jobs; failures: {failures}"
    )
    print(f"logs: {out}/summary.json, cases.jsonl, kills.jsonl")
    if not args.keep and failures == 0:
        remove_tree(work)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
