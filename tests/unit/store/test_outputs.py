"""Commands write only files they own: no link, device or foreign file is ever replaced.

Issue 16, items 4 and 5: writes renamed over any target (``calibrate --out /dev/null`` as root
replaced the device; a symlinked target was replaced), symlinked ``tables/``, ``figures/`` and
``scenarios/<name>`` led writes out of their directory, ``criticality``'s default output escaped
``runs/``, and ``experiment``, ``criticality`` and ``calibrate`` replaced files of the user.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from conftest import ROOT, SMALL_YAML
from fuzz_support import run_cli

from sim.base.errors import OutputError
from sim.store.layout import atomic_write_bytes
from sim.store.outputs import MARKER

CATALOG = ROOT / "seeds" / "disruption_events.csv"
SHORT = ["--set", "run.horizon_days=40"]


def _one_error(result: tuple[int, str, str], *fragments: str) -> str:
    rc, out, err = result
    assert rc == 2, err
    assert out == "" and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def _tree(root: Path) -> dict[str, bytes | str]:
    """Every entry under ``root``: file contents, or the kind of a non-file."""
    out: dict[str, bytes | str] = {}
    for p in sorted(root.rglob("*")):
        mode = os.lstat(p).st_mode
        key = str(p.relative_to(root))
        if stat.S_ISREG(mode):
            out[key] = p.read_bytes()
        elif stat.S_ISLNK(mode):
            out[key] = f"link -> {os.readlink(p)}"
        else:
            out[key] = stat.filemode(mode)[0]
    return out


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "run"
    argv = ["run", SMALL_YAML, "-n", 2, "--executor", "serial", "-q", "--out", out, *SHORT]
    assert run_cli(argv)[0] == 0
    return out


@pytest.fixture
def run_copy(finished_run, tmp_path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(finished_run, copy, symlinks=True)
    return copy


# --------------------------------------------------------------------------- non-regular targets


@pytest.mark.parametrize("kind", ["symlink", "fifo", "directory", "device"])
def test_atomic_write_never_replaces_a_non_regular_file(tmp_path, kind):
    target = tmp_path / "target"
    real = tmp_path / "real.txt"
    real.write_bytes(b"keep")
    if kind == "symlink":
        target.symlink_to(real)
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "directory":
        target.mkdir()
    else:
        try:
            os.mknod(target, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # like /dev/null
        except PermissionError:
            pytest.skip("creating a device node needs root")
    before = os.lstat(target).st_mode
    with pytest.raises(OutputError, match="refusing to replace it"):
        atomic_write_bytes(target, b"new")
    assert os.lstat(target).st_mode == before and real.read_bytes() == b"keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real.txt", "target"]


@pytest.mark.parametrize("kind", ["fifo", "symlink", "device"])
def test_calibrate_out_must_be_a_regular_file(tmp_path, kind):
    target = tmp_path / "fitted.yaml"
    real = tmp_path / "real.yaml"
    real.write_bytes(b"# Hazards FITTED by `corridor-sim calibrate` and mine\n")
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "symlink":
        target.symlink_to(real)
    else:
        try:
            os.mknod(target, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        except PermissionError:
            pytest.skip("creating a device node needs root")
    before = _tree(tmp_path)
    result = run_cli(["calibrate", CATALOG, "--out", target, "--no-report"])
    _one_error(result, str(target), "not a regular file")
    assert _tree(tmp_path) == before


def test_symlinked_tables_folder_is_refused(run_copy, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (run_copy / "tables").symlink_to(elsewhere)
    _one_error(run_cli(["losses", run_copy]), f"{run_copy / 'tables'}: must be a directory")
    assert list(elsewhere.iterdir()) == []


def test_symlinked_figures_folder_is_refused(run_copy, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (run_copy / "figures").symlink_to(elsewhere)
    _one_error(run_cli(["plot", run_copy]), f"{run_copy / 'figures'}: must be a directory")
    assert list(elsewhere.iterdir()) == []


def test_losses_checks_every_table_before_writing_any(run_copy, tmp_path):
    real = tmp_path / "mine.csv"
    real.write_text("mine")
    (run_copy / "tables").mkdir()
    (run_copy / "tables" / "oep.csv").symlink_to(real)
    before = _tree(run_copy)
    _one_error(run_cli(["losses", run_copy]), "oep.csv", "symbolic link")
    assert _tree(run_copy) == before and real.read_text() == "mine"


def test_report_and_plot_never_replace_a_symlink(run_copy, tmp_path):
    real = tmp_path / "mine.html"
    real.write_text("mine")
    (run_copy / "report.html").symlink_to(real)
    (run_copy / "figures").mkdir()
    (run_copy / "figures" / "convergence.svg").symlink_to(real)
    before = _tree(run_copy)
    _one_error(run_cli(["report", run_copy]), "report.html", "symbolic link")
    _one_error(run_cli(["plot", run_copy]), "convergence.svg", "symbolic link")
    assert _tree(run_copy) == before and real.read_text() == "mine"


def test_losses_plot_and_report_run_twice_on_their_own_outputs(run_copy):
    for _ in range(2):
        for command in ("losses", "plot", "report"):
            rc, _, err = run_cli([command, run_copy])
            assert rc == 0, (command, err)


# --------------------------------------------------------------------------- experiments


def _experiment(root: Path) -> Path:
    (root / "short.yaml").write_text(
        SMALL_YAML.read_text().replace("horizon_days: 365", "horizon_days: 40")
    )
    path = root / "exp.yaml"
    path.write_text(
        "name: t\nbase: short.yaml\nreplications: 2\nseed: 4\nmetrics: [revenue_loss_usd]\n"
        "scenarios:\n  bigger: {set: [storages.port_tank.capacity_mt=0.3]}\n"
    )
    return path


def _exp_cli(exp: Path, out: Path, *extra) -> tuple[int, str, str]:
    return run_cli(["experiment", exp, "--out", out, "--executor", "serial", "-q", *extra])


def test_experiment_refuses_a_directory_with_foreign_files(tmp_path):
    exp = _experiment(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "comparison.csv").write_text("my own table")
    (out / "notes.txt").write_text("mine")
    before = _tree(out)
    _one_error(_exp_cli(exp, out), str(out), "did not write", "notes.txt")
    assert _tree(out) == before


def test_experiment_reruns_on_its_own_output(tmp_path):
    exp = _experiment(tmp_path)
    out = tmp_path / "out"
    assert _exp_cli(exp, out)[0] == 0
    assert (out / MARKER).is_file()
    first = (out / "comparison.csv").read_bytes()
    rc, _, err = _exp_cli(exp, out, "--resume")
    assert rc == 0, err
    assert (out / "comparison.csv").read_bytes() == first
    assert run_cli(["report", out])[0] == 0


def test_experiment_refuses_a_symlinked_scenario_directory(tmp_path):
    exp = _experiment(tmp_path)
    out = tmp_path / "out"
    assert _exp_cli(exp, out)[0] == 0
    elsewhere = tmp_path / "elsewhere"
    shutil.move(out / "scenarios" / "bigger", elsewhere)
    (out / "scenarios" / "bigger").symlink_to(elsewhere)
    before = _tree(elsewhere)
    line = _one_error(_exp_cli(exp, out, "--resume"), str(out / "scenarios" / "bigger"))
    assert "must be a directory" in line
    assert _tree(elsewhere) == before


def test_experiment_refuses_another_commands_output(tmp_path):
    exp = _experiment(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / MARKER).write_text('{"kind": "criticality"}')
    _one_error(_exp_cli(exp, out), "corridor-sim criticality")


# --------------------------------------------------------------------------- criticality


def _criticality(config: Path, *extra) -> tuple[int, str, str]:
    return run_cli(["criticality", config, "--executor", "serial", "-q", *SHORT, *extra])


def test_criticality_default_output_is_named_after_the_config_file(tmp_path, monkeypatch):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    cfg = work / "evil.yaml"
    cfg.write_text(SMALL_YAML.read_text().replace("name: small", 'name: "../../x"'))
    rc, _, err = _criticality(cfg)
    assert rc == 0, err
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_dir()) == [
        "a",
        "b",
        "evil-criticality",
        "runs",
    ]
    assert (work / "runs" / "evil-criticality" / "criticality.csv").is_file()


def test_criticality_refuses_foreign_files_and_reruns_on_its_own(tmp_path):
    out = tmp_path / "crit"
    out.mkdir()
    (out / "criticality.csv").write_text("mine")
    _one_error(_criticality(SMALL_YAML, "--out", out), str(out), "did not write")
    assert (out / "criticality.csv").read_text() == "mine"
    fresh = tmp_path / "fresh"
    for _ in range(2):
        rc, _, err = _criticality(SMALL_YAML, "--out", fresh)
        assert rc == 0, err
    assert (fresh / MARKER).is_file()


# --------------------------------------------------------------------------- calibrate


def test_calibrate_refuses_to_replace_a_file_it_did_not_write(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_bytes(SMALL_YAML.read_bytes())
    _one_error(
        run_cli(["calibrate", CATALOG, "--out", mine, "--no-report"]),
        str(mine),
        "not written by corridor-sim",
    )
    assert mine.read_bytes() == SMALL_YAML.read_bytes()


def test_calibrate_report_dir_with_foreign_files_is_refused(tmp_path):
    out = tmp_path / "fitted.yaml"
    report = tmp_path / "report"
    report.mkdir()
    (report / "report.html").write_text("mine")
    (report / "todo.txt").write_text("mine")
    _one_error(run_cli(["calibrate", CATALOG, "--out", out, "--report-dir", report]), str(report))
    assert not out.exists() and (report / "report.html").read_text() == "mine"


def test_calibrate_reruns_on_its_own_outputs(tmp_path):
    out = tmp_path / "fitted.yaml"
    for _ in range(2):
        rc, _, err = run_cli(["calibrate", CATALOG, "--out", out])
        assert rc == 0, err
    assert (tmp_path / "fitted_report" / "report.html").is_file()
    assert (tmp_path / "fitted_report" / MARKER).is_file()
