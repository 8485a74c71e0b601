"""The package layout of issue 15, checked on the source: imports, sizes, SimPy internals, I/O.

Four rules, each a pure function of a source tree (so each is also run on a small synthetic
tree below, to show it catches what it should and cannot pass vacuously):

* :func:`import_violations` -- every ``import sim...`` / ``from sim... import`` anywhere in a
  module (top level, inside functions, under ``if TYPE_CHECKING:``) must go to a layer the
  importing layer may use (:data:`ALLOWED`); nothing inside ``sim/`` may import the top ``sim``
  package; and the module graph has no cycle (runtime imports only: an import under
  ``if TYPE_CHECKING:`` counts for the layer table but never runs, so it cannot close a cycle).
* :func:`size_violations` -- no module over :data:`MAX_MODULE_LINES` lines, no function over
  :data:`MAX_FUNCTION_LINES` lines, with the named exemptions below.
* :func:`simpy_private_violations` -- SimPy's underscore attributes (``env._queue``,
  ``env._now``, ``event._ok``, ...) are used only in ``sim/model/clock.py``.
* :func:`analysis_io_violations` -- ``sim/analysis`` makes no file-I/O call (``open``,
  ``read_parquet``, ``to_csv``, ``write_text``, ...): it computes tables from tables.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SIM = ROOT / "sim"

# The import contract of docs/architecture.md (issue 15): for each layer, the layers it may
# import besides itself. A layer is a package directly under sim/ (sim/model/ -> "model"), or
# one of the single modules sim/results.py ("results") and sim/api.py ("api"). sim/__init__.py
# ("__init__") exposes the public API lazily from sim.api only; sim/__main__.py ("__main__")
# hands over to the command line. Keep this table and the one in docs/architecture.md equal.
_BELOW_CLI = {
    "base",
    "config",
    "model",
    "replication",
    "analysis",
    "figures",
    "store",
    "batch",
    "results",
    "studies",
    "report",
    "calibration",
    "replay",
}
ALLOWED: dict[str, set[str]] = {
    "base": set(),
    "config": {"base"},
    "model": {"base", "config"},
    "replication": {"base", "config", "model"},
    "analysis": {"base"},  # pure table functions: no file I/O
    "figures": {"base", "analysis"},
    "store": {"base", "config"},
    "batch": {"base", "config", "model", "replication", "store"},
    "results": {"base", "config", "store", "analysis", "figures"},
    "studies": {
        "base",
        "config",
        "model",
        "replication",
        "analysis",
        "store",
        "batch",
        "results",
    },
    "report": {"base", "config", "analysis", "figures", "store", "results", "studies"},
    "calibration": {"base", "config", "figures", "report", "store"},
    "replay": {
        "base",
        "config",
        "figures",
        "report",
        "store",
        "model",
        "replication",
        "calibration",
    },
    "api": set(_BELOW_CLI),  # every layer but the command line
    "cli": _BELOW_CLI | {"api"},  # everything: the command line is a client of the API
    "__init__": {"api"},  # lazily, from sim.api only
    "__main__": {"cli"},
}
SINGLE_MODULE_LAYERS = {"results", "api", "__init__", "__main__"}

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
# Declarative tables, exempt from the module size rule (paths relative to the repository root).
LONG_MODULES_EXEMPT = {"sim/base/columns.py"}
# The command line's argparse builders (one add_argument per option), exempt from the function
# size rule wherever they live under sim/cli/.
LONG_FUNCTIONS_EXEMPT = {"build_parser", "add_parsers"}

# The one module allowed to touch SimPy's internals (repository-relative path).
SIMPY_INTERNALS_MODULE = "sim/model/clock.py"
# Underscore attributes of SimPy objects (simpy 4.1: Environment, Event, Process, Resource,
# Condition, ...). Extended at test time by the names read from the installed simpy's source.
SIMPY_PRIVATE_BASE = {
    "_active_proc",
    "_capacity",
    "_defused",
    "_delay",
    "_eid",
    "_env",
    "_generator",
    "_now",
    "_ok",
    "_queue",
    "_target",
    "_value",
}


# ---------------------------------------------------------------------------------------------
# Reading a tree


@dataclass(frozen=True)
class Import:
    """One ``sim...`` import statement found in a module."""

    module: str  # the importing module, e.g. "sim.model.engine"
    target: str  # the imported module, e.g. "sim.config.models" (or "sim" for the top package)
    line: int
    type_only: bool  # under ``if TYPE_CHECKING:``
    top_package: bool  # ``import sim`` or ``from sim import ...``


def _module_name(path: Path, root: Path) -> str:
    """Dotted name of a file: ``sim/model/engine.py`` -> ``sim.model.engine``.

    ``sim/config/__init__.py`` -> ``sim.config``; ``root`` is the package directory.
    """
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path) -> dict[str, Path]:
    """Every module of the package at ``root`` by dotted name."""
    return {_module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def layer_of(module: str) -> str | None:
    """The layer of a dotted module name inside ``sim`` (None for an unknown one-file module)."""
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    name = parts[1]
    if len(parts) == 2 and name in SINGLE_MODULE_LAYERS:
        return name
    if name in ALLOWED and name not in SINGLE_MODULE_LAYERS:
        return name
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve_from(node: ast.ImportFrom, module: str, is_package: bool) -> str | None:
    """The absolute module name of ``from X import ...`` (relative imports resolved)."""
    if node.level == 0:
        return node.module
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(path: Path, module: str, known: set[str]) -> list[Import]:
    """Every import of ``sim`` or a ``sim.*`` module in one file, wherever it stands."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[Import] = []

    def visit(node: ast.AST, type_only: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, type_only)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.name
                if name == "sim" or name.startswith("sim."):
                    found.append(Import(module, name, node.lineno, type_only, name == "sim"))
        elif isinstance(node, ast.ImportFrom):
            source = _resolve_from(node, module, is_package)
            if source == "sim" or (source or "").startswith("sim."):
                if source == "sim":
                    found.append(Import(module, "sim", node.lineno, type_only, True))
                else:
                    for alias in node.names:  # ``from sim.config import models``: a submodule
                        sub = f"{source}.{alias.name}"
                        target = sub if sub in known else source
                        found.append(Import(module, target, node.lineno, type_only, False))
        for child in ast.iter_child_nodes(node):
            visit(child, type_only)

    visit(tree, False)
    return list(dict.fromkeys(found))  # one per (target, line): ``from m import a, b`` is one


def all_imports(root: Path) -> list[Import]:
    """Every ``sim`` import of every module under ``root`` (the ``sim`` package directory)."""
    mods = modules(root)
    known = set(mods)
    return [imp for name, path in mods.items() for imp in imports_of(path, name, known)]


# ---------------------------------------------------------------------------------------------
# Rule 1: the import contract


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected component with a cycle, as one cycle through it (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0

    def strongconnect(v: str) -> None:  # recursion depth <= number of modules (~150)
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in edges.get(v, ()):
                components.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            strongconnect(v)
    return [_cycle_in(comp, edges) for comp in sorted(components)]


def _cycle_in(component: list[str], edges: dict[str, set[str]]) -> list[str]:
    """One concrete cycle a -> b -> ... -> a inside a strongly connected component."""
    members = set(component)
    start = component[0]
    # breadth-first search from start back to start, inside the component
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(edges.get(v, set()) & members):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [*reversed(path), start]
                if w not in parent:
                    parent[w] = v
                    nxt.append(w)
        frontier = nxt
    return [start, start]  # pragma: no cover - a component always has a cycle


def import_violations(root: Path) -> list[str]:
    """Every import that breaks the contract, every top-package import, every cycle."""
    problems: list[str] = []
    mods = modules(root)
    rel = {name: path.relative_to(root.parent).as_posix() for name, path in mods.items()}
    for name in mods:
        if layer_of(name) is None:
            problems.append(f"{rel[name]}: module in no layer (not in the table)")
    edges: dict[str, set[str]] = {name: set() for name in mods}
    for imp in all_imports(root):
        where = f"{rel[imp.module]}:{imp.line}"
        kind = " (type-checking only)" if imp.type_only else ""
        src = layer_of(imp.module)
        if imp.top_package:
            problems.append(f"{where}: imports the top package `sim`{kind} ({imp.module})")
            continue
        if not imp.type_only and imp.target in mods and imp.target != imp.module:
            edges[imp.module].add(imp.target)
        dst = layer_of(imp.target)
        if src is None or dst is None or src == dst:
            continue
        if dst not in ALLOWED.get(src, set()):
            problems.append(f"{where}: {src} -> {dst}{kind}: {imp.module} imports {imp.target}")
    for cycle in find_cycles(edges):
        problems.append("import cycle: " + " -> ".join(cycle))
    return problems


# ---------------------------------------------------------------------------------------------
# Rule 2: sizes


def size_violations(root: Path) -> list[str]:
    """Every module over MAX_MODULE_LINES lines and every function over MAX_FUNCTION_LINES."""
    problems: list[str] = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent).as_posix()
        text = path.read_text(encoding="utf-8")
        n = len(text.splitlines())
        if n > MAX_MODULE_LINES and rel not in LONG_MODULES_EXEMPT:
            problems.append(f"{rel}: module of {n} lines (max {MAX_MODULE_LINES})")
        in_cli = rel.startswith(f"{root.name}/cli/")
        for node in ast.walk(ast.parse(text, filename=str(path))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            length = node.end_lineno - node.lineno + 1
            if length <= MAX_FUNCTION_LINES:
                continue
            if in_cli and node.name in LONG_FUNCTIONS_EXEMPT:
                continue
            problems.append(
                f"{rel}:{node.lineno}: function {node.name} of {length} lines "
                f"(max {MAX_FUNCTION_LINES})"
            )
    return problems


# ---------------------------------------------------------------------------------------------
# Rule 3: SimPy internals in one place


def simpy_private_names() -> set[str]:
    """SimPy's underscore attribute names: the base list plus those in the installed source."""
    names = set(SIMPY_PRIVATE_BASE)
    try:
        import simpy
    except ImportError:  # pragma: no cover - simpy is a dependency
        return names
    for path in Path(simpy.__file__).parent.rglob("*.py"):
        found = re.findall(r"\.(_[a-z][a-z0-9_]*)\b", path.read_text(encoding="utf-8"))
        names.update(found)
    return names


def _simpy_classes(trees: dict[str, ast.Module]) -> set[str]:
    """Names of classes under the tree that derive from a SimPy class (directly or not)."""
    simpy_names: set[str] = set()  # names bound to simpy objects by ``from simpy... import X``
    bases: dict[str, list[ast.expr]] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "simpy":
                simpy_names.update(a.asname or a.name for a in node.names)
            elif isinstance(node, ast.ClassDef):
                bases.setdefault(node.name, []).extend(node.bases)

    def from_simpy(expr: ast.expr) -> bool:
        while isinstance(expr, ast.Attribute):
            expr = expr.value
        return isinstance(expr, ast.Name) and (expr.id == "simpy" or expr.id in simpy_names)

    found = {name for name, bs in bases.items() if any(from_simpy(b) for b in bs)}
    changed = True
    while changed:  # a class deriving from one found already
        changed = False
        for name, bs in bases.items():
            if name not in found and any(isinstance(b, ast.Name) and b.id in found for b in bs):
                found.add(name)
                changed = True
    return found


def simpy_private_violations(root: Path, private: set[str] | None = None) -> list[str]:
    """Every use of a SimPy underscore attribute outside SIMPY_INTERNALS_MODULE.

    ``obj._now`` is flagged for any ``obj`` but ``self``/``cls``; ``self._ok`` only inside a
    class deriving from a SimPy class (other classes may well have a ``_value`` of their own).
    ``getattr``/``hasattr``/``setattr`` with such a name as a string count too.
    """
    private = simpy_private_names() if private is None else private
    paths = sorted(root.rglob("*.py"))
    trees = {
        p.relative_to(root.parent).as_posix(): ast.parse(p.read_text(encoding="utf-8"))
        for p in paths
    }
    simpy_classes = _simpy_classes(trees)
    problems: list[str] = []
    for rel, tree in trees.items():
        if rel == SIMPY_INTERNALS_MODULE:
            continue

        def visit(node: ast.AST, in_simpy_class: bool, rel: str = rel) -> None:
            if isinstance(node, ast.ClassDef):
                in_simpy_class = node.name in simpy_classes
            if isinstance(node, ast.Attribute) and node.attr in private:
                receiver = node.value
                is_self = isinstance(receiver, ast.Name) and receiver.id in ("self", "cls")
                if not is_self or in_simpy_class:
                    problems.append(f"{rel}:{node.lineno}: {ast.unparse(node)}")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "hasattr", "setattr", "delattr")
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and node.args[1].value in private
            ):
                problems.append(f"{rel}:{node.lineno}: {ast.unparse(node)}")
            for child in ast.iter_child_nodes(node):
                visit(child, in_simpy_class)

        visit(tree, False)
    return problems


# ---------------------------------------------------------------------------------------------
# Rule 4: analysis is pure table functions

# Calls that read or write files (builtins, pathlib, pandas, matplotlib, os, shutil).
IO_CALLS = {
    "open",
    "read_parquet",
    "read_csv",
    "read_json",
    "read_table",
    "to_parquet",
    "to_csv",
    "to_json",
    "write_text",
    "write_bytes",
    "read_text",
    "read_bytes",
    "savefig",
    "mkdir",
    "unlink",
    "rmtree",
    "glob",
    "rglob",
    "iterdir",
    "makedirs",
    "remove",
    "listdir",
}


def analysis_io_violations(root: Path) -> list[str]:
    """Every file-I/O call in the analysis layer (it computes tables from tables only)."""
    problems = []
    for path in sorted((root / "analysis").rglob("*.py")):
        rel = path.relative_to(root.parent).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in IO_CALLS:
                problems.append(f"{rel}:{node.lineno}: {ast.unparse(func)}(...)")
    return problems


# ---------------------------------------------------------------------------------------------
# The rules on the real tree


def _fail(title: str, problems: list[str]) -> None:
    if problems:
        pytest.fail(f"{len(problems)} {title}:\n  " + "\n  ".join(problems), pytrace=False)


def test_import_contract() -> None:
    _fail("import-contract violations (see docs/architecture.md)", import_violations(SIM))


def test_sizes() -> None:
    _fail("size violations (modules <= 400 lines, functions <= 60)", size_violations(SIM))


def test_simpy_internals_only_in_clock() -> None:
    _fail(
        f"uses of SimPy internals outside {SIMPY_INTERNALS_MODULE}",
        simpy_private_violations(SIM),
    )


def test_analysis_does_no_file_io() -> None:
    _fail("file-I/O calls in sim/analysis (pure table functions)", analysis_io_violations(SIM))


def test_table_matches_architecture_doc() -> None:
    """docs/architecture.md states the same table as ALLOWED, one row per layer."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = {}
    for match in re.finditer(r"^\| `([\w_]+)` \| ([^|]*) \|", text, flags=re.MULTILINE):
        rows[match.group(1)] = set(re.findall(r"`(\w+)`", match.group(2)))
    for layer, allowed in ALLOWED.items():
        if layer in ("cli", "api"):
            continue  # "anything below" / "anything" in prose
        assert rows.get(layer) == allowed, f"docs/architecture.md row of {layer}"


# ---------------------------------------------------------------------------------------------
# The rules on synthetic trees: each must catch what it is for


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "sim"
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for pkg in {p.parent for p in root.rglob("*.py")} | {root}:
        (pkg / "__init__.py").touch()
    return root


def test_import_check_catches_violations(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "sim/base/units.py": "X = 1\n",
            "sim/config/models.py": "from sim.base.units import X\n",  # allowed
            # upward import, lazily inside a function
            "sim/model/engine.py": "def f():\n    from sim.batch.worker import W\n    return W\n",
            "sim/batch/worker.py": "import sim.config.models\nW = 1\n",  # allowed
            "sim/analysis/a.py": "import sim\n",  # the top package
            "sim/figures/f.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from sim.results import RunResult\n"  # type-only
            ),
            "sim/results.py": "from sim.figures import f\n",  # allowed: a submodule
            # a cycle inside one package: a -> b -> c -> a
            "sim/store/a.py": "from sim.store.b import B\nA = 1\n",
            "sim/store/b.py": "from sim.store import c\nB = 1\n",
            "sim/store/c.py": "def g():\n    import sim.store.a\n",
            "sim/stray.py": "",  # in no layer
            "sim/__init__.py": "def __getattr__(n):\n    from sim.api import run\n    return run\n",
        },
    )
    problems = import_violations(root)
    text = "\n".join(problems)
    assert "engine.py:2: model -> batch: sim.model.engine imports sim.batch.worker" in text
    assert "sim/analysis/a.py:1: imports the top package `sim`" in text
    assert "figures -> results (type-checking only)" in text
    assert "import cycle: sim.store.a -> sim.store.b -> sim.store.c -> sim.store.a" in text
    assert "sim/stray.py: module in no layer" in text
    assert "sim/config/models.py" not in text and "sim/batch/worker.py" not in text
    assert "sim/results.py" not in text and "sim/__init__.py" not in text
    assert len(problems) == 5, text


def test_import_check_cycle_through_packages_and_type_only(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            # a cycle through a package's __init__: config -> config.loader -> config
            "sim/config/__init__.py": "from sim.config.loader import load\n",
            "sim/config/loader.py": "from sim.config import paths\nfrom sim.config import V\n",
            "sim/config/paths.py": "",
            # a type-only back reference is no cycle
            "sim/model/engine.py": "from sim.model.reactions import R\n",
            "sim/model/reactions.py": (
                "from typing import TYPE_CHECKING\nR = 1\n"
                "if TYPE_CHECKING:\n    from sim.model.engine import E\n"
            ),
        },
    )
    problems = import_violations(root)
    assert problems == ["import cycle: sim.config -> sim.config.loader -> sim.config"]


def test_import_check_clean_tree(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "sim/base/units.py": "X = 1\n",
            "sim/api.py": "from sim.results import R\n",
            "sim/cli/main.py": "from sim.replay.run import replay\nfrom sim.api import R\n",
            "sim/replay/run.py": "from sim.calibration.fit import fit\n",
            "sim/calibration/fit.py": "from sim.report.html import page\n",
            "sim/report/html.py": "from sim.studies.x import y\n",
            "sim/studies/x.py": "from sim.results import R\n",
            "sim/results.py": "from sim.figures.run import plots\nR = 1\n",
            "sim/figures/run.py": "from sim.analysis.losses import ylt\n",
            "sim/analysis/losses.py": "from sim.base.units import X\n",
            "sim/__main__.py": "from sim.cli.main import main\n",
        },
    )
    assert import_violations(root) == []


def test_size_check_catches_violations(tmp_path: Path) -> None:
    long_body = "".join(f"    x{i} = {i}\n" for i in range(60))  # def line + 60 = 61 lines
    short_body = "".join(f"    x{i} = {i}\n" for i in range(59))  # 60 lines: allowed
    filler = "".join(f"Y{i} = {i}\n" for i in range(401))
    root = _tree(
        tmp_path,
        {
            "sim/model/big.py": filler,
            "sim/base/columns.py": filler,  # exempt: a declarative table
            "sim/model/f.py": f"def long():\n{long_body}\ndef short():\n{short_body}",
            "sim/cli/main.py": f"def build_parser():\n{long_body}\ndef run():\n{long_body}",
            "sim/store/p.py": f"def build_parser():\n{long_body}",  # exempt only in sim/cli
        },
    )
    problems = size_violations(root)
    assert problems == [
        "sim/cli/main.py:63: function run of 61 lines (max 60)",
        "sim/model/big.py: module of 401 lines (max 400)",
        "sim/model/f.py:1: function long of 61 lines (max 60)",
        "sim/store/p.py:1: function build_parser of 61 lines (max 60)",
    ]


def test_simpy_check_catches_violations(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "sim/model/clock.py": "def now(env):\n    return env._now\n",  # the one place
            "sim/model/tankers.py": "def f(env):\n    return env._now\n",
            "sim/model/berths.py": (
                "import simpy\nfrom simpy.events import Event\n"
                "class Granted(Event):\n    def __init__(self):\n        self._ok = True\n"
                "class Sub(Granted):\n    def f(self):\n        return self._value\n"
                "class Berths(simpy.Resource):\n    def f(self):\n        return self._env\n"
            ),
            "sim/model/engine.py": (
                "class FlowEngine:\n    def __init__(self):\n        self._target = 0\n"
                "def g(ev):\n    return hasattr(ev, '_defused')\n"
            ),
            "sim/cli/entry.py": "import os\nos._exit(0)\n",
        },
    )
    problems = simpy_private_violations(root)
    assert problems == [
        "sim/model/berths.py:5: self._ok",
        "sim/model/berths.py:8: self._value",
        "sim/model/berths.py:11: self._env",
        "sim/model/engine.py:5: hasattr(ev, '_defused')",
        "sim/model/tankers.py:2: env._now",
    ]


def test_analysis_io_check_catches_violations(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "sim/analysis/losses.py": (
                "import pandas as pd\n"
                "def ylt(df):\n    return df.groupby('k').sum()\n"
                "def save(df, path):\n    df.to_parquet(path)\n"
                "def load(path):\n    with open(path) as f:\n        return f.read()\n"
            ),
            "sim/store/layout.py": "def w(p):\n    p.write_text('x')\n",  # not analysis
        },
    )
    assert analysis_io_violations(root) == [
        "sim/analysis/losses.py:5: df.to_parquet(...)",
        "sim/analysis/losses.py:7: open(...)",
    ]


def test_top_package_names_are_the_apis() -> None:
    """``import sim`` offers exactly the names of :mod:`sim.api`, and each is the same object.

    ``sim/__init__.py`` lists them itself so that ``import sim`` stays light; this keeps the two
    lists from drifting apart.
    """
    import sim
    import sim.api

    assert sorted(sim.__all__) == sorted(sim.api.__all__)
    for name in sim.api.__all__:
        assert getattr(sim, name) is getattr(sim.api, name), name
