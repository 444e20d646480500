"""Statistics of local importances: the global importance, its CI and test, comparisons."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .errors import DataError


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
    # Zero spread: the effect is exact (p = 0 unless it is exactly 0).
    p = np.where(se > 0, p, np.where(mean != 0, 0.0, 1.0))
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
        raise DataError(f"cannot pair importances over {a.n} and {b.n} backgrounds; measure both on the same background")
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


__all__ = ["Importance", "compare", "importance", "rows", "summary"]


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


@dataclass(frozen=True)
class PairedTest:
    """Result of :func:`wilcoxon_paired`.

    Attributes
    ----------
    n
        Pairs used (pairs with a NaN on either side are dropped).
    median_difference
        Median of ``a - b`` over those pairs.
    statistic, pvalue
        ``scipy.stats.wilcoxon(a, b, ...)`` on those pairs.
    alternative
        ``"two-sided"``, ``"greater"`` (``a > b``) or ``"less"``.
    """

    n: int
    median_difference: float
    statistic: float
    pvalue: float
    alternative: str


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
    res = stats.wilcoxon(x[keep], y[keep], zero_method=zero_method, alternative=alternative, method=method)
    return PairedTest(
        n=int(d.size),
        median_difference=float(np.median(d)),
        statistic=float(res.statistic),
        pvalue=float(res.pvalue),
        alternative=alternative,
    )


__all__ += ["PairedTest", "bh_qvalues", "wilcoxon_paired"]
