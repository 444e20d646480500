"""Thin notebooks (issue 9.6): every code cell of every notebook is short, the first code cell is the one
``parameters`` cell, and no notebook runs another notebook (Snakemake is the one engine).

Read from the notebook files only (no kernel): seconds.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
MAX_LINES = 15
MAX_PARAMETER_LINES = 24  # a parameters cell: one declaration a line
# a notebook that runs notebooks: papermill, nbclient, rbgia.book's runners, a subprocess
RUNS_NOTEBOOKS = re.compile(
    r"\bpapermill\b|\bnbclient\b|\bsubprocess\b|\bbook\s*\.\s*(execute|run_one|run)\s*\(|\brun_one\b"
    r"|from\s+rbgia\.book\s+import\s+[^\n]*\b(execute|run)\b|\bos\.system\s*\("
)


def _code_cells(path: Path) -> list[dict]:
    nb = json.loads(path.read_text())
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _source(cell: dict) -> str:
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


def _params(path: Path):
    return pytest.param(path, id=path.stem)


@pytest.mark.parametrize("path", [_params(p) for p in NOTEBOOKS])
def test_code_cells_are_short(path):
    """Code cells hold calls, not logic; the parameters cell is declarations, one per line with its comment, and
    has a limit of its own."""
    def limit(cell: dict) -> int:
        return MAX_PARAMETER_LINES if "parameters" in (cell.get("metadata", {}).get("tags") or []) else MAX_LINES

    long = {i: len(_source(c).splitlines()) for i, c in enumerate(_code_cells(path))
            if len(_source(c).splitlines()) > limit(c)}
    assert not long, f"{path.name}: code cells (index: lines) over {MAX_LINES} lines: {long}; move code to rbgia"


@pytest.mark.parametrize("path", [_params(p) for p in NOTEBOOKS])
def test_no_notebook_runs_another(path):
    found = [(i, m.group(0)) for i, c in enumerate(_code_cells(path)) for m in RUNS_NOTEBOOKS.finditer(_source(c))]
    assert not found, f"{path.name} runs notebooks itself ({found}); declare the records in `needs:` instead"


@pytest.mark.parametrize("path", [_params(p) for p in NOTEBOOKS])
def test_one_parameters_cell_first(path):
    cells = _code_cells(path)
    tagged = [i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert tagged == [0], f"{path.name}: code cells tagged 'parameters': {tagged}; tag exactly the first code cell"


def test_the_checks_can_fail(tmp_path):
    """The three checks catch a long cell, a notebook run and a second parameters cell."""
    bad = {"cells": [
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "x = 1"},
        {"cell_type": "code", "metadata": {}, "source": ["a = 1\n"] * (MAX_LINES + 1)},
        {"cell_type": "code", "metadata": {}, "source": "import papermill\nbook.execute(src, out, {})"},
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "y = 2"},
    ]}
    path = tmp_path / "99_bad.ipynb"
    path.write_text(json.dumps(bad))
    for check in (test_code_cells_are_short, test_no_notebook_runs_another, test_one_parameters_cell_first):
        with pytest.raises(AssertionError):
            check(path)
    assert NOTEBOOKS, "no notebooks found under notebooks/"
    long_params = {"cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]},
                              "source": ["p = 1\n"] * (MAX_PARAMETER_LINES + 1)}]}
    path.write_text(json.dumps(long_params))
    with pytest.raises(AssertionError, match="over"):  # the parameters cell has a limit too
        test_code_cells_are_short(path)
