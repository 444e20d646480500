"""Rendering the executed notebooks with Jupyter Book 1.x, and the checks of what it rendered."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .spec import (
    EXECUTED,
    REPO,
    STAGED,
    BookError,
    _toc_files,
    toc_notebooks,
)


def check_notebook(path: Path) -> tuple[int, list[str]]:
    """Count figure outputs of an executed notebook and list its error outputs."""
    nb = json.loads(path.read_text())
    figures, errors = 0, []
    for i, cell in enumerate(nb.get("cells", [])):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                errors.append(f"cell {i}: {out.get('ename')}: {out.get('evalue')}")
            data = out.get("data", {})
            if any(k in data for k in ("image/png", "image/svg+xml", "image/jpeg")):
                figures += 1
    return figures, errors


def check_html(root: str | os.PathLike = REPO, html_dir: str | os.PathLike | None = None) -> list[str]:
    """Problems with the rendered book: missing pages, figures, error outputs. Empty = fine."""
    root = Path(root)
    html = Path(html_dir) if html_dir else root / "_build" / "html"
    problems = []
    for f in _toc_files(root):
        page = html / f"{f}.html"
        if not page.is_file():
            problems.append(f"page {page} missing")
            continue
        text = page.read_text(errors="replace")
        if 'class="output traceback' in text or "output error" in text:
            problems.append(f"{page} shows an error output")
        executed = root / f"{f}.ipynb"
        if executed.is_file() and f.startswith(EXECUTED):
            figures, errors = check_notebook(executed)
            problems += [f"{executed}: {e}" for e in errors]
            if figures and "<img" not in text and "<svg" not in text:
                problems.append(f"{page} has no figure although {executed.name} has {figures}")
    return problems


def build(root: str | os.PathLike = REPO, strict: bool = False) -> Path:
    """Render the executed notebooks and book pages with Jupyter Book 1.x into ``_build/html``.

    Jupyter Book 1.x exits 0 on many failures, so the pages are checked afterwards
    (:func:`check_html`); ``strict`` also turns Sphinx warnings into errors (``-W``).

    Raises
    ------
    BookError
        When jupyter-book fails, a chapter page or its figures are missing, or a page
        shows an error output.
    """
    root = Path(root).resolve()
    missing = [n for n in toc_notebooks(root) if not (root / EXECUTED / f"{n}.ipynb").is_file()]
    if missing:
        raise BookError(f"no executed copy of {missing}; run `python -m rbgia.book run` first")
    cmd = [sys.executable, "-c", "import sys; from jupyter_book.cli.main import main; sys.exit(main())",
           "build", str(root), "--keep-going"]
    if strict:
        cmd += ["-W", "-n"]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    # staged copies are not pages; a build from before they were excluded rendered them
    shutil.rmtree(root / "_build" / "html" / STAGED, ignore_errors=True)
    warnings = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "WARNING" in ln or "ERROR" in ln]
    for ln in warnings:
        print(f"[rbgia.book] {ln.strip()}", flush=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-20:])
        raise BookError(f"jupyter-book build exited {proc.returncode}:\n{tail}")
    problems = check_html(root)
    if problems:
        raise BookError("the rendered book has problems:\n  " + "\n  ".join(problems))
    html = root / "_build" / "html"
    print(f"[rbgia.book] built {html / 'index.html'} ({len(warnings)} warnings)", flush=True)
    return html
