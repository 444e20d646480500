"""Notebook parameters: validate a chapter's parameters in one call, and show them once.

Every chapter's second cell is::

    P = params.check(globals(), "05_gia")

:func:`check` reads the names and defaults the notebook's ``parameters`` cell declares
(papermill's reading, :func:`declared_parameters`), checks each value
against its default's type and the known ranges (:data:`RANGES`, :data:`CHOICES`; ``config`` and ``*_config`` are
:class:`~rbgia.config.TrainConfig` tags such as ``"log-seq-paper-s0"``; a ``None`` default takes the type its
line declares in a type comment, ``max_probes = None  # type: Optional[int]``, see :data:`TYPES`), and
returns a :class:`Parameters`: a dict that displays as a two-column table, so the page
shows the parameters actually used. A bad value raises :class:`~rbgia.errors.DataError`
with one line naming the parameter, its value and type, what is expected and an example
``-p name value``. The book's runner and the workflow call :func:`validate` on the same
rules before a notebook starts.
"""

from __future__ import annotations

import ast
import html
import math
import numbers
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..background import KINDS as BACKGROUND_KINDS
from ..background import PADDINGS
from ..chapters.battery import SCAN_MODES
from ..config import INPUT_KINDS, NORMALIZATIONS, VARIANTS, TrainConfig
from ..data import CLIP_RULES
from ..errors import DataError
from ..paper import POSITION_KINDS
from ..sequence import SEQ_LEN
from .spec import REPO

__all__ = ["Parameters", "check", "validate", "check_value", "declared_defaults", "declared_types", "RANGES",
           "CHOICES", "TYPES"]

_UNPARSED = object()  # a default that is an expression, not a literal: its type is not checked

# name -> (low, high, low_open): low <= value <= high (low < value when low_open); None = unbounded.
RANGES: dict[str, tuple[float | None, float | None, bool]] = {
    "max_probes": (2, None, False),  # rbgia.data keeps the first max_probes probes of each set
    "epochs": (1, None, False),
    "epochs_2009": (1, None, False),
    "num_background": (2, None, False),
    "seed": (0, None, False),
    "k": (1, 10, False),
    "n_boot": (1, None, False),
    "n_screen": (2, None, False),
    "n_examples": (1, None, False),
    "n_structure_probes": (0, None, False),
    "n_ism_probes": (1, None, False),
    "n_random_kmers": (0, None, False),
    "top_kmers": (1, None, False),
    "top_align": (1, None, False),
    "max_mismatches": (0, None, False),
    "patience": (0, None, False),
    "batch_size": (1, None, False),
    "lr": (0, None, True),
    "r2_threshold": (0, 1, True),
    "alpha": (0, 1, True),
}
# 0-based positions inside a probe
for _name in ("kmer_start", "motif_start", "loop_start", "stem_start", "start", "spacing_reference"):
    RANGES[_name] = (0, SEQ_LEN - 1, False)
# element-wise ranges of list parameters
ITEM_RANGES: dict[str, tuple[float | None, float | None, bool]] = {
    "n_series": (2, None, False),
    "multiplicity_starts": (0, SEQ_LEN - 1, False),
    "gc_starts": (0, SEQ_LEN - 1, False),
}
CHOICES: dict[str, tuple[str, ...]] = {
    "background": BACKGROUND_KINDS,
    "scan": SCAN_MODES,
    "clip_rule": CLIP_RULES,
    "positions": POSITION_KINDS,  # the paper's text, or the authors' public code (rbgia.paper)
    "padding": PADDINGS,
}
ITEM_CHOICES: dict[str, tuple[str, ...]] = {
    "background_kinds": BACKGROUND_KINDS,
}
FRACTION_SUFFIXES = ("_fraction", "_frac", "_quantile")  # names like valid_fraction: in (0, 1]
# The types a None default may declare in its line's type comment (``# type: Optional[int]``, ``# type: int|None``
# or ``# type: int``), as a default of that type: the value is checked as if that were the default (None passes).
TYPES: dict[str, Any] = {
    "int": 0, "float": 0.0, "str": "", "bool": False, "dict": {}, "list": [],
    "list[int]": [0], "list[float]": [0.0], "list[str]": [""], "list[bool]": [False],
}
CONFIG_EXAMPLE = TrainConfig().tag  # "log-seq-paper-s0"


def is_config_name(name: str) -> bool:
    """Whether ``name`` is a training-configuration parameter (``config``, ``structure_config``, ...): a tag."""
    return name == "config" or name.endswith("_config")


def _check_config(name: str, value: Any, default: Any) -> str | None:
    """``value`` as the canonical :attr:`rbgia.config.TrainConfig.tag` (a tag or a TrainConfig); None stays None."""
    if value is None and default is None:
        return None
    if isinstance(value, TrainConfig):
        return value.tag
    if isinstance(value, str):
        try:
            return TrainConfig.from_tag(value.strip()).tag
        except DataError:
            pass
    allowed = f"normalization {list(NORMALIZATIONS)}, inputs {list(INPUT_KINDS)}, variant {list(VARIANTS)}, seed >= 0"
    raise _fail(name, value, f"a configuration tag '<normalization>-<inputs>-<variant>-s<seed>' ({allowed})",
                default if isinstance(default, str) else CONFIG_EXAMPLE)


class Parameters(dict):
    """The parameters a notebook ran with (name -> value), displayed as a compact table."""

    max_items = 8  # list values longer than this are shortened on display

    def _cells(self) -> list[tuple[str, str]]:
        return [(str(k), _show(v, self.max_items)) for k, v in self.items()]

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td><code>{html.escape(k)}</code></td><td>{html.escape(v)}</td></tr>" for k, v in self._cells()
        )
        return (
            '<table class="rbgia-parameters"><caption>Parameters of this run</caption>'
            f"<thead><tr><th>parameter</th><th>value</th></tr></thead><tbody>{rows}</tbody></table>"
        )

    def _repr_markdown_(self) -> str:
        lines = ["| parameter | value |", "|---|---|"]
        lines += [f"| `{k}` | {v.replace('|', chr(92) + '|')} |" for k, v in self._cells()]
        return "\n".join(lines)


def _show(value: Any, max_items: int) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        items = [_show(v, max_items) for v in value[:max_items]]
        more = f", ... ({len(value)} in all)" if len(value) > max_items else ""
        return ", ".join(items) + more if value else "[]"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_show(v, max_items)}" for k, v in value.items()) or "{}"
    return str(value)


# --------------------------------------------------------------------------- declared defaults


_CACHE: dict[tuple[str, float], dict[str, Any]] = {}


def notebook_path(notebook: str | os.PathLike) -> Path:
    """The notebook file meant by a stem (``"05_gia"``) or a path.

    A stem is looked up under ``notebooks/`` of the working directory (papermill's cwd,
    the repository root) and then of this checkout.
    """
    path = Path(notebook)
    if path.suffix == ".ipynb" and path.is_file():
        return path
    stem = path.name.removesuffix(".ipynb")
    for base in (Path.cwd(), REPO):
        candidate = base / "notebooks" / f"{stem}.ipynb"
        if candidate.is_file():
            return candidate
    raise DataError(f"notebook {notebook!r} not found under notebooks/; pass the notebook's stem, e.g. '05_gia'")


_DECLARED: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}


def _inspected(notebook: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """papermill's reading of a notebook's ``parameters`` cell: name -> {default, inferred_type_name, help}."""
    path = Path(notebook).resolve()
    key = (str(path), path.stat().st_mtime_ns if path.is_file() else 0)
    if key not in _DECLARED:
        import papermill

        _DECLARED[key] = {name: dict(p) for name, p in papermill.inspect_notebook(str(path)).items()}
    return _DECLARED[key]


def declared_parameters(notebook: str | os.PathLike) -> dict[str, Any]:
    """Names and defaults (source text) declared in a notebook's ``parameters`` cell (papermill's reading)."""
    return {name: p.get("default") for name, p in _inspected(notebook).items()}


def declared_types(notebook: str | os.PathLike) -> dict[str, str | None]:
    """The type each parameter's line declares (``max_probes = None  # type: Optional[int]``), or None.

    Raises
    ------
    DataError
        When a declared type is not one :data:`TYPES` knows (``Optinal[int]``), naming the notebook.
    """
    path = notebook_path(notebook)
    out: dict[str, str | None] = {}
    for name, p in _inspected(path).items():
        declared = str(p.get("inferred_type_name") or "None").strip()
        out[name] = None if declared == "None" else declared
        if out[name] is not None and _base_type(out[name]) not in TYPES:
            known = ", ".join(f"Optional[{t}]" for t in TYPES)
            raise DataError(f"{path.name} declares {name} as {out[name]!r}, which rbgia.book.params does not know; "
                            f"declare one of {known} (or `<type>|None`)")
    return out


def _base_type(declared: str) -> str:
    """``"Optional[list[str]]"``, ``"list[str]|None"``, ``"list[str]"`` -> ``"list[str]"``."""
    text = re.sub(r"\s+", "", declared)
    inner = re.fullmatch(r"(?:typing\.)?Optional\[(.+)\]", text)
    if inner:
        return inner.group(1)
    return "|".join(part for part in text.split("|") if part != "None")


@dataclass(frozen=True)
class _Typed:
    """A None default with a declared type, as the messages show it: ``<int>``, and None allowed."""

    declared: str

    def __str__(self) -> str:
        return f"<{_base_type(self.declared)}>"


def declared_defaults(notebook: str | os.PathLike) -> dict[str, Any]:
    """Names and default values (literals, evaluated) of a notebook's ``parameters`` cell, in order.

    A default that is not a literal (an expression) maps to an internal marker and is not type-checked.
    """
    path = notebook_path(notebook)
    key = (str(path.resolve()), path.stat().st_mtime)
    if key not in _CACHE:
        out = {}
        for name, source in declared_parameters(path).items():
            try:
                out[name] = ast.literal_eval(source) if isinstance(source, str) else source
            except (ValueError, SyntaxError):
                out[name] = _UNPARSED
        _CACHE[key] = out
    return dict(_CACHE[key])


# --------------------------------------------------------------------------- checks


def _kind(default: Any) -> str:
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, numbers.Integral):
        return "int"
    if isinstance(default, numbers.Real):
        return "float"
    if isinstance(default, str):
        return "str"
    if isinstance(default, (list, tuple)):
        return "list"
    if isinstance(default, Mapping):
        return "dict"
    return "any"


def _example(name: str, default: Any) -> str:
    if isinstance(default, _Typed):
        return f"-p {name} {default}"
    if isinstance(default, (list, tuple)):
        shown = ",".join(str(v) for v in default) if all(not isinstance(v, (list, tuple)) for v in default) else ""
        return f"-p {name} {shown or repr(list(default))}"
    if default is None or default is _UNPARSED:
        return f"-p {name} <value>"
    return f"-p {name} {default}"


def _fail(name: str, value: Any, expected: str, default: Any) -> DataError:
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    if isinstance(default, _Typed):
        expected += " or None"
    return DataError(
        f"parameter {name} = {shown} ({type(value).__name__}) is not valid: expected {expected}; "
        f"e.g. `{_example(name, default)}`"
    )


def _range_text(bounds: tuple[float | None, float | None, bool]) -> str:
    low, high, open_low = bounds
    if low is not None and high is not None:
        return f"in ({low}, {high}]" if open_low else f"in {low}..{high}"
    if low is not None:
        return f"> {low}" if open_low else f">= {low}"
    return f"<= {high}"


def _in_range(value: float, bounds: tuple[float | None, float | None, bool]) -> bool:
    low, high, open_low = bounds
    if low is not None and (value <= low if open_low else value < low):
        return False
    return high is None or value <= high


def _bounds(name: str) -> tuple[float | None, float | None, bool] | None:
    if name in RANGES:
        return RANGES[name]
    if name.endswith(FRACTION_SUFFIXES) or name == "fraction":
        return (0, 1, True)
    return None


def _scalar(name: str, value: Any, kind: str, default: Any, what: str = "") -> Any:
    """``value`` checked as a scalar of ``kind``; ``what`` prefixes the expectation (list items)."""
    if kind == "bool":
        if not isinstance(value, bool):
            raise _fail(name, value, f"{what}True or False", default)
        return value
    if kind in ("int", "float"):
        ok = isinstance(value, numbers.Integral) if kind == "int" else isinstance(value, numbers.Real)
        if isinstance(value, bool) or not ok:
            raise _fail(name, value, f"{what}{'an int' if kind == 'int' else 'a number'}", default)
        value = int(value) if kind == "int" else float(value)
        if kind == "float" and not math.isfinite(value):
            raise _fail(name, value, f"{what}a finite number", default)
        return value
    if kind == "str" and not isinstance(value, str):
        raise _fail(name, value, f"{what}a string", default)
    return value


def check_value(name: str, value: Any, default: Any, declared: str | None = None) -> Any:
    """Check one parameter against its declared ``default`` and the known ranges; return it normalized.

    The type rules: an int default needs an int, a float default a number (ints too), a
    bool default True/False, a str default a string, a list default a list (or one
    comma-separated string, split into items of the default items' type), a dict
    default a dict. A None default takes None or a value of the type its line declares
    (``declared``, from :func:`declared_types`: ``"Optional[int]"``), and anything when it
    declares none. ``config`` and ``*_config`` parameters are training-configuration tags
    (:class:`rbgia.config.TrainConfig`), returned in canonical form.

    Raises
    ------
    DataError
        One line naming the parameter, its value and type, what is expected and an example.
    """
    if is_config_name(name):
        return _check_config(name, value, default)
    if default is None and declared is not None:
        if value is None:
            return None
        # checked as if the default were of the declared type; the messages say None is allowed too
        return _check_like(name, value, TYPES.get(_base_type(declared), _UNPARSED), _Typed(declared))
    return _check_like(name, value, default, default)


def _check_like(name: str, value: Any, like: Any, default: Any) -> Any:
    """``value`` checked against the type of ``like`` and the ranges; ``default`` is what the messages show."""
    kind = "any" if like is _UNPARSED else _kind(like)
    if kind == "list":
        items_kind = {_kind(v) for v in like}
        item_kind = items_kind.pop() if len(items_kind) == 1 else "any"
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            try:
                value = [int(p) if item_kind == "int" else float(p) if item_kind == "float" else p for p in parts]
            except ValueError:
                raise _fail(name, value, f"a comma-separated list of {item_kind}s", default) from None
        elif isinstance(value, tuple):
            value = list(value)
        if not isinstance(value, list):
            raise _fail(name, value, "a list (or a comma-separated string)", default)
        if item_kind in ("int", "float", "bool", "str"):
            value = [_scalar(name, v, item_kind, default, "a list of ") for v in value]
    elif kind == "dict":
        if not isinstance(value, Mapping):
            raise _fail(name, value, "a mapping (dict)", default)
    elif kind != "any":
        value = _scalar(name, value, kind, default)
    _check_range(name, value, default)
    return value


def _check_range(name: str, value: Any, default: Any) -> None:
    bounds = _bounds(name)
    if bounds is not None and isinstance(value, numbers.Real) and not isinstance(value, bool):
        if not _in_range(value, bounds):
            raise _fail(name, value, f"a value {_range_text(bounds)}", default)
    if name in CHOICES and value is not None:
        if value not in CHOICES[name]:
            raise _fail(name, value, f"one of {list(CHOICES[name])}", default)
    if isinstance(value, list):
        item_bounds = ITEM_RANGES.get(name)
        for v in value:
            numeric = isinstance(v, numbers.Real) and not isinstance(v, bool)
            if item_bounds and numeric and not _in_range(v, item_bounds):
                raise _fail(name, value, f"items {_range_text(item_bounds)}", default)
            if name in ITEM_CHOICES and v not in ITEM_CHOICES[name]:
                raise _fail(name, value, f"items from {list(ITEM_CHOICES[name])}", default)


def validate(
    parameters: Mapping[str, Any], notebook: str | os.PathLike, *, unknown: str = "error"
) -> Parameters:
    """Check ``parameters`` (a subset of the declared names) for ``notebook``; return them normalized.

    Parameters
    ----------
    parameters
        Name -> value, e.g. what a runner is about to inject.
    notebook
        The notebook's stem (``"05_gia"``) or path.
    unknown
        ``"error"``: a name the parameters cell does not declare raises (a typo such as
        ``num_backgroud``); ``"ignore"``: such names are dropped.

    Raises
    ------
    DataError
        On the first bad or unknown parameter, in one line.
    """
    declared = declared_defaults(notebook)
    types = declared_types(notebook)
    extra = [k for k in parameters if k not in declared]
    if extra and unknown == "error":
        import difflib

        name = extra[0]
        close = difflib.get_close_matches(name, list(declared), n=1)
        hint = f"did you mean {close[0]}?" if close else f"declared: {', '.join(declared)}"
        raise DataError(
            f"unknown parameter {name} for {notebook_path(notebook).name} (its parameters cell does not declare it); "
            f"{hint}"
        )
    return Parameters((k, check_value(k, v, declared[k], types.get(k))) for k, v in parameters.items()
                      if k in declared)


def check(namespace: Mapping[str, Any], notebook: str, *, update: bool = True, show: bool = True) -> Parameters:
    """Validate the parameters of a running notebook; return them for display.

    Parameters
    ----------
    namespace
        The notebook's ``globals()``: each name declared in the parameters cell is read from it.
    notebook
        The notebook's stem, e.g. ``"05_gia"`` (or a path).
    update
        Write normalized values back into ``namespace`` (a comma-separated ``-p experiments
        A,B`` becomes the list ``["A", "B"]`` for the cells below).
    show
        Display the table in a running notebook (so ``P = params.check(globals(), "05_gia")``
        shows it once, as the cell's output); ignored outside IPython.

    Returns
    -------
    Parameters
        Every declared parameter with the value used, in the cell's order (a two-column table).

    Raises
    ------
    DataError
        One line naming the parameter, its value and type, the expectation and an example ``-p``.
    """
    declared = declared_defaults(notebook)
    types = declared_types(notebook)
    used = Parameters((k, check_value(k, namespace[k], d, types.get(k))) for k, d in declared.items()
                      if k in namespace)
    if update and hasattr(namespace, "__setitem__"):
        for k, v in used.items():
            namespace[k] = v  # type: ignore[index]
    if show:
        _display(used)
    return used


def _display(used: Parameters) -> None:
    """Show ``used`` as the cell's output when a notebook kernel runs us (nothing elsewhere)."""
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None and getattr(shell, "kernel", None) is not None:
        from IPython.display import display

        display(used)
