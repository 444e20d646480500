"""The tree's three layers (issue 17): the library (``rbgia/``), the chapters' back-ends (``rbgia/chapters/``)
and the book's orchestration (``rbgia/book/``).

- The library never imports the book layer (read from the import graph, lazy imports included, as the
  acyclicity test does) and never names a notebook stem (``"05_gia"``) in its source.
- The chapters never import the orchestration: a notebook checks its parameters itself.
- No function in the package is longer than :data:`MAX_FUNCTION_LINES`, counted from ``def`` to its last
  line, signature and docstring included (this test is the rule; ruff has no such rule).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from test_imports import ROOT, import_graph, module_files

BOOK_LAYER = ("rbgia.book", "rbgia.chapters")
MAX_FUNCTION_LINES = 80
STEM = re.compile(r"\b\d\d_[a-z][a-z0-9_]*\b")  # a notebook stem: 05_gia, 10_ground_truth


def _in(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def library_modules() -> list[str]:
    return sorted(m for m in module_files(ROOT, "rbgia") if not _in(m, BOOK_LAYER))


def test_the_layers_exist_and_the_library_is_most_of_the_package():
    modules = module_files(ROOT, "rbgia")
    assert {"rbgia.book", "rbgia.chapters", "rbgia.gia", "rbgia.session", "rbgia.train"} <= set(modules)
    assert len(library_modules()) >= 20


def test_the_library_never_imports_the_book_layer():
    graph = import_graph()
    bad = {m: sorted(t for t in graph[m] if _in(t, BOOK_LAYER)) for m in library_modules()}
    bad = {m: t for m, t in bad.items() if t}
    assert not bad, f"library modules import the book layer: {bad}"


def test_the_chapters_never_import_the_orchestration():
    graph = import_graph()
    bad = {m: sorted(t for t in graph[m] if _in(t, ("rbgia.book",))) for m in graph if _in(m, ("rbgia.chapters",))}
    bad = {m: t for m, t in bad.items() if t}
    assert not bad, f"chapter back-ends import rbgia.book: {bad}"


def _strings(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append((node.lineno, node.value))
    return out


def test_the_library_names_no_notebook_stem():
    files = module_files(ROOT, "rbgia")
    found = [f"{files[m].name}:{line}: {hit}" for m in library_modules()
             for line, text in _strings(files[m]) for hit in STEM.findall(text)]
    assert not found, "library modules name notebook stems (the book layer's business):\n" + "\n".join(found)


def test_the_stem_check_can_fail(tmp_path):
    fake = tmp_path / "mod.py"
    fake.write_text('TRAIN_NOTEBOOK = "02_residualbind"\nOK = "rnacompete2013_sample"\n')
    assert [hit for _, text in _strings(fake) for hit in STEM.findall(text)] == ["02_residualbind"]


def long_functions(root: Path = ROOT, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """``file:line name (n lines)`` of every function longer than ``limit`` lines."""
    out = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > limit:
                    out.append(f"{path.relative_to(root.parent)}:{node.lineno} {node.name} ({n} lines)")
    return out


def test_no_function_is_longer_than_the_limit():
    assert long_functions() == [], f"split these into named steps (at most {MAX_FUNCTION_LINES} lines each)"


@pytest.mark.parametrize("lines,expect", [(80, []), (81, ["toy/f.py:1 f (81 lines)"])])
def test_the_length_check_can_fail(tmp_path, lines, expect):
    (tmp_path / "toy").mkdir()
    body = "".join("    x = 1\n" for _ in range(lines - 1))
    (tmp_path / "toy" / "f.py").write_text(f"def f():\n{body}")
    assert long_functions(tmp_path / "toy") == expect


def test_the_public_surface_resolves_lazily():
    import subprocess
    import sys

    code = ("import sys, rbgia; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules; "
            "from rbgia import GIA, TrainConfig, gia, load_rnacompete; "
            "assert gia.GIA is GIA and TrainConfig().tag == 'log-seq-paper-s0'; print(rbgia.__version__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    from importlib.metadata import version

    assert out.stdout.strip() == version("rbgia")
    import rbgia

    for name, module in rbgia.NAMES.items():
        assert getattr(rbgia, name) is getattr(getattr(rbgia, module), name), name
    rooms = {m.split(".")[1] for m in library_modules() if m.count(".") == 1}
    assert set(rbgia.MODULES) == rooms - {"_io", "paths"}  # all but the internal helpers
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = rbgia.nope


def test_every_subpackage_is_installed():
    from setuptools import find_packages

    assert {"rbgia", "rbgia.book", "rbgia.chapters"} <= set(find_packages(str(ROOT.parent), include=["rbgia*"]))
