"""Statistics of local importances: the global importance, its CI and test, comparisons."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
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
