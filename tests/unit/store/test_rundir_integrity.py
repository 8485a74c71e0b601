"""Regression tests for run-directory defects found by the fuzz tests (test_fuzz_cli.py)."""

from __future__ import annotations

import json
import logging
import math
import shutil

import pandas as pd
import pytest
from conftest import SMALL_YAML
from fuzz_support import run_cli

import sim
from sim.store.layout import CHUNK_CONFIG_KEY, CHUNK_SEED_KEY

CHUNK = "chunk-000000002-000000004"


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    cfg = sim.load_config(SMALL_YAML, ["run.horizon_days=60"])
    out = tmp_path_factory.mktemp("ref") / "run"
    return sim.run(cfg, replications=6, seed=9, executor="serial", out=out, chunk_size=2)


@pytest.fixture
def copy(reference, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(reference.path, out)
    return out


def _resume(run_dir):
    return run_cli(["resume", run_dir, "--executor", "serial", "-q"])


def test_chunks_carry_their_seed_and_config_hash(reference):
    import pyarrow.parquet as pq

    for table in ("replications", "events"):
        meta = pq.read_metadata(reference.path / table / f"{CHUNK}.parquet").metadata
        assert meta[CHUNK_SEED_KEY.encode()] == b"9"
        assert meta[CHUNK_CONFIG_KEY.encode()] == reference.manifest["config_hash"].encode()


def test_edited_manifest_seed_is_refused(copy):
    """Before: resume recomputed missing chunks with the edited seed and mixed two runs."""
    man = json.loads((copy / "manifest.json").read_text())
    man["seed"] = 0
    (copy / "manifest.json").write_text(json.dumps(man))
    (copy / "events" / f"{CHUNK}.parquet").unlink()
    rc, _, err = _resume(copy)
    assert rc == 2 and "computed with seed 9, but manifest.json says 0" in err


def test_chunk_without_events_is_computed_again(copy, reference):
    """Before: a chunk whose events file was lost counted as done; its events were gone."""
    (copy / "events" / f"{CHUNK}.parquet").unlink()
    rc, _, err = run_cli(["losses", copy])
    assert rc == 2 and "lack their files" in err
    assert _resume(copy)[0] == 0
    pd.testing.assert_frame_equal(sim.load_run(copy).events, reference.events, check_exact=True)


def test_foreign_chunk_is_refused(copy):
    """Before: losses crashed on duplicate replication indices."""
    shutil.copy(
        copy / "replications" / f"{CHUNK}.parquet",
        copy / "replications" / "chunk-000000010-000000012.parquet",
    )
    for argv in (["losses", copy], ["resume", copy, "--executor", "serial", "-q"]):
        rc, _, err = run_cli(argv)
        assert rc == 2 and "not a chunk of this run" in err


def test_damaged_chunk_is_refused_by_readers_and_recomputed_by_resume(copy, reference, caplog):
    """Before: resume refused a truncated chunk; now it names it and computes it again."""
    path = copy / "replications" / f"{CHUNK}.parquet"
    path.write_bytes(path.read_bytes()[:50])
    rc, _, err = run_cli(["losses", copy])
    assert rc == 2 and "damaged chunk file" in err and str(path) in err
    assert f"corridor-sim resume {copy}" in err
    with caplog.at_level(logging.WARNING, logger="corridor_sim"):
        assert _resume(copy)[0] == 0
    assert f"{path}: " in caplog.text and f"computing {CHUNK} again" in caplog.text
    assert path.read_bytes() == (reference.path / "replications" / path.name).read_bytes()


def test_stale_temporary_files_are_removed_on_resume(copy):
    stale = copy / "replications" / f".{CHUNK}.parquet.abc123.tmp"
    stale.write_bytes(b"half a file")
    assert _resume(copy)[0] == 0
    assert not stale.exists()


def test_unfinished_run_is_not_summarised(copy):
    """Before: summary of a run without summary.json crashed with FileNotFoundError."""
    (copy / "summary.json").unlink()
    man = json.loads((copy / "manifest.json").read_text())
    man["status"] = "interrupted"
    (copy / "manifest.json").write_text(json.dumps(man))
    for command in ("summary", "losses", "plot", "report"):
        rc, _, err = run_cli([command, copy])
        assert rc == 2 and "did not finish" in err, (command, err)


def test_table_folder_that_is_a_file_is_refused(copy):
    """Before: resume failed with a traceback-free but misleading 'cannot write ... File exists'."""
    shutil.rmtree(copy / "events")
    (copy / "events").write_text("x")
    rc, _, err = _resume(copy)
    assert rc == 2 and "events: must be a directory inside the run directory" in err


# ------------------------------------------------------------- checksums (issue 16, item 3)

FIRST = "chunk-000000000-000000002"


def _offsets(size: int) -> list[int]:
    """Fixed flip positions: both magic numbers, the footer length, 40 spread over the file."""
    spread = range(5, size - 8, max(1, (size - 13) // 40))
    return sorted({0, 1, 2, 3, *spread, *range(size - 8, size)})


@pytest.mark.parametrize("table", ["replications", "events"])
def test_every_one_byte_flip_is_detected(copy, reference, table):
    """Before: of these 53 flips in a replications (events) chunk, 16 (17) were refused, 13 (13)
    ended in tracebacks and 3 (2) gave silently different data; now every flip is refused."""
    path = copy / table / f"{CHUNK}.parquet"
    original = path.read_bytes()
    offsets = _offsets(len(original))
    assert len(offsets) >= 40
    detected = 0
    for offset in offsets:
        damaged = bytearray(original)
        damaged[offset] ^= 0x01
        path.write_bytes(bytes(damaged))
        for read in (
            lambda: sim.load_run(copy, finished=True),
            lambda: getattr(sim.load_run(copy), table),
        ):
            with pytest.raises(sim.InputError) as err:
                read()
            message = err.value.render()
            assert str(path) in message and "corridor-sim resume" in message, message
        detected += 1
    path.write_bytes(original)
    assert detected == len(offsets)
    pd.testing.assert_frame_equal(
        getattr(sim.load_run(copy, finished=True), table),
        getattr(reference, table),
        check_exact=True,
    )


def test_flipped_chunk_is_recomputed_by_resume_and_losses_then_work(copy, reference):
    """Before: some flips made losses and resume disagree (a dead loop) or crash."""
    path = copy / "events" / f"{CHUNK}.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))
    before = run_cli(["losses", copy])
    assert before[0] == 2 and str(path) in before[2]
    assert _resume(copy)[0] == 0
    assert path.read_bytes() == (reference.path / "events" / path.name).read_bytes()
    assert run_cli(["losses", copy])[0] == 0


def test_chunk_copied_over_another_is_refused_then_recomputed(copy, reference):
    """Before: a chunk copied over another of the same run was accepted (duplicate indices)."""
    for table in ("replications", "events"):
        shutil.copy(copy / table / f"{FIRST}.parquet", copy / table / f"{CHUNK}.parquet")
    rc, _, err = run_cli(["losses", copy])
    assert rc == 2 and "damaged chunk file" in err and CHUNK in err
    assert _resume(copy)[0] == 0
    pd.testing.assert_frame_equal(
        sim.load_run(copy, finished=True).replications, reference.replications, check_exact=True
    )


def test_changed_summary_is_refused_then_written_again_by_resume(copy, reference, caplog):
    """Before: a changed number in summary.json was printed by `summary` and `report`, and a
    resume of the complete run kept it (found by scripts/hostile_campaign.py)."""
    path = copy / "summary.json"
    original = path.read_bytes()
    summary = json.loads(original)
    summary["metrics"]["revenue_loss_usd"]["mean"] *= 10
    path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    for command in ("summary", "report"):
        rc, out, err = run_cli([command, copy])
        assert rc == 2 and out == "", (command, out)
        assert f"error: {path}: damaged summary" in err and f"resume {copy}" in err, err
    with pytest.raises(sim.InputError, match="damaged summary"):
        sim.load_run(copy).summary()
    with caplog.at_level(logging.WARNING, logger="corridor_sim"):
        assert _resume(copy)[0] == 0
    assert f"{path}: damaged" in caplog.text
    assert path.read_bytes() == original
    assert run_cli(["summary", copy])[0] == 0
    assert _resume(copy)[2] == ""  # complete again: nothing to do


def test_changed_config_is_not_used_by_readers(copy):
    """Before: a changed horizon in config.resolved.yaml was used by losses (its year bounds)
    and printed by summary as the run's (found by scripts/hostile_campaign.py)."""
    path = copy / "config.resolved.yaml"
    path.write_text(path.read_text().replace("horizon_days: 60.0", "horizon_days: 61.0"))
    rc, out, err = run_cli(["losses", copy])
    assert rc == 2 and out == "" and err.startswith(f"error: {path}: not the config"), err
    with pytest.raises(sim.InputError, match="config_hash in manifest.json"):
        _ = sim.load_run(copy).config
    rc, out, _ = run_cli(["summary", copy])  # the summary needs no config: it leaves it out
    assert rc == 0 and "61 days" not in out and "60 days" not in out
    assert "revenue_loss_usd" in out


def _strip_checksums(run_dir):
    """Make the manifest look like one written before checksums existed."""
    man = json.loads((run_dir / "manifest.json").read_text())
    for entry in man["chunks"].values():
        entry.pop("sha256")
    man.pop("summary_sha256")
    (run_dir / "manifest.json").write_text(json.dumps(man))
    return man


def _rewrite_chunk(run_dir, name, frame):
    """Replace a replications chunk with ``frame``, keeping its seed and config metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = run_dir / "replications" / f"{name}.parquet"
    meta = pq.read_metadata(path).metadata
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table.replace_schema_metadata({**table.schema.metadata, **meta}), path)


def test_manifest_without_checksums_still_loads(copy, reference):
    man = _strip_checksums(copy)
    res = sim.load_run(copy, finished=True)
    pd.testing.assert_frame_equal(res.replications, reference.replications, check_exact=True)
    assert run_cli(["losses", copy])[0] == 0
    # Resuming the complete run changes nothing, not even to add checksums.
    assert _resume(copy)[0] == 0
    assert json.loads((copy / "manifest.json").read_text()) == man


@pytest.mark.parametrize(
    "change, expected",
    [
        ("duplicate", "holds replication 0 2 times"),
        ("truncate", "1 rows, but the chunk reported 2"),
        ("foreign", "holds replications 0 to 1 (2), expected replications 2 to 3"),
    ],
)
def test_manifest_without_checksums_refuses_duplicated_or_truncated_chunks(
    copy, reference, change, expected
):
    """Before: a chunk with repeated, missing or foreign replication indices was accepted."""
    _strip_checksums(copy)
    reps = reference.replications
    if change == "duplicate":
        frame = reps[reps["replication"] == 0]
        frame = pd.concat([frame, frame])
    elif change == "truncate":
        frame = reps[reps["replication"] == 2]
    else:
        frame = reps[reps["replication"] < 2]
    _rewrite_chunk(copy, CHUNK, frame.reset_index(drop=True))
    for command in ("losses", "summary"):
        rc, _, err = run_cli([command, copy])
        assert rc == 2 and expected in err and CHUNK in err, err
    # A resume computes the chunk again and records checksums from then on.
    assert _resume(copy)[0] == 0
    res = sim.load_run(copy, finished=True)
    pd.testing.assert_frame_equal(res.replications, reference.replications, check_exact=True)
    assert all("sha256" in c for c in res.manifest["chunks"].values())


# ------------------------------------------------------- runs without results (item 4)


def test_run_in_which_every_replication_failed_gives_clear_errors(tmp_path, monkeypatch):
    """Before: losses, plot and report ended with tracebacks (KeyError on empty tables)."""

    def broken(self, seed=None, replication=0, timeseries=None):
        raise RuntimeError("always")

    monkeypatch.setattr(sim.Model, "simulate", broken)
    out = tmp_path / "failed"
    argv = ["run", SMALL_YAML, "-n", "3", "--chunk-size", "2", "--executor", "serial", "-q"]
    assert run_cli([*argv, "--out", out])[0] == 1
    for command in ("losses", "plot", "report", "summary"):
        rc, stdout, err = run_cli([command, out])
        assert rc == 2 and "every replication of this run failed" in err, (command, err)
        assert "Traceback" not in stdout + err
    assert not (out / "tables").exists() and not (out / "figures").exists()


def _strict(text):
    def refuse(name):
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def test_summary_of_one_replication_is_strict_json(tmp_path):
    """Before: summary.json held NaN literals (CI of one value), which is not JSON."""
    cfg = sim.load_config(SMALL_YAML, ["run.horizon_days=60"])
    res = sim.run(cfg, replications=1, seed=9, executor="serial", out=tmp_path / "one")
    summary = _strict((res.path / "summary.json").read_text())
    stats = summary["metrics"]["revenue_loss_usd"]
    assert stats["n"] == 1 and stats["ci95_half"] is None and stats["std"] == 0
    _strict((res.path / "manifest.json").read_text())
    assert run_cli(["summary", res.path])[0] == 0
    assert math.isnan(res.summary().loc["revenue_loss_usd", "ci95_half"])
