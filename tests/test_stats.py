"""rbgia.stats: Benjamini-Hochberg q-values against a reference computation, the paired
Wilcoxon test against scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from rbgia.errors import DataError
from rbgia.stats import PairedTest, bh_qvalues, wilcoxon_paired


def _reference_bh(p: list[float]) -> list[float]:
    """BH straight from the definition: q_i = min over j with p_j >= p_i of p_j * m / rank_j."""
    m = len(p)
    ranks = {i: 1 + sum(pj < p[i] or (pj == p[i] and j < i) for j, pj in enumerate(p)) for i in range(m)}
    return [min(1.0, min(p[j] * m / ranks[j] for j in range(m) if ranks[j] >= ranks[i])) for i in range(m)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bh_equals_reference(seed):
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(0, 1, 40), rng.uniform(0, 1e-3, 10), [0.0, 1.0, 0.02, 0.02]])
    rng.shuffle(p)
    np.testing.assert_allclose(bh_qvalues(p), _reference_bh(list(p)), rtol=1e-12, atol=0)
    if hasattr(stats, "false_discovery_control"):  # scipy >= 1.11
        np.testing.assert_allclose(bh_qvalues(p), stats.false_discovery_control(p, method="bh"), rtol=1e-12)


def test_bh_is_nan_safe_and_keeps_shape():
    p = np.array([[0.01, np.nan], [0.04, 0.03]])
    q = bh_qvalues(p)
    assert q.shape == (2, 2) and np.isnan(q[0, 1])
    # m = 3 finite p-values, not 4: the NaN is not counted
    np.testing.assert_allclose(q[~np.isnan(q)], _reference_bh([0.01, 0.04, 0.03]))
    assert np.isnan(bh_qvalues([np.nan, np.nan])).all() and bh_qvalues([]).shape == (0,)
    assert (bh_qvalues(np.linspace(0, 1, 50)) >= np.linspace(0, 1, 50)).all()
    with pytest.raises(DataError, match="outside"):
        bh_qvalues([0.5, 1.5])
    with pytest.raises(DataError, match="outside"):
        bh_qvalues([0.5, np.inf])


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_wilcoxon_equals_scipy(alternative):
    rng = np.random.default_rng(3)
    a = rng.normal(0.6, 0.1, 24)
    b = a - rng.normal(0.02, 0.03, 24)
    got = wilcoxon_paired(a, b, alternative=alternative)
    want = stats.wilcoxon(a, b, alternative=alternative)
    assert isinstance(got, PairedTest) and got.n == 24 and got.alternative == alternative
    assert got.statistic == pytest.approx(want.statistic) and got.pvalue == pytest.approx(want.pvalue, rel=1e-12)
    assert got.median_difference == pytest.approx(np.median(a - b))


def test_wilcoxon_drops_nan_pairs_and_aligns_series():
    rng = np.random.default_rng(4)
    a = pd.Series(rng.normal(size=12), index=[f"E{i}" for i in range(12)])
    b = pd.Series(a.to_numpy() - rng.normal(0.5, 1.0, 12), index=a.index)
    b.iloc[2] = np.nan
    shuffled = b.sample(frac=1.0, random_state=0).drop("E5")  # other order, one experiment missing
    got = wilcoxon_paired(a, shuffled)
    keep = [i for i in a.index if i not in ("E2", "E5")]
    want = stats.wilcoxon(a[keep], b[keep])
    assert got.n == 10 and got.pvalue == pytest.approx(want.pvalue) and got.statistic == pytest.approx(want.statistic)
    frame = pd.DataFrame({"m1": a, "m2": b})
    assert wilcoxon_paired(frame["m1"], frame["m2"]).n == 11


def test_wilcoxon_errors():
    with pytest.raises(DataError, match="one value of b per value of a"):
        wilcoxon_paired([1.0, 2.0], [1.0])
    with pytest.raises(DataError, match="none differs"):
        wilcoxon_paired([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(DataError, match="0 complete pairs"):
        wilcoxon_paired([np.nan], [1.0])
