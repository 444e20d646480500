"""The rendered book as a reader sees it: offline MathJax, and a headless-browser check of every page.

Usage::

    python -m rbgia.book.site install-static     # MathJax + clean notebooks into book/_static (the build does this)
    python -m rbgia.book.site check _build/html  # open every page in headless Chromium, network off

``install_static``, run at every HTML build by this module as a Sphinx extension
(``_config.yml``: ``extra_extensions``), copies MathJax 3 (from the ``django-static-mathjax``
package of the ``book`` extra, which ships the MathJax distribution and nothing else) into
``book/_static/mathjax/`` and the chapter notebooks into ``book/_static/download/`` (both
generated, not committed); ``_config.yml`` points Sphinx's ``mathjax_path`` at the copy, so
formulas render without a network and from any host (the path is relative). The extension
also drops sphinx-thebe's repeated inline script (a console SyntaxError on every page).

``check_pages`` opens each HTML page from ``file://`` in headless Chromium (Debian's
``chromium`` + ``chromium-driver``, driven by Selenium) with networking disabled, and
reports raw TeX delimiters in the rendered text, errors in the console (JavaScript, failed loads),
images that did not load, and elements wider than the content column outside a scroll
container. It saves a full-page screenshot per page.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from .._io import atomic_path, write_text
from .spec import REPO, BookError, read_spec

STATIC = "book/_static"
MATHJAX_PACKAGE = "django-static-mathjax"  # PyPI name; imports as `mathjax`, ships MathJax's es5 bundle
MATHJAX_ENTRY = "tex-mml-chtml.js"  # Sphinx's default MathJax 3 component, here served locally
# What tex-mml-chtml.js loads at run time: TeX extensions (\require, autoload), fonts, menu, a11y.
MATHJAX_PARTS = (MATHJAX_ENTRY, "input/tex", "input/mml", "output/chtml", "ui", "a11y", "adaptors")
BROWSERS = ("/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser")
DRIVERS = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
WINDOW = (1280, 1000)  # a laptop screen: the book's three-column layout
MAX_SHOT_HEIGHT = 12000  # px; longer pages are cut in the screenshot (not in the checks)
TEX_DELIMITERS = ("\\(", "\\[", "$$", "\\begin{")
DOLLAR_MATH = re.compile(r"(?<![\\$])\$(?=\S)[^$\n]{1,200}?(?<=\S)\$(?![\d$])")
# Chromium flags: headless, no first-run or background traffic, and no network at all
# (every host resolves nowhere and the proxy is a closed port), so a CDN dependency fails.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--metrics-recording-only",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--allow-file-access-from-files",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)


# --------------------------------------------------------------------------- static files


def mathjax_source() -> Path:
    """The MathJax 3 ``es5`` folder shipped by the ``django-static-mathjax`` package."""
    import importlib.util

    spec = importlib.util.find_spec("mathjax")  # finds the folder without importing anything from it
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            es5 = Path(location) / "static" / "mathjax" / "es5"
            if (es5 / MATHJAX_ENTRY).is_file():
                return es5
    raise BookError(
        f"MathJax is not installed ({MATHJAX_PACKAGE} provides it); run `make env` or "
        f"`pip install -e '.[book]'`"
    )


def mathjax_version() -> str:
    """The installed MathJax version (from its package.json)."""
    import json

    return str(json.loads((mathjax_source().parent / "package.json").read_text())["version"])


def install_mathjax(root: str | os.PathLike = REPO) -> Path:
    """Copy MathJax into ``<root>/book/_static/mathjax/`` (skipped when that version is there).

    Returns
    -------
    Path
        The copied ``tex-mml-chtml.js`` (``_config.yml``'s ``mathjax_path`` names it
        relative to ``_static``).
    """
    source = mathjax_source()
    version = mathjax_version()
    dest = Path(root) / STATIC / "mathjax"
    stamp = dest / "VERSION"
    if stamp.is_file() and stamp.read_text().strip() == version and (dest / MATHJAX_ENTRY).is_file():
        return dest / MATHJAX_ENTRY
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".mathjax-", dir=dest.parent))
    try:
        for part in MATHJAX_PARTS:
            src = source / part
            if src.is_dir():
                shutil.copytree(src, tmp / part)
            elif src.is_file():
                shutil.copy2(src, tmp / part)
        shutil.copy2(source.parent / "LICENSE", tmp / "LICENSE")
        (tmp / "VERSION").write_text(version + "\n")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)  # the folder appears whole or not at all
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return dest / MATHJAX_ENTRY


def install_notebooks(root: str | os.PathLike = REPO) -> Path:
    """Copy the chapter notebooks (committed without outputs) into ``book/_static/download/``,
    where each chapter's "download the notebook" link (:func:`rbgia.chapters.report.rerun`) points.

    Not ``_static/notebooks``: Sphinx skips static files that match ``exclude_patterns``, and
    sphinx-external-toc excludes ``notebooks/<name>.ipynb`` (a source not in the toc).
    """
    root = Path(root)
    dest = root / STATIC / "download"
    dest.mkdir(parents=True, exist_ok=True)
    for nb in sorted((root / "notebooks").glob("*.ipynb")):
        target = dest / nb.name
        if not target.is_file() or target.read_bytes() != nb.read_bytes():
            shutil.copy2(nb, target)
    return dest


def install_static(root: str | os.PathLike = REPO) -> Path:
    """What the build serves from ``_static`` besides the theme: MathJax and the notebooks.

    Returns the copied ``tex-mml-chtml.js``.
    """
    install_notebooks(root)
    return install_mathjax(root)


# --------------------------------------------------------------------------- Sphinx extension


def _install_for_build(app) -> None:
    write_generated(app.srcdir)
    if app.builder.format == "html":
        install_static(app.srcdir)


GENERATED = Path("book") / "_generated"  # fragments the pages include, written at each build (not committed)
# the parameters every chapter shares, with what they mean (book/rerun.md's table)
SHARED_PARAMETERS = {
    "data_dir": "RNAcompete files (real, shipped in data/, or simulated)",
    "results_dir": "models and JSON records (shared between chapters)",
    "experiment": "RNAcompete experiment (RNCMPT00168 is RBFOX1)",
    "config": "training configuration tag (normalization-inputs-variant-seed, rbgia.config.TrainConfig)",
    "epochs": "epoch cap of training (the paper: up to 100, early stopping)",
    "background": "GIA background: profile, shuffle, dinuc, quartile1..quartile4",
    "num_background": "background sequences per GIA estimate (the paper: 1,000)",
}


def parameters_table(root: str | os.PathLike = REPO) -> str:
    """The shared parameters' defaults as each chapter declares them (Markdown), read from the notebooks'
    parameters cells, so the rerun page cannot drift from them."""
    from .params import declared_defaults

    notebooks = sorted((Path(root) / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    declared = {nb.stem: declared_defaults(nb) for nb in notebooks}
    rows = ["| name | default (chapters) | meaning |", "|---|---|---|"]
    for name, meaning in SHARED_PARAMETERS.items():
        by_value: dict[str, list[str]] = {}
        for stem, defaults in declared.items():
            if name in defaults:
                by_value.setdefault(str(defaults[name]), []).append(stem[:2])
        shown = "; ".join(f"`{v}` ({', '.join(stems)})" for v, stems in by_value.items()) or "not declared"
        rows.append(f"| `{name}` | {shown} | {meaning} |")
    return "\n".join(rows) + "\n"


def _results_dir(root: Path) -> Path:
    """The book's results folder: ``defaults.results_dir`` of book/parameters.yml (``results`` without one)."""
    spec = root / "book" / "parameters.yml"
    defaults = (read_spec(spec).get("defaults") or {}) if spec.is_file() else {}
    return root / str(defaults.get("results_dir") or "results")


def _write_if_changed(target: Path, text: str) -> None:
    if not target.is_file() or target.read_text() != text:  # unchanged: leave it (no rebuild of the page)
        write_text(target, text)


def write_generated(root: str | os.PathLike = REPO) -> Path:
    """Write the fragments the pages include (``book/_generated/``, returned): the rerun page's parameters table,
    the intro's results at a glance (:func:`rbgia.chapters.glance.glance_markdown`, from the records) and the
    paper map's panel table (:func:`rbgia.chapters.glance.panels_markdown`)."""
    from ..chapters.glance import glance_markdown, panels_markdown

    root = Path(root)
    out = root / GENERATED
    out.mkdir(parents=True, exist_ok=True)
    results = _results_dir(root)
    _write_if_changed(out / "parameters.md", parameters_table(root))
    _write_if_changed(out / "glance.md", glance_markdown(results))
    _write_if_changed(out / "panels.md", panels_markdown())
    _save_goals_figure(results, out / "goals.png")
    return out


def _save_goals_figure(results: Path, target: Path) -> None:
    """The intro's summary figure (:func:`rbgia.chapters.glance.fig_goals`), written atomically."""
    import matplotlib

    matplotlib.use("Agg")  # a build has no display
    import matplotlib.pyplot as plt

    from ..chapters.glance import fig_goals
    from ..plotting import book_style, png_metadata

    with matplotlib.rc_context():
        book_style()
        fig = fig_goals(results)
        with atomic_path(target) as tmp:
            # the book style's dpi (110, as the notebooks): shown at its own width, text >= 8 pt (stamped)
            fig.savefig(tmp, format="png", metadata=png_metadata(fig))
        plt.close(fig)


def _unique_scripts(app, pagename, templatename, context, doctree) -> None:
    """Drop repeated inline scripts: sphinx-thebe 0.3 adds its ``const THEBE_JS_URL`` block twice
    under Jupyter Book 1.0, and the second declaration is a SyntaxError on every page."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        attributes = getattr(js, "attributes", {}) or {}
        name = os.fspath(getattr(js, "filename", js) or "")  # None and "" both mean an inline script
        key = (name, tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    scripts[:] = unique  # in place: the builder's list, which other handlers may still extend


STAMP_PACKAGES = ("tensorflow", "tensorflow-cpu", "keras", "numpy", "pandas", "scipy", "ViennaRNA", "logomaker",
                  "papermill", "snakemake", "jupyter-book")


def _git(root: Path, *args: str) -> str | None:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)
        if out.returncode == 0:
            return out.stdout.strip()
    return None


def build_stamp(root: str | os.PathLike = REPO) -> str:
    """One line naming this build: rbgia's version and commit (``+ local changes`` when the tree differs), the
    date (UTC), the machine (CPUs; whether an NVIDIA GPU is present) and the key package versions."""
    import platform
    from datetime import UTC, datetime
    from importlib import metadata

    root = Path(root)
    version = metadata.version("rbgia") if _installed("rbgia") else "not installed"
    commit = _git(root, "rev-parse", "--short", "HEAD") or "no git commit"
    dirty = _git(root, "status", "--porcelain", "--untracked-files=no")
    gpu = "an NVIDIA GPU" if Path("/proc/driver/nvidia/gpus").is_dir() else "no GPU"
    packages = ", ".join(f"{n} {metadata.version(n)}" for n in STAMP_PACKAGES if _installed(n))
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f"Built {when} by rbgia {version} (commit {commit}{' + local changes' if dirty else ''}) on "
            f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, {gpu}; Python "
            f"{platform.python_version()}, {packages}.")


def _installed(name: str) -> bool:
    from importlib import metadata

    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def _stamp_footer(app, config) -> None:
    """Every page's footer names the build (:func:`build_stamp`)."""
    import html

    options = dict(config.html_theme_options or {})
    options["extra_footer"] = f'<p class="rbgia-stamp">{html.escape(build_stamp(app.srcdir))}</p>'
    config.html_theme_options = options


def setup(app) -> dict[str, bool]:
    """Sphinx extension (``_config.yml``: ``sphinx.extra_extensions: [rbgia.book.site]``): every HTML build,
    however started (``make book``, ``jupyter-book build .``), serves MathJax and the notebooks from
    ``_static``, renders each page's scripts once and stamps every footer with the build (:func:`build_stamp`)."""
    app.connect("config-inited", _stamp_footer)
    app.connect("builder-inited", _install_for_build)
    app.connect("html-page-context", _unique_scripts, priority=900)  # after the themes have added theirs
    return {"parallel_read_safe": True, "parallel_write_safe": True}


# --------------------------------------------------------------------------- browser


def find_chromium() -> tuple[Path, Path] | None:
    """``(browser, driver)`` of an installed Chromium and its chromedriver, or None."""
    browser = next((Path(p) for p in BROWSERS if os.access(p, os.X_OK)), None)
    driver = next((Path(p) for p in DRIVERS if os.access(p, os.X_OK)), None)
    if browser is None and shutil.which("chromium"):
        browser = Path(shutil.which("chromium"))
    if driver is None and shutil.which("chromedriver"):
        driver = Path(shutil.which("chromedriver"))
    return (browser, driver) if browser and driver else None


def ensure_chromium(install: bool = True) -> tuple[Path, Path]:
    """Chromium and chromedriver; installs Debian's ``chromium chromium-driver`` with apt-get
    when missing and running as root (as CI does).

    Raises
    ------
    BookError
        When they are missing and cannot be installed here (the message says why).
    """
    found = find_chromium()
    if found:
        return found
    apt = shutil.which("apt-get")
    if not install or apt is None or os.geteuid() != 0:
        why = "apt-get is not available" if apt is None else "not root" if os.geteuid() != 0 else "install=False"
        raise BookError(f"Chromium and chromedriver are not installed ({why}); install Debian's "
                        f"`chromium chromium-driver` packages")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", "chromium", "chromium-driver"]):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or [""]
            raise BookError(f"`{' '.join(cmd[1:])}` failed ({tail[0]}); install chromium and chromium-driver by hand")
    found = find_chromium()
    if not found:
        raise BookError("apt-get installed chromium but no chromium/chromedriver binary was found; check "
                        "/usr/bin/chromium and /usr/bin/chromedriver")
    return found


@contextlib.contextmanager
def browser(window: tuple[int, int] = WINDOW) -> Iterator[object]:
    """A headless Chromium (Selenium WebDriver) with the network off and a fresh profile."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        raise BookError("selenium is not installed; run `make env` or `pip install -e '.[dev]'`") from None
    chrome, driver_path = ensure_chromium()
    profile = tempfile.mkdtemp(prefix="rbgia-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(chrome)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={window[0]},{window[1]}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(driver_path)))
    try:
        driver.set_page_load_timeout(60)
        driver.set_script_timeout(60)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


# Waits for the page to settle: every image loaded or failed, MathJax done typesetting.
_SETTLE_JS = """
const done = arguments[arguments.length - 1];
const imgs = Array.from(document.images);
imgs.forEach(i => { i.loading = 'eager'; });
const loaded = imgs.map(i => i.complete ? Promise.resolve() :
  new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r); }));
const mj = (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) || Promise.resolve();
const timeout = new Promise(r => setTimeout(r, 20000));
Promise.race([Promise.all([...loaded, mj]), timeout]).then(() => done(true), () => done(false));
"""

# The page's problems as data; the content column is the theme's article (else main, else body).
_INSPECT_JS = """
const root = document.querySelector('article.bd-article') || document.querySelector('main') || document.body ||
  document.documentElement;
const clone = root.cloneNode(true);
clone.querySelectorAll('pre, code, script, style, textarea, mjx-container, .MathJax, .headerlink')
  .forEach(e => e.remove());
const text = clone.textContent;
const images = Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))
  .map(i => i.getAttribute('src') || '(no src)');
const col = root.getBoundingClientRect();
const left = col.left - 1, right = col.left + root.clientWidth + 1;
const scrolls = v => v === 'auto' || v === 'scroll';  // 'hidden' cuts the content off: that is the bug
const wide = [];
const flagged = new Set();
for (const el of root.querySelectorAll('*')) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0 || (r.right <= right && r.left >= left)) continue;
  const st = getComputedStyle(el);
  if (st.visibility === 'hidden' || st.position === 'fixed' || st.clip !== 'auto' && st.clip !== '') continue;
  let contained = false;
  for (let a = el.parentElement; a && a !== root; a = a.parentElement) {
    if (flagged.has(a) || scrolls(getComputedStyle(a).overflowX)) { contained = true; break; }
  }
  if (contained) continue;
  flagged.add(el);
  const name = el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ?
    '.' + el.className.trim().split(/\\s+/).join('.') : '');
  wide.push(name + ' "' + (el.textContent || '').trim().slice(0, 40).replace(/\\s+/g, ' ') + '" is ' +
    Math.round(r.width) + ' px wide, ' + Math.round(r.right - right) + ' px past the ' +
    Math.round(root.clientWidth) + ' px column');
}
const shrunk = Array.from(root.querySelectorAll('img')).filter(i => i.naturalWidth > 0)
  .map(i => [i.getAttribute('src') || '', i.naturalWidth, i.getBoundingClientRect().width]);
// tables wider than the column: inside a scroll container they pass the test above, but their last
// columns (verdicts, p-values) start off-screen
const tables = Array.from(root.querySelectorAll('table'))
  .filter(t => t.scrollWidth > root.clientWidth + 1 && !t.closest('.rbgia-wide-ok'))  // a stated reason passes
  .map(t => {
    const cap = t.closest('figure') && t.closest('figure').querySelector('figcaption');
    const name = ((cap && cap.textContent) || (t.querySelector('th') || t).textContent || '').trim()
      .replace(/\\s+/g, ' ').slice(0, 60);
    return [name, Math.round(t.scrollWidth), Math.round(root.clientWidth)];
  });
return {text: text, images: images, wide: wide.slice(0, 10), nwide: wide.length, shrunk: shrunk, tables: tables,
        height: Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)};
"""


def _pages(html_dir: Path) -> list[Path]:
    """Every HTML page of the book, not the theme's or Sphinx's own folders (``_static``, ``_sources``)."""
    return sorted(p for p in html_dir.rglob("*.html")
                  if not any(part.startswith("_") for part in p.relative_to(html_dir).parts[:-1]))


def _tex_left(text: str) -> list[str]:
    """Math MathJax did not typeset: TeX delimiters, or ``$x$`` as MyST's dollarmath reads it
    (``$`` then a non-space ... a non-space then ``$`` not before a digit: "$5 and $10" is not math)."""
    found = []
    for d in TEX_DELIMITERS:
        i = text.find(d)
        if i >= 0:
            found.append(f"{d!r} in {' '.join(text[max(0, i - 30):i + 40].split())!r}")
    m = DOLLAR_MATH.search(text)
    if m and "$$" not in text:
        found.append(f"'$...$' in {' '.join(text[max(0, m.start() - 30):m.end() + 30].split())!r}")
    return found


def _follow_redirect(driver: object, seconds: float = 10.0) -> None:
    """Wait until a page is loaded with a body, past a ``<meta http-equiv="refresh">`` (Sphinx's index.html)."""
    import time

    from selenium.common.exceptions import WebDriverException

    probe = ("return [document.readyState, !!document.body, "
             "!!document.querySelector('meta[http-equiv=\"refresh\" i]')]")
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            state, body, refresh = driver.execute_script(probe)
            if state == "complete" and body and not refresh:
                return
        except WebDriverException:  # the document is being replaced
            pass
        time.sleep(0.1)


def _figure_text_pt(page: Path, src: str, natural: float, shown: float) -> float | None:
    """The smallest text of an image as shown on the page, in points; None without the figure's stamp.

    A notebook's figures carry :func:`rbgia.plotting.png_metadata` (the smallest font at nominal size
    and the dpi): a point shows as ``dpi / 96`` points at the image's natural width, times its shrink.
    """
    from urllib.parse import unquote, urlparse

    from PIL import Image

    from ..plotting import DPI_KEY, FONT_KEY

    parsed = urlparse(src)
    if parsed.scheme not in ("", "file") or not natural:
        return None
    path = Path(unquote(parsed.path)) if parsed.scheme == "file" else page.parent / unquote(parsed.path)
    try:
        with Image.open(path) as image:
            stamp = getattr(image, "text", {}) or {}
    except (OSError, ValueError):
        return None
    if FONT_KEY not in stamp or DPI_KEY not in stamp:
        return None
    return float(stamp[FONT_KEY]) * float(stamp[DPI_KEY]) / 96 * min(1.0, shown / natural)


def check_page(
    driver: object,
    page: Path,
    html_dir: Path,
    screenshots: Path | None = None,
    min_image_scale: float | None = None,
    min_font_pt: float | None = 8.0,
) -> list[str]:
    """Problems on one page (see :func:`check_pages`), and its screenshot when ``screenshots`` is given."""
    rel = page.relative_to(html_dir).as_posix()
    driver.get_log("browser")  # drop what earlier pages left
    from selenium.common.exceptions import WebDriverException

    try:
        driver.get(page.resolve().as_uri())
        _follow_redirect(driver)
        driver.execute_async_script(_SETTLE_JS)
        found = driver.execute_script(_INSPECT_JS)
    except WebDriverException as err:  # a page that hangs or breaks the inspection is a problem, not a crash
        first = (err.msg or str(err)).strip().splitlines()[0][:300]
        return [f"{rel}: could not be inspected: {first}"]
    problems = [f"{rel}: raw TeX left by MathJax: {t}" for t in _tex_left(found["text"])]
    severe = [e["message"][:300] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    problems += [f"{rel}: console error: {m}" for m in dict.fromkeys(severe)]  # once each, in order
    problems += [f"{rel}: image did not load: {src[:120]}" for src in found["images"]]
    if min_image_scale is not None:
        problems += [f"{rel}: figure shown at {shown / natural:.0%} of its width ({natural} -> {shown:.0f} px): "
                     f"its text shrinks with it; make it narrower (rbgia.plotting.book_style)"
                     for src, natural, shown in found["shrunk"] if shown < min_image_scale * natural]
    if min_font_pt is not None:
        for src, natural, shown in found["shrunk"]:
            size = _figure_text_pt(page, src, natural, shown)
            if size is not None and size < min_font_pt - 0.05:
                problems.append(f"{rel}: figure text at {size:.1f} pt on the page (at least {min_font_pt:g}): "
                                f"{Path(src).name}; enlarge its fonts or narrow it (rbgia.plotting.book_style)")
    problems += [f"{rel}: wider than the content column outside a scroll container: {w}" for w in found["wide"]]
    problems += [f"{rel}: table \"{name}\" is {width} px wide in the {column} px column: its last columns start "
                 "off-screen; put the verdict, p and q columns first or split the table"
                 for name, width, column in found.get("tables", [])]
    if found["nwide"] > len(found["wide"]):
        problems.append(f"{rel}: ... and {found['nwide'] - len(found['wide'])} more too-wide elements")
    if screenshots is not None:
        import base64

        shot = screenshots / shot_name(rel)
        shot.parent.mkdir(parents=True, exist_ok=True)
        height = int(min(max(found["height"], 1), MAX_SHOT_HEIGHT))
        data = driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": WINDOW[0], "height": height, "scale": 1},
        })
        shot.write_bytes(base64.b64decode(data["data"]))
    return problems


def check_pages(
    html_dir: str | os.PathLike,
    screenshots_dir: str | os.PathLike | None = None,
    pages: Sequence[str] | None = None,
    min_image_scale: float | None = None,
    min_font_pt: float | None = 8.0,
) -> list[str]:
    """Open every page of a built book in headless Chromium (network off) and list its problems.

    Parameters
    ----------
    html_dir
        The built site (``_build/html``).
    screenshots_dir
        Where one full-page PNG per page goes (``notebooks__executed__05_gia.png``);
        None: no screenshots.
    pages
        Only these pages (paths relative to ``html_dir``, e.g. ``"book/intro.html"``).
    min_image_scale
        Also report content images the browser shrinks below this fraction of their width
        to fit the column (their fonts shrink too); None: not checked.
    min_font_pt
        Report figures whose smallest text shows below this size on the page (read from the
        PNG's :func:`rbgia.plotting.png_metadata` stamp and the image's shown width); None: not checked.

    Returns
    -------
    list of str
        One line per problem, naming the page: raw TeX delimiters (``\\(``, ``\\[``, ``$$``)
        in the rendered text outside code, SEVERE console messages (JavaScript errors,
        resources that failed to load), images with ``naturalWidth == 0``, elements
        wider than the content column that are not inside a scroll container, and tables
        wider than the column even inside one (their last columns start off-screen). Empty:
        every page reads.

    Raises
    ------
    BookError
        When ``html_dir`` has no pages, or no Chromium can be found or installed.
    """
    html = Path(html_dir)
    todo = [html / p for p in pages] if pages else _pages(html)
    missing = [str(p) for p in todo if not p.is_file()]
    if missing or not todo:
        raise BookError(f"no pages to check in {html} ({missing[:3] or 'empty'}); build the book first "
                        f"(`python -m rbgia.book build`)")
    shots = Path(screenshots_dir) if screenshots_dir is not None else None
    if shots is not None and not pages:  # a whole-book check: no screenshot of a page the book no longer has
        prune_screenshots(shots, [p.relative_to(html).as_posix() for p in todo])
    problems: list[str] = []
    with browser() as driver:
        for page in todo:
            problems += check_page(driver, page, html, shots, min_image_scale, min_font_pt)
    return problems


def shot_name(rel: str) -> str:
    """The screenshot file of the page at ``rel`` (``notebooks/executed/05_gia.html`` ->
    ``notebooks__executed__05_gia.png``)."""
    return rel.removesuffix(".html").replace("/", "__") + ".png"


def prune_screenshots(folder: Path, pages: Sequence[str]) -> list[Path]:
    """Remove the screenshots in ``folder`` of pages not in ``pages`` (paths relative to the site root): a page
    dropped from the book leaves no stale picture beside the fresh ones. Returns what was removed."""
    keep = {shot_name(rel) for rel in pages}
    gone = [png for png in sorted(Path(folder).glob("*.png")) if png.name not in keep]
    for png in gone:
        png.unlink()
    return gone


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rbgia.book.site", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_check = sub.add_parser("check", help="open every page in headless Chromium (network off) and list problems")
    p_check.add_argument("html_dir", nargs="?", default=str(REPO / "_build" / "html"))
    p_check.add_argument("--screenshots", default=None,
                         help="folder for one PNG per page (default: screenshots/ beside html_dir)")
    p_check.add_argument("--no-screenshots", action="store_true")
    p_check.add_argument("--min-image-scale", type=float, default=0.9,
                         help="report figures shrunk below this fraction of their width (their text shrinks "
                              "with them; default 0.9, 0 turns it off)")
    p_check.add_argument("--min-font-pt", type=float, default=8.0,
                         help="report figures whose text shows below this size on the page (default 8, 0 turns "
                              "it off)")
    p_static = sub.add_parser("install-static", help="copy MathJax and the notebooks into book/_static")
    p_static.add_argument("--root", default=str(REPO))
    args = parser.parse_args(argv)
    try:
        if args.command == "install-static":
            print(f"[rbgia.book.site] MathJax {mathjax_version()} at {install_static(args.root)}", flush=True)
            return 0
        html = Path(args.html_dir)
        shots = None if args.no_screenshots else Path(args.screenshots or html.parent / "screenshots")
        pages = _pages(html)
        problems = check_pages(html, shots, min_image_scale=args.min_image_scale or None,
                               min_font_pt=args.min_font_pt or None)
    except BookError as err:
        print(f"[rbgia.book.site] ERROR: {err}", file=sys.stderr, flush=True)
        return 2
    for p in problems:
        print(f"[rbgia.book.site] {p}", flush=True)
    where = f"; screenshots in {shots}" if shots else ""
    print(f"[rbgia.book.site] {len(pages)} pages checked, {len(problems)} problems{where}", flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
