"""rbgia.results (record paths, atomic JSON, collect) and rbgia.book (papermill runner,
parameters, resumability, failures, skipped chapters, the Jupyter Book build) on toy
notebooks; the real notebooks are exercised in test_notebooks.py."""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from rbgia import book, results
from rbgia.errors import DataError

REPO = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- results


def test_config_tag_and_paths(tmp_path):
    assert results.config_tag() == "log-seq-paper-s0"
    assert results.config_tag("clip", "phime", "public", 3) == "clip-phime-public-s3"
    p = results.results_path(tmp_path, "SIMRBFOX1", "02_residualbind", {"normalization": "clip"})
    assert p == tmp_path / "SIMRBFOX1" / "02_residualbind.clip-seq-paper-s0.json"
    assert results.results_path(tmp_path, None, "notebooks/03_benchmark.ipynb") == tmp_path / "_all" / "03_benchmark.json"
    with pytest.raises(DataError, match="file name"):
        results.config_tag("log-x")
    with pytest.raises(DataError, match="unknown keys"):
        results.results_path(tmp_path, "E", "02_residualbind", {"epochs": 3})
    with pytest.raises(DataError, match="folder name"):
        results.results_path(tmp_path, "../x", "02_residualbind")


def test_write_read_collect(tmp_path):
    for exp, r in (("B", 0.5), ("A", 0.7)):
        for norm in ("log", "clip"):
            cfg = results.config_dict(normalization=norm)
            results.write_results(tmp_path, exp, "02_residualbind", {"test_pearson": np.float32(r), "curve": [1, 2],
                                                                     "baselines": {"ridge": {"test_pearson": 0.1}}}, cfg)
    results.write_results(tmp_path, "A", "04_ism", {"n": 3})
    rec = results.read_results(tmp_path, "A", "02_residualbind", {"normalization": "clip"})
    assert rec["experiment"] == "A" and rec["config"]["normalization"] == "clip"
    assert math.isclose(rec["test_pearson"], 0.7, rel_tol=1e-6)
    df = results.collect(tmp_path, "02_residualbind")
    assert len(df) == 4
    assert list(df.columns[:6]) == ["experiment", "notebook", "normalization", "inputs", "variant", "seed"]
    assert "baselines.ridge.test_pearson" in df.columns and "curve" not in df.columns
    assert sorted(df["experiment"].unique()) == ["A", "B"]
    assert len(results.collect(tmp_path, "04_ism")) == 1
    assert results.collect(tmp_path, "99_none").empty
    with pytest.raises(DataError, match="NaN"):
        results.write_results(tmp_path, "A", "04_ism", {"r": float("nan")})
    with pytest.raises(DataError, match="run notebooks/05_gia.ipynb"):
        results.read_results(tmp_path, "A", "05_gia")
    # no temporary files left behind by the atomic writes
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()]


# --------------------------------------------------------------------------- toy book


def _notebook(path: Path, code: str, params: str, title: str = "# Toy") -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    cell = nbformat.v4.new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(title), cell, nbformat.v4.new_code_cell(code)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture
def toy(tmp_path):
    """A repository-like folder: two notebooks, a toc, parameters and a config."""
    root = tmp_path / "repo"
    (root / "book").mkdir(parents=True)
    (root / "book" / "intro.md").write_text("# Intro\n")
    shutil.copy(REPO / "_config.yml", root / "_config.yml")
    shutil.copy(REPO / "book" / "references.bib", root / "book" / "references.bib")
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n"
        "  - file: notebooks/executed/01_a\n  - file: notebooks/executed/02_b\n"
    )
    (root / "book" / "parameters.yml").write_text(
        "defaults:\n  data_dir: data/simulated\n  results_dir: results\n  unused: 1\n"
        "notebooks:\n  01_a:\n    n: 3\n"
        "  02_b:\n    requires: ['{shared}/data/real']\n    data_dir: '{shared}/data/real'\n"
    )
    _notebook(
        root / "notebooks" / "01_a.ipynb",
        "import os, sys, json, pathlib\n"
        "import matplotlib.pyplot as plt\n"
        "pathlib.Path('out.json').write_text(json.dumps({'exe': sys.executable, 'cwd': os.getcwd(), "
        "'n': n, 'data_dir': data_dir}))\n"
        "fig, ax = plt.subplots(); ax.plot([0, 1]); ax.set_xlabel('x'); ax.set_ylabel('y'); plt.show()",
        "data_dir = 'x'\nresults_dir = 'r'\nn = 1",
        "# Chapter A",
    )
    _notebook(root / "notebooks" / "02_b.ipynb", "print(data_dir)", "data_dir = 'x'", "# Chapter B")
    return root


def test_parameters_and_toc(toy, tmp_path):
    assert book.toc_notebooks(toy) == ["01_a", "02_b"]
    spec = book.load_parameters(toy, data_dir="other", shared_dir=tmp_path / "sh")
    assert spec["01_a"]["parameters"]["data_dir"] == "other"
    assert spec["02_b"]["parameters"]["data_dir"] == f"{tmp_path / 'sh'}/data/real"
    assert spec["02_b"]["requires"] == [f"{tmp_path / 'sh'}/data/real"]
    params = book.notebook_parameters("01_a", toy / "notebooks" / "01_a.ipynb", spec)
    assert params == {"data_dir": "other", "results_dir": "results", "n": 3}  # 'unused' not declared: dropped


@pytest.mark.slow
def test_run_resume_skip_fail(toy, tmp_path, capsys):
    shared = tmp_path / "shared"
    runs = book.run(toy, shared_dir=shared)
    assert [r.status for r in runs] == ["executed", "skipped"]
    out = json.loads((toy / "out.json").read_text())
    # the kernel is this interpreter (the venv's), run from the repository root
    assert Path(out["exe"]).resolve() == Path(sys.executable).resolve()
    assert Path(out["cwd"]).resolve() == toy.resolve()
    assert out["n"] == 3 and out["data_dir"] == "data/simulated"
    skipped = nbformat.read(toy / "notebooks" / "executed" / "02_b.ipynb", as_version=4)
    assert skipped.cells[0].source == "# Chapter B" and "not built" in skipped.cells[1].source
    assert "SKIP 02_b" in capsys.readouterr().out
    assert json.loads((toy / "notebooks" / "executed" / "timings.json").read_text())["01_a"] > 0

    # resumable: nothing changed -> cached; new parameters or --force -> executed again
    assert book.run(toy, shared_dir=shared, only=["01_a"])[0].status == "cached"
    assert book.run(toy, shared_dir=shared, only=["01_a"], data_dir="elsewhere")[0].status == "executed"
    assert book.run(toy, shared_dir=shared, only=["01_a"], data_dir="elsewhere", force=True)[0].status == "executed"

    # the real data arrives -> the chapter runs
    (shared / "data" / "real").mkdir(parents=True)
    assert book.run(toy, shared_dir=shared, only=["02_b"])[0].status == "executed"

    # a failing cell names the notebook and cell, keeps the partial copy, keeps the old output
    _notebook(toy / "notebooks" / "01_a.ipynb", "x = 1\nraise ValueError('boom')", "data_dir = 'x'\nn = 1")
    with pytest.raises(book.BookError, match=r"01_a.ipynb failed in cell \d+ .*ValueError: boom.*partial") as err:
        book.run(toy, shared_dir=shared, only=["01_a"])
    assert (toy / "notebooks" / "executed" / "01_a.partial.ipynb").is_file()
    assert "partial" in str(err.value)
    with pytest.raises(book.BookError, match="not chapters"):
        book.run(toy, only=["03_c"])


def test_bad_configuration(toy):
    (toy / "book" / "parameters.yml").write_text("notebooks:\n  01_a:\n    typo: 1\n")
    with pytest.raises(book.BookError, match=r"\['typo'\].*does not declare"):
        book.run(toy)
    (toy / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: notebooks/executed/07_x\n")
    with pytest.raises(book.BookError, match="07_x.*does not exist"):
        book.run(toy)
    with pytest.raises(book.BookError, match="run `python -m rbgia.book run` first"):
        book.build(toy)


def test_cli_reports_failure(toy, capsys):
    (toy / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: notebooks/executed/07_x\n")
    assert book.main(["run", "--root", str(toy)]) == 1
    assert "ERROR" in capsys.readouterr().err


@pytest.mark.slow
def test_build_checks_pages(toy, tmp_path):
    book.run(toy, shared_dir=tmp_path / "shared")
    html = book.build(toy)
    page = (html / "notebooks" / "executed" / "01_a.html").read_text()
    assert "<img" in page and "Chapter A" in page
    assert "not built" in (html / "notebooks" / "executed" / "02_b.html").read_text()
    assert book.check_html(toy) == []
    # an executed copy with an error output is reported
    nb = nbformat.read(toy / "notebooks" / "executed" / "01_a.ipynb", as_version=4)
    nb.cells[-1].outputs.append(nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[]))
    nbformat.write(nb, toy / "notebooks" / "executed" / "01_a.ipynb")
    assert any("ValueError" in p for p in book.check_html(toy))
    # a missing page is reported
    (html / "notebooks" / "executed" / "02_b.html").unlink()
    assert any("02_b.html missing" in p for p in book.check_html(toy))


# --------------------------------------------------------------------------- the repo's book


def test_repo_book_is_consistent():
    """Every chapter in _toc.yml has a notebook, book parameters and a tiny test run."""
    from test_notebooks import NOTEBOOK_PARAMS

    names = book.toc_notebooks(REPO)
    assert names, "_toc.yml lists no notebooks"
    spec = book.load_parameters(REPO)
    for name in names:
        src = REPO / "notebooks" / f"{name}.ipynb"
        assert src.is_file(), f"{src} missing"
        assert name in spec, f"book/parameters.yml has no entry for {name}"
        assert name in NOTEBOOK_PARAMS, f"tests/test_notebooks.py NOTEBOOK_PARAMS has no entry for {name}"
        book.notebook_parameters(name, src, spec)  # declared names only
        nb = nbformat.read(src, as_version=4)
        assert nb.metadata["kernelspec"]["name"] == "python3" and nb.metadata["language_info"]["name"] == "python"
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert "parameters" in code[0].metadata.get("tags", []), f"{name}: first code cell not tagged parameters"
        for c in code:
            assert not c.get("outputs") and c.get("execution_count") is None, f"{name} is committed with outputs"
            assert not any(ln.lstrip().startswith(("def ", "class ")) for ln in c.source.splitlines()), (
                f"{name} defines a function; move it into the library"
            )
    for page in ("intro", "methods", "rerun", "references"):
        assert (REPO / "book" / f"{page}.md").is_file()
