"""The negative-controls table (chapter 10's ``rbgia.controls.run_controls``): seconds with and without its
two fast paths, in one run, and the check that every variant gives the same table.

Variants, each on the same background sets and seeds:

- ``plain``: the toys find their motifs by comparing whole windows of letter codes, and every ViennaRNA
  fold is computed anew (``rbgia.structure.FOLD_MEMO_SIZE = 0``): the controls as they ran before;
- ``fast toys``: the toys compare one letter per shifted column (``rbgia.controls._hits``), folds anew;
- ``fast toys + fold memo``: the book's path; the nine toys of a background set fold its hairpin designs once.

Prints JSON with the seconds, each variant's ratio to ``plain`` and whether its table equals ``plain``'s;
``--out`` also writes it atomically.

Usage::

    python benchmarks/bench_controls.py                 # 4 sets of 100 backgrounds, ~1.5 min on 2 cores
    python benchmarks/bench_controls.py --sets 20       # the book's 20 sets
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from rbgia import controls, structure
from rbgia._io import save_json


def window_hits(x: np.ndarray, motif: str) -> np.ndarray:
    """The toys' motif finder before the fast path: argmax letter codes, every window compared whole."""
    x4 = np.asarray(x)[..., :4]
    codes = np.where(x4.sum(-1) > 0, x4.argmax(-1), -1)
    windows = np.lib.stride_tricks.sliding_window_view(codes, len(motif), axis=1)
    return (windows == np.array(["ACGU".index(c) for c in motif])).all(-1)


def timed(hits: Callable[[np.ndarray, str], np.ndarray], memo: int, **kw) -> tuple[float, pd.DataFrame]:
    """Seconds and table of ``run_controls(**kw)`` with the toys' finder ``hits`` and a fold memo of ``memo``."""
    saved = controls._hits, structure.FOLD_MEMO_SIZE
    controls._hits, structure.FOLD_MEMO_SIZE = hits, memo  # the toys look _hits up at call time
    structure.clear_fold_memo()
    try:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = controls.run_controls(**kw)
        return time.perf_counter() - start, table
    finally:
        controls._hits, structure.FOLD_MEMO_SIZE = saved
        structure.clear_fold_memo()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=4, help="background sets (the book: 20)")
    parser.add_argument("--background", type=int, default=100, help="backgrounds per set (the book: 100)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="also write the JSON here (atomically)")
    args = parser.parse_args(argv)
    if args.sets < 1 or args.background < 2:
        parser.error("--sets must be >= 1 and --background >= 2")
    kw = {"n_sets": args.sets, "n_background": args.background, "k": 6, "seed": args.seed}
    fast, memo = controls._hits, structure.FOLD_MEMO_SIZE
    runs = {"plain": timed(window_hits, 0, **kw), "fast toys": timed(fast, 0, **kw),
            "fast toys + fold memo": timed(fast, memo, **kw)}
    base_s, base = runs["plain"]
    out = {"sets": args.sets, "backgrounds": args.background, "seed": args.seed,
           "variants": {name: {"seconds": round(s, 2), "speed-up": round(base_s / s, 2),
                               "same table": bool(table.equals(base))} for name, (s, table) in runs.items()}}
    print(json.dumps(out, indent=2))
    if args.out:
        save_json(args.out, out)
    return out


if __name__ == "__main__":
    main()
