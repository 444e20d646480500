"""The record schema of GIA results: the keys, defined once, and how records are read back.

Every result object (:class:`rbgia.stats.Importance`, :class:`~rbgia.experiments.MotifMutagenesis`,
:class:`~rbgia.experiments.Multiplicity`, :class:`~rbgia.experiments.Spacing`,
:class:`~rbgia.experiments.GCBias`, :class:`~rbgia.experiments.Hairpin`,
:class:`~rbgia.experiments.Positional`) has ``to_record()``:
a JSON-ready dict (NaN -> ``None``, numpy -> Python) whose keys are :data:`SCHEMAS` of its
``kind``. Local importances are summarised by :data:`LOCAL_KEYS` (count, mean, sd, min,
quantiles, max), never stored in full. k-mer scan tables become records through
:func:`scan_record`. Chapters write records with :func:`rbgia.results.write_results` and
read them back with :func:`read_record`, which checks the keys and gives attribute access
(``rec.structure_effect.seq.mean``), so cross-experiment code names fields through this
schema instead of string paths copied between notebooks.

The chapters' own records are composed of those: ``battery`` (the real-data GIA battery of
:mod:`rbgia.analysis`, ``05_gia.json``, with its parts ``battery_scan``, ``alignment``, ``ism_gc3``,
``kd``) and ``structure`` (the VTS1 chapter, ``06_structure_vts1.json``); read them with
``read_record(..., kind="battery")``. The ground-truth chapter's records (:mod:`rbgia.validation`)
are ``validation`` with its parts ``validation_comparison`` and ``validation_side``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError
from .results import read_results

# Quantiles of the local importances kept in a record (enough for a box plot with 2.5-97.5% whiskers).
QUANTILES: dict[str, float] = {"q025": 0.025, "q25": 0.25, "median": 0.5, "q75": 0.75, "q975": 0.975}
LOCAL_KEYS: tuple[str, ...] = ("n", "mean", "sd", "min", *QUANTILES, "max")
# A statistic with its 95% CI and (where defined) paired p-value.
ESTIMATE_KEYS: tuple[str, ...] = ("mean", "ci_low", "ci_high", "pvalue")
# The embeddings of the GC-bias experiment, in the order of its ``importance`` mapping.
GC_CONDITIONS: tuple[str, ...] = ("motif", "motif_gc5", "motif_gc3", "gc5", "gc3")
# The columns a scan record keeps per k-mer (those present), ``kmer`` first.
SCAN_COLUMNS: tuple[str, ...] = ("kmer", "mean", "ci_low", "ci_high", "sd", "pvalue", "qvalue", "n")

SCHEMAS: dict[str, tuple[str, ...]] = {
    "importance": ("kind", "mean", "ci_low", "ci_high", "pvalue", "n", "local"),
    "mutagenesis": ("kind", "kmer", "start", "wild_type", "importance", "ci_low", "ci_high", "delta", "l2"),
    "multiplicity": ("kind", "motif", "starts", "include_origin", "copies", "r2", "slope", "intercept",
                     "origin_slope", "origin_r2", "ratio", "verdict", "rule", "tolerance", "alpha"),
    "spacing": ("kind", "motif", "reference", "single", "pairs", "skipped", "tolerance", "alpha"),
    "spacing_pair": ("kind", "start_1", "start_2", "gap", "importance", "ratio", "vs_additive", "verdict"),
    # interaction5 / interaction3: ESTIMATE_KEYS and the end's "verdict" (amplifies / adds / dampens)
    "gc_bias": ("kind", "motif", "motif_start", "gc_motif", "gc_starts", "importance", "effect5", "effect3", "diff",
                "interaction5", "interaction3", "alpha"),
    # mean, ci_low, ci_high, pvalue: the structure effect (difference in differences)
    "hairpin": ("kind", "mean", "ci_low", "ci_high", "pvalue", "n", "n_folded", "n_designed", "fold_threshold",
                "verdict", "motif", "loop_start", "stem_start", "stem_range", "partner_range", "in_loop", "in_stem",
                "unstructured_at_loop", "unstructured_at_stem", "loop_minus_stem", "alpha"),
    "positional": ("kind", "motif", "starts", "importance"),
    "scan": ("kind", "n_kmers", "top_kmers"),
    # --- the real-data chapters (rbgia.analysis): records composed of the records above
    # the GIA battery of one experiment (05_gia.json): mutagenesis / multiplicity.{optimal,suboptimal} / spacing / gc
    # are those results' to_record(); top_kmers is scan_record(...)["top_kmers"]; kd and ism_gc3 may be None
    "battery": ("kind", "experiment", "test_pearson", "background", "background_padding", "known_motif", "motif",
                "scan", "top_kmers", "mutagenesis", "alignment", "multiplicity", "spacing_reference", "spacing", "gc",
                "ism_gc3", "kd", "positions", "seconds"),
    # evaluations: {"exhaustive": n, "adaptive": n}; ranking: the scan the battery ranks by
    "battery_scan": ("kind", "k", "start", "ranking", "n_kmers", "evaluations", "top10_shared", "top_kmer",
                     "n_significant_q05", "top_contains_known"),
    # the GIA alignment motif (motifs.align_kmers) against its best RNAcompete motif; similarity {r, offset, overlap}
    "alignment": ("kind", "consensus", "top", "reference", "reference_name", "reference_consensus", "n_references",
                  "similarity"),
    # ISM of the top predicted probes: 3' vs 5' G/C importance, one-sided Wilcoxon signed-rank (paper Fig 4a)
    "ism_gc3": ("kind", "n_probes", "window", "gc3_l2", "gc5_l2", "median_difference", "statistic", "pvalue",
                "verdict"),
    # ln Kd of the RBFOX1 heptamers regressed on global importance (paper Fig 2f)
    "kd": ("kind", "r2", "p", "slope", "n", "patterns", "global_importance", "ln_kd", "rbfox1_like"),
    # the VTS1 chapter (06_structure_vts1.json): test_pearson and structure_effect map model inputs ("seq", "pu")
    # to the set-B Pearson r and to the hairpin to_record() (mean, ci_low, ci_high: the structure effect)
    "structure": ("kind", "motif", "top_kmers", "top_kmers_source", "test_pearson", "structure_effect",
                  "performance"),
    # --- the ground-truth chapter (rbgia.validation, 10_ground_truth.json): model against oracle
    # one predictor's analyses: top_kmers is scan_record(...)["top_kmers"], the others those results' to_record()
    "validation_side": ("kind", "top_kmers", "multiplicity", "spacing", "gc", "hairpin"),
    # one experiment (also <experiment>/10_ground_truth.json): model / oracle / signal are validation_side records
    # (signal None without a score transform); table: the comparison table's rows; config: the model's TrainConfig
    "validation_comparison": ("kind", "experiment", "motif", "panel", "top_kmer", "oracle_top_kmer", "planted_motif",
                              "n_background", "k", "kmer_spearman", "model", "oracle", "signal", "table", "config"),
    # the whole part: per_experiment maps each experiment to its validation_comparison record
    "validation": ("kind", "data_dir", "config", "experiments", "test_pearson", "n_agree", "n_analyses", "table",
                   "per_experiment"),
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


def make_record(kind: str, **fields: Any) -> dict[str, Any]:
    """A JSON-ready record of ``kind`` holding exactly the keys of ``SCHEMAS[kind]`` (in that order)."""
    if kind not in SCHEMAS:
        raise DataError(f"record kind {kind!r} is unknown; use one of {sorted(SCHEMAS)}")
    keys = SCHEMAS[kind]
    got = {"kind", *fields}
    if got != set(keys):
        raise DataError(f"{kind} record has keys {sorted(got)}, the schema {sorted(keys)}; keep them in step")
    fields["kind"] = kind
    return {key: jsonable(fields[key]) for key in keys}


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


class Record(dict):
    """A record read back: a dict whose keys are also attributes (``rec.ratio.mean``)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"record has no key {name!r}; it has {sorted(self)}") from None


def _wrap(obj: Any, where: str) -> Any:
    if isinstance(obj, Mapping):
        kind = obj.get("kind")
        if isinstance(kind, str) and kind in SCHEMAS:
            missing = [k for k in SCHEMAS[kind] if k not in obj]
            if missing:
                raise DataError(f"{where} is a {kind} record without {missing}; rewrite it with the current rbgia")
        return Record({k: _wrap(v, f"{where}.{k}") for k, v in obj.items()})
    if isinstance(obj, list):
        return [_wrap(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    return obj


def as_record(obj: Mapping[str, Any], where: str = "record") -> Record:
    """Attribute access and schema checks for a record dict (what :func:`read_record` returns)."""
    return _wrap(jsonable(obj), where)


def read_record(
    results_dir: str | os.PathLike,
    experiment: str | None,
    notebook: str,
    key: str | Sequence[str] | None = None,
    config: Any = None,
    kind: str | None = None,
) -> Any:
    """Read a record written by :func:`rbgia.results.write_results`, checked against :data:`SCHEMAS`.

    Parameters
    ----------
    results_dir, experiment, notebook, config
        As in :func:`rbgia.results.read_results`.
    key
        A top-level key (``"structure_effect"``) or a path of keys (``("multiplicity", "optimal")``)
        to return only that part.
    kind
        The :data:`SCHEMAS` kind the whole record must be (``"battery"``, ``"structure"``); a record
        without it (written by an older rbgia) is an error naming the fix.

    Returns
    -------
    Record
        Nested :class:`Record` objects (attribute access); every part with a known ``kind``
        holds all of its schema's keys.

    Raises
    ------
    DataError
        When the record is missing, a key is absent, or a part lacks schema keys.
    """
    rec = read_results(results_dir, experiment, notebook, config)
    where = f"{notebook} record of {experiment}"
    if kind is not None and (not isinstance(rec, Mapping) or rec.get("kind") != kind):
        got = rec.get("kind") if isinstance(rec, Mapping) else type(rec).__name__
        raise DataError(f"{where} is not a {kind} record (kind {got!r}); rerun notebooks/{notebook}.ipynb")
    path = [key] if isinstance(key, str) else list(key or [])
    for k in path:
        if not isinstance(rec, Mapping) or k not in rec:
            have = sorted(rec) if isinstance(rec, Mapping) else type(rec).__name__
            raise DataError(f"{where} has no {k!r} (has {have}); rerun notebooks/{notebook}.ipynb")
        rec, where = rec[k], f"{where}.{k}"
    return _wrap(rec, where)


__all__ = [
    "ESTIMATE_KEYS",
    "GC_CONDITIONS",
    "LOCAL_KEYS",
    "QUANTILES",
    "Record",
    "SCAN_COLUMNS",
    "SCHEMAS",
    "as_record",
    "estimate_record",
    "importance_record",
    "jsonable",
    "local_summary",
    "make_record",
    "read_record",
    "scan_record",
]
