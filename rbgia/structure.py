"""RNA secondary-structure profiles (PU and PHIME) through ViennaRNA's Python API.

The paper computes structure inputs with RNAplfold, window ``W`` and span ``L``
both equal to the probe length. We do the same through ``RNA.fold_compound`` in
window mode, which also splits the unpaired probability by loop type:

- PU: ``(paired, unpaired)``, 2 channels;
- PHIME: ``(paired, hairpin, interior, multi, exterior)``, 5 channels.

Profiles are padded and centred exactly like :func:`rbgia.sequence.one_hot`, so they
can be concatenated to the 4 sequence channels.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

import numpy as np

from .errors import DataError, StructureToolError
from .sequence import SEQ_LEN, bad_letters, clean, pad_offset

KINDS: dict[str, tuple[str, ...]] = {
    "pu": ("paired", "unpaired"),
    "phime": ("paired", "hairpin", "interior", "multi", "exterior"),
}
PHIME_COLUMNS = KINDS["phime"]

# Below this many probes a process pool costs more than it saves.
_MIN_PARALLEL = 64

#: Folds kept in memory per process, least recently used out first (0: none). GIA folds the same embedded
#: sequences for every predictor it compares (model and oracle, the controls' toys), and a fold is a pure
#: function of the sequence (ViennaRNA's default energy parameters, which rbgia never changes).
FOLD_MEMO_SIZE = 20_000  # ~33 MB of 41-nt profiles
_FOLD_MEMO: OrderedDict[str, np.ndarray] = OrderedDict()


def clear_fold_memo() -> None:
    """Forget every fold kept by :func:`fold_profiles` and :func:`mfe` in this process."""
    _FOLD_MEMO.clear()
    _mfe.cache_clear()


def _require_vienna() -> Any:
    """Import ViennaRNA's ``RNA`` module or raise a :class:`StructureToolError`."""
    try:
        import RNA  # noqa: PLC0415 (lazy: structure is optional for sequence-only models)
    except ImportError as err:
        raise StructureToolError(
            "ViennaRNA's Python module `RNA` is not importable; install it with "
            "`pip install ViennaRNA` or `conda install -c bioconda viennarna`"
        ) from err
    return RNA


def _clean(seq: str, index: int | None = None) -> str:
    """Upper-case, read T as U, and reject letters outside ACGUN."""
    s = clean(seq)
    bad = bad_letters(s)
    if bad:
        where = "sequence" if index is None else f"sequence {index}"
        raise DataError(f"{where} ({s[:50]!r}) has letters {bad} outside ACGUTN; give RNA or DNA letters only")
    return s


def _fold_profile(seq: str, RNA: Any) -> np.ndarray:
    """PHIME of a clean sequence (no validation); ``RNA`` is the imported module."""
    n = len(seq)
    out = np.zeros((n, 5), dtype=np.float64)
    if n == 0:
        return out
    md = RNA.md()
    md.window_size = n
    md.max_bp_span = n
    fc = RNA.fold_compound(seq, md, RNA.OPTION_WINDOW)
    col = {RNA.HP_LOOP: 1, RNA.INT_LOOP: 2, RNA.MB_LOOP: 3, RNA.EXT_LOOP: 4}
    loops = RNA.ANY_LOOP

    def callback(v, v_size, i, maxsize, what, data):  # noqa: ARG001 (ViennaRNA's signature)
        # With window = span = n every position is reported once per loop type;
        # v[1] is the probability that the 1-nt stretch ending at i is unpaired.
        c = col.get(what & loops)
        if c is not None and v is not None:
            data[i - 1, c] = v[1]

    fc.probs_window(1, RNA.PROBS_WINDOW_UP | RNA.PROBS_WINDOW_UP_SPLIT, callback, out)
    np.clip(out, 0.0, 1.0, out=out)
    out[:, 0] = np.clip(1.0 - out[:, 1:].sum(1), 0.0, 1.0)
    return out


def fold_profile(seq: str) -> np.ndarray:
    """Per-position structure probabilities of one sequence.

    Parameters
    ----------
    seq
        RNA or DNA letters (``T`` read as ``U``; ``N`` never pairs).

    Returns
    -------
    numpy.ndarray
        ``(len(seq), 5)`` float64: paired, hairpin, interior, multi-loop and
        exterior-loop probabilities (rows sum to 1).
    """
    RNA = _require_vienna()
    return _fold_profile(_clean(seq), RNA)


def fold_profiles(seqs: Sequence[str], n_jobs: int | None = None, progress: bool = False,
                  memo: bool = True) -> list[np.ndarray]:
    """:func:`fold_profile` of many sequences, in parallel, unpadded.

    Parameters
    ----------
    seqs
        RNA or DNA letters, any lengths.
    n_jobs
        Worker processes (default ``os.cpu_count()``); 1 folds in this process.
    progress
        Show a tqdm progress bar.
    memo
        Reuse this process's earlier folds of the same sequences and keep the new ones (at most
        :data:`FOLD_MEMO_SIZE`); the profiles are then read-only. ``False``: fold everything, keep nothing.

    Returns
    -------
    list of numpy.ndarray
        One ``(len(seq), 5)`` float64 PHIME array per sequence.
    """
    cleaned = [_clean(s, i) for i, s in enumerate(seqs)]
    if not cleaned:
        return []
    n_jobs = int(n_jobs or os.cpu_count() or 1)
    if not memo or FOLD_MEMO_SIZE <= 0:
        return _fold_many(cleaned, n_jobs, progress)
    todo = list(dict.fromkeys(s for s in cleaned if s not in _FOLD_MEMO))  # each new sequence folded once
    for s, prof in zip(todo, _fold_many(todo, n_jobs, progress) if todo else []):
        prof.flags.writeable = False  # shared by every caller that folds this sequence
        _FOLD_MEMO[s] = prof
    out = []
    for s in cleaned:
        _FOLD_MEMO.move_to_end(s)
        out.append(_FOLD_MEMO[s])
    while len(_FOLD_MEMO) > FOLD_MEMO_SIZE:
        _FOLD_MEMO.popitem(last=False)
    return out


def _fold_chunk(seqs: list[str]) -> list[np.ndarray]:
    RNA = _require_vienna()
    return [_fold_profile(s, RNA) for s in seqs]


def _mp_context() -> multiprocessing.context.BaseContext:
    # fork where available: workers then need no `if __name__ == "__main__"` guard in
    # the caller's script (forkserver/spawn re-import it); they only run ViennaRNA's C
    # code, never the parent's threads (TensorFlow), so forking a threaded parent is safe.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _fold_many(seqs: list[str], n_jobs: int, progress: bool) -> list[np.ndarray]:
    from tqdm.auto import tqdm  # noqa: PLC0415

    bar = tqdm(total=len(seqs), desc="folding", unit="seq", disable=not progress)
    if n_jobs <= 1 or len(seqs) < _MIN_PARALLEL:
        RNA = _require_vienna()
        out = []
        for s in seqs:
            out.append(_fold_profile(s, RNA))
            bar.update(1)
        bar.close()
        return out
    _require_vienna()  # fail here with the clear message, not inside a worker
    # ~8 chunks per worker balances load without much pickling overhead.
    size = max(16, -(-len(seqs) // (8 * n_jobs)))
    chunks = [(i, seqs[i : i + size]) for i in range(0, len(seqs), size)]
    out: list[np.ndarray] = [None] * len(seqs)  # type: ignore[list-item]
    with ProcessPoolExecutor(max_workers=min(n_jobs, len(chunks)), mp_context=_mp_context()) as pool:
        futures = {pool.submit(_fold_chunk, chunk): start for start, chunk in chunks}
        for fut in as_completed(futures):
            start = futures[fut]
            res = fut.result()
            out[start : start + len(res)] = res
            bar.update(len(res))
    bar.close()
    return out


def structure_profile(
    seqs: Sequence[str],
    kind: str = "pu",
    length: int = SEQ_LEN,
    n_jobs: int | None = None,
    progress: bool = False,
    memo: bool = True,
) -> np.ndarray:
    """Structure channels for many probes, padded and centred like ``one_hot``.

    Parameters
    ----------
    seqs
        Probes (RNA or DNA letters), each at most ``length`` nt.
    kind
        ``"pu"`` (paired, unpaired) or ``"phime"`` (paired, hairpin, interior,
        multi, exterior).
    length
        Output length; a probe of ``n`` nt starts at ``pad_offset(n, length)``.
    n_jobs
        Worker processes (default ``os.cpu_count()``); 1 folds in this process.
    progress
        Show a tqdm progress bar.
    memo
        As in :func:`fold_profiles` (the output is always a new array).

    Returns
    -------
    numpy.ndarray
        ``(N, length, 2)`` or ``(N, length, 5)`` float32, zero at padding.

    Raises
    ------
    DataError
        Unknown ``kind``, letters outside ACGUTN or a probe longer than ``length``.
    StructureToolError
        ViennaRNA is not installed.
    """
    key = str(kind).lower()
    if key not in KINDS:
        raise DataError(f"unknown structure kind {kind!r}; use one of {sorted(KINDS)}")
    cleaned = [_clean(s, i) for i, s in enumerate(seqs)]
    for i, s in enumerate(cleaned):
        if len(s) > length:
            raise DataError(
                f"sequence {i} has {len(s)} nt, longer than the model length {length}; "
                f"trim the probes or pass a larger length"
            )
    out = np.zeros((len(cleaned), length, len(KINDS[key])), dtype=np.float32)
    if not cleaned:
        return out
    profiles = fold_profiles(cleaned, n_jobs=n_jobs, progress=progress, memo=memo)
    for i, prof in enumerate(profiles):
        n = prof.shape[0]
        off = pad_offset(n, length)
        if key == "pu":
            out[i, off : off + n, 0] = prof[:, 0]
            out[i, off : off + n, 1] = 1.0 - prof[:, 0]
        else:
            out[i, off : off + n] = prof
    return out


def mfe(seq: str) -> tuple[str, float]:
    """Minimum-free-energy structure (dot-bracket) and its energy in kcal/mol (kept as :func:`fold_profiles`
    keeps its folds)."""
    _require_vienna()
    return _mfe(_clean(seq)) if FOLD_MEMO_SIZE > 0 else _mfe.__wrapped__(_clean(seq))


@functools.lru_cache(maxsize=FOLD_MEMO_SIZE)
def _mfe(seq: str) -> tuple[str, float]:
    import RNA  # noqa: PLC0415 (checked by the caller)

    structure, energy = RNA.fold_compound(seq).mfe()
    return structure, float(energy)
