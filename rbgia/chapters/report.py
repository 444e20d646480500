"""What a chapter shows: tables, figure captions, rerun instructions and numbers in prose.

Notebooks display these objects; Jupyter Book (myst-nb) renders them::

    from rbgia import report
    report.table(df, caption="Top 10 k-mers by global importance")    # an HTML table that fits the page
    report.caption("Fig 2b", "RNCMPT00001 (A1CF), 2013 sample", "Global importance of 1-3 copies.")
    report.rerun("05_gia", experiment="RNCMPT00168")                   # the papermill command, Snakemake target
    f"{report.fmt(27000.0)} training probes, p = {report.fmt_p(0.0)}"  # '27,000 training probes, p = < 1e-300'

Numbers carry 3 significant digits, integers none, p- and q-values are in scientific
notation (``< 1e-300`` for an underflowed 0), column names are words. Tables sit in a
horizontal scroll container, so a wide one never spills out of the page's column.
:func:`check_figure` lists what makes a figure hard to read at the page's width.
"""

from __future__ import annotations

import html
import math
import os
import re
import shlex
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import motifs as rmotifs
from ..errors import DataError
from ..model_cache import TrainedModel, plateau_of

SMALLEST_P = 1e-300  # below this a float p-value has underflowed: print "< 1e-300", never 0
MISSING = "–"  # NaN / None in tables and prose
CHAPTER_DIR = "notebooks"
# The workflow's output for a chapter: `snakemake ... <target>` re-executes it (and the jobs it needs).
SNAKEMAKE_TARGET = "notebooks/executed/{stem}.ipynb"
# Where the build copies the clean chapter notebooks (rbgia.book.site.install_static), relative to a chapter page.
NOTEBOOK_DOWNLOAD = "../../_static/download/{stem}.ipynb"
CSS_DPI = 96  # CSS pixels per inch: how big a figure's pixels show on the page
COLUMN_PX = 688  # the book theme's content column (article less padding) in a 1280 px window, measured

# Column names that are not just their words; everything else: snake_case -> words.
COLUMN_WORDS: dict[str, str] = {
    "test_pearson": "test Pearson r",
    "valid_pearson": "validation Pearson r",
    "train_pearson": "training Pearson r",
    "test_spearman": "test Spearman ρ",
    "pearson": "Pearson r",
    "spearman": "Spearman ρ",
    "pvalue": "p-value",
    "p_value": "p-value",
    "qvalue": "q-value",
    "q_value": "q-value",
    "p": "p-value",
    "q": "q-value",
    "n": "n",
    "kmer": "k-mer",
    "top_kmer": "top k-mer",
    "ci_low": "95% CI low",
    "ci_high": "95% CI high",
    "num_background": "backgrounds",
    "mean_importance": "mean importance",
    "experiment": "experiment",
    "rbp": "RBP",
    "protein": "protein",
}
# Words inside snake_case names that are abbreviations or names.
TOKEN_WORDS: dict[str, str] = {
    "pearson": "Pearson",
    "spearman": "Spearman",
    "wilcoxon": "Wilcoxon",
    "rbp": "RBP",
    "gc": "GC",
    "ci": "CI",
    "pu": "PU",
    "phime": "PHIME",
    "ism": "ISM",
    "gia": "GIA",
    "mse": "MSE",
    "auc": "AUC",
    "sd": "SD",
    "std": "SD",
    "se": "SE",
    "id": "ID",
    "kd": "Kd",
    "l2": "L2",
    "cnn": "CNN",
    "kmer": "k-mer",
    "kmers": "k-mers",
    "seq": "sequence",
    "num": "number of",
    "pct": "%",
    "p": "p",
    "q": "q",
}
_P_NAMES = {"pvalue", "qvalue", "p", "q", "p_value", "q_value", "pval", "qval", "fdr"}
_P_SUFFIXES = ("_p", "_q", "_pvalue", "_qvalue", "_p_value", "_q_value", "_pval", "_qval", "_fdr")


# --------------------------------------------------------------------------- numbers


def _missing(x: Any) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    try:
        return bool(np.isnan(x))
    except (TypeError, ValueError):
        return False


def _int_text(x: float) -> str:
    return f"{int(round(x)):,}"


def fmt(x: Any, sig: int = 3) -> str:
    """A number for prose or a table: ``sig`` significant digits, integers without decimals.

    ``0.7763290902255863 -> "0.776"``, ``27000.0 -> "27,000"``, ``12 -> "12"``,
    ``123.456 -> "123"`` (digits left of the point are kept), ``3.2e-07 -> "3.20e-07"``,
    NaN/None -> ``"–"``, ``True -> "yes"``; anything else -> ``str(x)``.
    """
    if _missing(x):
        return MISSING
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    if not isinstance(x, (float, np.floating)):
        return str(x)
    x = float(x)
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    if x.is_integer() or abs(x) >= 10 ** sig:
        return _int_text(x)
    text = f"{x:#.{sig}g}"  # '#' keeps trailing zeros: 0.5 -> "0.500"
    if "e" in text:
        # below 1e-4 scientific; a value that rounds up to 10**sig (999.7) is printed as the integer
        return _int_text(x) if abs(x) >= 1 else text
    return text.rstrip(".")


def fmt_p(p: Any, sig: int = 3) -> str:
    """A p- or q-value in scientific notation: ``3.21e-05``; 0 (underflow) -> ``"< 1e-300"``; NaN -> ``"–"``."""
    if _missing(p):
        return MISSING
    p = float(p)
    if 0 <= p <= SMALLEST_P:
        return "< 1e-300"
    return f"{p:.{sig - 1}e}"


def is_p_column(name: Any) -> bool:
    """Whether a column holds p- or q-values (``pvalue``, ``q``, ``wilcoxon_p``, ``spacing_qvalue``, ...)."""
    n = str(name).lower()
    return n in _P_NAMES or n.endswith(_P_SUFFIXES)


def column_words(name: Any) -> str:
    """A column name in words: ``test_pearson -> "test Pearson r"``, ``ci_low -> "95% CI low"``,
    ``wilcoxon_p -> "Wilcoxon p"``, ``num_sites -> "number of sites"``; other names unchanged."""
    text = str(name)
    if text in COLUMN_WORDS:
        return COLUMN_WORDS[text]
    if not re.fullmatch(r"[A-Za-z0-9_]+", text) or ("_" not in text and text.lower() not in TOKEN_WORDS):
        return text
    return " ".join(TOKEN_WORDS.get(t.lower(), t) for t in text.split("_") if t)


# --------------------------------------------------------------------------- tables


def _integral(col: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(col):
        return False
    if pd.api.types.is_integer_dtype(col):
        return True
    if not pd.api.types.is_float_dtype(col):
        return False
    values = col.dropna().to_numpy(float)
    values = values[np.isfinite(values)]
    return values.size > 0 and bool(np.all(values == np.round(values)))


def _cell(x: Any, sig: int) -> str:
    if isinstance(x, (list, tuple, np.ndarray)):
        return ", ".join(_cell(v, sig) for v in x)
    if isinstance(x, Mapping):
        return ", ".join(f"{k}: {_cell(v, sig)}" for k, v in x.items())
    return fmt(x, sig)


def _with_index(df: pd.DataFrame) -> pd.DataFrame:
    """The index as leading columns; an unnamed index gets an empty header, not "index"."""
    names = [str(n) if n is not None else " " * i for i, n in enumerate(df.index.names)]
    frame = df.reset_index()
    return frame.set_axis(names + list(frame.columns[len(names):]), axis=1)


def format_frame(df: pd.DataFrame, sig: int = 3, index: bool = False) -> pd.DataFrame:
    """``df`` as strings, the way :func:`table` prints it, with column names in words.

    p/q columns (:func:`is_p_column`) go through :func:`fmt_p`; integer columns, and float
    columns whose values are all whole numbers, print without decimals; other numbers
    through :func:`fmt` at ``sig`` significant digits.
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"report.table takes a pandas DataFrame, not {type(df).__name__}; wrap it in pd.DataFrame")
    frame = _with_index(df) if index else df
    out = {}
    for name in frame.columns:
        col = frame[name]
        if is_p_column(name):
            values = [fmt_p(v, sig) if _missing(v) or isinstance(v, (int, float, np.number)) else str(v) for v in col]
        elif _integral(col):
            values = [MISSING if _missing(v) else _int_text(float(v)) for v in col]
        else:
            values = [_cell(v, sig) for v in col]
        words = column_words(name)
        out[words if words not in out else str(name)] = values  # two names, one wording: keep both columns
    return pd.DataFrame(out, index=range(len(frame)))


@dataclass(frozen=True)
class Table:
    """A formatted table; displays as HTML in Jupyter and in the book (``text/plain`` elsewhere)."""

    frame: pd.DataFrame  # the formatted strings, columns in words
    caption: str | None
    numeric: tuple[bool, ...]  # right-align these columns
    wide: bool  # more columns than fit the page: shown smaller, scrolling sideways
    wide_reason: str | None = None  # why it may be wider than the column (the site check then lets it pass)

    @property
    def html(self) -> str:
        head = "".join(
            f'<th class="{"rbgia-num" if num else "rbgia-text"}">{html.escape(str(c))}</th>'
            for c, num in zip(self.frame.columns, self.numeric)
        )
        rows = []
        for values in self.frame.itertuples(index=False):
            cells = "".join(
                f'<td class="{"rbgia-num" if num else "rbgia-text"}">{html.escape(str(v))}</td>'
                for v, num in zip(values, self.numeric)
            )
            rows.append(f"<tr>{cells}</tr>")
        classes = "rbgia-table rbgia-wide" if self.wide else "rbgia-table"
        if self.wide_reason:
            classes += " rbgia-wide-ok"
        caption = ""
        if self.caption or self.wide:
            note = f" ({self.frame.shape[1]} columns: scroll sideways)" if self.wide else ""
            note += f" (wider than the page: {self.wide_reason})" if self.wide_reason else ""
            caption = f'<figcaption class="rbgia-caption">{html.escape(self.caption or "")}{note}</figcaption>'
        # The inline style keeps the scroll container where the book's CSS is absent (Jupyter, nbviewer).
        return (
            f'<figure class="{classes}">{caption}'
            f'<div class="rbgia-scroll" style="overflow-x:auto;max-width:100%">'
            f'<table class="rbgia-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            f"</div></figure>"
        )

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        text = self.frame.to_string(index=False)
        return f"{self.caption}\n{text}" if self.caption else text


def table(
    df: pd.DataFrame,
    caption: str | None = None,
    *,
    max_columns: int = 8,
    sig: int = 3,
    index: bool = False,
    wide_reason: str | None = None,
) -> Table:
    """Display ``df`` as a book table: numbers at ``sig`` significant digits, integers without
    decimals, p/q-values in scientific notation (``< 1e-300`` for 0), column names in words.

    Parameters
    ----------
    df
        The table (its values are not changed; only how they print).
    caption
        One line above the table: what it shows.
    max_columns
        More columns than this (after ``index``) is a wide table: it is set smaller and
        scrolls sideways inside its container, with a note in the caption.
    sig
        Significant digits of non-integer numbers.
    index
        Show the index as the first column.
    wide_reason
        Why the table may be wider than the page's column (said in its caption); the site check
        (:mod:`rbgia.book.site`) reports any other table wider than the column.

    Returns
    -------
    Table
        Displays as HTML (``_repr_html_``); ``.frame`` holds the formatted strings.
    """
    frame = format_frame(df, sig=sig, index=index)
    source = _with_index(df) if index else df
    numeric = tuple(
        bool(pd.api.types.is_numeric_dtype(source[c]) and not pd.api.types.is_bool_dtype(source[c]))
        for c in source.columns
    )
    return Table(frame, caption, numeric, wide=frame.shape[1] > max_columns, wide_reason=wide_reason)


# --------------------------------------------------------------------------- captions and rerun


@dataclass(frozen=True)
class Markdown:
    """Markdown that Jupyter and myst-nb render (``text/markdown``; math and links work)."""

    text: str

    def _repr_markdown_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text


def caption(panel: str | None, data: str, text: str) -> Markdown:
    """A caption under a figure: which paper panel it reproduces, on what data, what it shows.

    ``caption("Fig 2b", "RNCMPT00001 (A1CF), 2013 sample", "Importance of 1-3 copies.")`` ->
    ``**Figure (paper Fig 2b).** Importance of 1-3 copies. *Data: RNCMPT00001 (A1CF), 2013 sample.*``;
    ``panel=None`` says the figure is not in the paper.
    """
    if not str(data).strip() or not str(text).strip():
        raise DataError("report.caption needs the data the figure uses and one sentence of what it shows")
    label = f"paper {panel.strip()}" if panel and str(panel).strip() else "not in the paper"
    text = str(text).strip()
    data = str(data).strip().rstrip(".")
    return Markdown(f'<div class="rbgia-figcaption">\n\n**Figure ({label}).** {text} *Data: {data}.*\n\n</div>')


def _param_args(params: Mapping[str, Any]) -> list[str]:
    """papermill arguments that give back exactly these values (``-p`` infers numbers and booleans)."""
    args: list[str] = []
    for name, value in params.items():
        if not re.fullmatch(r"[A-Za-z_]\w*", str(name)):
            raise DataError(f"{name!r} is not a notebook parameter name; use the names of its parameters cell")
        if isinstance(value, bool) or value is None:
            args += ["-p", name, str(value)]
        elif isinstance(value, (int, float, np.integer, np.floating)):
            args += ["-p", name, repr(value.item() if isinstance(value, np.generic) else value)]
        elif isinstance(value, str):
            # A string papermill would read as a number, a boolean or None must go in raw.
            looks_typed = value in ("True", "False", "None") or re.fullmatch(r"[-+]?[\d.eE+-]+", value or "x")
            args += ["-r" if looks_typed else "-p", name, value]
        else:
            import json

            args += ["-y", f"{name}: {json.dumps(value if not isinstance(value, tuple) else list(value))}"]
    return args


def rerun_command(notebook: str, output: str | None = None, **params: Any) -> str:
    """The papermill command (run from the repository root) that executes ``notebook`` with ``params``."""
    stem = str(notebook).removesuffix(".ipynb").split("/")[-1]
    out = output or f"{stem}.out.ipynb"
    parts = ["papermill", f"{CHAPTER_DIR}/{stem}.ipynb", out, *_param_args(params)]
    return " ".join(shlex.quote(str(p)) for p in parts)


def rerun(notebook: str, **params: Any) -> Markdown:
    """How to rerun this chapter: the exact papermill command, the Snakemake target, the notebook.

    Parameters
    ----------
    notebook
        The chapter's stem (``"05_gia"``), as under ``notebooks/``.
    **params
        The parameters to change, e.g. ``experiment="RNCMPT00168"``; each becomes
        ``-p name value`` (``-r`` for strings that look like numbers, ``-y`` for lists).

    Returns
    -------
    Markdown
        A short section with the commands in copyable code blocks and a download link.
    """
    stem = str(notebook).removesuffix(".ipynb").split("/")[-1]
    if not re.fullmatch(r"[\w.-]+", stem):
        raise DataError(f"{notebook!r} is not a chapter name; pass its stem, e.g. '05_gia'")
    command = rerun_command(stem, **params)
    target = SNAKEMAKE_TARGET.format(stem=stem)
    link = NOTEBOOK_DOWNLOAD.format(stem=stem)
    text = (
        f"**Rerun this chapter.** From the repository root (after `make env`), with papermill:\n\n"
        f"```bash\n{command}\n```\n\n"
        f"or as the book runs it, through its Snakemake workflow, which first runs the jobs this chapter "
        f"needs (values from `book/parameters.yml`; Snakemake target `{target}`):\n\n"
        f"```bash\n.venv/bin/python -m rbgia.book run --only {stem}\n"
        f".venv/bin/snakemake --profile workflow/profiles/local {target}   # the same, by hand\n```\n\n"
        f'<a href="{html.escape(link)}" download="{html.escape(stem)}.ipynb">Download the notebook '
        f"<code>{html.escape(stem)}.ipynb</code></a> (without outputs); the download button at the top of the page "
        f"gives this page's executed copy."
    )
    return Markdown(text)


# --------------------------------------------------------------------------- figures


def _panels_per_row(fig: Any) -> int:
    """The largest number of visible axes side by side (sharing a horizontal band); colorbars excluded."""
    boxes = [ax.get_position() for ax in fig.get_axes()
             if ax.get_visible() and ax.axison and ax.get_label() != "<colorbar>"]
    best = 0
    for b in boxes:
        mid = (b.y0 + b.y1) / 2
        best = max(best, sum(1 for o in boxes if o.y0 <= mid <= o.y1))
    return best


def check_figure(
    fig: Any,
    *,
    max_per_row: int = 3,
    min_font_pt: float = 8.0,
    column_px: int = COLUMN_PX,
    warn: bool = True,
) -> list[str]:
    """What makes a figure hard to read on the page; empty when it reads well.

    Checks more than ``max_per_row`` panels side by side, text smaller than
    ``min_font_pt`` at display size (the image shows at ``dpi / 96`` of its nominal size,
    scaled down further when wider than the content column, ``column_px`` CSS pixels) and
    overlapping labels (titles, tick labels, annotations). With ``warn`` each problem is
    also issued as a ``UserWarning``.
    """
    problems: list[str] = []
    per_row = _panels_per_row(fig)
    if per_row > max_per_row:
        problems.append(f"{per_row} panels in a row (at most {max_per_row}): split the grid into several figures")
    # The PNG has dpi pixels per inch and shows at one image pixel per CSS pixel (96 per inch),
    # shrunk to the column when wider: a point of text shows as dpi / 96 * shrink points.
    width_px = fig.get_figwidth() * fig.dpi
    scale = fig.dpi / CSS_DPI * (min(1.0, column_px / width_px) if width_px > 0 else 1.0)
    from ..plotting import drawn_texts  # matplotlib only when a figure is checked

    texts = drawn_texts(fig)
    small = sorted({round(t.get_fontsize() * scale, 1) for t in texts if t.get_fontsize() * scale < min_font_pt})
    if small:
        problems.append(
            f"text at {small[0]:g} pt at display size (figure {fig.get_figwidth():g} in at {fig.dpi:g} dpi, "
            f"column {column_px} px; at least {min_font_pt:g} pt): enlarge the fonts or narrow the figure"
        )
    renderer = fig.canvas.get_renderer()
    boxes = []
    for t in texts:
        try:
            boxes.append((t, t.get_window_extent(renderer)))
        except (RuntimeError, ValueError):  # text without a renderer-compatible transform
            continue
    overlaps = []
    for i, (ti, bi) in enumerate(boxes):
        for tj, bj in boxes[i + 1:]:
            if bi.width == 0 or bj.width == 0:
                continue
            dx = min(bi.x1, bj.x1) - max(bi.x0, bj.x0)
            dy = min(bi.y1, bj.y1) - max(bi.y0, bj.y0)
            if dx > 1 and dy > 1:  # a pixel of touch is not an overlap
                overlaps.append(f"{ti.get_text()!r} / {tj.get_text()!r}")
    if overlaps:
        shown = "; ".join(overlaps[:5]) + (f"; ... ({len(overlaps)} in all)" if len(overlaps) > 5 else "")
        problems.append(f"overlapping labels: {shown}")
    if warn:
        for p in problems:
            warnings.warn(f"figure: {p}", UserWarning, stacklevel=2)
    return problems


def _plt():
    import matplotlib.pyplot as plt

    return plt


def resolved(path: str | os.PathLike) -> str:
    """``path`` as an absolute path string (what a record keeps of a data folder)."""
    return str(Path(path).resolve())


def experiment_label(data_dir: str | os.PathLike, experiment: str, reference_dir: str | os.PathLike | None = None
                     ) -> str:
    """``"RNCMPT00001 (A1CF), 2013-RNAcompete sample"``: the data a caption names."""
    name = ""
    if reference_dir is not None and (Path(reference_dir) / rmotifs.RNACOMPETE_MEME).is_file():
        found = rmotifs.read_meme(Path(reference_dir) / rmotifs.RNACOMPETE_MEME).get(experiment)
        name = f" ({found.name})" if found is not None and found.name else ""
    where = str(data_dir).rstrip("/").split("/")[-1]
    kind = {"rnacompete2009": "2009-RNAcompete", "rnacompete2013_sample": "2013-RNAcompete sample"}.get(where, where)
    return f"{experiment}{name}, {kind}"


def plateau_note(trained: Any) -> str:
    """What a caption adds about the model(s) behind a figure: ``""`` when each had plateaued
    (:func:`rbgia.train.plateau`), else ``"; model not plateaued (...)"`` (one clause per model of a mapping
    ``{name: TrainedModel}``). ``trained``: a :class:`~rbgia.model_cache.TrainedModel`, its metadata, or a mapping."""
    if isinstance(trained, Mapping) and "metrics" not in trained:
        return "".join(f"; {name} {note[2:]}" if note else "" for name, note in
                       ((name, plateau_note(t)) for name, t in trained.items()))
    meta = trained.meta if isinstance(trained, TrainedModel) else trained
    note = plateau_of(meta).note
    return f"; model {note}" if note else ""


def _f(v: Any, spec: str) -> str:
    """A number for prose; ``n/a`` for a missing (None/NaN) statistic."""
    return "n/a" if v is None or (isinstance(v, float) and not np.isfinite(v)) else format(v, spec)


def verdict_counts(table: pd.DataFrame, column: str = "verdict") -> str:
    """``"additive: 7, sub-additive: 3 (n = 10)"``: the words a chapter prints, counted from a table."""
    counts = table[column].value_counts()
    return ", ".join(f"{k}: {v}" for k, v in counts.items()) + f" (n = {int(counts.sum())})"
