"""Chapter 08 (GIA across experiments, Fig 2g, 4b, Supp. Table 1): tables over the battery records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from .battery import pair_label
from .records import as_record
from .report import _f, verdict_counts


def supplementary_table1(records: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """The paper's Supplementary Table 1: GIA alignment motif vs RNAcompete motif, per experiment with one."""
    rows = []
    for exp, rec in records.items():
        r = as_record(rec)
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
        r = as_record(rec)
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
        m = as_record(rec).multiplicity[which]
        rows.append({"experiment": exp, "k-mer": m.motif, "R2 (1..n fit)": m.r2, "ratio n/1": m.ratio.mean,
                     "ratio CI low": m.ratio.ci_low, "ratio CI high": m.ratio.ci_high, "expected": len(m.starts),
                     "verdict": m.verdict})
    return pd.DataFrame(rows)


def spacing_table(records: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Per experiment and pair: two copies over twice one copy, with CI and verdict (Fig 2d)."""
    rows = [{"experiment": exp, "k-mer": r.motif, "pair": pair_label(p), "ratio to 2x single": p.vs_additive.mean,
             "CI low": p.vs_additive.ci_low, "CI high": p.vs_additive.ci_high, "verdict": p.verdict}
            for exp, r in ((e, as_record(rec)) for e, rec in records.items()) for p in r.spacing.pairs if p.vs_additive]
    return pd.DataFrame(rows)


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
