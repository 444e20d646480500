"""A k-mer regression baseline (RCK-like in spirit): ridge regression on k-mer counts.

The shallow CNN baseline is :func:`rbgia.model.deepbind_cnn`, trained with
:func:`rbgia.train.fit`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from scipy import sparse

from .data import Split
from .errors import DataError, ModelError


def _codes(x_or_seqs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per-position letter codes ``(N, L)`` int64 and a validity mask (False on
    padding and N)."""
    if isinstance(x_or_seqs, np.ndarray) and x_or_seqs.ndim == 3:
        x = x_or_seqs
    else:
        seqs = list(x_or_seqs)
        if seqs and not isinstance(seqs[0], str):
            raise DataError(f"got {type(seqs[0]).__name__} items; pass one-hot (N, L, C) or a list of strings")
        from .data import one_hot

        length = max((len(s) for s in seqs), default=1)
        x = one_hot(seqs, length=length)
    if x.shape[-1] < 4:
        raise DataError(f"one-hot input has {x.shape[-1]} channels; give at least the 4 sequence channels")
    onehot = np.asarray(x[..., :4])
    return onehot.argmax(-1).astype(np.int64), onehot.sum(-1) > 0


def _ks(k: int | Iterable[int]) -> list[int]:
    ks = [int(k)] if np.isscalar(k) else sorted({int(v) for v in k})  # type: ignore[arg-type]
    if not ks or min(ks) < 1 or max(ks) > 10:
        raise DataError(f"k = {k!r}; give k-mer lengths between 1 and 10")
    return ks


def kmer_counts(x_or_seqs: Any, k: int | Iterable[int]) -> sparse.csr_matrix:
    """Count every k-mer in each sequence.

    Parameters
    ----------
    x_or_seqs
        One-hot ``(N, L, C)`` (first 4 channels read) or a list of RNA/DNA strings.
    k
        One length or several (their count blocks are stacked side by side).

    Returns
    -------
    scipy.sparse.csr_matrix
        ``(N, sum 4**k)`` float32 counts; column ``c`` of the k block is the k-mer
        whose base-4 digits (A=0, C=1, G=2, U=3, first letter most significant)
        spell ``c``. k-mers touching padding or ``N`` are not counted.
    """
    codes, valid = _codes(x_or_seqs)
    n, length = codes.shape
    blocks = []
    for kk in _ks(k):
        if kk > length:
            blocks.append(sparse.csr_matrix((n, 4**kk), dtype=np.float32))
            continue
        windows = np.lib.stride_tricks.sliding_window_view(codes, kk, axis=1)  # (N, L-k+1, k)
        kmer = windows @ (4 ** np.arange(kk - 1, -1, -1, dtype=np.int64))
        ok = np.lib.stride_tricks.sliding_window_view(valid, kk, axis=1).all(-1)
        rows = np.broadcast_to(np.arange(n)[:, None], kmer.shape)[ok]
        # COO -> CSR sums repeated (row, k-mer) entries: the counts.
        blocks.append(
            sparse.coo_matrix((np.ones(rows.size, np.float32), (rows, kmer[ok])), shape=(n, 4**kk)).tocsr()
        )
    return sparse.hstack(blocks, format="csr", dtype=np.float32)


class KmerRidge:
    """Ridge regression of scores on k-mer counts.

    Parameters
    ----------
    k
        k-mer lengths (default 1 to 6: 5,460 features).
    alpha
        Ridge penalty, or several: then :meth:`fit` keeps the one with the best
        Pearson r on ``valid``.

    Attributes
    ----------
    alpha_
        The penalty used.
    model_
        The fitted :class:`sklearn.linear_model.Ridge`.
    """

    def __init__(self, k: int | Iterable[int] = (1, 2, 3, 4, 5, 6), alpha: float | Sequence[float] = 1.0) -> None:
        self.k = _ks(k)
        self.alpha = alpha
        self.model_: Any = None
        self.alpha_: float | None = None

    def features(self, x_or_seqs: Any) -> sparse.csr_matrix:
        """k-mer counts for this model's ``k``."""
        return kmer_counts(x_or_seqs, self.k)

    def fit(self, train: Any, valid: Any | None = None) -> KmerRidge:
        """Fit on a split (``.x``, ``.y``); pick ``alpha`` on ``valid`` if several."""
        from sklearn.linear_model import Ridge

        from .evaluate import pearson

        x, y = Split.xy(train, 0, "train")  # duck-typed: any object with .x and .y
        feats = self.features(x)
        alphas = [float(self.alpha)] if np.isscalar(self.alpha) else [float(a) for a in self.alpha]  # type: ignore[arg-type]
        if len(alphas) > 1 and valid is None:
            raise ModelError(f"{len(alphas)} alphas but no valid split to choose among them; pass valid= or one alpha")
        if len(alphas) > 1:
            xv, yv = Split.xy(valid, 0, "valid")
            feats_v = self.features(xv)
        best = None
        for a in alphas:
            model = Ridge(alpha=a).fit(feats, y)
            score = pearson(yv, model.predict(feats_v)) if len(alphas) > 1 else 0.0
            score = score if np.isfinite(score) else -np.inf  # undefined r (constant predictions) never wins
            if best is None or score > best[0]:
                best = (score, a, model)
        assert best is not None
        _, self.alpha_, self.model_ = best
        return self

    def predict(self, x_or_seqs: Any) -> np.ndarray:
        """Predicted scores ``(N,)`` float64 for one-hot arrays or strings."""
        if self.model_ is None:
            raise ModelError("KmerRidge is not fitted; call fit(train) first")
        return np.asarray(self.model_.predict(self.features(x_or_seqs)), dtype=np.float64)

    __call__ = predict
