"""Every rbgia module imports, and the package's import graph has no cycle (issue 9).

The graph is read from the source (``ast``), so imports inside functions (the lazy ones)
count as edges too: a cycle hidden behind a lazy import is still a cycle between rooms.
Imports under ``if TYPE_CHECKING:`` are left out (they never run).
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PKG = "rbgia"
ROOT = Path(__file__).resolve().parents[1] / PKG


def module_files(root: Path, pkg: str) -> dict[str, Path]:
    """``{dotted module name: file}`` for every module of the package at ``root``."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join([pkg, *parts])] = path
    return out


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes inside ``if TYPE_CHECKING:`` blocks."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else None
            if name == "TYPE_CHECKING":
                for child in node.body:
                    skip.update(id(n) for n in ast.walk(child))
    return skip


def imports_of(name: str, path: Path, modules: set[str]) -> set[str]:
    """Modules of the package that module ``name`` (file ``path``) imports, anywhere in its body."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skip = _type_checking_nodes(tree)
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rpartition(".")[0]
    found: set[str] = set()

    def add(target: str) -> None:
        # "a.b.c" may name a module or an attribute of one: keep the longest module prefix
        parts = target.split(".")
        for i in range(len(parts), 0, -1):
            cand = ".".join(parts[:i])
            if cand in modules:
                found.add(cand)
                return

    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            subs = {f"{mod}.{alias.name}" for alias in node.names} & modules  # `from . import data`
            found.update(subs)
            if len(subs) < len(node.names):
                add(mod)
    # a module's own packages are initialised before it anyway: no edge
    return {m for m in found if m != name and not name.startswith(m + ".")}


def import_graph(root: Path = ROOT, pkg: str = PKG) -> dict[str, set[str]]:
    """``{module: modules of the package it imports}``."""
    files = module_files(root, pkg)
    names = set(files)
    return {name: imports_of(name, path, names) for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as ``[a, b, ..., a]``, or None when the graph is acyclic (iterative DFS)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in sorted(graph):
        if state.get(start):
            continue
        path: list[str] = [start]
        stack = [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None


def test_import_graph_is_acyclic():
    graph = import_graph()
    assert f"{PKG}.data" in graph and f"{PKG}.sequence" in graph
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle in {PKG}: {' -> '.join(cycle)}"


def test_sequence_is_a_leaf_and_structure_does_not_import_data():
    graph = import_graph()
    assert graph[f"{PKG}.sequence"] <= {f"{PKG}.errors"}
    assert f"{PKG}.data" not in graph[f"{PKG}.structure"]


def test_cycle_detector_names_the_cycle(tmp_path):
    """The check can fail: a toy package with a lazy (function-level) cycle is caught and named."""
    pkg = tmp_path / "toy"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import f\n")
    (pkg / "b.py").write_text("def f():\n    from . import c\n    return c\n")
    (pkg / "c.py").write_text(
        "import toy.a\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import d\n"
    )
    (pkg / "d.py").write_text("from .c import x\n")
    graph = import_graph(pkg, "toy")
    assert graph["toy.b"] == {"toy.c"} and graph["toy.c"] == {"toy.a"}  # the TYPE_CHECKING import is no edge
    assert find_cycle(graph) == ["toy.a", "toy.b", "toy.c", "toy.a"]
    assert find_cycle({"x": {"y"}, "y": set()}) is None


@pytest.mark.slow  # imports TensorFlow (seconds)
@pytest.mark.parametrize("name", sorted(module_files(ROOT, PKG)))
def test_every_module_imports(name):
    importlib.import_module(name)
