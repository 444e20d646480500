"""The record schema of GIA results: the keys, defined once, and records read back by attribute.

Every result object (:class:`rbgia.stats.Importance`, :class:`~rbgia.experiments.MotifMutagenesis`,
:class:`~rbgia.experiments.Multiplicity`, :class:`~rbgia.experiments.Spacing`,
:class:`~rbgia.gcbias.GCBias`, :class:`~rbgia.hairpin.Hairpin`,
:class:`~rbgia.experiments.Positional`) has ``to_record()``: a JSON-ready dict (NaN -> ``None``,
numpy -> Python) whose keys are :data:`SCHEMAS` of its ``kind``. Local importances are summarised
by :data:`LOCAL_KEYS` (count, mean, sd, min, quantiles, max), never stored in full. k-mer scan
tables become records through :func:`scan_record`. :func:`as_record` gives a record attribute
access (``rec.structure_effect.mean``) and checks every part of a known kind against its schema.

A :class:`Schemas` table holds the kinds one layer knows; the book layer extends this one with its
chapters' kinds (:mod:`rbgia.chapters.records`). This module reads and writes no files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError

# Quantiles of the local importances kept in a record (enough for a box plot with 2.5-97.5% whiskers).
QUANTILES: dict[str, float] = {"q025": 0.025, "q25": 0.25, "median": 0.5, "q75": 0.75, "q975": 0.975}
LOCAL_KEYS: tuple[str, ...] = ("n", "mean", "sd", "min", *QUANTILES, "max")
# A statistic with its 95% CI and (where defined) paired p-value.
ESTIMATE_KEYS: tuple[str, ...] = ("mean", "ci_low", "ci_high", "pvalue")
# The embeddings of the GC-bias experiment, in the order of its ``importance`` mapping.
GC_CONDITIONS: tuple[str, ...] = ("motif", "motif_gc5", "motif_gc3", "gc5", "gc3")
# The columns a scan record keeps per k-mer (those present), ``kmer`` first.
SCAN_COLUMNS: tuple[str, ...] = ("kmer", "mean", "ci_low", "ci_high", "sd", "pvalue", "qvalue", "n")

_GIA_KINDS: dict[str, tuple[str, ...]] = {
    "importance": ("kind", "mean", "ci_low", "ci_high", "pvalue", "n", "local"),
    "mutagenesis": ("kind", "kmer", "start", "wild_type", "importance", "ci_low", "ci_high", "delta", "l2"),
    # motif_effect: {present, size, floor, rule}, the gate of every verdict (rbgia.verdicts.motif_effect)
    "multiplicity": ("kind", "motif", "starts", "include_origin", "copies", "r2", "slope", "intercept",
                     "origin_slope", "origin_r2", "ratio", "vs_additive", "verdict", "rule", "tolerance", "alpha",
                     "motif_effect"),
    "spacing": ("kind", "motif", "reference", "single", "pairs", "skipped", "tolerance", "alpha", "motif_effect"),
    "spacing_pair": ("kind", "start_1", "start_2", "gap", "importance", "ratio", "vs_additive", "verdict", "rule"),
    # interaction5 / interaction3: ESTIMATE_KEYS and the end's "verdict" (amplifies / adds / dampens) and "rule";
    # bias: interaction 3' - 5' with "verdict" (the biased end: 3' / 5' / none) and "rule"
    "gc_bias": ("kind", "motif", "motif_start", "gc_motif", "gc_starts", "importance", "effect5", "effect3", "diff",
                "interaction5", "interaction3", "bias", "alpha", "motif_effect"),
    # mean, ci_low, ci_high, pvalue: the structure effect = loop_context - pairing (rbgia.hairpin)
    "hairpin": ("kind", "mean", "ci_low", "ci_high", "pvalue", "n", "loop_context", "pairing", "n_folded",
                "n_broken_folded", "n_designed", "fold_threshold", "unpaired", "verdict", "rule", "motif",
                "loop_start", "stem_start", "stem_range", "partner_range", "in_loop", "broken_loop", "in_stem",
                "stem_unpaired", "partner_only", "loop_minus_stem", "motif_effect", "alpha"),
    "positional": ("kind", "motif", "starts", "importance"),
    "scan": ("kind", "n_kmers", "top_kmers"),
}


def jsonable(obj: Any) -> Any:
    """``obj`` with numpy types as Python ones, tuples as lists, NaN/inf/NA as ``None``;
    objects with ``to_record()`` are replaced by their record."""
    if hasattr(obj, "to_record") and not isinstance(obj, type):
        return obj.to_record()
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if obj is None or obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def local_summary(local: Any) -> dict[str, Any]:
    """:data:`LOCAL_KEYS` of the local importances (finite values; ``None`` where undefined)."""
    v = np.asarray(local, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    out: dict[str, Any] = {"n": int(v.size)}
    if not v.size:
        return out | {key: None for key in LOCAL_KEYS[1:]}
    q = np.quantile(v, list(QUANTILES.values()))
    out |= {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if v.size > 1 else None, "min": float(v.min())}
    out |= {key: float(x) for key, x in zip(QUANTILES, q)}
    out["max"] = float(v.max())
    return jsonable(out)


def importance_record(imp: Any) -> dict[str, Any]:
    """Record of an :class:`rbgia.stats.Importance` (kind ``importance``)."""
    return make_record("importance", mean=imp.mean, ci_low=imp.ci95[0], ci_high=imp.ci95[1], pvalue=imp.pvalue,
                       n=imp.n, local=local_summary(imp.local))


def estimate_record(est: Any) -> dict[str, Any]:
    """``{mean, ci_low, ci_high, pvalue}`` of an :class:`rbgia.stats.Estimate`."""
    return jsonable({key: getattr(est, key) for key in ESTIMATE_KEYS})


def scan_record(table: Any, top: int = 10) -> dict[str, Any]:
    """Record of a k-mer scan (kind ``scan``): ``n_kmers`` and ``top_kmers``, the first ``top``
    rows as dicts with ``kmer`` first (then the :data:`SCAN_COLUMNS` present).

    ``table`` is a :func:`rbgia.scan.kmer_scan` DataFrame or an object with ``.table``
    (an adaptive scan); rows are taken in the order given (scans sort by mean).
    """
    df = getattr(table, "table", table)
    if not isinstance(df, pd.DataFrame) or "kmer" not in df.columns:
        raise DataError("scan_record needs a k-mer scan table with a 'kmer' column; pass kmer_scan(...) or its .table")
    cols = [c for c in SCAN_COLUMNS if c in df.columns]
    rows = df.head(int(top))[cols].to_dict("records")
    return make_record("scan", n_kmers=len(df), top_kmers=rows)


class Schemas(Mapping[str, tuple[str, ...]]):
    """A table of record kinds and their keys: builds records (:meth:`make`) and reads them back
    (:meth:`read`) checked against it.

    >>> table = Schemas({"pair": ("kind", "a", "b")})
    >>> table.make("pair", a=1, b=float("nan"))
    {'kind': 'pair', 'a': 1, 'b': None}
    """

    def __init__(self, kinds: Mapping[str, Sequence[str]]) -> None:
        self._kinds = {str(k): tuple(v) for k, v in kinds.items()}

    def __getitem__(self, kind: str) -> tuple[str, ...]:
        return self._kinds[kind]

    def __iter__(self):
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)

    def extend(self, kinds: Mapping[str, Sequence[str]]) -> Schemas:
        """A new table with ``kinds`` added (a kind already here is an error: one definition each)."""
        clash = sorted(set(kinds) & set(self._kinds))
        if clash:
            raise DataError(f"record kinds {clash} are defined twice; keep one definition")
        return Schemas({**self._kinds, **kinds})

    def make(self, kind: str, **fields: Any) -> dict[str, Any]:
        """A JSON-ready record of ``kind`` holding exactly its keys (in the schema's order)."""
        if kind not in self._kinds:
            raise DataError(f"record kind {kind!r} is unknown; use one of {sorted(self._kinds)}")
        keys = self._kinds[kind]
        got = {"kind", *fields}
        if got != set(keys):
            raise DataError(f"{kind} record has keys {sorted(got)}, the schema {sorted(keys)}; keep them in step")
        fields["kind"] = kind
        return {key: jsonable(fields[key]) for key in keys}

    def read(self, obj: Any, where: str = "record") -> Any:
        """``obj`` (a record, a result object or a list of them) with attribute access, every part of a
        known kind checked for its keys (:class:`~rbgia.errors.DataError` naming the part otherwise)."""
        return self._wrap(jsonable(obj), where)

    def _wrap(self, obj: Any, where: str) -> Any:
        if isinstance(obj, Mapping):
            kind = obj.get("kind")
            if isinstance(kind, str) and kind in self._kinds:
                missing = [k for k in self._kinds[kind] if k not in obj]
                if missing:
                    raise DataError(f"{where} is a {kind} record without {missing}; rewrite it with the current rbgia")
            return Record({k: self._wrap(v, f"{where}.{k}") for k, v in obj.items()})
        if isinstance(obj, list):
            return [self._wrap(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        return obj


class Record(dict):
    """A record read back: a dict whose keys are also attributes (``rec.ratio.mean``)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"record has no key {name!r}; it has {sorted(self)}") from None


#: The GIA result kinds (the library's).
SCHEMAS = Schemas(_GIA_KINDS)


def make_record(kind: str, **fields: Any) -> dict[str, Any]:
    """A JSON-ready record of a GIA ``kind`` holding exactly the keys of ``SCHEMAS[kind]`` (in that order)."""
    return SCHEMAS.make(kind, **fields)


def as_record(obj: Any, where: str = "record") -> Any:
    """Attribute access and schema checks for a GIA record (or result object): :meth:`Schemas.read`."""
    return SCHEMAS.read(obj, where)


__all__ = [
    "ESTIMATE_KEYS",
    "GC_CONDITIONS",
    "LOCAL_KEYS",
    "QUANTILES",
    "Record",
    "SCAN_COLUMNS",
    "SCHEMAS",
    "Schemas",
    "as_record",
    "estimate_record",
    "importance_record",
    "jsonable",
    "local_summary",
    "make_record",
    "scan_record",
]
