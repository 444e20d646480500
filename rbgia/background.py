"""Background sequences for Global Importance Analysis.

Every sampler takes one-hot ``x`` ``(N, L, A)`` (only the first 4 channels, the
sequence, are used) and returns ``(n, L, 4)`` float32: structure channels are not
carried, since embedding a pattern changes the structure (see
``rbgia.gia.embed(..., recompute_structure=...)``). All samplers are vectorised
and deterministic under ``seed``.

- :func:`profile_background`: independent draws from the position-specific
  nucleotide profile of ``x`` (the paper's default);
- :func:`shuffle_background`: a random permutation of each sequence's positions;
- :func:`dinuc_shuffle_background`: a shuffle that keeps each sequence's
  dinucleotide counts exactly (Altschul-Erickson, as in DeepLIFT/tangermeme);
- :func:`quartile_background`: real sequences from one score quartile;
- :func:`make_background`: dispatch by name.
"""

from __future__ import annotations

import numpy as np

from .errors import DataError

KINDS = ("profile", "shuffle", "dinuc", "quartile1", "quartile2", "quartile3", "quartile4")
_EYE = np.vstack([np.eye(4, dtype=np.float32), np.zeros((1, 4), dtype=np.float32)])  # code 4 -> zero row


def _check(x: np.ndarray, n: int) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[-1] < 4:
        raise DataError(f"background source must be one-hot (N, L, A>=4); got shape {x.shape}")
    if x.shape[0] == 0:
        raise DataError("background source has 0 sequences; pass at least one sequence")
    if int(n) < 1:
        raise DataError(f"n={n} background sequences requested; pass n >= 1")
    return x[..., :4]


def _codes(x4: np.ndarray) -> np.ndarray:
    """Base codes 0..3 per position, 4 where the row is all zero (padding / N)."""
    return np.where(x4.sum(-1) > 0, x4.argmax(-1), 4).astype(np.int8)


def _pick(rng: np.random.Generator, n_source: int, n: int) -> np.ndarray:
    """Source rows: a random subset, with replacement only when ``n`` exceeds the pool."""
    return rng.choice(n_source, size=n, replace=n > n_source)


def profile_background(x: np.ndarray, n: int, seed: int | np.random.Generator | None = 0) -> np.ndarray:
    """Sample from the position-specific nucleotide profile of ``x``.

    Each position is drawn independently with the base frequencies of ``x`` at
    that position (among the sequences not padded there); positions padded in
    every sequence of ``x`` stay all-zero.

    Parameters
    ----------
    x
        One-hot ``(N, L, A)``; channels beyond 4 are ignored.
    n
        Number of background sequences.
    seed
        Seed or generator.

    Returns
    -------
    numpy.ndarray
        ``(n, L, 4)`` float32.
    """
    x4 = _check(x, n)
    counts = x4.sum(0, dtype=np.float64)  # (L, 4)
    total = counts.sum(-1, keepdims=True)
    present = total[:, 0] > 0
    probs = np.divide(counts, total, out=np.zeros_like(counts), where=total > 0)
    cum = np.cumsum(probs, -1)
    cum[:, -1] = 1.0  # guard against round-off leaving u > cum[-1]
    u = np.random.default_rng(seed).random((int(n), x4.shape[1]))
    codes = (u[..., None] >= cum[None, :, :3]).sum(-1)  # one uniform per position
    codes = np.where(present[None], codes, 4)
    return _EYE[codes]


def shuffle_background(x: np.ndarray, n: int, seed: int | np.random.Generator | None = 0) -> np.ndarray:
    """Randomly permute the positions of sequences drawn from ``x``.

    Mononucleotide counts are kept; padding (all-zero rows) stays in place.
    Sources are a random subset of ``x`` (with replacement when ``n > N``).

    Returns
    -------
    numpy.ndarray
        ``(n, L, 4)`` float32.
    """
    x4 = _check(x, n)
    rng = np.random.default_rng(seed)
    src = _codes(x4[_pick(rng, x4.shape[0], int(n))])
    valid = src < 4
    length = src.shape[1]
    pos = np.arange(length)
    # Valid positions first, in order (destinations) / in random order (sources).
    dest = np.argsort(np.where(valid, pos, length + pos), axis=1, kind="stable")
    keys = rng.random(src.shape)
    perm = np.argsort(np.where(valid, keys, 2.0 + keys), axis=1)
    out = np.full_like(src, 4)
    rows = np.arange(src.shape[0])[:, None]
    out[rows, dest] = src[rows, perm]
    out[~valid] = 4  # padding rows map onto padding rows
    return _EYE[out]


def dinuc_shuffle_background(x: np.ndarray, n: int, seed: int | np.random.Generator | None = 0) -> np.ndarray:
    """Shuffle sequences drawn from ``x`` keeping their dinucleotide counts exactly.

    The Eulerian-path shuffle of Altschul & Erickson as implemented in
    DeepLIFT's and tangermeme's ``dinucleotide_shuffle``: for every letter, the
    list of letters that follow it is permuted except its last entry (the last
    exits form a tree towards the final letter, so the walk always completes),
    then the sequence is re-walked from its first letter. The walk runs for all
    sequences at once (one numpy step per position). Leading/trailing padding is
    kept in place; an all-zero row inside a probe is treated as a fifth letter.

    Returns
    -------
    numpy.ndarray
        ``(n, L, 4)`` float32.
    """
    x4 = _check(x, n)
    rng = np.random.default_rng(seed)
    tok = _codes(x4[_pick(rng, x4.shape[0], int(n))]).astype(np.int64)
    m, length = tok.shape
    valid = tok < 4
    any_valid = valid.any(1)
    lo = np.where(any_valid, valid.argmax(1), 0)
    hi = np.where(any_valid, length - valid[:, ::-1].argmax(1), 0)  # core is [lo, hi)
    pos = np.arange(length)
    rows = np.arange(m)

    # Edges i -> i+1 inside the core, grouped by the letter at i (5 = not an edge).
    edge = (pos[None, :-1] >= lo[:, None]) & (pos[None, :-1] < hi[:, None] - 1)
    src_letter = np.where(edge, tok[:, :-1], 5)
    # Within each letter group: random order, but the group's last edge stays last.
    order = np.argsort(src_letter * 4.0 + pos[None, :-1] / length, axis=1, kind="stable")
    grouped = np.take_along_axis(src_letter, order, 1)
    is_last = np.ones_like(grouped, dtype=bool)
    is_last[:, :-1] = grouped[:, :-1] != grouped[:, 1:]
    key = grouped * 4.0 + np.where(is_last, 2.0, rng.random(grouped.shape))
    shuf = np.argsort(key, axis=1, kind="stable")
    nxt = np.take_along_axis(order, shuf, 1) + 1  # successor positions, grouped by letter
    counts = np.stack([(src_letter == t).sum(1) for t in range(5)], 1)
    offset = np.concatenate([np.zeros((m, 1), dtype=np.int64), np.cumsum(counts, 1)[:, :-1]], 1)

    out = np.full_like(tok, 4)
    ind = lo.copy()
    out[rows, lo] = np.where(any_valid, tok[rows, lo], 4)
    used = np.zeros((m, 5), dtype=np.int64)
    core = hi - lo
    for step in range(1, int(core.max(initial=0))):
        active = step < core
        r = rows[active]
        t = tok[r, ind[r]]
        ind[r] = nxt[r, offset[r, t] + used[r, t]]
        used[r, t] += 1
        out[r, lo[r] + step] = tok[r, ind[r]]
    return _EYE[out]


def quartile_background(
    x: np.ndarray,
    y: np.ndarray,
    q: int | str,
    n: int,
    seed: int | np.random.Generator | None = 0,
) -> np.ndarray:
    """Real sequences from one quartile of the scores ``y``.

    Parameters
    ----------
    x
        One-hot ``(N, L, A)``.
    y
        Scores ``(N,)`` or ``(N, 1)``.
    q
        Quartile 1 (lowest scores) .. 4 (highest); also ``"bottom"`` (1) or ``"top"`` (4).
    n
        Number of sequences, drawn without replacement; at most the quartile's size.

    Returns
    -------
    numpy.ndarray
        ``(n, L, 4)`` float32.
    """
    x4 = _check(x, n)
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)[:, 0] if np.ndim(y) > 1 else np.asarray(y, dtype=np.float64)
    if y.shape[0] != x4.shape[0]:
        raise DataError(f"y has {y.shape[0]} scores for {x4.shape[0]} sequences; pass one score per sequence")
    names = {"bottom": 1, "top": 4}
    qi = names.get(q, q) if isinstance(q, str) else q
    if qi not in (1, 2, 3, 4):
        raise DataError(f"quartile {q!r} is not 1..4; pass 1 (lowest scores) .. 4 (highest), 'bottom' or 'top'")
    finite = np.isfinite(y)
    edges = np.quantile(y[finite], [0.25, 0.5, 0.75])
    bins = np.digitize(y, edges, right=True) + 1  # 1..4
    pool = np.flatnonzero(finite & (bins == qi))
    if int(n) > pool.size:
        raise DataError(
            f"quartile {qi} holds {pool.size} sequences but n={n} were requested; pass n <= {pool.size} or more data"
        )
    pick = np.random.default_rng(seed).choice(pool, size=int(n), replace=False)
    return np.ascontiguousarray(x4[pick], dtype=np.float32)


def make_background(
    kind: str,
    x: np.ndarray,
    n: int = 1000,
    seed: int | np.random.Generator | None = 0,
    y: np.ndarray | None = None,
) -> np.ndarray:
    """Build a background by name.

    Parameters
    ----------
    kind
        ``"profile"``, ``"shuffle"``, ``"dinuc"`` or ``"quartile1"`` .. ``"quartile4"``
        (``"quartile_top"`` / ``"quartile_bottom"`` also accepted; these need ``y``).

    Returns
    -------
    numpy.ndarray
        ``(n, L, 4)`` float32.
    """
    key = str(kind).lower()
    if key == "profile":
        return profile_background(x, n, seed)
    if key == "shuffle":
        return shuffle_background(x, n, seed)
    if key in ("dinuc", "dinuc_shuffle", "dinucleotide"):
        return dinuc_shuffle_background(x, n, seed)
    if key.startswith("quartile"):
        q = key[len("quartile") :].lstrip("_")
        if y is None:
            raise DataError(f"background {kind!r} needs the scores: pass y=<scores of x>")
        return quartile_background(x, y, int(q) if q.isdigit() else q, n, seed)
    raise DataError(f"unknown background kind {kind!r}; use one of {KINDS}")
