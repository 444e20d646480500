"""Global Importance Analysis (Koo et al. 2020): embedding, importance, experiments.

The global importance of a pattern ``p`` under a model ``f`` is the mean, over
background sequences ``x``, of the local importance ``f(x with p) - f(x)``
(Eq. 2 of the paper). :class:`GIA` holds a predictor, a background and the
background's predictions ``f(x)`` (computed once, reused by every experiment);
the functional API (:func:`global_importance`, :func:`kmer_scan`, ...) takes
either ``(predict, background)`` or a :class:`GIA` as ``predict``.

Every experiment batches its model calls: embedded sequences for many patterns
are built by broadcasting, streamed in bounded chunks through the compiled
predictor of :mod:`rbgia.inference`, and reduced to per-pattern statistics.

Positions are 0-based starts; patterns are strings (``ACGU``, ``T`` read as
``U``, ``N`` keeps the background base) or ``(k, 4)`` matrices (an all-zero row
keeps the background base).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .data import ALPHABET, decode
from .errors import DataError, PatternError
from .inference import Predictor, as_predict

PAPER_STEM = (5, 16)  # 1-based 6-16
PAPER_PARTNER = (22, 33)  # 1-based 23-33
DEFAULT_CHUNK = 65_536  # sequences per streamed chunk (~43 MB at 41 x 4 float32)
_EYE = np.eye(4, dtype=np.float32)
_LETTERS = {c: i for i, c in enumerate(ALPHABET)} | {"T": 3}


# --------------------------------------------------------------------------- patterns
def _pattern_rows(pattern: Any) -> tuple[np.ndarray, np.ndarray, str]:
    """(k, 4) float32 rows, (k,) bool 'write' mask and a printable label."""
    if isinstance(pattern, str):
        s = pattern.upper()
        bad = sorted(set(s) - set(_LETTERS) - {"N"})
        if bad:
            raise PatternError(f"pattern {pattern!r} has letters {bad} outside ACGUTN; use RNA/DNA letters (N keeps the background)")
        if not s:
            raise PatternError("empty pattern ''; pass at least one letter")
        write = np.array([c != "N" for c in s])
        codes = np.array([_LETTERS.get(c, 0) for c in s])
        rows = _EYE[codes] * write[:, None]
        return rows, write, s
    mat = np.asarray(pattern, dtype=np.float32)
    if mat.ndim != 2 or mat.shape[1] != 4 or mat.shape[0] == 0:
        raise PatternError(f"pattern matrix has shape {mat.shape}; pass a string or a (k, 4) one-hot matrix over ACGU")
    write = mat.sum(1) != 0
    label = "".join(ALPHABET[i] if w else "N" for i, w in zip(mat.argmax(1), write))
    return mat, write, label


def _as_specs(patterns: Any) -> list[tuple[Any, int]]:
    """Accept one ``(pattern, start)`` or a list of them."""
    if isinstance(patterns, tuple) and len(patterns) == 2 and isinstance(patterns[1], (int, np.integer)):
        return [patterns]
    try:
        specs = list(patterns)
    except TypeError:
        raise PatternError(f"patterns must be (pattern, start) or a list of them; got {type(patterns).__name__}") from None
    for spec in specs:
        if not (isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[1], (int, np.integer))):
            raise PatternError(f"pattern spec {spec!r} is not (pattern, start); pass e.g. ('UGCAUG', 17)")
    return specs


def _parse(patterns: Any, length: int) -> list[tuple[np.ndarray, np.ndarray, int, str]]:
    """Validate patterns against the sequence length: range, letters and overlaps."""
    parsed = []
    for pattern, start in _as_specs(patterns):
        rows, write, label = _pattern_rows(pattern)
        k, start = rows.shape[0], int(start)
        if k > length:
            raise PatternError(
                f"pattern {label!r} has {k} nt, longer than the sequences ({length} nt); use a shorter pattern"
            )
        if start < 0 or start + k > length:
            raise PatternError(
                f"pattern {label!r} at start {start} covers [{start}, {start + k}), outside the sequence "
                f"[0, {length}); pass a start in 0..{length - k}"
            )
        parsed.append((rows, write, start, label))
    spans = sorted((s, s + r.shape[0], lab) for r, _, s, lab in parsed)
    for (s0, e0, l0), (s1, e1, l1) in zip(spans, spans[1:]):
        if s1 < e0:
            raise PatternError(
                f"patterns {l0!r} at [{s0}, {e0}) and {l1!r} at [{s1}, {e1}) overlap (sequence length {length}); "
                "move them apart or merge them into one pattern"
            )
    return parsed


def _merge(motif: str, starts: Sequence[int]) -> list[tuple[str, int]]:
    """Copies of ``motif`` at ``starts``; overlapping copies are merged into one
    pattern when their shared letters agree (e.g. UGCAUG at 16 and 20)."""
    motif = motif.upper().replace("T", "U")
    merged: list[list] = []  # [start, letters dict]
    for s in sorted(int(s) for s in starts):
        if merged and s < merged[-1][0] + len(merged[-1][1]):
            s0, letters = merged[-1]
            for j, c in enumerate(motif):
                p = s + j - s0
                if p < len(letters):
                    if letters[p] != c:
                        raise PatternError(
                            f"copies of {motif!r} at starts {s0} and {s} overlap with different letters at position {s + j}; "
                            "pick starts whose overlap agrees"
                        )
                else:
                    letters.append(c)
        else:
            merged.append([s, list(motif)])
    return [("".join(letters), s) for s, letters in merged]


# --------------------------------------------------------------------------- stem-loops
def _check_stem(stem: tuple[int, int], partner: tuple[int, int], length: int) -> tuple[np.ndarray, np.ndarray]:
    s0, s1 = int(stem[0]), int(stem[1])
    p0, p1 = int(partner[0]), int(partner[1])
    if s1 - s0 != p1 - p0 or s1 <= s0:
        raise PatternError(
            f"stem [{s0}, {s1}) and partner [{p0}, {p1}) must be non-empty and equally long; pass e.g. stem=(5, 16), partner=(22, 33)"
        )
    if min(s0, p0) < 0 or max(s1, p1) > length:
        raise PatternError(f"stem [{s0}, {s1}) or partner [{p0}, {p1}) falls outside the sequence [0, {length}); pass ranges inside it")
    if s0 < p1 and p0 < s1:
        raise PatternError(f"stem [{s0}, {s1}) and partner [{p0}, {p1}) overlap; they must be disjoint")
    i = np.arange(s0, s1)
    j = np.arange(p1 - 1, p0 - 1, -1)  # partner pairs in reverse: i-th stem base with (p1-1-i)
    return i, j


def stem_loop_background(
    x: np.ndarray,
    stem: tuple[int, int] = PAPER_STEM,
    partner: tuple[int, int] = PAPER_PARTNER,
) -> np.ndarray:
    """Turn backgrounds into stem-loops: the partner becomes the reverse complement
    of the stem (Watson-Crick pairs A-U, G-C; no wobble).

    Parameters
    ----------
    x
        One-hot ``(N, L, A)``; extra channels are carried untouched.
    stem, partner
        0-based half-open ranges of equal length. The paper pairs 1-based 6-16
        with 23-33: ``stem=(5, 16), partner=(22, 33)`` (a 6-nt loop at 16..21).

    Returns
    -------
    numpy.ndarray
        A new float32 array; ``stem`` keeps its bases, ``partner`` is rewritten.
    """
    out = np.array(x, dtype=np.float32, copy=True)
    i, j = _check_stem(stem, partner, out.shape[-2])
    # In ACGU order the complement is the reversed channel order (A<->U, C<->G).
    out[..., j, :4] = out[..., i, 3::-1]
    return out


# --------------------------------------------------------------------------- structure
def _structure_kind(recompute: bool | str, channels: int) -> str | None:
    if recompute is False or recompute is None:
        return None
    if isinstance(recompute, str):
        kind = recompute.lower()
        if kind not in ("pu", "phime"):
            raise DataError(f"recompute_structure={recompute!r}; use False, True, 'pu' or 'phime'")
        return kind
    kinds = {6: "pu", 9: "phime"}
    if channels not in kinds:
        raise DataError(
            f"recompute_structure=True but the sequences have {channels} channels (not 6 = +PU or 9 = +PHIME); "
            "pass recompute_structure='pu' or 'phime'"
        )
    return kinds[channels]


def add_structure(x: np.ndarray, kind: str) -> np.ndarray:
    """Replace (or add) the structure channels of ``x`` with ViennaRNA profiles.

    Sequences are decoded from the first 4 channels (padding stripped, then
    re-centred as in :func:`rbgia.data.one_hot`) and folded with
    :func:`rbgia.structure.structure_profile`.

    Returns
    -------
    numpy.ndarray
        ``(N, L, 4 + C)`` float32, C = 2 (``"pu"``) or 5 (``"phime"``).
    """
    from .structure import structure_profile  # noqa: PLC0415 (ViennaRNA only when needed)

    x = np.asarray(x, dtype=np.float32)
    prof = structure_profile(decode(x[..., :4]), kind=kind, length=x.shape[1])
    return np.concatenate([x[..., :4], prof], axis=-1)


# --------------------------------------------------------------------------- embedding
def embed(
    x: np.ndarray,
    patterns: Any,
    *,
    stem_loop: tuple[tuple[int, int], tuple[int, int]] | None = None,
    recompute_structure: bool | str = False,
) -> np.ndarray:
    """Embed patterns into copies of ``x``.

    Parameters
    ----------
    x
        One-hot ``(N, L, A)`` (or one sequence ``(L, A)``).
    patterns
        ``(pattern, start)`` or a list of them; 0-based starts; a pattern is a
        string (``N`` keeps the background base, ``T`` read as ``U``) or a
        ``(k, 4)`` matrix (all-zero rows keep the background base).
    stem_loop
        ``(stem, partner)`` ranges: after embedding, re-impose Watson-Crick
        pairing: a paired position written by a pattern dictates its partner,
        otherwise the stem side dictates the partner side.
    recompute_structure
        ``False``: channels beyond 4 are carried untouched. ``True``: recompute
        them (6 channels -> PU, 9 -> PHIME). ``"pu"`` / ``"phime"``: output gets
        ``4 + 2`` / ``4 + 5`` channels computed from the embedded sequences.

    Returns
    -------
    numpy.ndarray
        A new float32 array (``x`` is not modified).

    Raises
    ------
    PatternError
        Out-of-range or overlapping patterns, bad letters, patterns longer than
        the sequence.
    """
    x = np.asarray(x)
    single = x.ndim == 2
    if single:
        x = x[None]
    if x.ndim != 3 or x.shape[-1] < 4:
        raise DataError(f"embed needs one-hot sequences (N, L, A>=4); got shape {x.shape}")
    parsed = _parse(patterns, x.shape[1])
    out = np.array(x, dtype=np.float32, copy=True)
    written = np.zeros(x.shape[1], dtype=bool)
    for rows, write, start, _ in parsed:
        pos = start + np.flatnonzero(write)
        out[:, pos, :4] = rows[write]
        written[pos] = True
    if stem_loop is not None:
        i, j = _check_stem(stem_loop[0], stem_loop[1], x.shape[1])
        from_i = ~written[j]  # partner free: the stem side dictates it
        from_j = written[j] & ~written[i]  # a pattern sits on the partner side
        out[:, j[from_i], :4] = out[:, i[from_i], 3::-1]
        out[:, i[from_j], :4] = out[:, j[from_j], 3::-1]
        # Both sides written by patterns: the patterns win, even if they do not pair.
    kind = _structure_kind(recompute_structure, out.shape[-1])
    if kind is not None:
        out = add_structure(out, kind)
    return out[0] if single else out


# --------------------------------------------------------------------------- statistics
@dataclass(frozen=True, eq=False)
class Importance:
    """Global importance of one embedding.

    Attributes
    ----------
    local
        ``(n,)`` local importances ``f(x with pattern) - f(x)``, one per background.
    mean
        The global importance (mean of ``local``).
    ci95
        t-based 95% confidence interval of the mean.
    pvalue
        Two-sided one-sample t-test of ``local`` against 0 (paired test of
        ``f(x with pattern)`` vs ``f(x)``).
    n
        Number of backgrounds.
    """

    local: np.ndarray = field(repr=False)
    mean: float
    ci95: tuple[float, float]
    pvalue: float
    n: int

    @property
    def sd(self) -> float:
        return float(np.std(self.local, ddof=1)) if self.n > 1 else float("nan")


def _summary(local: np.ndarray) -> dict[str, np.ndarray]:
    """Row-wise mean, sd, t-based 95% CI and two-sided p-value of ``local`` (P, n)."""
    local = np.asarray(local, dtype=np.float64)
    n = local.shape[-1]
    mean = local.mean(-1)
    if n < 2:
        nan = np.full_like(mean, np.nan)
        return {"mean": mean, "sd": nan, "ci_low": nan, "ci_high": nan, "pvalue": nan}
    sd = local.std(-1, ddof=1)
    se = sd / np.sqrt(n)
    half = stats.t.ppf(0.975, n - 1) * se
    with np.errstate(divide="ignore", invalid="ignore"):
        tval = np.abs(mean) / se
    p = 2.0 * stats.t.sf(tval, n - 1)
    # Zero spread: the effect is exact (p = 0 unless it is exactly 0).
    p = np.where(se > 0, p, np.where(mean != 0, 0.0, 1.0))
    return {"mean": mean, "sd": sd, "ci_low": mean - half, "ci_high": mean + half, "pvalue": p}


def _importance(local: np.ndarray) -> Importance:
    local = np.asarray(local, dtype=np.float64)
    s = _summary(local[None])
    return Importance(
        local=local,
        mean=float(s["mean"][0]),
        ci95=(float(s["ci_low"][0]), float(s["ci_high"][0])),
        pvalue=float(s["pvalue"][0]),
        n=int(local.size),
    )


def compare(a: Importance, b: Importance) -> Importance:
    """Paired comparison of two importances measured on the same backgrounds.

    Returns
    -------
    Importance
        Of the per-background difference ``a.local - b.local``: its mean, 95% CI
        and paired t-test p-value.
    """
    if a.n != b.n:
        raise DataError(f"cannot pair importances over {a.n} and {b.n} backgrounds; measure both on the same background")
    return _importance(a.local - b.local)


# --------------------------------------------------------------------------- the GIA object
def _check_background(background: Any) -> np.ndarray:
    bg = np.asarray(background)
    if bg.ndim != 3 or bg.shape[-1] < 4:
        raise DataError(f"background must be one-hot (N, L, A>=4); got shape {bg.shape}")
    if bg.shape[0] == 0:
        raise DataError("background has 0 sequences; pass at least one (e.g. rbgia.background.make_background)")
    return np.ascontiguousarray(bg, dtype=np.float32)


class GIA:
    """A predictor, a background and the background's cached predictions.

    Parameters
    ----------
    predict
        Keras model, callable or :class:`rbgia.inference.Predictor`.
    background
        One-hot ``(N, L, A)``.
    task, batch_size
        Passed to :func:`rbgia.inference.as_predict`.
    stem_loop
        ``(stem, partner)``: turn the background into stem-loops and keep the
        pairing after every embedding (see :func:`embed`).
    recompute_structure
        As in :func:`embed`; applied to the background (for ``f(x)``) and to every
        embedded batch. Folding costs ~2 ms per sequence: fine for a few patterns,
        not for a k-mer scan.
    chunk_size
        Sequences per streamed chunk (bounds memory).
    """

    def __init__(
        self,
        predict: Any,
        background: np.ndarray,
        *,
        task: int | None = 0,
        batch_size: int | None = None,
        stem_loop: tuple[tuple[int, int], tuple[int, int]] | None = None,
        recompute_structure: bool | str = False,
        chunk_size: int = DEFAULT_CHUNK,
    ) -> None:
        self.predict: Predictor = as_predict(predict, task=task, batch_size=batch_size)
        bg = _check_background(background)
        if stem_loop is not None:
            bg = stem_loop_background(bg, *stem_loop)
        _structure_kind(recompute_structure, bg.shape[-1])  # validate early
        self.background = bg
        self.stem_loop = stem_loop
        self.recompute_structure = recompute_structure
        self.chunk_size = int(chunk_size)
        self._baseline: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"GIA({self.predict!r}, background={self.background.shape})"

    @property
    def n(self) -> int:
        return self.background.shape[0]

    @property
    def length(self) -> int:
        return self.background.shape[1]

    @property
    def baseline(self) -> np.ndarray:
        """``f(x)`` for every background sequence, computed once."""
        if self._baseline is None:
            x = self.background
            kind = _structure_kind(self.recompute_structure, x.shape[-1])
            if kind is not None:
                x = add_structure(x, kind)
            self._baseline = self.predict(x)
        return self._baseline

    def embed(self, patterns: Any) -> np.ndarray:
        """The background with ``patterns`` embedded (model-ready input)."""
        return embed(self.background, patterns, stem_loop=self.stem_loop, recompute_structure=self.recompute_structure)

    def local(self, configs: Sequence[Any]) -> np.ndarray:
        """Local importances ``(len(configs), N)`` of several embeddings, batched.

        Each config is what :func:`embed` takes as ``patterns``. Configs are
        validated first, then streamed in chunks of about ``chunk_size`` sequences.
        """
        configs = list(configs)
        for c in configs:
            _parse(c, self.length)
        base = self.baseline
        out = np.empty((len(configs), self.n), dtype=np.float64)
        per = max(1, self.chunk_size // self.n)
        for i in range(0, len(configs), per):
            batch = np.concatenate([self.embed(c) for c in configs[i : i + per]])
            out[i : i + per] = self.predict(batch).reshape(-1, self.n) - base
        return out

    def importance(self, patterns: Any) -> Importance:
        """Global importance of one embedding (see :func:`global_importance`)."""
        return _importance(self.local([patterns])[0])

    def importances(self, configs: Sequence[Any]) -> list[Importance]:
        """Global importances of several embeddings, in one batched pass."""
        return [_importance(row) for row in self.local(configs)]

    def _kmer_local(self, codes: np.ndarray, start: int, idx: np.ndarray | None = None, reduce=None) -> np.ndarray | None:
        """Stream k-mers (codes ``(P, k)``) at ``start`` through the model.

        The background (or its rows ``idx``) is broadcast once into a reusable
        buffer; each chunk only rewrites the k-mer window, so building a batch
        costs a few percent of predicting it. ``reduce(i0, local_chunk)`` receives
        ``(m, n)`` local importances; without it the full ``(P, n)`` is returned.
        """
        bg = self.background if idx is None else self.background[idx]
        base = self.baseline if idx is None else self.baseline[idx]
        n, length, channels = bg.shape
        k = codes.shape[1]
        per = max(1, min(len(codes), self.chunk_size // n))
        buf = np.empty((per, n, length, channels), dtype=np.float32)
        buf[:] = bg[None]
        out = None if reduce is not None else np.empty((len(codes), n), dtype=np.float64)
        onehot = _EYE[codes]  # (P, k, 4)
        for i0 in range(0, len(codes), per):
            m = min(per, len(codes) - i0)
            view = buf[:m]
            view[:, :, start : start + k, :4] = onehot[i0 : i0 + m, None]
            local = self.predict(view.reshape(m * n, length, channels)).reshape(m, n) - base
            if reduce is None:
                out[i0 : i0 + m] = local
            else:
                reduce(i0, local)
        return out


def _session(predict: Any, background: Any, task: int | None, batch_size: int | None, **kw: Any) -> GIA:
    """A GIA from ``(predict, background)``, or ``predict`` itself when it is one."""
    kw = {key: val for key, val in kw.items() if val is not None}  # None: inherit / default
    if isinstance(predict, GIA):
        if background is not None and background is not predict.background:
            raise DataError("pass either a GIA object or (predict, background), not a GIA with another background")
        if all(getattr(predict, key) == val for key, val in kw.items()):
            return predict
        kw = {"stem_loop": predict.stem_loop, "recompute_structure": predict.recompute_structure} | kw
        return GIA(predict.predict, predict.background, task=predict.predict.task, chunk_size=predict.chunk_size, **kw)
    if background is None:
        raise DataError("no background given; pass background=<(N, L, 4) one-hot> or a GIA object as predict")
    return GIA(predict, background, task=task, batch_size=batch_size, **kw)


def global_importance(
    predict: Any,
    background: np.ndarray | None,
    patterns: Any,
    task: int | None = 0,
    *,
    batch_size: int | None = None,
    stem_loop: tuple[tuple[int, int], tuple[int, int]] | None = None,
    recompute_structure: bool | str | None = None,
) -> Importance:
    """Global importance of ``patterns`` embedded in ``background`` (Eq. 2).

    Parameters
    ----------
    predict
        Keras model, callable, Predictor or a :class:`GIA` (then ``background``
        may be ``None`` and its cached ``f(x)`` is reused).
    background
        One-hot ``(N, L, A)``.
    patterns
        ``(pattern, start)`` or a list of them (see :func:`embed`).
    stem_loop, recompute_structure
        As in :class:`GIA`; ``None`` keeps a given GIA's settings (else off).

    Returns
    -------
    Importance
        ``local``, ``mean``, ``ci95``, ``pvalue``, ``n``.
    """
    kw = {"stem_loop": stem_loop, "recompute_structure": recompute_structure}
    return _session(predict, background, task, batch_size, **kw).importance(patterns)


# --------------------------------------------------------------------------- k-mer scans
def _kmer_codes(k: int) -> np.ndarray:
    """All ``4**k`` k-mers as base codes ``(4**k, k)`` in lexicographic ACGU order."""
    if not 1 <= k <= 10:
        raise PatternError(f"k={k}; pass 1 <= k <= 10 (4**k k-mers are scanned)")
    n = 4**k
    return ((np.arange(n)[:, None] // 4 ** np.arange(k - 1, -1, -1)[None]) % 4).astype(np.int64)


def _codes_to_str(codes: np.ndarray) -> np.ndarray:
    letters = np.array(list(ALPHABET))
    return np.array(["".join(r) for r in letters[codes]], dtype=object)


def _str_to_codes(kmers: Iterable[str], k: int | None = None) -> np.ndarray:
    rows = []
    for s in kmers:
        rows_, write, label = _pattern_rows(s)
        if not write.all():
            raise PatternError(f"k-mer {s!r} contains N; scan only ACGU k-mers")
        rows.append(rows_.argmax(1))
    lengths = {len(r) for r in rows}
    if len(lengths) > 1 or (k is not None and lengths and lengths != {k}):
        raise PatternError(f"k-mers have lengths {sorted(lengths)}; pass k-mers of one length")
    return np.array(rows, dtype=np.int64).reshape(len(rows), -1)


def _table(kmers: np.ndarray, summary: dict[str, np.ndarray], n: np.ndarray | int) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "kmer": pd.array(kmers, dtype="str"),
            "mean": summary["mean"],
            "ci_low": summary["ci_low"],
            "ci_high": summary["ci_high"],
            "sd": summary["sd"],
            "pvalue": summary["pvalue"],
            "n": np.broadcast_to(np.asarray(n, dtype=np.int64), len(kmers)),
        }
    )
    return df


def _scan_session(predict, background, task, batch_size, chunk_size) -> GIA:
    g = _session(predict, background, task, batch_size)
    if chunk_size is not None:
        g.chunk_size = int(chunk_size)
    return g


def _check_window(start: int, k: int, length: int) -> None:
    if start < 0 or start + k > length:
        raise PatternError(
            f"k-mers of length {k} at start {start} cover [{start}, {start + k}), outside the sequence [0, {length}); "
            f"pass a start in 0..{length - k}"
        )


def _scan_local(g: GIA, codes: np.ndarray, start: int, idx: np.ndarray | None = None, reduce=None):
    """k-mer local importances: fast broadcast path, or per-config embedding when
    the GIA rewrites more than the k-mer window (stem-loops, structure)."""
    _check_window(start, codes.shape[1], g.length)
    if g.stem_loop is None and _structure_kind(g.recompute_structure, g.background.shape[-1]) is None:
        return g._kmer_local(codes, start, idx=idx, reduce=reduce)
    if idx is not None:
        sub = GIA(g.predict, g.background[idx], stem_loop=None, recompute_structure=g.recompute_structure,
                  task=g.predict.task, chunk_size=g.chunk_size)
        sub.stem_loop = g.stem_loop  # already applied to g.background
        sub._baseline = g.baseline[idx]
        g = sub
    local = g.local([(_EYE[c], start) for c in codes])
    if reduce is None:
        return local
    reduce(0, local)
    return None


def kmer_scan(
    predict: Any,
    background: np.ndarray | None = None,
    k: int = 6,
    start: int = 17,
    *,
    kmers: Sequence[str] | None = None,
    task: int | None = 0,
    batch_size: int | None = None,
    chunk_size: int | None = None,
) -> pd.DataFrame:
    """Global importance of every k-mer embedded at ``start`` (paper: 6-mers at 17).

    All ``4**k`` k-mers (or ``kmers``) are streamed through the model in bounded
    chunks (``chunk_size`` sequences, default 65,536); statistics are reduced per
    chunk, so memory stays ``O(chunk + 4**k)`` whatever the background size.

    Returns
    -------
    pandas.DataFrame
        One row per k-mer, sorted by ``mean`` descending: ``kmer``, ``mean``
        (global importance), ``ci_low``, ``ci_high`` (t-based 95% CI), ``sd``,
        ``pvalue`` (t-test of the local importances vs 0), ``n`` (backgrounds).
    """
    g = _scan_session(predict, background, task, batch_size, chunk_size)
    codes = _kmer_codes(k) if kmers is None else _str_to_codes(kmers)
    if codes.shape[0] == 0:
        raise PatternError("no k-mers to scan; pass a non-empty kmers list")
    parts: dict[str, np.ndarray] = {key: np.empty(len(codes)) for key in ("mean", "sd", "ci_low", "ci_high", "pvalue")}

    def reduce(i0: int, local: np.ndarray) -> None:
        for key, val in _summary(local).items():
            parts[key][i0 : i0 + len(local)] = val

    _scan_local(g, codes, int(start), reduce=reduce)
    df = _table(_codes_to_str(codes), parts, g.n)
    return df.sort_values("mean", ascending=False, kind="stable", ignore_index=True)


@dataclass(frozen=True, eq=False)
class AdaptiveScan:
    """Result of :func:`adaptive_kmer_scan`.

    Attributes
    ----------
    table
        Same columns as :func:`kmer_scan`. Re-scored k-mers (``n`` = all
        backgrounds; their statistics equal the exhaustive scan's) come first,
        sorted by mean; screened-only k-mers follow (``n`` = ``n_screen``).
    n_evaluations
        Model evaluations used (embedded sequences + the background's ``f(x)``).
    n_exhaustive
        Evaluations an exhaustive scan would use (``4**k * N + N``).
    n_rescored
        Number of k-mers re-scored on the full background.
    capped
        True if the evaluation budget limited the confidence-based keep set.
    """

    table: pd.DataFrame
    n_evaluations: int
    n_exhaustive: int
    n_rescored: int
    capped: bool

    @property
    def speedup(self) -> float:
        return self.n_exhaustive / self.n_evaluations


def adaptive_kmer_scan(
    predict: Any,
    background: np.ndarray | None = None,
    k: int = 6,
    start: int = 17,
    *,
    n_screen: int = 100,
    n_keep: int = 256,
    top: int = 10,
    z: float = 3.0,
    max_fraction: float = 0.2,
    seed: int | np.random.Generator | None = 0,
    task: int | None = 0,
    batch_size: int | None = None,
    chunk_size: int | None = None,
) -> AdaptiveScan:
    """A k-mer scan that spends model evaluations only where the ranking is decided.

    1. Screen: every k-mer on a random subset of ``n_screen`` backgrounds (the
       same subset for all k-mers, so their ranking errors are correlated).
    2. Keep the ``n_keep`` best by screened mean, plus every k-mer whose upper
       confidence bound (``mean + z * se`` of its difference with the ``top``-th
       k-mer) reaches the ``top``-th screened mean; the keep set is capped so
       that the total stays within ``max_fraction`` of an exhaustive scan.
    3. Re-score the kept k-mers on the remaining backgrounds; their statistics
       then use all ``N`` backgrounds and equal the exhaustive scan's exactly.

    The top ``top`` k-mers equal the exhaustive scan's whenever the true top
    ``top`` survive the screen; with 1,000 backgrounds the defaults use ~6x fewer
    evaluations than the exhaustive scan.

    Returns
    -------
    AdaptiveScan
        ``table`` (as :func:`kmer_scan`), ``n_evaluations``, ``n_exhaustive``,
        ``n_rescored``, ``capped``.
    """
    g = _scan_session(predict, background, task, batch_size, chunk_size)
    codes = _kmer_codes(k)
    p, n_bg = len(codes), g.n
    exhaustive = p * n_bg + n_bg
    if int(n_screen) < 2:
        raise DataError(f"n_screen={n_screen}; pass at least 2 screening backgrounds")
    if n_screen >= n_bg:  # nothing to save: the scan is exhaustive
        table = kmer_scan(g, k=k, start=start)
        return AdaptiveScan(table, exhaustive, exhaustive, p, False)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n_bg)
    screen_idx, rest_idx = np.sort(perm[:n_screen]), np.sort(perm[n_screen:])
    _ = g.baseline  # f(x) on all backgrounds: counted once below

    screen = _scan_local(g, codes, int(start), idx=screen_idx)
    s = _summary(screen)
    order = np.argsort(-s["mean"], kind="stable")
    t = min(int(top), p) - 1
    ref = order[t]
    # Could this k-mer beat the top-th? Upper bound of its gap to the top-th k-mer.
    diff_se = np.sqrt(np.var(screen - screen[ref], axis=1, ddof=1) / n_screen)
    ucb = s["mean"] + z * np.nan_to_num(diff_se, nan=np.inf)
    plausible = ucb >= s["mean"][ref]
    keep = np.zeros(p, dtype=bool)
    keep[order[: min(int(n_keep), p)]] = True
    keep |= plausible
    # Evaluation budget for stage 2 (f(x) and the screen already spent); n_keep is always honoured.
    budget = max_fraction * exhaustive - n_bg - p * n_screen
    max_keep = int(max(min(n_keep, p), budget // max(1, n_bg - n_screen)))
    capped = keep.sum() > max_keep
    if capped:  # keep the ones most likely to matter: highest upper bounds
        rank = np.argsort(-np.where(keep, ucb, -np.inf), kind="stable")
        keep[:] = False
        keep[rank[:max_keep]] = True
    kept = np.flatnonzero(keep)

    rest = _scan_local(g, codes[kept], int(start), idx=rest_idx)
    full = np.concatenate([screen[kept], rest], axis=1)
    f = _summary(full)
    summary = {key: s[key].copy() for key in s}
    for key in summary:
        summary[key][kept] = f[key]
    ns = np.full(p, n_screen, dtype=np.int64)
    ns[kept] = n_bg
    df = _table(_codes_to_str(codes), summary, ns)
    df["_stage"] = np.where(keep, 0, 1)
    df = df.sort_values(["_stage", "mean"], ascending=[True, False], kind="stable", ignore_index=True)
    df = df.drop(columns="_stage")
    n_eval = p * n_screen + len(kept) * len(rest_idx) + n_bg
    return AdaptiveScan(df, int(n_eval), int(exhaustive), int(len(kept)), bool(capped))


# --------------------------------------------------------------------------- motif experiments
@dataclass(frozen=True, eq=False)
class MotifMutagenesis:
    """Result of :func:`motif_mutagenesis`.

    Attributes
    ----------
    kmer
        The wild-type k-mer.
    importance, ci_low, ci_high
        ``(k, 4)`` global importance (and 95% CI) of every single-nucleotide
        variant; the wild-type entries hold the k-mer's own importance.
    delta
        ``(k, 4)`` importance minus the wild type's (0 at the wild type).
    l2
        ``(k,)`` per-position L2 norm of ``delta`` (logo heights).
    """

    kmer: str
    importance: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    delta: np.ndarray
    l2: np.ndarray


def motif_mutagenesis(
    predict: Any,
    background: np.ndarray | None,
    kmer: str,
    start: int = 17,
    *,
    task: int | None = 0,
    batch_size: int | None = None,
) -> MotifMutagenesis:
    """Global importance of every single-nucleotide variant of ``kmer`` at ``start``.

    The wild type and its ``3k`` variants go through the model in one batched pass.
    """
    g = _session(predict, background, task, batch_size)
    wt = _str_to_codes([kmer])[0]
    k = len(wt)
    pos, base = np.divmod(np.arange(4 * k), 4)
    variant = base != wt[pos]
    codes = np.repeat(wt[None], 1 + variant.sum(), axis=0)
    codes[np.arange(1, len(codes)), pos[variant]] = base[variant]
    s = _summary(_scan_local(g, codes, int(start)))
    grid = {}
    for key in ("mean", "ci_low", "ci_high"):
        m = np.empty(4 * k)
        m[~variant] = s[key][0]
        m[variant] = s[key][1:]
        grid[key] = m.reshape(k, 4)
    delta = grid["mean"] - s["mean"][0]
    return MotifMutagenesis(
        kmer=_codes_to_str(wt[None])[0],
        importance=grid["mean"],
        ci_low=grid["ci_low"],
        ci_high=grid["ci_high"],
        delta=delta,
        l2=np.sqrt((delta**2).sum(1)),
    )


def _rows(imps: Sequence[Importance]) -> dict[str, list]:
    return {
        "mean": [i.mean for i in imps],
        "ci_low": [i.ci95[0] for i in imps],
        "ci_high": [i.ci95[1] for i in imps],
        "pvalue": [i.pvalue for i in imps],
        "n": [i.n for i in imps],
    }


@dataclass(frozen=True, eq=False)
class Multiplicity:
    """Result of :func:`multiplicity`.

    Attributes
    ----------
    table
        ``count``, ``starts``, ``mean``, ``ci_low``, ``ci_high``, ``pvalue``, ``n``.
    r2, slope, intercept
        Least-squares fit (``scipy.stats.linregress``) of global importance on count.
    include_origin
        Whether the point (0 copies, importance 0) was part of the fit.
    """

    table: pd.DataFrame
    r2: float
    slope: float
    intercept: float
    include_origin: bool


def multiplicity(
    predict: Any,
    background: np.ndarray | None,
    motif: str,
    starts: Sequence[int] = (4, 12, 20),
    *,
    include_origin: bool = False,
    task: int | None = 0,
    batch_size: int | None = None,
) -> Multiplicity:
    """Global importance of 1..n copies of ``motif`` at the first ``count`` starts.

    The paper (RBFOX1, UGCAUG) embeds 1, 2, 3 copies at starts 4, 12, 20 and fits
    a line to the importance of 1..3 copies: that is the default
    (``include_origin=False``). ``include_origin=True`` adds the exact point
    (0 copies, 0 importance), which tests proportionality rather than linearity.
    With two copies and no origin the fit is exact (R^2 = 1) by construction; a
    flat response (equal importances) has no defined R^2 (NaN).
    """
    g = _session(predict, background, task, batch_size)
    starts = [int(s) for s in starts]
    if not starts:
        raise PatternError("no starts given; pass e.g. starts=(4, 12, 20)")
    configs = [_merge(motif, starts[:c]) for c in range(1, len(starts) + 1)]
    imps = g.importances(configs)
    counts = np.arange(1, len(starts) + 1)
    table = pd.DataFrame({"count": counts, "starts": [tuple(starts[:c]) for c in counts]} | _rows(imps))
    xs, ys = counts.astype(float), table["mean"].to_numpy(dtype=float)
    if include_origin:
        xs, ys = np.r_[0.0, xs], np.r_[0.0, ys]
    if len(xs) < 2:
        r2 = slope = intercept = float("nan")
    else:
        fit = stats.linregress(xs, ys)
        r2, slope, intercept = float(fit.rvalue**2), float(fit.slope), float(fit.intercept)
    return Multiplicity(table, r2, slope, intercept, include_origin)


def spacing(
    predict: Any,
    background: np.ndarray | None,
    motif: str,
    pairs_of_starts: Sequence[tuple[int, int]] = ((16, 20), (15, 21), (13, 22)),
    reference: int | None = 17,
    *,
    on_conflict: str = "raise",
    task: int | None = 0,
    batch_size: int | None = None,
) -> pd.DataFrame:
    """Two copies of ``motif`` at each pair of starts, and one copy at ``reference``.

    Overlapping copies are merged when their shared letters agree (UGCAUG at 16
    and 20 gives UGCAUGCAUG). ``gap`` = second start - first start - k: negative
    for overlaps, 0 for adjacent copies; NA for the single reference copy.

    Parameters
    ----------
    on_conflict
        What to do with a pair whose overlapping copies disagree (UGCAUG at 16 and
        18 would need both C and U at 18): ``"raise"`` a
        :class:`~rbgia.errors.PatternError`, or ``"skip"`` the pair. Skipped pairs
        are listed (sorted starts) in ``df.attrs["skipped"]``, which is empty
        when none were.

    Returns
    -------
    pandas.DataFrame
        ``start_1``, ``start_2``, ``gap``, ``mean``, ``ci_low``, ``ci_high``,
        ``pvalue``, ``n``, and ``ratio`` (mean / reference mean, when given).
    """
    if on_conflict not in ("raise", "skip"):
        raise PatternError(f"on_conflict={on_conflict!r} is not an option; pass 'raise' or 'skip'")
    g = _session(predict, background, task, batch_size)
    k = len(motif)
    pairs, configs, skipped = [], [], []
    for pair in pairs_of_starts:
        starts = tuple(sorted(int(s) for s in pair))
        try:
            configs.append(_merge(motif, starts))
        except PatternError:
            if on_conflict == "raise":
                raise
            skipped.append(starts)
            continue
        pairs.append(starts)
    first = [p[0] for p in pairs]
    second: list = [p[1] for p in pairs]
    gaps: list = [p[1] - p[0] - k for p in pairs]
    if reference is not None:
        configs.append([(motif, int(reference))])
        first.append(int(reference))
        second.append(pd.NA)
        gaps.append(pd.NA)
    imps = g.importances(configs)
    df = pd.DataFrame(
        {
            "start_1": first,
            "start_2": pd.array(second, dtype="Int64"),
            "gap": pd.array(gaps, dtype="Int64"),
        }
        | _rows(imps)
    )
    if reference is not None:
        df["ratio"] = df["mean"] / imps[-1].mean
    df.attrs["skipped"] = skipped
    return df


def positional_scan(
    predict: Any,
    background: np.ndarray | None,
    motif: str,
    starts: Sequence[int] | None = None,
    *,
    task: int | None = 0,
    batch_size: int | None = None,
) -> pd.DataFrame:
    """Global importance of ``motif`` at every start (default: 0..L-k).

    Returns
    -------
    pandas.DataFrame
        ``start``, ``mean``, ``ci_low``, ``ci_high``, ``pvalue``, ``n``.
    """
    g = _session(predict, background, task, batch_size)
    k = _pattern_rows(motif)[0].shape[0]
    starts = list(range(g.length - k + 1)) if starts is None else [int(s) for s in starts]
    imps = g.importances([(motif, s) for s in starts])
    return pd.DataFrame({"start": starts} | _rows(imps))


@dataclass(frozen=True, eq=False)
class GCBias:
    """Result of :func:`gc_bias`.

    Attributes
    ----------
    motif, motif_gc5, motif_gc3, gc3
        Importances of the motif alone, with the GC pattern at the 5' / 3' start,
        and of the GC pattern alone at the 3' start (control).
    effect5, effect3
        ``motif_gc5.mean / motif.mean`` and ``motif_gc3.mean / motif.mean``; NaN
        (as are the CIs and ``diff``) when ``motif.mean`` is exactly 0.
    effect5_ci, effect3_ci, diff, diff_ci
        Paired-bootstrap 95% CIs of the effects, and of ``effect5 - effect3``.
    """

    motif: Importance
    motif_gc5: Importance
    motif_gc3: Importance
    gc3: Importance
    effect5: float
    effect5_ci: tuple[float, float]
    effect3: float
    effect3_ci: tuple[float, float]
    diff: float
    diff_ci: tuple[float, float]


def gc_bias(
    predict: Any,
    background: np.ndarray | None,
    motif: str,
    motif_start: int = 17,
    gc_motif: str = "GCGCGC",
    gc_starts: tuple[int, int] = (2, 34),
    *,
    n_boot: int = 2000,
    seed: int | np.random.Generator | None = 0,
    task: int | None = 0,
    batch_size: int | None = None,
) -> GCBias:
    """The paper's GC-bias test (Fig 4): does a GC-rich flank change the motif's effect?

    Effect size = importance(motif + GC at the 5' or 3' start) / importance(motif).
    CIs resample the backgrounds (paired: all four embeddings share each draw).
    The effect sizes, their difference and CIs are NaN when the motif alone has an
    importance of exactly 0 (e.g. a null predictor): the ratio is undefined.
    """
    g = _session(predict, background, task, batch_size)
    m = (motif, int(motif_start))
    configs = [[m], [m, (gc_motif, int(gc_starts[0]))], [m, (gc_motif, int(gc_starts[1]))], [(gc_motif, int(gc_starts[1]))]]
    local = g.local(configs)
    imps = [_importance(row) for row in local]
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, g.n, size=(int(n_boot), g.n))
    boot = np.stack([row[idx].mean(1) for row in local[:3]])  # (3, B)

    def ratio(num: np.ndarray | float, den: np.ndarray | float) -> np.ndarray:
        # a zero denominator (a null predictor) makes the ratio undefined: NaN, not inf
        num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den == 0, np.nan, num / den)

    e5, e3 = ratio(boot[1], boot[0]), ratio(boot[2], boot[0])
    effect5, effect3 = ratio(imps[1].mean, imps[0].mean), ratio(imps[2].mean, imps[0].mean)

    def ci(v: np.ndarray) -> tuple[float, float]:
        v = v[np.isfinite(v)]
        if not v.size:
            return float("nan"), float("nan")
        lo, hi = np.percentile(v, [2.5, 97.5])
        return float(lo), float(hi)

    return GCBias(
        motif=imps[0], motif_gc5=imps[1], motif_gc3=imps[2], gc3=imps[3],
        effect5=float(effect5), effect5_ci=ci(e5),
        effect3=float(effect3), effect3_ci=ci(e3),
        diff=float(effect5 - effect3), diff_ci=ci(e5 - e3),
    )


def hairpin_context(
    predict: Any,
    background: np.ndarray | None,
    motif: str,
    loop_start: int,
    stem_start: int,
    stem: tuple[int, int] = PAPER_STEM,
    partner: tuple[int, int] = PAPER_PARTNER,
    *,
    recompute_structure: bool | str | None = None,
    task: int | None = 0,
    batch_size: int | None = None,
) -> pd.DataFrame:
    """Motif in the loop vs in the stem of stem-loop backgrounds, and at the same
    positions in the unstructured backgrounds (paper: VTS1, GCUGG / GCUGGC).

    Stem-loop backgrounds are made with :func:`stem_loop_background`; after
    embedding, the pairing is re-imposed, so a motif in the stem gets a
    complementary partner (it stays paired). Each row's importance is relative
    to its own background: ``f(stem-loop + motif) - f(stem-loop)``.
    For a model with structure inputs pass ``recompute_structure`` (``True`` when
    the background carries the channels, else ``"pu"``/``"phime"``; ``None``
    keeps a given GIA's setting, else off).

    Returns
    -------
    pandas.DataFrame
        ``context`` (``stem-loop`` / ``unstructured``), ``position`` (``loop`` /
        ``stem``), ``start``, ``mean``, ``ci_low``, ``ci_high``, ``pvalue``, ``n``,
        and ``baseline_mean`` (mean prediction on that background).
    """
    flat = _session(predict, background, task, batch_size, recompute_structure=recompute_structure)
    hairpin = GIA(flat.predict, flat.background, task=flat.predict.task, stem_loop=(stem, partner),
                  recompute_structure=flat.recompute_structure, chunk_size=flat.chunk_size)
    configs = [[(motif, int(loop_start))], [(motif, int(stem_start))]]
    imps = hairpin.importances(configs) + flat.importances(configs)
    return pd.DataFrame(
        {
            "context": ["stem-loop", "stem-loop", "unstructured", "unstructured"],
            "position": ["loop", "stem", "loop", "stem"],
            "start": [int(loop_start), int(stem_start)] * 2,
        }
        | _rows(imps)
        | {"baseline_mean": [float(hairpin.baseline.mean())] * 2 + [float(flat.baseline.mean())] * 2}
    )


__all__ = [
    "PAPER_PARTNER",
    "PAPER_STEM",
    "AdaptiveScan",
    "GCBias",
    "GIA",
    "Importance",
    "MotifMutagenesis",
    "Multiplicity",
    "adaptive_kmer_scan",
    "add_structure",
    "compare",
    "embed",
    "gc_bias",
    "global_importance",
    "hairpin_context",
    "kmer_scan",
    "motif_mutagenesis",
    "multiplicity",
    "positional_scan",
    "spacing",
    "stem_loop_background",
]
