"""The chapters' records: their kinds beside the library's GIA kinds, and the one reader.

A chapter writes one record per run with :func:`rbgia.chapters.results.write_results`
(``results_dir/<experiment>/<stem>.json``); other chapters read it back with
:func:`read_record`, which checks every part of a known kind against :data:`SCHEMAS` and gives
attribute access (``rec.multiplicity.optimal.ratio.mean``), so that code across chapters names
fields through this schema instead of string paths copied between notebooks.

The chapter kinds are made of the GIA kinds of :mod:`rbgia.records`: ``battery`` (chapter 05,
with its parts ``battery_scan``, ``alignment``, ``ism_gc3``, ``kd``), ``structure`` (06),
``validation`` with its parts ``validation_comparison`` and ``validation_side`` (10), and the
records of the other chapters (``data_overview``, ``training``, ``benchmark``, ``ism_examples``, ``gc_across``,
``across``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from .. import records as gia_records
from ..errors import DataError
from ..records import Record
from .results import read_results

CHAPTER_KINDS: dict[str, tuple[str, ...]] = {
    # chapter 01 (01_data.json): the experiments, one experiment's score transforms and structure profiles
    "data_overview": ("kind", "experiments", "n_experiments", "n_probes", "n_dropped_nan", "n_train", "n_valid",
                      "n_test", "skewness", "clip", "log", "transform_stats", "structure"),
    # chapter 02 (<experiment>/02_residualbind.<tag>.json, rbgia.chapters.training.train_and_record): one training
    # configuration; epochs: requested by the call, epochs_trained_for: the model's budget; request: the call's
    # inputs that change the record (reuse_record checks them); plateaued/plateau: rbgia.train.plateau's outcome and
    # reason; baselines None when not fitted; scatter: what the
    # page's predicted-vs-measured scatter shows (None until the page draws it)
    "training": ("kind", "data_dir", "data_fingerprint", "epochs", "n_train", "n_valid", "n_test", "test_pearson",
                 "test_spearman", "valid_pearson", "best_epoch", "epochs_run", "epochs_trained_for", "patience",
                 "decay_patience", "stopped_early", "stop_on_plateau", "protocol", "plateaued", "plateau", "n_params",
                 "transform", "request",
                 "baselines", "scatter"),
    # chapter 03 (_all/03_benchmark.json): Pearson r per experiment and configuration, the comparison tables, tests,
    # goals and the training budget (tables as lists of rows)
    "benchmark": ("kind", "experiments", "n_experiments", "configs", "per_experiment", "compare_2009", "compare_2013",
                  "tests", "goals", "budget"),
    # chapter 04 (_all/04_ism.json): the ISM probes of the 2013 examples (Fig 2a) and of VTS1 (Fig 3a)
    "ism_examples": ("kind", "experiments", "vts1", "vts1_motif", "examples", "mean_ratio", "vts1_probes"),
    # chapter 07 (_all/07_gc_bias.json): the across-experiment GC test and the per-experiment table
    "gc_across_test": ("kind", "n", "median_effect5", "median_effect3", "median_difference", "statistic", "pvalue",
                       "n_pairs", "verdict"),
    "gc_chapter": ("kind", "experiments", "across", "per_experiment"),
    # chapter 08 (_all/08_across_experiments.json): the tables over the battery records
    "across": ("kind", "experiments", "supplementary_table1", "multiplicity", "spacing", "scans", "sensitivity"),
    # the GIA battery of one experiment (05_gia.json): mutagenesis / multiplicity.{optimal,suboptimal} / spacing / gc
    # are those results' to_record(); top_kmers is scan_record(...)["top_kmers"]; kd and ism_gc3 may be None
    # holm: the battery's tests, one row each (test, verdict, null, p, adjusted p, final): Holm across them;
    # sensitivity: background kind -> the headline verdicts on it (the battery's own background first)
    "battery": ("kind", "experiment", "test_pearson", "background", "background_padding", "known_motif", "motif",
                "scan", "top_kmers", "mutagenesis", "alignment", "multiplicity", "spacing_reference", "spacing", "gc",
                "ism_gc3", "kd", "positions", "seconds", "holm", "sensitivity"),
    # evaluations: {"exhaustive": n, "adaptive": n}; ranking: the scan the battery ranks by
    # n_significant_q05 counts the model's responses (k-mers whose importance differs from 0), not motifs;
    # standout: does the top k-mer stand out from all k-mers' importances (rbgia.scan.standout)
    "battery_scan": ("kind", "k", "start", "ranking", "n_kmers", "evaluations", "top10_shared", "top_kmer",
                     "n_significant_q05", "top_contains_known", "standout"),
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
    # sensitivity: one row per model, its hairpin verdict on each background kind and whether they agree
    "structure": ("kind", "motif", "top_kmers", "top_kmers_source", "test_pearson", "structure_effect",
                  "performance", "sensitivity"),
    # --- the ground-truth chapter (rbgia.chapters.validation, 10_ground_truth.json): model against oracle
    # one predictor's analyses: top_kmers is scan_record(...)["top_kmers"], the others those results' to_record()
    "validation_side": ("kind", "top_kmers", "multiplicity", "spacing", "gc", "hairpin"),
    # one experiment (also <experiment>/10_ground_truth.json): model / oracle / signal are validation_side records
    # (signal None without a score transform); table: the comparison table's rows; config: the model's TrainConfig;
    # kd: Fig 2f on planted truth, {"model": kd record, "oracle": kd record} (None without an RBFOX1 motif)
    "validation_comparison": ("kind", "experiment", "motif", "panel", "top_kmer", "oracle_top_kmer", "planted_motif",
                              "n_background", "k", "kmer_spearman", "model", "oracle", "signal", "table", "config",
                              "kd"),
    # the whole part: per_experiment maps each experiment to its validation_comparison record
    # controls: the verdict rules against their negative and positive controls (rbgia.controls), one row each
    "validation": ("kind", "data_dir", "config", "experiments", "test_pearson", "n_agree", "n_analyses", "table",
                   "per_experiment", "controls"),
}

#: Every kind a chapter record may hold: the library's GIA kinds and the chapters' own.
SCHEMAS = gia_records.SCHEMAS.extend(CHAPTER_KINDS)


def make_record(kind: str, **fields: Any) -> dict[str, Any]:
    """A JSON-ready record of ``kind`` (a GIA or chapter kind) holding exactly its :data:`SCHEMAS` keys."""
    return SCHEMAS.make(kind, **fields)


def as_record(obj: Any, where: str = "record") -> Any:
    """A result object, its ``to_record()`` or a record read back, as a schema-checked :class:`Record`."""
    return obj if isinstance(obj, Record) else SCHEMAS.read(obj, where)


def read_record(
    results_dir: str | os.PathLike,
    experiment: str | None,
    notebook: str,
    key: str | Sequence[str] | None = None,
    config: Any = None,
    kind: str | None = None,
) -> Any:
    """Read a record written by :func:`rbgia.chapters.results.write_results`, checked against :data:`SCHEMAS`.

    Parameters
    ----------
    results_dir, experiment, notebook, config
        As in :func:`rbgia.chapters.results.read_results`.
    key
        A top-level key (``"structure_effect"``) or a path of keys (``("multiplicity", "optimal")``)
        to return only that part.
    kind
        The kind the whole record must be (``"battery"``, ``"structure"``); a record without it
        (written by an older rbgia) is an error naming the fix.

    Returns
    -------
    Record
        Nested :class:`~rbgia.records.Record` objects (attribute access); every part with a known
        ``kind`` holds all of its schema's keys.

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
    return SCHEMAS.read(rec, where)


__all__ = ["CHAPTER_KINDS", "SCHEMAS", "as_record", "make_record", "read_record"]
