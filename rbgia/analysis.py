"""The real-data GIA battery of the book: one call per experiment, tables over experiments.

The chapters 04-08 call these functions; each returns a table, a figure or a record, so the
notebooks hold no loops. Every claim word the book prints ("additive", "hindrance", "prefers
loops", "3' bias", "amplifies") is a ``verdict`` returned here beside the statistic it comes from.

Positions are 0-based. :data:`PAPER_POSITIONS` follow the paper's text (multiplicity at 1-based
4-9, 11-16, 18-23; GC runs at the very 5' and 3' ends; the hairpin loop at 1-based 17-22);
:data:`PUBLIC_POSITIONS` are those of the authors' public code.
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
from .embedding import merge_copies
from .errors import DataError, PatternError
from .experiments import gc_bias, motif_mutagenesis
from .mutagenesis import ism, ism_l2
from .results import read_results, results_path, write_results
from .scan import adaptive_kmer_scan, kmer_scan
from .session import GIA
from .stats import bh_qvalues, importance, summary, wilcoxon_paired
from .stemloop import PAPER_PARTNER, PAPER_STEM

PAPER_POSITIONS: dict[str, Any] = {
    "kmer_start": 17, "multiplicity_starts": (3, 10, 17), "gc_starts": (0, 35), "loop_start": 16, "stem_start": 8,
}
PUBLIC_POSITIONS: dict[str, Any] = {**PAPER_POSITIONS, "multiplicity_starts": (4, 12, 20), "gc_starts": (2, 34)}
MEME = "ray2013_rnacompete_motifs.meme"
RBP_MAP = "rbp_2009_to_2013.tsv"
BATTERY = "05_gia"
ALPHA = 0.05


# --------------------------------------------------------------------------- small statistics


def _boot_idx(n: int, n_boot: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(int(n_boot), n))


def _pct(v: np.ndarray) -> tuple[float, float]:
    v = v[np.isfinite(v)]
    if not v.size:
        return float("nan"), float("nan")
    lo, hi = np.percentile(v, [2.5, 97.5])
    return float(lo), float(hi)


def ratio_ci(num: np.ndarray, den: np.ndarray, n_boot: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """Ratio of the means of two paired local-importance vectors and its paired-bootstrap 95% CI.

    NaN (not inf) when the denominator's mean is 0: a ratio to no effect is undefined.
    """
    num, den = np.asarray(num, float), np.asarray(den, float)
    if num.shape != den.shape:
        raise DataError(f"ratio of {num.size} and {den.size} local importances; measure both on the same backgrounds")
    idx = _boot_idx(num.size, n_boot, seed)
    with np.errstate(divide="ignore", invalid="ignore"):
        boot = num[idx].mean(1) / den[idx].mean(1)
        est = num.mean() / den.mean() if den.mean() != 0 else float("nan")
    boot[~np.isfinite(boot)] = np.nan
    return (float(est), *_pct(boot))


def _imp_dict(local: np.ndarray) -> dict[str, float]:
    imp = importance(local)
    return {"mean": imp.mean, "ci_low": imp.ci95[0], "ci_high": imp.ci95[1], "pvalue": imp.pvalue, "n": imp.n}


def _quantiles(local: np.ndarray) -> list[float]:
    return [float(v) for v in np.quantile(np.asarray(local, float), [0.05, 0.25, 0.5, 0.75, 0.95])]


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
    session: GIA, motif: str, starts: Sequence[int], *, n_boot: int = 2000, seed: int = 0, tolerance: float = 0.15,
) -> dict[str, Any]:
    """1..n copies of ``motif``: the paper's fit, the n-to-1 copy ratio with its CI, and a verdict.

    Rule (documented in the methods page): with the single copy significant (p < 0.05, mean > 0),
    the effect is ``additive`` when the 95% CI of (n copies / 1 copy) overlaps
    ``[n (1 - tolerance), n (1 + tolerance)]``, ``sub-additive`` when it lies below, ``super-additive``
    above; ``no effect`` otherwise.
    """
    starts = [int(s) for s in starts]
    local = session.local([merge_copies(motif, starts[:c]) for c in range(1, len(starts) + 1)])
    s = summary(local)
    counts = np.arange(1, len(starts) + 1, dtype=float)
    fit = np.polyfit(counts, s["mean"], 1) if len(starts) > 1 else (np.nan, np.nan)
    pred = np.polyval(fit, counts)
    ss = float(((s["mean"] - s["mean"].mean()) ** 2).sum())
    r2 = float(1 - ((s["mean"] - pred) ** 2).sum() / ss) if ss > 0 else float("nan")
    slope0 = float((counts * s["mean"]).sum() / (counts**2).sum())
    n = len(starts)
    ratio, lo, hi = ratio_ci(local[-1], local[0], n_boot, seed)
    if not (s["mean"][0] > 0 and s["pvalue"][0] < ALPHA):
        verdict = "no effect"
    elif hi < n * (1 - tolerance):
        verdict = "sub-additive"
    elif lo > n * (1 + tolerance):
        verdict = "super-additive"
    else:
        verdict = "additive"
    return {
        "motif": motif, "starts": starts, "counts": counts.astype(int).tolist(),
        "mean": s["mean"].tolist(), "ci_low": s["ci_low"].tolist(), "ci_high": s["ci_high"].tolist(),
        "pvalue": s["pvalue"].tolist(), "r2": r2, "slope": float(fit[0]), "intercept": float(fit[1]),
        "slope_origin": slope0, "ratio": ratio, "ratio_ci": [lo, hi], "expected_ratio": n,
        "tolerance": tolerance, "verdict": verdict, "local": local,
    }


def spacing_test(
    session: GIA, motif: str, pairs: Sequence[Sequence[int]], reference: int, *, n_boot: int = 2000, seed: int = 0,
) -> pd.DataFrame:
    """Two copies at each pair of starts against twice one copy at ``reference`` (paper Fig 2d).

    ``ratio`` = pair / (2 x single) with a paired-bootstrap CI; ``verdict``: ``hindrance`` (CI
    below 1), ``synergy`` (above 1), else ``additive``; pairs whose overlapping copies disagree are
    skipped (``attrs["skipped"]``).
    """
    configs, kept, skipped = [], [], []
    for pair in pairs:
        starts = tuple(sorted(int(p) for p in pair))
        try:
            configs.append(merge_copies(motif, starts))
            kept.append(starts)
        except PatternError:  # overlapping copies whose shared letters disagree
            skipped.append(starts)
    local = session.local(configs + [[(motif, int(reference))]])
    single = local[-1]
    rows = []
    for starts, loc in zip(kept, local[:-1]):
        ratio, lo, hi = ratio_ci(loc, 2 * single, n_boot, seed)
        verdict = "hindrance" if hi < 1 else "synergy" if lo > 1 else "additive"
        rows.append({"start_1": starts[0], "start_2": starts[1], "gap": starts[1] - starts[0] - len(motif),
                     **_imp_dict(loc), "ratio_to_2x": ratio, "ratio_ci_low": lo, "ratio_ci_high": hi,
                     "verdict": verdict})
    df = pd.DataFrame(rows, columns=["start_1", "start_2", "gap", "mean", "ci_low", "ci_high", "pvalue", "n",
                                     "ratio_to_2x", "ratio_ci_low", "ratio_ci_high", "verdict"])
    df.attrs.update(skipped=skipped, single=_imp_dict(single))
    return df


def gc_test(
    session: GIA, motif: str, motif_start: int, gc_motif: str = "GCGCGC", gc_starts: Sequence[int] = (0, 35), *,
    n_boot: int = 2000, seed: int = 0,
) -> dict[str, Any]:
    """The paper's GC-bias test (Fig 4c-e) with the amplify-or-add test at each end.

    Effect sizes are :func:`rbgia.gia.gc_bias`'s (motif + GC / motif). The interaction at an end is
    the paired local ``(motif + GC) - motif - GC alone`` (mean, t CI, p): ``amplifies`` when it is
    significantly positive, ``dampens`` when negative; otherwise ``adds`` when GC alone has a
    significant effect of its own, else ``no effect``.
    """
    gc = gc_bias(session, None, motif, motif_start=motif_start, gc_motif=gc_motif, gc_starts=tuple(gc_starts),
                 n_boot=n_boot, seed=seed)
    gc5_alone = session.local([[(gc_motif, int(gc_starts[0]))]])[0]
    out: dict[str, Any] = {
        "motif": motif, "motif_start": int(motif_start), "gc_motif": gc_motif, "gc_starts": [int(s) for s in gc_starts],
        "importance": {"motif": _imp_dict(gc.motif.local), "motif_gc5": _imp_dict(gc.motif_gc5.local),
                       "motif_gc3": _imp_dict(gc.motif_gc3.local), "gc5": _imp_dict(gc5_alone),
                       "gc3": _imp_dict(gc.gc3.local)},
        "effect5": gc.effect5, "effect5_ci": list(gc.effect5_ci), "effect3": gc.effect3,
        "effect3_ci": list(gc.effect3_ci), "diff": gc.diff, "diff_ci": list(gc.diff_ci),
        "motif_significant": bool(gc.motif.mean > 0 and gc.motif.pvalue < ALPHA),
    }
    for end, with_gc, alone in (("5", gc.motif_gc5.local, gc5_alone), ("3", gc.motif_gc3.local, gc.gc3.local)):
        inter = _imp_dict(with_gc - gc.motif.local - alone)
        solo = _imp_dict(alone)
        if inter["pvalue"] < ALPHA:
            verdict = "amplifies" if inter["mean"] > 0 else "dampens"
        else:
            verdict = "adds" if solo["pvalue"] < ALPHA and solo["mean"] > 0 else "no effect"
        out[f"interaction{end}"] = {**inter, "verdict": verdict}
    out["bias_end"] = ("3'" if gc.diff_ci[1] < 0 else "5'" if gc.diff_ci[0] > 0 else "none") if np.isfinite(
        gc.diff) else "undefined"
    return out


def fold_check(designed: np.ndarray, stem: tuple[int, int], partner: tuple[int, int], *, min_fraction: float = 0.8
               ) -> dict[str, Any]:
    """How many designed stem-loop backgrounds fold (ViennaRNA MFE) into the intended stem.

    A background folds as intended when at least ``min_fraction`` of its stem positions pair
    (``(`` in the dot-bracket) and as many partner positions close (``)``).
    """
    from .sequence import decode
    from .structure import mfe

    designed = np.asarray(designed)
    ok = []
    for x, seq in zip(designed, decode(designed[..., :4])):
        present = np.flatnonzero(x[:, :4].sum(-1) > 0)
        first = int(present[0]) if present.size else 0  # decode drops the leading padding
        db = mfe(seq)[0] if seq else ""
        sl = [db[i - first] if 0 <= i - first < len(db) else "." for i in range(*stem)]
        pl = [db[i - first] if 0 <= i - first < len(db) else "." for i in range(*partner)]
        ok.append(sl.count("(") >= min_fraction * len(sl) and pl.count(")") >= min_fraction * len(pl))
    return {"n_designed": len(ok), "n_folded": int(np.sum(ok)), "fraction_folded": float(np.mean(ok)) if ok else 0.0,
            "min_fraction": min_fraction}


def hairpin_test(
    predict: Any, background: np.ndarray, motif: str, loop_start: int = 16, stem_start: int = 8,
    stem: tuple[int, int] = PAPER_STEM, partner: tuple[int, int] = PAPER_PARTNER, *,
    recompute_structure: bool | str = False, n_boot: int = 2000, seed: int = 0, n_fold: int = 100,
) -> dict[str, Any]:
    """The motif in a stem-loop's loop and stem and at the same starts of unstructured backgrounds (Fig 3c).

    The structure effect is the difference in differences
    ``(hairpin loop - unstructured at loop start) - (stem - unstructured at stem start)`` per background
    (the stem-loop backgrounds are made from the same backgrounds, so the four are paired), with a
    bootstrap CI and a paired t-test p; ``verdict`` is ``prefers loops`` (CI above 0), ``prefers stems``
    (below) or ``no structure preference``. ``folding`` is :func:`fold_check` on ``n_fold`` designed
    backgrounds with the motif in the loop.
    """
    from .embedding import embed

    flat = GIA(predict, background, recompute_structure=recompute_structure)
    hp = GIA(flat.predict, background, stem_loop=(stem, partner), recompute_structure=recompute_structure)
    configs = [[(motif, int(loop_start))], [(motif, int(stem_start))]]
    h, u = hp.local(configs), flat.local(configs)
    did = (h[0] - u[0]) - (h[1] - u[1])
    boot = did[_boot_idx(did.size, n_boot, seed)].mean(1)
    lo, hi = _pct(boot)
    imp = importance(did)
    verdict = "prefers loops" if lo > 0 else "prefers stems" if hi < 0 else "no structure preference"
    designed = embed(hp.background[:n_fold, :, :4], configs[0], stem_loop=(stem, partner))
    locals_ = {"hairpin loop": h[0], "hairpin stem": h[1], "unstructured at loop": u[0], "unstructured at stem": u[1]}
    return {
        "motif": motif, "loop_start": int(loop_start), "stem_start": int(stem_start), "stem": list(stem),
        "partner": list(partner),
        "importance": {k: {**_imp_dict(v), "quantiles": _quantiles(v)} for k, v in locals_.items()},
        "structure_effect": {"mean": imp.mean, "ci_low": lo, "ci_high": hi, "pvalue": imp.pvalue, "n": imp.n,
                             "verdict": verdict},
        "loop_minus_stem": float(h[0].mean() - h[1].mean()),
        "folding": fold_check(designed, stem, partner), "local": locals_,
    }


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
    against the 5' values over the probes; ``verdict`` ``3' bias`` when one-sided p < 0.05.
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
    rec = {"n_probes": int(len(idx)), "window": window, "gc3_l2": float(three.mean()), "gc5_l2": float(five.mean())}
    try:
        t = wilcoxon_paired(three, five, alternative="greater")
        rec.update(median_difference=t.median_difference, statistic=t.statistic, pvalue=t.pvalue)
    except DataError:
        rec.update(median_difference=0.0, statistic=float("nan"), pvalue=float("nan"))
    rec["verdict"] = "3' bias" if np.isfinite(rec["pvalue"]) and rec["pvalue"] < ALPHA else "no 3' bias"
    return rec


# --------------------------------------------------------------------------- the battery of one experiment


def kd_regression(session: GIA, kd_path: str | os.PathLike, start: int = 17) -> dict[str, Any] | None:
    """ln Kd of the RBFOX1 heptamers (Auweter et al. 2006) regressed on their global importance (Fig 2f)."""
    from scipy import stats as sstats

    if not Path(kd_path).is_file():
        return None
    kd = pd.read_csv(kd_path, comment="#")
    gi = np.array([imp.mean for imp in session.importances([[(p, int(start))] for p in kd["pattern"]])])
    fit = sstats.linregress(gi, np.log(kd["kd_nM"].to_numpy(float)))
    return {"r2": float(fit.rvalue**2), "p": float(fit.pvalue), "slope": float(fit.slope), "n": int(len(kd)),
            "patterns": kd["pattern"].tolist(), "global_importance": gi.tolist(),
            "ln_kd": np.log(kd["kd_nM"].to_numpy(float)).tolist()}


@dataclass(eq=False)
class Battery:
    """Everything :func:`run_battery` measured on one experiment; :meth:`to_record` is its JSON record."""

    experiment: str
    scan: pd.DataFrame
    mutagenesis: Any
    alignment: Any
    reference: dict
    references: list
    multiplicity: dict
    spacing: pd.DataFrame
    gc: dict
    ism: dict | None
    kd: dict | None
    info: dict = field(default_factory=dict)

    @property
    def motif(self) -> str:
        return self.multiplicity["optimal"]["motif"]

    def to_record(self) -> dict[str, Any]:
        top = self.scan.head(10)[[c for c in ("kmer", "mean", "ci_low", "ci_high", "pvalue", "qvalue")
                                  if c in self.scan.columns]]
        mult = {name: {k: v for k, v in m.items() if k != "local"} | {
            "quantiles": [_quantiles(row) for row in m["local"]]} for name, m in self.multiplicity.items()}
        single = self.spacing.attrs["single"]
        spacing = [{**r, "arrangement": f"{r['start_1']}+{r['start_2']}, gap {r['gap']}",
                    "ratio": r["mean"] / single["mean"] if single["mean"] else None}
                   for r in self.spacing.to_dict("records")]
        spacing.append({"arrangement": f"one at {self.info['spacing_reference']}",
                        "start_1": self.info["spacing_reference"], **single, "ratio": 1.0})
        sim = self.reference
        return {
            **{k: v for k, v in self.info.items() if k != "seconds_by_step"},
            "seconds": self.info.get("seconds_by_step", {}),
            "top_kmers": top.to_dict("records"),
            "motif": self.motif,
            "mutagenesis": {"kmer": self.mutagenesis.kmer, "l2": self.mutagenesis.l2,
                            "importance": self.mutagenesis.importance},
            "alignment": {"consensus": self.alignment.consensus, "top": len(self.alignment.kmers),
                          "reference": sim.get("reference"), "reference_name": sim.get("name"),
                          "reference_consensus": sim.get("consensus"), "n_references": sim.get("n_references"),
                          "similarity": None if sim.get("r") is None else
                          {k: sim[k] for k in ("r", "offset", "overlap")}},
            "multiplicity": mult,
            "spacing": spacing,
            "gc": self.gc,
            "ism_gc3": self.ism,
            "kd": self.kd,
        }


def run_battery(
    model: Any, data: Any, experiment: str, *, data_dir: str | os.PathLike | None = None,
    reference_dir: str | os.PathLike = "data/reference",
    reference_motif: str | None = None, background: str = "profile", num_background: int = 300,
    padding: str = "source", k: int = 6, kmer_start: int = 17, scan: str = "adaptive", n_screen: int = 50,
    motif: str | None = None, suboptimal_motif: str | None = None,
    multiplicity_starts: Sequence[int] = PAPER_POSITIONS["multiplicity_starts"],
    spacing_pairs: Sequence[Sequence[int]] = ((16, 20), (15, 21), (13, 22)), spacing_reference: int = 17,
    gc_motif: str = "GCGCGC", gc_starts: Sequence[int] = PAPER_POSITIONS["gc_starts"], top_align: int = 10,
    n_boot: int = 2000, n_ism: int = 10, kd_path: str | os.PathLike | None = None, seed: int = 0,
) -> Battery:
    """The paper's GIA experiments on one trained sequence model (Fig 2b-g, 4a-e).

    k-mer scan (``scan``: ``"adaptive"``, ``"exhaustive"`` or ``"both"``; the ranking is the
    exhaustive one when run) with q-values; mutagenesis of the top k-mer; the top-``top_align``
    alignment motif against the RNAcompete motif(s) (:func:`compare_with_reference`); multiplicity of
    the top and of a sub-optimal k-mer (:func:`multiplicity_test`); spacing (:func:`spacing_test`); GC
    bias (:func:`gc_test`); ISM of the ``n_ism`` top predicted test probes (:func:`ism_gc3`); with
    ``kd_path``, the RBFOX1 Kd regression. Seconds per step are in ``info["seconds_by_step"]``.
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
    mm = motif_mutagenesis(session, None, motif, start=kmer_start)
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
    kd = kd_regression(session, kd_path, kmer_start) if kd_path else None
    clock["ISM and Kd"] = time.perf_counter() - t1
    clock["total"] = time.perf_counter() - t0
    known = rmotifs.known_motif(data_dir or ".", experiment, reference_dir)
    info = {"experiment": experiment, "background": {"kind": background, "n": len(bg), "padding": padding},
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
    """Write the battery's record (``results_dir/<experiment>/05_gia.json``; NaN stored as null)."""
    record = {**battery.to_record(), **(extra or {})}
    return write_results(results_dir, record["experiment"], BATTERY, record, allow_nan=True)


# --------------------------------------------------------------------------- tables over experiments


def read_batteries(results_dir: str | os.PathLike, experiments: Sequence[str]) -> dict[str, dict]:
    """The battery records of ``experiments`` (those of the ``gia_*`` jobs), in order.

    Raises
    ------
    DataError
        A record is missing: names the experiment and the job that makes it.
    """
    missing = [e for e in experiments if not results_path(results_dir, e, BATTERY).is_file()]
    if missing:
        raise DataError(f"no {BATTERY} record for {missing} under {results_dir}; run the gia jobs first "
                        f"(python -m rbgia.book run, or papermill notebooks/{BATTERY}.ipynb -p experiment "
                        f"{missing[0]})")
    return {e: read_results(results_dir, e, BATTERY) for e in experiments}


def _label(rec: Mapping[str, Any]) -> str:
    name = rec.get("alignment", {}).get("reference_name")
    exp = rec.get("experiment", "")
    return f"{exp} ({name})" if name and name != exp else exp


def supplementary_table1(records: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """The paper's Supplementary Table 1: GIA alignment motif vs RNAcompete motif, per experiment with one."""
    rows = []
    for exp, r in records.items():
        a = r["alignment"]
        if not a.get("n_references"):
            continue
        rows.append({"experiment": exp, "RNAcompete motif": f"{a['reference']} {a['reference_name']}",
                     "RNAcompete consensus": a["reference_consensus"], "top k-mer": r["scan"]["top_kmer"],
                     "GIA motif": a["consensus"], "similarity r": (a["similarity"] or {}).get("r"),
                     "overlap": (a["similarity"] or {}).get("overlap"), "motifs compared": a["n_references"]})
    return pd.DataFrame(rows)


def scan_table(records: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Per experiment: model test r, top k-mer, its importance and q-value, k-mers at q <= 0.05, evaluations."""
    rows = []
    for exp, r in records.items():
        t = r["top_kmers"][0]
        ev = r["scan"]["evaluations"]
        rows.append({"experiment": exp, "test r": r.get("test_pearson"), "top k-mer": t["kmer"],
                     "global importance": t["mean"], "q-value": t.get("qvalue"),
                     "k-mers with q <= 0.05": r["scan"].get("n_significant_q05"),
                     "evaluations (adaptive)": ev.get("adaptive"), "evaluations (exhaustive)": ev.get("exhaustive")})
    return pd.DataFrame(rows)


def multiplicity_table(records: Mapping[str, Mapping[str, Any]], which: str = "optimal") -> pd.DataFrame:
    """Per experiment: the k-mer, R^2 of the 1..n fit, the n-to-1 ratio with CI and the verdict (Fig 2g)."""
    rows = []
    for exp, r in records.items():
        m = r["multiplicity"][which]
        rows.append({"experiment": exp, "k-mer": m["motif"], "R2 (1..n fit)": m["r2"],
                     "ratio n/1": m["ratio"], "ratio CI low": m["ratio_ci"][0], "ratio CI high": m["ratio_ci"][1],
                     "expected": m["expected_ratio"], "verdict": m["verdict"]})
    return pd.DataFrame(rows)


def spacing_table(records: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Per experiment and pair: two copies over twice one copy, with CI and verdict (Fig 2d)."""
    rows = [{"experiment": exp, "k-mer": r["motif"], "pair": s["arrangement"], "ratio to 2x single": s["ratio_to_2x"],
             "CI low": s["ratio_ci_low"], "CI high": s["ratio_ci_high"], "verdict": s["verdict"]}
            for exp, r in records.items() for s in r["spacing"] if "ratio_to_2x" in s]
    return pd.DataFrame(rows)


def gc_table(records: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Per experiment: GC effect sizes, 5'-3' difference with CI, amplify-or-add verdicts, ISM 3' statistic."""
    rows = []
    for exp, r in records.items():
        g, i = r["gc"], r.get("ism_gc3") or {}
        rows.append({"experiment": exp, "motif": g["motif"], "motif significant": g["motif_significant"],
                     "effect 5'": g["effect5"], "effect 3'": g["effect3"], "5' - 3'": g["diff"],
                     "5' - 3' CI low": g["diff_ci"][0], "5' - 3' CI high": g["diff_ci"][1],
                     "biased end": g["bias_end"], "GC 3' alone": g["importance"]["gc3"]["mean"],
                     "interaction 3'": g["interaction3"]["mean"], "interaction 3' p": g["interaction3"]["pvalue"],
                     "3' verdict": g["interaction3"]["verdict"], "5' verdict": g["interaction5"]["verdict"],
                     "ISM 3' minus 5' GC": i.get("median_difference"), "ISM p": i.get("pvalue"),
                     "ISM verdict": i.get("verdict")})
    return pd.DataFrame(rows)


def verdict_counts(table: pd.DataFrame, column: str = "verdict") -> str:
    """``"additive: 7, sub-additive: 3 (n = 10)"``: the words a chapter prints, counted from a table."""
    counts = table[column].value_counts()
    return ", ".join(f"{k}: {v}" for k, v in counts.items()) + f" (n = {int(counts.sum())})"


# --------------------------------------------------------------------------- figures (at most 3 panels a row)


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _boxes(ax: Any, locals_: Sequence[np.ndarray], labels: Sequence[str], title: str, ylabel: str = "local importance"):
    """Box plots of local importances with the median (line) and the global importance (green triangle)."""
    ax.boxplot([np.asarray(v, float) for v in locals_], showfliers=False, widths=0.6)
    ax.plot(np.arange(1, len(locals_) + 1), [np.mean(v) for v in locals_], "^", color="green", ms=7,
            label="global importance")
    ax.set_xticks(np.arange(1, len(labels) + 1), labels)
    ax.axhline(0, color="grey", lw=0.8, ls=":")
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel)
    return ax


def fig_scan(battery: Battery, top: int = 20):
    """The top k-mers with 95% CIs (paper Fig 2b's scan); k-mers close to the RNAcompete consensus in red."""
    from .plotting import kmer_rank_plot

    fig, ax = _plt().subplots(figsize=(9, 3.2))
    truth = (battery.reference.get("consensus") or "").strip("N") or battery.info.get("known_motif")
    kmer_rank_plot(battery.scan, top=top, truth=truth, max_mismatch=1, ax=ax,
                   title=f"{battery.experiment}: top {len(battery.motif)}-mers at 1-based "
                         f"{battery.info['scan']['start'] + 1}-{battery.info['scan']['start'] + len(battery.motif)}")
    fig.tight_layout()
    return fig


def fig_motifs(battery: Battery):
    """Motif mutagenesis L2 logo (Fig 2e/3b), the GIA alignment motif and the RNAcompete motif (Fig 4b)."""
    from .plotting import l2_logo, logo

    refs = {m.id: m for m in battery.references}
    ref = refs.get(battery.reference.get("reference"))
    fig, axes = _plt().subplots(1, 3 if ref is not None else 2, figsize=(12, 2.6))
    mm = battery.mutagenesis
    l2_logo(mm.importance, mm.kmer, ax=axes[0], title=f"GIA mutagenesis of {mm.kmer} (L2)")
    logo(battery.alignment.pfm, ax=axes[1], kind="information", title=f"GIA motif ({battery.alignment.consensus})")
    if ref is not None:
        r = battery.reference["r"]
        logo(ref.pfm, ax=axes[2], kind="information", title=f"RNAcompete {ref.id} {ref.name} (r = {r:.2f})")
    fig.tight_layout()
    return fig


def fig_multiplicity(battery: Battery):
    """Local importance of 1..n copies of the top and the sub-optimal k-mer (Fig 2b, 2c) with the verdicts."""
    fig, axes = _plt().subplots(1, 2, figsize=(10, 3.4))
    for ax, (name, m) in zip(axes, battery.multiplicity.items()):
        _boxes(ax, list(m["local"]), [str(c) for c in m["counts"]],
               f"{name} {m['motif']}: {m['ratio']:.2f}x for {m['expected_ratio']} ({m['verdict']})")
        ax.plot(m["counts"], np.polyval([m["slope"], m["intercept"]], m["counts"]), color="C3", lw=1,
                label=f"fit, R² = {m['r2']:.2f}")
        ax.set_xlabel("copies")
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def fig_spacing(battery: Battery):
    """Two copies over twice one copy, per pair of starts (Fig 2d); 1 = additive."""
    df = battery.spacing
    fig, ax = _plt().subplots(figsize=(6, 3.2))
    labels = [f"{a + 1} & {b + 1}\n(gap {g})" for a, b, g in zip(df["start_1"], df["start_2"], df["gap"])]
    y = df["ratio_to_2x"].to_numpy(float)
    err = np.abs(np.vstack([y - df["ratio_ci_low"], df["ratio_ci_high"] - y]))
    ax.bar(labels, y, yerr=err, color="C0", capsize=4)
    ax.axhline(1, color="C3", ls="--", lw=1)
    ax.set_ylabel("two copies / (2 x one copy)")
    ax.set_xlabel("1-based starts of the two copies")
    ax.set_title(f"{battery.experiment}: spacing of {battery.motif}", fontsize=10)
    fig.tight_layout()
    return fig


def fig_gc(battery: Battery):
    """Global importance of motif, motif + GC 5', motif + GC 3', GC alone at each end (Fig 4c)."""
    g = battery.gc
    names = {"motif": "motif", "motif_gc5": "motif + GC 5'", "motif_gc3": "motif + GC 3'", "gc5": "GC 5' alone",
             "gc3": "GC 3' alone"}
    imp = g["importance"]
    y = np.array([imp[k]["mean"] for k in names])
    err = np.abs(np.vstack([y - [imp[k]["ci_low"] for k in names], [imp[k]["ci_high"] for k in names] - y]))
    fig, ax = _plt().subplots(figsize=(7, 3.2))
    ax.bar(list(names.values()), y, yerr=err, color=["C0", "C1", "C2", "C7", "C7"], capsize=4)
    ax.set_ylabel("global importance")
    ax.set_title(f"{battery.experiment}: {g['motif']} with {g['gc_motif']} at 1-based starts "
                 f"{g['gc_starts'][0] + 1} and {g['gc_starts'][1] + 1}", fontsize=10)
    ax.tick_params(axis="x", rotation=15)
    fig.tight_layout()
    return fig


def fig_hairpin(tests: Mapping[str, Mapping[str, Any]]):
    """Box plots of the four hairpin contexts per model (Fig 3c), titled with the structure effect."""
    fig, axes = _plt().subplots(1, len(tests), figsize=(5 * len(tests), 3.6), squeeze=False)
    for ax, (label, t) in zip(axes[0], tests.items()):
        e = t["structure_effect"]
        _boxes(ax, list(t["local"].values()), [k.replace(" at ", "\nat ").replace("hairpin ", "hairpin\n")
                                               for k in t["local"]],
               f"{label}: DiD {e['mean']:.3f} [{e['ci_low']:.3f}, {e['ci_high']:.3f}]")
    fig.tight_layout()
    return fig


def fig_ism(deltas: np.ndarray, x: np.ndarray, probes: pd.DataFrame, motif: str | None = None,
            structure: np.ndarray | None = None):
    """ISM logos (L2 on the wild-type base) of the chosen probes, one row each; with ``structure``
    (the probes' PU channels) a structure track under each logo (Fig 3a)."""
    from .plotting import ism_logo, structure_track

    rows = len(probes) * (2 if structure is not None else 1)
    fig, axes = _plt().subplots(rows, 1, figsize=(10, 1.8 * rows), squeeze=False)
    step = 2 if structure is not None else 1
    for i, (d, xi, row) in enumerate(zip(deltas, x, probes.itertuples())):
        ax = axes[i * step, 0]
        ism_logo(d, xi[:, :4], ax=ax, title=f"{row.kind}: predicted {row.predicted:.2f}, measured {row.measured:.2f}")
        if motif and row.x_start >= 0:
            ax.axvspan(row.x_start - 0.5, row.x_start + len(motif) - 0.5, color="gold", alpha=0.25, lw=0)
        if structure is not None:
            structure_track(structure[i], ax=axes[i * step + 1, 0])
    fig.tight_layout()
    return fig


def fig_mismatch_scatter(split: Any, pred: np.ndarray, motif: str, max_mismatches: int = 3, title: str = ""):
    """Measured vs predicted on set B coloured by mismatches to ``motif`` (a discrete palette; Fig 3a)."""
    plt = _plt()
    mm = np.minimum(rmotifs.motif_matches(split.seqs, motif)["mismatches"].to_numpy(), max_mismatches)
    y = split.y[:, 0]
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
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
    from .plotting import hist

    fig, axes = _plt().subplots(1, len(columns), figsize=(4 * len(columns), 3.0), squeeze=False)
    for ax, (col, ref) in zip(axes[0], columns.items()):
        hist(table[col].astype(float), ax=ax, bins=10, xlabel=col, ylabel="experiments", vline=ref, title=title)
    fig.tight_layout()
    return fig
