"""The GIA session: a predictor, a background and the background's cached predictions.

The global importance of a pattern ``p`` under a model ``f`` is the mean, over
background sequences ``x``, of the local importance ``f(x with p) - f(x)``
(Eq. 2 of the paper). :class:`GIA` computes ``f(x)`` once and reuses it for every
experiment; :func:`global_importance` is the one-line entry point.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .embedding import embed, parse_patterns
from .errors import DataError
from .inference import Predictor, as_predict
from .stats import Importance, importance
from .stemloop import add_structure, stem_loop_background, structure_kind

DEFAULT_CHUNK = 65_536  # sequences per streamed chunk (~43 MB at 41 x 4 float32)


def _check_background(background: Any) -> np.ndarray:
    bg = np.asarray(background)
    if bg.ndim != 3 or bg.shape[-1] < 4:
        raise DataError(f"background must be one-hot (N, L, A>=4); got shape {bg.shape}")
    if bg.shape[0] == 0:
        raise DataError("background has 0 sequences; pass at least one (e.g. rbgia.background.make_background)")
    return np.ascontiguousarray(bg, dtype=np.float32)


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
        bg = _check_background(background)
        if stem_loop is not None:
            bg = stem_loop_background(bg, *stem_loop)
        structure_kind(recompute_structure, bg.shape[-1])  # validate early
        self.background = bg
        self.stem_loop = stem_loop
        self.recompute_structure = recompute_structure
        self.chunk_size = int(chunk_size)
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
        if all(getattr(self, key) == val for key, val in changes.items()):
            return self
        settings = {"stem_loop": self.stem_loop, "recompute_structure": self.recompute_structure,
                    "chunk_size": self.chunk_size} | changes
        new = GIA(self.predict, self.background, task=self.predict.task, **settings)
        same_input = (settings["stem_loop"] == self.stem_loop
                      and settings["recompute_structure"] == self.recompute_structure)
        if same_input:
            new._baseline = self._baseline
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
        """Global importance of one embedding (see :func:`global_importance`)."""
        return importance(self.local([patterns])[0])

    def importances(self, configs: Sequence[Any]) -> list[Importance]:
        """Global importances of several embeddings, in one batched pass."""
        return [importance(row) for row in self.local(configs)]


class _Unset:
    """Default of ``task`` / ``batch_size``: the session's own, or the predictor default."""

    def __repr__(self) -> str:
        return "<session's>"


UNSET: Any = _Unset()


def session(predict: Any, background: Any = None, task: Any = UNSET, batch_size: Any = UNSET, **kw: Any) -> GIA:
    """A GIA from ``(predict, background)``, or ``predict`` itself when it is one.

    A GIA passed in is never modified: other settings (``stem_loop``,
    ``recompute_structure``, ``chunk_size``) give a new session sharing its predictor,
    background and, where valid, its cached ``f(x)``. ``task`` / ``batch_size`` that
    differ from a given session's raise :class:`~rbgia.errors.DataError` (they would
    otherwise be ignored).
    """
    kw = {key: val for key, val in kw.items() if val is not None}  # None: inherit / default
    if isinstance(predict, GIA):
        if background is not None and background is not predict.background:
            raise DataError("pass either a GIA object or (predict, background), not a GIA with another background")
        own = {"task": predict.predict.task, "batch_size": predict.predict.batch_size}
        for name, value in (("task", task), ("batch_size", batch_size)):
            if value is not UNSET and value is not None and value != own[name]:
                raise DataError(
                    f"{name}={value!r} conflicts with the GIA session's {name}={own[name]!r}; "
                    f"drop {name}, or build a session with GIA(predict, background, {name}={value!r})"
                )
        return predict.replace(**kw)
    if background is None:
        raise DataError("no background given; pass background=<(N, L, 4) one-hot> or a GIA object as predict")
    return GIA(
        predict,
        background,
        task=0 if task is UNSET else task,
        batch_size=None if batch_size is UNSET else batch_size,
        **kw,
    )


def global_importance(
    predict: Any,
    background: np.ndarray | None,
    patterns: Any,
    task: int | None = UNSET,
    *,
    batch_size: int | None = UNSET,
    stem_loop: tuple[tuple[int, int], tuple[int, int]] | None = None,
    recompute_structure: bool | str | None = None,
) -> Importance:
    """Global importance of ``patterns`` embedded in ``background`` (Eq. 2).

    Parameters
    ----------
    predict
        Keras model, callable, Predictor or a :class:`GIA` (then ``background``
        may be ``None`` and its cached ``f(x)`` is reused).
    background
        One-hot ``(N, L, A)``.
    patterns
        ``(pattern, start)`` or a list of them (see :func:`embed`).
    stem_loop, recompute_structure
        As in :class:`GIA`; ``None`` keeps a given GIA's settings (else off).

    Returns
    -------
    Importance
        ``local``, ``mean``, ``ci95``, ``pvalue``, ``n``.
    """
    kw = {"stem_loop": stem_loop, "recompute_structure": recompute_structure}
    return session(predict, background, task, batch_size, **kw).importance(patterns)


__all__ = ["DEFAULT_CHUNK", "GIA", "global_importance", "session"]
