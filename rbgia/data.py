"""RNAcompete data: parsing, cleaning, transforms, splits, caches; the shipped real data.

Sequence encoding lives in :mod:`rbgia.sequence` (re-exported here: ``ALPHABET``, ``SEQ_LEN``,
``pad_offset``, ``one_hot``, ``decode``, ``clean``); the downloader in :mod:`rbgia.download`
(re-exported: ``download_rnacompete``, ``DEEPBIND_URL``). The real data shipped with the
project sits in :data:`REPO_DATA` (see :func:`shipped_data_dir`).

Two file layouts are read (:func:`load_rnacompete` detects which one ``data_dir`` holds):

- **DeepBind** (the full 2013 compendium): ``sequences.tsv`` with header
  ``Fold ID<TAB>Event ID<TAB>seq`` (``Fold ID`` = ``A`` for train/validation, ``B``
  for test) and ``targets.tsv`` with one column per experiment id (``RNCMPT00168``),
  one row per probe, ``NaN`` allowed. Either may be gzipped (``.tsv.gz``).
  :func:`download_rnacompete` fetches them.
- **per set** (RNAcontext, DLPRB): one file per set, ``<score><whitespace><sequence>``
  per line, optionally gzipped, DNA or RNA letters. File names
  ``<id>_<protein>_set{A,B}.txt`` (experiment id = ``<id>``, e.g. ``RNCMPT00001``) or
  ``<id>_data_full_{A,B}.txt.gz`` (2009 data, experiment id = the RBP, e.g. ``VTS1``).

Score transforms (:func:`load_rnacompete`): probes with a NaN (non-finite) score are dropped,
then the scores are transformed and z-scored:

- ``normalization="log"``: ``log(S - S_min + 1)``;
- ``normalization="clip"``: clip at the 99.9th percentile (``clip_rule="quantile"``,
  the paper's text) or at mean + 4 sd (``clip_rule="sd"``, the public code).

``stats="train"`` (default, leak-free) fits every parameter (S_min, clip
threshold, mean, sd) on the training split and applies it to valid and test; for
the log transform, valid/test scores below the training minimum are floored at it
so that the log stays finite (counted in ``transform["splits"][name]["n_floored"]``).
``stats="per_split"`` reproduces the paper's code: each split is normalized on its
own statistics. ``.transform`` records the rule and every fitted parameter
(top-level ``min``/``clip``/``mean``/``sd`` are the training split's).

Caches (:func:`load_rnacompete`'s ``cache_dir``): the parsed, split and transformed
experiment is cached in HDF5 keyed by the input files (path, size, mtime and a sha256 of
their bytes, so a file rewritten in place with its size and mtime restored is read again) and
every parameter; structure profiles are cached separately per sequence set
and kind (keyed by the probes' content), so experiments that share probes
(all of the DeepBind layout) fold them once. An unwritable cache only warns.

Checks (on every load, from the files or the cache): finite scores beyond float32 are refused; a set
whose repeated rows are more than half of it is refused, and more than 10 copies of one probe warn (the
shipped 2009 sets hold each of about 11% of their probes twice, the 2013 sample none twice); a set B whose
distinct probes are half or more in set A is refused as a train/test leak, and any shared probe warns
with the count (the shipped sets share none); repeated DeepBind Event IDs and an empty validation split
(``valid_frac`` > 0 rounding to no probe) warn. ``.info["probes"]`` holds the counts behind them.

Command line (prebuild caches, list experiments, download)::

    python -m rbgia.data list DATA_DIR
    python -m rbgia.data prepare DATA_DIR EXPERIMENT [EXPERIMENT ...] [--inputs pu]
    python -m rbgia.data download DEST
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import gzip
import hashlib
import json
import os
import re
import sys
import time
import warnings
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._io import atomic_path
from .config import INPUT_KINDS, NORMALIZATIONS, STRUCTURE_CHANNELS
from .download import DEEPBIND_FILES, DEEPBIND_URL, deepbind_file, download_rnacompete
from .errors import DataError, RbgiaError
from .paths import is_writable_dir, user_path
from .sequence import ALPHABET, SEQ_LEN, bad_letters, clean, decode, encode_joined, one_hot, pad_offset

# pandas, h5py and tqdm are imported where used, so that `from rbgia.data import one_hot`
# stays cheap for the modules that only encode sequences.

__all__ = [
    # re-exported from rbgia.sequence and rbgia.download
    "ALPHABET", "SEQ_LEN", "pad_offset", "one_hot", "decode", "clean", "DEEPBIND_URL", "download_rnacompete",
    "REPO_DATA", "SHIPPED", "shipped_data_dir", "Split", "RNAcompeteData", "list_experiments", "load_rnacompete",
    "fingerprint", "default_cache_dir", "STATS", "CLIP_RULES", "main",
]

#: The project's ``data/`` folder (beside the package in a checkout): the shipped real data.
REPO_DATA = Path(__file__).resolve().parent.parent / "data"
#: Shipped folders under :data:`REPO_DATA` (see ``data/README.md`` for publications and licences).
SHIPPED = ("rnacompete2009", "rnacompete2013_sample", "reference")


def shipped_data_dir(name: str) -> Path:
    """A folder of the real data shipped with the project, under :data:`REPO_DATA`.

    Parameters
    ----------
    name
        ``"rnacompete2009"`` (eight 2009-RNAcompete RBPs, complete), ``"rnacompete2013_sample"``
        (RNCMPT00001 A1CF and RNCMPT00002 ANKHD1, 30,000 probes per set) or ``"reference"``
        (published numbers and motifs).

    Raises
    ------
    DataError
        On an unknown name, or when the folder is missing (rbgia installed without its checkout).
    """
    if name not in SHIPPED:
        raise DataError(f"unknown shipped data {name!r}; use one of {', '.join(map(repr, SHIPPED))}")
    path = REPO_DATA / name
    if not path.is_dir():
        raise DataError(
            f"shipped data folder {path} is missing; the real data ships in the git checkout (data/ beside rbgia/): "
            f"clone the repository and install it with `pip install -e .`"
        )
    return path


# ---------------------------------------------------------------------------
# Data objects

STATS = ("train", "per_split")
CLIP_RULES = ("quantile", "sd")
CLIP_QUANTILE = 0.999  # clip_rule="quantile": the paper's 99.9th percentile
CLIP_SD = 4.0  # clip_rule="sd": the public code's mean + 4 sd
_CACHE_VERSION = 3  # 2: digests of every cached array; 3: input files keyed on their content, probe counts kept
_SPLITS = ("train", "valid", "test")


@dataclass(frozen=True, eq=False)
class Split:
    """One split of an experiment.

    Attributes
    ----------
    x : (N, L, C) float32, one-hot (ACGU) then structure channels, if any.
    y : (N, 1) float32, transformed and z-scored scores.
    seqs : (N,) str, the probes in RNA letters (upper case, ``T`` read as ``U``).
    raw : (N,) float32, the scores before any transform.
    index : (N,) int64 or None, row of each probe in its set (A or B) as read from
        the files (0-based, before NaNs are dropped).
    """

    x: np.ndarray
    y: np.ndarray
    seqs: np.ndarray
    raw: np.ndarray
    index: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def xy(self, task: int | None = 0, what: str = "split") -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` ready for a model: x contiguous float32 ``(N, L, C)``; y float64, column ``task``
        ``(N,)`` (the only column when there is one), or every column ``(N, T)`` with ``task=None``.

        Also callable on anything with ``.x`` and ``.y`` (``Split.xy(obj)``); ``what`` names it in errors.
        """
        if not (hasattr(self, "x") and hasattr(self, "y")):
            raise DataError(f"{what} is a {type(self).__name__}; pass an rbgia.data.Split (with .x and .y)")
        x = np.ascontiguousarray(self.x, dtype=np.float32)
        y = np.asarray(self.y, dtype=np.float64)
        y = y[:, None] if y.ndim == 1 else y.reshape(y.shape[0], int(np.prod(y.shape[1:])))  # empty-safe
        if len(x) != len(y):
            raise DataError(f"{what} has {len(x)} sequences but {len(y)} scores; give one score per sequence")
        if task is None:
            return x, y
        if y.shape[1] == 1:
            return x, y[:, 0]  # one score column is the experiment's, whichever model output is scored
        if not 0 <= int(task) < y.shape[1]:
            n = y.shape[1]
            raise DataError(f"task {task} is out of range for {what} ({n} score columns); pass 0 to {n - 1}")
        return x, y[:, int(task)]


@dataclass(frozen=True, eq=False)
class RNAcompeteData:
    """An RNAcompete experiment: train/valid (set A) and test (set B) splits.

    ``transform`` holds the score transform (see :func:`load_rnacompete`); ``info``
    holds provenance: files read, probe and NaN counts, split settings, cache file.
    """

    experiment: str
    train: Split
    valid: Split
    test: Split
    normalization: str
    inputs: str
    transform: dict
    source: str
    info: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------
# Layout detection

_DATA_FULL = re.compile(r"^(?P<id>.+)_data_full_(?P<set>[AB])\.(?:txt|tsv)(?:\.gz)?$")
_SET_FILE = re.compile(r"^(?P<id>[^_]+)(?:_(?P<protein>.+))?_set(?P<set>[AB])\.(?:txt|tsv)(?:\.gz)?$")


def _per_set_files(data_dir: Path) -> dict[str, dict[str, list[Path]]]:
    """``{experiment: {"A": [paths], "B": [paths]}}`` for the per-set layout."""
    out: dict[str, dict[str, list[Path]]] = {}
    for path in sorted(data_dir.iterdir()):
        if not path.is_file():
            continue
        m = _DATA_FULL.match(path.name) or _SET_FILE.match(path.name)
        if m:
            out.setdefault(m["id"], {}).setdefault(m["set"], []).append(path)
    return out


def _shown(path: Path) -> str:
    """``path`` for a message: a relative path also names the working directory it was read from and where it
    led, so that a notebook or a job run from another folder says which folder it looked in."""
    if path.is_absolute():
        return str(path)
    return f"{path} (resolved from the working directory {Path.cwd()} to {Path(os.path.abspath(path))})"


def _layout(data_dir: str | os.PathLike) -> tuple[str, Path]:
    data_dir = user_path(data_dir, "data_dir")
    if data_dir.is_file():
        raise DataError(f"data directory {_shown(data_dir)} is a file; pass the folder holding the RNAcompete files")
    if not data_dir.is_dir():
        raise DataError(
            f"data directory {_shown(data_dir)} does not exist; pass the folder holding the RNAcompete files "
            f"(an absolute path, or one relative to the working directory)"
        )
    seqs, targets = deepbind_file(data_dir, "sequences.tsv"), deepbind_file(data_dir, "targets.tsv")
    if seqs is not None or targets is not None:
        if seqs is None or targets is None:
            have, miss = ("sequences.tsv", "targets.tsv") if targets is None else ("targets.tsv", "sequences.tsv")
            raise DataError(
                f"{_shown(data_dir)} has {have} but no {miss}(.gz); put both DeepBind files there "
                f"(rbgia.data.download_rnacompete fetches them)"
            )
        return "deepbind", data_dir
    if _per_set_files(data_dir):
        return "per_set", data_dir
    raise DataError(
        f"{_shown(data_dir)} holds neither sequences.tsv + targets.tsv (DeepBind layout) nor "
        f"<id>_<protein>_setA/B.txt or <id>_data_full_A/B.txt(.gz) files (per-set layout); "
        f"point data_dir at the RNAcompete files or fetch them with rbgia.data.download_rnacompete"
    )


def fingerprint(data_dir: str | os.PathLike, experiment: str) -> str:
    """Hash of the files ``experiment`` is read from (paths, sizes, mtimes and contents), without
    parsing them: records made from these files can check they are still current."""
    layout, data_dir = _layout(data_dir)
    files = _resolve_files(layout, data_dir, str(experiment))
    return _digest({k: _file_id(p) for k, p in files.items()})


def list_experiments(data_dir: str | os.PathLike) -> list[str]:
    """Experiment ids available in ``data_dir`` (either layout), sorted for the per-set
    layout, in column order for the DeepBind layout. Per-set experiments are listed
    only when both set A and set B files are present."""
    layout, data_dir = _layout(data_dir)
    if layout == "deepbind":
        return _targets_header(deepbind_file(data_dir, "targets.tsv"))
    return sorted(k for k, v in _per_set_files(data_dir).items() if "A" in v and "B" in v)


def _unknown_experiment(
    experiment: str, ids: Sequence[str], data_dir: Path, by_protein: Sequence[str] = ()
) -> DataError:
    if by_protein:  # a protein name where the experiment id is wanted (A1CF -> RNCMPT00001)
        hint = f"{experiment} is the protein of {', '.join(by_protein)}: pass that id; "
    else:  # matched without case: 'vts1' finds VTS1 as 'VTS' does
        upper: dict[str, str] = {}
        for i in map(str, ids):
            upper.setdefault(i.upper(), i)
        want = str(experiment).upper()
        close = [want] if want in upper else difflib.get_close_matches(want, list(upper), n=5, cutoff=0.6)
        hint = f"did you mean {', '.join(upper[c] for c in close)}? " if close else ""
    return DataError(
        f"experiment {experiment!r} not found in {_shown(data_dir)} ({len(ids)} available); "
        f"{hint}list them with rbgia.data.list_experiments(data_dir)"
    )


# ---------------------------------------------------------------------------
# Parsing

@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turn low-level read failures into one-line DataErrors naming the file."""
    import pandas as pd

    try:
        yield
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise DataError(f"{path} is truncated or corrupt ({e}); download it again") from e
    except UnicodeDecodeError as e:
        raise DataError(f"{path} is not a text file ({e}); give the plain or gzipped RNAcompete file") from e
    except pd.errors.EmptyDataError as e:
        raise DataError(f"{path} is empty; download it again") from e
    except pd.errors.ParserError as e:
        msg = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
        raise DataError(f"cannot parse {path}: {msg}; fix or re-download the file") from e


def _clean_seqs(seqs: Any, path: Path, length: int, first_line: int) -> np.ndarray:
    """Upper-case, T -> U, check letters and lengths; returns a ``<U{length}`` array.

    ``first_line`` is the file line number of the first sequence (for messages).
    """
    import pandas as pd

    s = pd.Series(seqs)
    missing = s.isna().to_numpy()
    if missing.any():
        i = int(np.argmax(missing))
        raise DataError(f"{path} line {i + first_line} has no sequence; fix or re-download the file")
    cleaned = [clean(q.strip()) for q in s.astype(str)]
    _, lens, i = encode_joined(cleaned)
    if i is not None:
        raise DataError(
            f"{path} line {i + first_line}: probe {cleaned[i][:50]!r} has letters {bad_letters(cleaned[i])} "
            f"outside ACGUTN; give RNA or DNA letters only"
        )
    if lens.size and lens.max() > length:
        i = int(np.argmax(lens))
        raise DataError(
            f"{path} line {i + first_line}: probe of {lens[i]} nt is longer than the model length {length}; "
            f"pass length={int(lens.max())} or more, or trim the probes"
        )
    return np.array(cleaned, dtype=f"<U{length}")


def _read_per_set(path: Path, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores (float64, NaN kept) and cleaned sequences of one per-set file."""
    import pandas as pd

    with _reading(path):
        try:
            df = pd.read_csv(path, sep=r"\s+", header=None, dtype={0: "float64", 1: str}, engine="c")
        except ValueError as e:
            if isinstance(e, (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError)):
                raise
            raise DataError(
                f"{path}: a score is not a number ({e}); each line must be <score> <sequence>"
            ) from e
    if df.shape[1] != 2:
        raise DataError(
            f"{path} has {df.shape[1]} column(s), expected 2 (<score> <sequence>); give a per-set RNAcompete file"
        )
    return df[0].to_numpy(dtype=np.float64), _clean_seqs(df[1], path, length, first_line=1)


def _targets_header(path: Path) -> list[str]:
    """Experiment ids of ``targets.tsv``, refusing duplicates (pandas would rename them ``X.1``)."""
    import pandas as pd

    with _reading(path):
        row = pd.read_csv(path, sep="\t", header=None, nrows=1, dtype=str, keep_default_na=False)
    ids = [str(c) for c in row.iloc[0]] if len(row) else []
    cols: dict[str, list[int]] = {}
    for i, c in enumerate(ids, start=1):
        cols.setdefault(c, []).append(i)
    dup = {c: pos for c, pos in cols.items() if len(pos) > 1}
    if dup:
        which = "; ".join(f"{c!r} in columns {', '.join(map(str, pos))}" for c, pos in dup.items())
        raise DataError(
            f"{path} has duplicated experiment ids ({which}; 1-based); rename or remove the duplicate columns"
        )
    return ids


def _repeated_ids(ids: Any) -> dict[str, Any] | None:
    """Rows of ``sequences.tsv`` whose Event ID repeats another row's: their count, the first such ID and its
    file lines (at most 5), or None when every ID is unique (blank IDs and no Event ID column are not repeats)."""
    if ids is None:
        return None
    ids = ids.str.strip().reset_index(drop=True)
    ids = ids[ids != ""]
    repeated = ids.duplicated(keep=False)
    if not repeated.any():
        return None
    first = str(ids[repeated].iloc[0])
    lines = [int(i) + 2 for i in ids.index[ids == first][:5]]  # 1-based file lines, after the header
    return {"n": int(ids.duplicated().sum()), "first": first, "lines": lines}


def _read_deepbind(
    seq_path: Path, tgt_path: Path, experiment: str, length: int
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, Any]]:
    """Scores and probes of set A and set B, and what :func:`_screen` checks of the file (repeated Event IDs)."""
    import pandas as pd

    ids = _targets_header(tgt_path)
    if experiment not in ids:
        raise _unknown_experiment(experiment, ids, tgt_path.parent)
    with _reading(seq_path):
        seqdf = pd.read_csv(seq_path, sep="\t", dtype=str, keep_default_na=False)
    seqdf.columns = [str(c).strip() for c in seqdf.columns]
    for col in ("Fold ID", "seq"):
        if col not in seqdf.columns:
            raise DataError(
                f"{seq_path} has no {col!r} column (columns: {list(seqdf.columns)}); "
                f"the DeepBind layout needs the header Fold ID<TAB>Event ID<TAB>seq"
            )
    with _reading(tgt_path):
        try:
            tg = pd.read_csv(tgt_path, sep="\t", usecols=[experiment], dtype={experiment: "float64"})
        except ValueError as e:
            if isinstance(e, (pd.errors.ParserError, pd.errors.EmptyDataError)):
                raise
            raise DataError(f"{tgt_path}: a score of {experiment} is not a number ({e}); fix or re-download it") from e
    if len(tg) != len(seqdf):
        raise DataError(
            f"{seq_path.name} has {len(seqdf)} probes but {tgt_path.name} has {len(tg)} rows; "
            f"they must match row for row: re-download both files together"
        )
    fold = seqdf["Fold ID"].str.strip().str.upper().to_numpy(dtype=str)
    bad = ~np.isin(fold, ["A", "B"])
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(
            f"{seq_path} line {i + 2}: Fold ID {str(fold[i])!r} is neither A (train/validation) nor B (test); "
            f"fix the file"
        )
    for s, role in (("A", "train/validation"), ("B", "test")):
        if len(fold) and not (fold == s).any():
            raise DataError(
                f"{seq_path} has no Fold ID {s} rows, so there is no set {s} ({role}); the DeepBind layout needs "
                f"both sets: re-download sequences.tsv or put the set {s} probes back"
            )
    col = seqdf["seq"]
    seqs = _clean_seqs(col.mask(col.str.strip() == ""), seq_path, length, first_line=2)
    scores = tg[experiment].to_numpy(dtype=np.float64)
    notes = {"event_ids": _repeated_ids(seqdf.get("Event ID"))}
    return {s: (scores[fold == s], seqs[fold == s]) for s in ("A", "B")}, notes


def _resolve_files(layout: str, data_dir: Path, experiment: str) -> dict[str, Path]:
    """The files an experiment is read from: ``{"sequences", "targets"}`` or ``{"A", "B"}``."""
    if layout == "deepbind":
        return {name.split(".")[0]: deepbind_file(data_dir, name) for name in DEEPBIND_FILES}
    table = _per_set_files(data_dir)
    if experiment not in table:
        complete = sorted(k for k, v in table.items() if "A" in v and "B" in v)
        proteins = sorted({m["id"] for p in data_dir.iterdir() if (m := _SET_FILE.match(p.name))
                           and (m["protein"] or "").upper() == experiment.upper() and m["id"] in complete})
        raise _unknown_experiment(experiment, complete, data_dir, proteins)
    files = {}
    for s in ("A", "B"):
        paths = table[experiment].get(s, [])
        if not paths:
            raise DataError(
                f"no set {s} file for {experiment} in {_shown(data_dir)}; put its set {s} file beside the other"
            )
        if len(paths) > 1:
            raise DataError(
                f"{len(paths)} set {s} files for {experiment} in {_shown(data_dir)} "
                f"({', '.join(p.name for p in paths)}); "
                f"keep one"
            )
        files[s] = paths[0]
    return files


def _read_sets(
    layout: str, files: dict[str, Path], experiment: str, length: int, max_probes: int | None
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, Any]]:
    """``({set: (scores, probes)}, notes)``: the notes of the files (see :func:`_read_deepbind`) and the probe
    counts of the sets as they are used (:func:`_probe_counts`, after ``max_probes``)."""
    notes: dict[str, Any] = {}
    if layout == "deepbind":
        sets, notes = _read_deepbind(files["sequences"], files["targets"], experiment, length)
    else:
        sets = {s: _read_per_set(files[s], length) for s in ("A", "B")}
    if max_probes is not None:
        sets = {s: (sc[:max_probes], sq[:max_probes]) for s, (sc, sq) in sets.items()}
    _check_score_range(sets, files, experiment)
    return sets, {**notes, "probes": _probe_counts(sets)}


# ---------------------------------------------------------------------------
# Checks of the sets: scores within float32, copies of one probe, set B repeating set A, the validation split

_F32_MAX = float(np.finfo(np.float32).max)
_MAX_COPIES = 10  # copies of one probe before a warning (the shipped 2009 sets repeat a probe at most twice)
_MOSTLY = 0.5  # a set whose repeated rows exceed this fraction of it is refused
_LEAK = 0.5  # a set B sharing this fraction of its distinct probes with set A is refused as a leak


def _source(files: dict[str, Path], s: str, what: str = "probes") -> str:
    """Where set ``s``'s probes (or scores) come from, for a message."""
    if s in files:
        return str(files[s])
    return f"{files['targets']}, Fold ID {s} rows" if what == "scores" else f"{files['sequences']}, Fold ID {s}"


def _check_score_range(sets: dict[str, tuple[np.ndarray, np.ndarray]], files: dict[str, Path], experiment: str
                       ) -> None:
    """Finite scores beyond float32 (``Split.raw``'s type) are refused: they would be stored as inf and their
    transform overflows (a log of 2e308 is inf; the z-score then reads 'all equal')."""
    for s, (scores, _) in sets.items():
        big = np.isfinite(scores) & (np.abs(scores) > _F32_MAX)
        if big.any():
            raise DataError(
                f"set {s} of {experiment} ({_source(files, s, 'scores')}) has {int(big.sum())} scores beyond the "
                f"float32 range (largest magnitude {np.abs(scores[big]).max():.3g}; float32 holds {_F32_MAX:.3g}): "
                f"they overflow the stored scores and their transform; rescale the scores or fix the file"
            )


def _probe_counts(sets: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, Any]:
    """Per set, of the probes with a finite score: how many, how many distinct, the most copies of one probe
    (which, and how many probes have more than :data:`_MAX_COPIES`); and how many distinct probes both sets hold."""
    out: dict[str, Any] = {}
    distinct = {}
    for s, (scores, seqs) in sets.items():
        u, c = np.unique(seqs[np.isfinite(scores)], return_counts=True)
        distinct[s] = u
        top = int(np.argmax(c)) if c.size else 0
        out[s] = {
            "n": int(c.sum()), "distinct": int(u.size), "max_copies": int(c.max()) if c.size else 0,
            "most_copied": str(u[top]) if c.size else "", "n_over": int((c > _MAX_COPIES).sum()),
        }
    out["shared"] = int(np.intersect1d(distinct["A"], distinct["B"], assume_unique=True).size)
    return out


def _screen(counts: dict[str, Any], files: dict[str, Path], experiment: str, valid_frac: float, n_valid: int) -> None:
    """Refuse a set B that repeats set A or a set that is mostly copies; warn of a few shared probes, of many
    copies of one probe, of repeated Event IDs and of an empty validation split.

    Called on every load, from the files or the cache, by :func:`_read_or_build` (stacklevel=4: the caller of
    :func:`load_rnacompete`)."""
    probes = counts["probes"]
    for s in ("A", "B"):
        c, where = probes[s], f"set {s} of {experiment} ({_source(files, s)})"
        if c["n"] - c["distinct"] > _MOSTLY * c["n"]:
            raise DataError(
                f"{where} is mostly copies: {c['n'] - c['distinct']} of its {c['n']} probes repeat another (the "
                f"most copied, {c['most_copied']!r}, {c['max_copies']} times); deduplicate the file or re-download it"
            )
        if c["max_copies"] > _MAX_COPIES:
            more = f", and {c['n_over'] - 1} more probes over {_MAX_COPIES} copies" if c["n_over"] > 1 else ""
            warnings.warn(
                f"{where} holds {c['max_copies']} copies of one probe ({c['most_copied']!r}){more}: each copy weighs "
                f"in training and copies may fall in both train and validation; deduplicate the file (the shipped "
                f"RNAcompete sets repeat a probe at most twice)", stacklevel=4,
            )
    in_both, n_b, pair = probes["shared"], probes["B"]["distinct"], f"{_source(files, 'A')}, {_source(files, 'B')}"
    if in_both >= _LEAK * n_b:
        raise DataError(
            f"set B (test) of {experiment} repeats set A: {in_both} of its {n_b} distinct probes are also in set A "
            f"({pair}); testing on training probes is a leak: give the real set B file"
        )
    if in_both:
        warnings.warn(
            f"{in_both} of the {n_b} distinct set-B (test) probes of {experiment} also occur in set A ({pair}): "
            f"their test scores are optimistic; remove them from one set", stacklevel=4,
        )
    if (ids := counts.get("event_ids")) is not None:
        warnings.warn(
            f"{files['sequences']} has {ids['n']} rows whose Event ID repeats another's ({ids['first']} on lines "
            f"{', '.join(map(str, ids['lines']))}): the file was concatenated or edited; re-download it", stacklevel=4,
        )
    if valid_frac > 0 and n_valid == 0:
        warnings.warn(
            f"valid_frac={valid_frac} of the {probes['A']['n']} set-A probes of {experiment} gives an empty validation "
            f"split (it rounds to 0 probes: no validation loss, no early stopping); use more probes or a larger "
            f"valid_frac, or pass valid_frac=0 to train without one", stacklevel=4,
        )


# ---------------------------------------------------------------------------
# Score transforms

def _fit_transform(s: np.ndarray, normalization: str, clip_rule: str, where: str) -> dict:
    """Parameters (min or clip threshold, then mean and sd) fitted on scores ``s``."""
    p: dict[str, Any] = {"min": None, "clip": None}
    if normalization == "clip":
        p["clip"] = float(np.quantile(s, CLIP_QUANTILE) if clip_rule == "quantile" else s.mean() + CLIP_SD * s.std())
    else:
        p["min"] = float(s.min())
    t, _ = apply_transform(s, p, normalization)
    p["mean"], p["sd"] = float(t.mean()), float(t.std())
    if not p["sd"] > 0:
        raise DataError(
            f"the {where} scores are all equal after the {normalization} transform, so they cannot be z-scored; "
            f"pick another experiment"
        )
    return p


def apply_transform(s: np.ndarray, p: Mapping[str, Any], normalization: str) -> tuple[np.ndarray, int]:
    """Scores ``s`` through a fitted transform ``p`` (a dataset's ``.transform``: ``min`` or ``clip``), before
    z-scoring; and how many were floored at the minimum."""
    if normalization == "clip":
        return np.minimum(s, p["clip"]), 0
    below = s < p["min"]
    return np.log(np.where(below, p["min"], s) - p["min"] + 1.0), int(below.sum())


def _normalize(raw: dict[str, np.ndarray], normalization: str, stats: str, clip_rule: str) -> tuple[dict, dict]:
    """``{split: y (N,1) float32}`` and the transform record."""
    params: dict[str, dict | None] = {}
    ys: dict[str, np.ndarray] = {}
    train_p = _fit_transform(raw["train"], normalization, clip_rule, "training")
    for name in _SPLITS:
        s = raw[name]
        if stats == "train" or name == "train":
            p = dict(train_p)
        elif s.size == 0:
            p = None
        else:
            p = _fit_transform(s, normalization, clip_rule, name)
        if p is None:
            ys[name] = np.zeros((0, 1), np.float32)
            params[name] = None
            continue
        t, floored = apply_transform(s, p, normalization)
        p["n_floored"] = floored
        ys[name] = ((t - p["mean"]) / p["sd"]).astype(np.float32)[:, None]
        params[name] = p
    transform = {
        "normalization": normalization,
        "stats": stats,
        "clip_rule": clip_rule,
        "clip_quantile": CLIP_QUANTILE,
        "clip_sd": CLIP_SD,
        **{k: train_p[k] for k in ("min", "clip", "mean", "sd")},
        "splits": params,
    }
    return ys, transform


def _build(
    sets: dict[str, tuple[np.ndarray, np.ndarray]],
    experiment: str,
    normalization: str,
    stats: str,
    clip_rule: str,
    valid_frac: float,
    seed: int | np.random.Generator,
    length: int,
) -> tuple[dict[str, dict[str, np.ndarray]], dict, dict]:
    """Drop NaNs, split set A, transform the scores, one-hot encode.

    Returns ``({split: {"onehot", "y", "raw", "seqs", "index"}}, transform, counts)``.
    """
    scores_a, seqs_a = sets["A"]
    scores_b, seqs_b = sets["B"]
    fin_a, fin_b = np.isfinite(scores_a), np.isfinite(scores_b)
    if not fin_a.any() and not fin_b.any():
        raise DataError(f"experiment {experiment} has no finite score (all NaN); pick another experiment")
    if fin_a.sum() < 2:
        raise DataError(
            f"experiment {experiment} has {int(fin_a.sum())} finite set-A score(s), too few to train on; "
            f"pick another experiment"
        )
    if not fin_b.any():
        raise DataError(f"experiment {experiment} has no finite set-B (test) score; pick another experiment")
    idx_a = np.flatnonzero(fin_a)
    perm = np.random.default_rng(seed).permutation(idx_a.size)
    n_valid = int(round(valid_frac * idx_a.size))
    if idx_a.size - n_valid < 2:
        raise DataError(f"valid_frac={valid_frac} leaves {idx_a.size - n_valid} training probes; lower valid_frac")
    # Sorted indices keep the file order inside each split (shuffling is the trainer's job).
    index = {
        "train": np.sort(idx_a[perm[n_valid:]]),
        "valid": np.sort(idx_a[perm[:n_valid]]),
        "test": np.flatnonzero(fin_b),
    }
    src = {"train": (scores_a, seqs_a), "valid": (scores_a, seqs_a), "test": (scores_b, seqs_b)}
    raw = {k: src[k][0][index[k]] for k in _SPLITS}
    ys, transform = _normalize(raw, normalization, stats, clip_rule)
    splits = {}
    for k in _SPLITS:
        seqs = src[k][1][index[k]]
        splits[k] = {
            "onehot": one_hot(seqs, length).astype(np.uint8),  # exact 0/1: a quarter of the disk
            "y": ys[k],
            "raw": raw[k].astype(np.float32),
            "seqs": seqs,
            "index": index[k].astype(np.int64),
        }
    counts = {
        "n_probes": {"A": int(scores_a.size), "B": int(scores_b.size)},
        "n_dropped": {"A": int((~fin_a).sum()), "B": int((~fin_b).sum())},
    }
    return splits, transform, counts


# ---------------------------------------------------------------------------
# Caches

def default_cache_dir(data_dir: str | os.PathLike) -> Path:
    """``<data_dir>/.rbgia_cache`` if it may be written, else ``$XDG_CACHE_HOME/rbgia``
    (``~/.cache/rbgia``)."""
    local = user_path(data_dir) / ".rbgia_cache"
    if is_writable_dir(local):
        return local
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rbgia"


_CONTENT: dict[str, tuple[tuple[int, ...], str]] = {}  # resolved path -> (its stat, the sha256 of its bytes)


def _content_digest(path: Path) -> str:
    """sha256 of a file's bytes (about 1 GB/s), remembered in this process while its size, mtime, ctime, inode
    and device are unchanged: a rewrite with its mtime restored still changes its ctime."""
    st, name = path.stat(), str(path.resolve())
    stamp = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
    if name not in _CONTENT or _CONTENT[name][0] != stamp:
        with open(path, "rb") as fh:
            _CONTENT[name] = (stamp, hashlib.file_digest(fh, "sha256").hexdigest())
    return _CONTENT[name][1]


def _file_id(path: Path) -> list:
    """What a cache and :func:`fingerprint` key an input file on: its path, size, mtime and content."""
    st = path.stat()
    return [str(path.resolve()), st.st_size, st.st_mtime_ns, _content_digest(path)]


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


def _array_digest(a: np.ndarray) -> str:
    """sha256 of an array's dtype, shape and bytes: what a cache stores is checked on reading."""
    a = np.ascontiguousarray(a)
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.data if a.size else b"")
    return h.hexdigest()


class _CacheCorrupt(ValueError):
    """A cache file read back with a wrong checksum or inconsistent shapes."""


def _safe_name(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", s)[:60]


def _write_h5(path: Path, fill: Callable[[Any], None]) -> bool:
    """Write an HDF5 file atomically; on failure warn and return False (the cache is optional)."""
    import h5py

    try:
        with atomic_path(path) as tmp:
            with h5py.File(tmp, "w") as f:
                fill(f)
        return True
    except OSError as e:
        warnings.warn(f"could not write cache {path} ({e}); continuing without it", stacklevel=3)
        return False


def _put(g: Any, name: str, a: np.ndarray, compress: bool = False) -> None:
    if compress and a.size:
        g.create_dataset(name, data=a, compression="lzf", chunks=(min(len(a), 4096), *a.shape[1:]))
    else:
        g.create_dataset(name, data=a)


_FIELDS = ("onehot", "y", "raw", "index", "seqs")


def _stored(d: dict) -> dict[str, np.ndarray]:
    """The arrays of one split as the cache stores them (sequences as ASCII bytes)."""
    seqs = np.char.encode(d["seqs"], "ascii") if d["seqs"].size else np.zeros(0, "S1")
    return {"onehot": d["onehot"], "y": d["y"], "raw": d["raw"], "index": d["index"], "seqs": seqs}


def _save_experiment(path: Path, splits: dict, meta: dict) -> bool:
    stored = {k: _stored(d) for k, d in splits.items()}
    digests = {f"{k}/{name}": _array_digest(a) for k, arrays in stored.items() for name, a in arrays.items()}

    def fill(f: Any) -> None:
        f.attrs["meta"] = json.dumps({**meta, "digests": digests})
        for k, arrays in stored.items():
            g = f.create_group(k)
            for name, a in arrays.items():
                _put(g, name, a, compress=name in ("onehot", "seqs"))

    return _write_h5(path, fill)


def _check_split_shapes(name: str, d: dict[str, np.ndarray], length: int) -> None:
    n = d["index"].shape[0] if d["index"].ndim == 1 else -1
    want = {"onehot": (n, length, 4), "y": (n, 1), "raw": (n,), "index": (n,), "seqs": (n,)}
    for f in _FIELDS:
        if d[f].shape != want[f]:
            raise _CacheCorrupt(f"{name}/{f} has shape {d[f].shape}, expected {want[f]}")


def _load_experiment(path: Path, length: int) -> tuple[dict, dict] | None:
    """A cached experiment, or None (with a warning: it is rebuilt) when it is unreadable,
    fails its checksums or holds arrays of inconsistent shapes.

    Called by :func:`_read_or_build` for :func:`load_rnacompete`: the warnings' stacklevel=4 names the caller
    of :func:`load_rnacompete`."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            meta = json.loads(f.attrs["meta"])
            digests = meta["digests"]
            splits = {}
            for k in _SPLITS:
                d = {name: f[k][name][...] for name in _FIELDS}
                bad = [name for name in _FIELDS if _array_digest(d[name]) != digests[f"{k}/{name}"]]
                if bad:
                    raise _CacheCorrupt(f"{', '.join(f'{k}/{b}' for b in bad)} failed its checksum")
                _check_split_shapes(k, d, length)
                d["seqs"] = d["seqs"].astype(f"<U{length}")
                splits[k] = d
        counts = meta["counts"]
        if not isinstance(counts.get("probes"), dict):
            raise _CacheCorrupt("its record has no probe counts")
        for s, names in (("A", ("train", "valid")), ("B", ("test",))):
            have = sum(len(splits[k]["index"]) for k in names)
            if have != counts["n_probes"][s] - counts["n_dropped"][s]:
                raise _CacheCorrupt(f"set {s} has {have} probes, its record says otherwise")
        return splits, meta
    except _CacheCorrupt as e:
        warnings.warn(f"cache {path} is corrupt ({e}); rebuilding it", stacklevel=4)
    except (OSError, KeyError, ValueError, TypeError) as e:
        warnings.warn(f"ignoring unreadable cache {path} ({e}); rebuilding it", stacklevel=4)
    return None


def _structure_profile(seqs: Sequence[str], kind: str, length: int, n_jobs: int | None, progress: bool) -> np.ndarray:
    """Hook around rbgia.structure (imported lazily: ViennaRNA is only needed for pu/phime)."""
    from .structure import structure_profile

    # memo=False: the store on disk keeps these folds; tens of thousands of probes would only churn the memo
    return structure_profile(seqs, kind=kind, length=length, n_jobs=n_jobs, progress=progress, memo=False)


def _read_structure_store(path: Path, kind: str, length: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The store's sorted probes and their profiles, or None (with a warning when it is damaged)."""
    import h5py

    if not path.is_file():
        return None
    try:
        with h5py.File(path, "r") as f:
            keys, prof = f["seqs"][...], f["profile"][...]
            stored = str(f["profile"].attrs["digest"])
        if _array_digest(keys) + _array_digest(prof) != stored:
            raise _CacheCorrupt("profile failed its checksum")
        want = (len(keys), length, STRUCTURE_CHANNELS[kind])
        if prof.ndim != 3 or prof.shape != want:
            raise _CacheCorrupt(f"profile has shape {prof.shape}, expected {want}")
        if len(keys) > 1 and not (keys[1:] > keys[:-1]).all():
            raise _CacheCorrupt("its probes are not sorted and unique")
        return keys, prof
    except _CacheCorrupt as e:
        warnings.warn(f"cache {path} is corrupt ({e}); recomputing it", stacklevel=3)
    except (OSError, KeyError, ValueError, TypeError) as e:
        warnings.warn(f"ignoring unreadable cache {path} ({e}); recomputing it", stacklevel=3)
    return None


def _structure_of(
    kind: str,
    length: int,
    seqs: Mapping[str, np.ndarray],
    cache_dir: Path | None,
    n_jobs: int | None,
    progress: bool,
) -> dict[str, np.ndarray]:
    """Structure channels ``(N, length, C)`` of each split's probes (``seqs``: split name -> probes).

    Profiles are stored per distinct probe in one file per data folder, kind and length
    (``structure-<kind>-L<length>.h5``): experiments that share probes (the 2009 RBPs hold
    subsets of one array design; DeepBind's share all) fold each probe once. A damaged
    store is recomputed; folding adds only the probes it lacks."""
    probes = {name: np.char.encode(np.asarray(v, dtype=str), "ascii") for name, v in seqs.items()}
    wanted = np.unique(np.concatenate(list(probes.values())))
    path = None if cache_dir is None else cache_dir / f"structure-{kind}-L{length}.h5"
    have = None if path is None else _read_structure_store(path, kind, length)
    keys = np.zeros(0, "S1") if have is None else have[0]
    prof = np.zeros((0, length, STRUCTURE_CHANNELS[kind]), np.float32) if have is None else have[1]
    missing = np.setdiff1d(wanted, keys, assume_unique=True)
    if len(missing):
        new = np.asarray(_structure_profile(np.char.decode(missing, "ascii").tolist(), kind, length, n_jobs,
                                            progress), dtype=np.float32)
        want = (len(missing), length, STRUCTURE_CHANNELS[kind])
        if new.shape != want:
            raise DataError(f"structure_profile returned shape {new.shape}, expected {want}; check rbgia.structure")
        if path is not None:  # re-read: another job may have added probes meanwhile
            latest = _read_structure_store(path, kind, length)
            if latest is not None:
                keys, prof = latest
                fresh = ~np.isin(missing, keys)
                missing, new = missing[fresh], new[fresh]
        keys = np.concatenate([keys.astype(f"S{max(keys.dtype.itemsize, missing.dtype.itemsize)}"), missing])
        prof = np.concatenate([prof, new])
        order = np.argsort(keys, kind="stable")
        keys, prof = keys[order], prof[order]
        if path is not None:

            def fill(f: Any) -> None:
                f.create_dataset("seqs", data=keys)
                f.create_dataset("profile", data=prof).attrs["digest"] = _array_digest(keys) + _array_digest(prof)

            _write_h5(path, fill)
    return {name: prof[np.searchsorted(keys, split)] for name, split in probes.items()}


# ---------------------------------------------------------------------------
# Entry point

def _check_options(
    normalization: str, inputs: str, stats: str, clip_rule: str, valid_frac: float, length: int, max_probes: int | None
) -> None:
    def one_of(name: str, value: Any, allowed: Sequence[str]) -> None:
        if value not in allowed:
            raise DataError(f"unknown {name} {value!r}; use one of {', '.join(map(repr, allowed))}")

    one_of("normalization", normalization, NORMALIZATIONS)
    one_of("inputs", inputs, INPUT_KINDS)
    one_of("stats", stats, STATS)
    one_of("clip_rule", clip_rule, CLIP_RULES)
    if not 0.0 <= float(valid_frac) < 1.0:
        raise DataError(f"valid_frac={valid_frac} is outside [0, 1); pass e.g. 0.1")
    if int(length) < 1:
        raise DataError(f"length={length} must be positive; pass e.g. 41")
    if max_probes is not None and int(max_probes) < 2:
        raise DataError(f"max_probes={max_probes} must be at least 2 (or None for all probes)")


def _resolve_experiment(
    data_dir: str | os.PathLike, experiment: str, seed: int | np.random.Generator, cache_dir: str | os.PathLike | None
) -> tuple[str, Path, dict[str, Path], Path | None]:
    """The layout, data folder, input files and cache folder of ``experiment``.

    An unknown experiment is refused here, before any file is read in full. A Generator ``seed`` turns the cache
    off (the split cannot be keyed); ``cache_dir="auto"`` is :func:`default_cache_dir`.
    """
    layout, data_dir = _layout(data_dir)
    files = _resolve_files(layout, data_dir, experiment)
    if layout == "deepbind" and experiment not in (ids := _targets_header(files["targets"])):
        raise _unknown_experiment(experiment, ids, data_dir)
    if isinstance(seed, np.random.Generator):
        cache_dir = None
    elif cache_dir is not None:
        cache_dir = default_cache_dir(data_dir) if str(cache_dir) == "auto" else user_path(cache_dir, "cache_dir")
    return layout, data_dir, files, cache_dir


def _cache_key(
    files: dict[str, Path],
    experiment: str,
    normalization: str,
    stats: str,
    clip_rule: str,
    valid_frac: float,
    seed: int | np.random.Generator,
    length: int,
    max_probes: int | None,
) -> dict[str, Any]:
    """What an experiment cache is keyed on: the input files (path, size, mtime, content) and every parameter
    that changes the splits (not ``inputs``: structure channels are cached apart)."""
    return {
        "version": _CACHE_VERSION,
        "files": {k: _file_id(p) for k, p in files.items()},
        "experiment": experiment,
        "normalization": normalization,
        "stats": stats,
        "clip_rule": clip_rule,
        "valid_frac": float(valid_frac),
        "seed": None if isinstance(seed, np.random.Generator) else int(seed),
        "length": length,
        "max_probes": None if max_probes is None else int(max_probes),
    }


def _read_or_build(
    cache_dir: Path | None,
    key: dict[str, Any],
    rebuild: bool,
    layout: str,
    files: dict[str, Path],
    experiment: str,
    normalization: str,
    stats: str,
    clip_rule: str,
    valid_frac: float,
    seed: int | np.random.Generator,
    length: int,
    max_probes: int | None,
) -> tuple[dict[str, dict[str, np.ndarray]], dict, Path | None, bool]:
    """The experiment's splits from its cache, or parsed, built (:func:`_build`) and cached.

    The cache file in ``cache_dir`` is named by the experiment and the digest of ``key`` (:func:`_cache_key`).
    Returns ``(splits, meta, cache_path, from_cache)``: ``meta`` holds ``"transform"`` and ``"counts"``;
    ``cache_path`` is None when there is no cache or writing it failed (that warned). The files are parsed only
    on a miss: a damaged cache warns and is rebuilt.
    """
    cache_path = None if cache_dir is None else cache_dir / f"{_safe_name(experiment)}-{_digest(key)[:20]}.h5"
    if cache_path is not None and cache_path.is_file() and not rebuild:
        loaded = _load_experiment(cache_path, length)
        if loaded is not None:
            _screen(loaded[1]["counts"], files, experiment, valid_frac, len(loaded[0]["valid"]["index"]))
            return *loaded, cache_path, True
    sets, notes = _read_sets(layout, files, experiment, length, max_probes)
    splits, transform, counts = _build(sets, experiment, normalization, stats, clip_rule, valid_frac, seed, length)
    meta = {"transform": transform, "counts": {**counts, **notes}}
    _screen(meta["counts"], files, experiment, valid_frac, len(splits["valid"]["index"]))  # before it is cached
    if cache_path is not None and not _save_experiment(cache_path, splits, meta):
        cache_path = None
    return splits, meta, cache_path, False


def _with_inputs(
    splits: dict[str, dict[str, np.ndarray]],
    inputs: str,
    length: int,
    cache_dir: Path | None,
    n_jobs: int | None,
    progress: bool,
) -> dict[str, Split]:
    """Each split as a :class:`Split`, its one-hot followed by the ``inputs`` structure channels, if any."""
    structure: dict[str, np.ndarray] = {}
    if inputs != "seq":
        structure = _structure_of(inputs, length, {k: d["seqs"] for k, d in splits.items()}, cache_dir, n_jobs,
                                  progress)
    out = {}
    for name, d in splits.items():
        x = d["onehot"].astype(np.float32)
        if inputs != "seq":
            x = np.concatenate([x, structure[name]], axis=-1)
        out[name] = Split(x=x, y=d["y"], seqs=d["seqs"], raw=d["raw"], index=d["index"])
    return out


def _provenance(
    data_dir: Path, files: dict[str, Path], counts: dict, key: dict[str, Any], cache_path: Path | None, from_cache: bool
) -> dict[str, Any]:
    """``RNAcompeteData.info``: files read, probe and NaN counts, split settings (from ``key``), cache file."""
    return {
        "data_dir": str(data_dir),
        "files": {k: str(p) for k, p in files.items()},
        **counts,
        "valid_frac": key["valid_frac"],
        "seed": key["seed"],
        "length": key["length"],
        "max_probes": key["max_probes"],
        "cache": None if cache_path is None else str(cache_path),
        "from_cache": from_cache,
        # Fingerprint of the input files (path, size, mtime, content) and parameters: a model
        # cache keyed on it notices data rewritten in place, even with its mtime restored.
        "key": _digest(key),
    }


def load_rnacompete(
    data_dir: str | os.PathLike,
    experiment: str,
    *,
    normalization: str = "log",
    inputs: str = "seq",
    valid_frac: float = 0.1,
    seed: int | np.random.Generator = 0,
    stats: str = "train",
    clip_rule: str = "quantile",
    cache_dir: str | os.PathLike | None = "auto",
    length: int = SEQ_LEN,
    max_probes: int | None = None,
    n_jobs: int | None = None,
    rebuild: bool = False,
    progress: bool = False,
) -> RNAcompeteData:
    """Load one RNAcompete experiment as train / valid / test splits.

    Set A is split at random into train and validation (``valid_frac`` of it, under ``seed``); set B is the test
    set. Probes with a NaN (non-finite) score are dropped first. Scores are transformed, then z-scored; how each
    parameter is fitted and what ``.transform`` records: see *Score transforms* in the module doc.

    Parameters
    ----------
    data_dir
        Folder with ``sequences.tsv`` + ``targets.tsv`` (DeepBind) or per-set files (``<id>_<protein>_setA.txt``).
    experiment
        Experiment id, e.g. ``"RNCMPT00168"`` or ``"VTS1"`` (see :func:`list_experiments`).
    normalization, clip_rule, stats
        ``"log"`` (default): ``log(S - S_min + 1)``; ``"clip"``: clip at the 99.9th percentile
        (``clip_rule="quantile"``, default, the paper's text) or at mean + 4 sd (``"sd"``, the public code).
        ``stats="train"`` (default, leak-free) fits every parameter on the training split and applies it to valid
        and test; ``"per_split"`` (the paper's code) normalizes each split on its own statistics.
    inputs
        ``"seq"`` (C = 4), ``"pu"`` (C = 6) or ``"phime"`` (C = 9): one-hot, then :mod:`rbgia.structure` channels.
    cache_dir
        ``"auto"`` (default): :func:`default_cache_dir`. A path: that folder. ``None``: no cache at all (nothing
        read or written). An unwritable cache only warns. What is cached, keyed on what: *Caches* in the module doc.
    length
        Model length; shorter probes are zero-padded and centred.
    max_probes
        Keep the first ``max_probes`` probes of each set (file order, before NaNs are dropped); ``None``: all.
    n_jobs, progress, rebuild
        Passed to the structure computation (``progress``: a tqdm bar); ``rebuild``: ignore the experiment cache.
    seed
        An int, or a ``numpy.random.Generator`` (then nothing is cached: the split cannot be keyed).

    Returns
    -------
    RNAcompeteData
        ``.train``, ``.valid``, ``.test`` with ``x`` (N, length, C) float32, ``y`` (N, 1) float32, ``seqs`` (N,)
        str, ``raw`` (N,) float32, ``index`` (N,) int64; ``.info["probes"]``: the counts behind the checks.

    Raises
    ------
    DataError
        On unknown options, a missing or unrecognised data folder, an unknown experiment (with close matches),
        bad letters, probes longer than ``length``, mismatched, malformed or truncated files, no finite scores,
        scores beyond float32, a set mostly of copies, or a set B that repeats set A (*Checks*, module doc).

    Warns
    -----
    UserWarning
        A few probes shared by set A and B, > 10 copies of one probe, repeated Event IDs, an empty validation split.
    """
    _check_options(normalization, inputs, stats, clip_rule, valid_frac, length, max_probes)
    length, experiment = int(length), str(experiment)
    layout, data_dir, files, cache_dir = _resolve_experiment(data_dir, experiment, seed, cache_dir)
    key = _cache_key(files, experiment, normalization, stats, clip_rule, valid_frac, seed, length, max_probes)
    splits, meta, cache_path, from_cache = _read_or_build(
        cache_dir, key, rebuild, layout, files, experiment, normalization, stats, clip_rule, valid_frac, seed, length,
        max_probes,
    )
    made = _with_inputs(splits, inputs, length, cache_dir, n_jobs, progress)
    return RNAcompeteData(
        experiment=experiment, train=made["train"], valid=made["valid"], test=made["test"],
        normalization=normalization, inputs=inputs, transform=meta["transform"], source=layout,
        info=_provenance(data_dir, files, meta["counts"], key, cache_path, from_cache),
    )


# ---------------------------------------------------------------------------
# Command line

def main(argv: Sequence[str] | None = None) -> int:
    """``python -m rbgia.data {list,prepare,download} ...``; returns the exit code (2 on a user error,
    after one ``error: ...`` line on stderr)."""
    ap = argparse.ArgumentParser(
        prog="python -m rbgia.data", description="RNAcompete data: list, prebuild caches, download"
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("list", help="list the experiment ids in DATA_DIR")
    p.add_argument("data_dir")
    p = sub.add_parser("prepare", help="parse, split, encode and cache experiments")
    p.add_argument("data_dir")
    p.add_argument("experiments", nargs="*", help="ids (default: all)")
    p.add_argument("--normalization", default="log", choices=NORMALIZATIONS)
    p.add_argument("--inputs", default="seq", choices=INPUT_KINDS)
    p.add_argument("--stats", default="train", choices=STATS)
    p.add_argument("--clip-rule", default="quantile", choices=CLIP_RULES)
    p.add_argument("--valid-frac", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache-dir", default="auto")
    p.add_argument("--n-jobs", type=int, default=None)
    p = sub.add_parser("download", help="download the 2013 data (DeepBind layout) into DEST")
    p.add_argument("dest")
    p.add_argument("--url", default=DEEPBIND_URL)
    p.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args(argv)
    try:
        if args.cmd == "list":
            print("\n".join(list_experiments(args.data_dir)))
        elif args.cmd == "download":
            print(download_rnacompete(args.dest, args.url, timeout=args.timeout))
        else:
            for exp in args.experiments or list_experiments(args.data_dir):
                t0 = time.perf_counter()
                d = load_rnacompete(
                    args.data_dir, exp, normalization=args.normalization, inputs=args.inputs, stats=args.stats,
                    clip_rule=args.clip_rule, valid_frac=args.valid_frac, seed=args.seed,
                    cache_dir=args.cache_dir, n_jobs=args.n_jobs, progress=True,
                )
                print(
                    f"{exp}: train {len(d.train)} valid {len(d.valid)} test {len(d.test)} "
                    f"x {d.train.x.shape[1:]} ({time.perf_counter() - t0:.1f} s) -> {d.info['cache']}"
                )
    except (RbgiaError, OSError) as e:  # a user error: one line, no traceback
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
