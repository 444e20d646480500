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
:func:`rbgia.chapters.records.read_record` (attribute access, keys checked), never by paths of their own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import background as backgrounds
from .. import motifs as rmotifs
from .. import paper
from ..errors import DataError
from ..experiments import MotifMutagenesis, Multiplicity, Spacing, motif_mutagenesis, multiplicity, spacing
from ..gcbias import GCBias, gc_bias
from ..records import Record, scan_record
from ..scan import Standout, adaptive_kmer_scan, kmer_scan, standout
from ..session import GIA
from ..stats import holm, linear_fit
from ..verdicts import ALPHA, NO_MOTIF_RULE, UNDETERMINED, holm_demoted, motif_gate, motif_stands_out
from .gc import IsmGC3, ism_gc3
from .records import as_record, make_record, read_record
from .report import _f, _plt
from .results import results_path, write_results

RBP_MAP = "rbp_2009_to_2013.tsv"
SCAN_MODES = ("adaptive", "exhaustive", "both")  # which k-mer scans a battery runs
BATTERY = "05_gia"
RBFOX1_EXPERIMENTS = ("RNCMPT00168", "SIMRBFOX1")


# --------------------------------------------------------------------------- reading records (keys: rbgia.records)


def pair_label(pair: Mapping[str, Any]) -> str:
    """``"17+21, gap -2"``: a ``spacing_pair`` record's arrangement, 1-based starts as the page shows them."""
    p = as_record(pair)
    return arrangement_label(p.start_1, p.start_2, p.gap)


def arrangement_label(start_1: int, start_2: int, gap: int) -> str:
    """``"17+21, gap -2"`` from 0-based starts: also for an arrangement that was not placed (no record)."""
    return f"{start_1 + 1}+{start_2 + 1}, gap {gap}"


# --------------------------------------------------------------------------- reference motifs (Supp. Table 1)


def reference_motifs(experiment: str, reference_dir: str | os.PathLike) -> list[rmotifs.Motif]:
    """RNAcompete motifs to compare an experiment's GIA motif with.

    A 2013 experiment (``RNCMPT...``): its own motif. A 2009 RBP: the 2013 motifs of the same
    protein (``rbp_2009_to_2013.tsv``); VTS1 has none (not in the 2013 compendium). Empty when
    the reference files are absent.
    """
    meme = Path(reference_dir) / rmotifs.RNACOMPETE_MEME
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


def check_reference_motif(name: str, reference_dir: str | os.PathLike) -> None:
    """An explicitly chosen ``reference_motif`` must be a motif id of the RNAcompete file or a 2009 RBP of
    ``rbp_2009_to_2013.tsv``: a misspelt one is an error with a suggestion, never a comparison skipped in silence.

    Raises
    ------
    DataError
        Naming the name, the files read, and the closest known name (case-insensitive) or some known ones.
    """
    import difflib

    meme = Path(reference_dir) / rmotifs.RNACOMPETE_MEME
    if not meme.is_file():
        raise DataError(f"reference_motif {name!r} needs {meme}, which does not exist; fix reference_dir "
                        f"(the shipped data/reference) or leave reference_motif None")
    known = list(rmotifs.read_meme(meme))
    table = Path(reference_dir) / RBP_MAP
    if table.is_file():
        known += sorted(set(pd.read_csv(table, sep="\t", comment="#", dtype=str)["rbp_2009"].dropna()))
    if name in known:
        return
    lower = {k.lower(): k for k in known}
    number = re.fullmatch(r"rncmpt0*(\d{1,5})", name.strip().lower())  # an id with a digit too few or too many
    close = [f"rncmpt{int(number.group(1)):05d}"] if number else []
    close = [c for c in close if c in lower] or difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=0.8)
    hint = f"did you mean {lower[close[0]]}?" if close else f"known: {', '.join(known[:3])}, ... ({len(known)})"
    raise DataError(f"reference_motif {name!r} is not a motif id of {meme} nor a 2009 RBP of {RBP_MAP}; {hint} "
                    f"(None: the experiment's own motif)")


# --------------------------------------------------------------------------- the battery's parts


@dataclass(frozen=True)
class ReferenceMatch:
    """The best match of a GIA motif among an experiment's RNAcompete motifs (:func:`compare_with_reference`).

    ``n_references`` motifs were compared; the others are ``None`` when there was none."""

    n_references: int
    reference: str | None = None
    name: str | None = None
    consensus: str | None = None
    r: float | None = None
    offset: int | None = None
    overlap: int | None = None

    def similarity(self) -> dict[str, Any] | None:
        """``{r, offset, overlap}`` of the best match, ``None`` without one."""
        return None if self.r is None else {"r": self.r, "offset": self.offset, "overlap": self.overlap}


def compare_with_reference(pfm: np.ndarray, experiment: str, reference_dir: str | os.PathLike) -> ReferenceMatch:
    """Best-offset Pearson similarity of a GIA motif with the experiment's RNAcompete motif(s)
    (:func:`reference_motifs`): the best-matching id, its protein name, consensus, ``r``, offset and overlap."""
    refs = reference_motifs(experiment, reference_dir)
    scored = [(ref, rmotifs.motif_similarity(pfm, ref)) for ref in refs]
    if not scored:
        return ReferenceMatch(0)
    ref, sim = max(scored, key=lambda pair: pair[1].r)  # the first of equals, as the reference order
    return ReferenceMatch(len(refs), ref.id, ref.name, ref.consensus, float(sim.r), int(sim.offset), int(sim.overlap))


@dataclass(frozen=True)
class KdRegression:
    """ln Kd of the RBFOX1 heptamers (Auweter et al. 2006) against their global importance (Fig 2f)."""

    r2: float
    p: float
    slope: float
    patterns: tuple[str, ...]
    global_importance: np.ndarray
    ln_kd: np.ndarray
    rbfox1_like: bool | None = None

    def to_record(self) -> dict[str, Any]:
        """Record of kind ``kd``."""
        return make_record("kd", r2=self.r2, p=self.p, slope=self.slope, n=len(self.patterns),
                           patterns=list(self.patterns), global_importance=self.global_importance, ln_kd=self.ln_kd,
                           rbfox1_like=self.rbfox1_like)


def kd_regression(session: GIA, kd_path: str | os.PathLike, start: int = paper.MOTIF_START,
                  rbfox1_like: bool | None = None) -> KdRegression | None:
    """ln Kd of the RBFOX1 heptamers regressed on their global importance at ``start`` (Fig 2f);
    ``None`` without the Kd table."""
    if not Path(kd_path).is_file():
        return None
    kd = pd.read_csv(kd_path, comment="#")
    gi = np.array([imp.mean for imp in session.importances([[(p, int(start))] for p in kd["pattern"]])])
    ln_kd = np.log(kd["kd_nM"].to_numpy(float))
    fit = linear_fit(gi, ln_kd)
    return KdRegression(fit.r2, fit.pvalue, fit.slope, tuple(kd["pattern"]), gi, ln_kd, rbfox1_like)


@dataclass(frozen=True)
class ScanSummary:
    """What the battery's k-mer scans found and cost (record kind ``battery_scan``)."""

    k: int
    start: int
    ranking: str  # the scan the battery ranks by: "exhaustive" when it ran, else "adaptive"
    evaluations: dict[str, int]
    top10_shared: int | None  # top-10 k-mers both scans share (None: one scan ran)
    top_kmer: str
    n_significant_q05: int  # the model's responses at q <= 0.05 (not motifs: a model that learnt nothing has them)
    top_contains_known: bool
    n_kmers: int
    standout: Standout  # does the top k-mer stand out from all k-mers' importances

    def to_record(self) -> dict[str, Any]:
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return make_record("battery_scan", **fields | {"standout": self.standout.to_record()})


@dataclass(frozen=True, eq=False)
class Battery:
    """Everything :func:`run_battery` measured on one experiment: the result objects (their local importances
    kept, for the figures); :meth:`to_record` is its JSON record, made of their records."""

    experiment: str
    scan: pd.DataFrame  # the ranked scan table (kmer, mean, ci_low, ci_high, sd, pvalue, qvalue, n)
    scan_summary: ScanSummary
    mutagenesis: MotifMutagenesis
    alignment: rmotifs.KmerAlignment
    reference: ReferenceMatch
    references: tuple[rmotifs.Motif, ...]
    multiplicity: Mapping[str, Multiplicity]  # "optimal", "suboptimal"
    spacing: Spacing
    gc: GCBias
    ism: IsmGC3 | None
    kd: KdRegression | None
    background: Mapping[str, Any]  # {"kind", "n"}
    padding: str
    known_motif: str | None
    positions: Mapping[str, Any]  # 0-based starts: multiplicity_starts, gc_starts, kmer_start
    seconds: Mapping[str, float] = field(default_factory=dict)
    # background kind -> headline verdicts as computed there; to_record() gates them as headlines() does
    sensitivity: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def motif_stands_out(self) -> bool:
        """Whether there is a motif to characterize: the motif is not the scan's top k-mer, or that k-mer stands
        out (:func:`rbgia.scan.standout`); otherwise every verdict about the motif is "undetermined"."""
        return motif_stands_out(self.scan_summary.standout.verdict, self.scan_summary.top_kmer, self.motif)

    def headlines(self) -> dict[str, str]:
        """This battery's own headline verdicts (:data:`HEADLINES`), as :func:`headline_verdicts` names them."""
        found = self.scan_summary.standout.verdict
        top = (found if found == "no motif" or self.scan_summary.top_kmer == self.motif
               else f"{found}: {self.scan_summary.top_kmer}")
        return self._gated({"top k-mer": top, "multiplicity": self.multiplicity["optimal"].verdict,
                            "spacing": "; ".join(self.spacing.verdicts), "GC 3' end": self.gc.verdict3,
                            "GC biased end": self.gc.biased_end})

    def _gated(self, headlines: Mapping[str, str]) -> dict[str, str]:
        """Headline verdicts with those about the motif through :func:`rbgia.verdicts.motif_gate`."""
        about = {name: v for name, v in headlines.items() if name != "top k-mer"}
        return {"top k-mer": headlines["top k-mer"], **motif_gate(about, self.motif_stands_out)}

    @property
    def motif(self) -> str:
        return self.multiplicity["optimal"].motif

    @property
    def holm(self) -> pd.DataFrame:
        """The battery's tests, one row each: ``test``, ``verdict`` (as its rule gave it), ``null`` (its null word),
        ``p``, ``adjusted p`` (Holm across the battery), ``final`` (a claim whose adjusted p is not below
        alpha becomes ``"undetermined"``, and so does every test of a motif that does not stand out) and
        ``reason`` (``"Holm"``, ``"no motif"`` or ``""``: why ``final`` differs)."""
        rows = [(f"multiplicity, {name}", m.verdict, "additive", m.vs_additive.pvalue)
                for name, m in self.multiplicity.items()]
        rows += [(f"spacing {a + 1}+{b + 1}", v, "additive", e.pvalue)
                 for (a, b), v, e in zip(self.spacing.pairs, self.spacing.verdicts, self.spacing.vs_additive)]
        g = self.gc
        rows += [("GC 5'", g.verdict5, "adds", g.interaction5.pvalue), ("GC 3'", g.verdict3, "adds",
                                                                         g.interaction3.pvalue),
                 ("GC biased end", g.biased_end, "none", g.bias.pvalue)]
        if self.ism is not None:
            rows.append(("ISM 3' G/C", self.ism.verdict, "no 3' bias", self.ism.pvalue))
        table = pd.DataFrame(rows, columns=["test", "verdict", "null", "p"])
        table["adjusted p"] = holm(table["p"].to_numpy(float))
        table["final"] = [holm_demoted(v, a, n) for v, a, n in zip(table["verdict"], table["adjusted p"],
                                                                   table["null"])]
        table["reason"] = np.where(table["final"] != table["verdict"], "Holm", "")
        if not self.motif_stands_out:  # the ISM test is of the probes, not of the motif
            about = table["test"] != "ISM 3' G/C"
            table.loc[about, "final"] = UNDETERMINED
            table.loc[about, "reason"] = "no motif"
        return table

    def alignment_record(self) -> dict[str, Any]:
        """The GIA alignment motif against its best RNAcompete motif (kind ``alignment``)."""
        ref = self.reference
        return make_record("alignment", consensus=self.alignment.consensus, top=len(self.alignment.kmers),
                           reference=ref.reference, reference_name=ref.name, reference_consensus=ref.consensus,
                           n_references=ref.n_references, similarity=ref.similarity())

    def to_record(self, test_pearson: float | None = None) -> dict[str, Any]:
        """Record of kind ``battery`` (keys: :data:`rbgia.chapters.records.SCHEMAS`): the results' ``to_record()``
        with the verdicts after Holm's correction across the battery (:attr:`holm`, kept as ``holm``), the top 10
        k-mers of :func:`rbgia.records.scan_record`, the alignment against the RNAcompete motif."""
        return _with_holm(make_record(
            "battery", experiment=self.experiment, test_pearson=test_pearson, background=dict(self.background),
            background_padding=self.padding, known_motif=self.known_motif, motif=self.motif,
            scan=self.scan_summary, top_kmers=scan_record(self.scan, 10)["top_kmers"], mutagenesis=self.mutagenesis,
            alignment=self.alignment_record(), multiplicity=dict(self.multiplicity),
            spacing_reference=self.spacing.reference, spacing=self.spacing, gc=self.gc, ism_gc3=self.ism, kd=self.kd,
            positions=dict(self.positions), seconds=dict(self.seconds), holm=self.holm.to_dict("records"),
            sensitivity={self.background["kind"]: self.headlines(),
                                         **{kind: self._gated(h) for kind, h in self.sensitivity.items()}}))


def _with_holm(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with each test's verdict replaced by its ``final`` one (Holm across the battery), the rule told."""
    family = {row["test"]: row for row in record["holm"]}
    parts = {f"multiplicity, {name}": part for name, part in record["multiplicity"].items()}
    parts |= {f"spacing {p['start_1'] + 1}+{p['start_2'] + 1}": p for p in record["spacing"]["pairs"]}
    parts |= {"GC 5'": record["gc"]["interaction5"], "GC 3'": record["gc"]["interaction3"],
              "GC biased end": record["gc"]["bias"]}
    if record["ism_gc3"] is not None:
        parts["ISM 3' G/C"] = record["ism_gc3"]
    for test, part in parts.items():
        row = family[test]
        if row["final"] != part["verdict"]:
            part["verdict"] = row["final"]
            if "rule" in part:
                part["rule"] += (f"; {NO_MOTIF_RULE}" if row.get("reason") == "no motif" else
                                 f"; not after Holm's correction across the battery's {len(family)} tests "
                                 f"(adjusted p = {row['adjusted p']:.2g})")
    return record


def _scans(session: GIA, k: int, start: int, scan: str, n_screen: int, seed: int, clock: dict[str, float]
           ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], dict[str, int]]:
    """The ranked scan table (the exhaustive one when it ran), every scan run, and their evaluations."""
    if scan not in SCAN_MODES:
        raise DataError(f"scan={scan!r} is not an option; pass one of {', '.join(map(repr, SCAN_MODES))}")
    scans, evaluations = {}, {}
    if scan in ("exhaustive", "both"):
        with _timed(clock, "exhaustive scan"):
            scans["exhaustive"] = kmer_scan(session, k=k, start=start)
        evaluations["exhaustive"] = 4**k * session.n + session.n
    if scan in ("adaptive", "both"):
        with _timed(clock, "adaptive scan"):
            ad = adaptive_kmer_scan(session, k=k, start=start, n_screen=min(n_screen, session.n - 1), seed=seed)
        scans["adaptive"], evaluations["adaptive"] = ad.table, ad.n_evaluations
        evaluations.setdefault("exhaustive", ad.n_exhaustive)
    return scans.get("exhaustive", scans.get("adaptive")).copy(), scans, evaluations


def _scan_summary(ranked: pd.DataFrame, scans: Mapping[str, pd.DataFrame], evaluations: dict[str, int], k: int,
                  start: int, known: str | None) -> ScanSummary:
    shared = (len(set(scans["exhaustive"]["kmer"].head(10)) & set(scans["adaptive"]["kmer"].head(10)))
              if len(scans) == 2 else None)
    top = str(ranked["kmer"].iloc[0])
    return ScanSummary(k=int(k), start=int(start), ranking="exhaustive" if "exhaustive" in scans else "adaptive",
                       evaluations=evaluations, top10_shared=shared, top_kmer=top,
                       n_significant_q05=int((ranked["qvalue"] <= ALPHA).sum()),
                       top_contains_known=bool(known) and known in top, n_kmers=len(ranked),
                       standout=standout(ranked))


SENSITIVITY = ("dinuc", "quartile1")  # the other backgrounds a battery's headline verdicts are recomputed on
HEADLINES = ("top k-mer", "multiplicity", "spacing", "GC 3' end", "GC biased end")


def headline_verdicts(model: Any, data: Any, motif: str, background: str, *, num_background: int, k: int,
                      kmer_start: int, multiplicity_starts: Sequence[int], spacing_pairs: Sequence[Sequence[int]],
                      spacing_reference: int, gc_starts: Sequence[int], n_screen: int, n_boot: int, seed: int
                      ) -> dict[str, str]:
    """The battery's headline verdicts (:data:`HEADLINES`) on another ``background`` kind, for its sensitivity
    (the motif: the profile battery's; the top k-mer verdict: whether this background's scan finds it)."""
    bg = backgrounds.make_background(background, data.train.x[..., :4], n=num_background, seed=seed,
                                     y=data.train.y[:, 0])
    session = GIA(model, bg)
    scan = adaptive_kmer_scan(session, k=k, start=kmer_start, n_screen=min(n_screen, len(bg) - 1), seed=seed)
    top = standout(scan)
    spaced = spacing(session, motif, [tuple(p) for p in spacing_pairs], spacing_reference, on_conflict="skip",
                     n_boot=n_boot, seed=seed)
    gc = gc_bias(session, motif, kmer_start, paper.GC_MOTIF, tuple(gc_starts), n_boot=n_boot, seed=seed)
    found = top.verdict if top.verdict == "no motif" or top.kmer == motif else f"{top.verdict}: {top.kmer}"
    return {"top k-mer": found, "multiplicity": multiplicity(session, motif, multiplicity_starts, n_boot=n_boot,
                                                             seed=seed).verdict,
            "spacing": "; ".join(spaced.verdicts), "GC 3' end": gc.verdict3, "GC biased end": gc.biased_end}


@contextlib.contextmanager
def _timed(clock: dict[str, float], step: str) -> Iterator[None]:
    t0 = time.perf_counter()
    yield
    clock[step] = time.perf_counter() - t0


def run_battery(
    model: Any, data: Any, experiment: str, *, data_dir: str | os.PathLike | None = None,
    reference_dir: str | os.PathLike = "data/reference", reference_motif: str | None = None,
    background: str = "profile", num_background: int = 300, padding: str = "source", k: int = paper.KMER_LENGTH,
    kmer_start: int = paper.MOTIF_START, scan: str = "adaptive", n_screen: int = 50, motif: str | None = None,
    suboptimal_motif: str | None = None, multiplicity_starts: Sequence[int] = paper.MULTIPLICITY_STARTS,
    spacing_pairs: Sequence[Sequence[int]] = paper.SPACING_PAIRS, spacing_reference: int = paper.SPACING_REFERENCE,
    gc_motif: str = paper.GC_MOTIF, gc_starts: Sequence[int] = paper.GC_STARTS, top_align: int = 10,
    n_boot: int = 2000, n_ism: int = 10, kd_path: str | os.PathLike | None = None, kd_check: bool | None = None,
    sensitivity: Sequence[str] = SENSITIVITY, seed: int = 0,
) -> Battery:
    """The paper's GIA experiments on one trained sequence model (Fig 2b-g, 4a-e).

    The k-mer scan (``scan``: one of :data:`SCAN_MODES`; the ranking is the exhaustive one when run) with
    q-values; mutagenesis of the top k-mer (or ``motif``); the top-``top_align`` alignment motif against the
    RNAcompete motif(s) (:func:`compare_with_reference`); multiplicity of the motif and of a sub-optimal one
    (:func:`rbgia.paper.suboptimal_motif`); spacing; GC bias; ISM of the ``n_ism`` top predicted test probes
    (:func:`rbgia.chapters.gc.ism_gc3`); with ``kd_path``, the RBFOX1 Kd regression (``kd_check`` ``None``:
    only for an RBFOX1-like motif or experiment); the headline verdicts again on each ``sensitivity`` background
    kind (:func:`headline_verdicts`). Seconds per step are in ``seconds``.
    """
    if reference_motif is not None:  # before any work: a misspelt name would skip the comparison
        check_reference_motif(reference_motif, reference_dir)
    clock: dict[str, float] = {}
    with _timed(clock, "total"):
        bg = backgrounds.make_background(background, data.train.x[..., :4], n=num_background, seed=seed,
                                         y=data.train.y[:, 0], **({"padding": padding} if background == "profile"
                                                                  else {}))
        session = GIA(model, bg)
        ranked, scans, evaluations = _scans(session, k, kmer_start, scan, n_screen, seed, clock)
        motif = motif or str(ranked["kmer"].iloc[0])
        with _timed(clock, "mutagenesis and motif"):
            mm = motif_mutagenesis(session, motif, start=kmer_start)
            alignment = rmotifs.align_kmers(ranked["kmer"], ranked["mean"], top=top_align)
            reference = compare_with_reference(alignment.pfm, reference_motif or experiment, reference_dir)
        with _timed(clock, "multiplicity, spacing, GC"):
            if suboptimal_motif is None:  # the paper's rule: the best of the 2-mismatch variants, each scored
                variants = paper.two_mismatch_variants(motif)
                scored = session.importances([[(v, kmer_start)] for v in variants])
                suboptimal_motif = paper.suboptimal_motif(motif, variants, [imp.mean for imp in scored])
            sub = suboptimal_motif
            mult = {name: multiplicity(session, m, multiplicity_starts, n_boot=n_boot, seed=seed)
                    for name, m in (("optimal", motif), ("suboptimal", sub))}
            spaced = spacing(session, motif, [tuple(p) for p in spacing_pairs], spacing_reference,
                             on_conflict="skip", n_boot=n_boot, seed=seed)
            gc = gc_bias(session, motif, kmer_start, gc_motif, tuple(gc_starts), n_boot=n_boot, seed=seed)
        with _timed(clock, "ISM and Kd"):
            ism = ism_gc3(model, data.test, n_top=n_ism) if n_ism else None
            rbfox1_like = paper.RBFOX1_MOTIF[1:] in motif or experiment in RBFOX1_EXPERIMENTS
            wants_kd = kd_path and (kd_check or (kd_check is None and rbfox1_like))
            kd = kd_regression(session, kd_path, kmer_start, rbfox1_like) if wants_kd else None
        with _timed(clock, "other backgrounds"):
            others = {kind: headline_verdicts(
                model, data, motif, kind, num_background=num_background, k=k, kmer_start=kmer_start,
                multiplicity_starts=multiplicity_starts, spacing_pairs=spacing_pairs,
                spacing_reference=spacing_reference, gc_starts=gc_starts, n_screen=n_screen,
                n_boot=min(n_boot, 500), seed=seed) for kind in sensitivity if kind != background}
    known = rmotifs.known_motif(data_dir or ".", experiment, reference_dir)
    positions = {"multiplicity_starts": [int(s) for s in multiplicity_starts], "gc_starts": [int(s) for s in gc_starts],
                 "kmer_start": int(kmer_start)}
    summary = _scan_summary(ranked, scans, evaluations, k, kmer_start, known)
    return Battery(experiment, ranked, summary, mm, alignment, reference,
                   tuple(reference_motifs(reference_motif or experiment, reference_dir)), mult, spaced, gc, ism, kd,
                   {"kind": background, "n": len(bg)}, padding, known, positions, clock, others)


def write_battery(results_dir: str | os.PathLike, battery: Battery, extra: Mapping[str, Any] | None = None) -> Path:
    """Write the battery's record (``results_dir/<experiment>/05_gia.json``; NaN stored as null); ``extra``
    (``config``, ``test_pearson``, ...) sets keys beside or over those of :meth:`Battery.to_record`."""
    record = {**battery.to_record((extra or {}).get("test_pearson")), **(extra or {})}
    return write_results(results_dir, record["experiment"], BATTERY, record, allow_nan=True)


# --------------------------------------------------------------------------- tables over experiments


def read_batteries(results_dir: str | os.PathLike, experiments: Sequence[str]) -> dict[str, Record]:
    """The battery records of ``experiments`` (those of the ``gia_*`` jobs), in order, read through
    :func:`rbgia.chapters.records.read_record` (attribute access, schema checked).

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


# --------------------------------------------------------------------------- figures (at most 3 panels a row)


def fig_scan(battery: Battery, top: int = 20):
    """The top k-mers with 95% CIs (paper Fig 2b's scan); k-mers close to the RNAcompete consensus in red."""
    from ..plotting import kmer_rank_plot, page_width

    fig, ax = _plt().subplots(figsize=(page_width(), 3.2))
    truth = (battery.reference.consensus or "").strip("N") or battery.known_motif
    kmer_rank_plot(battery.scan, top=top, truth=truth, max_mismatch=1, ax=ax,
                   title=f"{battery.experiment}: top {len(battery.motif)}-mers at 1-based "
                         f"{battery.scan_summary.start + 1}-{battery.scan_summary.start + len(battery.motif)}")
    fig.tight_layout()
    return fig


def fig_motifs(battery: Battery):
    """Motif mutagenesis L2 logo (Fig 2e/3b), the GIA alignment motif and the RNAcompete motif (Fig 4b)."""
    from ..plotting import l2_logo, logo, panels

    refs = {m.id: m for m in battery.references}
    ref = refs.get(battery.reference.reference)
    fig, axes = panels(3 if ref is not None else 2, height=2.6)
    mm = battery.mutagenesis
    # two-line titles: a third of the page holds about 20 characters at 10 pt
    l2_logo(mm.importance, mm.kmer, ax=axes[0], title=f"GIA mutagenesis\nof {mm.kmer} (L2)", start=1)  # 1-based
    logo(battery.alignment.pfm, ax=axes[1], kind="information", title=f"GIA motif\n{battery.alignment.consensus}",
         start=1)
    if ref is not None:
        r = battery.reference.r
        logo(ref.pfm, ax=axes[2], kind="information", title=f"RNAcompete {ref.name}\n(r = {r:.2f})", start=1)
    for ax in axes:
        ax.title.set_fontsize(10)
    fig.tight_layout()
    return fig


def fig_variants(battery: Battery):
    """Fig 2e / 3b: the L2 logo of the motif mutagenesis beside the global importance of every variant."""
    from ..plotting import mutagenesis_panels

    mm = battery.mutagenesis
    return mutagenesis_panels(mm.importance, mm.kmer, mm.ci_low, mm.ci_high, title=f"{battery.experiment}: {mm.kmer}")


def fig_multiplicity(battery: Battery):
    """Local importance of 1..n copies of the top and the sub-optimal k-mer (Fig 2b, 2c) with the verdicts."""
    from ..plotting import local_importance_boxplot, panels

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
    """Fig 2d: left, the paper's statistic, box plots of the local importance of one copy and of each pair (median
    and global importance marked); right, the verdicts' statistic, two copies over the two alone (1 = additive)."""
    sp = battery.spacing
    from ..plotting import local_importance_boxplot, panels

    fig, (left, right) = panels(2, height=3.4)
    local_importance_boxplot(sp, ax=left, fit=False, xlabel="copies (1-based starts)",
                             title=f"{battery.experiment}: {battery.motif}")
    short = [t.get_text().split(" (gap")[0] for t in left.get_xticklabels()]  # the gaps are on the right panel
    left.set_xticks(left.get_xticks(), short, rotation=45, ha="right", fontsize=8)
    labels = [f"{a + 1} & {b + 1}\n(gap {b - a - len(sp.motif)})" for a, b in sp.pairs]
    y = np.array([e.mean for e in sp.vs_additive], float)
    err = np.abs(np.vstack([y - [e.ci_low for e in sp.vs_additive], [e.ci_high for e in sp.vs_additive] - y]))
    right.bar(labels, y, yerr=err, color="C0", capsize=4)
    right.axhline(1, color="C3", ls="--", lw=1)
    right.set_ylabel("two copies / the two alone")
    right.set_xlabel("1-based starts of the two copies")
    right.tick_params(axis="x", labelsize=8)
    right.set_title("the verdicts' statistic", fontsize=10)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- chapter helpers


def top_kmers_of(results_dir: str | os.PathLike, experiment: str) -> list[Record] | None:
    """The ``top_kmers`` of an experiment's battery record, or ``None`` when it has none yet."""
    if not results_path(results_dir, experiment, BATTERY).is_file():
        return None
    return read_record(results_dir, experiment, BATTERY, "top_kmers", kind="battery")


def battery_findings(rec: Mapping[str, Any]) -> str:
    """The chapter's closing sentences, each claim word beside the statistic and the rule it comes from."""
    r = as_record(rec)
    m, g, i, a, so = r.multiplicity.optimal, r.gc, r.ism_gc3, r.alignment, r.scan.standout
    q = r.top_kmers[0].get("qvalue")
    lines = [f"- Top {len(r.motif)}-mer **{r.motif}**: **{so.verdict}** (robust z {_f(so.z, '.3g')} among "
             f"{so.n_kmers} k-mers, p = {_f(so.pvalue, '.2g')}). Its model-response q-value, {_f(q, '.2g')}, and the "
             f"{r.scan.n_significant_q05} k-mers at q <= 0.05 say the model responds to them, not that it learnt a "
             "motif."]
    if a.similarity:
        lines.append(f"- GIA motif {a.consensus} vs RNAcompete {a.reference} ({a.reference_name}, "
                     f"{a.reference_consensus}): r = {_f(a.similarity.r, '.2f')}.")
    v = m.vs_additive
    lines.append(f"- Multiplicity: {len(m.starts)} copies give {_f(m.ratio.mean, '.2f')}x one copy; against the sum "
                 f"of the copies alone {_f(v.mean, '.3g')} (95% CI {_f(v.ci_low, '.3g')} to {_f(v.ci_high, '.3g')}): "
                 f"**{m.verdict}**.")
    pairs = [f"{pair_label(p)}: {_f(e.mean, '.3g')} ({_f(e.ci_low, '.3g')} to {_f(e.ci_high, '.3g')}) **{p.verdict}**"
             for p in r.spacing.pairs if (e := p.vs_additive)]
    skipped = [f"{a + 1}+{b + 1}" for a, b in (r.spacing.skipped or [])]
    lines.append("- Spacing, two copies / the two copies alone: " + "; ".join(pairs) + (
        f"; not placed: {', '.join(skipped)} (the two copies overlap with different letters)" if skipped else "")
        + ".")
    i3, b = g.interaction3 or {}, g.bias or {}
    lines.append(f"- GC: at the 3' end the GC run **{i3.get('verdict')}** (interaction {_f(i3.get('mean'), '.3g')}, "
                 f"p = {_f(i3.get('pvalue'), '.2g')}); at the 5' end **{(g.interaction5 or {}).get('verdict')}**; "
                 f"biased end: **{b.get('verdict')}** (interaction 3' - 5' {_f(b.get('mean'), '.3g')}, "
                 f"p = {_f(b.get('pvalue'), '.2g')}).")
    if i:
        lines.append(f"- ISM of the top {i.n_probes} predicted probes: **{i.verdict}** (3' minus 5' G/C "
                     f"importance, median {_f(i.median_difference, '.3g')}, one-sided Wilcoxon p = "
                     f"{_f(i.pvalue, '.2g')}).")
    if any(row.get("reason") == "no motif" for row in r.holm):
        lines.append(f"- {NO_MOTIF_RULE[0].upper() + NO_MOTIF_RULE[1:]}: every verdict above about "
                     f"{m.motif} is **undetermined**.")
    held = [row for row in r.holm if row.final != row.verdict and row.get("reason") != "no motif"]
    lines.append(f"- Holm's correction across the battery's {len(r.holm)} tests: "
                 + ("every claim stands." if not held else "; ".join(f"{row.test}: {row.verdict} does not hold "
                                                                      f"(adjusted p = {_f(row['adjusted p'], '.2g')})"
                                                                      for row in held) + "."))
    return "\n".join(lines)


def holm_table(record: Mapping[str, Any]) -> pd.DataFrame:
    """The battery's tests from its record: the verdict its rule gave, its p, the Holm-adjusted p, the final verdict
    and why it differs ("Holm", "no motif")."""
    rows = as_record(record).holm
    columns = ["test", "verdict", "null", "p", "adjusted p", "final", "reason"]
    return pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=columns).drop(columns="null")


def scan_cost(record: Mapping[str, Any]) -> pd.DataFrame:
    """Model evaluations and seconds of the scans a battery ran (index: ``exhaustive`` / ``adaptive``)."""
    r = as_record(record)
    ev, sec = dict(r.scan.evaluations), r.seconds
    return pd.DataFrame({"model evaluations": ev, "seconds": {k: sec.get(f"{k} scan") for k in ev}})


