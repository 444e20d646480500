"""Issue 20, the book's orchestration: a built tree, the last good page, typed None parameters, cycles between
chapters, Snakemake's locks and a misspelt reference motif. Every test here failed before its fix.

The runs happen in tmp roots (a toy book of one chapter, or a copy of the repository), never in the checkout.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import nbformat
import numpy as np
import pytest
import yaml
from test_workflow import dry_run_output_checks, repo_dry_run_checks

from rbgia import book
from rbgia.book import params
from rbgia.errors import DataError

REPO = Path(__file__).resolve().parents[1]
GIA_NB = REPO / "notebooks" / "05_gia.ipynb"


# --------------------------------------------------------------------------- BAD 1: `make book`, then `make test`


def test_runs_are_hashable():
    """`{*plan.runs}` raised TypeError: unhashable type: 'dict' (Run held its parameters as a dict)."""
    for the_plan in (book.plan(REPO), book.plan(REPO, REPO / "tests" / "tiny_parameters.yml")):
        assert len(set(the_plan.runs)) == len(the_plan.runs)
        assert the_plan.chapters[0] in {*the_plan.runs}


def _built_copy(tmp_path: Path) -> Path:
    """A copy of the repository's book (notebooks, _toc, parameters; data linked) in which every run of the DAG
    has an output, as after `make book`: its executed pages, their staged copies and the jobs' notebooks."""
    root = tmp_path / "built"
    shutil.copytree(REPO / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns("executed"))
    (root / "book").mkdir()
    shutil.copy(REPO / "book" / "parameters.yml", root / "book" / "parameters.yml")
    shutil.copy(REPO / "_toc.yml", root / "_toc.yml")
    (root / "data").symlink_to(REPO / "data")
    nb = nbformat.v4.new_notebook()
    for r in book.plan(root).runs:
        for out in (r.output, r.staged):
            if out:
                (root / out).parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, root / out)
    return root


def test_the_repository_checks_pass_on_a_built_tree(tmp_path):
    """`make book` then `make test`: the repository's dry-run test on a tree where every output exists."""
    root = _built_copy(tmp_path)
    assert (root / book.EXECUTED / "05_gia.ipynb").is_file()
    repo_dry_run_checks(root)


UP_TO_DATE = "Building DAG of jobs...\nNothing to be done (all requested files are present and up to date).\n"


def test_the_dry_run_check_passes_on_an_up_to_date_tree(tmp_path):
    """`make book`, then `make test` on the same tree: Snakemake has nothing to do and lists no job stats (the check
    asked for an `all` job and failed); nothing to do with an output missing still fails."""
    root = _built_copy(tmp_path)
    dry_run_output_checks(root, UP_TO_DATE)
    (root / book.EXECUTED / "05_gia.ipynb").unlink()
    with pytest.raises(AssertionError, match="05_gia"):
        dry_run_output_checks(root, UP_TO_DATE)


# --------------------------------------------------------------------------- BAD 2: the last good page

CHAPTER = (
    "import os, pathlib, time\n"
    "pathlib.Path('started').write_text(str(os.getpid()))\n"
    "for _ in range(600):  # held here while the file SLEEP exists (a run to kill)\n"
    "    if not pathlib.Path('SLEEP').exists():\n"
    "        break\n"
    "    time.sleep(0.2)\n"
    "if mode == 'fail' or pathlib.Path('FAIL').exists():\n"
    "    raise RuntimeError('planted failure')\n"
    "print('page: ' + mode)"
)


def _toy_book(tmp_path: Path, mode: str = "v1") -> Path:
    """A book of one chapter, 01_a, whose page prints its `mode` (`fail`: a cell error)."""
    root = tmp_path / "repo"
    (root / "book").mkdir(parents=True)
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: notebooks/executed/01_a\n")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    first = nbformat.v4.new_code_cell("mode = 'v0'")
    first.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# A"), first, nbformat.v4.new_code_cell(CHAPTER)]
    (root / "notebooks").mkdir()
    nbformat.write(nb, root / "notebooks" / "01_a.ipynb")
    _set_mode(root, mode)
    return root


def _set_mode(root: Path, mode: str) -> None:
    (root / "book" / "parameters.yml").write_text(f"notebooks:\n  01_a: {{mode: {mode}}}\n")


def _page(root: Path) -> Path:
    return root / book.EXECUTED / "01_a.ipynb"


def _says(root: Path) -> str:
    """What the page printed (it must be a whole notebook)."""
    nb = nbformat.read(_page(root), as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    return text.strip().removeprefix("page: ")


def _statuses(root: Path, **kw) -> list[str]:
    return [r.status for r in book.run(root, quiet=True, **kw)]


@pytest.mark.slow
def test_a_failed_chapter_keeps_its_last_good_page(tmp_path):
    """A cell error used to leave no page at all: Snakemake deletes a rule's outputs before the job runs."""
    root = _toy_book(tmp_path)
    assert _statuses(root) == ["executed"] and _says(root) == "v1"
    _set_mode(root, "fail")
    with pytest.raises(book.BookError, match=r"01_a\.ipynb failed in cell \d+ .*RuntimeError: planted failure"):
        book.run(root, quiet=True)
    assert _says(root) == "v1"  # the last good page, whole
    assert book.partial_path(_page(root)).is_file() and book.error_path(_page(root)).is_file()
    assert not (root / book.STAGED / "01_a.ipynb").exists()
    _set_mode(root, "v1")
    assert _statuses(root) == ["executed"] and _says(root) == "v1"
    # a failure after the chapter's inputs changed: the page is kept, and the next run does not take it as current
    (root / "FAIL").touch()
    source = nbformat.read(root / "notebooks" / "01_a.ipynb", as_version=4)
    source.cells.append(nbformat.v4.new_markdown_cell("An input changed."))
    nbformat.write(source, root / "notebooks" / "01_a.ipynb")
    with pytest.raises(book.BookError, match="planted failure"):
        book.run(root, quiet=True)
    assert _says(root) == "v1"
    (root / "FAIL").unlink()
    assert _statuses(root) == ["executed"]
    _set_mode(root, "v2")
    assert _statuses(root) == ["executed"] and _says(root) == "v2"
    assert not book.error_path(_page(root)).exists() and not book.partial_path(_page(root)).exists()
    assert _statuses(root) == ["cached"]  # Snakemake's rerun detection: nothing changed, nothing runs
    # the book renders the promoted pages only (the staged copies are no toc files)
    assert yaml.safe_load((REPO / "_config.yml").read_text())["only_build_toc_files"] is True


def test_promote_is_atomic_and_refuses_a_missing_copy(tmp_path):
    staged, page = tmp_path / "s" / "a.ipynb", tmp_path / "a.ipynb"
    staged.parent.mkdir()
    staged.write_text("new")
    page.write_text("old")
    book.promote(staged, page)
    assert page.read_text() == "new" and staged.read_text() == "new"
    assert page.stat().st_mtime_ns == staged.stat().st_mtime_ns  # rerun detection compares the two
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ipynb", "s"]  # no temporary left
    staged.unlink()
    with pytest.raises(book.BookError, match=r"s/a\.ipynb does not exist.*rerun"):
        book.promote(staged, page)
    assert page.read_text() == "new"


def _wait_for(path: Path, proc: subprocess.Popen, seconds: float = 180) -> None:
    end = time.time() + seconds
    while not path.exists():
        assert proc.poll() is None, f"the run ended early with {proc.returncode}"
        assert time.time() < end, f"{path} did not appear in {seconds} s"
        time.sleep(0.2)


def _kill(proc: subprocess.Popen, kernel: Path) -> None:
    """kill -9 the run started in its own session (rbgia.book, Snakemake, the notebook's runner) and its kernel."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    if kernel.is_file():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(kernel.read_text()), signal.SIGKILL)
    proc.wait(timeout=60)


@pytest.mark.slow
def test_a_killed_rerun_keeps_the_page_and_locks_are_named(tmp_path, capfd):
    """kill -9 during a --force re-execution lost the page; a second run beside a live one, and a run after a
    killed one, ended in a clipped Snakemake tail; there was no --unlock."""
    root = _toy_book(tmp_path)
    assert _statuses(root) == ["executed"]
    good = _page(root).read_bytes()
    started = root / "started"
    started.unlink()
    (root / "SLEEP").touch()
    proc = subprocess.Popen([sys.executable, "-m", "rbgia.book", "run", "--root", str(root), "--force"], cwd=root,
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(started, proc)
        # D12: another run on the same tree while this one lives
        with pytest.raises(book.BookError, match=r"held by a live Snakemake run \(pid \d+\).*wait for it") as err:
            book.run(root, quiet=True)
        assert "\n" not in str(err.value)
        capfd.readouterr()
        assert book.main(["run", "--root", str(root), "--unlock"]) == 2  # never unlocks a live run
        assert "is alive" in capfd.readouterr().err
    finally:
        _kill(proc, started)
    assert _page(root).read_bytes() == good  # BAD 2: the page survived the kill, whole
    (root / "SLEEP").unlink()
    # D17: the killed run's lock is stale
    with pytest.raises(book.BookError, match=r"stale Snakemake lock .*no Snakemake process .*--unlock") as err:
        book.run(root, quiet=True)
    assert "\n" not in str(err.value)
    capfd.readouterr()
    assert book.main(["run", "--root", str(root), "--unlock"]) == 0
    assert "removed" in capfd.readouterr().out
    assert _statuses(root) == ["cached"]  # nothing changed since the page: it is current
    assert _statuses(root, force=True) == ["executed"] and _page(root).read_bytes() != good
    assert _statuses(root) == ["cached"]


def test_lock_messages_tell_stale_from_live(tmp_path, monkeypatch):
    from rbgia.book import runner

    tail = ["LockException:", "Error: Directory cannot be locked. Please make sure that no other Snakemake process "
            "is trying to create the same files in the following directory:", str(tmp_path)]
    monkeypatch.setattr(runner, "live_snakemake", lambda root: [])
    assert "stale Snakemake lock" in str(runner._lock_error(tmp_path, tail))
    monkeypatch.setattr(runner, "live_snakemake", lambda root: [4242])
    assert "held by a live Snakemake run (pid 4242)" in str(runner._lock_error(tmp_path, tail))
    monkeypatch.setattr(runner, "live_snakemake", lambda root: None)  # no /proc: cannot tell
    assert "may be held by another run" in str(runner._lock_error(tmp_path, tail))
    assert runner._lock_error(tmp_path, ["MissingInputException"]) is None
    assert book.unlock(tmp_path) == 0  # nothing to remove


def test_live_snakemake_finds_a_run_on_this_tree_only(tmp_path):
    """A process whose command is snakemake, working in (or --directory) this tree, is live; others are not."""
    from rbgia.book import runner

    other = tmp_path / "other"
    other.mkdir()
    script = tmp_path / "bin" / "snakemake"  # a stand-in: `python .../snakemake --directory D` that waits
    script.parent.mkdir()
    script.write_text("import time\ntime.sleep(60)\n")
    procs = [subprocess.Popen([sys.executable, str(script), "--directory", str(d)], cwd=other)
             for d in (tmp_path, other)]
    try:
        time.sleep(0.5)
        if runner.live_snakemake(tmp_path) is None:
            pytest.skip("no /proc on this system")
        assert procs[0].pid in runner.live_snakemake(tmp_path) and procs[1].pid not in runner.live_snakemake(tmp_path)
    finally:
        for p in procs:
            p.kill()
            p.wait()


# --------------------------------------------------------------------------- D02, D03, D11: typed None defaults


@pytest.mark.parametrize(("value", "shown"), [("many", r"'many' \(str\)"), ([300], r"\[300\] \(list\)"),
                                              (2.5, r"2\.5 \(float\)"), (0, r"0 \(int\)")])
def test_none_default_parameters_are_type_checked(value, shown):
    """`-p max_probes many` failed later with a raw ValueError, `-y 'max_probes: [300]'` a raw TypeError."""
    expected = rf"parameter max_probes = {shown} is not valid: expected (an int|a value >= 2) or None"
    with pytest.raises(DataError, match=expected + r"; e\.g\. `-p max_probes <int>`"):
        params.validate({"max_probes": value}, GIA_NB)
    namespace = {**params.declared_defaults(GIA_NB), "max_probes": value}
    with pytest.raises(DataError, match=expected):  # the notebook's own check cell
        params.check(namespace, GIA_NB, show=False)
    assert params.validate({"max_probes": 600, "reference_motif": None}, GIA_NB) == {"max_probes": 600,
                                                                                    "reference_motif": None}


def test_a_bad_none_default_parameter_stops_the_dry_run(tmp_path):
    """`max_probes: lots` in a parameters file passed the dry run."""
    bad = tmp_path / "p.yml"
    bad.write_text("notebooks:\n  05_gia: {max_probes: lots}\n")
    with pytest.raises(book.BookError, match=r"p\.yml, 05_gia: parameter max_probes = 'lots' \(str\)"):
        book.plan(REPO, bad)
    bad.write_text("jobs:\n  j: {notebook: 05_gia, experiments: [VTS1], parameters: {reference_motif: 7}}\n")
    with pytest.raises(book.BookError, match=r"reference_motif = 7 \(int\) .*a string or None"):
        book.plan(REPO, bad)


def test_every_none_default_declares_its_type():
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        defaults, types = params.declared_defaults(path), params.declared_types(path)
        untyped = [k for k, v in defaults.items() if v is None and not types.get(k)]
        assert not untyped, f"{path.name}: declare the type of {untyped}, e.g. `x = None  # type: Optional[int]`"


def _typed_notebook(tmp_path: Path, cell: str) -> Path:
    path = tmp_path / "notebooks" / "78_typed.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    first = nbformat.v4.new_code_cell(cell)
    first.metadata["tags"] = ["parameters"]
    nb.cells = [first]
    nbformat.write(nb, path)
    return path


def test_type_comments_in_the_parameters_cell(tmp_path):
    nb = _typed_notebook(tmp_path, "n = None  # type: Optional[int]  # a count\nnames = None  # type: list[str]|None\n"
                                   "x = None  # type: float\nfree = None\n")
    assert params.declared_types(nb) == {"n": "Optional[int]", "names": "list[str]|None", "x": "float", "free": None}
    assert params.validate({"names": "A, B", "x": 1, "n": None, "free": [1]}, nb) == {
        "names": ["A", "B"], "x": 1.0, "n": None, "free": [1]}  # an undeclared None default takes anything
    with pytest.raises(DataError, match=r"names = 3 \(int\) .*a list of a string or None"):
        params.validate({"names": ["A", 3]}, nb)
    typo = _typed_notebook(tmp_path / "t", "n = None  # type: Optinal[int]\n")
    with pytest.raises(DataError, match=r"78_typed\.ipynb declares n as 'Optinal\[int\]'.*Optional\[int\]"):
        params.validate({"n": 3}, typo)


# --------------------------------------------------------------------------- D09: a cycle between chapters


def test_a_cycle_between_chapters_is_named(tmp_path):
    """It ended in Snakemake's CyclicGraphException inside a 600-character tail."""
    bad = tmp_path / "cycle.yml"
    bad.write_text("notebooks:\n  03_benchmark: {needs: [04_ism]}\n  04_ism: {needs: [05_gia]}\n"
                   "  05_gia: {needs: [03_benchmark]}\n")
    with pytest.raises(book.BookError, match=r"cycle\.yml: chapters 03_benchmark -> 04_ism -> 05_gia -> "
                                             r"03_benchmark need each other through `needs`; break the cycle"):
        book.plan(REPO, bad)
    bad.write_text("notebooks:\n  05_gia: {needs: [09_timings]}\n  09_timings: {after_all: true}\n")
    with pytest.raises(book.BookError, match=r"chapters 05_gia -> 09_timings -> 05_gia .*after_all"):
        book.plan(REPO, bad)
    bad.write_text("jobs:\n  a: {notebook: 05_gia, needs: [b]}\n  b: {notebook: 05_gia, needs: [a]}\n")
    with pytest.raises(book.BookError, match=r"jobs a -> b -> a need each other"):
        book.plan(REPO, bad)


# --------------------------------------------------------------------------- D18: a misspelt reference motif


def test_a_misspelt_reference_motif_is_an_error():
    """`reference_motif: RNCMPT0001` silently skipped the comparison with the RNAcompete motif."""
    from rbgia.chapters import battery
    from rbgia.data import shipped_data_dir
    from rbgia.sequence import decode

    rng = np.random.default_rng(0)
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=(60, 41))]
    f = lambda z: z[:, 17:23, 0].sum(1)  # noqa: E731
    split = SimpleNamespace(x=x, y=f(x)[:, None], seqs=np.array(decode(x)))
    data = SimpleNamespace(train=split, test=split)
    ref = shipped_data_dir("reference")
    kw = dict(reference_dir=ref, num_background=10, k=2, scan="exhaustive", n_boot=10, n_ism=0, sensitivity=())
    with pytest.raises(DataError, match=r"reference_motif 'RNCMPT0001' is not .*; did you mean RNCMPT00001\?"):
        battery.run_battery(f, data, "RNCMPT00001", reference_motif="RNCMPT0001", **kw)
    with pytest.raises(DataError, match=r"reference_motif 'hur' .*did you mean HuR\?"):
        battery.run_battery(f, data, "RNCMPT00001", reference_motif="hur", **kw)
    with pytest.raises(DataError, match=r"reference_motif 'RNCMPT00001' needs .*does not exist"):
        battery.run_battery(f, data, "RNCMPT00001", reference_motif="RNCMPT00001", **{**kw, "reference_dir": "nowhere"})
    battery.check_reference_motif("HuR", ref)  # a 2009 RBP of the map, and an id, are known
    battery.check_reference_motif("RNCMPT00001", ref)


def test_the_staged_copies_are_not_pages():
    """The plan's chapters are staged beside their pages; the jobs are written where they are read."""
    the_plan = book.plan(REPO)
    for r in the_plan.chapters:
        assert r.staged == f"{book.STAGED}/{r.name}.ipynb" and r.output == f"{book.EXECUTED}/{r.name}.ipynb"
    assert all(r.staged is None for r in the_plan.jobs)
    assert json.loads(json.dumps(the_plan.chapters[0].parameters)) == the_plan.chapters[0].parameters
