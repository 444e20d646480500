"""rbgia.chapters.results (record paths, atomic JSON, collect) and rbgia.book (papermill runner,
parameters, resumability, failures, skipped chapters, the Jupyter Book build) on toy
notebooks; the real notebooks are exercised in test_notebooks.py."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from rbgia import book
from rbgia.book import params
from rbgia.chapters import results
from rbgia.config import TrainConfig
from rbgia.errors import DataError

REPO = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- results


def test_config_tag_and_paths(tmp_path):
    assert TrainConfig().tag == "log-seq-paper-s0"
    assert TrainConfig("clip", "phime", "public", 3).tag == "clip-phime-public-s3"
    p = results.results_path(tmp_path, "SIMRBFOX1", "02_residualbind", {"normalization": "clip"})
    assert p == tmp_path / "SIMRBFOX1" / "02_residualbind.clip-seq-paper-s0.json"
    across = results.results_path(tmp_path, None, "notebooks/03_benchmark.ipynb")
    assert across == tmp_path / "_all" / "03_benchmark.json"
    with pytest.raises(DataError, match="file name"):
        TrainConfig(normalization="log-x")
    with pytest.raises(DataError, match="unknown keys"):
        results.results_path(tmp_path, "E", "02_residualbind", {"epochs": 3})
    with pytest.raises(DataError, match="folder name"):
        results.results_path(tmp_path, "../x", "02_residualbind")


def test_write_read_collect(tmp_path):
    for exp, r in (("B", 0.5), ("A", 0.7)):
        for norm in ("log", "clip"):
            cfg = TrainConfig(normalization=norm).as_dict()
            record = {"test_pearson": np.float32(r), "curve": [1, 2], "baselines": {"ridge": {"test_pearson": 0.1}}}
            results.write_results(tmp_path, exp, "02_residualbind", record, cfg)
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


TOY_PARAMETERS = """defaults:
  data_dir: data/simulated
  results_dir: results
  unused: 1
notebooks:
  01_a:
    n: 3
    needs: [rec]
  02_b:
    requires: [data/real]
    data_dir: data/real
jobs:
  rec:
    notebook: 03_job
    experiments: [E1, E2]
    configs: [{normalization: log}, {normalization: clip}]
"""


@pytest.fixture
def toy(tmp_path):
    """A repository-like folder: two chapters, one job notebook, a toc, parameters and a config."""
    root = tmp_path / "repo"
    (root / "book").mkdir(parents=True)
    (root / "book" / "intro.md").write_text("# Intro\n")
    shutil.copy(REPO / "_config.yml", root / "_config.yml")
    shutil.copy(REPO / "book" / "references.bib", root / "book" / "references.bib")
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n"
        "  - file: notebooks/executed/01_a\n  - file: notebooks/executed/02_b\n"
    )
    (root / "book" / "parameters.yml").write_text(TOY_PARAMETERS)
    _notebook(
        root / "notebooks" / "01_a.ipynb",
        "import os, sys, json, pathlib\n"
        "import matplotlib.pyplot as plt\n"
        "records = sorted(p.name for p in pathlib.Path(results_dir).glob('*/rec.*.txt'))\n"
        "pathlib.Path('out.json').write_text(json.dumps({'exe': sys.executable, 'cwd': os.getcwd(), "
        "'n': n, 'data_dir': data_dir, 'records': records}))\n"
        "fig, ax = plt.subplots(); ax.plot([0, 1]); ax.set_xlabel('x'); ax.set_ylabel('y'); plt.show()",
        "data_dir = 'x'\nresults_dir = 'r'\nn = 1",
        "# Chapter A",
    )
    _notebook(root / "notebooks" / "02_b.ipynb", "print(data_dir)", "data_dir = 'x'", "# Chapter B")
    _notebook(
        root / "notebooks" / "03_job.ipynb",
        "import pathlib\nd = pathlib.Path(results_dir, experiment)\nd.mkdir(parents=True, exist_ok=True)\n"
        "(d / f'rec.{config}.txt').write_text(experiment)",
        "results_dir = 'r'\nexperiment = 'E0'\nconfig = 'log-seq-paper-s0'",
        "# A job",
    )
    return root


def test_parameters_and_toc(toy, tmp_path):
    assert book.toc_notebooks(toy) == ["01_a", "02_b"]
    spec = book.load_parameters(toy, data_dir="other")
    assert spec["01_a"]["parameters"]["data_dir"] == "other"
    assert spec["02_b"]["parameters"]["data_dir"] == "data/real" and spec["02_b"]["requires"] == ["data/real"]
    params = book.plan(toy, data_dir="other").chapter("01_a").parameters
    assert params == {"data_dir": "other", "results_dir": "results", "n": 3}  # 'unused' not declared: dropped


def test_plan_jobs_per_experiment_and_config(toy):
    plan = book.plan(toy)
    outputs = sorted(r.output for r in plan.jobs)
    assert outputs == sorted(f"results/{e}/notebooks/03_job.{n}-seq-paper-s0.ipynb"
                             for e in ("E1", "E2") for n in ("log", "clip"))
    job = plan.job("E2", "03_job", "clip-seq-paper-s0")
    assert job.parameters == {"results_dir": "results", "experiment": "E2", "config": "clip-seq-paper-s0"}
    a = plan.chapter("01_a")
    assert sorted(a.needs) == outputs and a.output == "notebooks/executed/01_a.ipynb"
    assert plan.chapter("02_b").requires == ("data/real",)
    over = book.plan(toy, results_dir="elsewhere", overrides={"n": "5"})  # --config strings are read as YAML
    assert over.chapter("01_a").parameters["n"] == 5 and over.jobs[0].output.startswith("elsewhere/")


def test_plan_passes_the_configuration_as_one_tag(toy, tmp_path):
    """Issue 9.4: a job's `configs` entry changes fields of the defaults' `config` tag; the notebook gets one tag."""
    spec = tmp_path / "p.yml"
    spec.write_text("defaults: {config: clip-seq-public-s2}\n"
                    "jobs:\n  j: {notebook: 03_job, experiments: [E1], configs: [{}, {inputs: pu, seed: 0}]}\n")
    plan = book.plan(toy, spec, chapters=[])
    assert [r.parameters["config"] for r in plan.jobs] == ["clip-seq-public-s2", "clip-pu-public-s0"]
    assert [r.output for r in plan.jobs] == [f"results/E1/notebooks/03_job.{t}.ipynb"
                                             for t in ("clip-seq-public-s2", "clip-pu-public-s0")]


def test_plan_errors_name_the_file_and_entry(toy, tmp_path):
    bad = tmp_path / "bad.yml"
    cases = {
        "notebooks:\n  01_a: {n: [1}\n": r"bad\.yml is not valid YAML at line 2",
        "notebook:\n  01_a: {}\n": r"bad\.yml has unknown top-level keys \['notebook'\]",
        "notebooks:\n  01_a: {typo: 1}\n": r"bad\.yml gives 01_a parameters \['typo'\]",
        "notebooks:\n  01_a: {n: ten}\n": r"bad\.yml, 01_a: parameter n = 'ten' \(str\) .*an int",
        "notebooks:\n  01_a: {needs: [nojob]}\n": r"bad\.yml: notebooks\.01_a needs 'nojob'",
        "notebooks:\n  07_x: {}\n": r"bad\.yml: notebooks\.07_x is not a chapter",
        "jobs:\n  j: {notebook: 03_job, experiments: [E1], parameters: {num_backgroud: 7}}\n":
            r"bad\.yml: jobs\.j gives 03_job parameters \['num_backgroud'\]",
        "jobs:\n  j: {notebook: 03_job, experiments: [E1], configs: [{inputs: rna}]}\n":
            r"jobs\.j\.configs: inputs='rna'",
        "jobs:\n  j: {notebook: 03_job, experiments: [E1], needs: [j]}\n": r"jobs\.j needs 'j'",
        "defaults: {config: log-rna-paper-s0}\njobs:\n  j: {notebook: 03_job, experiments: [E1]}\n":
            r"bad\.yml: jobs\.j: config: inputs='rna'",
        "jobs:\n  j: {notebook: 02_b, experiments: [E1], configs: [{inputs: pu}]}\n":
            r"bad\.yml: jobs\.j gives 02_b parameters \['config', 'experiment'\]",
        "jobs:\n  j: {notebook: 03_job, experiments: all, parameters: {data_dir: nowhere}}\n":
            r"jobs\.j reads data_dir 'nowhere', which does not exist",
        "jobs:\n  j: {notebook: 09_none}\n": r"09_none but .*does not exist",
    }
    for text, pattern in cases.items():
        bad.write_text(text)
        with pytest.raises(book.BookError, match=pattern) as err:
            book.plan(toy, bad)
        assert "\n" not in str(err.value) and "parameters.yml" not in str(err.value)


def test_execute_refuses_unknown_parameters_and_hides_parameter_cells(toy, tmp_path):
    src = toy / "notebooks" / "02_b.ipynb"
    # papermill alone runs this with rc 0 and the default data_dir (it only warns)
    with pytest.raises(book.BookError, match=r"unknown parameter data_dri for 02_b\.ipynb.*did you mean data_dir"):
        book.execute(src, tmp_path / "out.ipynb", {"data_dri": "y"}, root=toy)
    assert not (tmp_path / "out.ipynb").exists()
    book.execute(src, tmp_path / "out.ipynb", {"data_dir": "y"}, root=toy)
    nb = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    tagged = {tuple(c.metadata.get("tags", [])) for c in nb.cells if c.cell_type == "code"}
    assert ("parameters", "remove-cell") in tagged and ("injected-parameters", "remove-cell") in tagged
    assert "y" in nb.cells[-1].outputs[0]["text"]


@pytest.mark.slow
def test_run_resume_skip_fail(toy, tmp_path, capsys):
    runs = book.run(toy)
    assert [r.status for r in runs] == ["executed", "skipped"]
    out = json.loads((toy / "out.json").read_text())
    # the kernel is this interpreter (the venv's), run from the repository root
    assert Path(out["exe"]).resolve() == Path(sys.executable).resolve()
    assert Path(out["cwd"]).resolve() == toy.resolve()
    assert out["n"] == 3 and out["data_dir"] == "data/simulated"
    assert out["records"] == ["rec.clip-seq-paper-s0.txt"] * 2 + ["rec.log-seq-paper-s0.txt"] * 2  # jobs ran first
    assert (toy / "results" / "E1" / "notebooks" / "03_job.clip-seq-paper-s0.ipynb").is_file()
    skipped = nbformat.read(toy / "notebooks" / "executed" / "02_b.ipynb", as_version=4)
    assert skipped.cells[0].source == "# Chapter B" and "not built" in skipped.cells[1].source
    assert "SKIP 02_b" in capsys.readouterr().out
    timings = book.read_timings(toy)
    assert len(timings) == 6 and set(timings["kind"]) == {"job", "chapter"}
    assert timings.set_index("name").loc["01_a", "seconds"] > 0
    per = book.read_timings(toy / book.TIMINGS, by="name")
    assert per.set_index("name").loc["rec", "runs"] == 4

    # resumable: nothing changed -> cached; new parameters or --force -> executed again
    assert book.run(toy, only=["01_a"])[0].status == "cached"
    assert book.run(toy, only=["01_a"], data_dir="elsewhere")[0].status == "executed"
    assert book.run(toy, only=["01_a"], data_dir="elsewhere", force=True)[0].status == "executed"

    # the real data arrives -> the chapter runs
    (toy / "data" / "real").mkdir(parents=True)
    assert book.run(toy, only=["02_b"])[0].status == "executed"

    # a failing cell names the notebook and cell and keeps the partial copy
    _notebook(toy / "notebooks" / "01_a.ipynb", "x = 1\nraise ValueError('boom')", "data_dir = 'x'\nn = 1")
    with pytest.raises(book.BookError, match=r"01_a.ipynb failed in cell \d+ .*ValueError: boom.*partial") as err:
        book.run(toy, only=["01_a"])
    assert (toy / "notebooks" / "executed" / "01_a.partial.ipynb").is_file()
    assert err.value.cell["ename"] == "ValueError" and err.value.partial.name == "01_a.partial.ipynb"
    with pytest.raises(book.BookError, match="not chapters"):
        book.run(toy, only=["03_c"])


def test_bad_configuration(toy):
    (toy / "book" / "parameters.yml").write_text("notebooks:\n  01_a:\n    typo: 1\n")
    with pytest.raises(book.BookError, match=r"parameters\.yml gives 01_a parameters \['typo'\].*does not declare"):
        book.run(toy)
    (toy / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: notebooks/executed/07_x\n")
    (toy / "book" / "parameters.yml").write_text("defaults: {}\n")
    with pytest.raises(book.BookError, match="07_x.*does not exist"):
        book.run(toy)
    with pytest.raises(book.BookError, match="run `python -m rbgia.book run` first"):
        book.build(toy)


def test_cli_user_errors_are_one_line_exit_2(toy, tmp_path, capfd):
    """Issue 11, cases 14 and 20: invalid YAML named with its line; an unknown key names the file given."""
    bad = tmp_path / "bad.yml"
    bad.write_text("notebooks:\n  01_a:\n    n: [1, 2\n")
    assert book.main(["run", "--root", str(toy), "--parameters", str(bad)]) == 2
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {bad} is not valid YAML at line")
    bad.write_text("notebooks:\n  01_a:\n    n_typo: 1\n")
    assert book.main(["run", "--root", str(toy), "--parameters", str(bad)]) == 2
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(bad) in err[0] and "book/parameters.yml" not in err[0]
    (toy / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: notebooks/executed/07_x\n")
    assert book.main(["run", "--root", str(toy)]) == 2
    assert capfd.readouterr().err.startswith("error: ")
    # the same through the module's entry point: no traceback
    proc = subprocess.run([sys.executable, "-m", "rbgia.book", "run", "--root", str(toy), "--parameters", str(bad)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: ")


@pytest.mark.slow
def test_build_checks_pages(toy, tmp_path):
    book.run(toy)
    html = book.build(toy)
    page = (html / "notebooks" / "executed" / "01_a.html").read_text()
    assert "<img" in page and "Chapter A" in page
    assert "n = 1" not in page and "n = 3" not in page  # neither parameters cell renders
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


TINY = REPO / "tests" / "tiny_parameters.yml"


def test_repo_book_is_consistent():
    """Every chapter in _toc.yml has a notebook, book parameters and tiny test parameters; both
    parameter files plan without error (every value valid for the notebook that receives it)."""
    names = book.toc_notebooks(REPO)
    assert names, "_toc.yml lists no notebooks"
    spec = book.load_parameters(REPO)
    tiny = book.load_parameters(REPO, TINY)
    repo_plan = book.plan(REPO)
    for the_plan in (repo_plan, book.plan(REPO, TINY)):
        assert [r.name for r in the_plan.chapters] == names
        assert the_plan.job_names.keys() == repo_plan.job_names.keys()  # the same jobs, so `needs` reads alike
    for name in names:
        src = REPO / "notebooks" / f"{name}.ipynb"
        assert src.is_file(), f"{src} missing"
        assert name in spec, f"book/parameters.yml has no entry for {name}"
        assert name in tiny, f"tests/tiny_parameters.yml has no entry for {name}"
        assert set(repo_plan.chapter(name).parameters) <= set(params.declared_parameters(src))  # declared only
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


def test_no_notebook_runs_another_notebook():
    """Issue 9: Snakemake is the one engine; a chapter declares the records it needs instead."""
    runners = ("papermill", "book.execute", "book.run", "execute_notebook", "run_notebook", "nbclient")
    for src in sorted((REPO / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(src, as_version=4).cells:
            if cell.cell_type == "code":
                found = [r for r in runners if r in cell.source]
                assert not found, f"{src.name} runs notebooks ({found}); declare the jobs in `needs:` instead"


def test_the_rerun_pages_defaults_come_from_the_notebooks(tmp_path):
    """book/rerun.md includes book/_generated/parameters.md, written at each build from the parameters cells:
    a default changed in a notebook changes the table."""
    import shutil

    from rbgia.book import site

    table = site.parameters_table()
    assert "| `num_background` | `300` (05, 06); `200` (10) |" in table
    assert "| `data_dir` | `data/rnacompete2009` (01, 02, 06); `data/rnacompete2013_sample` (04, 05)" in table
    (tmp_path / "notebooks").mkdir()
    shutil.copy(REPO / "notebooks" / "10_ground_truth.ipynb", tmp_path / "notebooks")
    nb = tmp_path / "notebooks" / "10_ground_truth.ipynb"
    nb.write_text(nb.read_text().replace("num_background = 200", "num_background = 250"))
    written = site.write_generated(tmp_path)
    assert written == tmp_path / "book" / "_generated"
    assert "| `num_background` | `250` (10) |" in (written / "parameters.md").read_text()
    assert "No records yet" in (written / "glance.md").read_text()  # no results folder: says so
    assert (written / "goals.png").read_bytes()[:4] == b"\x89PNG"  # the summary figure, a note without records
