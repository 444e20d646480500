"""The GIA session: a predictor, a background and the background's cached predictions.

The global importance of a pattern ``p`` under a model ``f`` is the mean, over
background sequences ``x``, of the local importance ``f(x with p) - f(x)``
(Eq. 2 of the paper). :class:`GIA` computes ``f(x)`` once and reuses it for every
experiment; :func:`global_importance` is the one-line entry point.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .embedding import embed, parse_patterns
from .errors import DataError
from .inference import Predictor, as_predict
from .sequence import check_integer, check_one_hot
from .stats import Importance, importance
from .stemloop import add_structure, stem_loop_background, structure_kind
from .verdicts import MIN_BACKGROUNDS

DEFAULT_CHUNK = 65_536  # sequences per streamed chunk (~43 MB at 41 x 4 float32)


def _check_background(background: Any) -> np.ndarray:
    """The session's own read-only float32 copy of ``background``: the caller's array may change
    later without changing the session (its cached ``f(x)`` describes this copy)."""
    bg = check_one_hot(background, "background")
    if bg.shape[0] == 0:
        raise DataError("background has 0 sequences; pass at least one (e.g. rbgia.background.make_background)")
    return _frozen(np.array(bg, dtype=np.float32, order="C", copy=True))


def _frozen(x: np.ndarray) -> np.ndarray:
    x.flags.writeable = False
    return x


def warn_untestable(n: int, what: str, stacklevel: int = 3) -> None:
    """Warn that statistics over ``n`` < 2 backgrounds have no CI or p-value: they stay NaN (never read
    as "not significant"), and the mean is one background's local importance."""
    if n < 2:
        warnings.warn(f"{what} on {n} background: its CI and p-value are undefined (NaN); use at least 2 "
                      f"backgrounds ({MIN_BACKGROUNDS} for a verdict)", RuntimeWarning, stacklevel=stacklevel)


class GIA:
    """A predictor, a background and the background's cached predictions.

    Parameters
    ----------
    predict
        Keras model, callable or :class:`rbgia.inference.Predictor`.
    background
        One-hot ``(N, L, A)``.
    task, batch_size
        Passed to :func:`rbgia.inference.as_predict`.
    stem_loop
        ``(stem, partner)``: turn the background into stem-loops and keep the
        pairing after every embedding (see :func:`embed`).
    recompute_structure
        As in :func:`embed`; applied to the background (for ``f(x)``) and to every
        embedded batch. Folding costs ~2 ms per sequence: fine for a few patterns,
        not for a k-mer scan.
    chunk_size
        Sequences per streamed chunk (bounds memory).
    """

    def __init__(
        self,
        predict: Any,
        background: np.ndarray,
        *,
        task: int | None = 0,
        batch_size: int | None = None,
        stem_loop: tuple[tuple[int, int], tuple[int, int]] | None = None,
        recompute_structure: bool | str = False,
        chunk_size: int = DEFAULT_CHUNK,
    ) -> None:
        self.predict: Predictor = as_predict(predict, task=task, batch_size=batch_size)
        bg = source = _check_background(background)
        if stem_loop is not None:
            bg = _frozen(stem_loop_background(bg, *stem_loop))
        structure_kind(recompute_structure, bg.shape[-1])  # validate early
        self._source = source  # as given (before the stem-loop): what replace() rebuilds from
        self.background = bg
        self.stem_loop = stem_loop
        self.recompute_structure = recompute_structure
        self.chunk_size = check_integer("chunk_size", chunk_size, 1)
        self._baseline: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"GIA({self.predict!r}, background={self.background.shape})"

    def replace(self, **changes: Any) -> GIA:
        """A new session with other ``stem_loop``, ``recompute_structure`` or ``chunk_size``.

        This session is left unchanged; the predictor and background are shared, and
        the cached ``f(x)`` too when the background and its structure are unchanged.
        Returns ``self`` when nothing changes.
        """
        unknown = sorted(set(changes) - {"stem_loop", "recompute_structure", "chunk_size"})
        if unknown:
            raise DataError(f"GIA.replace got {unknown}; change only stem_loop, recompute_structure or chunk_size")
        if "chunk_size" in changes:  # before the comparison: True == 1
            check_integer("chunk_size", changes["chunk_size"], 1)
        if all(getattr(self, key) == val for key, val in changes.items()):
            return self
        settings = {"stem_loop": self.stem_loop, "recompute_structure": self.recompute_structure,
                    "chunk_size": self.chunk_size} | changes
        new = GIA(self.predict, self._source, task=self.predict.task, **settings)
        same_input = (settings["stem_loop"] == self.stem_loop
                      and settings["recompute_structure"] == self.recompute_structure)
        if same_input:
            new._baseline = self._baseline
        return new

    def subset(self, idx: Any) -> GIA:
        """A session on the background rows ``idx`` (same predictor and settings; ``f(x)`` of those rows
        reused when already computed). The adaptive scan scores its growing subsets through it."""
        idx = np.asarray(idx)
        new = object.__new__(GIA)
        new.predict, new.stem_loop, new.recompute_structure = self.predict, self.stem_loop, self.recompute_structure
        new.chunk_size = self.chunk_size
        new._source = _frozen(self._source[idx])
        new.background = _frozen(self.background[idx])
        if not len(new.background):
            raise DataError("subset of 0 backgrounds; pass at least one index")
        new._baseline = None if self._baseline is None else self._baseline[idx]
        return new

    @property
    def n(self) -> int:
        return self.background.shape[0]

    @property
    def length(self) -> int:
        return self.background.shape[1]

    @property
    def baseline(self) -> np.ndarray:
        """``f(x)`` for every background sequence, computed once."""
        if self._baseline is None:
            x = self.background
            kind = structure_kind(self.recompute_structure, x.shape[-1])
            if kind is not None:
                x = add_structure(x, kind)
            self._baseline = self.predict(x)
        return self._baseline

    def embed(self, patterns: Any) -> np.ndarray:
        """The background with ``patterns`` embedded (model-ready input)."""
        return embed(self.background, patterns, stem_loop=self.stem_loop, recompute_structure=self.recompute_structure)

    def local(self, configs: Sequence[Any]) -> np.ndarray:
        """Local importances ``(len(configs), N)`` of several embeddings, batched.

        Each config is what :func:`embed` takes as ``patterns``. Configs are
        validated first, then streamed in chunks of about ``chunk_size`` sequences.
        """
        configs = list(configs)
        for c in configs:
            parse_patterns(c, self.length)
        base = self.baseline
        out = np.empty((len(configs), self.n), dtype=np.float64)
        per = max(1, self.chunk_size // self.n)
        for i in range(0, len(configs), per):
            batch = np.concatenate([self.embed(c) for c in configs[i : i + per]])
            out[i : i + per] = self.predict(batch).reshape(-1, self.n) - base
        return out

    def importance(self, patterns: Any) -> Importance:
        """Global importance of one embedding (see :func:`global_importance`); warns on one background."""
        local = self.local([patterns])[0]
        warn_untestable(self.n, "GIA.importance")
        return importance(local)

    def importances(self, configs: Sequence[Any]) -> list[Importance]:
        """Global importances of several embeddings, in one batched pass; warns on one background."""
        local = self.local(configs)
        warn_untestable(self.n, "GIA.importances")
        return [importance(row) for row in local]


def require_session(session: Any, name: str) -> GIA:
    """``session`` when it is a :class:`GIA`; else a one-line :class:`~rbgia.errors.DataError` saying how
    ``name`` is called (every experiment and scan takes a session first)."""
    if not isinstance(session, GIA):
        raise DataError(f"{name} takes a GIA session first, not a {type(session).__name__}; "
                        f"pass {name}(GIA(predict, background), ...)")
    return session


def global_importance(
    predict: Any,
    background: np.ndarray,
    patterns: Any,
    *,
    task: int | None = 0,
    batch_size: int | None = None,
    stem_loop: tuple[tuple[int, int], tuple[int, int]] | None = None,
    recompute_structure: bool | str = False,
) -> Importance:
    """Global importance of ``patterns`` embedded in ``background`` (Eq. 2), in one call.

    The one-line form of ``GIA(predict, background, ...).importance(patterns)``; keep a
    :class:`GIA` to reuse ``f(x)`` over several patterns.

    Parameters
    ----------
    predict
        Keras model, callable or :class:`rbgia.inference.Predictor`.
    background
        One-hot ``(N, L, A)``.
    patterns
        ``(pattern, start)`` or a list of them (see :func:`embed`).
    task, batch_size, stem_loop, recompute_structure
        As in :class:`GIA`.

    Returns
    -------
    Importance
        ``local``, ``mean``, ``ci95``, ``pvalue``, ``n``.
    """
    session = GIA(predict, background, task=task, batch_size=batch_size, stem_loop=stem_loop,
                  recompute_structure=recompute_structure)
    return session.importance(patterns)


__all__ = ["DEFAULT_CHUNK", "GIA", "global_importance", "require_session", "warn_untestable"]
