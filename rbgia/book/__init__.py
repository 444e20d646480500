"""The book layer's orchestration: its parameters, its Snakemake DAG, papermill runs, the Jupyter Book build.

The library (:mod:`rbgia`) never imports this package; the chapters' back-ends live in
:mod:`rbgia.chapters`. Rooms: :mod:`~rbgia.book.spec` (the parameters file, ``_toc.yml``),
:mod:`~rbgia.book.params` (a notebook's parameters cell: declared names, types, checks),
:mod:`~rbgia.book.plan` (the DAG's runs), :mod:`~rbgia.book.runner` (papermill, Snakemake, timings),
:mod:`~rbgia.book.build` (Jupyter Book), :mod:`~rbgia.book.site` (the rendered site),
:mod:`~rbgia.book.prose` (no hand-typed result in the prose), :mod:`~rbgia.book.cli`.

Usage (what ``make book`` calls)::

    snakemake --profile workflow/profiles/local      # the book's jobs and chapters (the one engine)
    python -m rbgia.book build                       # render notebooks/executed/ with Jupyter Book 1.x

    python -m rbgia.book run [--parameters FILE] [--results-dir DIR] [--only 02_residualbind] [--dry-run]

``run`` is a thin front-end: it checks the parameters file and runs the same Snakemake
DAG (``workflow/Snakefile``, local profile) with it.

The parameters file (``book/parameters.yml``)
---------------------------------------------
::

    defaults: {...}          # offered to every notebook: each gets only the names its parameters cell declares
    notebooks:               # the chapters (keys: notebook stems in _toc.yml), rendered
      <chapter>: {<param>: value, needs: [<job or chapter>, ...], requires: [<path>, ...], after_all: false}
    jobs:                    # records made before the chapters: one notebook run per experiment (x config)
      <job>:
        notebook: 02_residualbind
        experiments: [VTS1, HuR]             # or "all": every experiment of the job's data_dir
        configs: [{inputs: seq}, {inputs: pu}]   # optional: one run per rbgia.config.TrainConfig, given to the
                                                 # notebook as one `config` tag (over defaults' `config`)
        parameters: {data_dir: data/rnacompete2009, epochs: 12}
        needs: [<job>, ...]                  # optional: jobs whose runs (same experiment) come first

A chapter runs after the jobs it ``needs``; ``requires`` lists paths without which it is
rendered as a note instead; ``after_all`` runs it last, after ``timings.json`` (an
appendix). Executed chapters go to ``notebooks/executed/<stem>.ipynb`` (what ``_toc.yml``
renders; a chapter's run writes ``notebooks/executed/.staged/<stem>.ipynb`` and a complete copy is then
promoted to the page in one rename, so a failed or killed run keeps the last good page), job runs to
``<results_dir>/<experiment>/notebooks/<stem>.<config tag>.ipynb``.
Every run is validated before it starts (:func:`rbgia.book.params.validate`: types, ranges,
unknown names), written atomically, and post-processed so that the page hides the
``parameters`` and papermill's ``injected-parameters`` cells (the chapter shows its
parameters once, through :func:`rbgia.book.params.check`). A failing run keeps its partial copy
``<stem>.partial.ipynb`` and an ``<stem>.error.json`` naming the cell; :func:`run` raises
:class:`BookError` from it. ``notebooks/executed/timings.json`` holds the seconds of every
run (:func:`read_timings`).

Contract for every notebook (``notebooks/NN_name.ipynb``): committed without outputs, with
``kernelspec`` python3; the first code cell tagged ``parameters``; notebooks never run
other notebooks (a chapter reads the records of the jobs it ``needs`` through
:mod:`rbgia.chapters.results`). Paths are relative to the repository root (papermill's cwd).
"""

from .build import build, check_html, check_notebook
from .cli import main
from .plan import Plan, Run, plan
from .runner import (
    NotebookRun,
    ensure_kernel,
    error_path,
    execute,
    hide_parameter_cells,
    partial_path,
    promote,
    read_timings,
    run,
    run_one,
    snakemake_command,
    unlock,
    write_timings,
)
from .spec import (
    ALL,
    EXECUTED,
    PARAMETERS,
    REPO,
    STAGED,
    TIMINGS,
    BookError,
    load_parameters,
    read_spec,
    toc_notebooks,
)

__all__ = [
    "ALL",
    "EXECUTED",
    "PARAMETERS",
    "REPO",
    "STAGED",
    "TIMINGS",
    "build",
    "check_html",
    "check_notebook",
    "ensure_kernel",
    "error_path",
    "execute",
    "hide_parameter_cells",
    "load_parameters",
    "main",
    "partial_path",
    "plan",
    "promote",
    "read_spec",
    "read_timings",
    "run",
    "run_one",
    "snakemake_command",
    "toc_notebooks",
    "unlock",
    "write_timings",
    "BookError",
    "NotebookRun",
    "Plan",
    "Run",
]
