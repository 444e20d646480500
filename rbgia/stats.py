"""Statistics of local importances: the global importance, its CI and test, comparisons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .errors import DataError
from .sequence import check_seed

#: The smallest p-value reported: an exact effect (zero spread) or an underflowing tail is a bound,
#: ``p <= P_FLOOR`` (printed "< 1e-300"), never an exact 0.
P_FLOOR = 1e-300
#: Paired tests on at most this many pairs use the exact distribution (ties and zeros included).
EXACT_MAX_N = 25


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
        ``f(x with pattern)`` vs ``f(x)``); at least :data:`P_FLOOR` (a bound), NaN
        with fewer than 2 backgrounds.
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

    def to_record(self) -> dict:
        """JSON-ready ``{kind, mean, ci_low, ci_high, pvalue, n, local}``; ``local`` is summarised by
        quantiles (:func:`rbgia.records.local_summary`), NaN becomes ``None``."""
        from .records import importance_record  # noqa: PLC0415 (records imports nothing from here)

        return importance_record(self)


def summary(local: np.ndarray) -> dict[str, np.ndarray]:
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
    # Zero spread: the effect is exact (the p-value's bound unless it is exactly 0); an underflowing
    # tail is a bound too, never 0.
    p = np.where(se > 0, p, np.where(mean != 0, P_FLOOR, 1.0))
    p = np.where(np.isnan(p), p, np.maximum(p, P_FLOOR))
    return {"mean": mean, "sd": sd, "ci_low": mean - half, "ci_high": mean + half, "pvalue": p}


def importance(local: np.ndarray) -> Importance:
    local = np.asarray(local, dtype=np.float64)
    s = summary(local[None])
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
        raise DataError(
            f"cannot pair importances over {a.n} and {b.n} backgrounds; measure both on the same background"
        )
    return importance(a.local - b.local)


def rows(imps: Sequence[Importance]) -> dict[str, list]:
    """Table columns (``mean``, ``ci_low``, ``ci_high``, ``pvalue``, ``n``) of several importances."""
    return {
        "mean": [i.mean for i in imps],
        "ci_low": [i.ci95[0] for i in imps],
        "ci_high": [i.ci95[1] for i in imps],
        "pvalue": [i.pvalue for i in imps],
        "n": [i.n for i in imps],
    }


# --------------------------------------------------------------------------- bootstrap, estimates, fits
@dataclass(frozen=True)
class Estimate:
    """A derived statistic (ratio, difference in differences, interaction) with its CI.

    Attributes
    ----------
    mean
        The statistic on all backgrounds.
    ci_low, ci_high
        Percentile 95% CI over paired bootstrap resamples of the backgrounds.
    pvalue
        Two-sided paired test where one is defined (NaN otherwise).
    """

    mean: float
    ci_low: float
    ci_high: float
    pvalue: float = float("nan")

    @property
    def ci95(self) -> tuple[float, float]:
        return self.ci_low, self.ci_high

    def to_record(self) -> dict:
        """``{mean, ci_low, ci_high, pvalue}``, NaN as ``None`` (see :mod:`rbgia.records`)."""
        from .records import estimate_record  # noqa: PLC0415 (records imports nothing from here)

        return estimate_record(self)


def bootstrap_means(local: np.ndarray, n_boot: int = 2000, seed: int | np.random.Generator | None = 0) -> np.ndarray:
    """Means of ``local`` ``(P, n)`` over ``n_boot`` resamples of its ``n`` backgrounds.

    Paired: every row is resampled with the same draws, so a statistic of several rows
    (a ratio, a difference) keeps the pairing of the backgrounds. Returns ``(P, n_boot)``.
    """
    local = np.atleast_2d(np.asarray(local, dtype=np.float64))
    n = local.shape[-1]
    if int(n_boot) < 1 or n < 1:
        raise DataError(f"bootstrap needs n_boot >= 1 and >= 1 background; got n_boot={n_boot}, {n} backgrounds")
    rng = check_seed(seed)
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=int(n_boot))  # (B, n): draws per background
    return local @ counts.T / n


def percentile_ci(draws: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of the finite bootstrap ``draws`` (NaN when none is finite)."""
    v = np.asarray(draws, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if not v.size:
        return float("nan"), float("nan")
    tail = 100 * (1 - level) / 2
    lo, hi = np.percentile(v, [tail, 100 - tail])
    return float(lo), float(hi)


def safe_ratio(num: Any, den: Any) -> np.ndarray:
    """``num / den`` with NaN (not inf, no warning) where ``den`` is 0."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den == 0, np.nan, num / den)


def paired_estimate(value: float, draws: np.ndarray, local: np.ndarray | None = None) -> Estimate:
    """An :class:`Estimate`: ``value``, the percentile CI of ``draws`` and, given the
    per-background ``local`` values of a difference, its paired t-test p-value."""
    lo, hi = percentile_ci(draws)
    p = float("nan") if local is None else importance(local).pvalue
    return Estimate(float(value), lo, hi, p)


MIN_FIT_DOF = 1  # a fit needs a residual degree of freedom: 3 points for a line, 2 through the origin


@dataclass(frozen=True)
class LinearFit:
    """Least-squares line ``y = slope x + intercept`` (``intercept`` = 0 through the origin).

    ``r2`` is the usual R² (through the origin: the uncentred ``1 - SS_res / sum(y^2)``);
    ``pvalue`` tests slope = 0. Both are NaN when the fit has no residual degree of
    freedom (2 points for a line, 1 through the origin: exact by construction) or the
    response is flat; ``slope`` is NaN with fewer than 2 distinct ``x``.
    """

    slope: float
    intercept: float
    r2: float
    pvalue: float
    n: int
    through_origin: bool = False

    @property
    def dof(self) -> int:
        return self.n - (1 if self.through_origin else 2)

    def as_dict(self) -> dict[str, float]:
        return {"slope": self.slope, "intercept": self.intercept, "r2": self.r2, "p": self.pvalue}


def linear_fit(x: Any, y: Any, *, through_origin: bool = False) -> LinearFit:
    """The one line fit of the project (multiplicity, Kd regressions, plots); see :class:`LinearFit`."""
    x, y = np.asarray(x, float).ravel(), np.asarray(y, float).ravel()
    if x.size != y.size:
        raise DataError(f"x has {x.size} values and y {y.size}; pass matching (x, y) pairs")
    nan = float("nan")
    n = int(x.size)
    dof = n - (1 if through_origin else 2)
    if through_origin:
        sxx = float((x**2).sum())
        if sxx == 0 or not np.isfinite(y).all():
            return LinearFit(nan, 0.0, nan, nan, n, True)
        slope = float((x * y).sum() / sxx)
        ss_res, ss_tot = float(((y - slope * x) ** 2).sum()), float((y**2).sum())
        if dof < MIN_FIT_DOF or ss_tot == 0:
            return LinearFit(slope, 0.0, nan, nan, n, True)
        se = np.sqrt(ss_res / dof / sxx)
        p = 2 * stats.t.sf(abs(slope) / se, dof) if se > 0 else (0.0 if slope != 0 else 1.0)
        return LinearFit(slope, 0.0, 1 - ss_res / ss_tot, float(p), n, True)
    if n < 2 or np.ptp(x) == 0 or not np.isfinite(y).all():
        return LinearFit(nan, nan, nan, nan, n)
    res = stats.linregress(x, y)
    if dof < MIN_FIT_DOF or np.ptp(y) == 0:
        return LinearFit(float(res.slope), float(res.intercept), nan, nan, n)
    return LinearFit(float(res.slope), float(res.intercept), float(res.rvalue**2), float(res.pvalue), n)


__all__ = [
    "Estimate",
    "Importance",
    "LinearFit",
    "bootstrap_means",
    "compare",
    "importance",
    "linear_fit",
    "paired_estimate",
    "percentile_ci",
    "rows",
    "safe_ratio",
    "summary",
]


# --------------------------------------------------------------------------- multiple testing, paired tests
def bh_qvalues(pvalues: Any) -> np.ndarray:
    """Benjamini-Hochberg q-values (step-up adjusted p-values) of ``pvalues``.

    ``q_(i) = min_{j >= i} p_(j) * m / j`` over the ``m`` finite p-values sorted
    ascending, capped at 1; a k-mer is declared at FDR ``alpha`` when its q-value
    is ``<= alpha``. NaN p-values (a statistic that could not be computed) stay NaN
    and are not counted in ``m``.

    Parameters
    ----------
    pvalues
        Array-like of p-values in [0, 1] (any shape), NaN allowed.

    Returns
    -------
    numpy.ndarray
        float64 q-values, the shape of ``pvalues``.

    Raises
    ------
    DataError
        A p-value outside [0, 1] or infinite.
    """
    p = np.asarray(pvalues, dtype=np.float64)
    flat = p.ravel()
    ok = ~np.isnan(flat)
    bad = ok & ~((flat >= 0) & (flat <= 1))
    if bad.any():
        raise DataError(
            f"{int(bad.sum())} p-values lie outside [0, 1] (e.g. {flat[bad][0]!r}); pass p-values, not statistics"
        )
    q = np.full(flat.shape, np.nan)
    vals = flat[ok]
    m = vals.size
    if m:
        order = np.argsort(vals, kind="stable")
        scaled = vals[order] * m / np.arange(1, m + 1)
        adj = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
        sub = np.empty(m)
        sub[order] = adj
        q[ok] = sub
    return q.reshape(p.shape)


def holm(pvalues: Any) -> np.ndarray:
    """Holm step-down adjusted p-values (family-wise error) of ``pvalues``; NaN stays NaN and is not counted.

    ``adj_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))`` over the ``m`` finite p-values sorted
    ascending; a hypothesis is rejected at level ``alpha`` when its adjusted p-value is below it.
    """
    p = np.asarray(pvalues, dtype=np.float64)
    flat = p.ravel()
    ok = ~np.isnan(flat)
    bad = ok & ~((flat >= 0) & (flat <= 1))
    if bad.any():
        raise DataError(f"{int(bad.sum())} p-values lie outside [0, 1] (e.g. {flat[bad][0]!r}); pass p-values")
    out = np.full(flat.shape, np.nan)
    vals = flat[ok]
    m = vals.size
    if m:
        order = np.argsort(vals, kind="stable")
        scaled = np.minimum(1.0, vals[order] * (m - np.arange(m)))
        adj = np.empty(m)
        adj[order] = np.maximum.accumulate(scaled)
        out[ok] = adj
    return out.reshape(p.shape)


def _exact_signed_rank(d: np.ndarray, alternative: str) -> tuple[float, float]:
    """Statistic (sum of the ranks of the positive differences) and exact p-value of the signed-rank test
    of nonzero ``d``, ties included: the sign-flip distribution counted over doubled (integer) mid-ranks."""
    ranks = stats.rankdata(np.abs(d))  # mid-ranks for ties
    twice = np.rint(2 * ranks).astype(np.int64)
    counts = np.zeros(int(twice.sum()) + 1)
    counts[0] = 1.0
    for r in twice:  # every subset of positive signs, each equally likely under H0
        counts[r:] = counts[r:] + counts[: len(counts) - r].copy()
    probs = counts / counts.sum()
    t = int(twice[d > 0].sum())
    upper, lower = probs[t:].sum(), probs[: t + 1].sum()
    p = {"greater": upper, "less": lower, "two-sided": min(1.0, 2 * min(upper, lower))}[alternative]
    return t / 2, float(max(p, P_FLOOR))


@dataclass(frozen=True)
class PairedTest:
    """Result of :func:`wilcoxon_paired`.

    Attributes
    ----------
    n
        Pairs the test used: those with no NaN on either side and (``zero_method="wilcox"``)
        a nonzero difference.
    median_difference
        Median of ``a - b`` over those pairs.
    statistic, pvalue
        ``scipy.stats.wilcoxon(a, b, ...)`` on those pairs; for at most :data:`EXACT_MAX_N` pairs with
        ties or zeros, the exact sign-flip distribution instead of scipy's normal approximation.
    method
        ``"exact"`` or ``"approx"`` (or scipy's choice, ``"auto"``).
    alternative
        ``"two-sided"``, ``"greater"`` (``a > b``) or ``"less"``.
    """

    n: int
    median_difference: float
    statistic: float
    pvalue: float
    alternative: str
    method: str = "auto"


def wilcoxon_paired(
    a: Any,
    b: Any,
    *,
    alternative: str = "two-sided",
    zero_method: str = "wilcox",
    method: str = "auto",
) -> PairedTest:
    """Wilcoxon signed-rank test of paired values, e.g. two methods over the same experiments.

    The paper's Fig 1a/1d/1e compare methods or configurations over experiments:
    ``a[i]`` and ``b[i]`` are one experiment's score under each. Two pandas Series
    are paired by index (experiments missing from either are dropped), so
    ``wilcoxon_paired(frame["ResidualBind"], frame["DeepBind"])`` works on a wide
    table. Pairs with NaN on either side are dropped and not counted in ``n``.

    Parameters
    ----------
    a, b
        Paired values (array-likes of equal length, or Series aligned by index).
    alternative, zero_method, method
        Passed to :func:`scipy.stats.wilcoxon`.

    Returns
    -------
    PairedTest
        ``n``, ``median_difference``, ``statistic``, ``pvalue``, ``alternative``;
        the statistic and p-value equal ``scipy.stats.wilcoxon``'s on the kept pairs.

    Raises
    ------
    DataError
        Unequal lengths, or no pair with a non-zero difference to test.
    """
    if isinstance(a, pd.Series) and isinstance(b, pd.Series):
        a, b = a.align(b, join="inner")
    x, y = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise DataError(f"{x.size} values paired with {y.size}; pass one value of b per value of a")
    keep = ~(np.isnan(x) | np.isnan(y))
    d = x[keep] - y[keep]
    if not np.any(d != 0):
        raise DataError(
            f"{d.size} complete pairs and none differs; a paired test needs pairs with a non-zero difference"
        )
    used = d[d != 0] if zero_method == "wilcox" else d
    ties = len(np.unique(np.abs(used))) < len(used)
    if method == "auto" and zero_method == "wilcox" and len(used) <= EXACT_MAX_N and (ties or len(used) < len(d)):
        statistic, pvalue = _exact_signed_rank(used, alternative)  # scipy would use the normal approximation
        chosen = "exact"
    else:
        res = stats.wilcoxon(x[keep], y[keep], zero_method=zero_method, alternative=alternative, method=method)
        statistic, pvalue, chosen = float(res.statistic), float(max(res.pvalue, P_FLOOR)), method
    return PairedTest(n=int(used.size), median_difference=float(np.median(d)), statistic=float(statistic),
                      pvalue=float(pvalue), alternative=alternative, method=chosen)


__all__ += ["EXACT_MAX_N", "P_FLOOR", "PairedTest", "bh_qvalues", "holm", "wilcoxon_paired"]
