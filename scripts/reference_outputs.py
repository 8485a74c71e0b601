"""Fingerprint what the tool computes, to check that a refactoring changes no result.

Runs a fixed set of commands through the public CLI and the public Python API (so it works
whatever the package's internal layout), reads every table they write and prints one SHA-256
per table, computed from its column names, dtypes and values (NaN-aware, independent of file
metadata such as the writer's version or timestamps). Two runs of the same code give the same
fingerprints; compare the JSON written before and after a change::

    python scripts/reference_outputs.py --out /tmp/before.json
    ... change the code ...
    python scripts/reference_outputs.py --out /tmp/after.json --compare /tmp/before.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
CONFIG = "configs/kazakhstan.yaml"


def _commands(d: Path) -> list[list[str]]:
    small = "tests/data/small.yaml"
    return [
        ["run", CONFIG, "-n", "40", "--seed", "11", "--workers", "2", "-q", "--out", f"{d}/run"],
        ["losses", f"{d}/run"],
        ["run", small, "-n", "30", "--seed", "5", "--executor", "serial", "-q",
         "--out", f"{d}/small"],
        ["experiment", "configs/experiments/middle_corridor.yaml", "-n", "6", "--seed", "3",
         "--workers", "2", "--out", f"{d}/exp"],
        ["criticality", CONFIG, "--workers", "2", "-q", "--out", f"{d}/crit"],
        ["calibrate", "seeds/disruption_events.csv", "--as-of", "2025-12-31", "--no-report",
         "--out", f"{d}/fitted.yaml"],
        ["replay", CONFIG, "--events", "seeds/replay_2025.csv", "--year", "2025",
         "--out", f"{d}/replay"],
    ]


def table_hash(df: pd.DataFrame) -> str:
    """SHA-256 of a table's column names, dtypes and values (NaN equals NaN)."""
    h = hashlib.sha256()
    h.update(json.dumps([[str(c), str(t)] for c, t in df.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes())
    return h.hexdigest()


def _read(path: Path) -> pd.DataFrame | None:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path)
    return None


def fingerprint(d: Path) -> dict[str, str]:
    """Run the commands into ``d`` and return ``{file or object: hash}``."""
    out: dict[str, str] = {}
    for argv in _commands(d):
        proc = subprocess.run(
            [sys.executable, "-m", "sim", *argv], cwd=ROOT, capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr}")
    for path in sorted(d.rglob("*")):
        df = _read(path) if path.is_file() else None
        if df is not None:
            out[str(path.relative_to(d))] = table_hash(df)
        elif path.name in ("summary.json", "fitted.yaml"):
            out[str(path.relative_to(d))] = _text_hash(path)
    out.update(_api_hashes())
    return out


def _text_hash(path: Path) -> str:
    text = path.read_text()
    if path.suffix == ".json":  # drop what depends on the clock or the machine
        data = json.loads(text)
        for key in ("created", "finished", "elapsed_s", "wall_s", "host", "version"):
            data.pop(key, None)
        text = json.dumps(data, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _api_hashes() -> dict[str, str]:
    sys.path.insert(0, str(ROOT))
    import sim

    out = {}
    for name in ("kazakhstan.yaml", "kazakhstan_2022.yaml"):
        cfg = sim.load_config(ROOT / "configs" / name)
        for seed in (0, 1, 7):
            rep = sim.simulate(cfg, seed=seed)
            for attr in ("summary", "events"):
                out[f"api/{name}/{seed}/{attr}"] = table_hash(getattr(rep, attr))
    return out


def main() -> int:
    """Fingerprint, write the JSON and compare with ``--compare`` (exit 1 on a difference)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="write the fingerprints here")
    ap.add_argument("--compare", type=Path, help="fingerprints to compare with")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        got = fingerprint(Path(tmp))
    args.out.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    print(f"{len(got)} tables fingerprinted -> {args.out}")
    if args.compare is None:
        return 0
    want = json.loads(args.compare.read_text())
    diff = sorted(k for k in want.keys() | got.keys() if want.get(k) != got.get(k))
    for k in diff:
        print(f"DIFFERS: {k}")
    print("identical" if not diff else f"{len(diff)} of {len(want)} differ")
    return 1 if diff else 0


if __name__ == "__main__":
    raise SystemExit(main())
