"""The real-data GIA battery of the book: one call per experiment, tables over experiments.

The chapters 04-08 call these functions; each returns a table, a figure or a record, so the
notebooks hold no loops. Every claim word the book prints ("additive", "hindrance", "prefers
loops", "3' bias", "amplifies") is a ``verdict`` returned here beside the statistic it comes from.

Positions are 0-based. :data:`PAPER_POSITIONS` follow the paper's text (multiplicity at 1-based
4-9, 11-16, 18-23; GC runs at the very 5' and 3' ends; the hairpin loop at 1-based 17-22);
:data:`PUBLIC_POSITIONS` are those of the authors' public code.

Records: the experiments return result objects (:class:`~rbgia.experiments.Multiplicity`, ...); the
battery's and the VTS1 chapter's records are made of their ``to_record()`` and of
:func:`rbgia.records.scan_record`, laid out as ``SCHEMAS["battery"]`` and ``SCHEMAS["structure"]`` in
:mod:`rbgia.records`. The tables over experiments read those records through
:func:`rbgia.records.read_record` (attribute access, keys checked), never by paths of their own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import background as backgrounds
from . import motifs as rmotifs
from . import paper
from .errors import DataError
from .experiments import (
    GCBias,
    Hairpin,
    MotifMutagenesis,
    Multiplicity,
    Spacing,
    gc_bias,
    hairpin_context,
    motif_mutagenesis,
    multiplicity,
    spacing,
)
from .mutagenesis import ism, ism_l2
from .records import GC_CONDITIONS, SCHEMAS, Record, as_record, make_record, read_record, scan_record
from .results import results_path, write_results
from .scan import adaptive_kmer_scan, kmer_scan
from .session import GIA
from .stats import bh_qvalues, wilcoxon_paired
from .stemloop import PAPER_PARTNER, PAPER_STEM

PAPER_POSITIONS: dict[str, Any] = {
    "kmer_start": paper.MOTIF_START, "multiplicity_starts": paper.MULTIPLICITY_STARTS, "gc_starts": paper.GC_STARTS,
    "loop_start": paper.HAIRPIN_LOOP_START, "stem_start": 8,
}
PUBLIC_POSITIONS: dict[str, Any] = {**PAPER_POSITIONS, "multiplicity_starts": paper.PUBLIC_CODE_MULTIPLICITY_STARTS,
                                    "gc_starts": paper.PUBLIC_CODE_GC_STARTS}
def positions(kind: str = "paper") -> dict[str, Any]:
    """The battery's embedding positions: ``"paper"`` (its text: copies at 0-based 3, 10, 17; GC runs at
    the very ends) or ``"public"`` (the authors' code: 4, 12, 20; 2 and 34), as :func:`run_battery` keywords."""
    table = {"paper": PAPER_POSITIONS, "public": PUBLIC_POSITIONS}
    if kind not in table:
        raise DataError(f"positions={kind!r}; pass 'paper' (the paper's text) or 'public' (the authors' code)")
    return {key: table[kind][key] for key in ("multiplicity_starts", "gc_starts")}


MEME = "ray2013_rnacompete_motifs.meme"
RBP_MAP = "rbp_2009_to_2013.tsv"
BATTERY = "05_gia"
ALPHA = 0.05
RBFOX1_EXPERIMENTS = ("RNCMPT00168", "SIMRBFOX1")


# --------------------------------------------------------------------------- reading records (keys: rbgia.records)


def _rec(obj: Any) -> Record:
    """A result object, its ``to_record()`` or a record read back, as a schema-checked :class:`Record`."""
    return obj if isinstance(obj, Record) else as_record(obj)


def pair_label(pair: Mapping[str, Any]) -> str:
    """``"16+20, gap -2"``: a ``spacing_pair`` record's arrangement (0-based starts)."""
    p = _rec(pair)
    return f"{p.start_1}+{p.start_2}, gap {p.gap}"


def motif_significant(gc: Any) -> bool:
    """Whether the motif alone of a GC-bias result (or its record) has a positive global importance at p < alpha."""
    g = _rec(gc)
    m = g.importance.motif
    return m.mean is not None and m.pvalue is not None and m.mean > 0 and m.pvalue < g.alpha


def bias_end(gc: Any) -> str:
    """The end whose GC run raises the motif more, from the CI of effect 5' - effect 3' of a GC-bias result
    (or its record): ``"5'"``, ``"3'"``, ``"none"`` (the CI holds 0) or ``"undefined"`` (no motif effect)."""
    d = _rec(gc).diff
    if d.mean is None:
        return "undefined"
    if d.ci_high is not None and d.ci_high < 0:
        return "3'"
    return "5'" if d.ci_low is not None and d.ci_low > 0 else "none"


# --------------------------------------------------------------------------- reference motifs (Supp. Table 1)


def reference_motifs(experiment: str, reference_dir: str | os.PathLike) -> list[rmotifs.Motif]:
    """RNAcompete motifs to compare an experiment's GIA motif with.

    A 2013 experiment (``RNCMPT...``): its own motif. A 2009 RBP: the 2013 motifs of the same
    protein (``rbp_2009_to_2013.tsv``); VTS1 has none (not in the 2013 compendium). Empty when
    the reference files are absent.
    """
    meme = Path(reference_dir) / MEME
    if not meme.is_file():
        return []
    database = rmotifs.read_meme(meme)
    if experiment in database:
        return [database[experiment]]
    table = Path(reference_dir) / RBP_MAP
    if not table.is_file():
        return []
    rows = pd.read_csv(table, sep="\t", comment="#", dtype=str).fillna("")
    ids = rows.loc[rows["rbp_2009"] == experiment, "experiment_2013"]
    return [database[i] for i in ids if i in database]


def compare_with_reference(pfm: np.ndarray, experiment: str, reference_dir: str | os.PathLike) -> dict[str, Any]:
    """Best-offset Pearson similarity of a GIA motif with the experiment's RNAcompete motif(s).

    Returns ``n_references`` and, when there is one, the best-matching ``reference`` id, its
    protein ``name``, ``consensus``, ``r``, ``offset``, ``overlap``.
    """
    refs = reference_motifs(experiment, reference_dir)
    out: dict[str, Any] = {"n_references": len(refs), "reference": None, "name": None, "consensus": None,
                           "r": None, "offset": None, "overlap": None}
    best = None
    for ref in refs:
        sim = rmotifs.motif_similarity(pfm, ref)
        if best is None or sim.r > best[1].r:
            best = (ref, sim)
    if best is not None:
        ref, sim = best
        out.update(reference=ref.id, name=ref.name, consensus=ref.consensus, r=float(sim.r), offset=int(sim.offset),
                   overlap=int(sim.overlap))
    return out


# --------------------------------------------------------------------------- experiments with verdicts


def suboptimal_kmer(table: pd.DataFrame, fraction: float = 0.3) -> str:
    """The scanned k-mer whose global importance is nearest ``fraction`` of the top one's."""
    nearest = (table["mean"] - fraction * table["mean"].iloc[0]).abs().idxmin()
    return str(table["kmer"].loc[nearest])


def multiplicity_test(
    session: GIA, motif: str, starts: Sequence[int], *, n_boot: int = 2000, seed: int = 0,
) -> Multiplicity:
    """The battery's :func:`rbgia.experiments.multiplicity` (Fig 2b, 2c): the 1..n copies, the paper's fit, the
    n-to-1 copy ratio with its CI and the verdict; its record is ``to_record()`` (kind ``multiplicity``)."""
    return multiplicity(session, motif, starts, n_boot=n_boot, seed=seed)


def spacing_test(
    session: GIA, motif: str, pairs: Sequence[Sequence[int]], reference: int, *, n_boot: int = 2000, seed: int = 0,
) -> Spacing:
    """The battery's :func:`rbgia.experiments.spacing` (Fig 2d): pairs that do not fit are skipped (``skipped``);
    per pair two copies over twice one copy (``vs_additive``) and the verdict; record kind ``spacing``."""
    return spacing(session, motif, [tuple(p) for p in pairs], reference, on_conflict="skip", n_boot=n_boot, seed=seed)


def gc_test(
    session: GIA, motif: str, motif_start: int, gc_motif: str = "GCGCGC", gc_starts: Sequence[int] = (0, 35), *,
    n_boot: int = 2000, seed: int = 0,
) -> GCBias:
    """The battery's :func:`rbgia.experiments.gc_bias` (Fig 4c-e): the five embeddings, effect sizes, 5' - 3'
    (:func:`bias_end`) and the amplify-or-add interaction at each end; record kind ``gc_bias``."""
    return gc_bias(session, motif, motif_start=motif_start, gc_motif=gc_motif, gc_starts=tuple(gc_starts),
                   n_boot=n_boot, seed=seed)


def hairpin_test(
    predict: Any, background: np.ndarray, motif: str, loop_start: int = 16, stem_start: int = 8,
    stem: tuple[int, int] = PAPER_STEM, partner: tuple[int, int] = PAPER_PARTNER, *,
    recompute_structure: bool | str = False, n_boot: int = 2000, seed: int = 0,
) -> Hairpin:
    """:func:`rbgia.experiments.hairpin_context` (Fig 3c) of a predictor on ``background``: the four contexts, the
    structure effect (difference in differences) with CI, p and verdict, the folding check; record kind
    ``hairpin``."""
    return hairpin_context(GIA(predict, background), motif, loop_start, stem_start, stem, partner,
                           recompute_structure=recompute_structure, n_boot=n_boot, seed=seed)


# --------------------------------------------------------------------------- ISM (Fig 2a, 3a, 4a)


def predict_split(model: Any, split: Any) -> np.ndarray:
    """Predictions of ``model`` on a data split (batched)."""
    from .inference import as_predict

    return np.asarray(as_predict(model)(split.x), float).reshape(len(split.x), -1)[:, 0]


def motif_probes(split: Any, pred: np.ndarray, motif: str, mismatches: Sequence[int] = (0, 2), n: int = 1
                 ) -> pd.DataFrame:
    """The ``n`` highest-predicted probes whose best match to ``motif`` has each number of ``mismatches``."""
    m = rmotifs.motif_matches(split.seqs, motif).assign(predicted=pred, measured=split.y[:, 0])
    parts = [m[m["mismatches"] == k].nlargest(n, "predicted").assign(kind=f"{k} mismatches") for k in mismatches]
    out = pd.concat(parts)
    return out.assign(seq=np.asarray(split.seqs)[out.index], index=out.index)


def high_low_probes(split: Any, pred: np.ndarray, motif: str, n: int = 2) -> pd.DataFrame:
    """Probes carrying ``motif`` exactly: the ``n`` highest- and ``n`` lowest-predicted (paper Fig 3a)."""
    m = rmotifs.motif_matches(split.seqs, motif).assign(predicted=pred, measured=split.y[:, 0])
    m = m[m["mismatches"] == 0]
    out = pd.concat([m.nlargest(n, "predicted").assign(kind="high"), m.nsmallest(n, "predicted").assign(kind="low")])
    return out.assign(seq=np.asarray(split.seqs)[out.index], index=out.index)


def ism_probes(
    model: Any, split: Any, probes: pd.DataFrame, motif: str | None = None
) -> tuple[np.ndarray, pd.DataFrame]:
    """ISM of the chosen probes: ``deltas`` ``(n, L, 4)`` and the table with the importance inside the motif
    window relative to the rest (``inside``, ``outside``, ``ratio``)."""
    x = split.x[probes["index"].to_numpy()]
    deltas = ism(model, x)
    if motif:
        site = rmotifs.site_importance(ism_l2(deltas), x, probes["x_start"], len(motif))
        probes = pd.concat([probes.reset_index(drop=True), site], axis=1)
    return deltas, probes.reset_index(drop=True)


def ism_gc3(model: Any, split: Any, pred: np.ndarray | None = None, *, n_top: int = 10, window: int = 7) -> dict:
    """Does ISM of the top predicted probes put importance on G/C at the 3' end (paper Fig 4a)?

    Per probe: the mean ISM L2 of the G/C bases in the last ``window`` nt of the probe minus that of
    the G/C bases in its first ``window`` nt (padding excluded). Wilcoxon signed-rank test of the 3'
    against the 5' values over the probes; ``verdict`` ``3' bias`` when one-sided p < 0.05. Returns a
    record of kind ``ism_gc3``.
    """
    pred = predict_split(model, split) if pred is None else pred
    idx = np.argsort(-pred, kind="stable")[:n_top]
    x = split.x[idx]
    l2 = ism_l2(ism(model, x))
    gc_base = x[..., 1] + x[..., 2] > 0
    five, three = [], []
    for xi, li, gi in zip(x, l2, gc_base):
        present = np.flatnonzero(xi[:, :4].sum(-1) > 0)
        w5, w3 = present[:window], present[-window:]
        five.append(li[w5][gi[w5]].mean() if gi[w5].any() else 0.0)
        three.append(li[w3][gi[w3]].mean() if gi[w3].any() else 0.0)
    five, three = np.array(five), np.array(three)
    try:
        t = wilcoxon_paired(three, five, alternative="greater")
        test = {"median_difference": t.median_difference, "statistic": t.statistic, "pvalue": t.pvalue}
    except DataError:
        test = {"median_difference": 0.0, "statistic": float("nan"), "pvalue": float("nan")}
    p = test["pvalue"]
    return make_record("ism_gc3", n_probes=int(len(idx)), window=window, gc3_l2=float(three.mean()),
                       gc5_l2=float(five.mean()), **test,
                       verdict="3' bias" if np.isfinite(p) and p < ALPHA else "no 3' bias")


# --------------------------------------------------------------------------- the battery of one experiment


def kd_regression(session: GIA, kd_path: str | os.PathLike, start: int = 17, rbfox1_like: bool | None = None
                  ) -> dict[str, Any] | None:
    """ln Kd of the RBFOX1 heptamers (Auweter et al. 2006) regressed on their global importance (Fig 2f);
    a record of kind ``kd`` (``None`` without the Kd table)."""
    from scipy import stats as sstats

    if not Path(kd_path).is_file():
        return None
    kd = pd.read_csv(kd_path, comment="#")
    gi = np.array([imp.mean for imp in session.importances([[(p, int(start))] for p in kd["pattern"]])])
    ln_kd = np.log(kd["kd_nM"].to_numpy(float))
    fit = sstats.linregress(gi, ln_kd)
    return make_record("kd", r2=float(fit.rvalue**2), p=float(fit.pvalue), slope=float(fit.slope), n=int(len(kd)),
                       patterns=kd["pattern"].tolist(), global_importance=gi, ln_kd=ln_kd, rbfox1_like=rbfox1_like)


@dataclass(eq=False)
class Battery:
    """Everything :func:`run_battery` measured on one experiment: the result objects (their local importances
    kept, for the figures); :meth:`to_record` is its JSON record, made of their records."""

    experiment: str
    scan: pd.DataFrame
    mutagenesis: MotifMutagenesis
    alignment: Any
    reference: dict
    references: list
    multiplicity: dict[str, Multiplicity]
    spacing: Spacing
    gc: GCBias
    ism: dict | None
    kd: dict | None
    info: dict = field(default_factory=dict)

    @property
    def motif(self) -> str:
        return self.multiplicity["optimal"].motif

    def to_record(self) -> dict[str, Any]:
        """Record of kind ``battery`` (keys: :data:`rbgia.records.SCHEMAS`): the results' ``to_record()``, the top
        10 k-mers of :func:`rbgia.records.scan_record`, the alignment against the RNAcompete motif."""
        sim, info = self.reference, self.info
        alignment = make_record(
            "alignment", consensus=self.alignment.consensus, top=len(self.alignment.kmers),
            reference=sim.get("reference"), reference_name=sim.get("name"), reference_consensus=sim.get("consensus"),
            n_references=sim.get("n_references"),
            similarity=None if sim.get("r") is None else {k: sim[k] for k in ("r", "offset", "overlap")})
        return make_record(
            "battery", experiment=self.experiment, test_pearson=info.get("test_pearson"),
            background=info["background"], background_padding=info["background_padding"],
            known_motif=info["known_motif"], motif=self.motif,
            scan=make_record("battery_scan", n_kmers=len(self.scan), **info["scan"]),
            top_kmers=scan_record(self.scan, 10)["top_kmers"], mutagenesis=self.mutagenesis, alignment=alignment,
            multiplicity=self.multiplicity, spacing_reference=info["spacing_reference"], spacing=self.spacing,
            gc=self.gc, ism_gc3=self.ism, kd=self.kd, positions=info["positions"],
            seconds=info.get("seconds_by_step", {}))


def run_battery(
    model: Any, data: Any, experiment: str, *, data_dir: str | os.PathLike | None = None,
    reference_dir: str | os.PathLike = "data/reference",
    reference_motif: str | None = None, background: str = "profile", num_background: int = 300,
    padding: str = "source", k: int = 6, kmer_start: int = 17, scan: str = "adaptive", n_screen: int = 50,
    motif: str | None = None, suboptimal_motif: str | None = None,
    multiplicity_starts: Sequence[int] = PAPER_POSITIONS["multiplicity_starts"],
    spacing_pairs: Sequence[Sequence[int]] = ((16, 20), (15, 21), (13, 22)), spacing_reference: int = 17,
    gc_motif: str = "GCGCGC", gc_starts: Sequence[int] = PAPER_POSITIONS["gc_starts"], top_align: int = 10,
    n_boot: int = 2000, n_ism: int = 10, kd_path: str | os.PathLike | None = None, kd_check: bool | None = None,
    seed: int = 0,
) -> Battery:
    """The paper's GIA experiments on one trained sequence model (Fig 2b-g, 4a-e).

    k-mer scan (``scan``: ``"adaptive"``, ``"exhaustive"`` or ``"both"``; the ranking is the
    exhaustive one when run) with q-values; mutagenesis of the top k-mer; the top-``top_align``
    alignment motif against the RNAcompete motif(s) (:func:`compare_with_reference`); multiplicity of
    the top and of a sub-optimal k-mer (:func:`multiplicity_test`); spacing (:func:`spacing_test`); GC
    bias (:func:`gc_test`); ISM of the ``n_ism`` top predicted test probes (:func:`ism_gc3`); with
    ``kd_path``, the RBFOX1 Kd regression (``kd_check`` ``None``: only for an RBFOX1-like motif or
    experiment). Seconds per step are in ``info["seconds_by_step"]``.
    """
    import time

    clock: dict[str, float] = {}
    t0 = time.perf_counter()
    bg = backgrounds.make_background(background, data.train.x[..., :4], n=num_background, seed=seed,
                                     y=data.train.y[:, 0], **({"padding": padding} if background == "profile" else {}))
    session = GIA(model, bg)
    scans, evaluations = {}, {}
    if scan in ("exhaustive", "both"):
        scans["exhaustive"] = kmer_scan(session, k=k, start=kmer_start)
        evaluations["exhaustive"] = 4**k * len(bg) + len(bg)
        clock["exhaustive scan"] = time.perf_counter() - t0
    if scan in ("adaptive", "both"):
        t1 = time.perf_counter()
        ad = adaptive_kmer_scan(session, k=k, start=kmer_start, n_screen=min(n_screen, len(bg) - 1), seed=seed)
        scans["adaptive"], evaluations["adaptive"] = ad.table, ad.n_evaluations
        evaluations.setdefault("exhaustive", ad.n_exhaustive)
        clock["adaptive scan"] = time.perf_counter() - t1
    if not scans:
        raise DataError(f"scan={scan!r} is not an option; pass 'adaptive', 'exhaustive' or 'both'")
    ranked = scans.get("exhaustive", scans.get("adaptive")).copy()
    if "qvalue" not in ranked.columns:  # BH over the k-mers in the table (the scan module's column when present)
        ranked["qvalue"] = bh_qvalues(ranked["pvalue"].to_numpy())
    shared = (len(set(scans["exhaustive"]["kmer"].head(10)) & set(scans["adaptive"]["kmer"].head(10)))
              if len(scans) == 2 else None)
    top_kmer = str(ranked["kmer"].iloc[0])
    motif = motif or top_kmer
    t1 = time.perf_counter()
    mm = motif_mutagenesis(session, motif, start=kmer_start)
    alignment = rmotifs.align_kmers(ranked["kmer"], ranked["mean"], top=top_align)
    reference = compare_with_reference(alignment.pfm, reference_motif or experiment, reference_dir)
    clock["mutagenesis and motif"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    sub = suboptimal_motif or ("AGAAUG" if motif == "UGCAUG" else suboptimal_kmer(ranked))
    mult = {name: multiplicity_test(session, m, multiplicity_starts, n_boot=n_boot, seed=seed)
            for name, m in (("optimal", motif), ("suboptimal", sub))}
    spacing = spacing_test(session, motif, spacing_pairs, spacing_reference, n_boot=n_boot, seed=seed)
    gc = gc_test(session, motif, kmer_start, gc_motif, gc_starts, n_boot=n_boot, seed=seed)
    clock["multiplicity, spacing, GC"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    ism_rec = ism_gc3(model, data.test, n_top=n_ism) if n_ism else None
    rbfox1_like = "GCAUG" in motif or experiment in RBFOX1_EXPERIMENTS
    kd = kd_regression(session, kd_path, kmer_start, rbfox1_like) \
        if kd_path and (kd_check or (kd_check is None and rbfox1_like)) else None
    clock["ISM and Kd"] = time.perf_counter() - t1
    clock["total"] = time.perf_counter() - t0
    known = rmotifs.known_motif(data_dir or ".", experiment, reference_dir)
    info = {"experiment": experiment, "background": {"kind": background, "n": len(bg)}, "background_padding": padding,
            "scan": {"k": k, "start": kmer_start, "ranking": "exhaustive" if "exhaustive" in scans else "adaptive",
                     "evaluations": evaluations, "top10_shared": shared, "top_kmer": top_kmer,
                     "n_significant_q05": int((ranked["qvalue"] <= ALPHA).sum()),
                     "top_contains_known": bool(known) and known in top_kmer},
            "known_motif": known, "spacing_reference": int(spacing_reference),
            "positions": {"multiplicity_starts": [int(s) for s in multiplicity_starts],
                          "gc_starts": [int(s) for s in gc_starts], "kmer_start": int(kmer_start)},
            "seconds_by_step": clock}
    return Battery(experiment, ranked, mm, alignment, reference, reference_motifs(reference_motif or experiment,
                   reference_dir), mult, spacing, gc, ism_rec, kd, info)


def write_battery(results_dir: str | os.PathLike, battery: Battery, extra: Mapping[str, Any] | None = None) -> Path:
    """Write the battery's record (``results_dir/<experiment>/05_gia.json``; NaN stored as null); ``extra``
    (``config``, ``test_pearson``, ...) sets keys beside or over those of :meth:`Battery.to_record`."""
    record = {**battery.to_record(), **(extra or {})}
    return write_results(results_dir, record["experiment"], BATTERY, record, allow_nan=True)


# --------------------------------------------------------------------------- tables over experiments


def read_batteries(results_dir: str | os.PathLike, experiments: Sequence[str]) -> dict[str, Record]:
    """The battery records of ``experiments`` (those of the ``gia_*`` jobs), in order, read through
    :func:`rbgia.records.read_record` (attribute access, schema checked).

    Raises
    ------
    DataError
        A record is missing (names the experiment and the job that makes it) or is not a ``battery`` record.
    """
    missing = [e for e in experiments if not results_path(results_dir, e, BATTERY).is_file()]
    if missing:
        raise DataError(f"no {BATTERY} record for {missing} under {results_dir}; run the gia jobs first "
                        f"(python -m rbgia.book run, or papermill notebooks/{BATTERY}.ipynb -p experiment "
                        f"{missing[0]})")
    return {e: read_record(results_dir, e, BATTERY, kind="battery") for e in experiments}


def supplementary_table1(records: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """The paper's Supplementary Table 1: GIA alignment motif vs RNAcompete motif, per experiment with one."""
    rows = []
    for exp, rec in records.items():
        r = _rec(rec)
        a = r.alignment
        if not a.n_references:
            continue
        sim = a.similarity
        rows.append({"experiment": exp, "RNAcompete motif": f"{a.reference} {a.reference_name}",
                     "RNAcompete consensus": a.reference_consensus, "top k-mer": r.scan.top_kmer,
                     "GIA motif": a.consensus, "similarity r": sim.r if sim else None,
                     "overlap": sim.overlap if sim else None, "motifs compared": a.n_references})
    return pd.DataFrame(rows)


def scan_table(records: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Per experiment: model test r, top k-mer, its importance and q-value, k-mers at q <= 0.05, evaluations."""
    rows = []
    for exp, rec in records.items():
        r = _rec(rec)
        t, ev = r.top_kmers[0], r.scan.evaluations
        rows.append({"experiment": exp, "test r": r.test_pearson, "top k-mer": t.kmer,
                     "global importance": t.mean, "q-value": t.get("qvalue"),
                     "k-mers with q <= 0.05": r.scan.n_significant_q05,
                     "evaluations (adaptive)": ev.get("adaptive"), "evaluations (exhaustive)": ev.get("exhaustive")})
    return pd.DataFrame(rows)


def multiplicity_table(records: Mapping[str, Mapping[str, Any]], which: str = "optimal") -> pd.DataFrame:
    """Per experiment: the k-mer, R^2 of the 1..n fit, the n-to-1 ratio with CI and the verdict (Fig 2g)."""
    rows = []
    for exp, rec in records.items():
        m = _rec(rec).multiplicity[which]
        rows.append({"experiment": exp, "k-mer": m.motif, "R2 (1..n fit)": m.r2, "ratio n/1": m.ratio.mean,
                     "ratio CI low": m.ratio.ci_low, "ratio CI high": m.ratio.ci_high, "expected": len(m.starts),
                     "verdict": m.verdict})
    return pd.DataFrame(rows)


def spacing_table(records: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Per experiment and pair: two copies over twice one copy, with CI and verdict (Fig 2d)."""
    rows = [{"experiment": exp, "k-mer": r.motif, "pair": pair_label(p), "ratio to 2x single": p.vs_additive.mean,
             "CI low": p.vs_additive.ci_low, "CI high": p.vs_additive.ci_high, "verdict": p.verdict}
            for exp, r in ((e, _rec(rec)) for e, rec in records.items()) for p in r.spacing.pairs if p.vs_additive]
    return pd.DataFrame(rows)


def gc_table(records: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Per experiment: GC effect sizes, 5'-3' difference with CI, amplify-or-add verdicts, ISM 3' statistic."""
    rows = []
    for exp, rec in records.items():
        r = _rec(rec)
        g, i = r.gc, r.ism_gc3 or {}
        i3, i5 = g.interaction3 or {}, g.interaction5 or {}
        rows.append({"experiment": exp, "motif": g.motif, "motif significant": motif_significant(g),
                     "effect 5'": g.effect5.mean, "effect 3'": g.effect3.mean, "5' - 3'": g.diff.mean,
                     "5' - 3' CI low": g.diff.ci_low, "5' - 3' CI high": g.diff.ci_high, "biased end": bias_end(g),
                     "GC 3' alone": g.importance.gc3.mean, "interaction 3'": i3.get("mean"),
                     "interaction 3' p": i3.get("pvalue"), "3' verdict": i3.get("verdict"),
                     "5' verdict": i5.get("verdict"), "ISM 3' minus 5' GC": i.get("median_difference"),
                     "ISM p": i.get("pvalue"), "ISM verdict": i.get("verdict")})
    return pd.DataFrame(rows)


def verdict_counts(table: pd.DataFrame, column: str = "verdict") -> str:
    """``"additive: 7, sub-additive: 3 (n = 10)"``: the words a chapter prints, counted from a table."""
    counts = table[column].value_counts()
    return ", ".join(f"{k}: {v}" for k, v in counts.items()) + f" (n = {int(counts.sum())})"


# --------------------------------------------------------------------------- figures (at most 3 panels a row)


def _plt():
    import matplotlib.pyplot as plt

    return plt


def fig_scan(battery: Battery, top: int = 20):
    """The top k-mers with 95% CIs (paper Fig 2b's scan); k-mers close to the RNAcompete consensus in red."""
    from .plotting import kmer_rank_plot, page_width

    fig, ax = _plt().subplots(figsize=(page_width(), 3.2))
    truth = (battery.reference.get("consensus") or "").strip("N") or battery.info.get("known_motif")
    kmer_rank_plot(battery.scan, top=top, truth=truth, max_mismatch=1, ax=ax,
                   title=f"{battery.experiment}: top {len(battery.motif)}-mers at 1-based "
                         f"{battery.info['scan']['start'] + 1}-{battery.info['scan']['start'] + len(battery.motif)}")
    fig.tight_layout()
    return fig


def fig_motifs(battery: Battery):
    """Motif mutagenesis L2 logo (Fig 2e/3b), the GIA alignment motif and the RNAcompete motif (Fig 4b)."""
    from .plotting import l2_logo, logo, panels

    refs = {m.id: m for m in battery.references}
    ref = refs.get(battery.reference.get("reference"))
    fig, axes = panels(3 if ref is not None else 2, height=2.6)
    mm = battery.mutagenesis
    # two-line titles: a third of the page holds about 20 characters at 10 pt
    l2_logo(mm.importance, mm.kmer, ax=axes[0], title=f"GIA mutagenesis\nof {mm.kmer} (L2)")
    logo(battery.alignment.pfm, ax=axes[1], kind="information", title=f"GIA motif\n{battery.alignment.consensus}")
    if ref is not None:
        r = battery.reference["r"]
        logo(ref.pfm, ax=axes[2], kind="information", title=f"RNAcompete {ref.name}\n(r = {r:.2f})")
    for ax in axes:
        ax.title.set_fontsize(10)
    fig.tight_layout()
    return fig


def fig_multiplicity(battery: Battery):
    """Local importance of 1..n copies of the top and the sub-optimal k-mer (Fig 2b, 2c) with the verdicts."""
    from .plotting import local_importance_boxplot, panels

    fig, axes = panels(len(battery.multiplicity), height=3.4)
    for ax, (name, m) in zip(axes, battery.multiplicity.items()):
        counts = m.table["count"].astype(int).tolist()
        local_importance_boxplot(dict(zip((str(c) for c in counts), m.local)), ax=ax, fit=False,
                                 xlabel="copies", title=f"{name} {m.motif}:\n{_f(m.ratio.mean, '.2f')}x for "
                                 f"{len(m.starts)} ({m.verdict})")
        ax.plot(counts, np.polyval([m.slope, m.intercept], counts), color="C3", lw=1,
                label=f"fit, R² = {_f(m.r2, '.2f')}")
        ax.title.set_fontsize(10)
    fig.tight_layout()
    return fig


def fig_spacing(battery: Battery):
    """Two copies over twice one copy, per pair of starts (Fig 2d); 1 = additive."""
    sp = battery.spacing
    from .plotting import fit_figsize

    fig, ax = _plt().subplots(figsize=fit_figsize((6, 3.2)))
    labels = [f"{a + 1} & {b + 1}\n(gap {b - a - len(sp.motif)})" for a, b in sp.pairs]
    y = np.array([e.mean for e in sp.vs_additive], float)
    err = np.abs(np.vstack([y - [e.ci_low for e in sp.vs_additive], [e.ci_high for e in sp.vs_additive] - y]))
    ax.bar(labels, y, yerr=err, color="C0", capsize=4)
    ax.axhline(1, color="C3", ls="--", lw=1)
    ax.set_ylabel("two copies / (2 x one copy)")
    ax.set_xlabel("1-based starts of the two copies")
    ax.set_title(f"{battery.experiment}: spacing of {battery.motif}", fontsize=10)
    fig.tight_layout()
    return fig


def fig_gc(battery: Battery | Mapping[str, Any]):
    """Global importance of motif, motif + GC 5', motif + GC 3', GC alone at each end (Fig 4c), from a
    battery or its record."""
    rec = _rec(battery.to_record() if isinstance(battery, Battery) else battery)
    g = rec.gc
    names = ("motif", "motif + GC 5'", "motif + GC 3'", "GC 5' alone", "GC 3' alone")  # GC_CONDITIONS, in words
    imp = [g.importance[k] for k in GC_CONDITIONS]
    y = np.array([i.mean for i in imp], float)
    err = np.abs(np.vstack([y - np.array([i.ci_low for i in imp], float), np.array([i.ci_high for i in imp], float)
                            - y]))
    from .plotting import page_width

    fig, ax = _plt().subplots(figsize=(page_width(), 3.2))
    ax.bar(list(names), y, yerr=err, color=["C0", "C1", "C2", "C7", "C7"], capsize=4)
    ax.set_ylabel("global importance")
    ax.set_title(f"{rec.experiment}: {g.motif} with {g.gc_motif} at 1-based starts "
                 f"{g.gc_starts[0] + 1} and {g.gc_starts[1] + 1}", fontsize=10)
    ax.tick_params(axis="x", rotation=15)
    fig.tight_layout()
    return fig


def fig_hairpin(tests: Mapping[str, Hairpin]):
    """Box plots of the four hairpin contexts per model (Fig 3c), titled with the structure effect."""
    from .plotting import local_importance_boxplot, panels

    # one model a row: four two-line context labels need the page's width
    fig, axes = panels(len(tests), max_per_row=1, height=3.0)
    for ax, (label, t) in zip(axes, tests.items()):
        e = t.structure_effect
        groups = {k.replace(", ", ",\n").replace("hairpin ", "hairpin\n"): v for k, v in t.local_effects().items()}
        local_importance_boxplot(groups, ax=ax, fit=False, xlabel="",
                                 title=f"{label}: DiD {_f(e.mean, '.3f')} [{_f(e.ci_low, '.3f')}, "
                                 f"{_f(e.ci_high, '.3f')}]")
        ax.title.set_fontsize(10)
        ax.tick_params(axis="x", rotation=0)
    fig.tight_layout()
    return fig


def fig_ism(deltas: np.ndarray, x: np.ndarray, probes: pd.DataFrame, motif: str | None = None,
            structure: np.ndarray | None = None):
    """ISM logos (L2 on the wild-type base) of the chosen probes, one row each; with ``structure``
    (the probes' PU channels) a structure track under each logo (Fig 3a). The motif window (a ``motif``
    column of ``probes``, else ``motif``) is shaded."""
    from .plotting import ism_logo, page_width, structure_track

    rows = len(probes) * (2 if structure is not None else 1)
    fig, axes = _plt().subplots(rows, 1, figsize=(page_width(), 1.8 * rows), squeeze=False)
    step = 2 if structure is not None else 1
    for i, (d, xi, row) in enumerate(zip(deltas, x, probes.itertuples())):
        ax = axes[i * step, 0]
        ism_logo(d, xi[:, :4], ax=ax, title=f"{row.kind}: predicted {row.predicted:.2f}, measured {row.measured:.2f}")
        width = len(getattr(row, "motif", None) or motif or "")
        if width and row.x_start >= 0:
            ax.axvspan(row.x_start - 0.5, row.x_start + width - 0.5, color="gold", alpha=0.25, lw=0)
        if structure is not None:
            structure_track(structure[i], ax=axes[i * step + 1, 0])
    fig.tight_layout()
    return fig


def fig_mismatch_scatter(split: Any, pred: np.ndarray, motif: str, max_mismatches: int = 3, title: str = ""):
    """Measured vs predicted on set B coloured by mismatches to ``motif`` (a discrete palette; Fig 3a)."""
    plt = _plt()
    mm = np.minimum(rmotifs.motif_matches(split.seqs, motif)["mismatches"].to_numpy(), max_mismatches)
    y = split.y[:, 0]
    from .plotting import fit_figsize

    fig, ax = plt.subplots(figsize=fit_figsize((5.5, 4.2)))
    colors = plt.get_cmap("tab10").colors
    for k in range(max_mismatches, -1, -1):  # perfect matches drawn last, on top
        sel = mm == k
        label = f"{k}{'+' if k == max_mismatches else ''} mismatches (n = {sel.sum()})"
        ax.scatter(y[sel], pred[sel], s=3, alpha=0.5, color=colors[k], lw=0, label=label, rasterized=True)
    r = float(np.corrcoef(y, pred)[0, 1])
    ax.set_xlabel("measured (set B)")
    ax.set_ylabel("predicted")
    ax.set_title(f"{title} r = {r:.3f}", fontsize=10)
    ax.legend(fontsize=8, markerscale=3, title=f"best match to {motif}", title_fontsize=8)
    fig.tight_layout()
    return fig


def fig_histograms(table: pd.DataFrame, columns: Mapping[str, float], title: str = ""):
    """Histograms over experiments of ``columns`` (name -> reference line), at most 3 a row (Fig 2g, 4d-e)."""
    from .plotting import hist, panels

    fig, axes = panels(len(columns), height=3.0)
    for ax, (col, ref) in zip(axes, columns.items()):
        hist(table[col].astype(float), ax=ax, bins=10, xlabel=col, ylabel="experiments", vline=ref, title=title)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- chapter helpers


def experiment_label(data_dir: str | os.PathLike, experiment: str, reference_dir: str | os.PathLike | None = None
                     ) -> str:
    """``"RNCMPT00001 (A1CF), 2013-RNAcompete sample"``: the data a caption names."""
    name = ""
    if reference_dir is not None and (Path(reference_dir) / MEME).is_file():
        found = rmotifs.read_meme(Path(reference_dir) / MEME).get(experiment)
        name = f" ({found.name})" if found is not None and found.name else ""
    where = str(data_dir).rstrip("/").split("/")[-1]
    kind = {"rnacompete2009": "2009-RNAcompete", "rnacompete2013_sample": "2013-RNAcompete sample"}.get(where, where)
    return f"{experiment}{name}, {kind}"


def load_models(data_dir: str | os.PathLike, experiment: str, inputs: Sequence[str], **train_kw: Any
                ) -> dict[str, tuple[Any, dict, Any]]:
    """``{inputs: (model, metadata, data)}`` from the shared model cache (:func:`rbgia.train.train_or_load`).

    ``inputs`` items are input kinds (``"pu"``, the rest of the configuration from ``train_kw``) or whole
    configurations (tags such as ``"log-pu-paper-s0"``, :class:`rbgia.config.TrainConfig`), keyed by their inputs.
    """
    from .config import INPUT_KINDS, TrainConfig
    from .train import train_or_load

    out = {}
    for item in inputs:
        if isinstance(item, str) and item in INPUT_KINDS:
            out[item] = train_or_load(data_dir, experiment, inputs=item, verbose=0, **train_kw)
        else:
            cfg = TrainConfig.coerce(item)
            out[cfg.inputs] = train_or_load(data_dir, experiment, cfg, verbose=0, **train_kw)
    return out


def ism_motif_examples(
    data_dir: str | os.PathLike, experiments: Sequence[str], *, reference_dir: str | os.PathLike,
    mismatches: Sequence[int] = (0, 2), n: int = 1, **train_kw: Any,
) -> dict[str, Any]:
    """Fig 2a on real data: per experiment, the ``n`` highest-predicted test probes with a best match of
    each number of ``mismatches`` to the experiment's RNAcompete motif, and their ISM.

    Returns ``{"deltas", "x", "table"}`` over all experiments (one row per probe, ``experiment`` and
    ``motif`` columns), ready for :func:`fig_ism`.
    """
    deltas, xs, tables = [], [], []
    for exp in experiments:
        (model, meta, data), = load_models(data_dir, exp, ["seq"], **train_kw).values()
        motif = rmotifs.known_motif(data_dir, exp, reference_dir)
        if not motif:
            raise DataError(f"no RNAcompete motif for {exp} in {reference_dir}/{MEME}; pass a 2013 experiment")
        chosen = motif_probes(data.test, predict_split(model, data.test), motif, mismatches, n)
        if chosen.empty:  # no test probe matches the motif that well
            continue
        d, table = ism_probes(model, data.test, chosen, motif)
        deltas.append(d)
        xs.append(data.test.x[chosen["index"].to_numpy()])
        tables.append(table.assign(experiment=exp, motif=motif, test_r=meta["metrics"]["test_pearson"]))
    if not tables:
        raise DataError(f"no test probe of {list(experiments)} matches its motif with {list(mismatches)} mismatches; "
                        "pass other mismatches")
    table = pd.concat(tables, ignore_index=True)
    table["kind"] = table["experiment"] + ", " + table["kind"]
    return {"deltas": np.concatenate(deltas), "x": np.concatenate(xs), "table": table}


def vts1_ism(models: Mapping[str, tuple[Any, dict, Any]], motif: str = "GCUGG", n: int = 2,
             structure_inputs: str = "pu") -> dict[str, Any]:
    """Fig 3a: ISM of the SEQUENCE-ONLY model on ``n`` high- and ``n`` low-predicted set-B probes that carry
    ``motif``, with their PU profiles (from the structure dataset) for the track under each logo."""
    model, _, data = models["seq"]
    pred = predict_split(model, data.test)
    chosen = high_low_probes(data.test, pred, motif, n)
    deltas, table = ism_probes(model, data.test, chosen, motif)
    idx = chosen["index"].to_numpy()
    structure = models[structure_inputs][2].test.x[idx][..., 4:] if structure_inputs in models else None
    if structure is not None:
        same = np.array_equal(models[structure_inputs][2].test.seqs[idx], data.test.seqs[idx])
        if not same:
            raise DataError("the sequence and structure datasets order set B differently; load both with one data_seed")
        # structure channel 1 is the unpaired probability (0: paired)
        table["unpaired at motif"] = [float(s[a: a + len(motif), 1].mean())
                                      for s, a in zip(structure, table["x_start"])]
    return {"deltas": deltas, "x": data.test.x[idx], "table": table, "structure": structure, "pred": pred}


def performance_vs_paper(models: Mapping[str, tuple[Any, dict, Any]], reference_dir: str | os.PathLike,
                         dataset: str) -> pd.DataFrame:
    """Set-B Pearson r of each model beside the paper's (``reported_results.csv``) with the gap and the budget."""
    from .results import read_reported

    reported = read_reported(Path(reference_dir) / "reported_results.csv", dataset=dataset)
    rows = []
    for kind, (_, meta, data) in models.items():
        paper = reported.loc[reported["inputs"] == kind, "mean"]
        m = meta["metrics"]
        r = m["test_pearson"]
        rows.append({"inputs": kind, "test r (here)": r, "paper": float(paper.iloc[0]) if len(paper) else None,
                     "here - paper": r - float(paper.iloc[0]) if len(paper) else None,
                     "epochs run": m.get("epochs_run"), "stopped early": m.get("stopped_early"),
                     "training probes": len(data.train.x)})
    return pd.DataFrame(rows)


def hairpin_tests(models: Mapping[str, tuple[Any, dict, Any]], motif: str, *, background: str = "profile",
                  num_background: int = 300, seed: int = 0, **kw: Any) -> dict[str, Hairpin]:
    """:func:`hairpin_test` for each model (``{inputs: Hairpin}``), on one background drawn from the sequence
    data's training probes; structure models get the structure of every embedded sequence recomputed."""
    data = next(iter(models.values()))[2]
    bg = backgrounds.make_background(background, data.train.x[..., :4], n=num_background, seed=seed,
                                     y=data.train.y[:, 0])
    return {kind: hairpin_test(m, bg, motif, recompute_structure=False if kind == "seq" else kind, seed=seed, **kw)
            for kind, (m, _, _) in models.items()}


def structure_table(tests: Mapping[str, Any]) -> pd.DataFrame:
    """One row per model (``{inputs: Hairpin or hairpin record}``): the four contexts' global importance, the
    structure effect with CI and p, verdict, folding."""
    rows = []
    for kind, t in tests.items():
        h = _rec(t)
        folded = "not checked" if h.n_folded is None else f"{h.n_folded} of {h.n_designed}"
        rows.append({"model": kind, "hairpin loop": h.in_loop.mean, "hairpin stem": h.in_stem.mean,
                     "unstructured at loop": h.unstructured_at_loop.mean,
                     "unstructured at stem": h.unstructured_at_stem.mean, "structure effect": h.mean,
                     "CI low": h.ci_low, "CI high": h.ci_high, "p-value": h.pvalue, "verdict": h.verdict,
                     "folded as designed": folded})
    return pd.DataFrame(rows)


def top_kmers_of(results_dir: str | os.PathLike, experiment: str) -> list[Record] | None:
    """The ``top_kmers`` of an experiment's battery record, or ``None`` when it has none yet."""
    if not results_path(results_dir, experiment, BATTERY).is_file():
        return None
    return read_record(results_dir, experiment, BATTERY, "top_kmers", kind="battery")


def _f(v: Any, spec: str) -> str:
    """A number for prose; ``n/a`` for a missing (None/NaN) statistic."""
    return "n/a" if v is None or (isinstance(v, float) and not np.isfinite(v)) else format(v, spec)


def battery_findings(rec: Mapping[str, Any]) -> str:
    """The chapter's closing sentences, each claim word beside the statistic it comes from."""
    r = _rec(rec)
    m, g, i, a = r.multiplicity.optimal, r.gc, r.ism_gc3, r.alignment
    q = r.top_kmers[0].get("qvalue")
    lines = [f"- Top {len(r.motif)}-mer **{r.motif}** (q = {_f(q, '.2g')}; "
             f"{r.scan.n_significant_q05} k-mers at q <= 0.05)."]
    if a.similarity:
        lines.append(f"- GIA motif {a.consensus} vs RNAcompete {a.reference} ({a.reference_name}, "
                     f"{a.reference_consensus}): r = {_f(a.similarity.r, '.2f')}.")
    lines.append(f"- Multiplicity: {len(m.starts)} copies give {_f(m.ratio.mean, '.2f')}x one copy "
                 f"(95% CI {_f(m.ratio.ci_low, '.2f')}-{_f(m.ratio.ci_high, '.2f')}): **{m.verdict}** (R² of the "
                 f"1..n fit {_f(m.r2, '.2f')}).")
    pairs = [f"{pair_label(p)}: {_f(e.mean, '.2f')} ({_f(e.ci_low, '.2f')}-{_f(e.ci_high, '.2f')}) **{p.verdict}**"
             for p in r.spacing.pairs if (e := p.vs_additive)]
    lines.append("- Spacing (0-based starts), two copies / (2 x one copy): " + "; ".join(pairs) + ".")
    i3 = g.interaction3 or {}
    lines.append(f"- GC: effect size 5' {_f(g.effect5.mean, '.2f')}, 3' {_f(g.effect3.mean, '.2f')}; 5' - 3' = "
                 f"{_f(g.diff.mean, '.2f')} (CI {_f(g.diff.ci_low, '.2f')}-{_f(g.diff.ci_high, '.2f')}; biased end: "
                 f"{bias_end(g)}); at the 3' end the GC run **{i3.get('verdict')}** (interaction "
                 f"{_f(i3.get('mean'), '.3f')}, p = {_f(i3.get('pvalue'), '.2g')}).")
    if i:
        lines.append(f"- ISM of the top {i.n_probes} predicted probes: **{i.verdict}** (3' minus 5' G/C "
                     f"importance, median {_f(i.median_difference, '.3g')}, one-sided Wilcoxon p = "
                     f"{_f(i.pvalue, '.2g')}).")
    return "\n".join(lines)


def top_kmers_or_scan(results_dir: str | os.PathLike, experiment: str, model: Any, data: Any, *, k: int = 6,
                      start: int = 17, num_background: int = 300, n_screen: int = 50, seed: int = 0
                      ) -> tuple[list[dict], str]:
    """The experiment's top 10 k-mers from its battery record (the gia jobs), else from an adaptive scan
    (:func:`rbgia.records.scan_record` rows either way: ``kmer`` first)."""
    found = top_kmers_of(results_dir, experiment)
    if found is not None and len(found[0].kmer) == k:
        return found, f"{BATTERY} record"
    bg = backgrounds.make_background("profile", data.train.x[..., :4], n=num_background, seed=seed)
    scanned = adaptive_kmer_scan(GIA(model, bg), k=k, start=start, n_screen=min(n_screen, len(bg) - 1), seed=seed)
    return scan_record(scanned, 10)["top_kmers"], "adaptive scan"


def structure_findings(table: pd.DataFrame) -> str:
    """One sentence per model of :func:`structure_table`: the structure effect, its CI and p, the verdict."""
    return "\n".join(
        f"- {row['model']}: structure effect {_f(row['structure effect'], '.3f')} (95% CI {_f(row['CI low'], '.3f')} "
        f"to {_f(row['CI high'], '.3f')}, p = {_f(row['p-value'], '.2g')}): **{row['verdict']}**; designed "
        f"stem-loops that fold as intended: {row['folded as designed']}." for row in table.to_dict("records"))


def structure_record(models: Mapping[str, tuple[Any, dict, Any]], tests: Mapping[str, Hairpin], *, motif: str,
                     top_kmers: Sequence[Mapping[str, Any]], top_kmers_source: str, performance: Any = None,
                     **extra: Any) -> dict[str, Any]:
    """The VTS1 chapter's record (kind ``structure``): ``test_pearson`` per model (``seq``, ``pu``),
    ``structure_effect`` per model (the hairpin record: ``mean``, ``ci_low``, ``ci_high`` of the structure
    effect, the verdict, folding, the four contexts), the top k-mers (``kmer`` first); ``extra``
    (``config``, ``epochs``, ...) is kept beside the schema's keys."""
    clash = sorted(set(extra) & set(SCHEMAS["structure"]))
    if clash:
        raise DataError(f"structure_record got {clash} twice; pass them once, as its named arguments")
    if isinstance(performance, pd.DataFrame):
        performance = performance.to_dict("records")
    rec = make_record("structure", motif=motif, top_kmers=list(top_kmers), top_kmers_source=top_kmers_source,
                      test_pearson={kind: m[1]["metrics"]["test_pearson"] for kind, m in models.items()},
                      structure_effect=dict(tests), performance=performance)
    return {**rec, **extra}


def ism_findings(examples: pd.DataFrame, vts1: pd.DataFrame | None = None) -> str:
    """Mean ISM importance inside the motif window over outside it, per kind of probe (Fig 2a, 3a)."""
    lines = [f"- {kind}: inside/outside importance ratio {_f(r, '.2f')}"
             for kind, r in examples.groupby("kind", sort=False)["ratio"].mean().items()]
    if vts1 is not None and len(vts1):
        by = vts1.groupby("kind", sort=False)
        cols = {"ratio": "inside/outside ratio", "unpaired at motif": "unpaired probability over the motif"}
        for kind, sub in by:
            lines.append(f"- VTS1 {kind}-predicted probes with the motif: " + ", ".join(
                f"{word} {_f(float(sub[c].mean()), '.2f')}" for c, word in cols.items() if c in sub))
    return "\n".join(lines)


def gc_across(table: pd.DataFrame) -> dict[str, Any]:
    """Across experiments with a significant motif: the 3' vs 5' effect sizes, Wilcoxon signed-rank
    (one-sided, 3' > 5'); ``verdict`` ``3' bias`` when p < 0.05."""
    sub = table[table["motif significant"].astype(bool)]
    out: dict[str, Any] = {"n": int(len(sub)), "median_effect5": float(sub["effect 5'"].median()) if len(sub) else None,
                           "median_effect3": float(sub["effect 3'"].median()) if len(sub) else None}
    try:
        t = wilcoxon_paired(sub["effect 3'"].astype(float), sub["effect 5'"].astype(float), alternative="greater")
        out.update(median_difference=t.median_difference, statistic=t.statistic, pvalue=t.pvalue, n_pairs=t.n)
    except (DataError, ValueError):  # fewer than one informative pair
        out.update(median_difference=None, statistic=None, pvalue=None, n_pairs=0)
    p = out["pvalue"]
    out["verdict"] = "3' bias" if p is not None and p < ALPHA else "no 3' bias shown"
    return out


def gc_findings(table: pd.DataFrame, across: Mapping[str, Any]) -> str:
    """The GC chapter's closing sentences (verdict counts and the across-experiment test)."""
    v3, v5 = verdict_counts(table, "3' verdict"), verdict_counts(table, "5' verdict")
    return "\n".join([
        f"- Across the {across['n']} experiments whose motif is significant: median effect size 5' "
        f"{_f(across['median_effect5'], '.2f')}, 3' {_f(across['median_effect3'], '.2f')}; 3' > 5' by a one-sided "
        f"Wilcoxon signed-rank test: p = {_f(across['pvalue'], '.2g')} (n = {across['n_pairs']}): "
        f"**{across['verdict']}**.",
        f"- Biased end per experiment (CI of 5' - 3' excluding 0): {verdict_counts(table, 'biased end')}.",
        f"- The 3' GC run with the motif: {v3}; the 5' one: {v5}.",
        f"- ISM of the top predicted probes (G/C importance 3' vs 5'): {verdict_counts(table, 'ISM verdict')}."])


def across_findings(mult: pd.DataFrame, spacing: pd.DataFrame, supp: pd.DataFrame) -> str:
    """The across-experiment chapter's closing sentences."""
    r = supp["similarity r"].astype(float) if len(supp) else pd.Series(dtype=float)
    return "\n".join([
        f"- Multiplicity of the top 6-mer: {verdict_counts(mult)}; median ratio of 3 copies to 1: "
        f"{_f(float(mult['ratio n/1'].median()), '.2f')}; median R² of the 1..3 fit "
        f"{_f(float(mult['R2 (1..n fit)'].median()), '.2f')}.",
        f"- Spacing (two copies over twice one): {verdict_counts(spacing) if len(spacing) else 'no pairs'}.",
        f"- GIA motif vs RNAcompete motif over {len(supp)} experiments: median r {_f(float(r.median()), '.2f')}"
        f" (range {_f(float(r.min()), '.2f')} to {_f(float(r.max()), '.2f')})." if len(supp) else
        "- No experiment has an RNAcompete motif to compare with."])


def scan_cost(record: Mapping[str, Any]) -> pd.DataFrame:
    """Model evaluations and seconds of the scans a battery ran (index: ``exhaustive`` / ``adaptive``)."""
    r = _rec(record)
    ev, sec = dict(r.scan.evaluations), r.seconds
    return pd.DataFrame({"model evaluations": ev, "seconds": {k: sec.get(f"{k} scan") for k in ev}})


def fig_mutagenesis_of(results_dir: str | os.PathLike, experiment: str):
    """The GIA mutagenesis L2 logo of an experiment's top k-mer from its battery record (Fig 3b for VTS1);
    ``None`` when the experiment has no record yet."""
    from .plotting import fit_figsize, l2_logo

    if not results_path(results_dir, experiment, BATTERY).is_file():
        return None
    mm = read_record(results_dir, experiment, BATTERY, "mutagenesis", kind="battery")
    fig, ax = _plt().subplots(figsize=fit_figsize((4.5, 2.4)))
    l2_logo(np.asarray(mm.importance, float), mm.kmer, ax=ax, title=f"{experiment}: GIA mutagenesis of {mm.kmer}")
    fig.tight_layout()
    return fig
