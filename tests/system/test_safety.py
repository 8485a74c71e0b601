"""Safe by construction: no code from data, safe YAML, outputs only under --out, no path escapes."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import KAZAKHSTAN_YAML, ROOT, SMALL_YAML
from fuzz_support import BOMB, run_cli

from sim.config.paths import ROOTS_ENV
from sim.config.yamlsafe import StrictLoader as _StrictLoader
from sim.store.layout import safe_dir_name

PACKAGE = ROOT / "sim"
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "input", "breakpoint"}
FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "cloudpickle", "marshal", "shelve", "jsonpickle"}
FORBIDDEN_ATTRS = {
    ("yaml", "load"),
    ("yaml", "load_all"),
    ("yaml", "unsafe_load"),
    ("yaml", "full_load"),
    ("yaml", "Loader"),
    ("yaml", "UnsafeLoader"),
    ("yaml", "FullLoader"),
    ("pd", "read_pickle"),
    ("pandas", "read_pickle"),
    ("os", "system"),
    ("os", "popen"),
    ("importlib", "import_module"),
}


SUBPROCESS_ALLOWED = {"screenshot.py"}
"""Modules that may start a program: the report screenshot runs Chromium with an argument list
(never a shell); the rule below still rejects ``shell=`` anywhere."""


def _source_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    allowed = {"subprocess"} if path.name in SUBPROCESS_ALLOWED else set()
    found = []
    for node in ast.walk(tree):
        where = f"{path.name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in FORBIDDEN_CALLS:
                found.append(f"{where}: call to {node.func.id}()")
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if (node.value.id, node.attr) in FORBIDDEN_ATTRS:
                found.append(f"{where}: {node.value.id}.{node.attr}")
        if isinstance(node, ast.Import):
            found += [
                f"{where}: import {a.name}"
                for a in node.names
                if a.name.split(".")[0] in FORBIDDEN_MODULES
            ]
        banned = FORBIDDEN_MODULES | ({"subprocess"} - allowed)
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in banned:
            found.append(f"{where}: from {node.module} import ...")
        if isinstance(node, ast.Import) and any(
            a.name == "subprocess" and a.name in banned for a in node.names
        ):
            found.append(f"{where}: import subprocess")
        if isinstance(node, ast.keyword) and node.arg == "shell":
            if not (isinstance(node.value, ast.Constant) and node.value.value is False):
                found.append(f"{where}: shell=")
        if isinstance(node, ast.keyword) and node.arg == "allow_pickle":
            if not (isinstance(node.value, ast.Constant) and node.value.value is False):
                found.append(f"{where}: allow_pickle")
    return found


def test_package_source_never_executes_or_unpickles_data():
    """No eval/exec/compile, no pickle-like modules, no unsafe YAML, no shell, in sim/."""
    files = _source_files()
    assert len(files) > 20
    offences = [o for f in files for o in _offences(f)]
    assert offences == []


def test_the_source_scan_catches_what_it_looks_for(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import pickle\nimport yaml\nx = eval('1')\ny = yaml.load('a', Loader=yaml.Loader)\n"
    )
    assert len(_offences(bad)) == 4
    shell = tmp_path / "shell.py"
    shell.write_text("import subprocess\nsubprocess.run('ls', shell=True)\n")
    assert [o.split(": ", 1)[1] for o in _offences(shell)] == ["import subprocess", "shell="]


def test_yaml_loader_is_a_safe_loader():
    assert issubclass(_StrictLoader, yaml.SafeLoader)
    assert "tag:yaml.org,2002:python/object/apply" not in _StrictLoader.yaml_constructors
    assert not _StrictLoader.yaml_multi_constructors


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system ['touch {marker}']",
        "!!python/object/new:subprocess.check_output [['touch', '{marker}']]",
        "!!python/name:os.system",
    ],
)
def test_python_tags_are_refused_and_never_run(tmp_path, tag):
    marker = tmp_path / "pwned"
    cfg = tmp_path / "evil.yaml"
    cfg.write_text(SMALL_YAML.read_text() + f"\ndescription: {tag.format(marker=marker)}\n")
    rc, out, err = run_cli(["validate", cfg])
    assert rc == 2 and err.startswith(f"error: {cfg}: description: invalid YAML")
    assert "is not allowed" in err
    assert not marker.exists()


# --------------------------------------------------------------------------- outputs


def _snapshot(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def test_run_writes_only_under_out(tmp_path, monkeypatch):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    before = _snapshot(tmp_path)
    out = tmp_path / "elsewhere" / "run"
    argv = ["run", SMALL_YAML, "-n", 2, "--executor", "serial", "-q", "--out", out]
    assert run_cli(argv + ["--set", "run.horizon_days=30"])[0] == 0
    created = _snapshot(tmp_path) - before
    assert created and all(p == out.parent or out in (p, *p.parents) for p in created)


def test_default_out_dir_cannot_escape_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "evil.yaml"
    cfg.write_text(SMALL_YAML.read_text().replace("name: small", 'name: "../../../escape/x"'))
    argv = ["run", cfg, "-n", 1, "--executor", "serial", "-q", "--set", "run.horizon_days=30"]
    assert run_cli(argv)[0] == 0
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1 and runs[0].name.startswith("escape_x-")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.yaml", "runs"]


@pytest.mark.parametrize(
    "name, expected",
    [("kazakhstan", "kazakhstan"), ("../../x", "x"), ("/etc/passwd", "etc_passwd"), ("..", "run")],
)
def test_safe_dir_name(name, expected):
    assert safe_dir_name(name) == expected


def test_symlinked_table_folder_is_refused(tmp_path):
    out = tmp_path / "run"
    argv = ["run", SMALL_YAML, "-n", 2, "--chunk-size", 1, "--executor", "serial", "-q"]
    argv += ["--set", "run.horizon_days=30", "--out", out]
    assert run_cli(argv)[0] == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "replications" / "chunk-000000001-000000002.parquet").unlink()
    shutil.rmtree(out / "events")
    (out / "events").symlink_to(elsewhere)
    rc, _, err = run_cli(["resume", out, "--executor", "serial", "-q"])
    assert rc == 2 and "events: must be a directory inside the run directory" in err
    assert list(elsewhere.iterdir()) == []


# --------------------------------------------------------------------------- base: paths


def _layout(root: Path) -> Path:
    exp_dir = root / "configs" / "experiments"
    exp_dir.mkdir(parents=True)
    (root / "configs" / "small.yaml").write_bytes(SMALL_YAML.read_bytes())
    return exp_dir


def _experiment(path: Path, base: str) -> Path:
    path.write_text(
        f"name: t\nbase: {base!r}\nreplications: 2\nscenarios:\n"
        "  a: {set: [run.horizon_days=30]}\n"
    )
    return path


@pytest.mark.parametrize("cwd", ["/", "repo", "tmp"])
def test_shipped_experiments_check_from_any_directory(tmp_path, monkeypatch, cwd):
    monkeypatch.chdir({"/": "/", "repo": str(ROOT), "tmp": str(tmp_path)}[cwd])
    for exp in sorted((ROOT / "configs" / "experiments").glob("*.yaml")):
        rc, out, err = run_cli(["experiment", exp, "--check"])
        assert rc == 0 and "valid" in out, err


def test_base_beside_the_experiment_and_in_the_parent_of_experiments(tmp_path):
    exp_dir = _layout(tmp_path)
    (exp_dir / "local.yaml").write_bytes(SMALL_YAML.read_bytes())
    for base in ("local.yaml", "../small.yaml", str(tmp_path / "configs" / "small.yaml")):
        rc, out, err = run_cli(["experiment", _experiment(exp_dir / "e.yaml", base), "--check"])
        assert rc == 0, (base, err)


@pytest.mark.parametrize(
    "base",
    ["../../secret.yaml", "/etc/hostname", "../../../../../../etc/hostname", "link.yaml"],
)
def test_base_outside_the_allowed_root_is_refused(tmp_path, base):
    exp_dir = _layout(tmp_path)
    secret = tmp_path / "secret.yaml"
    secret.write_bytes(SMALL_YAML.read_bytes())
    (exp_dir / "link.yaml").symlink_to(secret)  # a symlink that leads out
    exp = _experiment(exp_dir / "e.yaml", base)
    rc, out, err = run_cli(["experiment", exp, "--check"])
    assert rc == 2 and out == ""
    assert err.startswith(f"error: {exp}: base: ") and "leads outside" in err


def test_parent_is_allowed_only_for_an_experiments_directory(tmp_path):
    other = tmp_path / "configs" / "studies"
    other.mkdir(parents=True)
    (tmp_path / "configs" / "small.yaml").write_bytes(SMALL_YAML.read_bytes())
    rc, _, err = run_cli(["experiment", _experiment(other / "e.yaml", "../small.yaml"), "--check"])
    assert rc == 2 and "leads outside" in err


def test_symlink_inside_the_root_is_followed(tmp_path):
    exp_dir = _layout(tmp_path)
    (exp_dir / "alias.yaml").symlink_to(tmp_path / "configs" / "small.yaml")
    rc, _, err = run_cli(["experiment", _experiment(exp_dir / "e.yaml", "alias.yaml"), "--check"])
    assert rc == 0, err


def test_extra_roots_come_from_the_environment(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "base.yaml").write_bytes(SMALL_YAML.read_bytes())
    exp = _experiment(_layout(tmp_path) / "e.yaml", str(shared / "base.yaml"))
    assert run_cli(["experiment", exp, "--check"])[0] == 2
    monkeypatch.setenv(ROOTS_ENV, str(shared))
    rc, _, err = run_cli(["experiment", exp, "--check"])
    assert rc == 0, err


def test_bad_input_in_a_real_process_exits_2_without_traceback(tmp_path):
    """A few cases through `python -m sim` itself (the in-process fuzzing covers the rest)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(KAZAKHSTAN_YAML.read_bytes().replace(b"horizon_days: 365", b"horizon_days: x"))
    bomb = tmp_path / "bomb.yaml"
    bomb.write_bytes(BOMB)
    cases = [
        (["validate", bad], "run.horizon_days"),
        (["validate", bomb], "alias bomb"),
        (["run", SMALL_YAML, "--chunk-size", "0", "--out", tmp_path / "o"], "--chunk-size"),
        (["resume", tmp_path], "not a run directory"),
    ]
    for argv, fragment in cases:
        proc = subprocess.run(
            [sys.executable, "-m", "sim", *map(str, argv)],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        assert proc.returncode == 2, (argv, proc.stderr)
        assert proc.stdout == "" and "Traceback" not in proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]
    assert not (tmp_path / "o").exists()
