"""k-mer scans: the global importance of every k-mer at one position (exhaustive and adaptive).

Both scans report a Benjamini-Hochberg ``qvalue`` beside each ``pvalue`` (the t-test
of the k-mer's local importances against 0). An exhaustive scan costs ``4**k * N + N``
model evaluations for ``N`` backgrounds; above :data:`MAX_EVALUATIONS` it asks for
``confirm=True`` (a k = 9 scan over 1,000 backgrounds is 262 M predictions), and it
warns when the estimated time, from the predictor's measured throughput, exceeds
:data:`WARN_SECONDS`.
"""

from __future__ import annotations

import math
import numbers
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from . import paper
from .embedding import EYE, codes_to_kmers, kmer_codes
from .errors import DataError, PatternError
from .sequence import check_integer, check_seed
from .session import GIA, require_session, warn_untestable
from .stats import P_FLOOR, bh_qvalues, summary
from .stemloop import structure_kind

MAX_EVALUATIONS = 50_000_000  # above this an exhaustive scan needs confirm=True (k = 7 at 1,000 backgrounds: 16 M)
WARN_SECONDS = 600.0  # warn when a scan is estimated to run longer than this


def _kmer_codes(k: int) -> np.ndarray:
    """All ``4**k`` k-mers as base codes ``(4**k, k)`` in lexicographic ACGU order."""
    k = check_integer("k", k, 1, 10, error=PatternError)  # 4**k k-mers are scanned
    n = 4**k
    return ((np.arange(n)[:, None] // 4 ** np.arange(k - 1, -1, -1)[None]) % 4).astype(np.int64)


def _table(kmers: np.ndarray, stat: dict[str, np.ndarray], n: np.ndarray | int) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "kmer": pd.array(kmers, dtype="str"),
            "mean": stat["mean"],
            "ci_low": stat["ci_low"],
            "ci_high": stat["ci_high"],
            "sd": stat["sd"],
            "pvalue": stat["pvalue"],
            "qvalue": bh_qvalues(stat["pvalue"]),
            "n": np.broadcast_to(np.asarray(n, dtype=np.int64), len(kmers)),
        }
    )
    return df


def _check_cost(g: GIA, n_evaluations: int, what: str, confirm: bool, fix: str) -> None:
    """Refuse scans above MAX_EVALUATIONS without ``confirm``; warn when they look slow.

    Seconds are estimated from the predictor's measured throughput (``f(x)`` on the
    background has just run). That first measure includes compiling the model, so
    an estimate above the thresholds is re-measured on one more call first.
    """
    _ = g.baseline  # measures throughput and is needed anyway
    secs, rate = _estimate(g, n_evaluations)
    folds = structure_kind(g.recompute_structure, g.background.shape[-1]) is not None  # inputs need folding
    if not folds and ((n_evaluations > MAX_EVALUATIONS and not confirm) or secs > WARN_SECONDS):
        secs, rate = _estimate(g, n_evaluations, calibrate=True)
    eta = "" if secs != secs else f", ~{_duration(secs)} at the measured {rate:,.0f} predictions/s"
    if n_evaluations > MAX_EVALUATIONS and not confirm:
        raise DataError(
            f"{what} is {n_evaluations:,} model evaluations{eta}; pass confirm=True to run it, or {fix}"
        )
    if secs == secs and secs > WARN_SECONDS:
        warnings.warn(f"{what} is {n_evaluations:,} model evaluations{eta}", RuntimeWarning, stacklevel=3)


def _estimate(g: GIA, n_evaluations: int, calibrate: bool = False) -> tuple[float, float]:
    """(seconds, predictions/s) for ``n_evaluations``; NaN when nothing was timed."""
    p = g.predict
    if calibrate:  # a warm call at a compiled shape: no compile time in the measure
        x = g.background[: min(g.n, 2 * p.batch_size)]
        t0 = time.perf_counter()
        p(x)
        seconds, n = time.perf_counter() - t0, len(x)
    else:
        seconds, n = p.seconds, p.n_evaluated
    rate = n / seconds if seconds > 0 and n else float("nan")
    return (n_evaluations / rate if rate == rate else float("nan")), rate


def _duration(secs: float) -> str:
    if secs < 120:
        return f"{secs:.0f} s"
    if secs < 7200:
        return f"{secs / 60:.0f} min"
    return f"{secs / 3600:.1f} h"


def _broadcast_local(g: GIA, codes: np.ndarray, start: int, reduce: Any = None) -> np.ndarray | None:
    """Stream k-mers (codes ``(P, k)``) at ``start`` through the model.

    The background is broadcast once into a reusable buffer; each chunk only rewrites the
    k-mer window, so building a batch costs a few percent of predicting it.
    ``reduce(i0, local_chunk)`` receives ``(m, n)`` local importances; without it the full
    ``(P, n)`` is returned.
    """
    bg, base = g.background, g.baseline
    n, length, channels = bg.shape
    k = codes.shape[1]
    per = max(1, min(len(codes), g.chunk_size // n))
    buf = np.empty((per, n, length, channels), dtype=np.float32)
    buf[:] = bg[None]
    out = None if reduce is not None else np.empty((len(codes), n), dtype=np.float64)
    onehot = EYE[codes]  # (P, k, 4)
    for i0 in range(0, len(codes), per):
        m = min(per, len(codes) - i0)
        view = buf[:m]
        view[:, :, start : start + k, :4] = onehot[i0 : i0 + m, None]
        local = g.predict(view.reshape(m * n, length, channels)).reshape(m, n) - base
        if reduce is None:
            out[i0 : i0 + m] = local
        else:
            reduce(i0, local)
    return out


def _check_window(start: int, k: int, length: int) -> None:
    if start < 0 or start + k > length:
        raise PatternError(
            f"k-mers of length {k} at start {start} cover [{start}, {start + k}), outside the sequence [0, {length}); "
            f"pass a start in 0..{length - k}"
        )


def kmer_local(session: GIA, codes: np.ndarray, start: int, *, reduce: Any = None) -> np.ndarray | None:
    """Local importances ``(P, N)`` of the k-mers ``codes`` (``(P, k)`` base codes) at ``start``.

    The fast path rewrites only the k-mer window of a broadcast background; a session that
    rewrites more than that window (stem-loops, recomputed structure) embeds each k-mer
    through :meth:`GIA.local`. With ``reduce(i0, chunk)`` the chunks are handed over instead
    of kept (``None`` is returned).
    """
    _check_window(start, codes.shape[1], session.length)
    if session.stem_loop is None and structure_kind(session.recompute_structure, session.background.shape[-1]) is None:
        return _broadcast_local(session, codes, start, reduce)
    local = session.local([(EYE[c], start) for c in codes])
    if reduce is None:
        return local
    reduce(0, local)
    return None


def _scan_codes(k: Any, kmers: Sequence[str] | None) -> np.ndarray:
    """Base codes of the k-mers to scan: all ``4**k`` (``k`` default :data:`rbgia.paper.KMER_LENGTH`), or
    ``kmers`` (a list; ``k``, when given, must be their length), each once."""
    if kmers is None:
        return _kmer_codes(paper.KMER_LENGTH if k is None else k)
    codes = kmer_codes(kmers, None if k is None else check_integer("k", k, 1, error=PatternError))
    uniq, counts = np.unique(codes, axis=0, return_counts=True)  # one sort: duplicates would be rows twice
    if len(uniq) < len(codes):
        dups = list(codes_to_kmers(uniq[counts > 1]))
        named = ", ".join(dups[:5]) + (", ..." if len(dups) > 5 else "")
        raise PatternError(
            f"kmers lists {len(dups)} k-mer(s) more than once ({named}; case and T/U ignored): each would be a "
            "row and a test twice; pass each once, e.g. kmers=list(dict.fromkeys(kmers))"
        )
    return codes


def kmer_scan(
    session: GIA,
    k: int | None = None,
    start: int = paper.MOTIF_START,
    *,
    kmers: Sequence[str] | None = None,
    chunk_size: int | None = None,
    confirm: bool = False,
) -> pd.DataFrame:
    """Global importance of every k-mer embedded at ``start`` (paper: 6-mers at 17).

    All ``4**k`` k-mers (or ``kmers``) are streamed through the model in bounded
    chunks (``chunk_size`` sequences, default the session's); statistics are reduced per
    chunk, so memory stays ``O(chunk + 4**k)`` whatever the background size.

    Parameters
    ----------
    session
        A :class:`~rbgia.session.GIA` (never modified: another ``chunk_size`` gives a new one).
    k
        k-mer length: every ``4**k`` k-mer is scanned (default :data:`rbgia.paper.KMER_LENGTH`, 6).
        With ``kmers``, their length (a ``k`` that disagrees is a :class:`~rbgia.errors.PatternError`).
    kmers
        A list of k-mers of one length to scan instead, each once (a string, an empty list or a
        repeated k-mer is a :class:`~rbgia.errors.PatternError`).
    confirm
        Run a scan of more than :data:`MAX_EVALUATIONS` model evaluations (else a
        :class:`~rbgia.errors.DataError` gives its cost and the alternatives).

    Returns
    -------
    pandas.DataFrame
        One row per k-mer, sorted by ``mean`` descending: ``kmer``, ``mean``
        (global importance), ``ci_low``, ``ci_high`` (t-based 95% CI), ``sd``,
        ``pvalue`` (t-test of the local importances vs 0), ``qvalue``
        (Benjamini-Hochberg over the k-mers scanned; ``df.attrs["qvalue"]`` says
        so), ``n`` (backgrounds).
    """
    g = require_session(session, "kmer_scan")
    if chunk_size is not None:
        g = g.replace(chunk_size=chunk_size)  # checked there
    start = check_integer("start", start, 0, error=PatternError)
    codes = _scan_codes(k, kmers)
    _check_window(start, codes.shape[1], g.length)
    _check_cost(g, len(codes) * g.n, f"a scan of {len(codes):,} {codes.shape[1]}-mers over {g.n:,} backgrounds",
                confirm, "scan fewer k-mers (kmers=...) or backgrounds, or use adaptive_kmer_scan")
    parts: dict[str, np.ndarray] = {key: np.empty(len(codes)) for key in ("mean", "sd", "ci_low", "ci_high", "pvalue")}

    def reduce(i0: int, local: np.ndarray) -> None:
        for key, val in summary(local).items():
            parts[key][i0 : i0 + len(local)] = val

    kmer_local(g, codes, start, reduce=reduce)
    warn_untestable(g.n, "kmer_scan")
    df = _table(codes_to_kmers(codes), parts, g.n)
    df = df.sort_values("mean", ascending=False, kind="stable", ignore_index=True)
    df.attrs["qvalue"] = f"Benjamini-Hochberg over the {len(codes)} k-mers scanned"
    return df


@dataclass(frozen=True, eq=False)
class AdaptiveScan:
    """Result of :func:`adaptive_kmer_scan`.

    Attributes
    ----------
    table
        The columns of :func:`kmer_scan` and ``elimination_bound``. Re-scored k-mers (``n`` = all
        backgrounds; their statistics equal the exhaustive scan's) come first, sorted by mean;
        eliminated k-mers follow, sorted by mean, with the mean, sd and CI of the backgrounds they
        were scored on (``n``), no p- or q-value, and the upper confidence bound they were eliminated
        with. ``qvalue``: Benjamini-Hochberg over all ``4**k`` k-mers with the eliminated ones at
        p = 1 (``table.attrs["qvalue"]`` says so).
    n_evaluations
        Model evaluations used (embedded sequences + the background's ``f(x)``).
    n_exhaustive
        Evaluations an exhaustive scan would use (``4**k * N + N``).
    n_rescored
        Number of k-mers scored on every background.
    capped
        True if ``max_fraction`` stopped the elimination early (survivors were
        then cut to the highest upper bounds: the top may differ from the
        exhaustive scan's).
    rounds
        One row per round: ``backgrounds`` (scored so far), ``alive`` (k-mers
        scored in the round), ``evaluations`` (in the round), ``eliminated``.
    """

    table: pd.DataFrame
    n_evaluations: int
    n_exhaustive: int
    n_rescored: int
    capped: bool
    rounds: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    @property
    def speedup(self) -> float:
        return self.n_exhaustive / self.n_evaluations


def _record(stat: dict[str, np.ndarray], ns: np.ndarray, which: np.ndarray, local: np.ndarray, n: int) -> None:
    """Store the statistics of k-mers ``which`` from their local importances ``(len(which), n)``."""
    if len(which):
        for key, val in summary(local).items():
            stat[key][which] = val
        ns[which] = n


def adaptive_kmer_scan(
    session: GIA,
    k: int = paper.KMER_LENGTH,
    start: int = paper.MOTIF_START,
    *,
    n_screen: int = 24,
    growth: float = 2.0,
    top: int = 10,
    z: float = 4.0,
    n_keep: int | None = None,
    max_fraction: float | None = None,
    seed: int | np.random.Generator | None = 0,
    chunk_size: int | None = None,
    confirm: bool = False,
) -> AdaptiveScan:
    """The top of a k-mer scan with far fewer model evaluations: successive elimination.

    Backgrounds are put in a random order; round ``r`` scores every surviving
    k-mer on the first ``n_r`` of them (``n_1 = n_screen``, then ``x growth``
    until all ``N``), adding only the new backgrounds. After each round a k-mer
    is eliminated when the upper confidence bound of its difference with the
    ``top``-th k-mer (paired over the same backgrounds) is below 0::

        mean_j - mean_top + t * sd(local_j - local_top) / sqrt(n) * sqrt((N - n) / (N - 1)) < 0

    where ``t`` is the Student-t quantile (``n - 1`` df) of the normal tail beyond
    ``z``, and the finite-population factor reflects that the target is the mean
    over these ``N`` backgrounds, not a wider population. Survivors end scored on
    all ``N`` backgrounds, so their statistics, order and ``pvalue`` equal the
    exhaustive scan's exactly (the local importances are taken in background order).
    The top ``top`` equal the exhaustive scan's unless a true top k-mer is
    eliminated, which ``z = 4`` makes rare (~3e-5 per test when the t model
    holds). With 1,000 backgrounds and a model with a clear top this uses >= 20x
    fewer evaluations than :func:`kmer_scan`; a flat model (no k-mer stands out)
    eliminates little and gains less.

    Parameters
    ----------
    session
        A :class:`~rbgia.session.GIA` (never modified).
    n_screen
        Backgrounds in the first round (every k-mer is scored on them).
    growth
        Factor by which the backgrounds scored grow each round.
    top
        Size of the top to identify (the reference is the ``top``-th k-mer).
    z
        Confidence of each elimination, as a normal z (larger: safer, slower).
    n_keep
        The best ``n_keep`` k-mers by first-round mean survive the first round
        whatever their bounds (default ``top``).
    max_fraction
        Optional budget, a fraction of the exhaustive scan's evaluations: when the
        next round and scoring ``max(top, n_keep)`` k-mers on the rest would exceed
        it, the ``max(top, n_keep)`` survivors with the highest upper bounds are
        scored on all backgrounds instead and ``capped`` is set (the first round is
        always run).
    confirm
        As in :func:`kmer_scan`, for a first round above :data:`MAX_EVALUATIONS`.

    Returns
    -------
    AdaptiveScan
        ``table`` (as :func:`kmer_scan`), ``n_evaluations``, ``n_exhaustive``,
        ``n_rescored``, ``speedup``, ``capped``, ``rounds``.
    """
    g = require_session(session, "adaptive_kmer_scan")
    if chunk_size is not None:
        g = g.replace(chunk_size=chunk_size)  # checked there
    start = check_integer("start", start, 0, error=PatternError)
    codes = _kmer_codes(k)
    _check_window(start, codes.shape[1], g.length)
    run = _Elimination(g, codes, start, n_screen=n_screen, growth=growth, top=top, z=z, n_keep=n_keep,
                       max_fraction=max_fraction, seed=seed)
    _check_cost(g, run.p * min(run.n_screen, g.n), f"the first round of an adaptive scan of {run.p:,} "
                f"{codes.shape[1]}-mers", confirm, "pass a smaller n_screen or k")
    run.run()
    warn_untestable(g.n, "adaptive_kmer_scan")
    return run.result()


class _Elimination:
    """The state of one adaptive scan (:func:`adaptive_kmer_scan`): the k-mers alive, their local
    importances on the backgrounds scored so far, and the statistics of those eliminated."""

    def __init__(self, g: GIA, codes: np.ndarray, start: int, *, n_screen: int, growth: float, top: int, z: float,
                 n_keep: int | None, max_fraction: float | None, seed: Any) -> None:
        self.g, self.codes, self.start = g, codes, start
        self.p, n_bg = len(codes), g.n
        self.exhaustive = self.p * n_bg + n_bg
        self.n_screen = check_integer("n_screen", n_screen, 2)
        self.top = min(check_integer("top", top, 1), self.p)
        self.n_keep = self.top if n_keep is None else min(check_integer("n_keep", n_keep, 1), self.p)
        if not (isinstance(growth, numbers.Real) and growth > 1):
            raise DataError(f"growth={growth!r}; pass a number > 1 (the factor the backgrounds grow by per round)")
        if not (isinstance(z, numbers.Real) and z > 0):
            raise DataError(f"z={z!r}; pass a positive number (e.g. 4)")
        self.growth, self.z = float(growth), float(z)
        self.perm = check_seed(seed).permutation(n_bg)
        self.budget = None if max_fraction is None else float(max_fraction) * self.exhaustive
        self.alive = np.arange(self.p)
        self.local = np.empty((self.p, 0))
        self.stat = {key: np.full(self.p, np.nan) for key in ("mean", "sd", "ci_low", "ci_high", "pvalue")}
        self.ns = np.zeros(self.p, dtype=np.int64)
        self.bound = np.full(self.p, np.nan)  # the upper bound an eliminated k-mer fell below 0 with
        self.n_eval, self.done, self.capped, self.ucb = n_bg, 0, False, None  # f(x) on all backgrounds
        self.log: list[dict[str, int]] = []

    def run(self) -> None:
        """Rounds until every survivor is scored on all backgrounds."""
        n_bg, size, first = self.g.n, min(self.n_screen, self.g.n), True
        while True:
            size = self._maybe_cap(size)
            row = self._score_to(size)
            if size == n_bg:
                break
            row["eliminated"] = self._eliminate(size, first)
            first = False
            # only the top is left: score it on every background at once
            grown = max(size + 1, math.ceil(size * self.growth))
            size = n_bg if len(self.alive) <= self.top else min(n_bg, grown)

    def _maybe_cap(self, size: int) -> int:
        """Out of budget: the most plausible survivors are scored on all backgrounds."""
        n_bg = self.g.n
        m = min(max(self.top, self.n_keep), len(self.alive))
        if self.ucb is None or self.budget is None or size >= n_bg:
            return size
        if self.n_eval + len(self.alive) * (size - self.done) + m * (n_bg - size) <= self.budget:
            return size
        self.capped = True
        rank = np.argsort(-self.ucb, kind="stable")
        cut = rank[m:]
        _record(self.stat, self.ns, self.alive[cut], self.local[cut], self.done)
        self.bound[self.alive[cut]] = self.ucb[cut]
        self.alive, self.local = self.alive[rank[:m]], self.local[rank[:m]]
        return n_bg

    def _score_to(self, size: int) -> dict[str, int]:
        """Score the survivors on the backgrounds ``done:size`` of the random order."""
        new = self.perm[self.done:size]
        self.local = np.concatenate([self.local, kmer_local(self.g.subset(new), self.codes[self.alive], self.start)],
                                    axis=1)
        self.n_eval += len(self.alive) * len(new)
        self.done = size
        row = {"backgrounds": size, "alive": len(self.alive), "evaluations": len(self.alive) * len(new),
               "eliminated": 0}
        self.log.append(row)
        return row

    def _eliminate(self, size: int, first: bool) -> int:
        """Drop the k-mers whose upper bound of the difference with the ``top``-th is below 0."""
        n_bg, local = self.g.n, self.local
        mean = local.mean(1)
        order = np.argsort(-mean, kind="stable")
        ref = order[min(self.top, len(self.alive)) - 1]
        diff_sd = np.std(local - local[ref], axis=1, ddof=1)
        crit = stats.t.isf(stats.norm.sf(self.z), size - 1)
        self.ucb = mean - mean[ref] + crit * diff_sd / np.sqrt(size) * np.sqrt((n_bg - size) / (n_bg - 1))
        drop = self.ucb < 0
        if first:
            drop[order[:self.n_keep]] = False
        if drop.any():
            _record(self.stat, self.ns, self.alive[drop], local[drop], size)
            self.bound[self.alive[drop]] = self.ucb[drop]
            self.alive, self.local, self.ucb = self.alive[~drop], local[~drop], self.ucb[~drop]
        return int(drop.sum())

    def result(self) -> AdaptiveScan:
        """Survivors scored on every background, in background order: their statistics are the exhaustive scan's.

        Only they get a p- and q-value: an eliminated k-mer's subset p-value is not comparable with a
        full-background one (it is left out, with the bound that eliminated it in ``elimination_bound``).
        The q-values count every eliminated k-mer as p = 1 among the 4^k tests: conservative.
        """
        n_bg = self.g.n
        _record(self.stat, self.ns, self.alive, self.local[:, np.argsort(self.perm, kind="stable")], n_bg)
        full = self.ns == n_bg
        pvalue = np.where(full, self.stat["pvalue"], np.nan)
        table = _table(codes_to_kmers(self.codes), self.stat | {"pvalue": pvalue}, self.ns)
        table["qvalue"] = np.where(full, bh_qvalues(np.where(full, pvalue, 1.0)), np.nan)
        table["elimination_bound"] = self.bound
        table["_stage"] = np.where(full, 0, 1)
        table = table.sort_values(["_stage", "mean"], ascending=[True, False], kind="stable", ignore_index=True)
        table = table.drop(columns="_stage")
        table.attrs["qvalue"] = (
            f"Benjamini-Hochberg over all {self.p} k-mers for the {int(full.sum())} scored on every background, each "
            "eliminated k-mer counted as p = 1 (conservative); eliminated k-mers have no p- or q-value: their mean is "
            "over the backgrounds in column n, and elimination_bound is the upper confidence bound of their difference "
            "with the top-th k-mer that eliminated them"
        )
        rounds = pd.DataFrame(self.log, columns=["backgrounds", "alive", "evaluations", "eliminated"])
        return AdaptiveScan(table, int(self.n_eval), int(self.exhaustive), int((self.ns == n_bg).sum()),
                            bool(self.capped), rounds)


# --------------------------------------------------------------------------- does the top k-mer stand out?
STANDOUT_WORDS = ("motif found", "no motif")
_MAD_TO_SD = 1.4826  # the MAD of a normal sample times this is its sd


@dataclass(frozen=True)
class Standout:
    """Whether a scan's top k-mer stands out from the global importances of all the k-mers (:func:`standout`).

    Attributes
    ----------
    kmer, mean
        The top k-mer and its global importance.
    median, scale
        The k-mers' median importance and robust spread (1.4826 x their median absolute deviation).
    z
        ``(mean - median) / scale``: the top k-mer's robust z-score among the k-mers.
    pvalue
        The chance that the largest of ``n_kmers`` k-mers drawn from the bulk's normal law reaches ``z``
        (``1 - Phi(z) ** n_kmers``): small when one k-mer is far beyond what the tail of the others gives.
    verdict, rule
        ``"motif found"`` when ``pvalue < alpha``, else ``"no motif"``; the rule in words.
    """

    kmer: str
    mean: float
    median: float
    scale: float
    z: float
    pvalue: float
    n_kmers: int
    verdict: str
    rule: str

    def to_record(self) -> dict[str, Any]:
        return {"kmer": self.kmer, "mean": self.mean, "median": self.median, "scale": self.scale, "z": self.z,
                "pvalue": self.pvalue, "n_kmers": self.n_kmers, "verdict": self.verdict, "rule": self.rule}


def standout(table: Any, alpha: float = 0.05) -> Standout:
    """Does the top k-mer of a scan stand out from the k-mers' importances? (a learnt motif, not a response)

    A model that learnt nothing still responds to k-mers, so the top k-mer's q-value (its response
    tested against 0 over the backgrounds) can be tiny: it measures the model's response, not a motif.
    Here the top k-mer is compared with the distribution of all the k-mers' global importances: its
    robust z-score, and the chance that the largest of that many draws from the bulk's normal law
    reaches it. ``table`` is a :func:`kmer_scan` table or an :class:`AdaptiveScan` (eliminated k-mers
    count with the mean of their backgrounds).
    """
    df = getattr(table, "table", table)
    means = df["mean"].to_numpy(dtype=float)
    means = means[np.isfinite(means)]
    if means.size < 3:
        raise DataError(f"a scan of {means.size} k-mers cannot say whether one stands out; scan at least 3")
    i = int(np.argmax(means))
    top, median = float(means[i]), float(np.median(means))
    scale = _MAD_TO_SD * float(np.median(np.abs(means - median)))
    if scale > 0:
        z = (top - median) / scale
    else:
        z = math.inf if top > median else 0.0
    p_one = float(stats.norm.sf(z))
    p = float(-np.expm1(means.size * np.log1p(-p_one))) if p_one < 1 else 1.0
    p = max(p, P_FLOOR)
    kmer = str(df["kmer"].to_numpy()[np.flatnonzero(np.isfinite(df["mean"].to_numpy(dtype=float)))[i]])
    verdict = STANDOUT_WORDS[0] if p < alpha else STANDOUT_WORDS[1]
    rule = (f"top k-mer {kmer} at {z:.3g} robust sd above the median of {means.size} k-mers: the largest of that many "
            f"draws from the bulk reaches it with p = {p:.2g} ({'<' if p < alpha else '>='} {alpha:g})")
    return Standout(kmer, top, median, scale, float(z), p, int(means.size), verdict, rule)


__all__ = ["MAX_EVALUATIONS", "STANDOUT_WORDS", "WARN_SECONDS", "AdaptiveScan", "Standout", "adaptive_kmer_scan",
           "kmer_local", "kmer_scan", "standout"]
