"""The rendered book in a real browser: headless Chromium, network off (rbgia.book.site.check_pages).

A small synthetic Jupyter Book (math, a figure, a wide report.table) is built with the
project's _config.yml and checked page by page; hand-written pages with raw TeX, a
broken image, a wide table, a JavaScript error and a CDN script show that each check
can fail. The last test builds the project's own book from notebooks run with
tests/tiny_parameters.yml. Chromium comes from Debian (`chromium`, `chromium-driver`),
installed here with apt-get when missing and running as root (CI).
"""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from rbgia.book import BookError, site
from rbgia.chapters import report

REPO = Path(__file__).resolve().parents[1]

MATH_PAGE = r"""# Math

Inline: there are $4^k$ k-mers of length $k$, and $\alpha = 0.05$.

Display:

$$
\hat{I}(\phi) = \frac{1}{N} \sum_{n=1}^{N} f(x_n^{\phi}) - f(x_n)
$$

```{math}
:label: eq-gia
\mathrm{GIA} = \mathbb{E}\left[f(x^{\phi}) - f(x)\right]
```

\begin{align}
a &= b + c \\
d &= e
\end{align}

Code keeps its backslashes: `re.compile(r"\(x\)")`.
"""


@pytest.fixture(scope="session")
def chromium() -> tuple[Path, Path]:
    """Chromium and chromedriver; apt-get installs them where missing (CI runs as root)."""
    pytest.importorskip("selenium", reason="selenium is not installed (the dev extra pins it): run `make env`")
    try:
        return site.ensure_chromium(install=True)
    except BookError as err:
        pytest.skip(f"no Chromium for the browser test: {err}")


def _png_figure() -> str:
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    from rbgia import plotting

    with matplotlib.rc_context():  # book_style sets rcParams globally: restore them afterwards
        plotting.book_style()
        fig, ax = plt.subplots()
        ax.plot(np.arange(10), np.arange(10) ** 2, marker="o")
        ax.set_xlabel("number of sites")
        ax.set_ylabel("global importance")
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _display(obj) -> dict:
    data = {"text/plain": repr(obj)}
    if hasattr(obj, "_repr_html_"):
        data["text/html"] = obj._repr_html_()
    if hasattr(obj, "_repr_markdown_"):
        data["text/markdown"] = obj._repr_markdown_()
    return nbformat.v4.new_output("display_data", data=data)


def _notebook() -> nbformat.NotebookNode:
    """An 'executed' chapter: outputs written in directly (no kernel), as papermill would leave them."""
    wide = pd.DataFrame({f"column_{i}_pearson": np.linspace(0.1, 0.9, 6) + i for i in range(14)})
    wide.insert(0, "experiment", [f"RNCMPT0000{i}" for i in range(6)])
    wide["pvalue"] = [0.0, 1e-12, 0.003, 0.2, 0.5, 1.0]
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    code = nbformat.v4.new_code_cell("report.table(summary, caption='Every experiment')", execution_count=1)
    code.outputs = [_display(report.table(wide, caption="Every experiment, every predictor",
                                          wide_reason="a test of the scroll container"))]
    fig = nbformat.v4.new_code_cell("plotting.scatter_pred(...)", execution_count=2)
    fig.outputs = [nbformat.v4.new_output("display_data", data={"image/png": _png_figure(), "text/plain": "<Figure>"})]
    cap = nbformat.v4.new_code_cell("report.caption(...)", execution_count=3)
    cap.metadata["tags"] = ["remove-input"]
    cap.outputs = [_display(report.caption("Fig 2b", "simulated, 3,000 probes", "Importance grows with $n$ sites."))]
    rerun = nbformat.v4.new_code_cell("report.rerun('01_fig', experiment='RNCMPT00168')", execution_count=4)
    rerun.metadata["tags"] = ["remove-input"]
    rerun.outputs = [_display(report.rerun("01_fig", experiment="RNCMPT00168", epochs=3))]
    nb.cells = [nbformat.v4.new_markdown_cell("# A chapter\n\nIt shows $f(x^{\\phi}) - f(x)$ per site."),
                code, fig, cap, rerun]
    return nb


def build_synthetic_book(root: Path) -> Path:
    """A two-page Jupyter Book with the project's _config.yml and CSS, built by rbgia.book.build."""
    (root / "book").mkdir(parents=True)
    shutil.copy(REPO / "_config.yml", root / "_config.yml")
    shutil.copy(REPO / "book" / "references.bib", root / "book" / "references.bib")
    shutil.copytree(REPO / "book" / "_static", root / "book" / "_static",
                    ignore=shutil.ignore_patterns("mathjax", "download"))
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n  - file: notebooks/executed/01_fig\n  - file: book/math\n")
    (root / "book" / "intro.md").write_text("# A tiny book\n\nFor the browser test.\n")
    (root / "book" / "math.md").write_text(MATH_PAGE)
    (root / "notebooks" / "executed").mkdir(parents=True)
    nbformat.write(_notebook(), root / "notebooks" / "executed" / "01_fig.ipynb")
    nbformat.write(_notebook(), root / "notebooks" / "01_fig.ipynb")
    from rbgia.book import build

    return build(root)


@pytest.fixture(scope="module")
def synthetic_html(tmp_path_factory) -> Path:
    return build_synthetic_book(tmp_path_factory.mktemp("tinybook"))


def test_static_has_mathjax_and_the_config_points_at_it(tmp_path):
    js = site.install_static(tmp_path)
    assert js == tmp_path / "book" / "_static" / "mathjax" / "tex-mml-chtml.js" and js.stat().st_size > 100_000
    assert (js.parent / "output" / "chtml" / "fonts" / "woff-v2").is_dir()
    assert (js.parent / "VERSION").read_text().startswith("3.")
    import yaml

    config = yaml.safe_load((REPO / "_config.yml").read_text())["sphinx"]["config"]
    assert config["mathjax_path"] == "mathjax/tex-mml-chtml.js"
    assert "book/_static" in config["html_static_path"]
    ignored = subprocess.run(["git", "check-ignore", "-q", "book/_static/mathjax/x.js"], cwd=REPO)
    assert ignored.returncode == 0, "book/_static/mathjax is generated: it must be gitignored"


@pytest.mark.slow
def test_synthetic_book_reads_in_a_browser(chromium, synthetic_html):
    page = (synthetic_html / "book" / "math.html").read_text()
    assert "_static/mathjax/tex-mml-chtml.js" in page and "cdn.jsdelivr" not in page
    chapter = (synthetic_html / "notebooks" / "executed" / "01_fig.html").read_text()
    assert 'class="rbgia-scroll"' in chapter and "notebooks/01_fig.ipynb" in chapter
    assert (synthetic_html / "_static" / "download" / "01_fig.ipynb").is_file()  # the download link's target
    shots = synthetic_html.parent / "screenshots"
    shots.mkdir(exist_ok=True)
    (shots / "notebooks__executed__.staged__01_fig.png").write_bytes(b"a page the book no longer has")
    problems = site.check_pages(synthetic_html, shots)
    assert problems == []
    pages = site._pages(synthetic_html)
    assert {p.relative_to(synthetic_html).as_posix() for p in pages} >= {
        "book/intro.html", "book/math.html", "notebooks/executed/01_fig.html"}
    assert len(list(shots.glob("*.png"))) == len(pages)  # the stale screenshot is gone
    assert (shots / "book__math.png").stat().st_size > 10_000


def test_prune_screenshots_keeps_only_the_pages_checked(tmp_path):
    for name in ("book__intro.png", "notebooks__executed__.staged__05_gia.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    gone = site.prune_screenshots(tmp_path, ["book/intro.html"])
    assert [p.name for p in gone] == ["notebooks__executed__.staged__05_gia.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book__intro.png", "notes.txt"]
    assert site.shot_name("notebooks/executed/05_gia.html") == "notebooks__executed__05_gia.png"


@pytest.mark.slow
def test_math_from_a_cdn_is_caught_offline(chromium, synthetic_html, tmp_path):
    """The bug of issue 13: MathJax from a CDN leaves raw TeX when there is no network."""
    html = tmp_path / "html"
    shutil.copytree(synthetic_html, html)
    page = html / "book" / "math.html"
    text = page.read_text()
    page.write_text(text.replace(
        "../_static/mathjax/tex-mml-chtml.js", "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"))
    problems = site.check_pages(html, pages=["book/math.html"])
    assert any("raw TeX" in p and "'\\\\('" in p for p in problems), problems
    assert any("raw TeX" in p and "'$$'" in p or "'\\\\['" in p for p in problems), problems
    assert any("console error" in p and "cdn.jsdelivr" in p for p in problems), problems


BAD_PAGES = {
    "rawtex.html": "<p>there are \\(4^k\\) k-mers</p><p>$$x^2$$</p><pre>\\(in code is fine\\)</pre>",
    "dollar.html": "<p>importance grows with $n$ sites</p>",
    "currency.html": "<p>it costs $5 and $10</p>",
    "brokenimg.html": '<p>a figure</p><img src="missing.png" alt="gone">',
    "wide.html": '<table><tr>' + "".join(f"<td>column_number_{i}</td>" for i in range(40)) + "</tr></table>",
    "scrolls.html": '<div style="overflow-x:auto"><table><tr>'
    + "".join(f"<td>column_number_{i}</td>" for i in range(40)) + "</tr></table></div>",
    "clipped.html": '<div style="overflow-x:hidden"><table><tr>'
    + "".join(f"<td>column_number_{i}</td>" for i in range(40)) + "</tr></table></div>",
    "fits.html": "<table><tr><th>verdict</th><th>p</th></tr><tr><td>additive</td><td>0.01</td></tr></table>",
    "shrunk.html": '<img src="data:image/svg+xml;utf8,<svg xmlns=%22http://www.w3.org/2000/svg%22 width=%221200%22 '
    'height=%2250%22></svg>" style="max-width:100%">',
    "jserror.html": "<p>text</p><script>undefined_function_here();</script>",
    "network.html": '<p>text</p><script src="https://cdn.example.org/lib.js"></script>',
    # figures stamped by rbgia.plotting.png_metadata: 5 pt text; 9 pt text on a 1200 px figure shown at 600 px;
    # 10 pt text shown at its own width
    "smallfont.html": '<img src="small.png">',
    "shrunkfont.html": '<img src="wide.png" style="max-width:100%">',
    "goodfont.html": '<img src="good.png">',
}
FIGURES = {"small.png": (3.0, 5), "wide.png": (1200 / 110, 9), "good.png": (3.0, 10)}  # width in, font pt


def _stamped_figure(path: Path, width_in: float, font_pt: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rbgia.plotting import png_metadata

    fig, ax = plt.subplots(figsize=(width_in, 1.5), dpi=110)
    ax.set_axis_off()
    ax.text(0.5, 0.5, "binding", fontsize=font_pt)
    fig.savefig(path, format="png", metadata=png_metadata(fig))  # no tight box: 110 px per inch of width
    plt.close(fig)


@pytest.fixture(scope="module")
def bad_site(tmp_path_factory) -> Path:
    html = tmp_path_factory.mktemp("bad")
    for name, body in BAD_PAGES.items():
        (html / name).write_text(
            f'<!doctype html><html><head><meta charset="utf-8"></head>'
            f'<body><main style="width:600px">{body}</main></body></html>')
    for name, (width_in, font_pt) in FIGURES.items():
        _stamped_figure(html / name, width_in, font_pt)
    return html


@pytest.mark.slow
def test_each_check_can_fail(chromium, bad_site):
    problems = site.check_pages(bad_site)
    by_page = {name: [p for p in problems if p.startswith(name + ":")] for name in BAD_PAGES}
    assert any("raw TeX" in p and "4^k" in p for p in by_page["rawtex.html"]), problems
    assert any("'$$'" in p for p in by_page["rawtex.html"]), problems
    assert not any("in code is fine" in p for p in problems)
    assert any("'$...$'" in p and "$n$" in p for p in by_page["dollar.html"]), problems
    assert by_page["currency.html"] == []
    assert "brokenimg.html: image did not load: missing.png" in by_page["brokenimg.html"]
    assert len(by_page["brokenimg.html"]) == 2  # and its console error, once
    assert any("wider than the content column" in p and "table" in p for p in by_page["wide.html"]), problems
    # a wide table that scrolls is not cut off, but its last columns start off-screen: reported as such
    assert not any("outside a scroll container" in p for p in by_page["scrolls.html"]), problems
    assert any('table "column_number_0' in p and "px wide in the 600 px column" in p
               for p in by_page["scrolls.html"]), problems
    assert by_page["fits.html"] == []
    assert any("wider than the content column" in p for p in by_page["clipped.html"]), problems  # cut off
    assert any("console error" in p and "undefined_function_here" in p for p in by_page["jserror.html"])
    assert any("console error" in p and "cdn.example.org" in p for p in by_page["network.html"]), problems
    assert by_page["shrunk.html"] == []  # only reported when asked for
    shrunk = site.check_pages(bad_site, pages=["shrunk.html", "brokenimg.html"], min_image_scale=0.9)
    assert any("shrunk.html: figure shown at 50% of its width (1200 -> 600 px)" in p for p in shrunk), shrunk
    # text under 8 pt on the page: small in the figure (5 pt x 110 / 96 = 5.7), or shrunk with it (9 x 1.15 x 0.5)
    assert any("figure text at 5.7 pt on the page (at least 8): small.png" in p for p in by_page["smallfont.html"])
    assert any("figure text at 5.2 pt on the page" in p for p in by_page["shrunkfont.html"]), problems
    assert by_page["goodfont.html"] == []
    assert site.check_pages(bad_site, pages=["smallfont.html"], min_font_pt=None) == []  # off when asked


@pytest.mark.slow
def test_cli_checks_a_built_book(chromium, bad_site, tmp_path):
    shots = tmp_path / "shots"
    proc = subprocess.run([sys.executable, "-m", "rbgia.book.site", "check", str(bad_site), "--screenshots",
                           str(shots)], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 1, proc.stderr
    assert f"{len(BAD_PAGES)} pages checked" in proc.stdout and "missing.png" in proc.stdout
    assert len(list(shots.glob("*.png"))) == len(BAD_PAGES)


@pytest.mark.slow
def test_project_book_built_with_tiny_parameters_reads(chromium, tiny_book):
    """The project's own book, every chapter run with tests/tiny_parameters.yml (the session's tiny book,
    conftest.py), checked page by page in Chromium with the network off; no figure is shrunk below 90%
    of its width to fit the column (its text would shrink with it, issue 13), and every figure carries the
    font stamp the 8 pt check reads (so that check ran, issue 21)."""
    shots = REPO / "_build" / "screenshots" / "tiny"
    start = time.time() - 1
    problems = site.check_pages(tiny_book["html"], shots, min_image_scale=0.9)
    assert problems == [], "\n".join(problems)
    # a screenshot per page, taken now (those of an earlier run in the same folder do not count)
    assert len([p for p in shots.glob("*.png") if p.stat().st_mtime >= start]) >= len(tiny_book["runs"])
    from PIL import Image

    from rbgia.plotting import FONT_KEY

    figures = sorted(Path(tiny_book["html"]).glob("_images/*.png"))
    unstamped = [f.name for f in figures if FONT_KEY not in Image.open(f).text]
    assert len(figures) >= 10 and not unstamped, unstamped
