"""Background sequences for Global Importance Analysis.

Every sampler takes one-hot ``x`` ``(N, L, A)`` (only the first 4 channels, the
sequence, are used) and returns ``(n, L, 4)`` float32: structure channels are not
carried, since embedding a pattern changes the structure (see
``rbgia.gia.embed(..., recompute_structure=...)``). All samplers are vectorised
and deterministic under ``seed``.

- :func:`profile_background`: independent draws from the position-specific
  nucleotide profile of ``x`` (the paper's default), each with the length and
  padding of a randomly drawn probe (``padding="fill"``: every covered position);
- :func:`shuffle_background`: a random permutation of each sequence's positions;
- :func:`dinuc_shuffle_background`: a uniform random sequence with each source's
  dinucleotide counts and first base (Altschul-Erickson with a uniform last-exit
  arborescence);
- :func:`quartile_background`: real sequences from one score quartile;
- :func:`make_background`: dispatch by name.

Seeds go through :func:`rbgia.sequence.check_seed`; a background above :data:`MAX_BYTES` (the
returned array) needs ``confirm=True``, so a slip such as ``n=10**8`` is a one-line error stating
the memory it needs, not an out-of-memory machine.
"""

from __future__ import annotations

import numpy as np

from .errors import DataError
from .sequence import check_integer, check_one_hot, check_seed

MAX_BYTES = 2**30  # a larger background (1.6 M sequences of 41 nt) needs confirm=True
PADDINGS = ("source", "fill")
KINDS = ("profile", "shuffle", "dinuc", "quartile1", "quartile2", "quartile3", "quartile4")
_EYE = np.vstack([np.eye(4, dtype=np.float32), np.zeros((1, 4), dtype=np.float32)])  # code 4 -> zero row


def _check(x: np.ndarray, n: int, confirm: bool = True, what: str = "background") -> np.ndarray:
    """The source's sequence channels, after checking its shape, ``n`` and the size of the result."""
    x = check_one_hot(x, "background source")
    if x.shape[0] == 0:
        raise DataError("background source has 0 sequences; pass at least one sequence")
    n = check_integer("n", n, 1)
    size = n * x.shape[1] * 4 * np.dtype(np.float32).itemsize
    if size > MAX_BYTES and not confirm:
        # sampling holds ~3x the result at its peak (uniforms, codes, masks)
        raise DataError(
            f"{what} of n={n:,} sequences is a ({n}, {x.shape[1]}, 4) float32 array of {size / 1e9:.1f} GB "
            f"(about 3x that while sampling), above the {MAX_BYTES / 1e9:.1f} GB limit; pass a smaller n "
            "(GIA needs ~1,000) or confirm=True to build it"
        )
    return x[..., :4]


def _codes(x4: np.ndarray) -> np.ndarray:
    """Base codes 0..3 per position, 4 where the row is all zero (padding / N)."""
    return np.where(x4.sum(-1) > 0, x4.argmax(-1), 4).astype(np.int8)


def _check_padding(padding: str) -> None:
    if padding not in PADDINGS:
        raise DataError(f"padding={padding!r} is not an option; pass 'source' (the probes' lengths) or 'fill'")


def _pick(rng: np.random.Generator, n_source: int, n: int) -> np.ndarray:
    """Source rows: a random subset, with replacement only when ``n`` exceeds the pool."""
    return rng.choice(n_source, size=n, replace=n > n_source)


def profile_background(
    x: np.ndarray,
    n: int,
    seed: int | np.random.Generator | None = 0,
    *,
    padding: str = "source",
    confirm: bool = False,
) -> np.ndarray:
    """Sample from the position-specific nucleotide profile of ``x``.

    Each position is drawn independently with the base frequencies of ``x`` at
    that position (among the sequences not padded there).

    Parameters
    ----------
    x
        One-hot ``(N, L, A)``; channels beyond 4 are ignored.
    n
        Number of background sequences.
    seed
        Seed or generator.
    padding
        ``"source"`` (default): each background takes the padding (and ``N``) mask
        of a randomly drawn probe of ``x`` (a random subset, with replacement when
        ``n > N``), so backgrounds have the lengths of the data: on the 2009 data
        (29-39 nt, mostly 30-31) patterns are embedded into probes as long as the
        ones the model was trained on, not into a 41-nt sequence it never saw.
        ``"fill"``: every position any probe covers gets a base (every background
        is as long as the longest probe; the behaviour before this option).
        Either way positions padded in every probe stay all-zero, and on
        full-length data without ``N`` (2013: all 41 nt) the two agree exactly.
    confirm
        Build a background larger than :data:`MAX_BYTES` (else a :class:`~rbgia.errors.DataError`
        states the memory it needs).

    Returns
    -------
    numpy.ndarray
        ``(n, L, 4)`` float32.
    """
    x4 = _check(x, n, confirm, "profile_background")
    _check_padding(padding)
    rng = check_seed(seed)
    counts = x4.sum(0, dtype=np.float64)  # (L, 4)
    total = counts.sum(-1, keepdims=True)
    present = total[:, 0] > 0
    probs = np.divide(counts, total, out=np.zeros_like(counts), where=total > 0)
    cum = np.cumsum(probs, -1)
    cum[:, -1] = 1.0  # guard against round-off leaving u > cum[-1]
    u = rng.random((int(n), x4.shape[1]))  # drawn first: "fill" and full-length data match older results
    codes = (u[..., None] >= cum[None, :, :3]).sum(-1)  # one uniform per position
    if padding == "source":
        mask = x4[_pick(rng, x4.shape[0], int(n))].sum(-1) > 0
    else:
        mask = present[None]
    codes = np.where(mask, codes, 4)
    return _EYE[codes]


def shuffle_background(x: np.ndarray, n: int, seed: int | np.random.Generator | None = 0, *,
                       confirm: bool = False) -> np.ndarray:
    """Randomly permute the positions of sequences drawn from ``x``.

    Mononucleotide counts are kept; padding (all-zero rows) stays in place.
    Sources are a random subset of ``x`` (with replacement when ``n > N``); ``confirm`` as in
    :func:`profile_background`.

    Returns
    -------
    numpy.ndarray
        ``(n, L, 4)`` float32.
    """
    x4 = _check(x, n, confirm, "shuffle_background")
    rng = check_seed(seed)
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


def _segments(tok: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Runs of bases (codes < 4) as rows of a left-aligned ``(S, W)`` array.

    Returns the segment array (4 past each segment's end), the segment lengths and,
    for every base of ``tok`` in row-major order, its segment and offset in it.
    """
    valid = tok < 4
    prev = np.zeros_like(valid)
    prev[:, 1:] = valid[:, :-1]
    starts = (valid & ~prev).ravel()
    seg_of = (np.cumsum(starts) - 1)[valid.ravel()]
    col = np.nonzero(valid)[1]
    seg_start = np.nonzero(starts.reshape(valid.shape))[1]
    off = col - seg_start[seg_of]
    lengths = np.bincount(seg_of, minlength=seg_start.size)
    segs = np.full((seg_start.size, int(lengths.max(initial=1))), 4, dtype=np.int64)
    segs[seg_of, off] = tok[valid]
    return segs, lengths, seg_of, off


def _uniform_eulerian(tok: np.ndarray, lengths: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Uniform random sequences with the dinucleotide counts and first base of each row.

    ``tok`` ``(S, W)`` holds codes 0..3 in ``[0, lengths)``. Kandel et al. (1996) /
    Altschul-Erickson: the last exit edges of an Eulerian trail from the first base
    form an arborescence towards the last base; drawing that arborescence uniformly
    (Wilson's algorithm on the multigraph of dinucleotides) and every other exit in
    uniformly random order gives each labelled trail the same probability (BEST
    theorem), and each distinct sequence has the same number of labelled trails.
    """
    s_rows, width = tok.shape
    rows = np.arange(s_rows)
    first, last = tok[:, 0], tok[rows, lengths - 1]
    edge = np.arange(width - 1)[None] < (lengths - 1)[:, None]
    src = np.where(edge, tok[:, :-1], 4)
    dst = np.where(edge, tok[:, 1:], 4)
    flat = (rows[:, None] * 16 + src * 4 + dst)[edge]
    mult = np.bincount(flat, minlength=s_rows * 16).reshape(s_rows, 4, 4)  # dinucleotide counts
    deg = mult.sum(2)
    cum = np.cumsum(mult, 2)[..., :3]

    # Wilson: loop-erased random walks (exit b of a with probability mult[a, b] / deg[a]).
    in_tree = deg == 0  # letters with no exit (absent, or only at the end) need no last exit
    in_tree[rows, last] = True
    nxt = np.zeros((s_rows, 4), dtype=np.int64)
    for u in range(4):
        walkers = np.flatnonzero(~in_tree[:, u])
        r, c = walkers, np.full(walkers.size, u)
        while r.size:
            b = (rng.random(r.size)[:, None] * deg[r, c][:, None] >= cum[r, c]).sum(1)
            nxt[r, c] = b
            keep = ~in_tree[r, b]
            r, c = r[keep], b[keep]
        r, c = walkers, np.full(walkers.size, u)
        while r.size:  # retrace the loop-erased path: it joins the tree
            in_tree[r, c] = True
            c = nxt[r, c]
            keep = ~in_tree[r, c]
            r, c = r[keep], c[keep]

    # The last exit of each letter but the final one is an edge towards nxt[letter].
    exit_to = np.take_along_axis(nxt, np.minimum(src, 3), 1)
    cand = edge & (src != last[:, None]) & (dst == exit_to)
    is_last = np.zeros_like(cand)
    for t in range(4):
        m = cand & (src == t)
        has = np.flatnonzero(m.any(1))
        is_last[has, m[has].argmax(1)] = True
    key = src * 4.0 + np.where(is_last, 2.0, rng.random(src.shape))
    succ = np.take_along_axis(dst, np.argsort(key, axis=1), 1)  # exits grouped by letter, shuffled
    offset = np.zeros((s_rows, 4), dtype=np.int64)
    offset[:, 1:] = np.cumsum(deg, 1)[:, :-1]

    out = np.full_like(tok, 4)
    out[:, 0] = first
    by_len = np.argsort(-lengths, kind="stable")  # active rows are a prefix of this order
    n_active = np.searchsorted(-lengths[by_len], -np.arange(width), side="left")  # rows longer than step
    used = np.zeros((s_rows, 4), dtype=np.int64)
    cur = first.copy()
    for step in range(1, width):
        r = by_len[: n_active[step]]
        if not r.size:
            break
        t = cur[r]
        nb = succ[r, offset[r, t] + used[r, t]]
        used[r, t] += 1
        out[r, step] = nb
        cur[r] = nb
    return out


def dinuc_shuffle_background(x: np.ndarray, n: int, seed: int | np.random.Generator | None = 0, *,
                             confirm: bool = False) -> np.ndarray:
    """Uniform dinucleotide shuffles of sequences drawn from ``x``.

    What is uniform: each output is drawn uniformly at random among all sequences
    with exactly the source's dinucleotide counts and the same first base (hence
    the same last base and base composition). The sampler is the Eulerian-trail
    method of Altschul & Erickson (1985) with the last-exit arborescence drawn
    uniformly by Wilson's algorithm (Kandel et al. 1996; Jiang et al. 2008), which
    DeepLIFT's and tangermeme's ``dinucleotide_shuffle`` skip (they fix the last
    exits and so reach only some of the shuffles). All sequences are shuffled at
    once (one numpy step per position); 1,000 shuffles of 41-nt probes take ~0.02 s
    on one CPU core (``tests/test_background.py::test_dinuc_shuffle_is_fast``).

    Padding and ``N`` (all-zero rows) stay in place: each run of bases between
    them is shuffled on its own, uniformly as above, so with an internal ``N`` the
    draw is uniform over sequences with ``N`` at the same positions and each run's
    dinucleotide counts and first base. Sources are a random subset of ``x`` (with
    replacement when ``n > N``); ``confirm`` as in :func:`profile_background`.

    Returns
    -------
    numpy.ndarray
        ``(n, L, 4)`` float32.
    """
    x4 = _check(x, n, confirm, "dinuc_shuffle_background")
    rng = check_seed(seed)
    tok = _codes(x4[_pick(rng, x4.shape[0], int(n))]).astype(np.int64)
    out = np.full_like(tok, 4)
    valid = tok < 4
    if valid.any():
        segs, lengths, seg_of, off = _segments(tok)
        out[valid] = _uniform_eulerian(segs, lengths, rng)[seg_of, off]
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
    x4 = _check(x, n)  # never larger than x: no size guard
    rng = check_seed(seed)
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
    pick = rng.choice(pool, size=int(n), replace=False)
    return np.ascontiguousarray(x4[pick], dtype=np.float32)


def make_background(
    kind: str,
    x: np.ndarray,
    n: int = 1000,
    seed: int | np.random.Generator | None = 0,
    y: np.ndarray | None = None,
    *,
    padding: str = "source",
    confirm: bool = False,
) -> np.ndarray:
    """Build a background by name.

    Parameters
    ----------
    kind
        ``"profile"``, ``"shuffle"``, ``"dinuc"`` or ``"quartile1"`` .. ``"quartile4"``
        (``"quartile_top"`` / ``"quartile_bottom"`` also accepted; these need ``y``).
    padding
        For ``"profile"``: ``"source"`` (default, the probes' lengths) or ``"fill"``
        (see :func:`profile_background`). Shuffles and quartiles are real probes
        rearranged or as is, so they always have their source's length and padding.
    confirm
        Build a background larger than :data:`MAX_BYTES` (see :func:`profile_background`).

    Returns
    -------
    numpy.ndarray
        ``(n, L, 4)`` float32.
    """
    key = str(kind).lower()
    _check_padding(padding)
    if key == "profile":
        return profile_background(x, n, seed, padding=padding, confirm=confirm)
    if key == "shuffle":
        return shuffle_background(x, n, seed, confirm=confirm)
    if key in ("dinuc", "dinuc_shuffle", "dinucleotide"):
        return dinuc_shuffle_background(x, n, seed, confirm=confirm)
    if key.startswith("quartile"):
        q = key[len("quartile") :].lstrip("_")
        if y is None:
            raise DataError(f"background {kind!r} needs the scores: pass y=<scores of x>")
        return quartile_background(x, y, int(q) if q.isdigit() else q, n, seed)
    raise DataError(f"unknown background kind {kind!r}; use one of {KINDS}")
