"""The code's shape, checked: no import cycles between newsbeam's modules, short signatures, Beam-free analyst tools.

Read from the source with `ast`, so the checks see every module, imported or not.
"""

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("pipelines", "runtime", "schemas", "transforms", "reporting", "benchmarks")
MAX_PARAMETERS = 6


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(path: Path, known: set[str]) -> set[str]:
    """The project modules `path` imports, at any depth in the file (function-level imports count too)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                out.add(name)
    return out


def test_no_module_imports_one_that_imports_it_back():
    modules = _modules()
    graph = {name: _imports(path, set(modules)) - {name} for name, path in modules.items()}

    def packages_of(name):  # a module also runs its packages' __init__, which must not lead back to it either
        return {name.rsplit(".", k)[0] for k in range(1, name.count(".") + 1)}

    cycles = []
    for start in graph:
        seen, stack = set(), [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start and len(path) > 1 and not packages_of(start) & set(path):
                    cycles.append(" -> ".join(path + [start]))
                elif nxt not in seen and nxt != start:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
    assert not cycles, "\n".join(sorted(set(cycles))[:20])


def test_no_function_takes_more_than_six_parameters_outside_config_constructors():
    too_many = []
    for name, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            args = node.args
            count = len(args.posonlyargs) + len(args.args) + len(args.kwonlyargs)
            count -= bool(args.args and args.args[0].arg in ("self", "cls"))
            # Beam's DoFn.process and on_timer take their state, timers and timestamp as parameters by design.
            beam_params = sum(isinstance(d, ast.Call) for d in args.defaults + args.kw_defaults if d is not None)
            if count - beam_params > MAX_PARAMETERS:
                too_many.append(f"{name}.{node.name}: {count} parameters")
    assert not too_many, "\n".join(too_many)


def test_the_analyst_tools_do_not_import_beam():
    code = (
        "import sys, reporting.kit, reporting.report, pipelines.report, schemas.tables; "
        "print('apache_beam' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
